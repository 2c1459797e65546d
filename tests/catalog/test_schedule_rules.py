"""The business-hours arithmetic itself (pure functions), including its properties under Hypothesis:
``next_change`` really is the next change, for any bands, holidays, zone and instant."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from atiende.catalog.schedule_rules import Band, band_problem, is_open, is_valid_timezone, next_change, overlapping_pair

ZONES = ["America/Bogota", "Europe/Madrid", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata",
         "America/Santiago", "Pacific/Chatham", "UTC"]
# Instants where those zones move their clocks, to look closely around them.
TRANSITIONS = [datetime(2026, 3, 29, 1, 0, tzinfo=UTC), datetime(2026, 10, 25, 1, 0, tzinfo=UTC),  # Madrid
               datetime(2026, 3, 8, 7, 0, tzinfo=UTC), datetime(2026, 11, 1, 6, 0, tzinfo=UTC),  # New York
               datetime(2026, 4, 4, 15, 0, tzinfo=UTC), datetime(2026, 10, 3, 15, 30, tzinfo=UTC),  # Lord Howe
               datetime(2026, 4, 5, 3, 0, tzinfo=UTC), datetime(2026, 9, 6, 4, 0, tzinfo=UTC)]  # Santiago


class Schedule:
    def __init__(self, timezone: str, bands: list[Band], holidays: tuple[date, ...] = ()) -> None:
        self.timezone = timezone
        self.bands = bands
        self.holidays = [type("Holiday", (), {"day": d})() for d in holidays]

    def __repr__(self) -> str:
        return f"Schedule({self.timezone!r}, {self.bands!r}, {tuple(h.day for h in self.holidays)!r})"


def at_local(zone: str, *args: int) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(zone))  # type: ignore[misc]


# --- examples -----------------------------------------------------------------------------------

def test_bands_are_validated_one_by_one() -> None:
    assert band_problem(Band(0, time(8), time(17))) is None
    assert band_problem(Band(0, time(8), time(0))) is None  # until midnight
    assert band_problem(Band(0, time(0), time(0))) is None  # the whole day
    assert band_problem(Band(7, time(8), time(17))) and band_problem(Band(-1, time(8), time(17)))
    assert band_problem(Band(0, time(17), time(8)))  # inverted: must be marked overnight
    assert band_problem(Band(0, time(22), time(22), overnight=True))
    assert band_problem(Band(0, time(22), time(0), overnight=True))
    assert band_problem(Band(0, time(8, 0, 30), time(17)))


def test_overlaps_are_found_across_midnight_and_the_end_of_the_week() -> None:
    assert overlapping_pair([Band(0, time(8), time(12)), Band(0, time(12), time(17))]) is None  # touching is fine
    assert overlapping_pair([Band(0, time(8), time(12)), Band(0, time(11), time(17))]) == (0, 1)
    assert overlapping_pair([Band(2, time(22), time(6), True), Band(3, time(5), time(9))]) == (0, 1)
    assert overlapping_pair([Band(6, time(22), time(6), True), Band(0, time(5), time(9))]) == (0, 1)
    assert overlapping_pair([Band(6, time(22), time(6), True), Band(0, time(6), time(9))]) is None


def test_time_zone_names_are_iana_names() -> None:
    assert is_valid_timezone("America/Bogota") and is_valid_timezone("UTC")
    for name in ("Mars/Olympus", "", "america/bogota", "../../etc/passwd", "America/Bogota\x00", "+05:00"):
        assert not is_valid_timezone(name), name


def test_when_new_york_falls_back_a_band_ending_at_0130_closes_reopens_and_closes_again() -> None:
    """On 1 November 2026 New York lives 01:00–02:00 twice. A Sunday band until 01:30 closes at
    01:30 EDT, is open again when the clocks go back to 01:00 EST, and closes at 01:30 EST."""
    schedule = Schedule("America/New_York", [Band(6, time(0), time(1, 30))])
    first_close = datetime(2026, 11, 1, 5, 30, tzinfo=UTC)
    assert next_change(schedule, first_close - timedelta(minutes=1)) == first_close
    reopen = next_change(schedule, first_close)
    assert reopen == datetime(2026, 11, 1, 6, 0, tzinfo=UTC)
    assert next_change(schedule, reopen) == datetime(2026, 11, 1, 6, 30, tzinfo=UTC)


def test_a_holiday_also_closes_the_morning_tail_of_the_night_before() -> None:
    schedule = Schedule("America/Bogota", [Band(3, time(22), time(6), True)], holidays=(date(2026, 1, 9),))
    assert is_open(schedule, at_local("America/Bogota", 2026, 1, 8, 23, 0))  # Thursday night
    assert not is_open(schedule, at_local("America/Bogota", 2026, 1, 9, 1, 0))  # Friday, a holiday
    assert next_change(schedule, at_local("America/Bogota", 2026, 1, 8, 23, 0)) == at_local(
        "America/Bogota", 2026, 1, 9, 0, 0)


def test_an_always_open_schedule_never_changes() -> None:
    schedule = Schedule("Europe/Madrid", [Band(d, time(0), time(0)) for d in range(7)])
    assert is_open(schedule, datetime(2026, 3, 29, 1, 30, tzinfo=UTC))
    assert next_change(schedule, datetime(2026, 3, 29, 0, 0, tzinfo=UTC)) is None


# --- properties ---------------------------------------------------------------------------------

clock_times = st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45]))
bands = st.builds(Band, st.integers(0, 6), clock_times, clock_times, st.booleans()).filter(
    lambda b: band_problem(b) is None)


@st.composite
def schedules(draw: st.DrawFn) -> Schedule:
    kept: list[Band] = []
    for band in draw(st.lists(bands, max_size=8)):
        if overlapping_pair([*kept, band]) is None:
            kept.append(band)
    holidays = draw(st.lists(st.dates(date(2025, 12, 1), date(2027, 2, 1)), max_size=6))
    return Schedule(draw(st.sampled_from(ZONES)), kept, tuple(holidays))


instants = st.one_of(
    st.datetimes(datetime(2025, 12, 1), datetime(2027, 1, 31), timezones=st.just(UTC)),
    st.builds(lambda t, minutes: t - timedelta(minutes=minutes), st.sampled_from(TRANSITIONS),
              st.integers(-3 * 24 * 60, 3 * 24 * 60)),
)
PROPERTY_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                                     HealthCheck.filter_too_much])

NEW_YORK_FALL_BACK = Schedule("America/New_York", [Band(6, time(0), time(1, 30))])
NEW_YORK_SPRING = Schedule("America/New_York", [Band(6, time(2, 30), time(10))])


@PROPERTY_SETTINGS
@given(schedules(), instants)
@example(NEW_YORK_FALL_BACK, datetime(2026, 11, 1, 5, 45, tzinfo=UTC))
@example(NEW_YORK_SPRING, datetime(2026, 3, 8, 5, 0, tzinfo=UTC))
def test_next_change_really_changes_whether_it_is_open(schedule: Schedule, at: datetime) -> None:
    change = next_change(schedule, at)
    if change is not None:
        assert change > at
        assert is_open(schedule, change) != is_open(schedule, at)


@PROPERTY_SETTINGS
@given(schedules(), instants, st.lists(st.floats(0, 1, exclude_max=True), min_size=1, max_size=5))
@example(NEW_YORK_FALL_BACK, datetime(2026, 11, 1, 5, 45, tzinfo=UTC), [0.5])
@example(NEW_YORK_SPRING, datetime(2026, 3, 8, 5, 0, tzinfo=UTC), [0.8])
def test_nothing_changes_before_next_change(schedule: Schedule, at: datetime, fractions: list[float]) -> None:
    now_open = is_open(schedule, at)
    change = next_change(schedule, at)
    end = change or at + timedelta(days=60)
    samples = [at + (end - at) * f for f in fractions] + [end - timedelta(seconds=1)]
    for moment in samples:
        if at <= moment < end:  # (a product may round up to ``end`` itself)
            assert is_open(schedule, moment) == now_open, (moment, change)


@PROPERTY_SETTINGS
@given(schedules(), instants)
def test_an_open_moment_has_a_band_or_is_not_a_holiday(schedule: Schedule, at: datetime) -> None:
    local = at.astimezone(ZoneInfo(schedule.timezone))
    if local.date() in {h.day for h in schedule.holidays}:
        assert not is_open(schedule, at)
    if not schedule.bands:
        assert not is_open(schedule, at) and next_change(schedule, at) is None


def test_the_next_change_is_remembered_on_the_snapshot_until_it_comes() -> None:
    from atiende.catalog.schedule_snapshots import ScheduleSnapshot, next_change_of

    office = ScheduleSnapshot(id=1, timezone="America/Bogota",
                              bands=tuple(Band(d, time(8), time(18)) for d in range(5)), holidays=())
    monday_9 = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("America/Bogota"))
    closing = next_change_of(office, monday_9)
    assert closing == datetime(2026, 3, 2, 18, 0, tzinfo=ZoneInfo("America/Bogota"))
    assert next_change_of(office, monday_9 + timedelta(hours=8)) == closing
    assert office.memo["next_change"][0] == monday_9  # answered from memory, not walked again
    after = closing + timedelta(minutes=1)
    assert next_change_of(office, after) == next_change(office, after) == datetime(
        2026, 3, 3, 8, 0, tzinfo=ZoneInfo("America/Bogota"))
    assert next_change_of(office, monday_9) == closing  # earlier than what is remembered: walked again
    always = ScheduleSnapshot(id=2, timezone="UTC", bands=tuple(Band(d, time(0), time(0)) for d in range(7)),
                              holidays=())
    assert next_change_of(always, monday_9) is None and next_change_of(always, after) is None
