"""The signature a receiver checks: ``sha256=`` HMAC of ``"{timestamp}.{body}"`` with the secret.

Signing the timestamp with the body stops replays: a receiver refuses a request whose
``X-Atiende-Timestamp`` is older than a few minutes, and an attacker cannot change it without
breaking the signature. ``docs/webhooks.md`` shows the same recipe in Python and Node.
"""

import hashlib
import hmac

SIGNATURE_HEADER = "X-Atiende-Signature"
TIMESTAMP_HEADER = "X-Atiende-Timestamp"
TOLERANCE_SECONDS = 300


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(secret: str, timestamp: str, body: bytes, signature: str, *, now: float,
           tolerance: int = TOLERANCE_SECONDS) -> bool:
    """What a receiver does (and what the tests do, as a receiver would)."""
    try:
        sent_at = int(timestamp)
    except ValueError:
        return False
    if abs(now - sent_at) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, sent_at, body), signature)
