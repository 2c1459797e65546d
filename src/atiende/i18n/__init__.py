"""Locale catalogs: every string a person reads, in Spanish (the default) and English.

Catalogs are flat JSON files (``es.json``, ``en.json``) with dotted keys; ``t(key, **params)``
formats the text of the current locale with ``str.format`` placeholders. The current locale comes
from a source the UI installs (the logged-in user's choice) and falls back to the default.
"""

import json
from collections.abc import Callable
from datetime import date
from functools import cache
from importlib import resources

from babel.dates import format_date as _babel_format_date

LOCALES: tuple[str, ...] = ("es", "en")
DEFAULT_LOCALE = "es"

LocaleSource = Callable[[], str | None]

_state: dict[str, object] = {"default": DEFAULT_LOCALE, "source": None}


@cache
def catalog(locale: str) -> dict[str, str]:
    """The whole catalog of ``locale`` (one of ``LOCALES``)."""
    if locale not in LOCALES:
        raise ValueError(f"Unknown locale {locale!r}")
    text = resources.files(__package__).joinpath(f"{locale}.json").read_text(encoding="utf-8")
    data: dict[str, str] = json.loads(text)
    return data


def set_default_locale(locale: str) -> None:
    _state["default"] = locale if locale in LOCALES else DEFAULT_LOCALE


def set_locale_source(source: LocaleSource | None) -> None:
    """Install the function that tells which locale the current person reads."""
    _state["source"] = source


def current_locale() -> str:
    source = _state["source"]
    locale = source() if callable(source) else None
    return locale if locale in LOCALES else str(_state["default"])


def translate(locale: str, key: str, **params: object) -> str:
    """The text of ``key`` in ``locale``; a missing key shows itself, so it is noticed, never crashes."""
    text = catalog(locale).get(key)
    if text is None:
        text = catalog(DEFAULT_LOCALE).get(key, key)
    return text.format(**params) if params else text


def t(key: str, **params: object) -> str:
    return translate(current_locale(), key, **params)


def has(key: str) -> bool:
    return key in catalog(current_locale())


def format_day(value: date) -> str:
    """A calendar date the way the current locale writes it (e.g. "25 dic 2026")."""
    return _babel_format_date(value, format="medium", locale=current_locale())
