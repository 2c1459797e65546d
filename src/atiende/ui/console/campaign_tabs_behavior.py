"""Tabs 5–7 of the campaign modal: Permisos, Campos, Método de asignación."""

from typing import TYPE_CHECKING, Any

from nicegui import ui

from atiende.campaigns.models import AssignmentMethod
from atiende.catalog.models import FieldType
from atiende.i18n import t
from atiende.ui.components import help_text, testid
from atiende.ui.numbers import whole_number
from atiende.ui.console.campaign_form import PERMISSION_SWITCHES
from atiende.ui.console.fields import type_label
from atiende.ui.editors import ListEditor

if TYPE_CHECKING:
    from atiende.ui.console.campaign_modal import CampaignModal


# --- 5. Permisos ------------------------------------------------------------------------------

def permissions_tab(m: "CampaignModal") -> None:
    assert m.choices is not None
    permissions = m.draft.permissions
    plan_max = m.choices.plan_max_history_hours
    for key in PERMISSION_SWITCHES:
        with ui.column().classes("w-full gap-0"):
            switch = testid(ui.switch(t(f"permission.{key}"), value=bool(permissions.get(key))), f"permission-{key}")
            help_text(t(f"permission_help.{key}")).classes("q-ml-xl")
        if key == "history_enabled":
            hours = _history_hours(m, plan_max)
            hours.set_enabled(bool(permissions.get(key)))

            def history_changed(e: Any, hours: ui.number = hours) -> None:
                permissions["history_enabled"] = bool(e.value)
                hours.set_enabled(bool(e.value))
                if e.value and not permissions.get("history_hours"):
                    hours.set_value(min(24, plan_max))
                m.changed("permissions.history_enabled", "permissions.history_hours")

            switch.on_value_change(history_changed)
        else:
            def switched(e: Any, key: str = key) -> None:
                permissions[key] = bool(e.value)
                m.changed(f"permissions.{key}")

            switch.on_value_change(switched)


def _history_hours(m: "CampaignModal", plan_max: int) -> ui.number:
    """Cantidad de horas históricas: unlocked by the history switch, capped by the plan (shown)."""
    permissions = m.draft.permissions

    def check(value: Any) -> str | None:
        if not permissions.get("history_enabled"):
            return None
        if not isinstance(value, int | float) or value < 1:
            return t("campaign.history_hours_needed")
        if value > plan_max:
            return t("campaign.history_hours_over", hours=plan_max)
        return None

    with ui.column().classes("w-full gap-0 q-ml-xl"):
        hours = testid(whole_number(t("permission.history_hours"), value=permissions.get("history_hours"), low=1,
                                    high=plan_max, check=check)
                       .props("outlined suffix=h").classes("w-72"), "permission-history_hours")
        testid(help_text(t("campaign.history_hours_plan", hours=plan_max)), "history-hours-plan")
    m.bind("permissions.history_hours", hours)

    def hours_changed(e: Any) -> None:
        permissions["history_hours"] = e.value
        m.changed("permissions.history_hours")

    hours.on_value_change(hours_changed)
    return hours


# --- 6. Campos --------------------------------------------------------------------------------

def fields_tab(m: "CampaignModal") -> None:
    assert m.choices is not None
    definitions = m.choices.fields
    types = {k: type_label(k) for k in FieldType if any(f.type is k for f in definitions)}
    help_text(t("campaign.fields_help"))
    if not definitions:
        with ui.row().classes("items-center gap-1 text-caption").props('data-testid="campaign-fields-empty"'):
            ui.label(t("campaign.no_fields")).classes("text-grey-8")
            ui.link(t("fields.create_first"), "/console/fields", new_tab=True).classes("text-primary")

    def field_options(kind: Any) -> dict[int, str]:
        return {f.id: f.label for f in definitions if kind is None or f.type == kind}

    def draw(row: dict[str, Any], index: int) -> None:
        kind = testid(ui.select(types, value=row.get("type"), label=t("campaign.field_type"))
                      .props("outlined dense").classes("w-48"), f"campaign-field-type-{index}")
        field = testid(ui.select(field_options(row.get("type")), value=row.get("field_definition_id"),
                                 label=t("campaign.field")).props("outlined dense").classes("grow min-w-[10rem]"),
                       f"campaign-field-{index}")
        required = testid(ui.checkbox(t("campaign.field_required"), value=bool(row.get("required"))),
                          f"campaign-field-required-{index}")
        m.bind(f"fields.{index}", field)

        def kind_changed(e: Any) -> None:
            row["type"] = e.value
            options = field_options(e.value)
            field.set_options(options, value=row["field_definition_id"] if row.get("field_definition_id") in options
                              else None)

        def field_changed(e: Any) -> None:
            row["field_definition_id"] = e.value
            m.changed(f"fields.{index}")

        def required_changed(e: Any) -> None:
            row["required"] = bool(e.value)

        kind.on_value_change(kind_changed)
        field.on_value_change(field_changed)
        required.on_value_change(required_changed)

    ListEditor(m.draft.fields, draw, new_row=lambda: {"type": None, "field_definition_id": None, "required": False},
               add_label=t("campaign.add_field"), key="campaign-fields", errors=m.errors,
               on_change=lambda: m.changed("fields"), error_field="fields")


# --- 7. Método de asignación ------------------------------------------------------------------

def assignment_tab(m: "CampaignModal") -> None:
    methods = {method: t(f"assignment.{method.value}") for method in AssignmentMethod}

    def method_changed(e: Any) -> None:
        m.draft.assignment_method = e.value
        m.changed("assignment_method")

    ui.label(t("campaign.assignment")).classes("text-subtitle2").props('id="campaign-assignment-label"')
    testid(ui.radio(methods, value=m.draft.assignment_method, on_change=method_changed)
           .props('aria-labelledby="campaign-assignment-label"'), "campaign-assignment")
    for method in AssignmentMethod:
        help_text(f"{t(f'assignment.{method.value}')}: {t(f'assignment_help.{method.value}')}")
    error = ui.label().classes("text-negative text-caption").props('role="alert"')
    error.set_visibility(False)
    m.bind("assignment_method", error)
