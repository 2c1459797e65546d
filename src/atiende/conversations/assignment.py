"""Who gets a waiting conversation: the seats, the choice, the stretches.

*When* lives in ``dispatch`` (the lock, the pass and every trigger); this module holds what the
pass asks: the campaign's seat table (``seats``), the rules that choose an agent (``choose``),
the seat taken (``take_seat``) and the stretches recorded (``record_stretches``), ended
(``end_assignment``) or sent back to the queue (``requeue``). Nothing here takes the campaign's
dispatch lock: every caller holds it.

Rules (tab *Método de asignación*):
- eligible = attached to the campaign, license active, presence online, load below capacity
  (the attachment's capacity, else the client's default); nothing is assigned while the
  campaign's schedule is closed (``dispatch`` checks);
- a contact's exclusive agent (attached to the campaign) takes their conversations whatever the
  method. If that agent is not eligible the conversation waits for them — unless they are offline
  (or their license is off) and the campaign has *Reasignar…* on, then it goes to someone else;
- **Inteligente**: the agent who last served this contact in this campaign if eligible, else the
  least loaded, ties broken by the longest time since their last assignment (then lowest id);
- **Round Robin**: the next eligible agent (by membership id) after the last one served, wrapping
  around; the position is stored in ``DispatchState`` so it survives restarts;
- waiting conversations are served in arrival order; one pinned to a busy exclusive agent does not
  hold back those behind it.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, bindparam, exists, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from atiende.auth.models import Membership, Presence
from atiende.bus import EventBus
from atiende.campaigns.models import AssignmentMethod, Campaign
from atiende.conversations.events import ConversationAssigned, emit
from atiende.conversations.models import (
    Assignment, CampaignAgent, Conversation, ConversationStatus, DispatchState, EndReason,
)
from atiende.tenancy.models import Client

NEVER = datetime.min.replace(tzinfo=UTC)


@dataclass
class Seat:
    """An agent attached to the campaign, as the dispatcher sees them during one pass."""

    membership_id: int
    capacity: int
    load: int
    last_assigned_at: datetime | None
    presence: Presence
    active: bool

    @property
    def eligible(self) -> bool:
        return self.active and self.presence == Presence.online and self.load < self.capacity

    @property
    def gone(self) -> bool:
        """Offline or logged out (license off): what *Reasignar…* is about."""
        return not self.active or self.presence == Presence.offline


# The seat table's statements, built once: building a SQLAlchemy expression costs more Python
# than running it (a dispatch pass runs for every routed batch; benchmarks/README.md).
_LOADS = (select(Assignment.membership_id, func.count().label("load"))
          .where(Assignment.campaign_id == bindparam("campaign_id"), Assignment.ended_at.is_(None))
          .group_by(Assignment.membership_id).subquery())
_SEATS = (select(CampaignAgent.membership_id,
                 func.coalesce(CampaignAgent.capacity, select(Client.default_agent_capacity)
                               .where(Client.id == bindparam("client_id")).scalar_subquery(), 1),
                 func.coalesce(_LOADS.c.load, 0), CampaignAgent.last_assigned_at, Membership.presence,
                 Membership.active)
          .join(Membership, Membership.id == CampaignAgent.membership_id)
          .outerjoin(_LOADS, _LOADS.c.membership_id == CampaignAgent.membership_id)
          .where(CampaignAgent.campaign_id == bindparam("campaign_id")))
QUEUED_HERE = and_(Conversation.campaign_id == bindparam("campaign_id"),
                    Conversation.status == ConversationStatus.queued)
_LAST_AGENTS = (select(Assignment.contact_id, Assignment.membership_id)
                .where(Assignment.campaign_id == bindparam("campaign_id"),
                       Assignment.contact_id.in_(bindparam("contact_ids", expanding=True)))
                .order_by(Assignment.started_at, Assignment.id))
_INSERT_ASSIGNMENTS = insert(Assignment.__table__)
_AGENTS = CampaignAgent.__table__
# On the table, not the entity: an ORM update would first look for the rows' objects in the session.
_STAMP = (update(_AGENTS).where(_AGENTS.c.campaign_id == bindparam("b_campaign_id"),
                                _AGENTS.c.membership_id.in_(bindparam("b_membership_ids", expanding=True)))
          .values(last_assigned_at=bindparam("b_now")))
_SEATS_AND_QUEUE = _SEATS.add_columns(exists().where(QUEUED_HERE))


async def seats(session: AsyncSession, campaign: Campaign) -> dict[int, Seat]:
    """The campaign's agents with their capacity and current load, in one query."""
    rows = await session.execute(_SEATS, {"campaign_id": campaign.id, "client_id": campaign.client_id})
    return _seat_table(rows)


async def seats_and_queue(session: AsyncSession, campaign: Campaign) -> tuple[dict[int, Seat], bool | None]:
    """``seats``, and whether any conversation waits in the campaign's queue (None when the
    campaign has no agents), in one query."""
    rows = (await session.execute(_SEATS_AND_QUEUE, {"campaign_id": campaign.id,
                                                     "client_id": campaign.client_id})).all()
    return _seat_table(row[:-1] for row in rows), (bool(rows[0][-1]) if rows else None)


def _seat_table(rows: Iterable[Sequence[Any]]) -> dict[int, Seat]:
    return {m: Seat(m, capacity, load, last, presence, active) for m, capacity, load, last, presence, active in rows}


async def last_agents_of(session: AsyncSession, campaign: Campaign, contact_ids: set[int]) -> dict[int, int]:
    """contact id → the agent who last served them in the campaign (Inteligente), for a whole
    batch in one query."""
    if campaign.assignment_method == AssignmentMethod.round_robin or not contact_ids:
        return {}
    rows = await session.execute(_LAST_AGENTS, {"campaign_id": campaign.id, "contact_ids": sorted(contact_ids)})
    return dict(rows.all())  # later rows overwrite earlier ones: the last stretch wins


def choose(campaign: Campaign, state: DispatchState, conversation: Conversation, table: dict[int, Seat],
           last_agents: dict[int, int], *, avoid: int | None = None) -> Seat | None:
    """The agent who should take ``conversation`` now, or None if it must keep waiting. The
    conversation's contact was loaded with it (fresh), so its exclusive agent is current."""
    candidates = {m: s for m, s in table.items() if s.eligible and m != avoid}
    exclusive_id = conversation.contact.exclusive_agent_id
    exclusive = table.get(exclusive_id) if exclusive_id is not None else None
    if exclusive is not None and exclusive.membership_id != avoid:
        if exclusive.eligible:
            return exclusive
        if not (exclusive.gone and campaign.permissions.reassign_when_exclusive_offline):
            return None
    if not candidates:
        return None
    if campaign.assignment_method == AssignmentMethod.round_robin:
        ordered = sorted(candidates)
        last = state.last_membership_id or 0
        chosen = next((m for m in ordered if m > last), ordered[0])
        state.last_membership_id = chosen
        return candidates[chosen]
    last_agent = last_agents.get(conversation.contact_id)
    if last_agent in candidates:
        return candidates[last_agent]
    return min(candidates.values(), key=lambda s: (s.load, s.last_assigned_at or NEVER, s.membership_id))


def take_seat(conversation: Conversation, seat: Seat, now: datetime) -> None:
    """The conversation is the agent's from now on (in memory; the next flush writes it; its
    stretch is recorded by ``record_stretches``)."""
    conversation.status = ConversationStatus.assigned
    conversation.assigned_membership_id = seat.membership_id
    conversation.assigned_at = now
    conversation.agent_replied = False  # "never answered" is about the agent serving it now
    seat.load += 1
    seat.last_assigned_at = now


async def record_stretches(session: AsyncSession, bus: EventBus, campaign: Campaign,
                           conversations: Sequence[Conversation], now: datetime) -> None:
    """The stretches of the agents who took seats (one insert, no ORM objects: nothing in the
    transaction reads them back), their events, and when each agent last got one."""
    if not conversations:
        return
    await session.execute(_INSERT_ASSIGNMENTS, [
        {"conversation_id": c.id, "campaign_id": campaign.id, "contact_id": c.contact_id,
         "membership_id": c.assigned_membership_id, "started_at": now} for c in conversations])
    for conversation in conversations:
        assert conversation.assigned_membership_id is not None
        emit(session, bus, ConversationAssigned(
            client_id=conversation.client_id, campaign_id=campaign.id, conversation_id=conversation.id,
            status=conversation.status, membership_id=conversation.assigned_membership_id,
            membership_ids=(conversation.assigned_membership_id,)))
    await _stamp_last_assigned(session, campaign.id, {c.assigned_membership_id for c in conversations}, now)


async def _stamp_last_assigned(session: AsyncSession, campaign_id: int, membership_ids: set[int | None],
                               now: datetime) -> None:
    """When each agent last got a conversation here (Inteligente's tie-break)."""
    await session.execute(_STAMP, {"b_campaign_id": campaign_id, "b_now": now,
                                   "b_membership_ids": sorted(m for m in membership_ids if m is not None)})


async def end_assignment(session: AsyncSession, conversation: Conversation, now: datetime, reason: EndReason,
                         typification_id: int | None = None) -> Assignment | None:
    """Close the agent's open stretch on ``conversation`` (if any) and free their seat."""
    current = await session.scalar(select(Assignment).where(
        Assignment.conversation_id == conversation.id, Assignment.ended_at.is_(None)))
    if current is not None:
        current.ended_at = now
        current.end_reason = reason
        current.typification_id = typification_id
    conversation.assigned_membership_id = None
    await session.flush()
    return current


async def requeue(session: AsyncSession, conversation: Conversation, now: datetime, reason: EndReason,
                  typification_id: int | None = None) -> Assignment | None:
    """Back to the queue, keeping its original arrival time (so it is served first)."""
    ended = await end_assignment(session, conversation, now, reason, typification_id)
    conversation.status = ConversationStatus.queued
    conversation.assigned_at = None
    conversation.queued_at = conversation.queued_at or now
    return ended


async def held_by(session: AsyncSession, campaign_id: int, membership_id: int) -> list[Conversation]:
    """Conversations ``membership_id`` is serving in the campaign, oldest first, locked."""
    stmt = (select(Conversation)
            .where(Conversation.campaign_id == campaign_id, Conversation.assigned_membership_id == membership_id,
                   Conversation.status == ConversationStatus.assigned)
            .order_by(Conversation.assigned_at, Conversation.id).with_for_update(of=Conversation)
            .execution_options(populate_existing=True))
    return list((await session.scalars(stmt)).unique().all())
