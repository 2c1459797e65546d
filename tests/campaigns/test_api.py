"""Campaigns through HTTP: the form of the issue, roles, tenants, listing and the audit trail."""

from typing import Any

import httpx

from atiende.auth.models import Role
from tests.campaigns.conftest import CreateCampaign
from tests.factories import CampaignSetup, Factory, Tenant

URL = "/api/v1/campaigns"
META = {"id", "created_at", "updated_at", "project_name", "schedule_name", "channel_summaries"}


def settings_of(campaign: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in campaign.items() if k not in META}


async def count_campaigns(http: httpx.AsyncClient, tenant: Tenant) -> int:
    listing = await http.get(URL, headers=tenant.admin.headers, params={"client_id": tenant.client.id})
    assert listing.status_code == 200, listing.text
    return int(listing.json()["total"])


async def test_the_issue_example_round_trips(http: httpx.AsyncClient, tenant: Tenant, setup: CampaignSetup) -> None:
    body = {"client_id": setup.client_id, "project_id": setup.project_id, "name": "Recordatorios de pago",
            "survey": {"enabled": True, "survey_bot_id": setup.survey_bot_id},
            "bot": {"attention_bot_id": None, "handoff_keywords": ["asesor", "agente", "humano", "persona"],
                    "misunderstandings_before_handoff": 2, "answers_out_of_hours": True,
                    "resolved_typification_id": None},
            "funnel_id": None,
            "channels": {"configure_later": False, "channel_ids": [setup.channel_id]},
            "schedule": {"schedule_id": setup.schedule_id, "out_of_hours_action": "close", "apply_to_queued": True,
                         "out_of_hours_message": "Nuestro horario es de lunes a viernes de 8 a 17.",
                         "send_out_of_hours_message": True},
            "typifications": setup.typification_ids,
            "inactivity_timeout_minutes": 30,
            "permissions": {"external_resources": True, "transfer_between_agents": True,
                            "show_contact_number": False, "history_enabled": True, "history_hours": 48,
                            "reassign_when_exclusive_offline": True, "close_without_reply": False,
                            "emojis": True, "voice_notes": False},
            "fields": [{"field_definition_id": setup.field_definition_id, "required": True}],
            "assignment_method": "smart", "active": True}
    created = await http.post(URL, headers=tenant.admin.headers, json=body)
    assert created.status_code == 201, created.text
    assert settings_of(created.json()) == body
    read = await http.get(f"{URL}/{created.json()['id']}", headers=tenant.agent.headers)
    assert read.status_code == 200
    assert settings_of(read.json()) == body
    assert read.json()["channel_summaries"][0]["id"] == setup.channel_id
    assert read.json()["channel_summaries"][0]["kind"] == "whatsapp"
    assert read.json()["project_name"].startswith("Proyecto")
    assert read.json()["schedule_name"].startswith("Horario")


async def test_optional_tabs_take_their_defaults(http: httpx.AsyncClient, tenant: Tenant,
                                                 setup: CampaignSetup) -> None:
    body = setup.body()
    for key in ("survey", "funnel_id", "inactivity_timeout_minutes", "permissions", "fields", "active"):
        del body[key]
    created = await http.post(URL, headers=tenant.admin.headers, json=body)
    assert created.status_code == 201, created.text
    campaign = created.json()
    assert campaign["survey"] == {"enabled": False, "survey_bot_id": None}
    assert campaign["inactivity_timeout_minutes"] == 30 and campaign["active"] is True
    assert campaign["permissions"]["history_enabled"] is False and campaign["permissions"]["emojis"] is True
    assert campaign["fields"] == [] and campaign["funnel_id"] is None


async def test_list_filters_searches_and_sorts_by_name(http: httpx.AsyncClient, tenant: Tenant, factory: Factory,
                                                       setup: CampaignSetup, create_campaign: CreateCampaign) -> None:
    later = {"configure_later": True, "channel_ids": []}
    zeta = await create_campaign(name="Zeta ventas", channels=later)
    alfa = await create_campaign(name="alfa cobranza", channels=later, active=False)
    other_project = await factory.project(tenant.client.id, name="Soporte")
    beta = await create_campaign(name="Beta soporte", channels=later, project_id=other_project.id)
    headers = tenant.supervisor.headers

    async def names(**params: Any) -> list[str]:
        response = await http.get(URL, headers=headers, params=params)
        assert response.status_code == 200, response.text
        return [c["name"] for c in response.json()["items"]]

    assert await names() == ["alfa cobranza", "Beta soporte", "Zeta ventas"]
    assert await names(client_id=tenant.client.id) == ["alfa cobranza", "Beta soporte", "Zeta ventas"]
    assert await names(project_id=setup.project_id) == ["alfa cobranza", "Zeta ventas"]
    assert await names(project_id=other_project.id) == ["Beta soporte"]
    assert await names(active="false") == ["alfa cobranza"]
    assert await names(active="true") == ["Beta soporte", "Zeta ventas"]
    assert await names(q="VENTAS") == ["Zeta ventas"]
    assert await names(q="%") == []
    page = await http.get(URL, headers=headers, params={"limit": 2, "page": 2})
    assert page.json()["total"] == 3 and [c["id"] for c in page.json()["items"]] == [zeta["id"]]
    listed = (await http.get(URL, headers=headers, params={"project_id": other_project.id})).json()["items"][0]
    assert listed["project_name"] == "Soporte" and listed["id"] == beta["id"] and alfa["active"] is False


async def test_supervisors_and_agents_read_but_cannot_change_campaigns(
        http: httpx.AsyncClient, tenant: Tenant, setup: CampaignSetup, create_campaign: CreateCampaign) -> None:
    campaign = await create_campaign()
    url = f"{URL}/{campaign['id']}"
    for person in (tenant.supervisor, tenant.agent):
        assert (await http.get(url, headers=person.headers)).status_code == 200
        assert (await http.get(URL, headers=person.headers)).json()["total"] == 1
        create = await http.post(URL, headers=person.headers, json=setup.body(channels={
            "configure_later": True, "channel_ids": []}))
        assert create.status_code == 403 and "admin" in create.json()["detail"]
        assert (await http.patch(url, headers=person.headers, json={"name": "Otra"})).status_code == 403
        assert (await http.delete(url, headers=person.headers)).status_code == 403
        assert (await http.post(f"{url}/duplicate", headers=person.headers)).status_code == 403
    assert await count_campaigns(http, tenant) == 1
    assert (await http.get(url, headers=tenant.admin.headers)).json()["name"] == campaign["name"]


async def test_an_admin_with_an_inactive_license_cannot_change_campaigns(
        http: httpx.AsyncClient, tenant: Tenant, factory: Factory, setup: CampaignSetup,
        create_campaign: CreateCampaign) -> None:
    campaign = await create_campaign()
    parked = await factory.person(tenant.client.id, Role.admin, active=False)
    url = f"{URL}/{campaign['id']}"
    create = await http.post(URL, headers=parked.headers, json=setup.body(name="Nueva"))
    assert create.status_code == 403 and "license" in create.json()["detail"]
    for response in (await http.patch(url, headers=parked.headers, json={"name": "Otra"}),
                     await http.delete(url, headers=parked.headers),
                     await http.post(f"{url}/duplicate", headers=parked.headers),
                     await http.get(url, headers=parked.headers)):
        assert response.status_code == 403 and "license" in response.json()["detail"]
    assert await count_campaigns(http, tenant) == 1


async def test_campaigns_of_another_client_are_not_found_on_any_endpoint(
        http: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant, other_setup: CampaignSetup,
        setup: CampaignSetup) -> None:
    theirs = await http.post(URL, headers=other_tenant.admin.headers, json=other_setup.body(name="Secreta"))
    assert theirs.status_code == 201
    url = f"{URL}/{theirs.json()['id']}"
    for person in (tenant.admin, tenant.supervisor, tenant.agent):
        # Writes are refused for the role before anything is looked up (issue 21.8): a supervisor's or
        # an agent's 403 is the same for any id, so it tells nothing about the other client either.
        write = 404 if person is tenant.admin else 403
        assert (await http.get(url, headers=person.headers)).status_code == 404
        assert (await http.patch(url, headers=person.headers, json={"name": "Mía"})).status_code == write
        assert (await http.delete(url, headers=person.headers)).status_code == write
        assert (await http.post(f"{url}/duplicate", headers=person.headers)).status_code == write
        assert (await http.get(URL, headers=person.headers)).json()["total"] == 0
        listing = await http.get(URL, headers=person.headers, params={"client_id": other_tenant.client.id})
        assert listing.status_code == 404 and listing.json()["field"] == "client_id"
        by_project = await http.get(URL, headers=person.headers, params={"project_id": other_setup.project_id})
        assert by_project.json()["total"] == 0
    create = await http.post(URL, headers=tenant.admin.headers, json=other_setup.body(name="Intrusa"))
    assert create.status_code == 404 and create.json()["field"] == "client_id"
    still = await http.get(url, headers=other_tenant.admin.headers)
    assert still.json()["name"] == "Secreta"
    assert (await http.get(URL, headers=other_tenant.admin.headers)).json()["total"] == 1


async def test_an_admin_of_two_clients_sees_both_and_filters_by_client(
        http: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant, factory: Factory, setup: CampaignSetup,
        other_setup: CampaignSetup) -> None:
    await factory.join(tenant.admin, other_tenant.client.id, Role.admin)
    mine = await http.post(URL, headers=tenant.admin.headers, json=setup.body(name="Mía"))
    theirs = await http.post(URL, headers=tenant.admin.headers, json=other_setup.body(name="Suya"))
    assert mine.status_code == 201 and theirs.status_code == 201, theirs.text
    assert (await http.get(URL, headers=tenant.admin.headers)).json()["total"] == 2
    only = await http.get(URL, headers=tenant.admin.headers, params={"client_id": other_tenant.client.id})
    assert [c["name"] for c in only.json()["items"]] == ["Suya"]
    crossed = await http.patch(f"{URL}/{mine.json()['id']}", headers=tenant.admin.headers,
                               json={"project_id": other_setup.project_id})
    assert crossed.status_code == 422 and crossed.json()["field"] == "project_id"


async def test_requests_without_a_token_are_unauthorized(http: httpx.AsyncClient) -> None:
    assert (await http.get(URL)).status_code == 401
    assert (await http.post(URL, json={})).status_code in (401, 422)
    assert (await http.get(f"{URL}/1")).status_code == 401
    assert (await http.delete(f"{URL}/1")).status_code == 401


async def test_admin_deletes_a_campaign(http: httpx.AsyncClient, tenant: Tenant, setup: CampaignSetup,
                                        create_campaign: CreateCampaign) -> None:
    campaign = await create_campaign()
    url = f"{URL}/{campaign['id']}"
    assert (await http.delete(url, headers=tenant.admin.headers)).status_code == 204
    assert (await http.get(url, headers=tenant.admin.headers)).status_code == 404
    assert (await http.delete(url, headers=tenant.admin.headers)).status_code == 404
    # its channel is free again for another active campaign
    await create_campaign(name=campaign["name"])


async def test_every_change_is_in_the_audit_log(http: httpx.AsyncClient, tenant: Tenant,
                                                create_campaign: CreateCampaign) -> None:
    campaign = await create_campaign(name="Cobranza temprana")
    url = f"{URL}/{campaign['id']}"
    await http.patch(url, headers=tenant.admin.headers, json={"inactivity_timeout_minutes": 45})
    copy = (await http.post(f"{url}/duplicate", headers=tenant.admin.headers)).json()
    await http.delete(url, headers=tenant.admin.headers)
    events = (await http.get("/api/v1/audit-events", headers=tenant.admin.headers,
                             params={"entity_type": "campaign"})).json()["items"]
    trail = [(e["action"], e["entity_id"]) for e in reversed(events)]
    assert trail == [("create", campaign["id"]), ("update", campaign["id"]), ("create", copy["id"]),
                     ("delete", campaign["id"])]
    created, updated, duplicated, deleted = reversed(events)
    assert created["before"] is None and created["after"]["name"] == "Cobranza temprana"
    assert created["after"]["channels"]["channel_ids"] == campaign["channels"]["channel_ids"]
    assert updated["before"]["inactivity_timeout_minutes"] == 30
    assert updated["after"]["inactivity_timeout_minutes"] == 45
    assert updated["user_id"] == tenant.admin.user_id
    assert duplicated["after"]["name"] == "Cobranza temprana (copia)" and duplicated["after"]["active"] is False
    assert deleted["before"]["id"] == campaign["id"] and deleted["after"] is None
    assert "project_name" not in created["after"]
