"""Bad input never reaches the database: a 4xx naming the field, and nothing stored or changed."""

import json
from typing import Any

import httpx
import pytest

from tests.campaigns.conftest import CreateCampaign
from tests.factories import CampaignSetup, Tenant

URL = "/api/v1/campaigns"
BIG = 2**31


def put(body: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    target: Any = body
    parts = path.split(".")
    for part in parts[:-1]:
        target = target[int(part)] if isinstance(target, list) else target[part]
    target[parts[-1]] = value
    return body


BAD_VALUES = [
    # wrong types
    ("client_id", "uno", "client_id"),
    ("project_id", 1.5, "project_id"),
    ("name", 123, "name"),
    ("name", ["Cobranza"], "name"),
    ("survey", "yes", "survey"),
    ("survey.enabled", "maybe", "survey.enabled"),
    ("channels.channel_ids", "4", "channels.channel_ids"),
    ("channels.channel_ids", [{"id": 4}], "channels.channel_ids.0"),
    ("schedule.apply_to_queued", "quizás", "schedule.apply_to_queued"),
    ("typifications.inactivity", None, "typifications.inactivity"),
    ("inactivity_timeout_minutes", "thirty", "inactivity_timeout_minutes"),
    ("permissions.emojis", "sí", "permissions.emojis"),
    ("permissions.history_hours", "48", "permissions.history_hours"),
    ("permissions.history_hours", 0, "permissions.history_hours"),
    ("fields", {"field_definition_id": 1}, "fields"),
    ("fields.0.required", "yes", "fields.0.required"),
    ("assignment_method", 1, "assignment_method"),
    ("active", "maybe", "active"),
    # huge or unstorable text
    ("name", "x" * 121, "name"),
    ("name", "x" * 200_000, "name"),
    ("schedule.out_of_hours_message", "m" * 4097, "schedule.out_of_hours_message"),
    ("name", "Cobranza\x00", "name"),
    ("schedule.out_of_hours_message", "Hola\x00", "schedule.out_of_hours_message"),
    # ids beyond a 32-bit integer, zero, negative
    ("project_id", BIG, "project_id"),
    ("funnel_id", 0, "funnel_id"),
    ("survey.survey_bot_id", -1, "survey.survey_bot_id"),
    ("schedule.schedule_id", BIG, "schedule.schedule_id"),
    ("typifications.mass_transfer", 10**20, "typifications.mass_transfer"),
    ("channels.channel_ids", [BIG], "channels.channel_ids.0"),
    ("fields.0.field_definition_id", BIG, "fields.0.field_definition_id"),
    ("channels.channel_ids", list(range(1, 52)), "channels.channel_ids"),
    # unknown keys, at the top and inside a tab
    ("colour", "red", "colour"),
    ("survey.questions", [], "survey.questions"),
    ("permissions.superpowers", True, "permissions.superpowers"),
]


@pytest.mark.parametrize(("path", "value", "field"), BAD_VALUES, ids=[f"{p}={str(v)[:20]}" for p, v, _ in BAD_VALUES])
async def test_a_bad_value_is_refused_naming_its_field(http: httpx.AsyncClient, tenant: Tenant,
                                                       setup: CampaignSetup, path: str, value: Any,
                                                       field: str) -> None:
    response = await http.post(URL, headers=tenant.admin.headers, json=put(setup.body(), path, value))
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["field"] == field, response.text
    assert (await http.get(URL, headers=tenant.admin.headers)).json()["total"] == 0


@pytest.mark.parametrize(("path", "value", "field"), BAD_VALUES, ids=[f"{p}={str(v)[:20]}" for p, v, _ in BAD_VALUES])
async def test_a_bad_value_in_a_patch_changes_nothing(http: httpx.AsyncClient, tenant: Tenant,
                                                      setup: CampaignSetup, create_campaign: CreateCampaign,
                                                      path: str, value: Any, field: str) -> None:
    campaign = await create_campaign()
    patch = {k: v for k, v in put(setup.body(), path, value).items() if k == path.split(".")[0]}
    response = await http.patch(f"{URL}/{campaign['id']}", headers=tenant.admin.headers, json=patch)
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["field"] == field, response.text
    assert (await http.get(f"{URL}/{campaign['id']}", headers=tenant.admin.headers)).json() == campaign


async def test_a_lone_surrogate_is_refused(http: httpx.AsyncClient, tenant: Tenant, setup: CampaignSetup) -> None:
    raw = json.dumps(setup.body(name="SURROGATE")).replace("SURROGATE", "\\ud800")
    response = await http.post(URL, headers={**tenant.admin.headers, "Content-Type": "application/json"},
                               content=raw.encode())
    assert response.status_code == 422 and response.json()["field"] == "name"


@pytest.mark.parametrize("content", [b"", b"not json", b"[]", b"null", b'{"name": "x"', b"42"])
async def test_a_body_that_is_not_a_json_object_is_refused(http: httpx.AsyncClient, tenant: Tenant,
                                                           content: bytes) -> None:
    response = await http.post(URL, headers={**tenant.admin.headers, "Content-Type": "application/json"},
                               content=content)
    assert response.status_code == 422, response.text
    assert (await http.get(URL, headers=tenant.admin.headers)).json()["total"] == 0


@pytest.mark.parametrize("url", [f"{URL}/{BIG}", f"{URL}/0", f"{URL}/abc", f"{URL}/{BIG}/duplicate"])
async def test_bad_ids_in_the_path_are_refused(http: httpx.AsyncClient, tenant: Tenant, url: str) -> None:
    for method in ("GET", "PATCH", "DELETE", "POST"):
        if method == "POST" and not url.endswith("duplicate"):
            continue
        if method != "POST" and url.endswith("duplicate"):
            continue
        response = await http.request(method, url, headers=tenant.admin.headers, json={} if method != "GET" else None)
        assert response.status_code == 422 and response.json()["field"] == "campaign_id", (method, response.text)


@pytest.mark.parametrize(("params", "field"), [({"client_id": BIG}, "client_id"), ({"project_id": BIG}, "project_id"),
                                               ({"project_id": "x"}, "project_id"), ({"q": "a" * 121}, "q"),
                                               ({"q": "a\x00"}, "q"), ({"active": "quizás"}, "active"),
                                               ({"limit": 1000}, "limit"), ({"page": 0}, "page")])
async def test_bad_list_parameters_are_refused(http: httpx.AsyncClient, tenant: Tenant, params: dict[str, Any],
                                               field: str) -> None:
    response = await http.get(URL, headers=tenant.admin.headers, params=params)
    assert response.status_code == 422 and response.json()["field"] == field, response.text


async def test_an_unknown_campaign_is_not_found(http: httpx.AsyncClient, tenant: Tenant) -> None:
    for method, suffix in (("GET", ""), ("PATCH", ""), ("DELETE", ""), ("POST", "/duplicate")):
        response = await http.request(method, f"{URL}/999999{suffix}", headers=tenant.admin.headers,
                                      json={} if method in ("PATCH", "POST") else None)
        assert response.status_code == 404 and response.json()["field"] == "campaign_id"
