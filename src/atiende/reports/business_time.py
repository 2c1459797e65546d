"""Business time: how much of a stretch falls inside a schedule's open hours, and when a target
measured in open time falls due. Built on ``catalog.schedule_rules`` (is_open / next_change), the
one place that knows bands, holidays, zones and DST."""

from bisect import bisect_right
from datetime import datetime, timedelta

from atiende.catalog.schedule_rules import ScheduleLike, is_open, next_change

HORIZON = timedelta(days=400)


class OpenHours:
    """The schedule's open intervals over a window, walked once; queries are binary searches."""

    def __init__(self, schedule: ScheduleLike, start: datetime, end: datetime) -> None:
        self.schedule = schedule
        self.start, self.end = start, end
        self.intervals: list[tuple[datetime, datetime]] = []
        at, open_now = start, is_open(schedule, start)
        while at < end:
            change = next_change(schedule, at)
            stop = min(change, end) if change is not None else end
            if open_now:
                self.intervals.append((at, stop))
            at, open_now = stop, not open_now
            if change is None:
                break
        self._starts = [s for s, _ in self.intervals]
        self._prefix = [0.0]
        for s, e in self.intervals:
            self._prefix.append(self._prefix[-1] + (e - s).total_seconds())

    def _open_until(self, t: datetime) -> float:
        """Open seconds from the window's start to ``t``."""
        i = bisect_right(self._starts, t)
        total = self._prefix[i]
        if i and self.intervals[i - 1][1] > t:
            total -= (self.intervals[i - 1][1] - t).total_seconds()
        return total

    def seconds(self, a: datetime, b: datetime) -> float:
        """Open seconds in [a, b); a and b must lie in the window."""
        if b <= a:
            return 0.0
        return self._open_until(b) - self._open_until(a)


def business_seconds(schedule: ScheduleLike, a: datetime, b: datetime) -> float:
    return OpenHours(schedule, a, b).seconds(a, b) if b > a else 0.0


def business_deadline(schedule: ScheduleLike, start: datetime, seconds: float) -> datetime | None:
    """The instant when ``seconds`` of open time have passed since ``start`` (None: never opens)."""
    at, remaining = start, seconds
    open_now = is_open(schedule, at)
    limit = start + HORIZON
    while at < limit:
        change = next_change(schedule, at)
        if open_now:
            if change is None or (change - at).total_seconds() >= remaining:
                return at + timedelta(seconds=remaining)
            remaining -= (change - at).total_seconds()
        if change is None:
            return None
        at, open_now = change, not open_now
    return None
