"""Security headers on every HTTP answer, and a Content-Security-Policy with a fresh nonce on every
HTML page (console, workspace, board, reports, API docs, the demo site).

Why a nonce and not ``'unsafe-inline'``: NiceGUI writes its page boot code as inline ``<script>``
tags, so a policy must allow those; with a nonce only the scripts the server wrote run, and a
``<script>`` that customer text smuggled into the page would not. NiceGUI compiles Vue templates
and runs ``ui.run_javascript`` in the browser, which needs ``'unsafe-eval'``; styles are inline
(Quasar, Tailwind), so ``style-src`` allows them (styles cannot run script).

Nothing of the product is meant to be framed: the web chat widget is a script that draws itself in
the customer's page (a shadow root), not an iframe, so ``frame-ancestors 'none'`` and
``X-Frame-Options: DENY`` hold everywhere. Files received from customers carry their own
``sandbox`` policy (``channels/webhooks.py``), which this middleware keeps.
"""

import re
import secrets

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SCRIPT_TAG = re.compile(rb"<script(?=[\s>])", re.IGNORECASE)
SCRIPT_END = re.compile(rb"</script\s*>", re.IGNORECASE)
MAX_PAGE_BYTES = 8 * 1024 * 1024  # a page larger than this passes through without the nonce rewrite


def page_policy(nonce: str) -> str:
    """The CSP of an HTML page; ``connect-src 'self'`` covers NiceGUI's socket on the same host."""
    return "; ".join((
        "default-src 'self'",
        f"script-src 'self' 'nonce-{nonce}' 'unsafe-eval'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ))


OTHER_POLICY = "default-src 'none'; frame-ancestors 'none'"  # JSON, files: nothing in them may run


def add_nonce(html: bytes, nonce: str) -> bytes:
    """Puts ``nonce`` on every ``<script>`` tag the page's markup opens. The text inside a script
    (NiceGUI's elements as JSON, where customer text lives) is skipped, so a ``<script`` written
    by a customer is never given the nonce."""
    attribute = b' nonce="' + nonce.encode() + b'"'
    parts: list[bytes] = []
    position = 0
    while (tag := SCRIPT_TAG.search(html, position)) is not None:
        parts.append(html[position:tag.end()])
        parts.append(attribute)
        end = SCRIPT_END.search(html, tag.end())
        position = end.end() if end is not None else len(html)
        parts.append(html[tag.end():position])
    parts.append(html[position:])
    return b"".join(parts)


class SecurityHeadersMiddleware:
    """Adds ``nosniff``, ``Referrer-Policy``, ``X-Frame-Options`` and a CSP to every answer (an
    answer that set its own CSP keeps it); ``hsts`` when the public URL is https. HTML answers are
    buffered to write the nonce into their scripts."""

    def __init__(self, app: ASGIApp, *, hsts: bool = False) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []
        nonce = ""

        async def secured_send(message: Message) -> None:
            nonlocal start, nonce
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                self._common(headers)
                html = headers.get("content-type", "").startswith("text/html")
                if not html or "content-encoding" in headers:
                    headers.setdefault("content-security-policy", OTHER_POLICY)
                    await send(message)
                    return
                nonce = secrets.token_urlsafe(18)
                headers["content-security-policy"] = page_policy(nonce)
                start = message
                return
            if start is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False) and sum(map(len, chunks)) <= MAX_PAGE_BYTES:
                return
            body = b"".join(chunks)
            chunks.clear()
            if not message.get("more_body", False):
                body = add_nonce(body, nonce)
                MutableHeaders(scope=start)["content-length"] = str(len(body))
            # else: too large to rewrite, the page streams as it is (its scripts without the nonce)
            first, start = start, None
            await send(first)
            await send({"type": "http.response.body", "body": body, "more_body": message.get("more_body", False)})

        await self.app(scope, receive, secured_send)

    def _common(self, headers: MutableHeaders) -> None:
        headers.setdefault("x-content-type-options", "nosniff")
        headers.setdefault("referrer-policy", "strict-origin-when-cross-origin")
        headers.setdefault("x-frame-options", "DENY")
        if self.hsts:
            headers.setdefault("strict-transport-security", "max-age=31536000")
