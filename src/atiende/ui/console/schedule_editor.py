"""The weekly band editor of Horarios: several bands per day, overnight bands, holidays, and a
live preview of the week. Times are typed as HH:MM; the service judges overlaps and inversions."""

import re
from collections.abc import Callable
from datetime import time
from typing import Any

from nicegui import ui

from atiende.catalog.schedule_rules import MINUTES_PER_DAY, Band, band_span
from atiende.i18n import t
from atiende.ui.components import field_error_label, testid
from atiende.ui.errors import FormErrors
from atiende.ui.schedule_text import band_groups, day_name

CLOCK = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
WORKDAYS = range(1, 5)  # Tuesday to Friday receive Monday's bands


def parse_clock(text: str | None) -> time | None:
    if text and CLOCK.match(text.strip()):
        hours, minutes = text.strip().split(":")
        return time(int(hours), int(minutes))
    return None


def as_band(row: dict[str, Any]) -> Band | None:
    start, end = parse_clock(row.get("start")), parse_clock(row.get("end"))
    if start is None or end is None:
        return None
    return Band(weekday=row["weekday"], start=start, end=end, overnight=bool(row.get("overnight")))


class BandEditor:
    """Bands grouped by weekday; ``rows`` holds them in the order they are sent to the service."""

    def __init__(self, rows: list[dict[str, Any]], errors: FormErrors, on_change: Callable[[], None]) -> None:
        self.rows = rows
        self.errors = errors
        self.on_change = on_change
        self.render()

    def payload(self) -> list[dict[str, Any]]:
        """The bands as the schema takes them; binds each row's error spot to its position."""
        ordered = sorted(self.rows, key=lambda r: r["weekday"])
        for index, row in enumerate(ordered):
            if "error" in row:
                self.errors.bind(f"bands.{index}", row["error"])
        return [{"weekday": r["weekday"], "start": (r.get("start") or "").strip(),
                 "end": (r.get("end") or "").strip(), "overnight": bool(r.get("overnight"))} for r in ordered]

    @ui.refreshable_method
    def render(self) -> None:
        with ui.column().classes("w-full gap-1").props('data-testid="band-editor"'):
            for weekday in range(7):
                self._day(weekday)
            testid(ui.button(t("schedules.copy_monday"), icon="content_copy", on_click=self.copy_monday)
                   .props("flat dense no-caps color=primary"), "copy-monday")

    def _day(self, weekday: int) -> None:
        day_rows = [r for r in self.rows if r["weekday"] == weekday]
        with ui.row().classes("w-full items-start gap-2 no-wrap border-b border-gray-200 q-py-xs") \
                .props(f'data-testid="day-{weekday}"'):
            ui.label(day_name(weekday)).classes("w-24 q-pt-sm text-weight-medium first-letter:uppercase")
            with ui.column().classes("grow gap-1"):
                if not day_rows:
                    ui.label(t("schedules.closed_day")).classes("text-grey-6 q-pt-sm")
                for number, row in enumerate(day_rows):
                    self._band(row, f"band-{weekday}-{number}")
            testid(ui.button(icon="add", on_click=lambda d=weekday: self.add(d))
                   .props(f'flat round dense color=primary aria-label="{t("schedules.add_band", day=day_name(weekday))}"'),
                   f"add-band-{weekday}")

    def _band(self, row: dict[str, Any], tid: str) -> None:
        with ui.column().classes("w-full gap-0"):
            with ui.row().classes("items-center gap-2 no-wrap"):
                start = ui.input(t("schedules.start"), value=row.get("start", "")) \
                    .props('dense outlined mask="##:##" placeholder="08:00" inputmode=numeric').classes("w-28")
                end = ui.input(t("schedules.end"), value=row.get("end", "")) \
                    .props('dense outlined mask="##:##" placeholder="17:00" inputmode=numeric').classes("w-28")
                night = ui.checkbox(t("schedules.overnight"), value=bool(row.get("overnight")))
                ui.button(icon="close", on_click=lambda r=row: self.remove(r)) \
                    .props(f'flat round dense color=negative aria-label="{t("editor.remove")}" '
                           f'data-testid="{tid}-remove"')
            testid(start, f"{tid}-start")
            testid(end, f"{tid}-end")
            testid(night, f"{tid}-overnight")
            row["error"] = field_error_label()
            for key, element in (("start", start), ("end", end), ("overnight", night)):
                element.on_value_change(lambda e, k=key, r=row: self._set(r, k, e.value))

    def _set(self, row: dict[str, Any], key: str, value: Any) -> None:
        row[key] = value
        self.on_change()

    def add(self, weekday: int) -> None:
        previous = [r for r in self.rows if r["weekday"] == weekday]
        start = previous[-1]["end"] if previous else "08:00"
        self.rows.append({"weekday": weekday, "start": start, "end": "" if previous else "17:00", "overnight": False})
        self._changed()

    def remove(self, row: dict[str, Any]) -> None:
        self.rows.remove(row)
        self._changed()

    def copy_monday(self) -> None:
        monday = [r for r in self.rows if r["weekday"] == 0]
        self.rows[:] = [r for r in self.rows if r["weekday"] not in WORKDAYS]
        for weekday in WORKDAYS:
            self.rows.extend({"weekday": weekday, "start": r.get("start", ""), "end": r.get("end", ""),
                              "overnight": bool(r.get("overnight"))} for r in monday)
        self._changed()

    def _changed(self) -> None:
        self.render.refresh()
        self.on_change()


def week_preview(rows: list[dict[str, Any]], timezone: str | None) -> None:
    """The week as bars (0–24 h per day) and in words, from the bands that read well."""
    bands = [b for b in (as_band(r) for r in rows) if b is not None]
    with ui.column().classes("w-full gap-1").props('data-testid="schedule-preview"'):
        ui.label(t("schedules.preview")).classes("text-subtitle2")
        segments: dict[int, list[tuple[int, int]]] = {d: [] for d in range(7)}
        for band in bands:
            for weekday, offset, length in _day_pieces(*band_span(band)):
                segments[weekday].append((offset, length))
        for weekday in range(7):
            with ui.row().classes("w-full items-center gap-2 no-wrap"):
                ui.label(day_name(weekday)[:3]).classes("w-10 text-caption first-letter:uppercase")
                with ui.element("div").classes("relative grow h-3 rounded bg-grey-3"):
                    for offset, length in segments[weekday]:
                        ui.element("div").classes("absolute h-3 rounded bg-primary").style(
                            f"left: {offset / MINUTES_PER_DAY:.2%}; width: {length / MINUTES_PER_DAY:.2%}")
        words = band_groups(bands)
        text = "; ".join(words) if words else t("schedules.always_closed")
        testid(ui.label(f"{text}{', ' + timezone if timezone else ''}").classes("text-body2"), "schedule-summary")


def _day_pieces(start: int, end: int) -> list[tuple[int, int, int]]:
    """[start, end) minutes from Monday 00:00 as (weekday, minute of day, length), cut at midnights."""
    pieces = []
    while start < end:
        cut = min(end, (start // MINUTES_PER_DAY + 1) * MINUTES_PER_DAY)
        pieces.append(((start // MINUTES_PER_DAY) % 7, start % MINUTES_PER_DAY, cut - start))
        start = cut
    return pieces
