"""Meta's webhook deliveries for a WhatsApp channel: verify, parse, store as deliveries.

``POST /webhooks/whatsapp/{channel_id}`` goes through the intake (``conversations.intake.accept``)
like every channel, in one session and one transaction:
1. Unknown or inactive channel: 404; a channel that serves no active campaign: 409. Missing or
   wrong ``X-Hub-Signature-256`` (HMAC of the raw body with the channel's app secret): 401.
   Nothing is stored in these cases.
2. A signed body that is not JSON (or nests too deep), or not a WhatsApp webhook: 400.
3. Every status of every change is applied (monotonically; statuses of messages we did not send
   are ignored), and every message is stored once per ``wamid`` as a delivery; the answer (200)
   comes once both are committed, and the router routes the messages after it.
4. Items for another ``phone_number_id`` (Meta sends every number of an app to the app's one
   callback URL) go to the client's WhatsApp channel of that number when it shares this app
   secret; otherwise they are ignored and the answer is still 200 — Meta retries any other
   answer for days, and such an item can never be stored here.
5. Media ids expire, so each received image, audio, video, document or sticker is downloaded by a
   durable job (``fetch_whatsapp_media``) enqueued with the routed message. The message points at
   the file's final URL from the start.

If storing fails (e.g. the channel serves no active campaign: 409), the answer is not 2xx and
Meta delivers the same payload again later; duplicates are stored once, so nothing is lost.
"""

from collections.abc import Awaitable, Callable
import logging
from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from atiende.channels.media import MediaRejected, MediaStore, check_content, mark_unavailable
from atiende.channels.models import Channel, ChannelKind
from atiende.channels.protocol import (
    Attachment, InboundContact, InboundMessage, MediaFetch, register_media_fetcher,
)
from atiende.channels.whatsapp.adapter import client_for
from atiende.channels.whatsapp.client import TooLarge
from atiende.channels.whatsapp.errors import ErrorKind, GraphError
from atiende.channels.whatsapp.payloads import MalformedPayload, ParsedMessage, ParsedStatus, parse_webhook
from atiende.channels.whatsapp.signature import signature_is_valid
from atiende.conversations.fields import normalise_phone
from atiende.conversations.intake import Incoming, accept
from atiende.conversations.models import DeliveryState, Direction, Message
from atiende.conversations.outbound import apply_status
from atiende.errors import AtiendeError, NotFound, Unauthorized
from atiende.jobs import JobContext, job
from atiende.kit.inbound_json import read_json

log = logging.getLogger(__name__)
SIGNATURE_HEADER = "X-Hub-Signature-256"
QUOTE_CHARS = 80


class BadSignature(Unauthorized):
    code = "whatsapp.bad_signature"

    def __init__(self) -> None:
        super().__init__(f"Missing or wrong {SIGNATURE_HEADER}", field=SIGNATURE_HEADER)


class BadPayload(AtiendeError):
    code = "whatsapp.bad_payload"
    status_code = 400


@dataclass
class WebhookResult:
    stored: int = 0
    duplicates: int = 0
    statuses: int = 0
    ignored: int = 0
    pending: bool = False  # some delivery waits for the router

    def summary(self) -> dict[str, int]:
        return {"stored": self.stored, "duplicates": self.duplicates, "statuses": self.statuses,
                "ignored": self.ignored}


async def receive_webhook(ctx: JobContext, channel_id: int, raw: bytes, signature: str | None) -> WebhookResult:
    result = WebhookResult()
    store = MediaStore(ctx.settings)

    async def check(session: AsyncSession, channel: Channel) -> list[Incoming]:
        if not signature_is_valid(raw, signature, str((channel.credentials or {}).get("app_secret", ""))):
            raise BadSignature()
        try:
            batch = parse_webhook(read_json(raw))
        except MalformedPayload as exc:
            raise BadPayload(str(exc), field="body") from exc
        result.ignored = len(batch.ignored)
        targets = await _targets(session, channel, batch.phone_number_ids)
        found: list[Incoming] = []
        for pnid in sorted(batch.phone_number_ids):
            target = targets.get(pnid)
            statuses = [s for s in batch.statuses if s.phone_number_id == pnid]
            messages = [m for m in batch.messages if m.phone_number_id == pnid]
            if target is None:
                log.warning("WhatsApp channel %s got %d items for phone_number_id %s it does not serve",
                            channel.id, len(statuses) + len(messages), pnid)
                result.ignored += len(statuses) + len(messages)
                continue
            for listener in status_listeners:
                await listener(session, ctx, target, statuses)
            for status in statuses:  # of messages this app sent from elsewhere (or we lost): ignored
                try:
                    result.statuses += int((await apply_status(session, ctx, target, status.update))[1])
                except NotFound:
                    pass
            quotes = await _quoted(session, target.id, {m.reply_to for m in messages if m.reply_to})
            found += [Incoming(_normalised(store, target, m, quotes), target.id) for m in messages]
        return found

    accepted = await accept(ctx, channel_id, ChannelKind.whatsapp, check, transaction=True)
    for delivery in accepted:
        result.duplicates += int(delivery.duplicate)
        result.stored += int(not delivery.duplicate)
        result.pending = result.pending or delivery.state == DeliveryState.pending
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


# Other domains that track what they sent by wamid (the outbound sends' recipients); each gets a
# served number's statuses, with Meta's error codes, in the webhook's transaction. Registered on import.
StatusListener = Callable[[AsyncSession, JobContext, Channel, list[ParsedStatus]], Awaitable[None]]
status_listeners: list[StatusListener] = []


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
        except ValueError:  # a wa_id that is no dialable number: the person is known by it alone
            contact = InboundContact(external_id=contact.external_id, name=contact.name, phone=None)
    text = message.text
    if parsed.reply_to and parsed.reply_to in quotes:
        quoted = " ".join(quotes[parsed.reply_to].split())
        quoted = quoted if len(quoted) <= QUOTE_CHARS else quoted[:QUOTE_CHARS - 1] + "…"
        text = f"> {quoted}\n{text}" if text else f"> {quoted}"
    attachments = list(message.attachments)
    fetch = None
    if parsed.media is not None:
        media = parsed.media
        fetch = MediaFetch(media_id=media.media_id, mime_type=media.mime_type,
                           name=store.name_for(_media_source(channel, media.media_id), media.mime_type))
        attachments.append(Attachment(kind=media.kind, url=store.url(fetch.name),
                                      mime_type=media.mime_type.split(";")[0].strip()[:255],
                                      name=media.filename[:255]))
    if not text.strip() and not attachments:
        text = f"[{parsed.type}]"
    return replace(message, contact=contact, text=text, attachments=tuple(attachments), fetch=fetch)


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


register_media_fetcher(ChannelKind.whatsapp, fetch_whatsapp_media)
