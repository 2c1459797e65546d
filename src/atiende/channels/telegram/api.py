"""HTTP of the Telegram channel: the bot's webhook, and connecting the bot (``setWebhook``).

Connecting needs ``ATIENDE_PUBLIC_URL`` to be the https address Telegram can reach: the webhook
is ``{public_url}/webhooks/telegram/{channel_id}`` with a secret token derived from the bot
token. ``POST /api/v1/channels/{id}/telegram/connect`` does it at once and reports Telegram's
answer; ``register_webhook_later`` enqueues it as a durable job (for the channel service to call
after a telegram channel is saved).
"""

from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Request
from fastapi.responses import JSONResponse
from pydantic import Field
from sqlalchemy import select
from starlette.background import BackgroundTask

from atiende.auth.models import Role
from atiende.channels.models import Channel, ChannelKind
from atiende.channels.telegram.client import TelegramError
from atiende.channels.telegram.connect import register_webhook
from atiende.channels import webhook_guard
from atiende.channels.telegram.inbound import SECRET_HEADER, BadSecret, receive_update
from atiende.channels.telegram.update_schema import UpdateIn, UpdateOut
from atiende.deps import AdminsWrite, CurrentCaller, DbSession, EngineDep
from atiende.errors import AtiendeError, NotFound
from atiende.kit.openapi import raw_body_doc
from atiende.kit.schemas import MAX_ID, OutSchema

webhooks = APIRouter(prefix="/webhooks/telegram", tags=["webhooks"])
router = APIRouter(tags=["telegram"])
ChannelId = Annotated[int, Path(ge=1, le=MAX_ID)]


@webhooks.post("/{channel_id}", response_model=UpdateOut, openapi_extra=raw_body_doc(UpdateIn),
               summary="Telegram's updates for this bot (X-Telegram-Bot-Api-Secret-Token)")
async def receive(channel_id: ChannelId, request: Request, engine: EngineDep,
                  secret: Annotated[str | None, Header(alias=SECRET_HEADER, max_length=256)] = None) -> JSONResponse:
    webhook_guard.screen(request, secret, BadSecret, pattern=None)  # before the body is read
    with webhook_guard.counting_refusals(request, BadSecret):
        result = await receive_update(engine, channel_id, await request.body(), secret)
    after = BackgroundTask(request.app.state.inbound_router.after_accept) if result.pending else None
    return JSONResponse(result.summary(), background=after)


class ProviderError(AtiendeError):
    code = "telegram.provider_error"
    status_code = 502


class ConnectOut(OutSchema):
    webhook_url: str = Field(description="Where Telegram now delivers this bot's messages")


@router.post("/api/v1/channels/{channel_id}/telegram/connect", response_model=ConnectOut, dependencies=[AdminsWrite],
             summary="Point the bot's webhook at Atiende (setWebhook with a secret token); admins")
async def connect(channel_id: ChannelId, session: DbSession, caller: CurrentCaller, engine: EngineDep) -> Any:
    channel = await session.scalar(select(Channel).where(
        Channel.id == channel_id, Channel.kind == ChannelKind.telegram, Channel.client_id.in_(caller.client_ids)))
    if channel is None:
        raise NotFound("Telegram channel not found", field="channel_id")
    caller.require(channel.client_id, Role.admin, field_name="channel_id")
    try:
        url = await register_webhook(engine, channel)
    except TelegramError as exc:
        raise ProviderError(f"Telegram refused the webhook: {exc.reason}", field="credentials.bot_token") from exc
    return ConnectOut(webhook_url=url)
