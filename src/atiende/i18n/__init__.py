"""Locale catalogs: every string a person reads, in Spanish (the default) and English.

Catalogs are flat JSON files with dotted keys: ``es.json``/``en.json`` plus one file per domain in
``es/``/``en/`` (``es/contacts.json``…), so a domain's texts live beside each other; a key defined
twice is an error. ``t(key, **params)``
formats the text of the current locale with ``str.format`` placeholders. The current locale comes
from a source the UI installs (the logged-in user's choice) and falls back to the default.
"""

import json
from collections.abc import Callable
from datetime import date
from functools import cache
from importlib import resources

from babel import Locale
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
    root = resources.files(__package__)
    data: dict[str, str] = json.loads(root.joinpath(f"{locale}.json").read_text(encoding="utf-8"))
    folder = root.joinpath(locale)
    if folder.is_dir():
        for part in sorted(folder.iterdir(), key=lambda f: f.name):
            if not part.name.endswith(".json"):
                continue
            extra: dict[str, str] = json.loads(part.read_text(encoding="utf-8"))
            twice = sorted(set(extra) & set(data))
            if twice:
                raise ValueError(f"{locale}/{part.name} redefines {twice[:3]}")
            data.update(extra)
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


def plural_form(locale: str, count: int) -> str:
    """CLDR's plural category of ``count`` in ``locale`` ("one", "many", "other"…), from Babel."""
    return str(Locale.parse(locale).plural_form(abs(count)))


def translate_count(locale: str, key: str, count: int, **params: object) -> str:
    """The text of ``key.<plural form>`` for ``count`` ("campaign.missing.one": "Falta 1 dato…"),
    falling back to ``key.other``; ``{count}`` is filled in."""
    texts = catalog(locale)
    form = plural_form(locale, count)
    for candidate in (f"{key}.{form}", f"{key}.other"):
        if candidate in texts:
            return translate(locale, candidate, count=count, **params)
    return translate(locale, key, count=count, **params)


def tn(key: str, count: int, **params: object) -> str:
    """``t`` for a text about ``count`` things, in the plural form the current locale uses."""
    return translate_count(current_locale(), key, count, **params)


def has(key: str) -> bool:
    return key in catalog(current_locale())


def format_day(value: date) -> str:
    """A calendar date the way the current locale writes it (e.g. "25 dic 2026")."""
    return _babel_format_date(value, format="medium", locale=current_locale())
