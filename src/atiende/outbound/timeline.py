"""A send's chart over time: per time bucket, how many recipients reached each milestone (sent,
delivered, read, failed, replied) in it. Counted in SQL (a send has up to 100,000 recipients):
the database groups each milestone's time by a *unit* of at most 15 minutes counted from the
epoch; every zone's offset is a multiple of 15 minutes, so a unit lies in one local hour and one
local day of any zone, and Python merges units into hours and days of the client's time zone
(right across daylight-saving changes). Buckets inside the span with nothing in them are zeros."""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, cast, extract, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession

from atiende.clock import as_utc
from atiende.outbound.models import OutboundRecipient, OutboundSend
from atiende.tenancy.models import Client

MILESTONES = ("sent", "delivered", "read", "failed", "replied")  # each one is the column ``<name>_at``
MAX_BUCKETS = 120
# Bucket sizes below a day, in seconds; past 120 hours, buckets are local days (or several days).
SIZES = (1, 10, 60, 300, 900, 3600)
UNIT_MAX = 900
DAY = 86_400


@dataclass
class TimelinePoint:
    start: datetime  # the bucket's start, in the client's zone
    sent: int = 0
    delivered: int = 0
    read: int = 0
    failed: int = 0
    replied: int = 0


@dataclass
class Timeline:
    bucket_seconds: int
    timezone: str
    points: list[TimelinePoint] = field(default_factory=list)


def bucket_size(span_seconds: float) -> int:
    """The smallest size that covers the span in at most ``MAX_BUCKETS`` buckets."""
    for size in SIZES:
        if span_seconds < size * MAX_BUCKETS:
            return size
    return DAY * (int(span_seconds // (DAY * MAX_BUCKETS)) + 1)


def _epoch(session: AsyncSession, column: Any) -> Any:
    """Whole seconds since the epoch of a stored (naive UTC) time, on SQLite and PostgreSQL."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.floor(extract("epoch", column)), BigInteger)
    return cast(func.strftime("%s", column), BigInteger)


def _unit_of(session: AsyncSession, column: Any, unit: int) -> Any:
    # The unit is one of ours (an int), inlined so that SELECT and GROUP BY are the same expression
    # on PostgreSQL; integer by integer is integer division on both databases.
    return _epoch(session, column) // literal_column(str(int(unit)), BigInteger)


async def send_timeline(session: AsyncSession, send: OutboundSend) -> Timeline:
    """``send`` is already loaded for the caller (``outbound_service.get``): scoping is done."""
    zone_name = await session.scalar(select(Client.timezone).where(Client.id == send.client_id)) or "UTC"
    zone = ZoneInfo(zone_name)
    columns = [getattr(OutboundRecipient, f"{name}_at") for name in MILESTONES]
    bounds = (await session.execute(select(*(func.min(c) for c in columns), *(func.max(c) for c in columns))
                                    .where(OutboundRecipient.send_id == send.id))).one()
    lows = [as_utc(v) for v in bounds[:len(columns)] if v is not None]
    highs = [as_utc(v) for v in bounds[len(columns):] if v is not None]
    if not lows:
        return Timeline(bucket_seconds=SIZES[0], timezone=zone_name)
    first, last = min(lows), max(highs)
    size = bucket_size((last - first).total_seconds())
    unit = min(size, UNIT_MAX)
    origin = _local_day(first, zone)
    points = {key: TimelinePoint(start=key.astimezone(zone))
              for key in _buckets(_bucket(first, size, zone, origin), _bucket(last, size, zone, origin), size, zone)}
    for name, column in zip(MILESTONES, columns, strict=True):
        index = _unit_of(session, column, unit)
        rows = await session.execute(select(index, func.count()).where(
            OutboundRecipient.send_id == send.id, column.is_not(None)).group_by(index))
        for value, count in rows.all():
            at = datetime.fromtimestamp(int(value) * unit, UTC)
            point = points[_bucket(at, size, zone, origin)]
            setattr(point, name, getattr(point, name) + count)
    return Timeline(bucket_seconds=size, timezone=zone_name, points=list(points.values()))


def _local_day(at: datetime, zone: ZoneInfo) -> date:
    return at.astimezone(zone).date()


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), zone).astimezone(UTC)


def _bucket(at: datetime, size: int, zone: ZoneInfo, origin: date) -> datetime:
    """The UTC start of the bucket holding ``at``: sizes up to 15 minutes count from the epoch
    (the same in every zone), an hour is the local hour, days count from the first local day."""
    if size <= UNIT_MAX:
        return datetime.fromtimestamp(int(at.timestamp()) // size * size, UTC)
    if size < DAY:
        return at.astimezone(zone).replace(minute=0, second=0, microsecond=0).astimezone(UTC)
    days = (_local_day(at, zone) - origin).days // (size // DAY) * (size // DAY)
    return _midnight(origin + timedelta(days=days), zone)


def _buckets(first: datetime, last: datetime, size: int, zone: ZoneInfo) -> list[datetime]:
    """Every bucket start from ``first`` to ``last`` (UTC), zeros included."""
    out: list[datetime] = []
    if size <= UNIT_MAX:
        at = first
        while at <= last:
            out.append(at)
            at += timedelta(seconds=size)
        return out
    if size < DAY:  # local hours, unit by unit: right for any offset change
        at = first
        while at <= last:
            key = _bucket(at, size, zone, first.date())
            if not out or out[-1] != key:
                out.append(key)
            at += timedelta(seconds=UNIT_MAX)
        return out
    day = first.astimezone(zone).date()
    while (at := _midnight(day, zone)) <= last:
        out.append(at)
        day += timedelta(days=size // DAY)
    return out
