"""Telegram's webhook deliveries for a bot channel.

``POST /webhooks/telegram/{channel_id}``: unknown or inactive channel → 404; a missing or wrong
``X-Telegram-Bot-Api-Secret-Token`` → 403 (nothing stored); a body that is not an update → 400.
A new message is stored once per ``update_id`` (Telegram redelivers an update until it gets a
2xx); other updates (edits, button callbacks…) are answered 200 and ignored. A photo, voice note
or document is downloaded at once by a durable job (``getFile`` then the file URL).
"""

import json
from dataclasses import dataclass, replace
from typing import Any

from atiende.channels.media import MediaRejected, MediaStore, check_content, mark_unavailable
from atiende.channels.models import Channel, ChannelKind
from atiende.channels.protocol import Attachment
from atiende.channels.telegram.adapter import client_for
from atiende.channels.telegram.client import TelegramError, TelegramErrorKind
from atiende.channels.telegram.secret import secret_matches, webhook_secret
from atiende.channels.telegram.updates import MalformedUpdate, parse_update
from atiende.conversations.routing import Ingested, active_channel, ingest
from atiende.errors import AtiendeError, Forbidden
from atiende.jobs import JobContext, enqueue, job

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class BadPayload(AtiendeError):
    status_code = 400


class BadSecret(Forbidden):
    def __init__(self) -> None:
        super().__init__(f"Missing or wrong {SECRET_HEADER}", field=SECRET_HEADER)


def secret_of(ctx: JobContext, channel: Channel) -> str:
    return webhook_secret(ctx.settings.secret_key, channel.id, str((channel.credentials or {}).get("bot_token", "")))


@dataclass
class UpdateResult:
    stored: bool = False
    duplicate: bool = False
    ignored: str = ""
    ingested: Ingested | None = None

    def summary(self) -> dict[str, Any]:
        return {"stored": self.stored, "duplicate": self.duplicate, "ignored": self.ignored or None}

    async def run_after_commit(self) -> None:
        if self.ingested is not None:
            await self.ingested.after_commit()


async def receive_update(ctx: JobContext, channel_id: int, raw: bytes, secret: str | None) -> UpdateResult:
    async with ctx.database.session() as session:
        channel = await active_channel(session, channel_id, ChannelKind.telegram)
    if not secret_matches(secret, secret_of(ctx, channel)):
        raise BadSecret()
    try:
        parsed = parse_update(json.loads(raw))
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadPayload("The body is not valid JSON", field="body") from exc
    except MalformedUpdate as exc:
        raise BadPayload(str(exc), field="update_id") from exc
    if parsed.message is None:
        return UpdateResult(ignored=parsed.ignored)
    store = MediaStore(ctx.settings)
    message = parsed.message
    name = None
    if parsed.file is not None:
        name = store.name_for(f"telegram:{channel.id}:{parsed.file.file_id}", parsed.file.mime_type)
        attachment = Attachment(kind=parsed.file.kind, url=store.url(name), mime_type=parsed.file.mime_type[:255],
                                name=parsed.file.filename[:255], size=parsed.file.size)
        message = replace(message, attachments=(attachment,))
    ingested = await ingest(ctx, channel.id, ChannelKind.telegram, lambda _channel: [message])
    received = ingested.received[0]
    if parsed.file is not None and name is not None and not store.exists(name):
        async with ctx.database.session() as session:
            await enqueue(session, fetch_telegram_file, due_at=ctx.clock.now(),
                          key=f"tg-file:{channel.id}:{parsed.update_id}", channel_id=channel.id,
                          message_id=received.message.id, file_id=parsed.file.file_id, name=name,
                          mime_type=parsed.file.mime_type)
        wake = ctx.extras.get("wake")
        if wake is not None:
            wake()
    return UpdateResult(stored=not received.duplicate, duplicate=received.duplicate, ingested=ingested)


@job
async def fetch_telegram_file(ctx: JobContext, *, channel_id: int, message_id: int, file_id: str, name: str,
                              mime_type: str) -> None:
    """Download one received file (safe to run twice; transient failures are retried)."""
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
        data = await bot.download(await bot.get_file_path(file_id), store.max_bytes)
        check_content(mime_type, data)
        store.save(name, data)
    except TelegramError as exc:
        if exc.kind != TelegramErrorKind.permanent:
            raise
        await mark_unavailable(ctx.database, message_id, url, exc.reason)
    except MediaRejected as exc:
        await mark_unavailable(ctx.database, message_id, url, str(exc))
