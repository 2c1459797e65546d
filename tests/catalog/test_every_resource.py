"""What holds for every catalog resource alike: another client's items do not exist for you,
supervisors and agents read but do not write, and every change is in the audit log."""

from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.factories import Tenant


@dataclass
class Resource:
    path: str
    entity: str
    body: dict[str, Any]
    change: dict[str, Any]
    reference: str | None = None  # a field of ``body`` that points at another item of the same resource


RESOURCES = [
    Resource("/api/v1/schedules", "schedule",
             {"name": "Oficina", "timezone": "America/Bogota",
              "bands": [{"weekday": 0, "start": "08:00", "end": "17:00"}]},
             {"name": "Oficina central"}),
    Resource("/api/v1/typifications", "typification", {"name": "Venta", "code": "VENTA"},
             {"name": "Venta cerrada"}, reference="parent_id"),
    Resource("/api/v1/field-definitions", "field_definition", {"key": "cedula", "label": "Cédula", "type": "text"},
             {"label": "Cédula de ciudadanía"}),
    Resource("/api/v1/funnels", "funnel", {"name": "Ventas", "stages": [{"name": "Nuevo"}]},
             {"name": "Ventas hogar"}),
    Resource("/api/v1/survey-bots", "survey_bot", {"name": "CSAT", "questions": [{"kind": "rating", "text": "¿?"}]},
             {"name": "CSAT final"}),
]


@pytest.fixture(params=RESOURCES, ids=[r.entity for r in RESOURCES])
def resource(request: pytest.FixtureRequest) -> Resource:
    return request.param


async def create(http: httpx.AsyncClient, tenant: Tenant, resource: Resource) -> dict[str, Any]:
    response = await http.post(resource.path, headers=tenant.admin.headers,
                               json={"client_id": tenant.client.id, **resource.body})
    assert response.status_code == 201, response.text
    return response.json()


async def test_another_clients_items_are_not_found(http: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant,
                                                  resource: Resource) -> None:
    theirs = await create(http, other_tenant, resource)
    url = f"{resource.path}/{theirs['id']}"
    me = tenant.admin.headers
    assert (await http.get(url, headers=me)).status_code == 404
    assert (await http.patch(url, headers=me, json=resource.change)).status_code == 404
    assert (await http.delete(url, headers=me)).status_code == 404
    listing = await http.get(f"{resource.path}?client_id={other_tenant.client.id}", headers=me)
    assert listing.status_code == 404 and listing.json()["field"] == "client_id"
    assert (await http.get(resource.path, headers=me)).json()["total"] == 0
    intrude = await http.post(resource.path, headers=me, json={"client_id": other_tenant.client.id, **resource.body})
    assert intrude.status_code == 404 and intrude.json()["field"] == "client_id"
    if resource.reference:
        borrowed = await http.post(resource.path, headers=me, json={
            "client_id": tenant.client.id, **resource.body, resource.reference: theirs["id"]})
        assert borrowed.status_code == 422 and borrowed.json()["field"] == resource.reference
    still = await http.get(url, headers=other_tenant.admin.headers)
    assert still.json() == theirs


async def test_supervisors_and_agents_read_but_do_not_write(http: httpx.AsyncClient, tenant: Tenant,
                                                            resource: Resource) -> None:
    item = await create(http, tenant, resource)
    url = f"{resource.path}/{item['id']}"
    for person in (tenant.supervisor, tenant.agent):
        assert (await http.get(url, headers=person.headers)).json() == item
        assert (await http.get(resource.path, headers=person.headers)).json()["total"] == 1
        created = await http.post(resource.path, headers=person.headers,
                                  json={"client_id": tenant.client.id, **resource.body})
        assert created.status_code == 403
        assert (await http.patch(url, headers=person.headers, json=resource.change)).status_code == 403
        assert (await http.delete(url, headers=person.headers)).status_code == 403
    assert (await http.get(url, headers=tenant.admin.headers)).json() == item
    assert (await http.get(url)).status_code == 401


async def test_every_change_is_audited_with_before_and_after(http: httpx.AsyncClient, tenant: Tenant,
                                                             resource: Resource) -> None:
    item = await create(http, tenant, resource)
    url = f"{resource.path}/{item['id']}"
    changed = await http.patch(url, headers=tenant.admin.headers, json=resource.change)
    assert changed.status_code == 200, changed.text
    assert (await http.delete(url, headers=tenant.admin.headers)).status_code == 204
    assert (await http.get(url, headers=tenant.admin.headers)).status_code == 404
    events = (await http.get(f"/api/v1/audit-events?entity_type={resource.entity}&entity_id={item['id']}",
                             headers=tenant.admin.headers)).json()["items"]
    assert [e["action"] for e in events] == ["delete", "update", "create"]
    assert all(e["user_id"] == tenant.admin.user_id and e["client_id"] == tenant.client.id for e in events)
    deleted, updated, created = events
    assert created["after"] == item and updated["before"] == item and updated["after"] == changed.json()
    assert deleted["before"] == changed.json()


async def test_unknown_ids_and_wrong_bodies_are_clear_4xx(http: httpx.AsyncClient, tenant: Tenant,
                                                          resource: Resource) -> None:
    me = tenant.admin.headers
    assert (await http.get(f"{resource.path}/999999", headers=me)).status_code == 404
    assert (await http.get(f"{resource.path}/99999999999", headers=me)).status_code == 422
    assert (await http.get(f"{resource.path}/abc", headers=me)).status_code == 422
    for body in ([], "texto", {"client_id": tenant.client.id, **resource.body, "extra": 1},
                 {"client_id": "uno", **resource.body}, {**resource.body}):
        response = await http.post(resource.path, headers=me, json=body)
        assert response.status_code == 422 and response.json()["detail"], (body, response.text)
    garbage = await http.post(resource.path, headers={**me, "Content-Type": "application/json"}, content=b"{nope")
    assert garbage.status_code == 422
    item = await create(http, tenant, resource)
    for patch in ({"name": None, "label": None, "unknown": True}, {"active": "sí"}):
        response = await http.patch(f"{resource.path}/{item['id']}", headers=me, json=patch)
        assert response.status_code == 422, (patch, response.text)
    assert (await http.get(f"{resource.path}/{item['id']}", headers=me)).json() == item
