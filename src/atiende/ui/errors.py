"""Turning service errors into messages next to the field they name.

Services raise ``AtiendeError`` with a ``field`` ("name", "typifications.transferred"); schemas raise
Pydantic ``ValidationError`` with a ``loc``. Both become ``(field, message)`` pairs in the viewer's
language: a catalog text for the error class (or the Pydantic error type) when there is one, the
service's own message otherwise.
"""

import re
from collections.abc import Iterable
from typing import Any

from nicegui import ui
from nicegui.elements.mixins.validation_element import ValidationElement
from pydantic import ValidationError

from atiende.errors import AtiendeError
from atiende.i18n import has, t

FieldError = tuple[str | None, str]


def _field_of(loc: Iterable[Any]) -> str | None:
    parts = [str(p) for p in loc]
    return ".".join(parts) or None


def _wildcard(field: str) -> str:
    return re.sub(r"\.\d+(?=\.|$)", ".*", field)


def _validation_message(error: Any) -> str:
    """Catalog text for the Pydantic error type, per field first ("validation.value_error.timezone")."""
    kind = error.get("type", "")
    ctx = {k: v for k, v in (error.get("ctx") or {}).items() if isinstance(v, int | float | str)}
    if kind == "string_too_short" and ctx.get("min_length") == 1:
        kind = "missing"  # an empty required text reads better as "required" than "at least 1 character"
    field = _field_of(error.get("loc", ())) or ""
    keys = [f"validation.{kind}.{field}", f"validation.{kind}.{_wildcard(field)}", f"validation.{kind}"]
    for key in dict.fromkeys(keys):
        if has(key):
            try:
                return t(key, **ctx)
            except (KeyError, IndexError):
                continue
    return t("validation.invalid")


def _domain_message(exc: AtiendeError) -> str:
    """Catalog text for the error's specific code ("errors.campaign.channel_in_use"), else for the
    exact error class (per field, then general); for a base class such as
    ``Conflict`` only a per-field text ("error.Conflict.name"), since its message varies. List
    positions in a field match ``*`` ("error.Invalid.bands.*" for "bands.3")."""
    params = {k: ", ".join(map(str, v)) if isinstance(v, list) else v for k, v in exc.extra.items()
              if isinstance(v, int | float | str | list)}
    fields = [] if exc.field is None else list(dict.fromkeys([exc.field, _wildcard(exc.field)]))
    exact = type(exc).__name__
    specific = [f"errors.{exc.code}"] if "." in exc.code else []
    keys = specific + [f"error.{exact}.{field}" for field in fields] + [f"error.{exact}"]
    keys += [f"error.{base.__name__}.{field}" for base in type(exc).__mro__[1:]
             if isinstance(base, type) and issubclass(base, AtiendeError) for field in fields]
    for key in keys:
        if has(key):
            try:
                return t(key, **params)
            except (KeyError, IndexError):
                continue
    return exc.message


def describe(exc: AtiendeError | ValidationError) -> list[FieldError]:
    """Every problem in ``exc`` as (dotted field or None, message in the viewer's language)."""
    if isinstance(exc, ValidationError):
        return [(_field_of(e.get("loc", ())), _validation_message(e)) for e in exc.errors()]
    return [(exc.field, _domain_message(exc))]


class FormErrors:
    """Shows errors next to the inputs of one form; anything unplaced goes to a banner or a toast."""

    def __init__(self) -> None:
        self.inputs: dict[str, ValidationElement[Any] | ui.label] = {}
        self.banner: ui.label | None = None

    def bind(self, field: str, element: ValidationElement[Any] | ui.label) -> None:
        self.inputs[field] = element

    def add_banner(self) -> ui.label:
        self.banner = ui.label().classes("text-negative text-sm").props('role="alert"')
        self.banner.set_visibility(False)
        return self.banner

    def clear(self) -> None:
        for element in self.inputs.values():
            self._set(element, None)
        if self.banner is not None:
            self.banner.set_visibility(False)

    def element_for(self, field: str | None) -> ValidationElement[Any] | ui.label | None:
        """The input bound to ``field`` or to its nearest parent ("fields.2.required" → "fields.2")."""
        while field:
            if field in self.inputs:
                return self.inputs[field]
            field = field.rpartition(".")[0]
        return None

    def show(self, exc: AtiendeError | ValidationError) -> list[str]:
        """Places every message of ``exc``; returns the fields that had an input."""
        placed: list[str] = []
        loose: list[str] = []
        for field, message in describe(exc):
            element = self.element_for(field)
            if element is None:
                loose.append(message)
                continue
            self._set(element, message)
            placed.append(field or "")
        if loose:
            if self.banner is not None:
                self.banner.set_text(" ".join(loose))
                self.banner.set_visibility(True)
            else:
                ui.notify(" ".join(loose), type="negative")
        return placed

    def message_of(self, field: str) -> str | None:
        element = self.inputs.get(field)
        if isinstance(element, ValidationElement):
            return element.error
        if isinstance(element, ui.label):
            return element.text or None
        return None

    @staticmethod
    def _set(element: ValidationElement[Any] | ui.label, message: str | None) -> None:
        if isinstance(element, ValidationElement):
            element.error = message
        else:
            element.set_text(message or "")
            element.set_visibility(bool(message))
