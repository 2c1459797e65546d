"""The campaign's dynamic fields as typed inputs (text, number, date, yes/no, list, email, phone),
required ones marked with an asterisk; the engine validates the values and its errors appear next
to each input."""

from collections.abc import Callable, Sequence
from typing import Any

from nicegui import ui

from atiende.catalog.models import FieldType
from atiende.conversations.workview import FieldSlot
from atiende.i18n import t
from atiende.ui.components import testid
from atiende.ui.errors import FormErrors

Changed = Callable[[], None]


class FieldsForm:
    def __init__(self, slots: Sequence[FieldSlot], *, on_change: Changed | None = None,
                 readonly: bool = False) -> None:
        self.slots = list(slots)
        self.inputs: dict[str, Any] = {}
        self.errors = FormErrors()
        self.on_change = on_change
        for slot in self.slots:
            element = self._input(slot)
            if readonly:
                element.props("readonly")
            testid(element, f"field-{slot.key}")
            self.inputs[slot.key] = element
            self.errors.bind(f"fields.{slot.key}", element)
        if any(slot.required for slot in self.slots):
            ui.label(t("workspace.required_legend")).classes("text-caption text-grey-7")
        self.errors.add_banner()

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()

    def _input(self, slot: FieldSlot) -> Any:
        label = f"{slot.label} *" if slot.required else slot.label
        common = "outlined dense" + (' aria-required="true"' if slot.required else "")
        value = slot.value
        rules = slot.validation
        if slot.type == FieldType.number:
            element = ui.number(label, value=value, on_change=self._changed,
                                min=rules.get("min"), max=rules.get("max"))
        elif slot.type == FieldType.boolean:
            element = ui.select({True: t("workspace.yes"), False: t("workspace.no")}, label=label, value=value,
                                clearable=True, on_change=self._changed)
        elif slot.type == FieldType.select:
            options = list(slot.options)
            if value is not None and value not in options:
                options.append(value)
            element = ui.select(options, label=label, value=value, clearable=True, on_change=self._changed)
        else:
            element = ui.input(label, value="" if value is None else str(value), on_change=self._changed)
            kinds = {FieldType.date: "date", FieldType.email: "email", FieldType.phone: "tel"}
            if slot.type in kinds:
                element.props(f"type={kinds[slot.type]}")
            if slot.type == FieldType.date:
                element.props("stack-label")
            if slot.type == FieldType.phone:
                element.props('placeholder="+573001234567"')
            if rules.get("max_length"):
                element.props(f"maxlength={int(rules['max_length'])}")
        return element.props(common).classes("w-full")

    def values(self) -> dict[str, Any]:
        """What is filled, typed the way the engine expects; empty inputs are left out."""
        found: dict[str, Any] = {}
        for slot in self.slots:
            value = self.inputs[slot.key].value
            if value is None or (isinstance(value, str) and not value.strip()):
                continue
            if slot.type == FieldType.number and isinstance(value, float) and value.is_integer():
                value = int(value)
            found[slot.key] = value
        return found

    def changes(self) -> dict[str, Any]:
        """Every field: its value, or None to clear it (for saving without closing)."""
        filled = self.values()
        return {slot.key: filled.get(slot.key) for slot in self.slots}
