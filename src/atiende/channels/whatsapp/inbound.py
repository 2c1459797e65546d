"""Meta's webhook deliveries for a WhatsApp channel: verify, route, store once, fetch media.

``POST /webhooks/whatsapp/{channel_id}``:
1. Unknown or inactive channel: 404. Missing or wrong ``X-Hub-Signature-256`` (HMAC of the raw
   body with the channel's app secret): 401. Nothing is stored in either case.
2. A signed body that is not JSON, or not a WhatsApp webhook: 400.
3. Every status of every change is applied (monotonically; statuses of messages we did not send
   are ignored), then every message is stored once per ``wamid`` through the engine's ``ingest``.
4. Items for another ``phone_number_id`` (Meta sends every number of an app to the app's one
   callback URL) go to the client's WhatsApp channel of that number when it shares this app
   secret; otherwise they are ignored and the answer is still 200 — Meta retries any other
   answer for days, and such an item can never be stored here.
5. Media ids expire, so each received image, audio, video, document or sticker is downloaded
   right away by a durable job (``fetch_whatsapp_media``), after the message is stored. The
   message points at the file's final URL from the start.

If storing fails (e.g. the channel serves no active campaign: 409), the answer is not 2xx and
Meta delivers the same payload again later; duplicates are stored once, so nothing is lost.
"""

import json
import logging
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from atiende.channels.media import MediaRejected, MediaStore, check_content, mark_unavailable
from atiende.channels.models import Channel, ChannelKind
from atiende.channels.protocol import Attachment, InboundContact, InboundMessage
from atiende.channels.whatsapp.adapter import client_for
from atiende.channels.whatsapp.client import TooLarge
from atiende.channels.whatsapp.errors import ErrorKind, GraphError
from atiende.channels.whatsapp.payloads import MalformedPayload, ParsedMessage, ParsedStatus, parse_webhook
from atiende.channels.whatsapp.signature import signature_is_valid
from atiende.conversations.fields import normalise_phone
from atiende.conversations.models import Direction, Message
from atiende.conversations.outbound import ingest_statuses
from atiende.conversations.routing import Ingested, active_channel, ingest
from atiende.errors import AtiendeError, Unauthorized
from atiende.jobs import JobContext, enqueue, job

log = logging.getLogger(__name__)
SIGNATURE_HEADER = "X-Hub-Signature-256"
QUOTE_CHARS = 80


class BadSignature(Unauthorized):
    def __init__(self) -> None:
        super().__init__(f"Missing or wrong {SIGNATURE_HEADER}", field=SIGNATURE_HEADER)


class BadPayload(AtiendeError):
    status_code = 400


@dataclass
class WebhookResult:
    stored: int = 0
    duplicates: int = 0
    statuses: int = 0
    ignored: int = 0
    after_commit: list[Ingested] | None = None

    def summary(self) -> dict[str, int]:
        return {"stored": self.stored, "duplicates": self.duplicates, "statuses": self.statuses,
                "ignored": self.ignored}

    async def run_after_commit(self) -> None:
        for ingested in self.after_commit or []:
            await ingested.after_commit()


def read_body(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadPayload("The body is not valid JSON", field="body") from exc


async def receive_webhook(ctx: JobContext, channel_id: int, raw: bytes, signature: str | None) -> WebhookResult:
    async with ctx.database.session() as session:
        channel = await active_channel(session, channel_id, ChannelKind.whatsapp)
        if not signature_is_valid(raw, signature, str((channel.credentials or {}).get("app_secret", ""))):
            raise BadSignature()
        try:
            batch = parse_webhook(read_body(raw))
        except MalformedPayload as exc:
            raise BadPayload(str(exc), field="body") from exc
        targets = await _targets(session, channel, batch.phone_number_ids)
    result = WebhookResult(ignored=len(batch.ignored), after_commit=[])
    for pnid in sorted(batch.phone_number_ids):
        target = targets.get(pnid)
        statuses = [s for s in batch.statuses if s.phone_number_id == pnid]
        messages = [m for m in batch.messages if m.phone_number_id == pnid]
        if target is None:
            log.warning("WhatsApp channel %s got %d items for phone_number_id %s it does not serve",
                        channel.id, len(statuses) + len(messages), pnid)
            result.ignored += len(statuses) + len(messages)
            continue
        result.statuses += await _apply_statuses(ctx, target, statuses)
        if messages:
            await _store_messages(ctx, target, messages, result)
    return result


async def _targets(session: AsyncSession, channel: Channel, phone_number_ids: set[str]) -> dict[str, Channel]:
    """Which channel each phone number id of the batch belongs to (this one, or a sibling of the
    same client answering to the same Meta app)."""
    own = str((channel.settings or {}).get("phone_number_id", ""))
    targets = {own: channel} if own in phone_number_ids else {}
    others = phone_number_ids - {own}
    if others:
        siblings = (await session.scalars(select(Channel).where(
            Channel.client_id == channel.client_id, Channel.kind == ChannelKind.whatsapp, Channel.active,
            Channel.id != channel.id))).all()
        secret = (channel.credentials or {}).get("app_secret")
        for sibling in siblings:
            pnid = str((sibling.settings or {}).get("phone_number_id", ""))
            if pnid in others and (sibling.credentials or {}).get("app_secret") == secret:
                targets.setdefault(pnid, sibling)
    return targets


async def _apply_statuses(ctx: JobContext, channel: Channel, statuses: list[ParsedStatus]) -> int:
    """Apply every status in one transaction; statuses of messages this app sent from elsewhere
    (or that we no longer have) are ignored. Returns how many moved a message forward."""
    if not statuses:
        return 0
    results = await ingest_statuses(ctx, channel.id, ChannelKind.whatsapp, lambda _channel: [s.update for s in statuses],
                                    ignore_unknown=True)
    return sum(int(changed) for _, changed in results)


async def _store_messages(ctx: JobContext, channel: Channel, parsed: list[ParsedMessage],
                          result: WebhookResult) -> None:
    store = MediaStore(ctx.settings)
    async with ctx.database.session() as session:
        quotes = await _quoted(session, channel.id, {p.reply_to for p in parsed if p.reply_to})
    inbound = [_normalised(store, channel, p, quotes) for p in parsed]
    ingested = await ingest(ctx, channel.id, ChannelKind.whatsapp, lambda _channel: inbound)
    assert result.after_commit is not None
    result.after_commit.append(ingested)
    downloads = []
    for item, received in zip(parsed, ingested.received, strict=True):
        result.duplicates += int(received.duplicate)
        result.stored += int(not received.duplicate)
        if item.media is not None:
            name = store.name_for(_media_source(channel, item.media.media_id), item.media.mime_type)
            if not store.exists(name):
                downloads.append((received.message.id, item.media, name))
    if downloads:  # enqueued before answering: a crash before this means no 200, and Meta sends again
        async with ctx.database.session() as session:
            for message_id, media, name in downloads:
                await enqueue(session, fetch_whatsapp_media, due_at=ctx.clock.now(),
                              key=f"wa-media:{channel.id}:{media.media_id}"[:120], channel_id=channel.id,
                              message_id=message_id, media_id=media.media_id, name=name,
                              mime_type=media.mime_type)
        wake = ctx.extras.get("wake")
        if wake is not None:
            wake()


def _media_source(channel: Channel, media_id: str) -> str:
    return f"whatsapp:{channel.id}:{media_id}"


async def _quoted(session: AsyncSession, channel_id: int, wamids: set[str | None]) -> dict[str, str]:
    ids = [w for w in wamids if w]
    if not ids:
        return {}
    rows = await session.execute(select(Message.external_id, Message.text, Message.direction).where(
        Message.channel_id == channel_id, Message.external_id.in_(ids)))
    quotes: dict[str, str] = {}
    for external_id, text, direction in rows:
        if external_id not in quotes or direction == Direction.outbound:
            quotes[external_id] = text
    return quotes


def _normalised(store: MediaStore, channel: Channel, parsed: ParsedMessage, quotes: dict[str, str]) -> InboundMessage:
    message = parsed.message
    contact = message.contact
    if contact.phone is not None:
        try:
            normalise_phone(contact.phone)
        except ValueError:
            contact = InboundContact(external_id=contact.external_id, name=contact.name, phone=None)
    text = message.text
    if parsed.reply_to and parsed.reply_to in quotes:
        quoted = " ".join(quotes[parsed.reply_to].split())
        quoted = quoted if len(quoted) <= QUOTE_CHARS else quoted[:QUOTE_CHARS - 1] + "…"
        text = f"> {quoted}\n{text}" if text else f"> {quoted}"
    attachments = list(message.attachments)
    if parsed.media is not None:
        media = parsed.media
        name = store.name_for(_media_source(channel, media.media_id), media.mime_type)
        attachments.append(Attachment(kind=media.kind, url=store.url(name),
                                      mime_type=media.mime_type.split(";")[0].strip()[:255],
                                      name=media.filename[:255]))
    if not text.strip() and not attachments:
        text = f"[{parsed.type}]"
    return replace(message, contact=contact, text=text, attachments=tuple(attachments))


@job
async def fetch_whatsapp_media(ctx: JobContext, *, channel_id: int, message_id: int, media_id: str, name: str,
                               mime_type: str) -> None:
    """Download one received media item into the media folder (safe to run twice). Transient
    failures are retried by the worker; a refused file is dropped from the message with a note."""
    store = MediaStore(ctx.settings)
    if store.exists(name):
        return
    async with ctx.database.session() as session:
        channel = await session.get(Channel, channel_id)
    if channel is None:
        return
    client = client_for(ctx, channel)
    url = store.url(name)
    try:
        info = await client.media_info(media_id)
        if info.file_size is not None and info.file_size > store.max_bytes:
            raise TooLarge(info.file_size)
        data, content_type = await client.download(info.url, store.max_bytes)
        check_content(info.mime_type or content_type or mime_type, data)
        store.save(name, data)
    except GraphError as exc:
        if exc.kind in (ErrorKind.transient, ErrorKind.rate_limited):
            raise
        await mark_unavailable(ctx.database, message_id, url, exc.reason)
    except TooLarge:
        await mark_unavailable(ctx.database, message_id, url, f"supera {store.max_bytes // (1024 * 1024)} MB")
    except MediaRejected as exc:
        await mark_unavailable(ctx.database, message_id, url, str(exc))
