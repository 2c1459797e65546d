"""Routing one inbound message: the channel's active campaign → the contact → the conversation.

The router (``intake.InboundRouter``) routes deliveries in batches (``routing_batch``); a message
whose conversation has its own rules (a survey, an attention bot), or that arrives out of hours,
comes here one at a time (``receive``), in the batch's transaction. It finds or creates the contact
(per client; phone in E.164) and the contact's open conversation in the campaign (at most one, by a
partial unique index), and applies what must happen at once (the bot's hook, survey answer,
out-of-hours action). A conversation left waiting asks ``dispatch`` for its campaign's pass
(``dispatch_after_commit``); events are published after commit.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import raiseload

from atiende.bots import flow as bot_flow
from atiende.campaigns.models import Campaign, CampaignChannel
from atiende.catalog.models import FunnelStage
from atiende.catalog.schedule_snapshots import open_now
from atiende.channels.models import Channel, ChannelKind
from atiende.channels.protocol import InboundContact, InboundMessage
from atiende.contacts import keywords as consent_keywords
from atiende.conversations import dispatch, hours, survey
from atiende.conversations.ending import inactivity_key
from atiende.conversations.events import ConversationQueued, MessageReceived, assignee, emit
from atiende.conversations.fields import normalise_phone
from atiende.conversations.models import (
    Contact, ContactIdentity, Conversation, ConversationStatus, Direction, Message, SenderKind,
)
from atiende.errors import Conflict, Invalid, NotFound
from atiende.jobs import JobContext, cancel


@dataclass
class Received:
    message: Message
    conversation: Conversation
    duplicate: bool = False


# Called in the transaction that stored new inbound messages, with their (message id, conversation
# id) pairs, by the router (``routing_batch.route_many``): how other domains react to a customer's
# message (the outbound sends tie a reply to the send it answers). Registered by function on import.
InboundHook = Callable[[AsyncSession, JobContext, list[tuple[int, int]]], Awaitable[None]]
inbound_hooks: list[InboundHook] = []


async def run_inbound_hooks(session: AsyncSession, ctx: JobContext, stored: list[tuple[int, int]]) -> None:
    if stored:
        for hook in inbound_hooks:
            await hook(session, ctx, stored)


async def active_channel(session: AsyncSession, channel_id: int, kind: ChannelKind) -> Channel:
    channel = await session.scalar(select(Channel).where(Channel.id == channel_id, Channel.kind == kind,
                                                         Channel.active))
    if channel is None:
        raise NotFound("Channel not found or inactive", field="channel_id")
    return channel


_ACTIVE_CAMPAIGN = (select(Campaign).join(CampaignChannel, CampaignChannel.campaign_id == Campaign.id)
                    .where(CampaignChannel.channel_id == bindparam("channel_id"), Campaign.active)
                    .options(raiseload(Campaign.channel_links), raiseload(Campaign.field_links)).limit(1))


async def active_campaign(session: AsyncSession, channel: Channel) -> Campaign:
    """The campaign the channel feeds; looked up once per transaction (a batch of deliveries
    shares it)."""
    cache: dict[int, Campaign] = session.info.setdefault("active_campaigns", {})
    if channel.id in cache:
        return cache[channel.id]
    campaign = cache[channel.id] = await load_active_campaign(session, channel.id)
    return campaign


async def load_active_campaign(session: AsyncSession, channel_id: int) -> Campaign:
    campaign = await session.scalar(_ACTIVE_CAMPAIGN, {"channel_id": channel_id})
    if campaign is None:
        raise Conflict("This channel serves no active campaign; link it to one", field="channel_id")
    return campaign


async def receive(session: AsyncSession, ctx: JobContext, channel: Channel, inbound: InboundMessage, *,
                  known_new: bool = False) -> Received:
    """Store one inbound message. ``known_new``: the caller already knows it is not stored (an
    accepted delivery, unique per channel), so the duplicate lookup is skipped; the messages'
    unique constraint still guards it."""
    if not known_new:
        existing = await session.scalar(select(Message).where(
            Message.channel_id == channel.id, Message.direction == Direction.inbound,
            Message.external_id == inbound.external_id))
        if existing is not None:
            conversation = await session.get(Conversation, existing.conversation_id)
            assert conversation is not None
            return Received(existing, conversation, duplicate=True)
    now = ctx.clock.now()
    campaign = await active_campaign(session, channel)
    contact = await find_or_create_contact(session, channel, inbound.contact, now)
    conversation = await session.scalar(
        select(Conversation).where(Conversation.campaign_id == campaign.id, Conversation.contact_id == contact.id,
                                   Conversation.status != ConversationStatus.closed)
        .with_for_update(of=Conversation).execution_options(populate_existing=True))
    created = conversation is None
    if conversation is None:
        conversation = await open_conversation(session, campaign, channel, contact, now)
    message = Message(conversation_id=conversation.id, channel_id=channel.id, direction=Direction.inbound,
                      sender=SenderKind.contact, text=inbound.text,
                      attachments=[a.model_dump(mode="json") for a in inbound.attachments],
                      external_id=inbound.external_id, created_at=now, provider_at=inbound.sent_at)
    session.add(message)
    await session.flush()
    conversation.last_inbound_at = now
    emit(session, ctx.bus, MessageReceived(
        client_id=conversation.client_id, campaign_id=campaign.id, conversation_id=conversation.id,
        status=conversation.status, membership_ids=assignee(conversation), message_id=message.id,
        text=message.text, at=now))
    if created:
        emit(session, ctx.bus, ConversationQueued(client_id=conversation.client_id, campaign_id=campaign.id,
                                                  conversation_id=conversation.id, status=conversation.status))
    await consent_keywords.on_customer_message(session, ctx, channel.kind, conversation, message, now)
    await _react(session, ctx, campaign, conversation, message, now, created=created)
    await session.flush()
    return Received(message, conversation)


async def _react(session: AsyncSession, ctx: JobContext, campaign: Campaign, conversation: Conversation,
                 message: Message, now: datetime, *, created: bool) -> None:
    if await bot_flow.on_customer_message(session, ctx, campaign, conversation, message, now, created=created):
        return  # the campaign's attention bot holds (or just closed) the conversation
    if conversation.status == ConversationStatus.assigned:
        await cancel(session, inactivity_key(conversation.id))  # the contact is waiting for us now
    elif conversation.status == ConversationStatus.survey:
        await survey.handle_answer(session, ctx, campaign, conversation, message, now)
    elif conversation.status == ConversationStatus.queued:
        if not await open_now(session, campaign.schedule_id, now):
            await hours.out_of_hours(session, ctx, campaign, conversation, now)
        if conversation.status == ConversationStatus.queued:
            dispatch.dispatch_after_commit(session, ctx, campaign.id)


async def open_conversation(session: AsyncSession, campaign: Campaign, channel: Channel, contact: Contact,
                            now: datetime) -> Conversation:
    first_stage = None
    if campaign.funnel_id is not None:
        first_stage = await session.scalar(select(FunnelStage.id).where(FunnelStage.funnel_id == campaign.funnel_id)
                                           .order_by(FunnelStage.position, FunnelStage.id).limit(1))
    conversation = new_conversation(campaign, channel, contact, now, first_stage)
    session.add(conversation)
    await session.flush()
    return conversation


def new_conversation(campaign: Campaign, channel: Channel, contact: Contact, now: datetime,
                     first_stage: int | None) -> Conversation:
    """A conversation just opened by the contact: waiting, at the funnel's first stage."""
    return Conversation(client_id=campaign.client_id, campaign_id=campaign.id, channel_id=channel.id,
                        contact=contact, status=ConversationStatus.queued, opened_at=now, queued_at=now,
                        last_inbound_at=now, funnel_stage_id=first_stage, field_values={}, agent_replied=False,
                        out_of_hours_notified=False, survey_reasked=False)


async def find_or_create_contact(session: AsyncSession, channel: Channel, who: InboundContact,
                                 now: datetime) -> Contact:
    """The client's contact known to ``channel`` by ``who.external_id``; else the one with that
    phone (a person writing on a second channel); else a new one."""
    phone = None
    if who.phone:
        try:
            phone = normalise_phone(who.phone)
        except ValueError as exc:
            raise Invalid(f"Contact phone {exc}", field="contact.phone") from exc
    contact = await session.scalar(
        select(Contact).join(ContactIdentity, ContactIdentity.contact_id == Contact.id)
        .where(ContactIdentity.channel_id == channel.id, ContactIdentity.external_id == who.external_id))
    if contact is None and phone is not None:
        contact = await session.scalar(select(Contact).where(Contact.client_id == channel.client_id,
                                                             Contact.phone == phone).order_by(Contact.id).limit(1))
        if contact is not None:
            session.add(ContactIdentity(contact_id=contact.id, channel_id=channel.id, external_id=who.external_id))
    if contact is None:
        contact = new_contact(channel, who.external_id, who.name, phone, now)
        session.add(contact)
        await session.flush()
        return contact
    learn(contact, who.name, phone)
    return contact


def new_contact(channel: Channel, external_id: str, name: str | None, phone: str | None, now: datetime) -> Contact:
    """A person the client never heard from, known to ``channel`` as ``external_id``."""
    return Contact(client_id=channel.client_id, name=name or "", phone=phone, created_at=now,
                   identities=[ContactIdentity(channel_id=channel.id, external_id=external_id)])


def learn(contact: Contact, name: str | None, phone: str | None) -> None:
    """What a known contact's message teaches: the name they now give, a phone we lacked."""
    if name and name != contact.name:
        contact.name = name
    if phone and not contact.phone:
        contact.phone = phone
