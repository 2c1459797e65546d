"""What the console decides without a browser: which mandatory values keep Guardar disabled and on
which tab, how a schedule reads in words, and which words a service refusal becomes."""

from datetime import time

import pytest
from pydantic import ValidationError

from atiende import i18n
from atiende.auth.memberships import SeatsExhausted
from atiende.campaigns.models import AssignmentMethod, OutOfHoursAction
from atiende.campaigns.schemas import CampaignCreate
from atiende.campaigns.service import ChannelTaken
from atiende.catalog.schedule_rules import Band
from atiende.catalog.usage import InUse
from atiende.errors import Conflict, Invalid
from atiende.ui.console.campaign_form import CampaignDraft, tab_of
from atiende.ui.errors import describe
from atiende.ui.schedule_text import summary

PLAN_HOURS = 48


@pytest.fixture(autouse=True)
def spanish() -> None:
    i18n.set_locale_source(lambda: "es")
    yield
    i18n.set_locale_source(None)


def complete_draft() -> CampaignDraft:
    return CampaignDraft(client_id=1, project_id=2, name="Recordatorios de pago", channel_ids=[4], schedule_id=5,
                         out_of_hours_action=OutOfHoursAction.close,
                         typifications={"inactivity": 6, "transferred": 7, "agent_closed": 8, "mass_transfer": 9},
                         assignment_method=AssignmentMethod.smart)


def missing(draft: CampaignDraft) -> dict[str, list[str]]:
    return {tab: fields for tab, fields in draft.missing(PLAN_HOURS).items() if fields}


def test_a_new_form_lists_every_mandatory_value_on_its_tab() -> None:
    assert missing(CampaignDraft(client_id=1)) == {
        "detail": ["project_id", "name"], "channels": ["channels.channel_ids"],
        "schedule": ["schedule.schedule_id", "schedule.out_of_hours_action"],
        "typifications": [f"typifications.{s}" for s in ("inactivity", "transferred", "agent_closed", "mass_transfer")],
        "assignment": ["assignment_method"]}


def test_a_complete_form_misses_nothing_and_is_the_services_schema() -> None:
    draft = complete_draft()
    assert missing(draft) == {}
    form = CampaignCreate.model_validate(draft.payload())
    assert form.permissions.history_hours is None and form.inactivity_timeout_minutes == 30


@pytest.mark.parametrize(("change", "tab", "field"), [
    ({"survey_enabled": True}, "detail", "survey.survey_bot_id"),
    ({"channel_ids": []}, "channels", "channels.channel_ids"),
    ({"send_out_of_hours_message": True}, "schedule", "schedule.out_of_hours_message"),
    ({"inactivity_timeout_minutes": None}, "typifications", "inactivity_timeout_minutes"),
    ({"fields": [{"type": None, "field_definition_id": None, "required": True}]}, "fields",
     "fields.0.field_definition_id"),
])
def test_conditional_values_become_mandatory(change: dict, tab: str, field: str) -> None:
    draft = complete_draft()
    for key, value in change.items():
        setattr(draft, key, value)
    assert missing(draft) == {tab: [field]}


def test_configuring_channels_later_needs_no_channel() -> None:
    draft = complete_draft()
    draft.channel_ids, draft.configure_later = [], True
    assert missing(draft) == {}


@pytest.mark.parametrize(("hours", "ok"), [(None, False), (0, False), (1, True), (PLAN_HOURS, True),
                                           (PLAN_HOURS + 1, False)])
def test_history_hours_are_needed_with_history_and_capped_by_the_plan(hours: int | None, ok: bool) -> None:
    draft = complete_draft()
    draft.permissions.update(history_enabled=True, history_hours=hours)
    assert missing(draft) == ({} if ok else {"permissions": ["permissions.history_hours"]})


def test_history_hours_are_not_sent_while_history_is_off() -> None:
    draft = complete_draft()
    draft.permissions.update(history_enabled=False, history_hours=24)
    assert draft.payload()["permissions"]["history_hours"] is None


@pytest.mark.parametrize(("field", "tab"), [("typifications.transferred", "typifications"), ("name", "detail"),
                                            ("channels.channel_ids.0", "channels"), ("fields.2.required", "fields"),
                                            ("permissions.history_hours", "permissions"), (None, "detail"),
                                            ("inactivity_timeout_minutes", "typifications")])
def test_a_server_field_belongs_to_one_tab(field: str | None, tab: str) -> None:
    assert tab_of(field) == tab


def test_schedules_read_as_grouped_days() -> None:
    weekdays = [Band(d, time(8), time(17)) for d in range(5)]
    assert summary(weekdays, "America/Bogota") == "Lunes a viernes 08:00 – 17:00, America/Bogota"
    assert summary([Band(0, time(9), time(13)), Band(2, time(9), time(13)), Band(5, time(22), time(6), True)],
                   "America/Lima") == "Lunes y miércoles 09:00 – 13:00; Sábado 22:00 – 06:00 (día siguiente), America/Lima"
    assert summary([Band(6, time(18), time(0))], "UTC") == "Domingo 18:00 – 24:00, UTC"
    assert summary([], "UTC") == "Sin franjas (siempre cerrado), UTC"


def test_refusals_become_spanish_messages_for_their_field() -> None:
    assert describe(SeatsExhausted(4)) == [
        ("active", "Todas las licencias del plan están en uso. Desactiva un usuario o amplía el plan.")]
    assert describe(ChannelTaken("API", "Soporte", 3))[0][0] == "channels.channel_ids"
    assert describe(Conflict("Another project already uses this name", field="name")) == [
        ("name", "Ya existe otro elemento con este nombre.")]
    assert describe(InUse('The schedule "X"', ["Soporte", "Cobros"]))[0][1] == (
        "Está en uso por las campañas Soporte, Cobros; cámbialas o elimínalas primero.")
    assert describe(Invalid("Band 2 overlaps band 1", field="bands.1"))[0][1].startswith("Revisa esta franja")
    unknown = Invalid("Something new the service says", field="somewhere")
    assert describe(unknown) == [("somewhere", "Something new the service says")]


def test_schema_errors_name_the_nested_field() -> None:
    with pytest.raises(ValidationError) as caught:
        CampaignCreate.model_validate({**complete_draft().payload(), "name": "", "inactivity_timeout_minutes": 0})
    assert dict(describe(caught.value)) == {"name": "Este campo es obligatorio.",
                                            "inactivity_timeout_minutes": "Debe ser como mínimo 1."}
