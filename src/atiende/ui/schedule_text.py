"""Schedules told in words: "Lunes a viernes 08:00 – 17:00, America/Bogota"."""

from collections.abc import Iterable, Sequence
from datetime import time
from typing import Protocol

from atiende.i18n import t


class BandView(Protocol):
    weekday: int
    start: time
    end: time
    overnight: bool


def day_name(weekday: int) -> str:
    return t(f"weekday.{weekday}")


def clock(value: time, *, is_end: bool = False) -> str:
    """``00:00`` as the end of a same-day band is midnight: shown as 24:00."""
    return "24:00" if is_end and value == time(0) else value.strftime("%H:%M")


def days_text(weekdays: Sequence[int]) -> str:
    days = sorted(set(weekdays))
    if len(days) >= 3 and days == list(range(days[0], days[-1] + 1)):
        return t("schedule.days_range", first=day_name(days[0]), last=day_name(days[-1]))
    names = [day_name(d) for d in days]
    if len(names) == 1:
        return names[0]
    return t("schedule.days_list", items=", ".join(names[:-1]), last=names[-1])


def band_text(start: time, end: time, overnight: bool) -> str:
    text = f"{clock(start)} – {clock(end, is_end=not overnight)}"
    return t("schedule.overnight", hours=text) if overnight else text


def band_groups(bands: Iterable[BandView]) -> list[str]:
    """One phrase per distinct opening, days grouped ("Lunes a viernes 08:00 – 17:00")."""
    groups: dict[tuple[time, time, bool], list[int]] = {}
    for band in sorted(bands, key=lambda b: (b.weekday, b.start)):
        groups.setdefault((band.start, band.end, band.overnight), []).append(band.weekday)
    phrases = [f"{days_text(days)} {band_text(*key)}"
               for key, days in sorted(groups.items(), key=lambda kv: (min(kv[1]), kv[0][0]))]
    return [_capitalized(p) for p in phrases]


def summary(bands: Iterable[BandView], timezone: str) -> str:
    groups = band_groups(bands)
    if not groups:
        return t("schedule.no_bands", timezone=timezone)
    return f"{'; '.join(groups)}, {timezone}"


def _capitalized(text: str) -> str:
    return text[:1].upper() + text[1:]
