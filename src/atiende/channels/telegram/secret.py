"""The ``secret_token`` given to ``setWebhook``; Telegram echoes it in the
``X-Telegram-Bot-Api-Secret-Token`` header of every update it delivers.

It is derived (HMAC of the channel id and bot token with the app's secret key), not stored: every
process computes the same value, and changing the bot token changes the secret. Telegram allows
1–256 characters of ``A-Z a-z 0-9 _ -``; ours is 43 of them.
"""

import base64
import hashlib
import hmac


def webhook_secret(secret_key: str, channel_id: int, bot_token: str) -> str:
    digest = hmac.new(secret_key.encode(), f"telegram:{channel_id}:{bot_token}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def secret_matches(header: str | None, expected: str) -> bool:
    if not header or not expected:
        return False
    return hmac.compare_digest(header.encode(), expected.encode())
