"""HTTP of the WhatsApp channel: Meta's webhook (verification handshake and deliveries), the
template list for agents, and template sends."""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Request, Response, status
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import Field, HttpUrl, StringConstraints
from pydantic.functional_validators import AfterValidator
from starlette.background import BackgroundTask

from atiende.auth.models import Role
from atiende.channels import webhook_guard
from atiende.channels.whatsapp.inbound import SIGNATURE_HEADER, BadSignature, receive_webhook
from atiende.channels.whatsapp.models import WhatsAppTemplate
from atiende.channels.whatsapp.service import as_template, whatsapp_service
from atiende.channels.whatsapp.signature import token_matches
from atiende.channels.whatsapp.templates import TemplateValues
from atiende.channels.whatsapp.webhook_schema import WebhookIn, WebhookOut
from atiende.channels.models import ChannelKind
from atiende.conversations.api import ConversationPath
from atiende.conversations.models import Message
from atiende.conversations.routing import active_channel
from atiende.conversations.schemas import MessageOut
from atiende.deps import CurrentCaller, DbSession, EngineDep, SupervisorsWrite
from atiende.errors import Forbidden
from atiende.kit.openapi import raw_body_doc
from atiende.kit.schemas import MAX_ID, InSchema, OutSchema, ShortText, storable

webhooks = APIRouter(prefix="/webhooks/whatsapp", tags=["webhooks"])
router = APIRouter(tags=["whatsapp"])
ChannelId = Annotated[int, Path(ge=1, le=MAX_ID)]


@webhooks.get("/{channel_id}", response_class=Response,
              responses={200: {"description": "The hub.challenge, as sent", "content": {
                  "text/plain": {"schema": {"type": "string"}}}}},
              summary="Meta's verification handshake: answers hub.challenge when hub.verify_token matches")
async def verify_webhook(channel_id: ChannelId, engine: EngineDep,
                         mode: Annotated[str | None, Query(alias="hub.mode", max_length=40)] = None,
                         token: Annotated[str | None, Query(alias="hub.verify_token", max_length=1024)] = None,
                         challenge: Annotated[str | None, Query(alias="hub.challenge", max_length=200)] = None,
                         ) -> PlainTextResponse:
    async with engine.database.session() as session:
        channel = await active_channel(session, channel_id, ChannelKind.whatsapp)
    expected = str((channel.credentials or {}).get("verify_token", ""))
    if mode != "subscribe" or not token_matches(token, expected) or challenge is None:
        raise Forbidden("Verification refused: hub.mode must be subscribe and hub.verify_token the channel's",
                        field="hub.verify_token")
    return PlainTextResponse(challenge)


@webhooks.post("/{channel_id}", response_model=WebhookOut, openapi_extra=raw_body_doc(WebhookIn),
               summary="Meta's deliveries: messages and statuses (X-Hub-Signature-256 signed)")
async def receive(channel_id: ChannelId, request: Request, engine: EngineDep,
                  signature: Annotated[str | None, Header(alias=SIGNATURE_HEADER, max_length=200)] = None,
                  ) -> JSONResponse:
    webhook_guard.screen(request, signature, BadSignature)  # before the body is read
    with webhook_guard.counting_refusals(request, BadSignature):
        result = await receive_webhook(engine, channel_id, await request.body(), signature)
    after = BackgroundTask(request.app.state.inbound_router.after_accept) if result.pending else None
    return JSONResponse(result.summary(), background=after)


# --- templates and the 24-hour window ---------------------------------------------------------

class ButtonOut(OutSchema):
    index: int
    parameters: list[str]


class TemplateOut(OutSchema):
    name: str
    language: str
    status: str
    category: str
    approved: bool
    header_format: str | None = Field(description="TEXT, IMAGE, VIDEO, DOCUMENT or LOCATION; null: no header")
    header_parameters: list[str]
    body_text: str
    body_parameters: list[str]
    buttons: list[ButtonOut] = Field(description="URL buttons that take a parameter")
    synced_at: datetime


def template_out(row: WhatsAppTemplate) -> TemplateOut:
    t = as_template(row)
    return TemplateOut(name=t.name, language=t.language, status=t.status, category=t.category, approved=t.approved,
                       header_format=t.header_format, header_parameters=list(t.header_parameters),
                       body_text=t.body_text, body_parameters=list(t.body_parameters),
                       buttons=[ButtonOut(index=b.index, parameters=list(b.parameters)) for b in t.url_buttons],
                       synced_at=row.synced_at)


@router.get("/api/v1/channels/{channel_id}/whatsapp/templates", response_model=list[TemplateOut],
            summary="The channel's message templates as last synced (agents pick approved ones)")
async def list_templates(channel_id: ChannelId, session: DbSession, caller: CurrentCaller) -> Any:
    channel = await whatsapp_service.channel(session, caller, channel_id)
    return [template_out(row) for row in await whatsapp_service.templates(session, channel)]


@router.post("/api/v1/channels/{channel_id}/whatsapp/templates/sync", response_model=list[TemplateOut],
             dependencies=[SupervisorsWrite],
             summary="Read the template list from Meta again (admins and supervisors)")
async def sync_templates(channel_id: ChannelId, session: DbSession, caller: CurrentCaller,
                         engine: EngineDep) -> Any:
    channel = await whatsapp_service.channel(session, caller, channel_id, Role.admin, Role.supervisor)
    return [template_out(row) for row in await whatsapp_service.sync_templates(session, engine, channel)]


Param = Annotated[str, StringConstraints(min_length=1, max_length=1024), AfterValidator(storable)]
TemplateName = Annotated[str, StringConstraints(min_length=1, max_length=512), AfterValidator(storable)]
Language = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(_[A-Z]{2})?$")]


class TemplateSendIn(InSchema):
    name: TemplateName
    language: Language = Field(description="As in the template list, e.g. es, en_US")
    body: list[Param] = Field(default_factory=list, max_length=30, description="Body parameters, in order")
    header: list[Param] = Field(default_factory=list, max_length=5, description="Text header parameters")
    header_media_url: HttpUrl | None = Field(None, description="For IMAGE, VIDEO or DOCUMENT headers")
    header_filename: ShortText | None = None
    buttons: list[Param] = Field(default_factory=list, max_length=10, description="One per dynamic URL button")


@router.post("/api/v1/conversations/{conversation_id}/whatsapp/template", response_model=MessageOut,
             status_code=status.HTTP_201_CREATED,
             summary="Send an approved template (the way to write after the 24-hour window closed)")
async def send_template(conversation: ConversationPath, body: TemplateSendIn, session: DbSession,
                        caller: CurrentCaller, engine: EngineDep) -> Message:
    values = TemplateValues(body=body.body, header=body.header,
                            header_media_url=str(body.header_media_url) if body.header_media_url else None,
                            header_filename=body.header_filename, buttons=body.buttons)
    return await whatsapp_service.send_template(session, engine, caller, conversation, name=body.name,
                                                language=body.language, values=values)


class WindowOut(OutSchema):
    open: bool = Field(description="Free-form messages allowed now; otherwise send a template")
    last_customer_message_at: datetime | None
    closes_at: datetime | None


@router.get("/api/v1/conversations/{conversation_id}/whatsapp/window", response_model=WindowOut,
            summary="Whether free-form messages can be sent (24 hours since the customer's last message)")
async def window(conversation: ConversationPath, session: DbSession, engine: EngineDep) -> Any:
    state = await whatsapp_service.window(session, conversation, engine.clock.now())
    return WindowOut(open=state.open, last_customer_message_at=state.last_customer_message_at,
                     closes_at=state.closes_at)
