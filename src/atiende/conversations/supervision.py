"""What the supervisor console shows: per campaign, who waits (and since when), which agents work
it (presence, time in that state, load and capacity), what is in progress, and whether the
campaign is inside its business hours — plus a search over every conversation of the client.

Reads only; every action (presence, transfer, mass transfer, close) goes through the engine's
services. Only supervisors and admins of the client may read it.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from atiende.auth.caller import Caller
from atiende.auth.models import Membership, Presence, Role
from atiende.campaigns.models import Campaign
from atiende.catalog.models import Schedule
from atiende.catalog.schedule_snapshots import open_now
from atiende.channels.models import Channel
from atiende.conversations.inbox import waiting_since
from atiende.conversations.models import Assignment, CampaignAgent, Contact, Conversation, ConversationStatus
from atiende.conversations.staffing import staffing_service
from atiende.conversations.workview import member_names
from atiende.kit.pagination import MAX_LIMIT, PageParams
from atiende.kit.search import contains

SUPERVISING = (Role.admin, Role.supervisor)
MAX_SEARCH = 50


@dataclass
class AgentRow:
    membership_id: int
    name: str
    presence: Presence
    presence_since: datetime
    load: int
    capacity: int
    active: bool


@dataclass
class WaitingRow:
    conversation_id: int
    contact_name: str
    channel_kind: str
    queued_at: datetime


@dataclass
class ActiveRow:
    conversation_id: int
    contact_name: str
    channel_kind: str
    agent_id: int | None
    agent_name: str
    assigned_at: datetime | None
    waiting_since: datetime | None


@dataclass
class CampaignSummary:
    campaign_id: int
    name: str
    open_now: bool
    queued: int
    in_progress: int
    online_agents: int
    agents: int
    with_bot: int = 0  # conversations the attention bot holds


@dataclass
class CampaignBoard:
    summary: CampaignSummary
    schedule_name: str
    agents: list[AgentRow]
    waiting: list[WaitingRow]
    in_progress: list[ActiveRow]
    with_bot: list[WaitingRow] = field(default_factory=list)  # since = opened_at


@dataclass
class FoundConversation:
    conversation_id: int
    campaign_name: str
    contact_name: str
    status: ConversationStatus
    opened_at: datetime
    agent_name: str
    timezone: str


class SupervisionService:
    async def summaries(self, session: AsyncSession, caller: Caller, client_id: int,
                        now: datetime) -> list[CampaignSummary]:
        """Every active campaign of the client with its live counts, by name."""
        caller.require(client_id, *SUPERVISING)
        campaigns = list((await session.scalars(select(Campaign).where(
            Campaign.client_id == client_id, Campaign.active.is_(True)).order_by(
            func.lower(Campaign.name), Campaign.id))).all())
        ids = [c.id for c in campaigns]
        if not ids:
            return []
        counts = dict(((cid, status), int(n)) for cid, status, n in (await session.execute(
            select(Conversation.campaign_id, Conversation.status, func.count()).where(
                Conversation.campaign_id.in_(ids), Conversation.status.in_(
                    [ConversationStatus.queued, ConversationStatus.assigned, ConversationStatus.bot]))
            .group_by(Conversation.campaign_id, Conversation.status))).all())
        staff = {(cid, presence): int(n) for cid, presence, n in (await session.execute(
            select(CampaignAgent.campaign_id, Membership.presence, func.count()).join(
                Membership, Membership.id == CampaignAgent.membership_id).where(
                CampaignAgent.campaign_id.in_(ids), Membership.active.is_(True))
            .group_by(CampaignAgent.campaign_id, Membership.presence))).all()}
        opened = {c.schedule_id: await open_now(session, c.schedule_id, now) for c in campaigns}
        return [CampaignSummary(
            campaign_id=c.id, name=c.name, open_now=opened[c.schedule_id],
            queued=counts.get((c.id, ConversationStatus.queued), 0),
            in_progress=counts.get((c.id, ConversationStatus.assigned), 0),
            with_bot=counts.get((c.id, ConversationStatus.bot), 0),
            online_agents=staff.get((c.id, Presence.online), 0),
            agents=sum(n for (cid, _p), n in staff.items() if cid == c.id)) for c in campaigns]

    async def board(self, session: AsyncSession, caller: Caller, campaign_id: int, now: datetime) -> CampaignBoard:
        campaign = await staffing_service.get_campaign(session, caller, campaign_id)
        caller.require(campaign.client_id, *SUPERVISING)
        loads = await staffing_service.agents(session, caller, campaign)
        agents = [AgentRow(membership_id=row.membership.id,
                           name=row.membership.user.full_name or row.membership.user.email,
                           presence=row.membership.presence, presence_since=row.membership.presence_changed_at,
                           load=row.load, capacity=row.capacity, active=row.membership.active) for row in loads]
        queued, _total = await staffing_service.queue(session, caller, campaign, PageParams(page=1, limit=MAX_LIMIT))
        active = list((await session.scalars(select(Conversation).where(
            Conversation.campaign_id == campaign.id, Conversation.status == ConversationStatus.assigned)
            .order_by(Conversation.assigned_at, Conversation.id).limit(500))).unique().all())
        with_bot = list((await session.scalars(select(Conversation).where(
            Conversation.campaign_id == campaign.id, Conversation.status == ConversationStatus.bot)
            .order_by(Conversation.opened_at, Conversation.id).limit(500))).unique().all())
        kinds = await _channel_kinds(session, {c.channel_id for c in [*queued, *active, *with_bot]})
        waits = await waiting_since(session, active)
        names = {a.membership_id: a.name for a in agents}
        missing = {c.assigned_membership_id for c in active if c.assigned_membership_id not in names}
        names.update(await member_names(session, {m for m in missing if m is not None}))
        schedule = await session.get(Schedule, campaign.schedule_id)
        summary = CampaignSummary(
            campaign_id=campaign.id, name=campaign.name, open_now=await open_now(session, campaign.schedule_id, now),
            queued=_total,
            in_progress=len(active), online_agents=sum(1 for a in agents if a.active and a.presence == Presence.online),
            agents=len(agents), with_bot=len(with_bot))
        return CampaignBoard(
            summary=summary, schedule_name=schedule.name if schedule else "", agents=agents,
            waiting=[WaitingRow(c.id, c.contact.name, kinds.get(c.channel_id, ""), c.queued_at or c.opened_at)
                     for c in queued],
            in_progress=[ActiveRow(c.id, c.contact.name, kinds.get(c.channel_id, ""), c.assigned_membership_id,
                                   names.get(c.assigned_membership_id or 0, ""), c.assigned_at, waits.get(c.id))
                         for c in active],
            with_bot=[WaitingRow(c.id, c.contact.name, kinds.get(c.channel_id, ""), c.opened_at) for c in with_bot])

    async def search(self, session: AsyncSession, caller: Caller, client_id: int, query: str,
                     *, status: ConversationStatus | None = None) -> list[FoundConversation]:
        """The client's conversations whose contact name or number contains ``query`` (or whose id
        it is), newest first."""
        caller.require(client_id, *SUPERVISING)
        stmt = select(Conversation).join(Contact, Contact.id == Conversation.contact_id).where(
            Conversation.client_id == client_id)
        text = query.strip()[:120]
        if text:
            matches = [contains(Contact.name, text), contains(Contact.phone, text)]
            if text.isdigit() and len(text) < 10:
                matches.append(Conversation.id == int(text))
            stmt = stmt.where(or_(*matches))
        if status is not None:
            stmt = stmt.where(Conversation.status == status)
        rows = list((await session.scalars(stmt.order_by(Conversation.id.desc()).limit(MAX_SEARCH))).unique().all())
        campaigns = {cid: (name, zone) for cid, name, zone in (await session.execute(
            select(Campaign.id, Campaign.name, Schedule.timezone).join(Schedule, Schedule.id == Campaign.schedule_id)
            .where(Campaign.id.in_({c.campaign_id for c in rows})))).all()} if rows else {}
        served = await last_agents(session, rows)
        names = await member_names(session, set(served.values()))
        return [FoundConversation(c.id, campaigns.get(c.campaign_id, ("", "UTC"))[0], c.contact.name, c.status,
                                  c.opened_at, names.get(served.get(c.id, 0), ""),
                                  campaigns.get(c.campaign_id, ("", "UTC"))[1]) for c in rows]

    async def client_agents(self, session: AsyncSession, caller: Caller, client_id: int) -> list[AgentRow]:
        """Every active license of the client with its presence (for changing anyone's presence)."""
        caller.require(client_id, *SUPERVISING)
        rows = (await session.scalars(select(Membership).where(
            Membership.client_id == client_id, Membership.active.is_(True)).order_by(Membership.id))).all()
        return [AgentRow(m.id, m.user.full_name or m.user.email, m.presence, m.presence_changed_at, 0, 0, m.active)
                for m in rows]


async def last_agents(session: AsyncSession, conversations: Sequence[Conversation]) -> dict[int, int]:
    """Conversation id → the agent serving it now, or the last one who served it (a finished
    conversation keeps who attended it)."""
    served = {c.id: c.assigned_membership_id for c in conversations if c.assigned_membership_id}
    others = [c.id for c in conversations if c.id not in served]
    if others:
        rows = await session.execute(select(Assignment.conversation_id, Assignment.membership_id)
                                     .where(Assignment.conversation_id.in_(others))
                                     .order_by(Assignment.started_at, Assignment.id))
        served.update({cid: mid for cid, mid in rows.all()})  # the latest stretch wins
    return served



async def _channel_kinds(session: AsyncSession, channel_ids: set[int]) -> dict[int, str]:
    if not channel_ids:
        return {}
    rows = await session.execute(select(Channel.id, Channel.kind).where(Channel.id.in_(channel_ids)))
    return {cid: kind.value for cid, kind in rows.all()}


supervision_service = SupervisionService()
