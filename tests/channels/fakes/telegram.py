"""A fake of the Telegram Bot API: ``POST /bot<token>/<method>`` and ``GET /file/bot<token>/<path>``.

It checks the token, the method and the parameters each method takes, records every call, and
answers ``{"ok": true, "result": ...}`` or Telegram's error shape (``fail_next`` queues one).
"""

import itertools
import threading
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

BOT_TOKEN = "7212345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
BOT = {"id": 7212345678, "is_bot": True, "first_name": "Atiende", "username": "atiende_demo_bot"}
_PARAMS = {
    "setWebhook": {"url", "secret_token", "allowed_updates", "drop_pending_updates", "max_connections"},
    "deleteWebhook": {"drop_pending_updates"},
    "sendMessage": {"chat_id", "text", "reply_parameters", "reply_markup"},
    "sendPhoto": {"chat_id", "photo", "caption"},
    "sendDocument": {"chat_id", "document", "caption"},
    "sendVoice": {"chat_id", "voice", "caption"},
    "getFile": {"file_id"},
}
_FILE_FIELD = {"sendPhoto": "photo", "sendDocument": "document", "sendVoice": "voice"}


def tg_error(code: int, description: str, retry_after: int | None = None) -> JSONResponse:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return JSONResponse(body, status_code=code)


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    headers: dict[str, str]
    file: tuple[str, bytes, str] | None = None


@dataclass
class FakeFile:
    path: str
    data: bytes


@dataclass
class FakeTelegram:
    calls: list[Call] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    failures: list[JSONResponse] = field(default_factory=list)
    files: dict[str, FakeFile] = field(default_factory=dict)
    webhook: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.lock = threading.Lock()
        self._ids = itertools.count(100)
        self.app = Starlette(routes=[
            Route("/bot{token}/{method}", self.method, methods=["POST"]),
            Route("/file/bot{token}/{path:path}", self.file, methods=["GET"]),
        ])

    def reset(self) -> None:
        with self.lock:
            self.calls.clear()
            self.problems.clear()
            self.failures.clear()
            self.files.clear()
            self.webhook.clear()
            self._ids = itertools.count(100)

    def fail_next(self, code: int, description: str, retry_after: int | None = None) -> None:
        self.failures.append(tg_error(code, description, retry_after))

    def add_file(self, file_id: str, path: str, data: bytes) -> None:
        self.files[file_id] = FakeFile(path, data)

    def of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def _problem(self, text: str) -> JSONResponse:
        self.problems.append(text)
        return tg_error(400, f"Bad Request: {text}")

    async def method(self, request: Request) -> Response:
        method = request.path_params["method"]
        params: dict[str, Any] = {}
        upload = None
        content_type = request.headers.get("content-type", "")
        if content_type.startswith("application/json"):
            params = await request.json()
        elif content_type.startswith("multipart/form-data"):
            form = await request.form()
            for key, value in form.multi_items():
                if isinstance(value, str):
                    params[key] = value
                else:
                    upload = (value.filename or "", await value.read(), value.content_type or "")
                    params[key] = "<upload>"
        with self.lock:
            self.calls.append(Call(method, params, dict(request.headers), upload))
        if request.path_params["token"] != BOT_TOKEN:
            return tg_error(401, "Unauthorized")
        if method not in _PARAMS:
            return tg_error(404, "Not Found")
        if self.failures:
            return self.failures.pop(0)
        if extra := set(params) - _PARAMS[method]:
            return self._problem(f"unexpected parameters {sorted(extra)}")
        return self._answer(method, params)

    def _answer(self, method: str, params: dict[str, Any]) -> Response:
        if method == "setWebhook":
            token = params.get("secret_token", "")
            if not str(params.get("url", "")).startswith("https://"):
                return tg_error(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
            if not (1 <= len(token) <= 256) or not all(c.isalnum() or c in "_-" for c in token):
                return self._problem("secret_token")
            self.webhook = dict(params)
            return JSONResponse({"ok": True, "result": True, "description": "Webhook was set"})
        if method == "deleteWebhook":
            self.webhook = {}
            return JSONResponse({"ok": True, "result": True, "description": "Webhook was deleted"})
        if method == "getFile":
            stored = self.files.get(str(params.get("file_id")))
            if stored is None:
                return tg_error(400, "Bad Request: invalid file_id")
            return JSONResponse({"ok": True, "result": {"file_id": params["file_id"], "file_unique_id": "AgADugIAAk",
                                                        "file_size": len(stored.data), "file_path": stored.path}})
        chat_id = params.get("chat_id")
        if not str(chat_id).lstrip("-").isdigit():
            return tg_error(400, "Bad Request: chat not found")
        message: dict[str, Any] = {"message_id": next(self._ids), "from": BOT,
                                   "chat": {"id": int(chat_id), "type": "private"}, "date": 1767614400}
        if method == "sendMessage":
            text = params.get("text")
            if not isinstance(text, str) or not text.strip():
                return tg_error(400, "Bad Request: message text is empty")
            if len(text) > 4096:
                return tg_error(400, "Bad Request: message is too long")
            message["text"] = text
        else:
            if not params.get(_FILE_FIELD[method]):
                return self._problem(f"there is no {_FILE_FIELD[method]} in the request")
            message[_FILE_FIELD[method]] = {"file_id": f"AgAC{next(self._ids)}", "file_unique_id": "AQAD"}
        return JSONResponse({"ok": True, "result": message})

    async def file(self, request: Request) -> Response:
        if request.path_params["token"] != BOT_TOKEN:
            return tg_error(401, "Unauthorized")
        path = request.path_params["path"]
        stored = next((f for f in self.files.values() if f.path == path), None)
        if stored is None:
            return tg_error(404, "Not Found")
        return Response(stored.data, media_type="application/octet-stream")
