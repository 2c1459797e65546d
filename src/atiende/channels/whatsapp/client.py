"""The WhatsApp Cloud API over httpx: send messages, templates and media, download received media,
read the template list. Every call raises ``GraphError`` on failure (its ``kind`` tells whether
to retry); the base URL is ``ATIENDE_WHATSAPP_GRAPH_URL``, so tests talk to a local fake.

Text longer than 4096 characters (Meta's limit for a text body) is sent as several messages,
cut at the last paragraph break, line break or space before the limit; ``send_text`` returns the
ids of all parts and the message is tracked by the last one (when the last part is read, all were).
"""

import re
from dataclasses import dataclass
from typing import Any

import httpx

from atiende.channels.whatsapp.errors import GraphError
from atiende.channels.whatsapp.ratelimit import RateLimiter
from atiende.channels.whatsapp.templates import Template, parse_templates

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
MEDIA_TYPES = ("image", "audio", "video", "document", "sticker")
_BSUID = re.compile(r"^[A-Z]{2}\.")
MAX_TEMPLATE_PAGES = 20


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    parts: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[:limit]
        cut = max(window.rfind("\n\n"), window.rfind("\n"), window.rfind(" "))
        cut = cut if cut > limit // 2 else limit
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest or not parts:
        parts.append(rest)
    return parts


@dataclass(frozen=True)
class Recipient:
    """Who to write to: the phone (``wa_id``) when Meta shared it, else the business-scoped user id."""

    external_id: str
    phone: str | None = None

    def fields(self) -> dict[str, str]:
        digits = (self.phone or "").lstrip("+")
        if digits.isdigit():
            return {"to": digits}
        if _BSUID.match(self.external_id):
            return {"recipient": self.external_id}
        return {"to": self.external_id}


@dataclass(frozen=True)
class MediaInfo:
    url: str
    mime_type: str
    file_size: int | None
    sha256: str


class WhatsAppClient:
    def __init__(self, http: httpx.AsyncClient, *, graph_url: str, api_version: str, phone_number_id: str,
                 access_token: str, limiter: RateLimiter | None = None) -> None:
        self.http = http
        self.base = f"{graph_url.rstrip('/')}/{api_version}"
        self.phone_number_id = phone_number_id
        self.limiter = limiter
        self.headers = {"Authorization": f"Bearer {access_token}"}

    async def _request(self, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = await self.http.request(method, url, headers=self.headers, **kwargs)
        except httpx.HTTPError as exc:
            raise GraphError.unreachable(exc) from exc
        if response.status_code >= 400:
            raise GraphError.from_response(response)
        try:
            body = response.json()
        except ValueError as exc:
            raise GraphError(code=None, title="the answer is not JSON", http_status=response.status_code) from exc
        if not isinstance(body, dict):
            raise GraphError(code=None, title="unexpected answer", http_status=response.status_code)
        return body

    async def _send(self, recipient: Recipient, content: dict[str, Any], reply_to: str | None) -> str:
        payload: dict[str, Any] = {"messaging_product": "whatsapp", "recipient_type": "individual",
                                   **recipient.fields(), **content}
        if reply_to:
            payload["context"] = {"message_id": reply_to}
        if self.limiter is not None:
            await self.limiter.acquire(self.phone_number_id)
        body = await self._request("POST", f"{self.base}/{self.phone_number_id}/messages", json=payload)
        messages = body.get("messages")
        wamid = messages[0].get("id") if isinstance(messages, list) and messages and isinstance(
            messages[0], dict) else None
        if not isinstance(wamid, str) or not wamid:
            raise GraphError(code=None, title="the answer has no message id", http_status=200)
        return wamid

    async def send_text(self, recipient: Recipient, text: str, *, reply_to: str | None = None) -> list[str]:
        ids = []
        for index, part in enumerate(split_text(text)):
            content = {"type": "text", "text": {"preview_url": False, "body": part}}
            ids.append(await self._send(recipient, content, reply_to if index == 0 else None))
        return ids

    async def send_interactive(self, recipient: Recipient, interactive: dict[str, Any]) -> str:
        """Reply buttons or a list (``channels.choices`` builds them within Meta's limits)."""
        return await self._send(recipient, {"type": "interactive", "interactive": interactive}, None)

    async def send_media(self, recipient: Recipient, media_type: str, *, link: str | None = None,
                         media_id: str | None = None, caption: str | None = None, filename: str | None = None,
                         reply_to: str | None = None) -> str:
        if media_type not in MEDIA_TYPES:
            raise ValueError(f"unknown media type {media_type}")
        if (link is None) == (media_id is None):
            raise ValueError("give exactly one of link or media_id")
        media: dict[str, Any] = {"link": link} if link is not None else {"id": media_id}
        if caption and media_type in ("image", "video", "document"):
            media["caption"] = caption[:CAPTION_LIMIT]
        if filename and media_type == "document":
            media["filename"] = filename
        return await self._send(recipient, {"type": media_type, media_type: media}, reply_to)

    async def send_template(self, recipient: Recipient, name: str, language: str,
                            components: list[dict[str, Any]]) -> str:
        template: dict[str, Any] = {"name": name, "language": {"code": language}}
        if components:
            template["components"] = components
        return await self._send(recipient, {"type": "template", "template": template}, None)

    async def upload_media(self, data: bytes, mime_type: str, filename: str) -> str:
        body = await self._request("POST", f"{self.base}/{self.phone_number_id}/media",
                                   data={"messaging_product": "whatsapp", "type": mime_type},
                                   files={"file": (filename, data, mime_type)})
        media_id = body.get("id")
        if not isinstance(media_id, str) or not media_id:
            raise GraphError(code=None, title="the upload answer has no id", http_status=200)
        return media_id

    async def media_info(self, media_id: str) -> MediaInfo:
        body = await self._request("GET", f"{self.base}/{media_id}")
        url = body.get("url")
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise GraphError(code=None, title="the media answer has no url", http_status=200)
        size = body.get("file_size")
        return MediaInfo(url=url, mime_type=str(body.get("mime_type", "")),
                         file_size=size if isinstance(size, int) else None, sha256=str(body.get("sha256", "")))

    async def download(self, url: str, max_bytes: int) -> tuple[bytes, str]:
        """The file at Meta's media ``url`` (bearer token required) and its Content-Type; a file
        over ``max_bytes`` is refused before it is read entirely."""
        try:
            async with self.http.stream("GET", url, headers=self.headers) as response:
                if response.status_code >= 400:
                    await response.aread()
                    raise GraphError.from_response(response)
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > max_bytes:
                    raise TooLarge(int(declared))
                chunks, total = [], 0
                async for chunk in response.aiter_bytes():
                    total += len(chunk)
                    if total > max_bytes:
                        raise TooLarge(total)
                    chunks.append(chunk)
                return b"".join(chunks), response.headers.get("content-type", "")
        except httpx.HTTPError as exc:
            raise GraphError.unreachable(exc) from exc

    async def list_templates(self, business_account_id: str) -> list[Template]:
        templates: list[Template] = []
        params: dict[str, Any] = {"fields": "name,status,language,category,components", "limit": 100}
        for _ in range(MAX_TEMPLATE_PAGES):
            body = await self._request("GET", f"{self.base}/{business_account_id}/message_templates",
                                       params=params)
            templates += parse_templates(body)
            paging = body.get("paging") if isinstance(body.get("paging"), dict) else {}
            cursors = paging.get("cursors") if isinstance(paging.get("cursors"), dict) else {}
            after = cursors.get("after")
            if not paging.get("next") or not isinstance(after, str) or not after:
                break
            params = {**params, "after": after}
        return templates


class TooLarge(Exception):
    def __init__(self, size: int) -> None:
        super().__init__(f"{size} bytes")
        self.size = size
