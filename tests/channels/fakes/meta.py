"""A fake of Meta's Graph API for the WhatsApp Cloud API.

It accepts only what the real API accepts from us — the bearer token, the phone number id, and
message bodies of the documented shapes — and records every request, so tests can assert the exact
URL, headers and JSON we sent. Anything unexpected is answered the way Meta answers it (``(#100)
Invalid parameter``) and listed in ``problems``. Errors can be queued with ``fail_next``.
"""

import hashlib
import itertools
import re
import threading
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

API_VERSION = "v21.0"
PHONE_NUMBER_ID = "106540352242922"
BUSINESS_ACCOUNT_ID = "102290129340398"
ACCESS_TOKEN = "EAAJB-fake-access-token"
_DIGITS = re.compile(r"^[0-9]{6,20}$")
_BSUID = re.compile(r"^[A-Z]{2}\.[A-Za-z0-9.]{1,140}$")


def graph_error(code: int, message: str, details: str = "", status: int = 400, kind: str = "OAuthException") -> JSONResponse:
    error: dict[str, Any] = {"message": message, "type": kind, "code": code, "fbtrace_id": "AzS3bY2Xc4FvxQk"}
    if details:
        error["error_data"] = {"messaging_product": "whatsapp", "details": details}
    return JSONResponse({"error": error}, status_code=status)


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    query: dict[str, str]
    json: Any = None
    form: dict[str, str] = field(default_factory=dict)
    file: tuple[str, bytes, str] | None = None


@dataclass
class StoredMedia:
    data: bytes
    mime_type: str
    content_type: str | None = None  # what the download answers; defaults to mime_type


class FakeGraph:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: list[Recorded] = []
        self.problems: list[str] = []
        self.failures: list[JSONResponse] = []
        self.media: dict[str, StoredMedia] = {}
        self.templates: list[dict[str, Any]] = []
        self._ids = itertools.count(1)
        self.app = Starlette(routes=[
            Route("/{version}/{node}/messages", self.messages, methods=["POST"]),
            Route("/{version}/{node}/media", self.upload, methods=["POST"]),
            Route("/{version}/{node}/message_templates", self.message_templates, methods=["GET"]),
            Route("/whatsapp_business/attachments/", self.download, methods=["GET"]),
            Route("/{version}/{node}", self.media_info, methods=["GET"]),
        ])

    # --- test controls ---------------------------------------------------------------------------

    def reset(self) -> None:
        with self.lock:
            self.requests.clear()
            self.problems.clear()
            self.failures.clear()
            self.media.clear()
            self.templates.clear()
            self.failures_apply_to_media = False
            self.failures_apply_to_templates = False

    def fail_next(self, code: int, message: str, details: str = "", status: int = 400) -> None:
        self.failures.append(graph_error(code, message, details, status))

    def sent(self) -> list[dict[str, Any]]:
        """Bodies of the messages POSTed so far."""
        return [r.json for r in self.requests if r.path.endswith("/messages")]

    def add_media(self, media_id: str, data: bytes, mime_type: str, content_type: str | None = None) -> None:
        self.media[media_id] = StoredMedia(data, mime_type, content_type)

    # --- helpers ---------------------------------------------------------------------------------

    async def _record(self, request: Request) -> Recorded:
        recorded = Recorded(method=request.method, path=request.url.path, headers=dict(request.headers),
                            query=dict(request.query_params))
        content_type = request.headers.get("content-type", "")
        if content_type.startswith("application/json"):
            try:
                recorded.json = await request.json()
            except ValueError:
                recorded.json = "<not json>"
        elif content_type.startswith("multipart/form-data"):
            form = await request.form()
            for key, value in form.multi_items():
                if isinstance(value, str):
                    recorded.form[key] = value
                else:
                    recorded.file = (value.filename or "", await value.read(), value.content_type or "")
        with self.lock:
            self.requests.append(recorded)
        return recorded

    def _problem(self, text: str) -> JSONResponse:
        with self.lock:
            self.problems.append(text)
        return graph_error(100, "(#100) Invalid parameter", text)

    def _authorized(self, request: Request) -> bool:
        return request.headers.get("authorization") == f"Bearer {ACCESS_TOKEN}"

    def _unauthorized(self) -> JSONResponse:
        return graph_error(190, "Invalid OAuth access token - Cannot parse access token", status=401)

    # --- endpoints -------------------------------------------------------------------------------

    async def messages(self, request: Request) -> Response:
        recorded = await self._record(request)
        if not self._authorized(request):
            return self._unauthorized()
        params = request.path_params
        if params["version"] != API_VERSION or params["node"] != PHONE_NUMBER_ID:
            return graph_error(100, "Unsupported post request. Object with ID does not exist", status=400,
                               kind="GraphMethodException")
        if self.failures:
            return self.failures.pop(0)
        problem = check_message(recorded.json)
        if problem:
            return self._problem(problem)
        body = recorded.json
        wamid = f"wamid.HBgLMTY1MDUwNzY1MjAVAgARGBI{next(self._ids):06d}"
        who = body.get("to") or body.get("recipient")
        contact = {"input": who, "wa_id": who} if "to" in body else {"input": who, "user_id": who}
        return JSONResponse({"messaging_product": "whatsapp", "contacts": [contact], "messages": [{"id": wamid}]})

    async def upload(self, request: Request) -> Response:
        recorded = await self._record(request)
        if not self._authorized(request):
            return self._unauthorized()
        if recorded.form.get("messaging_product") != "whatsapp" or not recorded.form.get("type") \
                or recorded.file is None:
            return self._problem("upload needs messaging_product=whatsapp, type and file")
        media_id = str(1_000_000_000_000_000 + next(self._ids))
        self.media[media_id] = StoredMedia(recorded.file[1], recorded.form["type"])
        return JSONResponse({"id": media_id})

    async def media_info(self, request: Request) -> Response:
        await self._record(request)
        if not self._authorized(request):
            return self._unauthorized()
        if self.failures and getattr(self, "failures_apply_to_media", False):
            return self.failures.pop(0)
        media_id = request.path_params["node"]
        stored = self.media.get(media_id)
        if stored is None:
            return graph_error(100, "(#100) Invalid parameter", "Media not found or expired", status=400)
        base = str(request.base_url).rstrip("/")
        return JSONResponse({"messaging_product": "whatsapp",
                             "url": f"{base}/whatsapp_business/attachments/?mid={media_id}&ext=1&hash=ATs",
                             "mime_type": stored.mime_type, "sha256": hashlib.sha256(stored.data).hexdigest(),
                             "file_size": len(stored.data), "id": media_id})

    async def download(self, request: Request) -> Response:
        await self._record(request)
        if not self._authorized(request):
            return Response(status_code=404)
        stored = self.media.get(request.query_params.get("mid", ""))
        if stored is None:
            return Response(status_code=404)
        return Response(stored.data, media_type=stored.content_type or stored.mime_type)

    async def message_templates(self, request: Request) -> Response:
        recorded = await self._record(request)
        if not self._authorized(request):
            return self._unauthorized()
        if self.failures and getattr(self, "failures_apply_to_templates", False):
            return self.failures.pop(0)
        if request.path_params["node"] != BUSINESS_ACCOUNT_ID:
            return graph_error(100, "Unsupported get request.", status=400, kind="GraphMethodException")
        limit = int(recorded.query.get("limit", "25"))
        after = int(recorded.query.get("after", "0") or 0)
        page = self.templates[after:after + limit]
        body: dict[str, Any] = {"data": page, "paging": {"cursors": {"before": str(after),
                                                                     "after": str(after + len(page))}}}
        if after + limit < len(self.templates):
            body["paging"]["next"] = f"{request.base_url}{API_VERSION}/{BUSINESS_ACCOUNT_ID}/message_templates?after={after + limit}"
        return JSONResponse(body)


_MEDIA = ("image", "audio", "video", "document", "sticker")


def _check_interactive(content: dict[str, Any]) -> str | None:
    """Meta's limits for reply buttons and list messages (Cloud API, interactive messages)."""
    body, action = content.get("body"), content.get("action")
    if not isinstance(body, dict) or not isinstance(body.get("text"), str) or not 0 < len(body["text"]) <= 1024:
        return "interactive.body.text must be 1..1024 characters"
    if not isinstance(action, dict):
        return "interactive.action is required"
    if content.get("type") == "button":
        buttons = action.get("buttons")
        if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
            return "interactive button needs 1..3 buttons"
        for button in buttons:
            reply = button.get("reply") if isinstance(button, dict) else None
            if button.get("type") != "reply" or not isinstance(reply, dict) \
                    or not 0 < len(str(reply.get("title", ""))) <= 20 or not 0 < len(str(reply.get("id", ""))) <= 256:
                return "each button is {type: reply, reply: {id ≤256, title ≤20}}"
        return None
    if content.get("type") == "list":
        sections = action.get("sections")
        if not 0 < len(str(action.get("button", ""))) <= 20 or not isinstance(sections, list) \
                or not 1 <= len(sections) <= 10:
            return "interactive list needs action.button ≤20 and 1..10 sections"
        rows = [row for section in sections for row in (section.get("rows") or [])]
        if not 1 <= len(rows) <= 10 or any(not 0 < len(str(r.get("title", ""))) <= 24
                                           or not 0 < len(str(r.get("id", ""))) <= 200 for r in rows):
            return "a list has 1..10 rows, each with id ≤200 and title ≤24"
        return None
    return f"interactive type {content.get('type')!r} is not supported here"


def check_message(body: Any) -> str | None:
    """What Meta would refuse in a message body, or None."""
    if not isinstance(body, dict):
        return "body must be a JSON object"
    allowed = {"messaging_product", "recipient_type", "to", "recipient", "type", "context", *_MEDIA, "text",
               "template", "interactive", "biz_opaque_callback_data"}
    if extra := set(body) - allowed:
        return f"unexpected keys {sorted(extra)}"
    if body.get("messaging_product") != "whatsapp":
        return "messaging_product must be whatsapp"
    if body.get("recipient_type", "individual") != "individual":
        return "recipient_type"
    if ("to" in body) == ("recipient" in body):
        return "exactly one of to / recipient"
    if "to" in body and not _DIGITS.match(str(body["to"])):
        return "to must be a phone number in digits"
    if "recipient" in body and not _BSUID.match(str(body["recipient"])):
        return "recipient must be a business-scoped user id"
    if "context" in body and (not isinstance(body["context"], dict) or set(body["context"]) != {"message_id"}):
        return "context must be {message_id}"
    kind = body.get("type")
    content = body.get(kind) if isinstance(kind, str) else None
    if not isinstance(content, dict) or [k for k in (*_MEDIA, "text", "template", "interactive")
                                         if k in body and k != kind]:
        return f"type {kind!r} needs exactly its own object"
    if kind == "interactive":
        return _check_interactive(content)
    if kind == "text":
        text = content.get("body")
        if set(content) - {"body", "preview_url"} or not isinstance(text, str) or not text or len(text) > 4096:
            return "text.body must be 1..4096 characters"
        return None
    if kind in _MEDIA:
        if ("link" in content) == ("id" in content):
            return f"{kind} needs exactly one of link / id"
        extra_keys = set(content) - {"link", "id", "caption", "filename"}
        if extra_keys or ("caption" in content and kind in ("audio", "sticker")) \
                or ("filename" in content and kind != "document"):
            return f"{kind} has keys it does not take"
        return None
    if kind == "template":
        if not isinstance(content.get("name"), str) or not isinstance(content.get("language"), dict) \
                or not isinstance(content["language"].get("code"), str):
            return "template needs name and language.code"
        for component in content.get("components", []):
            if component.get("type") not in ("header", "body", "button") or not isinstance(
                    component.get("parameters"), list):
                return "template component needs type and parameters"
        return None
    return f"unknown type {kind!r}"
