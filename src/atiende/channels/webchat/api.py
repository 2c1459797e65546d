"""The public widget API (``/api/v1/widget/{channel_id}/...``), ``GET /widget.js`` and the demo site.

Every widget call names the embedding site in ``Origin`` (browsers send it; the ``Referer`` is used
when a same-origin GET omits it), which must be one of the channel's allowed origins: other sites
get 403. Calls after the session carry the visitor token as ``Authorization: Bearer <token>``
(``?token=`` on the WebSocket). Answers carry CORS headers for the calling origin; the check itself
happens on the server, so a page on another site cannot read or write a conversation.

New messages reach the widget over ``WS /api/v1/widget/{id}/ws`` or, where WebSockets are blocked,
by long polling ``GET …/messages?after=<last id>&wait=<seconds>``, which answers as soon as there is
something new (or empty after ``wait``).
"""

import asyncio
import contextlib
import json
from collections.abc import Callable, Coroutine
from datetime import datetime
from importlib import resources
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, File, Path, Query, Request, Response, UploadFile, WebSocket, status
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import EmailStr, Field, StringConstraints, field_validator
from pydantic.functional_validators import AfterValidator, BeforeValidator
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.websockets import WebSocketDisconnect, WebSocketState

from atiende import realtime
from atiende.bus import BusEvent
from atiende.channels.choices import lead_text
from atiende.channels.media import MediaStore
from atiende.channels.models import Channel
from atiende.channels.webchat.service import Prechat, VisitorView, WidgetConfig, webchat_service
from atiende.channels.webchat.tokens import visitor_of
from atiende.deps import EngineDep
from atiende.conversations.models import Direction, Message
from atiende.errors import AtiendeError, Invalid
from atiende.jobs import JobContext
from atiende.kit.inbound_json import clean
from atiende.web import ErrorOut
from atiende.kit.schemas import MAX_ID, InSchema, Name, OutSchema, storable

POLICY_VIOLATION = 4401
CORS_HEADERS = {"Access-Control-Allow-Methods": "GET, POST, OPTIONS",
                "Access-Control-Allow-Headers": "Authorization, Content-Type",
                "Access-Control-Expose-Headers": "Retry-After", "Access-Control-Max-Age": "600"}


def request_origin(headers: Any) -> str | None:
    origin = headers.get("origin")
    if origin and origin != "null":
        return origin
    referer = headers.get("referer")
    if referer:
        parts = urlsplit(referer)
        if parts.scheme and parts.netloc:
            return f"{parts.scheme}://{parts.netloc}"
    return None


def own_origin(url: Any) -> str:
    return f"{url.scheme.replace('ws', 'http')}://{url.netloc}"


class WidgetRoute(APIRoute):
    """Adds CORS headers to answers for an origin the channel allows (errors included, so the
    widget can read a 429 or a 422); a 403 for the origin, an unknown channel or ``Origin: null``
    gets none, so another site's script cannot read even the refusal."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                response = await handler(request)
            except (AtiendeError, RequestValidationError, StarletteHTTPException) as exc:
                response = await _render_error(request, exc)
            response.headers["Vary"] = "Origin"
            origin = request.headers.get("origin")
            if origin and origin in getattr(request.state, "widget_origins", ()):
                response.headers.update({**CORS_HEADERS, "Access-Control-Allow-Origin": origin})
            return response

        return route


async def _render_error(request: Request, exc: Exception) -> Response:
    for kind in type(exc).__mro__:
        handler = request.app.exception_handlers.get(kind)
        if handler is not None:
            return await handler(request, exc)
    raise exc


router = APIRouter(prefix="/api/v1/widget", tags=["web chat widget"], route_class=WidgetRoute)
pages = APIRouter(tags=["web chat widget"])
ChannelId = Annotated[int, Path(ge=1, le=MAX_ID)]


async def widget_channel(channel_id: ChannelId, request: Request, engine: EngineDep) -> Channel:
    async with engine.database.session() as session:
        channel = await webchat_service.channel(session, channel_id)
    origin = request_origin(request.headers)
    webchat_service.check_origin(channel, origin, own_origin(request.url))
    request.state.widget_origins = (origin,)  # checked: WidgetRoute may answer it with CORS headers
    return channel


WidgetChannel = Annotated[Channel, Depends(widget_channel)]


def visitor_id(request: Request, channel: WidgetChannel, engine: EngineDep) -> str:
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header[:7].lower() == "bearer " else None
    return webchat_service.visitor(engine.settings, channel, token)


VisitorId = Annotated[str, Depends(visitor_id)]


# --- shapes -----------------------------------------------------------------------------------

class ConfigOut(OutSchema):
    welcome_message: str | None
    prechat_form: bool
    available: bool = Field(description="False while the channel serves no active campaign")
    attachments: bool = Field(description="The campaign accepts files")
    voice_notes: bool
    open_now: bool = Field(description="Within the campaign's business hours")
    out_of_hours_message: str | None


class WidgetMessageOut(OutSchema):
    id: int
    sender: str = Field(description="visitor, agent, bot or system")
    text: str
    attachments: list[dict[str, Any]]
    choices: list[str] = Field(default_factory=list,
                               description="Options the visitor may tap (a bot's menu); `text` then omits their numbered lines")
    at: datetime
    read: bool = Field(description="Our messages: the visitor has seen it")


class MessagesOut(OutSchema):
    messages: list[WidgetMessageOut]
    status: str | None = Field(description="The latest conversation's status (queued, assigned, survey, closed)")
    survey_kind: str | None = Field(description="While a survey question waits: rating, yes_no or text")
    queue_position: int | None = Field(None, description="While the visitor waits in the queue: their place "
                                       "(1 = next), or 0 when the channel tells no number; null otherwise")


class SessionOut(MessagesOut):
    visitor_token: str
    config: ConfigOut


Phone = Annotated[str, StringConstraints(strip_whitespace=True, max_length=32), AfterValidator(storable)]
Token = Annotated[str, StringConstraints(max_length=200)]
# What the visitor types is cleaned like every channel's inbound text (``kit.inbound_json.clean``),
# not refused: a lone surrogate from a browser's string costs one character, not the message.
VisitorText = Annotated[str, BeforeValidator(lambda v: clean(v) if isinstance(v, str) else v),
                        StringConstraints(max_length=4096)]
ClientMessageId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{8,64}$")]


class SessionIn(InSchema):
    visitor_token: Token | None = Field(None, description="The token kept from an earlier session, to resume it")
    name: Name | None = None
    email: EmailStr | None = None
    phone: Phone | None = Field(None, description="International (+57 300 123 4567), or national in the "
                                "client's phone region (300 123 4567 for a client in Colombia)")


class SendIn(InSchema):
    client_message_id: ClientMessageId = Field(description="Chosen by the widget; a retry with it is stored once")
    text: VisitorText = ""
    attachments: list[str] = Field(default_factory=list, max_length=5,
                                   description="URLs returned by the attachments endpoint")

    @field_validator("attachments")
    @classmethod
    def _urls(cls, urls: list[str]) -> list[str]:
        if any(len(u) > 300 for u in urls):
            raise ValueError("not an attachment of this chat")
        return urls


class SentOut(OutSchema):
    message: WidgetMessageOut
    duplicate: bool


class ReadIn(InSchema):
    up_to: Annotated[int, Field(ge=1, le=MAX_ID)]


def message_out(message: Message, engine: JobContext) -> WidgetMessageOut:
    sender = "visitor" if message.direction == Direction.inbound else str(message.sender)
    store, now = MediaStore(engine.settings), engine.clock.now()  # the visitor may fetch their chat's files
    attachments = [{**a, "url": store.grant(str(a.get("url", "")), message.conversation_id, now)}
                   for a in message.attachments or []]
    choices = list(message.choices or [])
    text = lead_text(message.text, choices) if choices else message.text
    return WidgetMessageOut(id=message.id, sender=sender, text=text, attachments=attachments, choices=choices,
                            at=message.created_at, read=message.read_at is not None)


def messages_out(view: VisitorView, engine: JobContext) -> dict[str, Any]:
    return {"messages": [message_out(m, engine) for m in view.messages],
            "status": str(view.status) if view.status else None, "survey_kind": view.survey_kind,
            "queue_position": view.queue_position}


def config_out(config: WidgetConfig) -> ConfigOut:
    return ConfigOut(**config.__dict__)


# --- endpoints --------------------------------------------------------------------------------

@router.post("/{channel_id}/session", response_model=SessionOut,
             summary="Start or resume a visitor's chat; pre-chat answers become the contact's name and phone")
async def start_session(channel: WidgetChannel, body: SessionIn, request: Request, engine: EngineDep) -> Any:
    # A token this server did not issue (or one of another channel) starts a new visitor.
    known = visitor_of(engine.settings.secret_key, channel.id, body.visitor_token) if body.visitor_token else None
    phone = await webchat_service.read_phone(engine, channel, body.phone) if body.phone else None
    prechat = Prechat(name=body.name, email=str(body.email) if body.email else None, phone=phone)
    address = request.client.host if request.client else "?"
    visitor = await webchat_service.start(engine, channel, known, prechat, address)
    async with engine.database.session() as session:
        config = await webchat_service.config(session, channel, engine.clock.now())
        view = await webchat_service.view(session, channel, visitor, 0)
    out = SessionOut(visitor_token=webchat_service.token(engine.settings, channel, visitor),
                     config=config_out(config), **messages_out(view, engine))
    return out


@router.post("/{channel_id}/messages", response_model=SentOut, status_code=status.HTTP_201_CREATED,
             responses={503: {"model": ErrorOut, "description": "Stored, still waiting to be routed: send it again"}},
             summary="The visitor writes (stored once per client_message_id)")
async def send(channel: WidgetChannel, visitor: VisitorId, body: SendIn, request: Request, engine: EngineDep) -> Any:
    if not body.text.strip() and not body.attachments:
        raise Invalid("Write a message or attach a file", field="text")
    message, duplicate = await webchat_service.send(engine, request.app.state.inbound_router, channel, visitor,
                                                    client_message_id=body.client_message_id, text=body.text,
                                                    attachment_urls=body.attachments)
    return SentOut(message=message_out(message, engine), duplicate=duplicate)


@router.post("/{channel_id}/attachments", status_code=status.HTTP_201_CREATED,
             summary="Upload a file to attach (only when the campaign accepts files)")
async def upload(channel: WidgetChannel, visitor: VisitorId, engine: EngineDep,
                 file: Annotated[UploadFile, File(description="The file; its type must be an accepted one")]) -> Any:
    data = await file.read(engine.settings.media_max_bytes + 1)
    attachment = await webchat_service.upload(engine, channel, visitor, filename=(file.filename or "archivo")[:200],
                                              content_type=file.content_type or "", data=data)
    return attachment.model_dump(mode="json")


@router.get("/{channel_id}/messages", response_model=MessagesOut,
            summary="The visitor's messages after ?after= (long poll: waits up to ?wait= seconds for news)")
async def list_messages(channel: WidgetChannel, visitor: VisitorId, engine: EngineDep, request: Request,
                        after: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
                        wait: Annotated[int, Query(ge=0, le=60)] = 0) -> Any:
    wait = min(wait, engine.settings.widget_poll_seconds)
    with _VisitorFeed(request.app, engine, channel, visitor) as feed:  # before reading: nothing slips between
        async with engine.database.session() as session:
            await feed.learn(session)
            view = await webchat_service.view(session, channel, visitor, after)
        if view.messages or not wait:
            return messages_out(view, engine)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(wait):
                while not await feed.concerns(await feed.listener.get()):
                    pass
    async with engine.database.session() as session:
        return messages_out(await webchat_service.view(session, channel, visitor, after), engine)


@router.post("/{channel_id}/read", summary="The visitor saw our messages up to up_to (they become read)")
async def read(channel: WidgetChannel, visitor: VisitorId, body: ReadIn, engine: EngineDep) -> dict[str, int]:
    return {"read": await webchat_service.mark_read(engine, channel, visitor, body.up_to)}


@router.options("/{channel_id}/{rest:path}", include_in_schema=False)
async def preflight(channel: WidgetChannel, rest: str) -> Response:
    """The browser's CORS preflight: 204 with CORS headers for an allowed origin, 403 without."""
    return Response(status_code=204)


class _VisitorFeed:
    """One widget's place in the realtime fan-out: it hears the events of its visitor's
    conversations on this channel, and the client's new conversations (one may be theirs: a query
    tells, and from then on its events reach the widget by key)."""

    def __init__(self, app: Any, engine: JobContext, channel: Channel, visitor: str) -> None:
        self.engine, self.channel, self.visitor = engine, channel, visitor
        self.ids: set[int] = set()
        self.listener = realtime.Fanout.of(app).listen([realtime.new_conversations(channel.client_id)])

    async def learn(self, session: Any) -> None:
        """Read the visitor's conversations and hear their events (after listening, before reading
        what to show: an event in between finds what it announces in that read)."""
        self.ids = await webchat_service.conversation_ids(session, self.channel, self.visitor)
        self.listener.add(*(realtime.conversation(i) for i in self.ids))

    async def concerns(self, event: BusEvent) -> bool:
        conversation_id = getattr(event, "conversation_id", None)
        if event.client_id != self.channel.client_id or conversation_id is None:
            return False
        if conversation_id not in self.ids and event.kind == realtime.QUEUED:  # a new conversation: theirs?
            async with self.engine.database.session() as session:
                await self.learn(session)
        return conversation_id in self.ids

    def close(self) -> None:
        self.listener.close()

    def __enter__(self) -> "_VisitorFeed":
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


@router.websocket("/{channel_id}/ws")
async def widget_socket(websocket: WebSocket, channel_id: ChannelId) -> None:
    engine: JobContext = websocket.app.state.worker.context
    try:
        async with engine.database.session() as session:
            channel = await webchat_service.channel(session, channel_id)
        webchat_service.check_origin(channel, request_origin(websocket.headers), own_origin(websocket.url))
        visitor = webchat_service.visitor(engine.settings, channel, websocket.query_params.get("token"))
        after = int(websocket.query_params.get("after", "0") or 0)
    except (AtiendeError, ValueError):
        await websocket.close(code=POLICY_VIOLATION)
        return
    with _VisitorFeed(websocket.app, engine, channel, visitor) as feed:
        await websocket.accept()
        try:
            await websocket.send_text(json.dumps({"kind": "ready"}))
            async with engine.database.session() as session:
                await feed.learn(session)
            after = await _push(websocket, engine, channel, visitor, after)
            reader = asyncio.create_task(_until_closed(websocket))
            while not reader.done():
                getter = asyncio.create_task(feed.listener.get())
                done, _ = await asyncio.wait({getter, reader}, return_when=asyncio.FIRST_COMPLETED)
                if getter not in done:
                    getter.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await getter
                    break
                if await feed.concerns(getter.result()):
                    after = await _push(websocket, engine, channel, visitor, after)
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            if websocket.application_state != WebSocketState.DISCONNECTED:
                with contextlib.suppress(Exception):
                    await websocket.close()


async def _push(websocket: WebSocket, engine: JobContext, channel: Channel, visitor: str, after: int) -> int:
    async with engine.database.session() as session:
        view = await webchat_service.view(session, channel, visitor, after)
    if after == 0 and not view.messages:
        return after
    payload = MessagesOut(**messages_out(view, engine)).model_dump(mode="json")
    await websocket.send_text(json.dumps({"kind": "messages", **payload}))
    return max([after, *(m.id for m in view.messages)])


async def _until_closed(websocket: WebSocket) -> None:
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return


# --- the script --------------------------------------------------------------

def widget_source() -> str:
    return resources.files("atiende.channels.webchat").joinpath("static/widget.js").read_text(encoding="utf-8")


@pages.get("/widget.js", include_in_schema=False)
async def widget_js() -> Response:
    return Response(widget_source(), media_type="application/javascript; charset=utf-8",
                    headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"})
