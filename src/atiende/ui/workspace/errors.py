"""The engine's refusals in the viewer's language.

The engine raises ``AtiendeError`` subclasses with an English message and the field at fault;
this module picks a catalog text for the ones agents and supervisors meet (``workspace.error.*``,
by error class and field), translates the dynamic-field validation phrases, and otherwise falls
back to the console's general rules (``ui.errors.describe``)."""

import re

from nicegui import ui
from pydantic import ValidationError

from atiende.errors import AtiendeError
from atiende.i18n import has, t
from atiende.ui.errors import FieldError, FormErrors, describe

# The phrases of ``conversations.fields.validate_field_value`` (and the required-field refusal).
_FIELD_PHRASES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"is required to close the conversation$"), "required"),
    (re.compile(r"must have at least (?P<n>\d+) characters$"), "min_length"),
    (re.compile(r"must have at most (?P<n>\d+) characters$"), "max_length"),
    (re.compile(r"does not have the expected format$"), "pattern"),
    (re.compile(r"must be a number$"), "number"),
    (re.compile(r"must be at least (?P<n>\S+)$"), "min"),
    (re.compile(r"must be at most (?P<n>\S+)$"), "max"),
    (re.compile(r"must be a date as YYYY-MM-DD$"), "date"),
    (re.compile(r"must be on or after (?P<n>\S+)$"), "after"),
    (re.compile(r"must be on or before (?P<n>\S+)$"), "before"),
    (re.compile(r"must be true or false$"), "boolean"),
    (re.compile(r"must be one of: (?P<n>.*)$"), "select"),
    (re.compile(r"must be an email address$"), "email"),
    (re.compile(r"(must be a phone number in international format.*|is not a valid phone number)$"), "phone"),
    (re.compile(r"must be text"), "text"),
]


def explain(exc: AtiendeError | ValidationError) -> list[FieldError]:
    if isinstance(exc, ValidationError):
        return describe(exc)
    name, field = type(exc).__name__, exc.field
    keys = [f"workspace.error.{name}.{field}", f"workspace.error.{name}"] if field else [f"workspace.error.{name}"]
    for base in type(exc).__mro__[1:]:
        if isinstance(base, type) and issubclass(base, AtiendeError) and field:
            keys.append(f"workspace.error.{base.__name__}.{field}")
    for key in keys:
        if has(key):
            return [(field, t(key))]
    if field and field.startswith("fields."):
        return [(field, _field_message(exc.message))]
    return describe(exc)


def _field_message(message: str) -> str:
    for pattern, key in _FIELD_PHRASES:
        found = pattern.search(message)
        if found:
            label = message[:found.start()].rstrip(": ").strip()
            return t(f"workspace.validation.{key}", label=label, n=found.groupdict().get("n", ""))
    return message


def show(exc: AtiendeError | ValidationError, form: FormErrors | None = None) -> None:
    """Next to the input it concerns when there is one; otherwise as a notification."""
    loose = []
    for field, message in explain(exc):
        element = form.element_for(field) if form is not None else None
        if element is None:
            loose.append(message)
        else:
            FormErrors._set(element, message)  # noqa: SLF001  (the console's helper, reused)
    if loose:
        ui.notify(" ".join(loose), type="negative", multi_line=True)
