"""SLA policies (per campaign, client default) and how a conversation stands against them.

A target has two thresholds: *óptimo* (within it the target is met) and *bajo* (past it the
target is breached; between both it is "low"). With ``business_hours`` the time is counted only
while the campaign schedule is open (``business_time``). On the live board a waiting
conversation is *about to breach* from 80 % of the low threshold and *breached* past it."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from atiende.catalog.schedule_rules import ScheduleLike
from atiende.reports.business_time import business_deadline, business_seconds
from atiende.reports.models import SlaPolicy
from atiende.reports.schemas import SlaCounts

WARNING_SHARE = 0.8


class SlaState(StrEnum):
    ok = "ok"
    warning = "warning"  # about to breach
    breached = "breached"


@dataclass(frozen=True)
class Policy:
    queue_optimal_seconds: int
    queue_low_seconds: int
    first_response_optimal_seconds: int
    first_response_low_seconds: int
    resolution_hours: int
    business_hours: bool

    @classmethod
    def of(cls, row: SlaPolicy | None) -> "Policy":
        row = row or SlaPolicy()
        d = {c: getattr(row, c) if getattr(row, c) is not None else SlaPolicy.__table__.c[c].default.arg
             for c in ("queue_optimal_seconds", "queue_low_seconds", "first_response_optimal_seconds",
                       "first_response_low_seconds", "resolution_hours", "business_hours")}
        return cls(**d)


async def policies_for(session: AsyncSession, client_id: int) -> tuple[Policy, dict[int, Policy]]:
    """The client's default policy and the campaigns' own."""
    rows = (await session.scalars(select(SlaPolicy).where(SlaPolicy.client_id == client_id))).all()
    default = Policy.of(next((r for r in rows if r.campaign_id is None), None))
    return default, {r.campaign_id: Policy.of(r) for r in rows if r.campaign_id is not None}


def elapsed(policy: Policy, schedule: ScheduleLike | None, start: datetime, end: datetime) -> float:
    if policy.business_hours and schedule is not None:
        return business_seconds(schedule, start, end)
    return (end - start).total_seconds()


def classify(seconds: float, optimal: float, low: float, counts: SlaCounts) -> None:
    counts.measured += 1
    if seconds <= optimal:
        counts.met += 1
    elif seconds <= low:
        counts.low += 1
    else:
        counts.breached += 1


def live_state(policy: Policy, schedule: ScheduleLike | None, since: datetime, now: datetime,
               low_seconds: int) -> SlaState:
    """A waiting conversation's state against a low threshold (queue or first response)."""
    waited = elapsed(policy, schedule, since, now)
    if waited > low_seconds:
        return SlaState.breached
    if waited >= WARNING_SHARE * low_seconds:
        return SlaState.warning
    return SlaState.ok


def due_at(policy: Policy, schedule: ScheduleLike | None, since: datetime, seconds: int) -> datetime | None:
    """When the threshold is reached (Friday 16:30 + 1 h of a Mon–Fri 9–17 schedule: Monday 09:30)."""
    if policy.business_hours and schedule is not None:
        return business_deadline(schedule, since, seconds)
    return since + timedelta(seconds=seconds)
