"""Agents at work: presence, who works which campaign with what capacity, the queue, mass transfer.

Presence drives assignment: only *online* agents receive conversations. Going online (or any
change of presence) assigns waiting conversations at once; going *offline* in a campaign with
*Reasignar…* on sends the agent's conversations back to the queue, where others pick them up
(their original arrival time keeps them first in line).
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from atiende.auth.caller import Caller
from atiende.auth.models import Membership, Presence, Role
from atiende.campaigns.models import Campaign
from atiende.conversations import assignment, closing, dispatch
from atiende.conversations.events import ConversationQueued, PresenceChanged, emit
from atiende.conversations.models import CampaignAgent, Conversation, ConversationStatus, EndReason
from atiende.conversations.schemas import AgentCampaignIn, CampaignAgentIn
from atiende.errors import Invalid, NotFound
from atiende.jobs import JobContext
from atiende.kit.pagination import PageParams, paginate
from atiende.reports.presence import record_presence_span

SUPERVISING = (Role.admin, Role.supervisor)


@dataclass
class AgentLoad:
    membership: Membership
    capacity: int
    capacity_is_default: bool
    load: int
    last_assigned_at: datetime | None


class StaffingService:
    async def get_campaign(self, session: AsyncSession, caller: Caller, campaign_id: int) -> Campaign:
        campaign = await session.scalar(select(Campaign).where(Campaign.id == campaign_id,
                                                               Campaign.client_id.in_(caller.client_ids)))
        if campaign is None:
            raise NotFound("Campaign not found", field="campaign_id")
        return campaign

    # --- presence ------------------------------------------------------------------------------
    async def set_my_presence(self, session: AsyncSession, ctx: JobContext, caller: Caller, presence: Presence,
                              client_id: int | None = None) -> Membership:
        if client_id is None:
            if len(caller.client_ids) != 1:
                raise Invalid("Say in which client (client_id): you work for several", field="client_id")
            client_id = caller.client_ids[0]
        membership = caller.membership(client_id)
        await change_presence(session, ctx, membership, presence, ctx.clock.now())
        return membership

    async def set_presence_of(self, session: AsyncSession, ctx: JobContext, caller: Caller, membership_id: int,
                              presence: Presence) -> Membership:
        """A supervisor or admin sets an agent's presence (e.g. someone left without logging out)."""
        membership = await session.scalar(select(Membership).where(
            Membership.id == membership_id, Membership.client_id.in_(caller.client_ids)))
        if membership is None:
            raise NotFound("Agent not found", field="membership_id")
        caller.require(membership.client_id, *SUPERVISING)
        await change_presence(session, ctx, membership, presence, ctx.clock.now())
        return membership

    # --- campaign agents -----------------------------------------------------------------------
    async def replace_agents(self, session: AsyncSession, ctx: JobContext, caller: Caller, campaign: Campaign,
                             agents: list[CampaignAgentIn]) -> list[AgentLoad]:
        """The campaign's agents become exactly ``agents``; anyone removed hands their
        conversations back to the queue."""
        caller.require(campaign.client_id, *SUPERVISING)
        ids = [a.membership_id for a in agents]
        for index, membership_id in enumerate(ids):
            if membership_id in ids[:index]:
                raise Invalid("An agent is listed twice", field=f"agents.{index}.membership_id")
        known = set((await session.scalars(select(Membership.id).where(
            Membership.id.in_(ids), Membership.client_id == campaign.client_id))).all())
        for index, membership_id in enumerate(ids):
            if membership_id not in known:
                raise Invalid(f"User {membership_id} has no license in this client",
                              field=f"agents.{index}.membership_id")
        now = ctx.clock.now()
        await dispatch.lock_campaign(session, campaign.id)
        current = {row.membership_id: row for row in (await session.scalars(
            select(CampaignAgent).where(CampaignAgent.campaign_id == campaign.id))).all()}
        for membership_id, row in current.items():
            if membership_id not in known:
                await _hand_back(session, ctx, campaign, membership_id, now)
                await session.delete(row)
        for agent in agents:
            row = current.get(agent.membership_id)
            if row is None:
                session.add(CampaignAgent(campaign_id=campaign.id, membership_id=agent.membership_id,
                                          capacity=agent.capacity))
            else:
                row.capacity = agent.capacity
        await session.flush()
        await dispatch.assign_waiting(session, ctx.bus, campaign, now, announce=True)
        return await self.agents(session, caller, campaign)

    async def agents(self, session: AsyncSession, caller: Caller, campaign: Campaign) -> list[AgentLoad]:
        caller.require(campaign.client_id, *SUPERVISING)
        table = await assignment.seats(session, campaign)
        rows = (await session.execute(select(CampaignAgent, Membership).join(
            Membership, Membership.id == CampaignAgent.membership_id).where(CampaignAgent.campaign_id == campaign.id)
            .order_by(Membership.id))).all()
        return [AgentLoad(membership, table[row.membership_id].capacity, row.capacity is None,
                          table[row.membership_id].load, row.last_assigned_at) for row, membership in rows]

    # --- the campaigns of one agent (Usuarios y licencias) ---------------------------------------
    async def get_membership(self, session: AsyncSession, caller: Caller, membership_id: int) -> Membership:
        membership = await session.scalar(select(Membership).where(
            Membership.id == membership_id, Membership.client_id.in_(caller.client_ids)))
        if membership is None:
            raise NotFound("User not found", field="membership_id")
        caller.require(membership.client_id, *SUPERVISING)
        return membership

    async def campaigns_of(self, session: AsyncSession, caller: Caller,
                           membership: Membership) -> list[tuple[Campaign, CampaignAgent | None]]:
        """Every campaign of the agent's client, with the agent's seat in it (None: not working it)."""
        caller.require(membership.client_id, *SUPERVISING)
        rows = (await session.execute(select(Campaign, CampaignAgent).outerjoin(
            CampaignAgent, (CampaignAgent.campaign_id == Campaign.id)
            & (CampaignAgent.membership_id == membership.id))
            .where(Campaign.client_id == membership.client_id).order_by(Campaign.name, Campaign.id))).all()
        return [(campaign, seat) for campaign, seat in rows]

    async def campaign_names_by_member(self, session: AsyncSession, caller: Caller,
                                       client_id: int) -> dict[int, list[str]]:
        """For the users list: membership id → the names of the campaigns that person works."""
        caller.require(client_id, *SUPERVISING)
        rows = (await session.execute(select(CampaignAgent.membership_id, Campaign.name).join(
            Campaign, Campaign.id == CampaignAgent.campaign_id).where(Campaign.client_id == client_id)
            .order_by(Campaign.name))).all()
        names: dict[int, list[str]] = {}
        for membership_id, name in rows:
            names.setdefault(membership_id, []).append(name)
        return names

    async def replace_campaigns_of(self, session: AsyncSession, ctx: JobContext, caller: Caller,
                                   membership: Membership, campaigns: list[AgentCampaignIn]
                                   ) -> list[tuple[Campaign, CampaignAgent | None]]:
        """The agent works exactly ``campaigns`` (with those capacities); leaving a campaign hands the
        agent's conversations there back to its queue."""
        caller.require(membership.client_id, *SUPERVISING)
        wanted = {}
        for index, item in enumerate(campaigns):
            if item.campaign_id in wanted:
                raise Invalid("A campaign is listed twice", field=f"campaigns.{index}.campaign_id")
            wanted[item.campaign_id] = item.capacity
        known = set((await session.scalars(select(Campaign.id).where(
            Campaign.id.in_(list(wanted)), Campaign.client_id == membership.client_id))).all())
        for index, item in enumerate(campaigns):
            if item.campaign_id not in known:
                raise Invalid(f"Campaign {item.campaign_id} not found in this client",
                              field=f"campaigns.{index}.campaign_id")
        now = ctx.clock.now()
        for campaign, seat in sorted(await self.campaigns_of(session, caller, membership),
                                     key=lambda row: row[0].id):  # ascending ids: the lock order
            if seat is None and campaign.id not in wanted:
                continue
            await dispatch.lock_campaign(session, campaign.id)
            if campaign.id not in wanted:
                assert seat is not None
                await _hand_back(session, ctx, campaign, membership.id, now)
                await session.delete(seat)
            elif seat is None:
                session.add(CampaignAgent(campaign_id=campaign.id, membership_id=membership.id,
                                          capacity=wanted[campaign.id]))
            else:
                seat.capacity = wanted[campaign.id]
            await session.flush()
            await dispatch.assign_waiting(session, ctx.bus, campaign, now, announce=True)
        return await self.campaigns_of(session, caller, membership)

    # --- queue and mass transfer ---------------------------------------------------------------
    async def queue(self, session: AsyncSession, caller: Caller, campaign: Campaign,
                    page: PageParams) -> tuple[list[Conversation], int]:
        caller.require(campaign.client_id, *SUPERVISING)
        stmt = (select(Conversation).where(Conversation.campaign_id == campaign.id,
                                           Conversation.status == ConversationStatus.queued)
                .order_by(Conversation.queued_at, Conversation.id))
        return await paginate(session, stmt, page)

    async def mass_transfer(self, session: AsyncSession, ctx: JobContext, caller: Caller, campaign: Campaign, *,
                            from_membership_id: int, to_membership_id: int | None) -> closing.MassTransferResult:
        caller.require(campaign.client_id, *SUPERVISING)
        exists_in_client = await session.scalar(select(func.count()).where(
            Membership.id == from_membership_id, Membership.client_id == campaign.client_id))
        if not exists_in_client:
            raise Invalid(f"User {from_membership_id} has no license in this client", field="from_membership_id")
        return await closing.mass_transfer(session, ctx, campaign, from_membership_id=from_membership_id,
                                           to_membership_id=to_membership_id, now=ctx.clock.now())


async def change_presence(session: AsyncSession, ctx: JobContext, membership: Membership, presence: Presence,
                          now: datetime) -> None:
    """Set presence, then rebalance every campaign the agent works (ascending ids: lock order)."""
    record_presence_span(session, membership, now)
    membership.presence = presence
    membership.presence_changed_at = now
    await session.flush()
    emit(session, ctx.bus, PresenceChanged(client_id=membership.client_id, membership_id=membership.id,
                                           presence=presence, membership_ids=(membership.id,)))
    campaign_ids = sorted((await session.scalars(select(CampaignAgent.campaign_id).where(
        CampaignAgent.membership_id == membership.id))).all())
    for campaign_id in campaign_ids:
        campaign = await session.get(Campaign, campaign_id)
        assert campaign is not None
        await dispatch.lock_campaign(session, campaign.id)
        requeued = []
        if presence == Presence.offline and campaign.permissions.reassign_when_exclusive_offline:
            requeued = await _hand_back(session, ctx, campaign, membership.id, now)
        await dispatch.assign_waiting(session, ctx.bus, campaign, now, announce=bool(requeued))


async def _hand_back(session: AsyncSession, ctx: JobContext, campaign: Campaign, membership_id: int,
                     now: datetime) -> list[Conversation]:
    held = await assignment.held_by(session, campaign.id, membership_id)
    for conversation in held:
        await assignment.requeue(session, conversation, now, EndReason.requeued)
        emit(session, ctx.bus, ConversationQueued(
            client_id=conversation.client_id, campaign_id=campaign.id, conversation_id=conversation.id,
            status=conversation.status, membership_ids=(membership_id,)))
    return held


staffing_service = StaffingService()
