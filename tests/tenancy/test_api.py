"""Clients (superuser) and projects (client admins) through HTTP."""

import httpx

from atiende.auth.models import Role
from tests.factories import Factory, Tenant


async def test_superuser_creates_a_client_with_a_plan(http: httpx.AsyncClient, factory: Factory) -> None:
    home = await factory.client()
    root = await factory.person(home.id, Role.admin, superuser=True)
    response = await http.post("/api/v1/clients", headers=root.headers,
                               json={"name": "Banco Andino", "plan_seats": 25, "plan_max_history_hours": 48})
    assert response.status_code == 201, response.text
    assert response.json()["plan_seats"] == 25 and response.json()["seats_used"] == 0
    duplicate = await http.post("/api/v1/clients", headers=root.headers, json={"name": "banco andino"})
    assert duplicate.status_code == 409 and duplicate.json()["field"] == "name"


async def test_client_admin_cannot_create_clients_or_change_the_plan(http: httpx.AsyncClient, tenant: Tenant) -> None:
    assert (await http.post("/api/v1/clients", headers=tenant.admin.headers, json={"name": "X"})).status_code == 403
    response = await http.patch(f"/api/v1/clients/{tenant.client.id}", headers=tenant.admin.headers,
                                json={"plan_seats": 999})
    assert response.status_code == 403


async def test_plan_cannot_shrink_below_active_licenses(http: httpx.AsyncClient, factory: Factory,
                                                        tenant: Tenant) -> None:
    root = await factory.person(tenant.client.id, Role.admin, superuser=True)
    response = await http.patch(f"/api/v1/clients/{tenant.client.id}", headers=root.headers, json={"plan_seats": 2})
    assert response.status_code == 422 and response.json()["field"] == "plan_seats"


async def test_admin_manages_projects_and_names_are_unique_per_client(
        http: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant) -> None:
    body = {"client_id": tenant.client.id, "name": "Cobranza", "description": "Recuperación de cartera"}
    created = await http.post("/api/v1/projects", headers=tenant.admin.headers, json=body)
    assert created.status_code == 201, created.text
    again = await http.post("/api/v1/projects", headers=tenant.admin.headers, json=body)
    assert again.status_code == 409 and again.json()["field"] == "name"
    elsewhere = await http.post("/api/v1/projects", headers=other_tenant.admin.headers,
                                json={**body, "client_id": other_tenant.client.id})
    assert elsewhere.status_code == 201
    project_id = created.json()["id"]
    renamed = await http.patch(f"/api/v1/projects/{project_id}", headers=tenant.admin.headers,
                               json={"name": "Cobranza temprana"})
    assert renamed.json()["name"] == "Cobranza temprana"
    listing = await http.get("/api/v1/projects?q=temprana", headers=tenant.agent.headers)
    assert [p["id"] for p in listing.json()["items"]] == [project_id]
    assert (await http.delete(f"/api/v1/projects/{project_id}", headers=tenant.admin.headers)).status_code == 204
    assert (await http.get(f"/api/v1/projects/{project_id}", headers=tenant.admin.headers)).status_code == 404


async def test_projects_of_another_client_are_invisible(http: httpx.AsyncClient, tenant: Tenant,
                                                        other_tenant: Tenant, factory: Factory) -> None:
    theirs = await factory.project(other_tenant.client.id, name="Secreto")
    url = f"/api/v1/projects/{theirs.id}"
    headers = tenant.admin.headers
    assert (await http.get(url, headers=headers)).status_code == 404
    assert (await http.patch(url, headers=headers, json={"name": "Mío"})).status_code == 404
    assert (await http.delete(url, headers=headers)).status_code == 404
    create = await http.post("/api/v1/projects", headers=headers,
                             json={"client_id": other_tenant.client.id, "name": "Intruso"})
    assert create.status_code == 404 and create.json()["field"] == "client_id"
    assert (await http.get(f"/api/v1/clients/{other_tenant.client.id}", headers=headers)).status_code == 404


async def test_supervisors_and_agents_read_but_do_not_write_projects(http: httpx.AsyncClient, tenant: Tenant,
                                                                     factory: Factory) -> None:
    project = await factory.project(tenant.client.id)
    for person in (tenant.supervisor, tenant.agent):
        assert (await http.get(f"/api/v1/projects/{project.id}", headers=person.headers)).status_code == 200
        patch = await http.patch(f"/api/v1/projects/{project.id}", headers=person.headers, json={"name": "X"})
        assert patch.status_code == 403


async def test_every_change_is_in_the_audit_log(http: httpx.AsyncClient, tenant: Tenant) -> None:
    created = await http.post("/api/v1/projects", headers=tenant.admin.headers,
                              json={"client_id": tenant.client.id, "name": "Ventas"})
    project_id = created.json()["id"]
    await http.patch(f"/api/v1/projects/{project_id}", headers=tenant.admin.headers, json={"name": "Ventas B2B"})
    await http.delete(f"/api/v1/projects/{project_id}", headers=tenant.admin.headers)
    events = (await http.get(f"/api/v1/audit-events?entity_type=project&entity_id={project_id}",
                             headers=tenant.admin.headers)).json()["items"]
    assert [e["action"] for e in events] == ["delete", "update", "create"]
    update = events[1]
    assert update["user_id"] == tenant.admin.user_id
    assert update["before"]["name"] == "Ventas" and update["after"]["name"] == "Ventas B2B"
    assert (await http.get("/api/v1/audit-events", headers=tenant.agent.headers)).json()["total"] == 0
    denied = await http.get(f"/api/v1/audit-events?client_id={tenant.client.id}", headers=tenant.agent.headers)
    assert denied.status_code == 403


async def test_bad_input_is_a_clear_4xx(http: httpx.AsyncClient, tenant: Tenant) -> None:
    headers = tenant.admin.headers
    cases = [
        {"client_id": "uno", "name": "X"},
        {"client_id": tenant.client.id, "name": ""},
        {"client_id": tenant.client.id, "name": "x" * 10_000},
        {"client_id": tenant.client.id, "name": "nul\u0000byte"},
        {"client_id": 2**40, "name": "X"},
        {"client_id": tenant.client.id, "name": "X", "unexpected": 1},
    ]
    for body in cases:
        response = await http.post("/api/v1/projects", headers=headers, json=body)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["field"], response.json()
    malformed = await http.post("/api/v1/projects", headers={**headers, "Content-Type": "application/json"},
                                content=b"{not json")
    assert malformed.status_code == 422
    huge = await http.post("/api/v1/projects", headers={**headers, "Content-Type": "application/json"},
                           content=b'{"name": "' + b"x" * 2_000_000 + b'"}')
    assert huge.status_code == 413
    assert (await http.get("/api/v1/projects/99999999999", headers=headers)).status_code == 422
    assert (await http.get("/api/v1/projects?limit=1000", headers=headers)).status_code == 422
    listing = await http.get("/api/v1/projects", headers=headers)
    assert listing.json()["total"] == 0
