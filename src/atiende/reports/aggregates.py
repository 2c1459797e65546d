"""SQL over the rollups: the cohort's conditions and exact statistics (count, average, median,
nearest-rank p90) computed in the database, on PostgreSQL and on SQLite.

The median is the middle value, or the mean of the two middle ones: on PostgreSQL
``percentile_disc(0.5)`` gives the lower middle and ``percentile_disc(0.5 + 1e-9)`` the upper one
(the same for an odd count); ``percentile_disc(0.9)`` is the nearest rank (``ceil(0.9 n)``,
computed in double precision as ``metrics.stats`` does); the three share one sort. SQLite has no ordered-set aggregates: the same ranks are picked with
``row_number()`` over the sorted values."""

import math
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Integer, Select, case, cast, exists, func, literal, or_, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from atiende.reports.filters import ReportFilters
from atiende.reports.models import AssignmentFact, ConversationFact
from atiende.reports.schemas import Stats
from atiende.reports.sla import Policy

F = ConversationFact
A = AssignmentFact


def cohort(filters: ReportFilters, *, start: datetime | None = None, table: Any = F) -> list[ColumnElement[bool]]:
    """The conditions of the conversations a report covers, on ``ConversationFact`` or on
    ``AssignmentFact`` (which carries the same columns); from ``start`` instead: the previous
    period and this one together."""
    where: list[ColumnElement[bool]] = [table.client_id == filters.client_id,
                                        table.opened_at >= (start or filters.start), table.opened_at < filters.end]
    for name, value in (("campaign_id", filters.campaign_id), ("project_id", filters.project_id),
                        ("channel_id", filters.channel_id), ("typification_id", filters.typification_id)):
        if value is not None:
            where.append(getattr(table, name) == value)
    if filters.agent_id is not None:
        held = aliased(A)  # the outer query may read the assignment facts too
        where.append(exists().where(held.conversation_id == table.conversation_id,
                                    held.membership_id == filters.agent_id).correlate(table))
    return where


def stats_of(n: int, total: float, low: float, high: float, p90: float) -> Stats:
    """The average of the exact values; median and p90 of the whole seconds (``metrics.stats``)."""
    low, high, p90 = math.floor(low), math.floor(high), math.floor(p90)
    return Stats(count=n, avg=round(total / n, 3), median=float(low if n % 2 else (low + high) / 2), p90=float(p90))


def nearest_rank_90(n: int) -> int:
    return max(1, math.ceil(0.9 * n))


async def grouped_stats(session: AsyncSession, rows: Select[Any], values: int = 1) -> dict[Any, list[Stats]]:
    """``rows`` selects a group key then ``values`` value columns (NULL: not measured); returns,
    per group, the stats of each value column."""
    sub = rows.subquery()
    key, columns = sub.c[0], list(sub.c)[1:1 + values]
    if session.get_bind().dialect.name == "postgresql":
        return await _postgresql(session, key, columns)
    out: dict[Any, list[Stats]] = {}
    for i, column in enumerate(columns):
        for group, stats in (await _sqlite(session, key, column)).items():
            out.setdefault(group, [Stats() for _ in columns])[i] = stats
    return out


UPPER_MIDDLE = 0.5 + 1e-9  # ceil(p·n) is n/2 + 1 for an even n and (n + 1)/2 for an odd one (n < 5·10⁸)


async def _postgresql(session: AsyncSession, key: Any, columns: Sequence[Any]) -> dict[Any, list[Stats]]:
    """One sort per column: the three ranks come from one ``percentile_disc`` over an array."""
    fractions = postgresql.array([literal(0.5), literal(UPPER_MIDDLE), literal(0.9)])
    aggregates: list[Any] = []
    for column in columns:
        aggregates += [func.count(column), func.sum(column),
                       func.percentile_disc(fractions).within_group(column)]
    out: dict[Any, list[Stats]] = {}
    for row in (await session.execute(select(key, *aggregates).group_by(key))).all():
        stats = []
        for i in range(len(columns)):
            n, total, ranks = row[1 + 3 * i: 4 + 3 * i]
            stats.append(stats_of(n, total, *ranks) if n else Stats())
        out[row[0]] = stats
    return out


async def _sqlite(session: AsyncSession, key: Any, column: Any) -> dict[Any, Stats]:
    ranked = select(key.label("g"), column.label("v"),
                    func.row_number().over(partition_by=key, order_by=column).label("rn"),
                    func.count().over(partition_by=key).label("n"),
                    func.sum(column).over(partition_by=key).label("total")).where(column.is_not(None)).subquery()
    r = ranked.c
    tenth = literal(0.9) * r.n
    ninety = cast(tenth, Integer) + case((tenth > cast(tenth, Integer), 1), else_=0)
    low, high = (r.n + 1) // 2, r.n // 2 + 1
    picked: dict[Any, dict[str, Any]] = {}
    for g, n, total, rn, v, is_low, is_high, is_ninety in (await session.execute(
            select(r.g, r.n, r.total, r.rn, r.v, r.rn == low, r.rn == high, r.rn == ninety)
            .where(or_(r.rn == low, r.rn == high, r.rn == ninety)))).all():
        p = picked.setdefault(g, {"n": n, "total": total})
        for name, hit in (("low", is_low), ("high", is_high), ("p90", is_ninety)):
            if hit:
                p[name] = v
    return {g: stats_of(p["n"], p["total"], p["low"], p["high"], p["p90"]) for g, p in picked.items()}


def count_if(condition: ColumnElement[bool]) -> Any:
    return func.sum(case((condition, 1), else_=0))


Policies = tuple[Policy, dict[int, Policy]]


def per_campaign(policies: Policies, value: Callable[[Policy], int]) -> Any:
    """A policy's threshold for each fact's campaign (its own policy, else the client default)."""
    default, own = policies
    if not own:
        return literal(value(default))
    return case({cid: value(p) for cid, p in own.items()}, value=F.campaign_id, else_=value(default))


def chosen(policies: Policies, clock_s: Any, business_s: Any) -> Any:
    """The business seconds where the campaign's policy counts business hours, else the clock's
    (``sla.elapsed``; a campaign without a schedule has business seconds equal to the clock's)."""
    default, own = policies
    if default.business_hours:
        on_the_clock = [cid for cid, p in own.items() if not p.business_hours]
        return case((F.campaign_id.in_(on_the_clock), clock_s), else_=business_s)
    in_business = [cid for cid, p in own.items() if p.business_hours]
    return case((F.campaign_id.in_(in_business), business_s), else_=clock_s)


def within_sla(policies: Policies) -> Any:
    """Offered and assigned within the campaign's optimal queue wait (the service level's part)."""
    wait = chosen(policies, F.queue_wait_s, F.queue_wait_bs)
    return count_if(F.offered & F.queue_wait_s.is_not(None)
                    & (wait <= per_campaign(policies, lambda p: p.queue_optimal_seconds)))
