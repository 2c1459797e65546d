"""Editing a campaign: PATCH takes any top-level keys, a tab replaces that whole tab, and the
result must pass the same rules as a new campaign."""

import httpx

from tests.campaigns.conftest import CreateCampaign
from tests.factories import CampaignSetup, Factory, Tenant

URL = "/api/v1/campaigns"


async def test_a_patch_changes_only_the_keys_sent(http: httpx.AsyncClient, tenant: Tenant,
                                                  create_campaign: CreateCampaign) -> None:
    campaign = await create_campaign()
    response = await http.patch(f"{URL}/{campaign['id']}", headers=tenant.admin.headers,
                                json={"name": "Recordatorios", "assignment_method": "round_robin"})
    assert response.status_code == 200, response.text
    changed = response.json()
    assert changed["name"] == "Recordatorios" and changed["assignment_method"] == "round_robin"
    for key in ("survey", "channels", "schedule", "typifications", "permissions", "fields", "funnel_id"):
        assert changed[key] == campaign[key]
    assert (await http.get(f"{URL}/{campaign['id']}", headers=tenant.agent.headers)).json() == changed


async def test_a_tab_sent_in_a_patch_replaces_the_whole_tab(http: httpx.AsyncClient, tenant: Tenant,
                                                            setup: CampaignSetup,
                                                            create_campaign: CreateCampaign) -> None:
    campaign = await create_campaign()
    assert campaign["schedule"]["send_out_of_hours_message"] is True
    response = await http.patch(f"{URL}/{campaign['id']}", headers=tenant.admin.headers, json={
        "schedule": {"schedule_id": setup.schedule_id, "out_of_hours_action": "queue"}})
    assert response.status_code == 200, response.text
    assert response.json()["schedule"] == {"schedule_id": setup.schedule_id, "out_of_hours_action": "queue",
                                           "apply_to_queued": False, "out_of_hours_message": "",
                                           "send_out_of_hours_message": False}
    permissions = await http.patch(f"{URL}/{campaign['id']}", headers=tenant.admin.headers,
                                   json={"permissions": {"voice_notes": True}})
    assert permissions.json()["permissions"]["voice_notes"] is True
    assert permissions.json()["permissions"]["history_enabled"] is False
    assert permissions.json()["permissions"]["history_hours"] is None


async def test_the_combined_result_is_validated_again(http: httpx.AsyncClient, tenant: Tenant,
                                                      setup: CampaignSetup,
                                                      create_campaign: CreateCampaign) -> None:
    campaign = await create_campaign(survey={"enabled": False, "survey_bot_id": None})
    url = f"{URL}/{campaign['id']}"
    cases = [
        ({"survey": {"enabled": True}}, "survey.survey_bot_id"),
        ({"channels": {"channel_ids": []}}, "channels.channel_ids"),
        ({"permissions": {"history_hours": 12}}, "permissions.history_hours"),
        ({"permissions": {"history_enabled": True, "history_hours": 100}}, "permissions.history_hours"),
        ({"schedule": {**campaign["schedule"], "out_of_hours_message": ""}}, "schedule.out_of_hours_message"),
        ({"typifications": {**campaign["typifications"], "transferred": 999_999}}, "typifications.transferred"),
        ({"project_id": 999_999}, "project_id"),
        ({"funnel_id": 999_999}, "funnel_id"),
    ]
    for patch, field in cases:
        response = await http.patch(url, headers=tenant.admin.headers, json=patch)
        assert response.status_code == 422, (patch, response.text)
        assert response.json()["field"] == field, (patch, response.text)
    current = (await http.get(url, headers=tenant.admin.headers)).json()
    assert current == campaign


async def test_required_keys_cannot_be_set_to_null(http: httpx.AsyncClient, tenant: Tenant,
                                                   create_campaign: CreateCampaign) -> None:
    campaign = await create_campaign()
    url = f"{URL}/{campaign['id']}"
    for key in ("project_id", "name", "schedule", "typifications", "assignment_method", "active", "fields",
                "survey", "channels", "permissions", "inactivity_timeout_minutes"):
        response = await http.patch(url, headers=tenant.admin.headers, json={key: None})
        assert response.status_code == 422 and response.json()["field"] == key, (key, response.text)
    assert (await http.get(url, headers=tenant.admin.headers)).json() == campaign


async def test_the_funnel_can_be_removed_with_null(http: httpx.AsyncClient, tenant: Tenant,
                                                   create_campaign: CreateCampaign) -> None:
    campaign = await create_campaign()
    assert campaign["funnel_id"] is not None
    response = await http.patch(f"{URL}/{campaign['id']}", headers=tenant.admin.headers, json={"funnel_id": None})
    assert response.status_code == 200 and response.json()["funnel_id"] is None


async def test_the_client_of_a_campaign_never_changes(http: httpx.AsyncClient, tenant: Tenant,
                                                      other_tenant: Tenant, create_campaign: CreateCampaign) -> None:
    campaign = await create_campaign()
    url = f"{URL}/{campaign['id']}"
    moved = await http.patch(url, headers=tenant.admin.headers, json={"client_id": other_tenant.client.id})
    assert moved.status_code == 422 and moved.json()["field"] == "client_id"
    same = await http.patch(url, headers=tenant.admin.headers, json={"client_id": tenant.client.id, "name": "X"})
    assert same.status_code == 200 and same.json()["client_id"] == tenant.client.id


async def test_a_campaign_moves_to_another_project_of_its_client(http: httpx.AsyncClient, tenant: Tenant,
                                                                 factory: Factory,
                                                                 create_campaign: CreateCampaign) -> None:
    campaign = await create_campaign()
    project = await factory.project(tenant.client.id, name="Retención")
    moved = await http.patch(f"{URL}/{campaign['id']}", headers=tenant.admin.headers,
                             json={"project_id": project.id})
    assert moved.status_code == 200 and moved.json()["project_name"] == "Retención"


async def test_a_whole_form_sent_back_as_a_patch_is_accepted(http: httpx.AsyncClient, tenant: Tenant,
                                                             create_campaign: CreateCampaign) -> None:
    """The console may send every tab again after editing one of them."""
    campaign = await create_campaign()
    form = {k: v for k, v in campaign.items()
            if k not in {"id", "created_at", "updated_at", "project_name", "schedule_name", "channel_summaries"}}
    response = await http.patch(f"{URL}/{campaign['id']}", headers=tenant.admin.headers,
                                json={**form, "inactivity_timeout_minutes": 90})
    assert response.status_code == 200, response.text
    assert response.json() | {"updated_at": None} == campaign | {"inactivity_timeout_minutes": 90,
                                                                  "updated_at": None}
