"""The metric functions against a naive recomputation over random conversations (Hypothesis):
clock durations, business time counted minute by minute on a Mon–Fri 08:00–17:00 Bogotá
schedule, averages, medians, nearest-rank p90, transfers and occupancy."""

import math
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from atiende.catalog.schedule_rules import Band
from atiende.catalog.schedule_snapshots import ScheduleSnapshot
from atiende.conversations.models import ConversationStatus, EndReason
from atiende.reports import metrics as m
from atiende.reports.facts import Facts, Stretch

BOGOTA = ZoneInfo("America/Bogota")
SCHEDULE = ScheduleSnapshot(id=1, timezone="America/Bogota",
                            bands=tuple(Band(d, time(8), time(17)) for d in range(5)), holidays=())
START = datetime(2026, 1, 2, tzinfo=UTC)  # a Friday
END = START + timedelta(days=6)


def naive_business(a: datetime, b: datetime) -> float:
    """Whole minutes first, then the partial ends, checking each against the bands by hand."""
    def open_at(t: datetime) -> bool:
        local = t.astimezone(BOGOTA)
        return local.weekday() < 5 and 8 <= local.hour < 17

    total, t = 0.0, a
    while t < b:
        step = min(b, (t + timedelta(minutes=1)).replace(second=0, microsecond=0))
        if open_at(t):
            total += (step - t).total_seconds()
        t = step
    return total


def naive_stats(values: list[float]) -> tuple[int, float | None, float | None, float | None]:
    if not values:
        return 0, None, None, None
    ordered = sorted(values)
    n = len(ordered)
    median = ordered[n // 2] if n % 2 else (ordered[n // 2 - 1] + ordered[n // 2]) / 2
    p90 = ordered[math.ceil(0.9 * n) - 1]
    return n, round(sum(ordered) / n, 3), median, p90


conversation = st.tuples(
    st.integers(0, 4 * 86400),  # opened, seconds after START
    st.one_of(st.none(), st.integers(0, 20000)),  # queue wait (None: never assigned)
    st.integers(1, 3000),  # first reply after assignment
    st.lists(st.tuples(st.integers(60, 30000), st.booleans()), min_size=1, max_size=3),  # stretches
)


def build(raw: tuple[int, int | None, int, list[tuple[int, bool]]], n: int) -> Facts:
    offset, wait, reply, stretches = raw
    opened = START + timedelta(seconds=offset)
    f = Facts(id=n, campaign_id=1, project_id=1, channel_id=1, contact_id=n, status=ConversationStatus.closed,
              opened_at=opened, queued_at=opened, closed_at=None, close_reason=None, typification_id=None,
              funnel_stage_id=None, survey_outcome=None, bot_handoff=False, field_values={},
              first_inbound_at=opened)
    if wait is None:
        f.closed_at = opened + timedelta(seconds=900)
        return f
    at = opened + timedelta(seconds=wait)
    f.first_reply_at = at + timedelta(seconds=reply)
    for i, (length, transferred) in enumerate(stretches):
        end = at + timedelta(seconds=length)
        last = i == len(stretches) - 1
        f.stretches.append(Stretch(100 + i % 2, at, end, EndReason.closed if last or not transferred
                                   else EndReason.transferred))
        at = end
    f.closed_at = at
    return f


@settings(max_examples=40, deadline=None)
@given(st.lists(conversation, min_size=1, max_size=12))
def test_times_match_a_naive_recomputation(raws: list[tuple[int, int | None, int, list[tuple[int, bool]]]]) -> None:
    facts = [build(r, i + 1) for i, r in enumerate(raws)]
    clock = m.BusinessClock({1: SCHEDULE}, START, END + timedelta(days=20))
    for spans in (m.queue_wait_spans, m.first_response_spans, m.handle_spans, m.resolution_spans):
        pairs = [(a, b) for f in facts for _c, a, b in spans(f)]
        metric = m.time_metric(facts, spans, clock)
        assert (metric.clock.count, metric.clock.avg, metric.clock.median, metric.clock.p90) == \
            naive_stats([(b - a).total_seconds() for a, b in pairs])
        business = naive_stats([naive_business(a, b) for a, b in pairs])
        assert metric.business.count == business[0]
        for got, want in zip((metric.business.avg, metric.business.median, metric.business.p90), business[1:]):
            assert got == want or abs(got - want) < 1e-6  # type: ignore[operator]
    transfers_out = sum(1 for f in facts for s in f.stretches if s.end_reason == EndReason.transferred)
    assert sum(sum(m.transfers(f.stretches)[1].values()) for f in facts) == transfers_out
    assert sum(f.abandoned for f in facts) == 0  # abandonment needs a close reason; none here


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5000), st.integers(1, 3000)), max_size=8))
def test_union_of_stretches_counts_overlaps_once(pieces: list[tuple[int, int]]) -> None:
    intervals = [(START + timedelta(seconds=a), START + timedelta(seconds=a + n)) for a, n in pieces]
    covered = {s for a, n in pieces for s in range(a, a + n)}
    assert m.union_seconds(intervals) == len(covered)
