"""Routing many inbound messages in one transaction, with a fixed number of statements per batch.

Routing one message at a time costs about fifteen statements and, on the ORM, as many
milliseconds of Python (benchmarks/README.md). The router hands its whole batch here instead:
- the contacts are looked up for the whole batch at once (by the channel's id for them, then by
  phone), the campaigns' open conversations of those contacts too (locked ``FOR UPDATE``);
- new contacts, conversations and messages are only added to the session, and one flush inserts
  each table's rows in one multi-row statement;
- then, per message and in arrival order, the same events and reactions as ``routing.receive``,
  and one delete for the inactivity timers of the conversations an agent holds;
- assignment happens in the same transaction: the batch takes its campaigns' dispatch locks before
  any conversation row (the engine's lock order), so what it queued is assigned by the same
  commit. A pass after commit would cost a second transaction and a second trip through the bus
  before the agent hears of it (benchmarks/README.md, latency). When nothing older waits in the
  campaign (a staffed campaign's usual case) the batch's new conversations get their agents
  before the insert (``dispatch.seat_arrivals``: the pass's own seats and choice), and are
  inserted assigned; otherwise the campaign's dispatch pass runs after the insert, oldest first
  (``dispatch.dispatch_registered``).

A message whose conversation is in a state with its own rules (a survey waiting for answers) or
that arrives while its campaign's schedule is closed takes the one-at-a-time path,
``routing.receive``, in order: the batch routed so far is flushed first, and what that path made
(a new contact, a conversation it closed) is what later messages of the batch see.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from atiende.bots import flow as bot_flow
from atiende.bots.models import AttentionBot
from atiende.campaigns.models import Campaign, CampaignChannel
from atiende.catalog.models import FunnelStage
from atiende.catalog.schedule_snapshots import open_now
from atiende.channels.models import Channel
from atiende.channels.protocol import InboundMessage
from atiende.conversations import dispatch
from atiende.conversations.ending import inactivity_key
from atiende.contacts import keywords as consent_keywords
from atiende.conversations.events import ConversationQueued, MessageReceived, assignee, emit
from atiende.conversations.models import (
    INSERT_MESSAGE_ROWS, Contact, ContactIdentity, Conversation, ConversationStatus, Direction, DispatchState,
    SenderKind,
)
from atiende.conversations.routing import (
    learn, load_active_campaign, new_contact, new_conversation, receive, run_inbound_hooks,
)
from atiende.jobs import JobContext, JobStatus, ScheduledJob
from atiende.kit.snapshots import Snapshots

_SIMPLE = (ConversationStatus.queued, ConversationStatus.assigned)

# The prefetch's statements, built once (building one costs more Python than running it).
_BY_IDENTITY = (select(ContactIdentity.channel_id, ContactIdentity.external_id, Contact)
                .join(Contact, Contact.id == ContactIdentity.contact_id)
                .where(tuple_(ContactIdentity.channel_id, ContactIdentity.external_id)
                       .in_(bindparam("keys", expanding=True))))
_BY_PHONE = (select(Contact).where(tuple_(Contact.client_id, Contact.phone).in_(bindparam("phones", expanding=True)))
             .order_by(Contact.id))
_OPEN = (select(Conversation).where(Conversation.campaign_id.in_(bindparam("campaign_ids", expanding=True)),
                                    Conversation.contact_id.in_(bindparam("contact_ids", expanding=True)),
                                    Conversation.status != ConversationStatus.closed)
         .order_by(Conversation.id).with_for_update(of=Conversation).execution_options(populate_existing=True))


@dataclass
class _Pending:
    index: int
    campaign: Campaign
    conversation: Conversation
    message: dict[str, Any]  # the message's row, but for its conversation's id
    created: bool
    status: ConversationStatus  # the conversation's, before this batch seated it
    concerned: tuple[int, ...]  # whom the message concerns, before this batch seated it
    turn: bot_flow.FirstTurn | None = None  # a new conversation the campaign's bot takes


# The campaign each channel feeds, kept a moment per process like the channels (``kit.snapshots``):
# detached copies, read for their columns only; a change made here is seen at once, elsewhere
# within a second. The one-at-a-time path loads its own.
_campaigns: Snapshots[Campaign] = Snapshots(Campaign, CampaignChannel)


async def _active_campaign(session: AsyncSession, channel_id: int) -> Campaign:
    return await _campaigns.get_or_load(channel_id, session, lambda: load_active_campaign(session, channel_id))


class _Batch:
    def __init__(self, session: AsyncSession, ctx: JobContext, now: datetime) -> None:
        self.session = session
        self.ctx = ctx
        self.now = now
        self.by_identity: dict[tuple[int, str], Contact] = {}  # (channel id, external id) → contact
        self.by_phone: dict[tuple[int, str], Contact] = {}  # (client id, E.164) → oldest contact
        self.open: dict[tuple[int, int], Conversation] = {}  # (campaign id, id(contact)) → open conversation
        self.campaigns: dict[int, Campaign] = {}  # channel id → active campaign
        self.locks: dict[int, DispatchState] = {}  # campaign id → its dispatch row, locked
        self.schedule_open: dict[int, bool] = {}  # campaign id → open now
        self.first_stage: dict[int, int | None] = {}  # campaign id → first funnel stage
        self.pending: list[_Pending] = []
        self.results: dict[int, tuple[int, int]] = {}  # index → (message id, conversation id)
        self.seated: dict[int, dispatch.Arrivals] = {}  # campaign id → its new conversations seated
        self.bots: dict[int, AttentionBot | None] = {}  # campaign id → the bot taking new conversations now

    async def prefetch(self, items: Sequence[tuple[Channel, InboundMessage]]) -> None:
        session = self.session
        for channel in {channel.id: channel for channel, _ in items}.values():
            campaign = self.campaigns[channel.id] = await _active_campaign(session, channel.id)
            if campaign.id not in self.schedule_open:
                self.schedule_open[campaign.id] = await open_now(session, campaign.schedule_id, self.now)
                self.first_stage[campaign.id] = None if campaign.funnel_id is None else await session.scalar(
                    select(FunnelStage.id).where(FunnelStage.funnel_id == campaign.funnel_id)
                    .order_by(FunnelStage.position, FunnelStage.id).limit(1))
        self.locks = await dispatch.lock_campaigns(session, [campaign.id for campaign in self.campaigns.values()])
        keys = {(channel.id, inbound.contact.external_id) for channel, inbound in items}
        rows = await session.execute(_BY_IDENTITY, {"keys": sorted(keys)})
        for channel_id, external_id, contact in rows.all():
            self.by_identity[(channel_id, external_id)] = contact
        phones = {(channel.client_id, inbound.contact.phone) for channel, inbound in items
                  if inbound.contact.phone and (channel.id, inbound.contact.external_id) not in self.by_identity}
        if phones:
            for contact in (await session.scalars(_BY_PHONE, {"phones": sorted(phones)})).all():
                assert contact.phone is not None
                self.by_phone.setdefault((contact.client_id, contact.phone), contact)
        contacts = {contact.id: contact for contact in [*self.by_identity.values(), *self.by_phone.values()]}
        campaign_ids = {campaign.id for campaign in self.campaigns.values()}
        if contacts:
            for conversation in (await session.scalars(_OPEN, {"campaign_ids": sorted(campaign_ids),
                                                               "contact_ids": sorted(contacts)})).unique().all():
                self.open[(conversation.campaign_id, id(contacts[conversation.contact_id]))] = conversation

    def contact_for(self, channel: Channel, inbound: InboundMessage) -> Contact:
        """As ``routing.find_or_create_contact``, from the prefetched maps."""
        who = inbound.contact
        contact = self.by_identity.get((channel.id, who.external_id))
        if contact is None and who.phone:
            contact = self.by_phone.get((channel.client_id, who.phone))
            if contact is not None:
                identity = ContactIdentity(channel_id=channel.id, external_id=who.external_id)
                if contact.id is None:  # new in this batch: its identities are in memory
                    contact.identities.append(identity)
                else:
                    identity.contact_id = contact.id
                    self.session.add(identity)
        if contact is None:
            contact = new_contact(channel, who.external_id, who.name, who.phone, self.now)
            self.session.add(contact)
        else:
            learn(contact, who.name, who.phone)
        self.remember(channel, who.external_id, contact)
        return contact

    def remember(self, channel: Channel, external_id: str, contact: Contact) -> None:
        self.by_identity[(channel.id, external_id)] = contact
        if contact.phone:
            self.by_phone.setdefault((channel.client_id, contact.phone), contact)

    async def add(self, index: int, channel: Channel, inbound: InboundMessage) -> None:
        campaign = self.campaigns[channel.id]
        contact = self.contact_for(channel, inbound)
        conversation = self.open.get((campaign.id, id(contact)))
        # A state with its own rules, or a consent keyword, takes the one-at-a-time path; so does
        # a new conversation whose bot hands off or closes on its first message.
        special = conversation is not None and conversation.status not in _SIMPLE
        special = special or await consent_keywords.keyword_in(self.session, channel.client_id, inbound.text) is not None
        turn = None
        if conversation is None and not special and campaign.attention_bot_id is not None:
            if campaign.id not in self.bots:
                self.bots[campaign.id] = await bot_flow.taking(self.session, campaign, self.now)
            bot = self.bots[campaign.id]
            turn = None if bot is None else await bot_flow.first_turn(self.session, campaign, bot, inbound.text)
            special = turn is not None and not turn.plain
        waiting = conversation is None or conversation.status == ConversationStatus.queued
        if special or (turn is None and waiting and not self.schedule_open[campaign.id]):
            await self.one_at_a_time(index, channel, campaign, inbound)
            return
        created = conversation is None
        if conversation is None:
            conversation = new_conversation(campaign, channel, contact, self.now, self.first_stage[campaign.id])
            if contact.id is not None:
                conversation.contact_id = contact.id  # what assignment's rules look the contact up by
            if turn is not None:  # inserted as the bot's, in the state its first turn leaves
                bot_flow.start(conversation, turn.reply, self.now)
                conversation.last_outbound_at = self.now
            self.session.add(conversation)
            self.open[(campaign.id, id(contact))] = conversation
        conversation.last_inbound_at = self.now
        message = {"channel_id": channel.id, "direction": Direction.inbound, "sender": SenderKind.contact,
                   "text": inbound.text, "attachments": [a.model_dump(mode="json") for a in inbound.attachments],
                   "external_id": inbound.external_id, "created_at": self.now, "provider_at": inbound.sent_at}
        self.pending.append(_Pending(index, campaign, conversation, message, created,
                                     ConversationStatus.queued if turn is not None else conversation.status,
                                     assignee(conversation), turn))

    async def one_at_a_time(self, index: int, channel: Channel, campaign: Campaign, inbound: InboundMessage) -> None:
        await self.settle()
        received = await receive(self.session, self.ctx, channel, inbound, known_new=True)
        contact = received.conversation.contact
        self.remember(channel, inbound.contact.external_id, contact)
        if received.conversation.is_open:
            self.open[(campaign.id, id(contact))] = received.conversation
        else:  # closed at once (out of hours, action Cerrar) or by the survey's last answer
            self.open.pop((campaign.id, id(contact)), None)
        self.results[index] = (received.message.id, received.conversation.id)

    async def settle(self) -> None:
        """Insert what was added so far, then announce and react, message by message."""
        if not self.pending:
            return
        await self.session.flush()  # contacts and conversations: the messages need their ids
        message_ids = (await self.session.execute(INSERT_MESSAGE_ROWS, [
            {**item.message, "conversation_id": item.conversation.id} for item in self.pending])).scalars().all()
        timers: list[str] = []
        for item, message_id in zip(self.pending, message_ids, strict=True):
            conversation, message = item.conversation, item.message
            emit(self.session, self.ctx.bus, MessageReceived(
                client_id=conversation.client_id, campaign_id=item.campaign.id, conversation_id=conversation.id,
                status=item.status, membership_ids=item.concerned, message_id=message_id,
                text=message["text"], at=self.now))
            if item.created:
                emit(self.session, self.ctx.bus, ConversationQueued(
                    client_id=conversation.client_id, campaign_id=item.campaign.id, conversation_id=conversation.id,
                    status=item.status))
            if item.status == ConversationStatus.assigned:
                timers.append(inactivity_key(conversation.id))  # the contact is waiting for us now
            elif item.turn is None and item.campaign.id not in self.seated:
                dispatch.dispatch_after_commit(self.session, self.ctx, item.campaign.id)
            self.results[item.index] = (message_id, conversation.id)
        if timers:
            await self.session.execute(delete(ScheduledJob).where(ScheduledJob.key.in_(timers),
                                                                  ScheduledJob.status == JobStatus.pending))
        started = [(item.campaign, item.conversation, item.turn, item.message["text"])
                   for item in self.pending if item.turn is not None]
        if started:
            await bot_flow.start_many(self.session, self.ctx, started, self.now)
        self.pending = []

    async def seat_new(self) -> None:
        """Have dispatch seat the batch's new conversations before they are inserted
        (``dispatch.seat_arrivals``); a campaign it declines gets its pass after the insert."""
        created: dict[int, list[_Pending]] = {}
        for item in self.pending:
            if item.created and item.turn is None:
                created.setdefault(item.campaign.id, []).append(item)
        for campaign_id, items in created.items():
            seated = await dispatch.seat_arrivals(self.session, items[0].campaign, self.locks[campaign_id],
                                                  [item.conversation for item in items], self.now)
            if seated is not None:
                self.seated[campaign_id] = seated

    async def record_seated(self) -> None:
        for seated in self.seated.values():
            await dispatch.record_arrivals(self.session, self.ctx.bus, seated, self.now)

    async def assign(self) -> None:
        """The dispatch passes the batch asked for, in the batch's transaction (see the module's note)."""
        by_id = {campaign.id: campaign for campaign in self.campaigns.values()}
        await dispatch.dispatch_registered(self.session, self.ctx, by_id, self.locks)


async def route_many(session: AsyncSession, ctx: JobContext,
                     items: Sequence[tuple[Channel, InboundMessage]]) -> list[tuple[int, int]]:
    """Store ``items`` (messages not stored before) in order; what each became (its message's and
    conversation's ids), in the same order."""
    batch = _Batch(session, ctx, ctx.clock.now())
    await batch.prefetch(items)
    for index, (channel, inbound) in enumerate(items):
        await batch.add(index, channel, inbound)
    await batch.seat_new()
    await batch.settle()
    await batch.record_seated()
    await batch.assign()
    results = [batch.results[index] for index in range(len(items))]
    await run_inbound_hooks(session, ctx, results)
    return results
