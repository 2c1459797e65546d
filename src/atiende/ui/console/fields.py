"""Configuración → Campos: the dynamic fields agents fill in on a conversation (type, options of a
select, and the checks each type allows)."""

from typing import Any

from nicegui import ui

from atiende.catalog.models import FieldDefinition, FieldType
from atiende.catalog.schemas import FieldDefinitionCreate, FieldDefinitionUpdate
from atiende.catalog.service import field_definition_service
from atiende.i18n import t
from atiende.ui.components import active_chip, form_dialog, help_text, save_button, testid
from atiende.ui.console.base import CatalogScreen
from atiende.ui.console.typifications import slug
from atiende.ui.context import Acting, PageContext
from atiende.ui.data import fetch_all
from atiende.ui.editors import ListEditor
from atiende.ui.errors import FormErrors
from atiende.ui.layout import console_page

# The checks each type offers: (key, widget) with widget "int" | "number" | "date" | "text".
RULES: dict[FieldType, list[tuple[str, str]]] = {
    FieldType.text: [("min_length", "int"), ("max_length", "int"), ("pattern", "text")],
    FieldType.number: [("min", "number"), ("max", "number")],
    FieldType.date: [("min", "date"), ("max", "date")],
}


def type_label(kind: FieldType) -> str:
    return t(f"field_type.{kind.value}")


def describe_rules(item: FieldDefinition) -> str:
    if item.type is FieldType.select:
        return ", ".join(item.options)
    parts = [f"{t(f'field_rule.{key}')}: {value}" for key, value in (item.validation or {}).items()]
    return "; ".join(parts) or "—"


class FieldsScreen(CatalogScreen[FieldDefinition]):
    key = "fields"
    icon = "dynamic_form"

    async def load(self, acting: Acting) -> list[FieldDefinition]:
        return await fetch_all(field_definition_service.list, acting.session, acting.caller,
                               client_id=self.context.client_id)

    def item_name(self, item: FieldDefinition) -> str:
        return item.label

    def headers(self) -> list[str]:
        return [t("fields.label"), t("fields.key"), t("fields.type"), t("fields.details"), t("common.state")]

    def draw_row(self, item: FieldDefinition) -> None:
        with ui.element("td"):
            ui.label(item.label).classes("text-weight-medium")
        with ui.element("td"):
            ui.label(item.key).classes("font-mono text-grey-8")
        with ui.element("td"):
            ui.label(type_label(item.type))
        with ui.element("td"):
            ui.label(describe_rules(item)).classes("text-grey-8")
        with ui.element("td"):
            active_chip(item.active)

    async def delete_item(self, acting: Acting, item: FieldDefinition) -> None:
        row = await self.refetch(field_definition_service, acting, item)
        await field_definition_service.delete(acting.session, acting.caller, row, clock=acting.clock)

    async def build_form(self, item: FieldDefinition | None) -> None:
        errors = FormErrors()
        state: dict[str, Any] = {"type": item.type if item else FieldType.text}
        options: list[dict[str, Any]] = [{"text": o} for o in (item.options if item else [])]
        rules: dict[str, Any] = {}
        touched = {"key": item is not None}
        with form_dialog(t("fields.edit") if item else t("fields.new"), testid_value="field-dialog") as (
                dialog, body, footer):
            with body:
                label = testid(ui.input(t("fields.label"), value=item.label if item else "")
                               .props("outlined maxlength=120").classes("w-full"), "field-label")
                key = testid(ui.input(t("fields.key"), value=item.key if item else "")
                             .props("outlined maxlength=60").classes("w-full"), "field-key")
                help_text(t("fields.key_help"))
                kind = testid(ui.select({k: type_label(k) for k in FieldType}, value=state["type"],
                                        label=t("fields.type")).props("outlined" + (" readonly" if item else ""))
                              .classes("w-full"), "field-type")
                if item:
                    help_text(t("fields.type_fixed"))
                active = testid(ui.switch(t("common.active"), value=item.active if item else True), "field-active")
                for field, element in (("label", label), ("key", key), ("type", kind)):
                    errors.bind(field, element)

                @ui.refreshable
                def type_settings() -> None:
                    rules.clear()
                    if state["type"] is FieldType.select:
                        ui.label(t("fields.options")).classes("text-subtitle2")

                        def option_row(row: dict[str, Any], index: int) -> None:
                            option = testid(ui.input(t("fields.option"), value=row["text"])
                                            .props("outlined dense maxlength=120").classes("grow"),
                                            f"field-option-{index}")
                            option.on_value_change(lambda e: row.__setitem__("text", e.value))
                            errors.bind(f"options.{index}", option)

                        ListEditor(options, option_row, new_row=lambda: {"text": ""}, add_label=t("fields.add_option"),
                                   key="options", errors=errors)
                        return
                    checks = RULES.get(state["type"], [])
                    if not checks:
                        help_text(t("fields.no_rules"))
                        return
                    ui.label(t("fields.rules")).classes("text-subtitle2")
                    stored = item.validation if item and item.type is state["type"] else {}
                    with ui.row().classes("w-full gap-2"):
                        for rule, widget in checks:
                            rules[rule] = self._rule_input(rule, widget, stored.get(rule))
                            errors.bind(f"validation.{rule}", rules[rule])

                type_settings()

                def type_changed(e: Any) -> None:
                    state["type"] = FieldType(e.value)
                    type_settings.refresh()

                kind.on_value_change(type_changed)
                label.on_value_change(lambda e: None if touched["key"] else key.set_value(slug(e.value or "")))
                key.on("keydown", lambda: touched.__setitem__("key", True))
                errors.add_banner()

            async def submit() -> None:
                chosen = [o["text"] for o in options] if state["type"] is FieldType.select else []
                validation = {r: self._rule_value(e) for r, e in rules.items() if self._rule_value(e) is not None}

                async def work(acting: Acting) -> None:
                    if item is None:
                        data = FieldDefinitionCreate(client_id=self.context.client_id, key=key.value or "",
                                                     label=label.value or "", type=state["type"], options=chosen,
                                                     validation=validation or None, active=active.value)
                        await field_definition_service.create(acting.session, acting.caller, data,
                                                              clock=acting.clock)
                        return
                    row = await self.refetch(field_definition_service, acting, item)
                    changes = FieldDefinitionUpdate(key=key.value or "", label=label.value or "", type=item.type,
                                                    options=chosen, validation=validation or None,
                                                    active=active.value)
                    await field_definition_service.update(acting.session, acting.caller, row, changes,
                                                          clock=acting.clock)

                if await self.save(errors, work):
                    dialog.close()

            with footer:
                save_button(submit)
        dialog.open()

    @staticmethod
    def _rule_input(rule: str, widget: str, value: Any) -> Any:
        label = t(f"field_rule.{rule}")
        tid = f"field-rule-{rule.replace('_', '-')}"
        if widget in ("int", "number"):
            element: Any = ui.number(label, value=value, step=1 if widget == "int" else None,
                                     format="%d" if widget == "int" else None).props("outlined dense clearable")
        elif widget == "date":
            element = ui.input(label, value=value or "").props("outlined dense type=date")
        else:
            element = ui.input(label, value=value or "").props("outlined dense maxlength=200")
        return testid(element.classes("grow min-w-[10rem]"), tid)

    @staticmethod
    def _rule_value(element: Any) -> Any:
        value = element.value
        if value in (None, ""):
            return None
        if isinstance(value, float) and value.is_integer() and "%d" in str(element.props.get("format", "")):
            return int(value)
        return value


@console_page("fields")
async def fields_page(context: PageContext) -> None:
    await FieldsScreen(context).mount()
