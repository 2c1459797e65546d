"""Reports are scoped to the caller's client: another client's ids are not found, agents may not read."""

import httpx
import pytest

from tests.factories import Factory, Tenant

ENDPOINTS = ["summary", "timeseries", "agents", "typifications", "csat", "funnel", "sla", "conversations.csv",
             "conversations.xlsx", "agents.csv", "typifications.csv"]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_another_clients_campaign_is_not_found(http: httpx.AsyncClient, factory: Factory, tenant: Tenant,
                                                     other_tenant: Tenant, endpoint: str) -> None:
    campaign_id = await factory.campaign_using(other_tenant.client.id)  # type: ignore[attr-defined]
    url = f"/api/v1/reports/{endpoint}"
    mine = await http.get(url, headers=tenant.supervisor.headers, params={"campaign_id": campaign_id})
    assert mine.status_code == 404 and mine.json()["field"] == "campaign_id", mine.text
    assert (await http.get(url, headers=other_tenant.supervisor.headers,
                           params={"campaign_id": campaign_id})).status_code == 200
    other_client = await http.get(url, headers=tenant.admin.headers, params={"client_id": other_tenant.client.id})
    assert other_client.status_code == 404 and other_client.json()["field"] == "client_id"


async def test_other_filters_of_another_client_are_not_found(http: httpx.AsyncClient, tenant: Tenant,
                                                              other_tenant: Tenant, factory: Factory) -> None:
    project = await factory.project(other_tenant.client.id)
    channel_id = await factory.campaign_channel(other_tenant.client.id)  # type: ignore[attr-defined]
    for name, value in (("project_id", project.id), ("channel_id", channel_id),
                        ("agent_id", other_tenant.agent.membership_id)):
        response = await http.get("/api/v1/reports/summary", headers=tenant.admin.headers, params={name: value})
        assert response.status_code == 404 and response.json()["field"] == name, response.text


async def test_agents_may_not_read_reports(http: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await http.get("/api/v1/reports/summary", headers=tenant.agent.headers)
    assert response.status_code == 403


async def test_bad_ranges_are_422_naming_the_field(http: httpx.AsyncClient, tenant: Tenant) -> None:
    headers = tenant.admin.headers
    reversed_range = await http.get("/api/v1/reports/summary", headers=headers,
                                    params={"date_from": "2026-01-10", "date_to": "2026-01-01"})
    assert reversed_range.status_code == 422 and reversed_range.json()["code"] == "reports.range_reversed"
    too_long = await http.get("/api/v1/reports/summary", headers=headers,
                              params={"date_from": "2020-01-01", "date_to": "2026-01-01"})
    assert too_long.status_code == 422 and too_long.json()["field"] == "date_to"
    ancient = await http.get("/api/v1/reports/summary", headers=headers,
                             params={"date_from": "0001-01-01", "date_to": "0001-01-02"})
    assert ancient.status_code == 422 and ancient.json()["code"] == "reports.date_out_of_range"
    garbage = await http.get("/api/v1/reports/summary", headers=headers, params={"date_from": "ayer"})
    assert garbage.status_code == 422 and garbage.json()["field"] == "date_from"


async def test_sla_policy_of_another_clients_campaign_is_not_found(http: httpx.AsyncClient, factory: Factory,
                                                                   tenant: Tenant, other_tenant: Tenant) -> None:
    theirs = await factory.campaign_using(other_tenant.client.id)  # type: ignore[attr-defined]
    body = {"campaign_id": theirs, "queue_optimal_seconds": 60, "queue_low_seconds": 120,
            "first_response_optimal_seconds": 60, "first_response_low_seconds": 120, "resolution_hours": 8}
    response = await http.put("/api/v1/reports/sla-policies", json=body, headers=tenant.admin.headers)
    assert response.status_code == 404 and response.json()["field"] == "campaign_id"
    low_below = await http.put("/api/v1/reports/sla-policies", headers=tenant.admin.headers,
                               json={**body, "campaign_id": None, "queue_low_seconds": 10})
    assert low_below.status_code == 422
