"""Each metric's one definition, computed over a cohort of ``Facts`` (see docs/metrics.md).

Durations in seconds. Median: the middle value (mean of the two middle ones for an even count);
p90: the nearest-rank 90th percentile (the smallest value with at least 90 % of values at or
below it); both over the durations in whole seconds (truncated), the average over the exact ones."""

import math
import statistics
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from atiende.catalog.schedule_rules import ScheduleLike
from atiende.reports.business_time import OpenHours
from atiende.reports.facts import TRANSFER_ENDS, Facts, Stretch
from atiende.reports.schemas import Stats, TimeMetric


def stats(values: Iterable[float]) -> Stats:
    """Average of the exact values; median and p90 of the durations in whole seconds (truncated),
    so the rollups can count them per distinct second (``reports.buckets``)."""
    exact = list(values)
    if not exact:
        return Stats()
    ordered = sorted(math.floor(v) for v in exact)
    rank = max(1, math.ceil(0.9 * len(ordered)))
    return Stats(count=len(ordered), avg=round(sum(sorted(exact)) / len(exact), 3),
                 median=float(statistics.median(ordered)), p90=float(ordered[rank - 1]))


def ratio(part: int | float, whole: int | float) -> float | None:
    return round(part / whole, 6) if whole else None


class BusinessClock:
    """Business seconds of a conversation's stretch, by its campaign's schedule."""

    def __init__(self, schedules: dict[int, ScheduleLike | None], start: datetime, end: datetime) -> None:
        self._schedules = schedules  # campaign id → schedule
        self._hours: dict[int, OpenHours] = {}
        self.start, self.end = start, end

    def seconds(self, campaign_id: int, a: datetime, b: datetime) -> float:
        schedule = self._schedules.get(campaign_id)
        if schedule is None:
            return (b - a).total_seconds()
        key = id(schedule)
        hours = self._hours.get(key)
        if hours is None or a < hours.start or b > hours.end:
            hours = OpenHours(schedule, min(a, self.start), max(b, self.end))
            self._hours[key] = hours
        return hours.seconds(a, b)


Span = tuple[int, datetime, datetime]  # campaign id, start, end


def queue_wait_spans(f: Facts) -> list[Span]:
    """Tiempo en cola: joined the agents' queue → first assigned to an agent."""
    if f.queued_at is None or f.first_assigned_at is None or f.first_assigned_at < f.queued_at:
        return []
    return [(f.campaign_id, f.queued_at, f.first_assigned_at)]


def first_response_spans(f: Facts) -> list[Span]:
    """Primera respuesta: first customer message → first agent message after it."""
    if f.first_inbound_at is None or f.first_reply_at is None:
        return []
    return [(f.campaign_id, f.first_inbound_at, f.first_reply_at)]


def handle_spans(f: Facts, agent_id: int | None = None) -> list[Span]:
    """Tiempo de gestión: each finished assignment, start → end."""
    return [(f.campaign_id, s.started_at, s.ended_at) for s in f.stretches
            if s.ended_at is not None and (agent_id is None or s.membership_id == agent_id)]


def resolution_spans(f: Facts) -> list[Span]:
    """Tiempo de resolución: opened → closed."""
    if f.closed_at is None:
        return []
    return [(f.campaign_id, f.opened_at, f.closed_at)]


def time_metric(facts: Iterable[Facts], spans: Callable[[Facts], list[Span]], clock: BusinessClock) -> TimeMetric:
    all_spans = [span for f in facts for span in spans(f)]
    return TimeMetric(clock=stats((b - a).total_seconds() for _c, a, b in all_spans),
                      business=stats(clock.seconds(c, a, b) for c, a, b in all_spans))


def transfers(stretches: list[Stretch]) -> tuple[dict[int, int], dict[int, int]]:
    """Transfers in and out per agent in one conversation: a stretch ended by a transfer is one out
    for its agent and one in for the next stretch's agent."""
    t_in: dict[int, int] = {}
    t_out: dict[int, int] = {}
    for i, s in enumerate(stretches):
        if s.end_reason in TRANSFER_ENDS:
            t_out[s.membership_id] = t_out.get(s.membership_id, 0) + 1
            if i + 1 < len(stretches):
                nxt = stretches[i + 1].membership_id
                t_in[nxt] = t_in.get(nxt, 0) + 1
    return t_in, t_out


def _length(d: Any) -> float:
    return d.total_seconds() if isinstance(d, timedelta) else float(d)


def union_seconds(intervals: list[tuple[Any, Any]]) -> float:
    """Seconds covered by the intervals, overlaps once (datetimes, or seconds since the epoch)."""
    total, current_start, current_end = 0.0, None, None
    for a, b in sorted(intervals):
        if current_end is None or a > current_end:
            if current_end is not None and current_start is not None:
                total += _length(current_end - current_start)
            current_start, current_end = a, b
        else:
            current_end = max(current_end, b)
    if current_end is not None and current_start is not None:
        total += _length(current_end - current_start)
    return total


def intersect(a: list[tuple[Any, Any]], b: list[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    out = []
    for s1, e1 in a:
        for s2, e2 in b:
            s, e = max(s1, s2), min(e1, e2)
            if s < e:
                out.append((s, e))
    return out
