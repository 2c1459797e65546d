"""Schedules as the engine checks them on every message and every dispatch pass: read once a
moment per process (``kit.snapshots``), as plain values, so a check costs no statement."""

from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from atiende.catalog.models import Holiday, Schedule, TimeBand
from atiende.catalog.schedule_rules import Band
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


_schedules: Snapshots[ScheduleSnapshot] = Snapshots(Schedule, TimeBand, Holiday)


async def schedule_of(session: AsyncSession, schedule_id: int | None) -> ScheduleSnapshot | None:
    """The schedule's bands and holidays (None if it does not exist)."""
    if schedule_id is None:
        return None
    cached = _schedules.get(schedule_id)
    if cached is not None:
        return cached
    schedule = await session.get(Schedule, schedule_id)
    if schedule is None:
        return None
    return _schedules.put(schedule_id, ScheduleSnapshot(
        id=schedule.id, timezone=schedule.timezone,
        bands=tuple(Band(b.weekday, b.start, b.end, b.overnight) for b in schedule.bands),
        holidays=tuple(Day(h.day) for h in schedule.holidays)))
