"""Telegram's webhook deliveries for a bot channel, through the intake like every channel.

``POST /webhooks/telegram/{channel_id}``: unknown or inactive channel → 404; one that serves no
active campaign → 409; a missing or wrong ``X-Telegram-Bot-Api-Secret-Token`` → 403 (nothing
stored); a body that is not JSON (or nests too deep) or not an update → 400. A new message is
stored once per ``update_id`` as a delivery (Telegram redelivers an update until it gets a 2xx)
and routed after the answer; other updates (edits, button callbacks…) are answered 200 and
ignored. A photo, voice note or document is downloaded by a durable job (``getFile`` then the file
URL) enqueued with the routed message.
"""

from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from atiende.channels.media import MediaRejected, MediaStore, check_content, mark_unavailable
from atiende.channels.models import Channel, ChannelKind
from atiende.channels.protocol import Attachment, MediaFetch, register_media_fetcher
from atiende.channels.telegram.adapter import client_for
from atiende.channels.telegram.client import TelegramError, TelegramErrorKind
from atiende.channels.telegram.secret import secret_matches, webhook_secret
from atiende.channels.telegram.updates import MalformedUpdate, parse_update
from atiende.conversations.intake import Incoming, accept
from atiende.conversations.models import DeliveryState
from atiende.errors import AtiendeError, Forbidden
from atiende.jobs import JobContext, job
from atiende.kit.inbound_json import read_json

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class BadPayload(AtiendeError):
    code = "telegram.bad_payload"
    status_code = 400


class BadSecret(Forbidden):
    code = "telegram.bad_secret"

    def __init__(self) -> None:
        super().__init__(f"Missing or wrong {SECRET_HEADER}", field=SECRET_HEADER)


def secret_of(ctx: JobContext, channel: Channel) -> str:
    return webhook_secret(ctx.settings.secret_key, channel.id, str((channel.credentials or {}).get("bot_token", "")))


@dataclass
class UpdateResult:
    stored: bool = False
    duplicate: bool = False
    ignored: str = ""
    pending: bool = False  # the delivery waits for the router

    def summary(self) -> dict[str, Any]:
        return {"stored": self.stored, "duplicate": self.duplicate, "ignored": self.ignored or None}


async def receive_update(ctx: JobContext, channel_id: int, raw: bytes, secret: str | None) -> UpdateResult:
    result = UpdateResult()
    store = MediaStore(ctx.settings)

    async def check(_session: AsyncSession, channel: Channel) -> list[Incoming]:
        if not secret_matches(secret, secret_of(ctx, channel)):
            raise BadSecret()
        try:
            parsed = parse_update(read_json(raw))
        except MalformedUpdate as exc:
            raise BadPayload(str(exc), field="update_id") from exc
        if parsed.message is None:
            result.ignored = parsed.ignored
            return []
        message = parsed.message
        if parsed.file is not None:
            name = store.name_for(f"telegram:{channel.id}:{parsed.file.file_id}", parsed.file.mime_type)
            attachment = Attachment(kind=parsed.file.kind, url=store.url(name),
                                    mime_type=parsed.file.mime_type[:255], name=parsed.file.filename[:255],
                                    size=parsed.file.size)
            message = replace(message, attachments=(attachment,), fetch=MediaFetch(
                media_id=parsed.file.file_id, name=name, mime_type=parsed.file.mime_type))
        return [Incoming(message)]

    for delivery in await accept(ctx, channel_id, ChannelKind.telegram, check):
        result.stored, result.duplicate = not delivery.duplicate, delivery.duplicate
        result.pending = delivery.state == DeliveryState.pending
    return result


@job
async def fetch_telegram_file(ctx: JobContext, *, channel_id: int, message_id: int, name: str, mime_type: str,
                              media_id: str = "", file_id: str = "") -> None:
    """Download one received file (safe to run twice; transient failures are retried). ``file_id``:
    the name jobs enqueued before the one inbound pipeline gave ``media_id``."""
    media_id = media_id or file_id
    store = MediaStore(ctx.settings)
    if store.exists(name):
        return
    async with ctx.database.session() as session:
        channel = await session.get(Channel, channel_id)
    if channel is None:
        return
    bot = client_for(ctx, channel)
    url = store.url(name)
    try:
        data = await bot.download(await bot.get_file_path(media_id), store.max_bytes)
        check_content(mime_type, data)
        store.save(name, data)
    except TelegramError as exc:
        if exc.kind != TelegramErrorKind.permanent:
            raise
        await mark_unavailable(ctx.database, message_id, url, exc.reason)
    except MediaRejected as exc:
        await mark_unavailable(ctx.database, message_id, url, str(exc))


register_media_fetcher(ChannelKind.telegram, fetch_telegram_file)
