"""SLA marks of the live board: each waiting conversation's state against its campaign's policy
(queued: the queue's low threshold since it joined; in progress with the customer waiting: the
first-response low threshold since the customer's unanswered message)."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from atiende.campaigns.models import Campaign
from atiende.catalog.schedule_snapshots import schedule_of
from atiende.conversations.supervision import CampaignBoard
from atiende.reports.sla import Policy, SlaState, due_at, live_state, policies_for


@dataclass(frozen=True)
class SlaMark:
    conversation_id: int
    state: SlaState
    due_at: datetime | None


async def board_marks(session: AsyncSession, board: CampaignBoard, now: datetime) -> dict[int, SlaMark]:
    campaign = await session.scalar(select(Campaign).where(Campaign.id == board.summary.campaign_id))
    if campaign is None:
        return {}
    default, own = await policies_for(session, campaign.client_id)
    policy: Policy = own.get(campaign.id, default)
    schedule = await schedule_of(session, campaign.schedule_id)
    marks: dict[int, SlaMark] = {}
    for row in board.waiting:
        marks[row.conversation_id] = SlaMark(
            row.conversation_id, live_state(policy, schedule, row.queued_at, now, policy.queue_low_seconds),
            due_at(policy, schedule, row.queued_at, policy.queue_low_seconds))
    for active in board.in_progress:
        if active.waiting_since is not None:
            marks[active.conversation_id] = SlaMark(
                active.conversation_id,
                live_state(policy, schedule, active.waiting_since, now, policy.first_response_low_seconds),
                due_at(policy, schedule, active.waiting_since, policy.first_response_low_seconds))
    return marks
