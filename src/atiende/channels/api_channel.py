"""The API channel: any system talks to Atiende over signed HTTP.

Inbound ``POST /api/v1/channels/{id}/inbound`` and status reports ``POST …/{id}/status`` carry
``X-Atiende-Signature: sha256=<hex HMAC-SHA256 of the raw body with the channel's secret>``
(``credentials["secret"]``). Unknown or inactive channel: 404; missing or wrong signature: 401;
both before anything is stored; a channel linked to no active campaign: 409; a body that is not
JSON (or nests too deep): 400; a valid body that breaks the schema: 422. The answer (200)
comes as soon as the message is stored as a delivery (``conversations.intake``): routing to the
conversation, assignment and events follow it. The same ``external_id`` twice is stored once; the
second answer says ``duplicate: true`` with the same ``delivery_id`` (and the message and
conversation ids once routed).

Outbound: every agent, bot and system message is POSTed to ``settings["callback_url"]`` with the
same signature header and this JSON body::

    {"message_id": 17, "conversation_id": 4, "contact": {"external_id": "c-1", "name": "Ana"},
     "sender": "agent", "text": "Hola", "attachments": [], "choices": [], "created_at": "2026-01-05T12:00:00Z"}

``choices`` lists the options a bot offers (also numbered in ``text``); a system may show them
as buttons and send the chosen label (or its number) back as the customer's message. A campaign's
send (``outbound.engine``) posts the same body outside any conversation: ``message_id`` and
``conversation_id`` are null and ``"send": {"id": 3, "recipient_id": 41}`` names it.

A 2xx answer marks it sent (a JSON ``{"external_id": "..."}`` in the answer is stored as the
provider id); 408, 425, 429, 5xx and network errors are retried with backoff; any other answer
fails the message with the status and body as the reason.
"""

import hashlib
import hmac
import json
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.background import BackgroundTask

from atiende.channels import webhook_guard
from atiende.channels.media import MediaStore
from atiende.channels.models import Channel, ChannelKind
from atiende.channels.protocol import (
    InboundContact, InboundMessage, PermanentSendError, RetryableSendError, StatusUpdate, register_adapter,
)
from atiende.deps import EngineDep, engine_context
from atiende.conversations.intake import Incoming, accept
from atiende.conversations.models import Conversation, DeliveryState, Message
from atiende.conversations.outbound import apply_status
from atiende.conversations.schemas import InboundIn, InboundOut, StatusIn, StatusOut
from atiende.errors import Unauthorized
from atiende.jobs import JobContext
from atiende.kit.inbound_json import read_json
from atiende.kit.openapi import raw_body_doc
from atiende.kit.schemas import MAX_ID

SIGNATURE_HEADER = "X-Atiende-Signature"
RETRYABLE_STATUSES = {408, 425, 429}


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class BadSignature(Unauthorized):
    code = "channel.bad_signature"

    def __init__(self) -> None:
        super().__init__(f"Missing or wrong {SIGNATURE_HEADER}", field=SIGNATURE_HEADER)


def verify(channel: Channel, body: bytes, signature: str | None) -> None:
    secret = (channel.credentials or {}).get("secret")
    if not secret or not signature or not hmac.compare_digest(sign(str(secret), body), signature.strip()):
        raise BadSignature()


def _parse(body: bytes, schema: type[Any]) -> Any:
    data = read_json(body)  # 400 for what is not JSON or nests too deep; strings made storable
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]) from exc


def to_inbound(body: InboundIn) -> InboundMessage:
    who = body.contact
    return InboundMessage(external_id=body.external_id,
                          contact=InboundContact(external_id=who.external_id, name=who.name, phone=who.phone),
                          text=body.text, attachments=tuple(body.attachments), sent_at=body.timestamp)


router = APIRouter(prefix="/api/v1/channels", tags=["api channel"])
ChannelId = Annotated[int, Path(ge=1, le=MAX_ID)]
Signature = Annotated[str | None, Header(alias=SIGNATURE_HEADER, max_length=200,
                                         description="sha256=<hex HMAC-SHA256 of the raw body>")]


@router.post("/{channel_id}/inbound", response_model=InboundOut, openapi_extra=raw_body_doc(InboundIn),
             summary="A message from your system (signed); stored once per external_id")
async def inbound(channel_id: ChannelId, request: Request, signature: Signature = None) -> Any:
    # The engine and router straight from the app, not as dependencies: this is the hot path.
    engine, router = engine_context(request), request.app.state.inbound_router
    webhook_guard.screen(request, signature, BadSignature)  # before the body is read
    raw = await request.body()

    async def check(_session: AsyncSession, channel: Channel) -> list[Incoming]:
        verify(channel, raw, signature)
        return [Incoming(to_inbound(_parse(raw, InboundIn)))]

    with webhook_guard.counting_refusals(request, BadSignature):
        [delivery] = await accept(engine, channel_id, ChannelKind.api, check)
    out = InboundOut(delivery_id=delivery.id, duplicate=delivery.duplicate, state=delivery.state,
                     message_id=delivery.message_id, conversation_id=delivery.conversation_id)
    after = BackgroundTask(router.after_accept) if delivery.state == DeliveryState.pending else None
    return JSONResponse(out.model_dump(), background=after)


@router.post("/{channel_id}/status", response_model=StatusOut, openapi_extra=raw_body_doc(StatusIn),
             summary="A delivery report (sent, delivered, read, failed) for a message we sent (signed)")
async def status_report(channel_id: ChannelId, request: Request, engine: EngineDep,
                        signature: Signature = None) -> Any:
    webhook_guard.screen(request, signature, BadSignature)
    raw = await request.body()
    applied: list[tuple[Message, bool]] = []

    async def check(session: AsyncSession, channel: Channel) -> list[Incoming]:
        verify(channel, raw, signature)
        body: StatusIn = _parse(raw, StatusIn)
        applied.append(await apply_status(session, engine, channel, StatusUpdate(
            status=body.status, message_id=body.message_id, external_id=body.external_id, reason=body.reason,
            at=body.timestamp)))
        return []

    with webhook_guard.counting_refusals(request, BadSignature):
        await accept(engine, channel_id, ChannelKind.api, check, transaction=True)
    [(message, changed)] = applied
    return StatusOut(message_id=message.id, status=message.status, changed=changed)


class ApiChannelAdapter:
    kind = ChannelKind.api

    async def send(self, ctx: JobContext, channel: Channel, conversation: Conversation, message: Message) -> str | None:
        contact = conversation.contact
        store, now = MediaStore(ctx.settings), ctx.clock.now()  # the receiving system may fetch the files
        attachments = [{**a, "url": store.grant(str(a.get("url", "")), conversation.id, now)}
                       for a in message.attachments or []]
        payload = {"message_id": message.id, "conversation_id": conversation.id,
                   "contact": {"external_id": contact.external_id_on(channel.id), "name": contact.name},
                   "sender": message.sender, "text": message.text, "attachments": attachments,
                   "choices": list(message.choices or []), "created_at": message.created_at.isoformat()}
        return await deliver(ctx, channel, payload)


async def deliver(ctx: JobContext, channel: Channel, payload: dict[str, Any]) -> str | None:
    """The channel's one sender: POST ``payload`` to the callback URL, signed; the provider id the
    system answers, if any. Conversations' messages and the sends of a campaign both go through it."""
    url = (channel.settings or {}).get("callback_url")
    secret = (channel.credentials or {}).get("secret")
    if not url or not secret:
        raise PermanentSendError("The API channel has no callback_url or secret configured")
    body = json.dumps(payload, ensure_ascii=False).encode()
    response = await ctx.http.post(str(url), content=body, headers={
        "Content-Type": "application/json", SIGNATURE_HEADER: sign(str(secret), body)})
    if response.status_code in RETRYABLE_STATUSES or response.status_code >= 500:
        raise RetryableSendError(f"callback answered {response.status_code}")
    if not 200 <= response.status_code < 300:
        raise PermanentSendError(f"callback answered {response.status_code}: {response.text[:300]}")
    try:
        answer = response.json()
    except ValueError:
        return None
    provider_id = answer.get("external_id") if isinstance(answer, dict) else None
    return str(provider_id)[:200] if provider_id else None


register_adapter(ApiChannelAdapter())
