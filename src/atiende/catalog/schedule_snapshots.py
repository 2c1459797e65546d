"""Schedules as the engine checks them on every message and every dispatch pass: read once a
moment per process (``kit.snapshots``), as plain values, so a check costs no statement."""

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from atiende.catalog.models import Holiday, Schedule, TimeBand
from atiende.catalog.schedule_rules import Band, is_open, next_change
from atiende.kit.snapshots import Snapshots


@dataclass(frozen=True)
class Day:
    day: date


@dataclass(frozen=True)
class ScheduleSnapshot:
    id: int
    timezone: str
    bands: tuple[Band, ...]
    holidays: tuple[Day, ...]
    memo: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


_schedules: Snapshots[ScheduleSnapshot] = Snapshots(Schedule, TimeBand, Holiday)


async def schedule_of(session: AsyncSession, schedule_id: int | None) -> ScheduleSnapshot | None:
    """The schedule's bands and holidays (None if it does not exist)."""
    if schedule_id is None:
        return None
    cached = _schedules.get(schedule_id)
    if cached is not None:
        return cached
    snapshot = await current_schedule(session, schedule_id)
    return None if snapshot is None else _schedules.put(schedule_id, snapshot)


async def current_schedule(session: AsyncSession, schedule_id: int) -> ScheduleSnapshot | None:
    """The schedule as the database has it now, never a kept copy (the report rollups store what
    they compute from it, so a change made a moment ago in another process must count)."""
    schedule = await session.get(Schedule, schedule_id, populate_existing=True)
    if schedule is None:
        return None
    return ScheduleSnapshot(
        id=schedule.id, timezone=schedule.timezone,
        bands=tuple(Band(b.weekday, b.start, b.end, b.overnight) for b in schedule.bands),
        holidays=tuple(Day(h.day) for h in schedule.holidays))


async def open_now(session: AsyncSession, schedule_id: int | None, now: datetime) -> bool:
    """Whether the schedule is open at ``now``: the one answer to "is the campaign open now" for
    routing, dispatch, bots, the widget and the board. A schedule that does not exist (campaigns
    restrict deleting theirs) counts as closed."""
    schedule = await schedule_of(session, schedule_id)
    return schedule is not None and is_open(schedule, now)


def next_change_of(schedule: ScheduleSnapshot, now: datetime) -> datetime | None:
    """``schedule_rules.next_change``, remembered on the snapshot. Between an instant and the next
    change found from it, openness does not change, so that change is also the next one from any
    later instant before it. Proving that a 24/7 schedule never changes walks 400 days (3 ms);
    every dispatch pass asks."""
    remembered = schedule.memo.get("next_change")
    if remembered is not None:
        since, due = remembered
        if since <= now and (due is None or now < due):
            return due
    due = next_change(schedule, now)
    schedule.memo["next_change"] = (now, due)
    return due
