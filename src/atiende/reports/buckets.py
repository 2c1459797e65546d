"""Buckets over the facts, so a report's cost does not grow with its conversations.

``report_hour_counts``: per UTC hour of opening, campaign, project, channel and final
typification, the counts of the volume, the flags, the ratings and the service level (the SLA
policies of the moment of the refresh; a policy change marks its conversations dirty).
``report_day_durations``: per local day of opening (the client's zone) and time metric, how many
conversations (or assignments) took each whole number of seconds, and their exact sum. A median
or p90 over a range is then read from the summed counts per distinct value (a few thousand) and
the average from the sums: exact, with percentiles in whole seconds as ``metrics.stats`` defines.

Both are recomputed from the facts, whole buckets at a time, for every hour and day a refresh
touched (the old and the new facts' buckets), in the refresh's transaction (``rollups.refresh``)."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import IntEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, case, cast, delete, func, insert, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from atiende.reports import aggregates as agg
from atiende.reports.aggregates import A, F
from atiende.reports.filters import ReportFilters
from atiende.reports.models import DayDuration, HourCount
from atiende.reports.schemas import Stats
from atiende.reports.sla import policies_for

H = HourCount
D = DayDuration
HOUR = 3600
FLAGS = ("answered", "closed", "offered", "abandoned", "surveyed", "responded", "bot_started", "bot_resolved",
         "bot_handoff")


class Metric(IntEnum):
    queue_wait = 1
    queue_wait_business = 2
    first_response = 3
    first_response_business = 4
    resolution = 5
    resolution_business = 6
    handle = 7
    handle_business = 8


FACT_COLUMNS = {Metric.queue_wait: F.queue_wait_s, Metric.queue_wait_business: F.queue_wait_bs,
                Metric.first_response: F.first_response_s, Metric.first_response_business: F.first_response_bs,
                Metric.resolution: F.resolution_s, Metric.resolution_business: F.resolution_bs}
ASSIGNMENT_COLUMNS = {Metric.handle: A.handle_s, Metric.handle_business: A.handle_bs}


def local_day(at: datetime, zone: ZoneInfo) -> int:
    return at.astimezone(zone).date().toordinal()


@dataclass
class Touched:
    """The buckets of one client a refresh changed."""

    hours: set[int]
    days: set[int]


def touched_by(rows: Iterable[tuple[int, int, int | None]]) -> dict[int, Touched]:
    """(client id, opened 15-minute slot, opened local day) of facts → the buckets they fall in."""
    out: dict[int, Touched] = {}
    for client_id, slot, day in rows:
        t = out.setdefault(client_id, Touched(set(), set()))
        t.hours.add(slot * 900 // HOUR)
        if day is not None:
            t.days.add(day)
    return out


def _whole_seconds(session: AsyncSession, column: Any) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.trunc(column), Integer)
    return cast(column, Integer)  # SQLite's cast truncates


async def recompute(session: AsyncSession, touched: dict[int, Touched]) -> None:
    for client_id, t in touched.items():
        if t.hours:
            await _hours(session, client_id, sorted(t.hours))
        if t.days:
            await _days(session, client_id, sorted(t.days))


async def _hours(session: AsyncSession, client_id: int, hours: list[int]) -> None:
    await session.execute(delete(H).where(H.client_id == client_id, H.hour.in_(hours)))
    hour = F.opened_slot * 900 // HOUR
    typification = func.coalesce(F.typification_id, 0)
    policies = await policies_for(session, client_id)
    rows = (select(F.client_id, hour, F.campaign_id, F.channel_id, typification, F.project_id, func.count(),
                   func.min(F.conversation_id), agg.within_sla(policies),
                   *(agg.count_if(getattr(F, name)) for name in FLAGS),
                   func.sum(F.rating_sum), func.sum(F.rating_count))
            .where(F.client_id == client_id, hour.in_(hours),
                   F.opened_at >= datetime.fromtimestamp(hours[0] * HOUR, UTC),
                   F.opened_at < datetime.fromtimestamp((hours[-1] + 1) * HOUR, UTC))
            .group_by(F.client_id, hour, F.campaign_id, F.channel_id, typification, F.project_id))
    await session.execute(insert(H).from_select(
        ["client_id", "hour", "campaign_id", "channel_id", "typification_id", "project_id", "n", "first_id",
         "within", *FLAGS, "rating_sum", "rating_count"], rows))


async def _days(session: AsyncSession, client_id: int, days: list[int]) -> None:
    await session.execute(delete(D).where(D.client_id == client_id, D.day.in_(days)))
    # Any zone's local day lies within a day of its UTC dates: bounds for the index on opened_at.
    low = datetime.combine(date.fromordinal(days[0]) - timedelta(days=1), time(0), UTC)
    high = datetime.combine(date.fromordinal(days[-1]) + timedelta(days=2), time(0), UTC)
    where = [F.client_id == client_id, F.opened_day.in_(days), F.opened_at >= low, F.opened_at < high]
    columns = ["client_id", "day", "metric", "seconds", "n", "total"]
    for metric, column in FACT_COLUMNS.items():
        seconds = _whole_seconds(session, column)
        await session.execute(insert(D).from_select(columns, select(
            F.client_id, F.opened_day, literal(int(metric)), seconds, func.count(), func.sum(column))
            .where(*where, column.is_not(None)).group_by(F.client_id, F.opened_day, seconds)))
    for metric, column in ASSIGNMENT_COLUMNS.items():
        seconds = _whole_seconds(session, column)
        await session.execute(insert(D).from_select(columns, select(
            F.client_id, F.opened_day, literal(int(metric)), seconds, func.count(), func.sum(column))
            .select_from(A).join(F, F.conversation_id == A.conversation_id)
            .where(*where, column.is_not(None)).group_by(F.client_id, F.opened_day, seconds)))


# --- reading -------------------------------------------------------------------------------------

CONVERSATION_FILTERS = ("project_id", "campaign_id", "channel_id", "typification_id")


def hour_aligned(filters: ReportFilters) -> bool:
    """Every local hour of the range is one UTC hour (zones a whole number of hours from UTC)."""
    zone, day = filters.zone, filters.date_from
    while day <= filters.date_to + timedelta(days=1):
        offset = datetime.combine(day, time(12), zone).utcoffset()
        if offset is None or offset.total_seconds() % HOUR:
            return False
        day += timedelta(days=1)
    return filters.start.timestamp() % HOUR == 0 and filters.end.timestamp() % HOUR == 0


def counts_answer(filters: ReportFilters) -> bool:
    """The hour counts answer for this range and these filters (not one agent's conversations)."""
    return filters.agent_id is None and hour_aligned(filters)


def durations_answer(filters: ReportFilters, client_zone: str) -> bool:
    """The day durations answer: the whole client, its own zone's days."""
    return (filters.timezone == client_zone and filters.agent_id is None
            and all(getattr(filters, name) is None for name in CONVERSATION_FILTERS))


def hour_range(filters: ReportFilters, start: datetime | None = None) -> list[Any]:
    """Conditions on the hour counts: the range's hours and the filters."""
    where = [H.client_id == filters.client_id, H.hour >= int((start or filters.start).timestamp()) // HOUR,
             H.hour < int(filters.end.timestamp()) // HOUR]
    for name in CONVERSATION_FILTERS:
        value = getattr(filters, name)
        if value is not None:
            where.append(getattr(H, name) == value)
    return where


def first_hour(filters: ReportFilters) -> int:
    return int(filters.start.timestamp()) // HOUR


async def duration_stats(session: AsyncSession, filters: ReportFilters,
                         previous: ReportFilters) -> dict[int, dict[Metric, Stats]]:
    """Per period (1: ``filters``, 0: ``previous``), each time metric's stats from the day buckets."""
    first = filters.date_from.toordinal()
    period = case((D.day >= first, 1), else_=0)
    rows = (await session.execute(
        select(period, D.metric, D.seconds, func.sum(D.n), func.sum(D.total))
        .where(D.client_id == filters.client_id, D.day >= previous.date_from.toordinal(),
               D.day <= filters.date_to.toordinal())
        .group_by(period, D.metric, D.seconds).order_by(period, D.metric, D.seconds))).all()
    values: dict[tuple[int, int], list[tuple[int, int, float]]] = {}
    for p, metric, seconds, n, total in rows:
        values.setdefault((p, metric), []).append((seconds, int(n), float(total)))
    out: dict[int, dict[Metric, Stats]] = {0: {}, 1: {}}
    for (p, metric), counted in values.items():
        out[p][Metric(metric)] = stats_of_counts(counted)
    return out


def stats_of_counts(counted: list[tuple[int, int, float]]) -> Stats:
    """Count, average, median and nearest-rank p90 of values given as (value, how many, their sum),
    in ascending value order (``metrics.stats`` on the whole seconds)."""
    n = sum(c for _v, c, _t in counted)
    if not n:
        return Stats()
    total = sum(t for _v, _c, t in counted)
    ranks = {(n + 1) // 2, n // 2 + 1, agg.nearest_rank_90(n)}
    picked: dict[int, int] = {}
    seen = 0
    for value, c, _t in counted:
        for rank in ranks:
            if rank not in picked and seen < rank <= seen + c:
                picked[rank] = value
        seen += c
        if len(picked) == len(ranks):
            break
    return agg.stats_of(n, total, picked[(n + 1) // 2], picked[n // 2 + 1], picked[agg.nearest_rank_90(n)])
