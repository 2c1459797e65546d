"""Whole-number inputs with limits that never change what the person typed.

Quasar/NiceGUI's ``min``/``max`` (and ``format``) silently clamp or round the value on blur
(history hours 200 → 168, −5 → 1). Here the limit is shown under the field, and a value out of
range stays as typed, refused next to the field the way the server's 422 would be."""

from collections.abc import Callable
from typing import Any

from nicegui import ui

from atiende.i18n import t
from atiende.ui.components import prop


def out_of_range(value: Any, low: int, high: int) -> str | None:
    """The refusal of ``value`` for a whole number in ``low``–``high`` (None when it fits or is empty)."""
    if value is None or value == "":
        return None
    if not isinstance(value, int | float) or value != int(value) or not low <= value <= high:
        return t("firstday.number_whole", low=low, high=high)
    return None


def whole_number(label: str, *, value: Any, low: int, high: int | Callable[[], int],
                 check: Callable[[Any], str | None] | None = None, **events: Any) -> ui.number:
    """A number input for ``low``–``high`` (``high`` may be read when validating: a plan's cap)."""

    def validate(current: Any) -> str | None:
        top = high() if callable(high) else high
        return (check(current) if check else None) or out_of_range(current, low, top)

    element = ui.number(label, value=value, step=1, validation=validate, **events)
    prop(element, "hint", t("firstday.number_range", low=low, high=high() if callable(high) else high))
    return element
