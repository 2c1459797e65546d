"""Breaches of the queue SLA as they happen: a keyed durable job per campaign
(``sla:campaign:<id>``) wakes when the oldest waiting conversation passes the policy's low queue
threshold (in business time when the policy says so), stores the breach once and publishes
``conversation.sla_breached`` on the bus, then sleeps until the next one. The job is kept due
from the engine's one dispatch pass (``conversations.dispatch``), which runs each
time a conversation joins the queue."""

from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from atiende.campaigns.models import Campaign
from atiende.catalog.schedule_snapshots import schedule_of
from atiende.conversations.events import ConversationEvent, emit
from atiende.conversations.models import Conversation, ConversationStatus
from atiende.jobs import JobContext, JobStatus, ScheduledJob, enqueue, job
from atiende.reports.models import SlaBreach, SlaTarget
from atiende.reports.sla import due_at, policies_for

BATCH = 200


class SlaBreached(ConversationEvent):
    kind: str = "conversation.sla_breached"
    target: str
    due_at: datetime


def watch_key(campaign_id: int) -> str:
    return f"sla:campaign:{campaign_id}"


def _unbreached(campaign_id: int):  # type: ignore[no-untyped-def]
    return (select(Conversation.id, Conversation.queued_at).where(
        Conversation.campaign_id == campaign_id, Conversation.status == ConversationStatus.queued,
        Conversation.queued_at.is_not(None),
        ~exists().where(SlaBreach.conversation_id == Conversation.id, SlaBreach.target == SlaTarget.queue))
        .order_by(Conversation.queued_at, Conversation.id))


async def ensure_sla_job(session: AsyncSession, campaign: Campaign, now: datetime) -> None:
    """Keep the campaign's SLA job due at the oldest waiting conversation's queue deadline."""
    oldest = (await session.execute(_unbreached(campaign.id).limit(1))).first()
    if oldest is None:
        return
    default, own = await policies_for(session, campaign.client_id)
    policy = own.get(campaign.id, default)
    due = due_at(policy, await schedule_of(session, campaign.schedule_id), oldest.queued_at,
                 policy.queue_low_seconds)
    if due is None:
        return
    due = max(due, now)
    current = await session.scalar(select(ScheduledJob).where(ScheduledJob.key == watch_key(campaign.id)))
    if current is not None and current.status == JobStatus.pending and current.due_at <= due:
        return
    await enqueue(session, sla_tick, due_at=due, key=watch_key(campaign.id), campaign_id=campaign.id)


@job
async def sla_tick(ctx: JobContext, *, campaign_id: int) -> None:
    """Record and announce every waiting conversation past its queue deadline; then re-arm."""
    async with ctx.database.session() as session:
        campaign = await session.get(Campaign, campaign_id)
        if campaign is None:
            return
        now = ctx.clock.now()
        default, own = await policies_for(session, campaign.client_id)
        policy = own.get(campaign.id, default)
        schedule = await schedule_of(session, campaign.schedule_id)
        for conversation_id, queued_at in (await session.execute(_unbreached(campaign.id).limit(BATCH))).all():
            due = due_at(policy, schedule, queued_at, policy.queue_low_seconds)
            if due is None or due > now:
                break
            session.add(SlaBreach(client_id=campaign.client_id, campaign_id=campaign.id,
                                  conversation_id=conversation_id, target=SlaTarget.queue, due_at=due, breached_at=now))
            emit(session, ctx.bus, SlaBreached(client_id=campaign.client_id, campaign_id=campaign.id,
                                               conversation_id=conversation_id, status=ConversationStatus.queued.value,
                                               target=SlaTarget.queue.value, due_at=due))
        await session.flush()
        await ensure_sla_job(session, campaign, now)
