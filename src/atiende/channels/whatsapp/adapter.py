"""Sending on WhatsApp: the engine's durable delivery job calls ``WhatsAppAdapter.send`` for every
agent, bot and system message of a WhatsApp conversation.

- A template send (``WhatsAppTemplateMessage`` row) goes out as that template, at any time.
- Anything else is free-form and needs the 24-hour window open (the customer wrote on this
  channel less than 24 h ago); otherwise it fails at once, telling the agent to use a template.
- Text and attachments: one attachment of a kind that takes a caption (image, video, document)
  carries the text as caption; otherwise the text goes first, then each attachment. Files stored
  by Atiende are uploaded to Meta; other URLs are sent as links. The message is tracked by the
  id of the last WhatsApp message sent for it. If a later part fails after earlier parts went out,
  a retry sends the earlier parts again.
- Meta's errors: 131047 → failed with the template hint; rate limits and transient errors →
  retried by the engine with backoff; anything else → failed with Meta's reason.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession

from atiende.channels.media import TYPE_OF_EXTENSION, MediaStore
from atiende.channels.models import Channel, ChannelKind
from atiende.channels.protocol import PermanentSendError, RetryableSendError, SendError, register_adapter
from atiende.channels.whatsapp.client import CAPTION_LIMIT, Recipient, WhatsAppClient
from atiende.channels.whatsapp.errors import WINDOW_CLOSED_REASON, ErrorKind, GraphError
from atiende.channels.whatsapp.models import WhatsAppTemplateMessage
from atiende.channels.whatsapp.ratelimit import RateLimiter
from atiende.channels.whatsapp.window import window_is_open
from atiende.conversations.models import Contact, Conversation, Direction, Message
from atiende.db import UTCDateTime
from atiende.channels.choices import whatsapp_interactive
from atiende.jobs import JobContext
from atiende.settings import Settings

DEFAULT_API_VERSION = "v21.0"
_OUTBOUND_TYPE = {"image": "image", "sticker": "sticker", "video": "video", "audio": "audio", "voice": "audio",
                  "document": "document"}
_limiters: dict[float, RateLimiter] = {}


def limiter_for(settings: Settings) -> RateLimiter:
    """One limiter per process (per configured rate), shared by every send of every number."""
    rate = float(settings.whatsapp_messages_per_second)
    return _limiters.setdefault(rate, RateLimiter(rate))


def client_for(ctx: JobContext, channel: Channel) -> WhatsAppClient:
    credentials, config = channel.credentials or {}, channel.settings or {}
    return WhatsAppClient(ctx.http, graph_url=ctx.settings.whatsapp_graph_url,
                          api_version=str(config.get("api_version") or DEFAULT_API_VERSION),
                          phone_number_id=str(config.get("phone_number_id", "")),
                          access_token=str(credentials.get("access_token", "")), limiter=limiter_for(ctx.settings))


def recipient_of(contact: Contact, channel_id: int) -> Recipient:
    return Recipient(external_id=contact.external_id_on(channel_id) or contact.phone or "", phone=contact.phone)


async def last_customer_message_at(session: AsyncSession, channel_id: int, contact_id: int) -> datetime | None:
    """When the contact last wrote on this channel (the provider's time when known)."""
    latest = func.max(func.coalesce(Message.provider_at, Message.created_at))
    return await session.scalar(
        select(type_coerce(latest, UTCDateTime())).join(Conversation, Conversation.id == Message.conversation_id)
        .where(Conversation.contact_id == contact_id, Message.channel_id == channel_id,
               Message.direction == Direction.inbound))


def as_send_error(error: GraphError) -> SendError:
    if error.kind in (ErrorKind.rate_limited, ErrorKind.transient):
        return RetryableSendError(error.reason)
    return PermanentSendError(error.reason)


class WhatsAppAdapter:
    kind = ChannelKind.whatsapp

    async def send(self, ctx: JobContext, channel: Channel, conversation: Conversation,
                   message: Message) -> str | None:
        async with ctx.database.session() as session:
            template = await session.get(WhatsAppTemplateMessage, message.id)
            last = None if template else await last_customer_message_at(session, channel.id,
                                                                          conversation.contact_id)
        if template is None and not window_is_open(last, ctx.clock.now()):
            raise PermanentSendError(WINDOW_CLOSED_REASON)
        client = client_for(ctx, channel)
        recipient = recipient_of(conversation.contact, channel.id)
        try:
            if template is not None:
                return await client.send_template(recipient, template.name, template.language,
                                                  list(template.components))
            interactive = None if message.attachments else whatsapp_interactive(message.text, message.choices or [])
            if interactive is not None:
                return await client.send_interactive(recipient, interactive.content)
            return await send_content(client, MediaStore(ctx.settings), recipient, message.text,
                                      list(message.attachments or []))
        except GraphError as exc:
            raise as_send_error(exc) from exc


async def send_content(client: WhatsAppClient, store: MediaStore, recipient: Recipient, text: str,
                       attachments: list[dict[str, Any]]) -> str:
    links = [a for a in attachments if a.get("kind") == "location"]
    media = [a for a in attachments if a.get("kind") in _OUTBOUND_TYPE]
    text = "\n".join([text, *(str(a.get("url")) for a in links)]).strip()
    caption_fits = (len(media) == 1 and _OUTBOUND_TYPE[media[0]["kind"]] in ("image", "video", "document")
                    and len(text) <= CAPTION_LIMIT)
    last: str | None = None
    if text and not caption_fits:
        last = (await client.send_text(recipient, text))[-1]
    for attachment in media:
        last = await _send_attachment(client, store, recipient, attachment, text if caption_fits else None)
    if last is None:
        raise PermanentSendError("The message has nothing WhatsApp can deliver")
    return last


async def _send_attachment(client: WhatsAppClient, store: MediaStore, recipient: Recipient,
                           attachment: dict[str, Any], caption: str | None) -> str:
    media_type = _OUTBOUND_TYPE[attachment["kind"]]
    url = str(attachment.get("url", ""))
    filename = str(attachment.get("name") or "") or None
    local = store.local_path(url)
    if local is not None:
        mime = TYPE_OF_EXTENSION.get(local.suffix.lstrip("."), "application/octet-stream")
        media_id = await client.upload_media(local.read_bytes(), mime, filename or local.name)
        return await client.send_media(recipient, media_type, media_id=media_id, caption=caption, filename=filename)
    return await client.send_media(recipient, media_type, link=url, caption=caption, filename=filename)


register_adapter(WhatsAppAdapter())
