"""Meta signs every webhook POST: ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>``
keyed with the app secret. The check runs on the exact bytes received, before any parsing."""

import hashlib
import hmac

PREFIX = "sha256="


def sign(body: bytes, app_secret: str) -> str:
    """The header value Meta would send for ``body`` (used by tests and the local fake)."""
    return PREFIX + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def signature_is_valid(body: bytes, header: str | None, app_secret: str) -> bool:
    """True only for a well-formed header whose digest matches, compared in constant time."""
    if not header or not app_secret or not header.startswith(PREFIX):
        return False
    expected = sign(body, app_secret)
    return hmac.compare_digest(expected.encode(), header.strip().lower().encode())


def token_matches(given: str | None, expected: str | None) -> bool:
    """Constant-time equality for shared tokens (Meta's ``hub.verify_token``, Telegram's secret)."""
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())
