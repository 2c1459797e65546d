"""What a report covers: a range of local days in the client's time zone and optional filters."""

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from atiende.auth.caller import Caller
from atiende.errors import Invalid

MAX_RANGE_DAYS = 366
EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)


class RangeTooLong(Invalid):
    code = "reports.range_too_long"

    def __init__(self) -> None:
        super().__init__(f"A report covers at most {MAX_RANGE_DAYS} days", field="date_to")


class DateOutOfRange(Invalid):
    code = "reports.date_out_of_range"

    def __init__(self, field_name: str) -> None:
        super().__init__(f"{field_name} must be between {EARLIEST} and {LATEST}", field=field_name)


class RangeReversed(Invalid):
    code = "reports.range_reversed"

    def __init__(self) -> None:
        super().__init__("date_to must be on or after date_from", field="date_to")


class ClientRequired(Invalid):
    code = "reports.client_required"

    def __init__(self) -> None:
        super().__init__("You act in several clients: say which one", field="client_id")


def client_of(caller: Caller, client_id: int | None) -> int:
    """The client a report is about: the one asked for, or the caller's only one."""
    if client_id is not None:
        return client_id
    if len(caller.client_ids) != 1:
        raise ClientRequired()
    return caller.client_ids[0]


class RangePreset(StrEnum):
    today = "today"
    yesterday = "yesterday"
    last_7_days = "last_7_days"
    last_30_days = "last_30_days"
    this_month = "this_month"
    custom = "custom"


@dataclass(frozen=True)
class ReportFilters:
    """``date_from``..``date_to`` are local calendar days (both included) in the client's zone."""

    client_id: int
    date_from: date
    date_to: date
    timezone: str = "UTC"
    project_id: int | None = None
    campaign_id: int | None = None
    channel_id: int | None = None
    agent_id: int | None = None  # a membership: conversations this agent held
    typification_id: int | None = None

    def __post_init__(self) -> None:
        for name in ("date_from", "date_to"):
            if not EARLIEST <= getattr(self, name) <= LATEST:
                raise DateOutOfRange(name)
        if self.date_to < self.date_from:
            raise RangeReversed()
        if (self.date_to - self.date_from).days + 1 > MAX_RANGE_DAYS:
            raise RangeTooLong()

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def start(self) -> datetime:
        """The first instant of ``date_from`` in the client's zone, in UTC."""
        return datetime.combine(self.date_from, time(0), self.zone).astimezone(UTC)

    @property
    def end(self) -> datetime:
        """The first instant after ``date_to`` (exclusive), in UTC."""
        return datetime.combine(self.date_to + timedelta(days=1), time(0), self.zone).astimezone(UTC)

    @property
    def days(self) -> int:
        return (self.date_to - self.date_from).days + 1

    def previous(self) -> "ReportFilters":
        """The period of the same length just before (for the change shown on each card)."""
        return replace(self, date_from=self.date_from - timedelta(days=self.days),
                       date_to=self.date_from - timedelta(days=1))


def preset_range(preset: RangePreset, today: date) -> tuple[date, date]:
    """The local days a preset covers, ``today`` being the client's current day."""
    if preset == RangePreset.yesterday:
        day = today - timedelta(days=1)
        return day, day
    if preset == RangePreset.last_7_days:
        return today - timedelta(days=6), today
    if preset == RangePreset.last_30_days:
        return today - timedelta(days=29), today
    if preset == RangePreset.this_month:
        return today.replace(day=1), today
    return today, today
