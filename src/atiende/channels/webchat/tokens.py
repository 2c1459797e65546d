"""Visitor tokens: ``<visitor id>.<signature>``, kept by the widget in the browser's local storage.

The visitor id is random; the signature (HMAC with the app's secret key, bound to the channel) proves
the server issued it, so nothing is stored until the visitor writes and a visitor can only ever read
their own conversation.
"""

import base64
import hashlib
import hmac
import re
import secrets

_TOKEN = re.compile(r"^([A-Za-z0-9_-]{16,64})\.([A-Za-z0-9_-]{32})$")


def new_visitor_id() -> str:
    return secrets.token_urlsafe(18)


def _signature(secret_key: str, channel_id: int, visitor_id: str) -> str:
    digest = hmac.new(secret_key.encode(), f"widget:{channel_id}:{visitor_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()[:32]


def visitor_token(secret_key: str, channel_id: int, visitor_id: str) -> str:
    return f"{visitor_id}.{_signature(secret_key, channel_id, visitor_id)}"


def visitor_of(secret_key: str, channel_id: int, token: str | None) -> str | None:
    """The visitor id of a genuine token for this channel, else None."""
    match = _TOKEN.match(token or "")
    if match is None:
        return None
    visitor_id, signature = match.groups()
    expected = _signature(secret_key, channel_id, visitor_id)
    return visitor_id if hmac.compare_digest(signature.encode(), expected.encode()) else None
