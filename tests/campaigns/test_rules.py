"""The campaign form's rules: each refusal is a 4xx naming the field, and nothing is stored."""

from typing import Any

import httpx
import pytest

from atiende.catalog.models import FieldDefinition, Funnel, Schedule, SurveyBot, Typification
from atiende.channels.models import Channel
from atiende.tenancy.models import Project
from tests.campaigns.conftest import CreateCampaign, Deactivate
from tests.factories import CampaignSetup, Factory, Tenant

URL = "/api/v1/campaigns"
SLOTS = ("inactivity", "transferred", "agent_closed", "mass_transfer")


async def refused(http: httpx.AsyncClient, tenant: Tenant, body: dict[str, Any], status: int, field: str) -> str:
    """POST ``body``, expect ``status`` naming ``field``, and check no campaign was stored."""
    response = await http.post(URL, headers=tenant.admin.headers, json=body)
    assert response.status_code == status, response.text
    assert response.json()["field"] == field, response.text
    listing = await http.get(URL, headers=tenant.admin.headers)
    assert listing.json()["total"] == 0 or all(c["name"] != body.get("name") for c in listing.json()["items"])
    return str(response.json()["detail"])


def without(body: dict[str, Any], path: str) -> dict[str, Any]:
    parts = path.split(".")
    target = body
    for part in parts[:-1]:
        target = target[part]
    del target[parts[-1]]
    return body


@pytest.mark.parametrize("path", ["client_id", "project_id", "name", "schedule", "schedule.schedule_id",
                                  "schedule.out_of_hours_action", "typifications",
                                  *(f"typifications.{slot}" for slot in SLOTS), "assignment_method"])
async def test_mandatory_fields_are_named_when_missing(http: httpx.AsyncClient, tenant: Tenant,
                                                       setup: CampaignSetup, path: str) -> None:
    await refused(http, tenant, without(setup.body(), path), 422, path)


async def test_a_blank_name_is_refused(http: httpx.AsyncClient, tenant: Tenant, setup: CampaignSetup) -> None:
    await refused(http, tenant, setup.body(name="   "), 422, "name")


@pytest.mark.parametrize(("path", "value"), [("schedule.out_of_hours_action", "ignore"),
                                             ("assignment_method", "random")])
async def test_closed_sets_accept_only_their_values(http: httpx.AsyncClient, tenant: Tenant, setup: CampaignSetup,
                                                    path: str, value: str) -> None:
    body = setup.body()
    if "." in path:
        body["schedule"]["out_of_hours_action"] = value
    else:
        body[path] = value
    await refused(http, tenant, body, 422, path)


async def test_both_out_of_hours_actions_and_assignment_methods_are_stored(
        http: httpx.AsyncClient, create_campaign: CreateCampaign, setup: CampaignSetup) -> None:
    later = {"configure_later": True, "channel_ids": []}
    queue = await create_campaign(schedule={**setup.body()["schedule"], "out_of_hours_action": "queue"},
                                  assignment_method="round_robin", channels=later)
    assert queue["schedule"]["out_of_hours_action"] == "queue" and queue["assignment_method"] == "round_robin"


async def test_at_least_one_channel_unless_configured_later(http: httpx.AsyncClient, tenant: Tenant,
                                                           setup: CampaignSetup,
                                                           create_campaign: CreateCampaign) -> None:
    detail = await refused(http, tenant, setup.body(channels={"configure_later": False, "channel_ids": []}),
                           422, "channels.channel_ids")
    assert "channel" in detail
    await refused(http, tenant, without(setup.body(), "channels"), 422, "channels.channel_ids")
    later = await create_campaign(channels={"configure_later": True, "channel_ids": []})
    assert later["channels"] == {"configure_later": True, "channel_ids": []}


async def test_an_enabled_survey_needs_its_bot(http: httpx.AsyncClient, tenant: Tenant, setup: CampaignSetup,
                                               create_campaign: CreateCampaign) -> None:
    await refused(http, tenant, setup.body(survey={"enabled": True}), 422, "survey.survey_bot_id")
    off = await create_campaign(survey={"enabled": False, "survey_bot_id": None})
    assert off["survey"] == {"enabled": False, "survey_bot_id": None}


@pytest.mark.parametrize("message", ["", "   \n "])
async def test_sending_the_out_of_hours_message_needs_its_text(http: httpx.AsyncClient, tenant: Tenant,
                                                               setup: CampaignSetup, message: str) -> None:
    body = setup.body()
    body["schedule"]["out_of_hours_message"] = message
    await refused(http, tenant, body, 422, "schedule.out_of_hours_message")


async def test_no_message_is_needed_when_it_is_not_sent(http: httpx.AsyncClient, setup: CampaignSetup,
                                                        create_campaign: CreateCampaign) -> None:
    schedule = {"schedule_id": setup.schedule_id, "out_of_hours_action": "queue"}
    campaign = await create_campaign(schedule=schedule)
    assert campaign["schedule"] == {**schedule, "apply_to_queued": False, "out_of_hours_message": "",
                                    "send_out_of_hours_message": False}


async def test_history_hours_only_with_history_and_within_the_plan(http: httpx.AsyncClient, tenant: Tenant,
                                                                   setup: CampaignSetup,
                                                                   create_campaign: CreateCampaign) -> None:
    base = setup.body()["permissions"]
    await refused(http, tenant, setup.body(permissions={**base, "history_enabled": False, "history_hours": 24}),
                  422, "permissions.history_hours")
    await refused(http, tenant, setup.body(permissions={**base, "history_enabled": True, "history_hours": None}),
                  422, "permissions.history_hours")
    assert tenant.client.plan_max_history_hours == 72
    detail = await refused(http, tenant, setup.body(permissions={**base, "history_hours": 73}),
                           422, "permissions.history_hours")
    assert "72" in detail
    at_the_limit = await create_campaign(permissions={**base, "history_hours": 72})
    assert at_the_limit["permissions"]["history_hours"] == 72
    no_history = await create_campaign(permissions={**base, "history_enabled": False, "history_hours": None},
                                       channels={"configure_later": True, "channel_ids": []})
    assert no_history["permissions"]["history_hours"] is None


@pytest.mark.parametrize(("minutes", "ok"), [(0, False), (1, True), (10080, True), (10081, False), (-5, False)])
async def test_inactivity_timeout_is_between_one_minute_and_one_week(
        http: httpx.AsyncClient, tenant: Tenant, setup: CampaignSetup, minutes: int, ok: bool) -> None:
    body = setup.body(inactivity_timeout_minutes=minutes)
    if ok:
        response = await http.post(URL, headers=tenant.admin.headers, json=body)
        assert response.status_code == 201 and response.json()["inactivity_timeout_minutes"] == minutes
    else:
        await refused(http, tenant, body, 422, "inactivity_timeout_minutes")


def with_reference(body: dict[str, Any], field: str, value: int) -> dict[str, Any]:
    """Put ``value`` at the reference named ``field`` (the way the API names it in errors)."""
    if field in ("project_id", "funnel_id"):
        body[field] = value
    elif field == "survey.survey_bot_id":
        body["survey"]["survey_bot_id"] = value
    elif field == "schedule.schedule_id":
        body["schedule"]["schedule_id"] = value
    elif field.startswith("typifications."):
        body["typifications"][field.split(".")[1]] = value
    elif field == "channels.channel_ids.0":
        body["channels"]["channel_ids"] = [value]
    elif field == "fields.0.field_definition_id":
        body["fields"] = [{"field_definition_id": value, "required": False}]
    return body


REFERENCES = {"project_id": ("project_id", Project), "funnel_id": ("funnel_id", Funnel),
              "survey.survey_bot_id": ("survey_bot_id", SurveyBot), "schedule.schedule_id": ("schedule_id", Schedule),
              "channels.channel_ids.0": ("channel_id", Channel),
              "fields.0.field_definition_id": ("field_definition_id", FieldDefinition),
              **{f"typifications.{slot}": (slot, Typification) for slot in SLOTS}}


def setup_id(setup: CampaignSetup, key: str) -> int:
    return setup.typification_ids[key] if key in SLOTS else int(getattr(setup, key))


@pytest.mark.parametrize("field", list(REFERENCES))
async def test_unknown_ids_are_refused_naming_the_field(http: httpx.AsyncClient, tenant: Tenant,
                                                        setup: CampaignSetup, field: str) -> None:
    detail = await refused(http, tenant, with_reference(setup.body(), field, 999_999), 422, field)
    assert "999999" in detail


@pytest.mark.parametrize("field", list(REFERENCES))
async def test_another_clients_ids_are_refused_naming_the_field(
        http: httpx.AsyncClient, tenant: Tenant, setup: CampaignSetup, other_setup: CampaignSetup,
        field: str) -> None:
    theirs = setup_id(other_setup, REFERENCES[field][0])
    await refused(http, tenant, with_reference(setup.body(), field, theirs), 422, field)


@pytest.mark.parametrize("field", list(REFERENCES))
async def test_inactive_items_cannot_be_newly_assigned(http: httpx.AsyncClient, tenant: Tenant,
                                                       setup: CampaignSetup, deactivate: Deactivate,
                                                       field: str) -> None:
    key, model = REFERENCES[field]
    await deactivate(model, setup_id(setup, key))
    detail = await refused(http, tenant, with_reference(setup.body(), field, setup_id(setup, key)), 422, field)
    assert "inactive" in detail


async def test_items_deactivated_after_assignment_do_not_block_other_changes(
        http: httpx.AsyncClient, tenant: Tenant, setup: CampaignSetup, factory: Factory, deactivate: Deactivate,
        create_campaign: CreateCampaign) -> None:
    campaign = await create_campaign()
    for key, model in REFERENCES.values():
        await deactivate(model, setup_id(setup, key))
    url = f"{URL}/{campaign['id']}"
    renamed = await http.patch(url, headers=tenant.admin.headers, json={"name": "Renombrada", "active": False})
    assert renamed.status_code == 200, renamed.text
    again = await http.patch(url, headers=tenant.admin.headers, json={"active": True})
    assert again.status_code == 200, again.text
    # ...but a channel that is switched off cannot be added afterwards
    parked = await factory.campaign_channel(tenant.client.id, active=False)  # type: ignore[attr-defined]
    add = await http.patch(url, headers=tenant.admin.headers,
                           json={"channels": {"channel_ids": [setup.channel_id, parked]}})
    assert add.status_code == 422 and add.json()["field"] == "channels.channel_ids.1"


async def test_repeated_channels_or_fields_are_refused(http: httpx.AsyncClient, tenant: Tenant,
                                                       setup: CampaignSetup) -> None:
    await refused(http, tenant, setup.body(channels={"channel_ids": [setup.channel_id, setup.channel_id]}),
                  422, "channels.channel_ids.1")
    field = {"field_definition_id": setup.field_definition_id, "required": False}
    await refused(http, tenant, setup.body(fields=[field, {**field, "required": True}]),
                  422, "fields.1.field_definition_id")


async def test_fields_keep_their_order_and_required_flag(http: httpx.AsyncClient, tenant: Tenant,
                                                         factory: Factory, create_campaign: CreateCampaign) -> None:
    second = await factory.campaign_setup(tenant.client.id)  # type: ignore[attr-defined]
    third = await factory.campaign_setup(tenant.client.id)  # type: ignore[attr-defined]
    fields = [{"field_definition_id": third.field_definition_id, "required": False},
              {"field_definition_id": second.field_definition_id, "required": True}]
    campaign = await create_campaign(fields=fields)
    assert campaign["fields"] == fields
    url = f"{URL}/{campaign['id']}"
    reordered = await http.patch(url, headers=tenant.admin.headers, json={"fields": [
        {**fields[1], "required": False}, fields[0]]})
    assert reordered.json()["fields"] == [{**fields[1], "required": False}, fields[0]]
    assert (await http.get(url, headers=tenant.admin.headers)).json()["fields"] == reordered.json()["fields"]


async def test_names_are_unique_within_a_project_ignoring_case(http: httpx.AsyncClient, tenant: Tenant,
                                                               setup: CampaignSetup, factory: Factory,
                                                               create_campaign: CreateCampaign) -> None:
    later = {"configure_later": True, "channel_ids": []}
    await create_campaign(name="Cobranza Ñandú", channels=later)
    detail = await refused(http, tenant, setup.body(name="cobranza ñandú", channels=later), 409, "name")
    assert "Cobranza Ñandú" in detail
    other_project = await factory.project(tenant.client.id)
    elsewhere = await create_campaign(name="cobranza ñandú", channels=later, project_id=other_project.id)
    moved = await http.patch(f"{URL}/{elsewhere['id']}", headers=tenant.admin.headers,
                             json={"project_id": setup.project_id})
    assert moved.status_code == 409 and moved.json()["field"] == "name"
    recased = await http.patch(f"{URL}/{elsewhere['id']}", headers=tenant.admin.headers,
                               json={"name": "COBRANZA ÑANDÚ"})
    assert recased.status_code == 200 and recased.json()["name"] == "COBRANZA ÑANDÚ"
