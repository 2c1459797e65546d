"""Business-hours arithmetic, pure and clock-free: is a schedule open at an instant, and when
does that change next. Works on wall-clock time in the schedule's zone, so DST shifts move the
UTC instants of a band, never its local hours.

Rules: a band is open on ``weekday`` from ``start`` (inclusive) to ``end`` (exclusive). ``end``
00:00 means the end of that day. An ``overnight`` band runs past midnight and ends at ``end`` on
the next day. A holiday closes its whole local calendar day, including the tail of an overnight
band that began the evening before.
"""

import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

MINUTES_PER_DAY = 24 * 60
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY
SEARCH_DAYS = 400  # far enough to step over a year of holidays


class BandLike(Protocol):
    weekday: int
    start: time
    end: time
    overnight: bool


class ScheduleLike(Protocol):
    timezone: str

    @property
    def bands(self) -> Sequence[BandLike]: ...

    @property
    def holidays(self) -> Sequence["HolidayLike"]: ...


class HolidayLike(Protocol):
    day: date


@dataclass(frozen=True)
class Band:
    weekday: int
    start: time
    end: time
    overnight: bool = False


def is_valid_timezone(name: str) -> bool:
    if name not in _zones():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


_ZONES: set[str] = set()


def _zones() -> set[str]:
    if not _ZONES:
        _ZONES.update(available_timezones())
    return _ZONES


def _minutes(t: time) -> int:
    return t.hour * 60 + t.minute


def band_span(band: BandLike) -> tuple[int, int]:
    """The band as [start, end) minutes from Monday 00:00; ``end`` may pass the week's end."""
    start = band.weekday * MINUTES_PER_DAY + _minutes(band.start)
    end = band.weekday * MINUTES_PER_DAY + _minutes(band.end)
    if band.overnight or _minutes(band.end) == 0:
        end += MINUTES_PER_DAY
    return start, end


def band_problem(band: BandLike) -> str | None:
    """Why a single band is unusable, or None."""
    if not 0 <= band.weekday <= 6:
        return "weekday must be 0 (Monday) to 6 (Sunday)"
    if band.start.second or band.end.second or band.start.microsecond or band.end.microsecond:
        return "times are whole minutes"
    start, end = _minutes(band.start), _minutes(band.end)
    if band.overnight:
        if end == 0 or end >= start:
            return "an overnight band must end the next day before it starts (e.g. 22:00 to 06:00)"
    elif end != 0 and end <= start:
        return "end must be after start; mark the band overnight to cross midnight"
    return None


def overlapping_pair(bands: Sequence[BandLike]) -> tuple[int, int] | None:
    """Indexes of two bands that overlap on the weekly circle (Sunday night wraps to Monday)."""
    spans = [band_span(b) for b in bands]
    for i, (a_start, a_end) in enumerate(spans):
        for j in range(i + 1, len(spans)):
            b_start, b_end = spans[j]
            for shift in (-MINUTES_PER_WEEK, 0, MINUTES_PER_WEEK):
                if a_start < b_end + shift and b_start + shift < a_end:
                    return i, j
    return None


def _local(schedule: ScheduleLike, at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError("an aware datetime is needed")
    return at.astimezone(ZoneInfo(schedule.timezone))


def _holidays(schedule: ScheduleLike) -> set[date]:
    return {h.day for h in schedule.holidays}


def is_open(schedule: ScheduleLike, at: datetime) -> bool:
    local = _local(schedule, at)
    return _open_local(schedule.bands, _holidays(schedule), local.date(), _minutes(local.time()))


def _open_local(bands: Iterable[BandLike], holidays: set[date], day: date, minute: int) -> bool:
    if day in holidays:
        return False
    weekday = day.weekday()
    yesterday = (weekday - 1) % 7
    for band in bands:
        start, end = _minutes(band.start), _minutes(band.end)
        if band.weekday == weekday:
            if band.overnight or end == 0:
                if minute >= start:
                    return True
            elif start <= minute < end:
                return True
        if band.weekday == yesterday and band.overnight and minute < end:
            return True
    return False


def _day_boundaries(bands: Iterable[BandLike], day: date) -> list[int]:
    """Minutes of ``day`` where openness could flip: midnight (holidays), band starts and ends."""
    minutes = {0}
    weekday, yesterday = day.weekday(), (day.weekday() - 1) % 7
    for band in bands:
        if band.weekday == weekday:
            minutes.add(_minutes(band.start))
            if not band.overnight:
                minutes.add(_minutes(band.end))
        elif band.overnight and band.weekday == yesterday:
            minutes.add(_minutes(band.end))
    return sorted(minutes)


def _next_offset_change(zone: ZoneInfo, start: datetime, limit: datetime) -> datetime:
    """The first instant after ``start`` where the zone's UTC offset changes (a DST jump), or ``limit``."""
    offset = start.astimezone(zone).utcoffset()
    probe = start
    while probe < limit:
        step = min(probe + timedelta(days=1), limit)
        if step.astimezone(zone).utcoffset() != offset:
            low, high = math.floor(probe.timestamp()), math.ceil(step.timestamp())
            while high - low > 1:  # transitions fall on whole seconds
                middle = (low + high) // 2
                if datetime.fromtimestamp(middle, UTC).astimezone(zone).utcoffset() == offset:
                    low = middle
                else:
                    high = middle
            return datetime.fromtimestamp(high, UTC)
        probe = step
    return limit


def _crossings(schedule: ScheduleLike, zone: ZoneInfo, start: datetime, end: datetime) -> Iterator[datetime]:
    """Instants in (start, end) where the wall clock reaches a boundary; the offset is constant there."""
    offset = start.astimezone(zone).utcoffset() or timedelta(0)
    wall_start = (start.astimezone(UTC) + offset).replace(tzinfo=None)
    wall_end = wall_start + (end - start)
    day = wall_start.date()
    while day <= wall_end.date():
        for minute in _day_boundaries(schedule.bands, day):
            wall = datetime.combine(day, time(minute // 60, minute % 60))
            if wall_start < wall < wall_end:
                yield (wall - offset).replace(tzinfo=UTC)
        day += timedelta(days=1)


def next_change(schedule: ScheduleLike, at: datetime) -> datetime | None:
    """The first instant after ``at`` where ``is_open`` differs from now; None if it never does.

    Walks the time line in stretches of constant UTC offset. Inside a stretch the wall clock moves
    with real time, so openness can only flip where the wall clock reaches a band boundary or
    midnight; between stretches the wall clock jumps (DST), which may flip it too. This finds the
    opening of a band whose start falls in the skipped hour (it opens at the jump), and the
    repeated hour when clocks go back (a band can close, reopen and close again).
    """
    current = is_open(schedule, at)
    zone = ZoneInfo(schedule.timezone)
    horizon = at + timedelta(days=SEARCH_DAYS)
    stretch_start = at
    while stretch_start < horizon:
        stretch_end = _next_offset_change(zone, stretch_start, horizon)
        for instant in _crossings(schedule, zone, stretch_start, stretch_end):
            if is_open(schedule, instant) != current:
                return instant
        if stretch_end < horizon and is_open(schedule, stretch_end) != current:
            return stretch_end
        stretch_start = stretch_end
    return None
