"""The web chat as its visitors see it: who may embed it (allowed origins), visitor sessions,
sending (stored once per client-chosen message id), attachments, and reading their conversation.

The channel's settings (``allowed_origins``, ``prechat_form``, ``welcome_message``) come from the
channel; what the campaign allows (attachments with *recursos externos*, voice notes with *notas
de voz*), its schedule and out-of-hours message come from the channel's active campaign.
"""

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from atiende.campaigns.models import Campaign
from atiende.catalog.schedule_snapshots import open_now as schedule_open_now
from atiende.channels.media import TYPE_OF_EXTENSION, MediaRejected, MediaStore, check_content, kind_of
from atiende.channels.models import Channel, ChannelKind
from atiende.channels.protocol import Attachment, InboundContact, InboundMessage, StatusUpdate
from atiende.channels.webchat.tokens import new_visitor_id, visitor_of, visitor_token
from atiende.channels.whatsapp.ratelimit import RateLimiter
from atiende.conversations import survey
from atiende.conversations.models import (
    ContactIdentity, Conversation, ConversationStatus, DeliveryStatus, Direction, Message,
)
from atiende.conversations.fields import normalise_phone
from atiende.conversations.outbound import apply_status
from atiende.conversations.intake import InboundRouter, Incoming, accept
from atiende.conversations.routing import active_campaign, active_channel, find_or_create_contact
from atiende.conversations.service import check_attachments
from atiende.errors import Conflict, Forbidden, Invalid, TooManyRequests, Unauthorized
from atiende.jobs import JobContext
from atiende.settings import Settings
from atiende.tenancy.models import Client

PAGE = 100


class OriginNotAllowed(Forbidden):
    code = "webchat.origin_not_allowed"

    def __init__(self) -> None:
        super().__init__("This site may not use this chat: add its origin to the channel's allowed origins",
                         field="Origin")


class BadVisitorToken(Unauthorized):
    code = "webchat.bad_visitor_token"

    def __init__(self) -> None:
        super().__init__("Missing or invalid visitor token", field="Authorization")


class InvalidPhone(Invalid):
    code = "phone.invalid"

    def __init__(self, region: str | None) -> None:
        example = "+57 300 123 4567" if region is None else "300 123 4567"
        super().__init__(f"Not a phone number we can read; write it like {example}", field="phone",
                         extra={"region": region})


@dataclass
class WidgetConfig:
    welcome_message: str | None
    prechat_form: bool
    available: bool  # the channel serves an active campaign
    attachments: bool
    voice_notes: bool
    open_now: bool
    out_of_hours_message: str | None


@dataclass
class Prechat:
    """The pre-chat answers: data of the contact, never a message (a message would carry a phone the
    campaign hides from its agents into the chat, the history and every export)."""

    name: str | None = None
    email: str | None = None
    phone: str | None = None


@dataclass
class VisitorView:
    messages: list[Message]
    status: ConversationStatus | None
    survey_kind: str | None
    queue_position: int | None = None  # while queued: 1 = next; 0 = the channel tells no number


def queue_notice(channel: Channel) -> tuple[bool, bool]:
    """(tell a queued visitor they wait, with their place): both on unless the channel turns them off."""
    settings = channel.settings or {}
    notice = settings.get("queue_notice", True) is not False
    return notice, notice and settings.get("queue_position", True) is not False


class _Limits:
    """Per-process buckets: sends (and uploads) per visitor, new visitors per client address (60 a
    minute, so a whole office behind one address can still chat)."""

    SESSIONS_PER_MINUTE = 60

    def __init__(self) -> None:
        self.reset()

    def reset(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        """Forget every bucket; ``monotonic`` is the time source (tests freeze it)."""
        self._monotonic = monotonic
        self._sends: dict[int, RateLimiter] = {}
        self._sessions = RateLimiter(self.SESSIONS_PER_MINUTE / 60, burst=self.SESSIONS_PER_MINUTE,
                                     monotonic=monotonic)

    def send(self, settings: Settings, key: str) -> None:
        per_minute = settings.widget_messages_per_minute
        limiter = self._sends.setdefault(per_minute, RateLimiter(per_minute / 60, burst=min(per_minute, 10),
                                                                 monotonic=self._monotonic))
        _refuse_if_waiting(limiter.try_take(key))

    def session(self, address: str) -> None:
        _refuse_if_waiting(self._sessions.try_take(address))


def _refuse_if_waiting(wait: float) -> None:
    if wait > 0:
        seconds = max(1, int(wait + 0.999))
        raise TooManyRequests(f"Too many messages; try again in {seconds} s", extra={"retry_after": seconds})


limits = _Limits()


def allowed_origins(channel: Channel) -> list[str]:
    return [str(o).rstrip("/") for o in (channel.settings or {}).get("allowed_origins", []) if isinstance(o, str)]


class WebchatService:
    async def channel(self, session: AsyncSession, channel_id: int) -> Channel:
        return await active_channel(session, channel_id, ChannelKind.webchat)

    def check_origin(self, channel: Channel, origin: str | None, own_origin: str) -> None:
        """Browsers name the embedding site in ``Origin``: it must be listed on the channel (the
        Atiende server's own origin, which serves the demo site, is always allowed)."""
        origin = (origin or "").rstrip("/").lower()
        if not origin or (origin != own_origin.rstrip("/").lower()
                          and origin not in (o.lower() for o in allowed_origins(channel))):
            raise OriginNotAllowed()

    def visitor(self, settings: Settings, channel: Channel, token: str | None) -> str:
        visitor_id = visitor_of(settings.secret_key, channel.id, token)
        if visitor_id is None:
            raise BadVisitorToken()
        return visitor_id

    def token(self, settings: Settings, channel: Channel, visitor_id: str) -> str:
        return visitor_token(settings.secret_key, channel.id, visitor_id)

    async def _campaign(self, session: AsyncSession, channel: Channel) -> Campaign | None:
        try:
            return await active_campaign(session, channel)
        except Conflict:
            return None

    async def config(self, session: AsyncSession, channel: Channel, now: datetime) -> WidgetConfig:
        settings = channel.settings or {}
        campaign = await self._campaign(session, channel)
        open_now = True
        out_of_hours = None
        if campaign is not None:
            open_now = await schedule_open_now(session, campaign.schedule_id, now)
            if campaign.out_of_hours_message.strip():
                out_of_hours = campaign.out_of_hours_message
        permissions = campaign.permissions if campaign is not None else None
        return WidgetConfig(welcome_message=settings.get("welcome_message") or None,
                            prechat_form=bool(settings.get("prechat_form")), available=campaign is not None,
                            attachments=bool(permissions and permissions.external_resources),
                            voice_notes=bool(permissions and permissions.voice_notes),
                            open_now=open_now, out_of_hours_message=out_of_hours)

    async def read_phone(self, ctx: JobContext, channel: Channel, phone: str) -> str:
        """The pre-chat phone in E.164, read in the client's phone region when it has no "+country"."""
        async with ctx.database.session() as session:
            region = await session.scalar(select(Client.phone_region).where(Client.id == channel.client_id))
        try:
            return normalise_phone(phone, region)
        except ValueError as exc:
            raise InvalidPhone(region) from exc

    async def start(self, ctx: JobContext, channel: Channel, visitor_id: str | None, prechat: Prechat | None,
                    address: str) -> str:
        """A visitor id (the one given, or a new one). The pre-chat answers, when given, are the
        contact's name and phone (the contact is created now, known by the visitor id); the
        conversation opens with the visitor's first message."""
        if visitor_id is None:
            limits.session(address)
            visitor_id = new_visitor_id()
        if prechat is None or not (prechat.name or prechat.phone):
            return visitor_id
        from atiende.contacts.service import fill_blanks

        who = InboundContact(external_id=visitor_id, name=prechat.name, phone=prechat.phone)  # E.164: read_phone
        async with ctx.database.session() as session:
            contact = await find_or_create_contact(session, channel, who, ctx.clock.now())
            fill_blanks(contact, email=prechat.email)  # the pre-chat email fills the contact
        return visitor_id

    async def send(self, ctx: JobContext, router: InboundRouter, channel: Channel, visitor_id: str, *,
                   client_message_id: str, text: str, attachment_urls: list[str]) -> tuple[Message, bool]:
        """Store the visitor's message through the intake like every channel's, route it at once
        (the visitor sees it in the answer): the message, and whether it was stored before."""
        limits.send(ctx.settings, f"{channel.id}:{visitor_id}")
        store = MediaStore(ctx.settings)

        async def check(session: AsyncSession, channel: Channel) -> list[Incoming]:
            attachments = [self._stored_attachment(store, url) for url in attachment_urls]
            check_attachments(await active_campaign(session, channel), attachments)
            return [Incoming(InboundMessage(external_id=f"{visitor_id}:{client_message_id}",
                                            contact=InboundContact(external_id=visitor_id), text=text,
                                            attachments=tuple(attachments)))]

        [delivery] = await accept(ctx, channel.id, ChannelKind.webchat, check)
        message_id, _ = await router.routed(delivery)
        async with ctx.database.session() as session:
            message = await session.get(Message, message_id)
        assert message is not None
        return message, delivery.duplicate

    def _stored_attachment(self, store: MediaStore, url: str) -> Attachment:
        path = store.local_path(url)
        if path is None:
            raise Invalid("Attach files uploaded to this chat only", field="attachments")
        mime = TYPE_OF_EXTENSION.get(path.suffix.lstrip("."), "application/octet-stream")
        return Attachment(kind=kind_of(mime, voice=path.suffix in (".ogg", ".weba")), url=url, mime_type=mime,
                          name=path.name, size=path.stat().st_size)

    async def upload(self, ctx: JobContext, channel: Channel, visitor_id: str, *, filename: str,
                     content_type: str, data: bytes) -> Attachment:
        limits.send(ctx.settings, f"{channel.id}:{visitor_id}")
        async with ctx.database.session() as session:
            campaign = await active_campaign(session, channel)
        store = MediaStore(ctx.settings)
        if len(data) > store.max_bytes:
            raise Invalid(f"The file is larger than {store.max_bytes // (1024 * 1024)} MB", field="file")
        try:
            mime = check_content(content_type, data)
        except MediaRejected as exc:
            raise Invalid(str(exc), field="file") from exc
        voice = filename.startswith("nota-de-voz") and mime.startswith("audio/")
        attachment = Attachment(kind=kind_of(mime, voice=voice), url=store.url(store.name_for(
            f"webchat:{channel.id}:{visitor_id}:{hashlib.sha256(data).hexdigest()}", mime)),
            mime_type=mime, name=filename[:255], size=len(data))
        check_attachments(campaign, [attachment])
        name = store.name_of(attachment.url)
        assert name is not None
        store.save(name, data)
        return attachment

    async def conversation_ids(self, session: AsyncSession, channel: Channel, visitor_id: str) -> set[int]:
        rows = await session.scalars(
            select(Conversation.id).join(ContactIdentity, ContactIdentity.contact_id == Conversation.contact_id)
            .where(ContactIdentity.channel_id == channel.id, ContactIdentity.external_id == visitor_id,
                   Conversation.channel_id == channel.id))
        return set(rows.all())

    async def view(self, session: AsyncSession, channel: Channel, visitor_id: str, after: int) -> VisitorView:
        """The visitor's messages on this channel newer than ``after`` (the latest page at first)."""
        ids = await self.conversation_ids(session, channel, visitor_id)
        if not ids:
            return VisitorView([], None, None)
        stmt = select(Message).where(Message.conversation_id.in_(ids), Message.id > after)
        if after:
            messages = list((await session.scalars(stmt.order_by(Message.id).limit(PAGE))).all())
        else:
            messages = list(reversed((await session.scalars(stmt.order_by(Message.id.desc()).limit(PAGE))).all()))
        latest = await session.get(Conversation, max(ids))
        assert latest is not None
        return VisitorView(messages, latest.status, await self._survey_kind(session, latest),
                           await self._queue_position(session, channel, latest))

    async def _queue_position(self, session: AsyncSession, channel: Channel, conversation: Conversation) -> int | None:
        """The visitor's place in their campaign's queue, in the order agents take it (queued_at, id)."""
        notice, position = queue_notice(channel)
        if conversation.status != ConversationStatus.queued or not notice:
            return None
        if not position or conversation.queued_at is None:
            return 0
        ahead = await session.scalar(select(func.count()).select_from(Conversation).where(
            Conversation.campaign_id == conversation.campaign_id, Conversation.status == ConversationStatus.queued,
            or_(Conversation.queued_at < conversation.queued_at,
                and_(Conversation.queued_at == conversation.queued_at, Conversation.id < conversation.id))))
        return int(ahead or 0) + 1

    async def _survey_kind(self, session: AsyncSession, conversation: Conversation) -> str | None:
        if conversation.status != ConversationStatus.survey or conversation.survey_position is None:
            return None
        campaign = await session.get(Campaign, conversation.campaign_id)
        bot = await survey.survey_bot_of(session, campaign) if campaign is not None else None
        if bot is None or conversation.survey_position >= len(bot.questions):
            return None
        return str(bot.questions[conversation.survey_position].kind)

    async def mark_read(self, ctx: JobContext, channel: Channel, visitor_id: str, up_to: int) -> int:
        """The visitor saw our messages up to ``up_to``: they become ``read``."""
        async with ctx.database.session() as session:
            ids = await self.conversation_ids(session, channel, visitor_id)
            unread = (await session.scalars(select(Message.id).where(
                Message.conversation_id.in_(ids), Message.direction == Direction.outbound, Message.id <= up_to,
                Message.status.in_([DeliveryStatus.sent, DeliveryStatus.delivered]))
                .order_by(Message.id.desc()).limit(PAGE))).all() if ids else []
            for message_id in unread:
                await apply_status(session, ctx, channel, StatusUpdate(status=DeliveryStatus.read,
                                                                       message_id=message_id, at=ctx.clock.now()))
        return len(unread)


webchat_service = WebchatService()
