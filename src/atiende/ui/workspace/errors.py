"""The engine's refusals in the viewer's language.

The engine raises ``AtiendeError`` subclasses with an English message and the field at fault;
this module picks a catalog text for the ones agents and supervisors meet (``workspace.error.*``,
by error class and field), words a dynamic field's refusal by its code (``field.min_length``…,
with the field's label), and otherwise falls back to the console's general rules
(``ui.errors.describe``)."""

from nicegui import ui
from pydantic import ValidationError

from atiende.errors import AtiendeError
from atiende.i18n import has, t
from atiende.ui.errors import FieldError, FormErrors, describe


def explain(exc: AtiendeError | ValidationError) -> list[FieldError]:
    if isinstance(exc, ValidationError):
        return describe(exc)
    name, field = type(exc).__name__, exc.field
    if exc.code.endswith("_taken") and has(f"errors.{exc.code}"):  # names the object: «/saludo»
        return [(field, t(f"errors.{exc.code}", value=exc.extra.get("value", "")))]
    keys = [f"workspace.error.{name}.{field}", f"workspace.error.{name}"] if field else [f"workspace.error.{name}"]
    for base in type(exc).__mro__[1:]:
        if isinstance(base, type) and issubclass(base, AtiendeError) and field:
            keys.append(f"workspace.error.{base.__name__}.{field}")
    for key in keys:
        if has(key):
            return [(field, t(key))]
    if exc.code.startswith("field."):  # the one field validator's refusals (catalog.fields)
        key = "workspace.validation.required" if exc.code == "field.required" else f"errors.{exc.code}"
        if has(key):
            return [(field, t(key, label=exc.extra.get("label", ""), n=exc.extra.get("n", "")))]
    return describe(exc)


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
