"""The Telegram Bot API over httpx (``ATIENDE_TELEGRAM_API_URL``, so tests use a local fake).

Every answer is ``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code", "description",
"parameters": {"retry_after"}}``. ``TelegramError.kind`` says what to do: 429 → retry after
``retry_after`` seconds; 5xx or no answer → retry with backoff; 400/401/403/404 → the message
fails with Telegram's description (e.g. "Forbidden: bot was blocked by the user").
"""

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import httpx

from atiende.channels.whatsapp.client import split_text

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024


class TelegramErrorKind(StrEnum):
    rate_limited = "rate_limited"
    transient = "transient"
    permanent = "permanent"


@dataclass
class TelegramError(Exception):
    status: int
    description: str
    retry_after: int | None = None

    def __post_init__(self) -> None:
        super().__init__(self.reason)

    @property
    def kind(self) -> TelegramErrorKind:
        if self.status == 429:
            return TelegramErrorKind.rate_limited
        if self.status == 0 or self.status >= 500:
            return TelegramErrorKind.transient
        return TelegramErrorKind.permanent

    @property
    def reason(self) -> str:
        return f"Telegram {self.status or 'sin respuesta'}: {self.description}"[:500]


@dataclass(frozen=True)
class Upload:
    """A file sent as bytes (multipart) instead of by URL."""

    filename: str
    data: bytes
    mime_type: str


class TelegramClient:
    def __init__(self, http: httpx.AsyncClient, *, api_url: str, bot_token: str) -> None:
        self.http = http
        self.api_url = api_url.rstrip("/")
        self.bot_token = bot_token

    async def call(self, method: str, params: dict[str, Any] | None = None,
                   upload: tuple[str, Upload] | None = None) -> Any:
        url = f"{self.api_url}/bot{self.bot_token}/{method}"
        try:
            if upload is None:
                response = await self.http.post(url, json=params or {})
            else:
                field, file = upload
                data = {k: str(v) for k, v in (params or {}).items()}
                response = await self.http.post(url, data=data,
                                                files={field: (file.filename, file.data, file.mime_type)})
        except httpx.HTTPError as exc:
            raise TelegramError(status=0, description=f"{type(exc).__name__}: {exc}") from exc
        return _result(response)

    async def set_webhook(self, url: str, secret_token: str) -> None:
        await self.call("setWebhook", {"url": url, "secret_token": secret_token,
                                       "allowed_updates": ["message"], "drop_pending_updates": False})

    async def delete_webhook(self) -> None:
        await self.call("deleteWebhook", {"drop_pending_updates": False})

    async def send_message(self, chat_id: str, text: str, *, reply_to: int | None = None,
                           reply_markup: dict[str, Any] | None = None) -> list[int]:
        """``reply_markup`` (a keyboard) goes with the last part, under the text it belongs to."""
        ids = []
        parts = split_text(text)
        for index, part in enumerate(parts):
            params: dict[str, Any] = {"chat_id": chat_id, "text": part}
            if reply_to is not None and index == 0:
                params["reply_parameters"] = {"message_id": reply_to, "allow_sending_without_reply": True}
            if reply_markup is not None and index == len(parts) - 1:
                params["reply_markup"] = reply_markup
            ids.append(_message_id(await self.call("sendMessage", params)))
        return ids

    async def _send_file(self, method: str, field: str, chat_id: str, file: str | Upload,
                         caption: str | None) -> int:
        params: dict[str, Any] = {"chat_id": chat_id}
        if caption:
            params["caption"] = caption[:CAPTION_LIMIT]
        if isinstance(file, Upload):
            return _message_id(await self.call(method, params, upload=(field, file)))
        return _message_id(await self.call(method, {**params, field: file}))

    async def send_photo(self, chat_id: str, photo: str | Upload, caption: str | None = None) -> int:
        return await self._send_file("sendPhoto", "photo", chat_id, photo, caption)

    async def send_document(self, chat_id: str, document: str | Upload, caption: str | None = None) -> int:
        return await self._send_file("sendDocument", "document", chat_id, document, caption)

    async def send_voice(self, chat_id: str, voice: str | Upload, caption: str | None = None) -> int:
        return await self._send_file("sendVoice", "voice", chat_id, voice, caption)

    async def get_file_path(self, file_id: str) -> str:
        result = await self.call("getFile", {"file_id": file_id})
        path = result.get("file_path") if isinstance(result, dict) else None
        if not isinstance(path, str) or not path or ".." in path:
            raise TelegramError(status=400, description="getFile returned no usable file_path")
        return path

    async def download(self, file_path: str, max_bytes: int) -> bytes:
        url = f"{self.api_url}/file/bot{self.bot_token}/{file_path}"
        try:
            async with self.http.stream("GET", url) as response:
                if response.status_code >= 400:
                    await response.aread()
                    raise _error(response)
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > max_bytes:
                    raise TelegramError(status=413, description=f"file larger than {max_bytes} bytes")
                chunks, total = [], 0
                async for chunk in response.aiter_bytes():
                    total += len(chunk)
                    if total > max_bytes:
                        raise TelegramError(status=413, description=f"file larger than {max_bytes} bytes")
                    chunks.append(chunk)
                return b"".join(chunks)
        except httpx.HTTPError as exc:
            raise TelegramError(status=0, description=f"{type(exc).__name__}: {exc}") from exc


def _error(response: httpx.Response) -> TelegramError:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return TelegramError(status=response.status_code, description=f"HTTP {response.status_code}")
    parameters = body.get("parameters") if isinstance(body.get("parameters"), dict) else {}
    retry_after = parameters.get("retry_after")
    code = body.get("error_code") if isinstance(body.get("error_code"), int) else response.status_code
    return TelegramError(status=code, description=str(body.get("description", ""))[:300],
                         retry_after=retry_after if isinstance(retry_after, int) else None)


def _result(response: httpx.Response) -> Any:
    if response.status_code >= 400:
        raise _error(response)
    try:
        body = response.json()
    except ValueError as exc:
        raise TelegramError(status=502, description="the answer is not JSON") from exc
    if not isinstance(body, dict) or body.get("ok") is not True:
        raise _error(response) if isinstance(body, dict) else TelegramError(502, "unexpected answer")
    return body.get("result")


def _message_id(result: Any) -> int:
    message_id = result.get("message_id") if isinstance(result, dict) else None
    if not isinstance(message_id, int):
        raise TelegramError(status=502, description="the answer has no message_id")
    return message_id
