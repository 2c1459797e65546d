"""How the page writes durations and rates."""


def duration(seconds: float | None) -> str:
    """``1 h 05 min``, ``4 min 30 s``, ``40 s``; a dash when there is nothing to show."""
    if seconds is None:
        return "—"
    total = int(round(seconds))
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours:02d} h"
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f} %"
