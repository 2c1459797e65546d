"""Business hours (tab *Horario*): what happens to conversations that wait outside the schedule.

- A message that arrives while the schedule is closed, to a conversation no agent is serving (new
  or queued): **Cerrar** closes it at once (reason ``out_of_hours``); **Encolar** keeps it queued
  until the schedule opens. Either way the out-of-hours message goes out only when *¿Enviar
  mensaje?* is on, and at most once per conversation.
- A conversation an agent is already serving is left alone: the agent finishes it.
- A keyed durable job per campaign (``hours:campaign:<id>``) wakes at each change of the schedule
  while conversations wait: on opening it assigns them in arrival order; on closing, with
  *¿Aplicar a las conversaciones encoladas?*, it gives the waiting ones the same action (closed, or
  kept and told). It re-enqueues itself at the next change while the queue is not empty.
- Every instant comes from the injected clock; the schedule's zone, holidays, bands across
  midnight and DST are handled by ``catalog.schedule_rules``.
"""

from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import raiseload

from atiende.campaigns.models import Campaign, OutOfHoursAction
from atiende.catalog.schedule_snapshots import next_change_of, open_now, schedule_of
from atiende.conversations import assignment
from atiende.conversations.closing import close_unserved
from atiende.conversations.models import CloseReason, Conversation, ConversationStatus, DispatchState, SenderKind
from atiende.conversations.outbound import post_message
from atiende.jobs import JobContext, JobStatus, ScheduledJob, enqueue, job
from atiende.reports.sla_watch import ensure_sla_job


def hours_key(campaign_id: int) -> str:
    return f"hours:campaign:{campaign_id}"


async def out_of_hours(session: AsyncSession, ctx: JobContext, campaign: Campaign, conversation: Conversation,
                       now: datetime) -> None:
    """Apply the campaign's out-of-hours action to a conversation that waits while closed."""
    if (campaign.send_out_of_hours_message and campaign.out_of_hours_message.strip()
            and not conversation.out_of_hours_notified):
        conversation.out_of_hours_notified = True
        await post_message(session, ctx, conversation, sender=SenderKind.system,
                           text=campaign.out_of_hours_message, now=now)
    if campaign.out_of_hours_action == OutOfHoursAction.close:
        await close_unserved(session, ctx, campaign, conversation, now, CloseReason.out_of_hours)


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
    campaign's dispatch row, taken before any conversation row)."""
    now = ctx.clock.now()
    await assignment.assign_waiting(session, ctx.bus, campaign, now, announce=True, locked=locked)
    await ensure_hours_job(session, campaign, now)
    await ensure_sla_job(session, campaign, now)


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
        await assignment.lock_campaign(session, campaign.id)
        if await open_now(session, campaign.schedule_id, now):
            await assignment.assign_waiting(session, ctx.bus, campaign, now, announce=True)
        elif campaign.apply_to_queued:
            waiting = (await session.scalars(
                select(Conversation).where(Conversation.campaign_id == campaign.id,
                                           Conversation.status == ConversationStatus.queued)
                .order_by(Conversation.queued_at, Conversation.id).with_for_update(of=Conversation)
                .execution_options(populate_existing=True))).unique().all()
            for conversation in waiting:
                await out_of_hours(session, ctx, campaign, conversation, now)
            if waiting:
                await assignment.announce_queue(session, ctx.bus, campaign)
        await ensure_hours_job(session, campaign, now)
