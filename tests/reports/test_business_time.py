"""Business time on the schedule rules: open seconds in a stretch, and when a target falls due."""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from atiende.catalog.schedule_rules import Band
from atiende.catalog.schedule_snapshots import Day, ScheduleSnapshot
from atiende.reports.business_time import OpenHours, business_deadline, business_seconds
from atiende.reports.sla import Policy, SlaState, live_state


def office(zone: str, start: int = 9, end: int = 17, holidays: tuple[date, ...] = ()) -> ScheduleSnapshot:
    return ScheduleSnapshot(id=1, timezone=zone, bands=tuple(Band(d, time(start), time(end)) for d in range(5)),
                            holidays=tuple(Day(h) for h in holidays))


def local(zone: str, *args: int) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(zone)).astimezone(UTC)


def test_friday_1630_with_a_one_hour_target_falls_due_monday_0930() -> None:
    schedule = office("America/Bogota")
    due = business_deadline(schedule, local("America/Bogota", 2026, 1, 9, 16, 30), 3600)
    assert due == local("America/Bogota", 2026, 1, 12, 9, 30)
    assert business_seconds(schedule, local("America/Bogota", 2026, 1, 9, 16, 30), due) == 3600


def test_a_holiday_counts_no_time() -> None:
    schedule = office("America/Bogota", holidays=(date(2026, 1, 12),))
    start = local("America/Bogota", 2026, 1, 9, 16, 30)
    assert business_deadline(schedule, start, 3600) == local("America/Bogota", 2026, 1, 13, 9, 30)
    assert business_seconds(schedule, start, local("America/Bogota", 2026, 1, 13, 12)) == 1800 + 3 * 3600


def test_a_schedule_in_a_zone_with_dst_keeps_its_local_hours() -> None:
    """New York springs forward on Sunday 2026-03-08: the day before and after still open 9–17 local,
    so a Friday 16:00 → Monday 10:00 stretch holds 2 business hours even though 1 hour of clock vanished."""
    zone = "America/New_York"
    schedule = office(zone)
    start, end = local(zone, 2026, 3, 6, 16), local(zone, 2026, 3, 9, 10)
    assert (end - start).total_seconds() == (66 - 1) * 3600
    assert business_seconds(schedule, start, end) == 2 * 3600
    assert business_deadline(schedule, start, 2 * 3600) == end


def test_open_hours_answers_any_stretch_inside_its_window() -> None:
    schedule = office("America/Bogota")
    hours = OpenHours(schedule, local("America/Bogota", 2026, 1, 5), local("America/Bogota", 2026, 1, 12))
    assert hours.seconds(local("America/Bogota", 2026, 1, 5, 16, 50), local("America/Bogota", 2026, 1, 6, 8, 30)) == 600
    assert hours.seconds(local("America/Bogota", 2026, 1, 5), local("America/Bogota", 2026, 1, 12)) == 5 * 8 * 3600


def test_the_board_turns_amber_at_80_percent_and_red_past_the_low_threshold() -> None:
    schedule = office("America/Bogota")
    policy = Policy(60, 100, 60, 100, 24, business_hours=True)
    since = local("America/Bogota", 2026, 1, 9, 16, 58, 30)  # 90 s before closing
    assert live_state(policy, schedule, since, local("America/Bogota", 2026, 1, 9, 16, 59, 49), 100) == SlaState.ok
    assert live_state(policy, schedule, since, local("America/Bogota", 2026, 1, 9, 16, 59, 50), 100) \
        == SlaState.warning
    assert live_state(policy, schedule, since, local("America/Bogota", 2026, 1, 12, 8), 100) == SlaState.warning
    assert live_state(policy, schedule, since, local("America/Bogota", 2026, 1, 12, 9, 0, 11), 100) \
        == SlaState.breached
