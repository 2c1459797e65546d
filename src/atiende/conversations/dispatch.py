"""When a waiting conversation gets its agent: the one dispatch path.

Every trigger comes here: a message routed (``routing``, ``routing_batch``), an agent's presence
or seats changing (``staffing``), a seat freed or handed over (``closing``: close, inactivity,
transfer, *Asignar a…*, mass transfer), the bot handing off (``bots.flow``), the schedule changing
(``hours_tick``). Each does the same steps, in this order:

1. **lock** — ``lock_campaign``: the campaign's ``DispatchState`` row, so decisions for one
   campaign never interleave across tasks, processes and hosts (``SELECT … FOR UPDATE`` on
   PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` serializes every writer). Lock order everywhere: the
   campaign's dispatch row, then conversation rows, then job rows; several campaigns by
   ascending id. Nothing is assigned while the campaign's schedule is closed (``open_now``).
2. **seats** — ``assignment.seats``: who is attached, their capacity and load;
3. **choose** — ``assignment.choose``: who takes each waiting conversation (the rules of tab
   *Método de asignación* live there: they say *who*, this module says *when*);
4. **record** — ``assignment.record_stretches``: the stretches, ``ConversationAssigned`` events
   and the agents' "last assigned" stamp;
5. **announce** — ``announce_queue``: the queue's new length.

Three ways in, one pass:
- ``assign_waiting``: the pass in the caller's transaction, when the trigger already holds the
  lock (staffing, closing, bots);
- ``dispatch_after_commit`` (routing, outbound replies): one coalesced pass per campaign once the
  transaction committed (``dispatch``), or before the commit when the batch router holds the
  locks (``dispatch_registered``); either way followed by the hours and SLA jobs' upkeep
  (``dispatch_within``);
- ``seat_arrivals`` / ``record_arrivals``: the batch router's new conversations seated before
  they are inserted, when nothing older waits (a staffed campaign's usual case) — the same
  ``choose`` on the same seats, so no dispatch pass has to read them back.

While conversations wait, the keyed job ``hours:campaign:<id>`` (``hours_tick``) wakes at each
change of the schedule: open → the pass; closed → *¿Aplicar a las conversaciones encoladas?*
applies the out-of-hours action (``hours.out_of_hours``) to the queue.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, bindparam, exists, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import raiseload

from atiende.bus import EventBus
from atiende.campaigns.models import Campaign
from atiende.catalog.schedule_snapshots import next_change_of, open_now, schedule_of
from atiende.conversations.assignment import (
    QUEUED_HERE, Seat, choose, last_agents_of, record_stretches, seats, seats_and_queue, take_seat,
)
from atiende.conversations.events import QueueChanged, emit
from atiende.conversations.hours import out_of_hours
from atiende.conversations.models import Conversation, ConversationStatus, DispatchState
from atiende.db import on_commit
from atiende.jobs import JobContext, JobStatus, ScheduledJob, enqueue, job
from atiende.reports.sla_watch import ensure_sla_job

BATCH = 100

# The pass's statements, built once: building a SQLAlchemy expression costs more Python than
# running it (a pass runs for every routed batch; benchmarks/README.md).
_LOCK = (select(DispatchState).where(DispatchState.campaign_id == bindparam("campaign_id")).with_for_update()
         .execution_options(populate_existing=True))
_WAITING_HEAD = (select(Conversation).where(QUEUED_HERE).order_by(Conversation.queued_at, Conversation.id)
                 .limit(BATCH).with_for_update(of=Conversation).execution_options(populate_existing=True))
_WAITING_AFTER = _WAITING_HEAD.where(or_(Conversation.queued_at > bindparam("queued_at"),
                                         and_(Conversation.queued_at == bindparam("queued_at"),
                                              Conversation.id > bindparam("id"))))
_QUEUED = select(func.count()).where(QUEUED_HERE)


# --- 1. lock ----------------------------------------------------------------------------------

async def lock_campaign(session: AsyncSession, campaign_id: int) -> DispatchState:
    """Take the campaign's dispatch lock for the rest of the transaction (created on first use)."""
    state = await session.scalar(_LOCK, {"campaign_id": campaign_id})
    if state is None:
        dialect = session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        await session.execute(insert(DispatchState).values(campaign_id=campaign_id).on_conflict_do_nothing())
        state = (await session.scalars(_LOCK, {"campaign_id": campaign_id})).one()
    return state


async def lock_campaigns(session: AsyncSession, campaign_ids: Sequence[int]) -> dict[int, DispatchState]:
    return {campaign_id: await lock_campaign(session, campaign_id) for campaign_id in sorted(set(campaign_ids))}


# --- 2–5. the pass: seats → choose → record → announce ---------------------------------------

async def assign_waiting(session: AsyncSession, bus: EventBus, campaign: Campaign, now: datetime, *,
                         keep_away: dict[int, int] | None = None, announce: bool = False,
                         locked: DispatchState | None = None) -> list[Conversation]:
    """Assign waiting conversations in arrival order while an eligible agent has room.

    ``keep_away`` maps conversation ids to an agent who must not get them back in this pass (a
    mass transfer back to the queue); ``locked``: the campaign's dispatch row, when the caller took
    the lock already in this transaction. Returns the conversations assigned.
    """
    state = locked if locked is not None else await lock_campaign(session, campaign.id)
    assigned: list[Conversation] = []
    waiting: int | None = None  # the queue's length, when the pass read all of it in one batch
    if await open_now(session, campaign.schedule_id, now):
        table = await seats(session, campaign)
        after: tuple[datetime, int] | None = None
        while any(s.eligible for s in table.values()):
            batch = await _waiting_batch(session, campaign.id, after)
            if not batch:
                waiting = 0 if after is None else None
                break
            last_batch = len(batch) < BATCH
            whole_queue = last_batch and after is None  # this first batch is all that waits
            # The last agents of as many contacts as there are free seats, in one query; a contact
            # further down (those before it were pinned to busy exclusive agents) is looked up alone.
            free = sum(max(0, s.capacity - s.load) for s in table.values() if s.eligible)
            last_agents = await last_agents_of(session, campaign, {c.contact_id for c in batch[:free]})
            looked_up = {c.contact_id for c in batch[:free]}
            for conversation in batch:
                after = (conversation.queued_at or now, conversation.id)
                if conversation.contact_id not in looked_up:
                    last_agents.update(await last_agents_of(session, campaign, {conversation.contact_id}))
                    looked_up.add(conversation.contact_id)
                if _seat(campaign, state, conversation, table, last_agents, now,
                         avoid=(keep_away or {}).get(conversation.id)):
                    assigned.append(conversation)
                    if not any(s.eligible for s in table.values()):
                        break
            if last_batch:  # nothing more waits
                if whole_queue:
                    waiting = len(batch) - len(assigned)
                break
        await record_stretches(session, bus, campaign, assigned, now)
        await session.flush()
    if assigned or announce:
        await announce_queue(session, bus, campaign, waiting=waiting)
    return assigned


def _seat(campaign: Campaign, state: DispatchState, conversation: Conversation, table: dict[int, Seat],
          last_agents: dict[int, int], now: datetime, *, avoid: int | None = None) -> bool:
    """Choose and take the seat for one conversation; False when it must keep waiting."""
    seat = choose(campaign, state, conversation, table, last_agents, avoid=avoid)
    if seat is None:
        return False
    take_seat(conversation, seat, now)
    return True


async def _waiting_batch(session: AsyncSession, campaign_id: int,
                         after: tuple[datetime, int] | None) -> list[Conversation]:
    if after is None:
        result = await session.scalars(_WAITING_HEAD, {"campaign_id": campaign_id})
    else:
        result = await session.scalars(_WAITING_AFTER, {"campaign_id": campaign_id, "queued_at": after[0],
                                                        "id": after[1]})
    return list(result.unique().all())


async def assign_to(session: AsyncSession, bus: EventBus, campaign: Campaign, conversation: Conversation,
                    membership_id: int, now: datetime) -> None:
    """Give ``conversation`` to one chosen agent (a transfer, *Asignar a…*): the pass's seats and
    record without its choice; the caller holds the lock and checked eligibility."""
    table = await seats(session, campaign)
    take_seat(conversation, table[membership_id], now)
    await record_stretches(session, bus, campaign, [conversation], now)
    await session.flush()


async def announce_queue(session: AsyncSession, bus: EventBus, campaign: Campaign, *,
                         waiting: int | None = None) -> None:
    """``waiting``: the queue's length, when the caller read all of it (no count needed)."""
    if waiting is None:
        waiting = await session.scalar(_QUEUED, {"campaign_id": campaign.id})
    emit(session, bus, QueueChanged(client_id=campaign.client_id, campaign_id=campaign.id, queued=int(waiting or 0)))


# --- the batch router's new conversations, seated before their insert -----------------------

@dataclass
class Arrivals:
    """What ``seat_arrivals`` seated in one campaign, for ``record_arrivals`` after the insert."""

    campaign: Campaign
    seated: list[Conversation]
    left: int  # arrivals still waiting: the queue's new length (nothing older waited)


async def seat_arrivals(session: AsyncSession, campaign: Campaign, state: DispatchState,
                        arrivals: Sequence[Conversation], now: datetime) -> Arrivals | None:
    """Choose agents for new conversations not inserted yet (arrival order, the pass's rules), so
    they are inserted assigned and no pass has to read them back, lock them and update them.
    None when older conversations wait (they go first: the campaign's pass must run instead),
    when nobody works the campaign, or when it is closed. The caller holds ``state``'s lock."""
    with session.no_autoflush:  # the queue as it was before these arrivals
        if not await open_now(session, campaign.schedule_id, now):
            return None
        table, older_wait = await seats_and_queue(session, campaign)
        if older_wait is not False:
            return None
        last_agents = await last_agents_of(session, campaign, {
            c.contact_id for c in arrivals if c.contact_id is not None})
    seated = [c for c in arrivals if _seat(campaign, state, c, table, last_agents, now)]
    return Arrivals(campaign, seated, len(arrivals) - len(seated))


async def record_arrivals(session: AsyncSession, bus: EventBus, arrivals: Arrivals, now: datetime) -> None:
    """After the insert: the stretches and events of what ``seat_arrivals`` seated, the queue's new
    length and the hours job, as the campaign's pass would have left them."""
    await record_stretches(session, bus, arrivals.campaign, arrivals.seated, now)
    await announce_queue(session, bus, arrivals.campaign, waiting=arrivals.left)
    await ensure_hours_job(session, arrivals.campaign, now)


# --- after a conversation joined the queue ----------------------------------------------------

def dispatch_after_commit(session: AsyncSession, ctx: JobContext, campaign_id: int) -> None:
    """One dispatch pass per campaign after the commit, however many messages of the transaction
    left a conversation waiting (a routed batch holds up to a hundred)."""
    registered = session.info.get("dispatch_campaigns")
    if registered is None or registered[0] is not session.info.get("after_commit"):
        campaigns: set[int] = set()

        async def assign_or_wait() -> None:
            for waiting_campaign in sorted(campaigns):
                await dispatch(ctx, waiting_campaign)

        on_commit(session, assign_or_wait)
        registered = session.info["dispatch_campaigns"] = (session.info["after_commit"], campaigns)
    registered[1].add(campaign_id)


async def dispatch_registered(session: AsyncSession, ctx: JobContext, campaigns: dict[int, Campaign],
                              locks: dict[int, DispatchState]) -> None:
    """Run now, in this transaction, the passes ``dispatch_after_commit`` registered in it (oldest
    campaign id first), so none is left for after the commit: the batch router holds their locks
    (``locks``), taken before any conversation row."""
    registered = session.info.get("dispatch_campaigns")
    if registered is None or registered[0] is not session.info.get("after_commit"):
        return
    campaign_ids = sorted(registered[1])
    registered[1].clear()
    for campaign_id in campaign_ids:
        await dispatch_within(session, ctx, campaigns[campaign_id], locked=locks[campaign_id])


async def dispatch(ctx: JobContext, campaign_id: int) -> None:
    """After a conversation joined the queue: assign now if open; else make sure the opening
    (or closing, to apply the action to the queue) will be handled by the hours job.

    Coalesced per campaign within the process: while a pass runs, a new call only asks it for one
    more pass (which sees everything committed before it starts) instead of queueing behind the
    campaign's dispatch lock with a database connection held — under a burst of inbound messages
    that queue took every pooled connection and capped throughput (see benchmarks/README.md)."""
    rerun: dict[int, bool] = ctx.extras.setdefault("dispatch_rerun", {})
    if campaign_id in rerun:
        rerun[campaign_id] = True
        return
    try:
        while True:
            rerun[campaign_id] = False
            await _dispatch_once(ctx, campaign_id)
            if not rerun[campaign_id]:
                return
    finally:
        del rerun[campaign_id]


async def _dispatch_once(ctx: JobContext, campaign_id: int) -> None:
    async with ctx.database.session() as session:
        campaign = await session.get(Campaign, campaign_id, options=[  # the pass needs neither
            raiseload(Campaign.channel_links), raiseload(Campaign.field_links)])
        if campaign is None:
            return
        await dispatch_within(session, ctx, campaign)


async def dispatch_within(session: AsyncSession, ctx: JobContext, campaign: Campaign, *,
                          locked: DispatchState | None = None) -> None:
    """``dispatch``'s pass inside the caller's transaction (``locked``: the caller holds the
    campaign's dispatch row, taken before any conversation row), then the timers of what still
    waits: the hours job and the SLA job."""
    now = ctx.clock.now()
    await assign_waiting(session, ctx.bus, campaign, now, announce=True, locked=locked)
    await ensure_hours_job(session, campaign, now)
    await ensure_sla_job(session, campaign, now)


# --- the schedule's changes -------------------------------------------------------------------

def hours_key(campaign_id: int) -> str:
    return f"hours:campaign:{campaign_id}"


async def ensure_hours_job(session: AsyncSession, campaign: Campaign, now: datetime) -> None:
    """Keep the campaign's hours job due at the schedule's next change while conversations wait."""
    schedule = await schedule_of(session, campaign.schedule_id)
    due = next_change_of(schedule, now) if schedule is not None else None
    if due is None:  # no schedule, or one that never changes (24/7): nothing to wake up for
        return
    waiting = await session.scalar(select(exists().where(
        Conversation.campaign_id == campaign.id, Conversation.status == ConversationStatus.queued)))
    if not waiting:
        return
    current = await session.scalar(select(ScheduledJob).where(ScheduledJob.key == hours_key(campaign.id)))
    if current is not None and current.status == JobStatus.pending and current.due_at == due:
        return
    await enqueue(session, hours_tick, due_at=due, key=hours_key(campaign.id), campaign_id=campaign.id)


@job
async def hours_tick(ctx: JobContext, *, campaign_id: int) -> None:
    """The schedule changed: open → assign the queue in arrival order; closed → apply the action to
    the waiting conversations when *¿Aplicar a las conversaciones encoladas?* is on."""
    async with ctx.database.session() as session:
        campaign = await session.get(Campaign, campaign_id)
        if campaign is None:
            return
        now = ctx.clock.now()
        await lock_campaign(session, campaign.id)
        if await open_now(session, campaign.schedule_id, now):
            await assign_waiting(session, ctx.bus, campaign, now, announce=True)
        elif campaign.apply_to_queued:
            waiting = (await session.scalars(
                select(Conversation).where(Conversation.campaign_id == campaign.id,
                                           Conversation.status == ConversationStatus.queued)
                .order_by(Conversation.queued_at, Conversation.id).with_for_update(of=Conversation)
                .execution_options(populate_existing=True))).unique().all()
            for conversation in waiting:
                await out_of_hours(session, ctx, campaign, conversation, now)
            if waiting:
                await announce_queue(session, ctx.bus, campaign)
        await ensure_hours_job(session, campaign, now)
