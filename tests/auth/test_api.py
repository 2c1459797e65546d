"""Login, tokens, /me, and users & licenses through HTTP."""

import httpx

from atiende.auth.models import Role
from tests.factories import PASSWORD, Factory, Tenant


async def login(http: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await http.post("/api/v1/auth/token", data={"username": email, "password": password})


async def test_login_returns_a_bearer_token_that_opens_me(http: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await login(http, tenant.admin.email.upper(), PASSWORD)
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    me = await http.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    body = me.json()
    assert body["email"] == tenant.admin.email
    assert body["memberships"] == [{"client_id": tenant.client.id, "client_name": tenant.client.name,
                                    "role": "admin", "active": True}]


async def test_wrong_password_and_unknown_email_look_the_same(http: httpx.AsyncClient, tenant: Tenant) -> None:
    wrong_password = await login(http, tenant.admin.email, "nope-nope-nope")
    unknown_email = await login(http, "ghost@example.com", PASSWORD)
    assert wrong_password.status_code == unknown_email.status_code == 401
    assert wrong_password.json() == unknown_email.json() == {"detail": "Incorrect email or password", "field": None,
                                                              "code": "auth.invalid_credentials"}


async def test_repeated_failures_are_rate_limited_even_with_the_right_password(
        http: httpx.AsyncClient, tenant: Tenant) -> None:
    for _ in range(5):
        assert (await login(http, tenant.admin.email, "bad-password")).status_code == 401
    blocked = await login(http, tenant.admin.email, PASSWORD)
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) > 0


async def test_rate_limit_window_passes_with_time(http: httpx.AsyncClient, tenant: Tenant, clock) -> None:
    for _ in range(5):
        await login(http, tenant.admin.email, "bad-password")
    clock.advance(minutes=16)
    assert (await login(http, tenant.admin.email, PASSWORD)).status_code == 200


async def test_no_token_bad_token_and_expired_token_are_401(http: httpx.AsyncClient, tenant: Tenant, clock) -> None:
    assert (await http.get("/api/v1/me")).status_code == 401
    assert (await http.get("/api/v1/me", headers={"Authorization": "Bearer nonsense"})).status_code == 401
    clock.advance(hours=13)
    assert (await http.get("/api/v1/me", headers=tenant.admin.headers)).status_code == 401


async def test_logout_revokes_the_token(http: httpx.AsyncClient, tenant: Tenant) -> None:
    assert (await http.post("/api/v1/auth/logout", headers=tenant.agent.headers)).status_code == 204
    assert (await http.get("/api/v1/me", headers=tenant.agent.headers)).status_code == 401


async def test_user_changes_locale_and_password(http: httpx.AsyncClient, tenant: Tenant) -> None:
    wrong = await http.patch("/api/v1/me", headers=tenant.agent.headers,
                             json={"current_password": "not-mine-123", "new_password": "another-pass-1"})
    assert wrong.status_code == 401
    response = await http.patch("/api/v1/me", headers=tenant.agent.headers,
                                json={"locale": "en", "current_password": PASSWORD, "new_password": "another-pass-1"})
    assert response.status_code == 200 and response.json()["locale"] == "en"
    assert (await login(http, tenant.agent.email, "another-pass-1")).status_code == 200
    bad_locale = await http.patch("/api/v1/me", headers=tenant.agent.headers, json={"locale": "fr"})
    assert bad_locale.status_code == 422 and bad_locale.json()["field"] == "locale"


async def test_admin_gives_a_new_user_a_license(http: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await http.post("/api/v1/memberships", headers=tenant.admin.headers, json={
        "client_id": tenant.client.id, "email": "Nueva.Agente@Example.com", "full_name": "Nueva Agente",
        "password": "una-clave-segura", "role": "agent"})
    assert response.status_code == 201, response.text
    assert response.json()["user"]["email"] == "nueva.agente@example.com"
    assert (await login(http, "nueva.agente@example.com", "una-clave-segura")).status_code == 200
    client = await http.get(f"/api/v1/clients/{tenant.client.id}", headers=tenant.admin.headers)
    assert client.json()["seats_used"] == 4


async def test_licenses_cannot_exceed_the_plan(http: httpx.AsyncClient, factory: Factory) -> None:
    client = await factory.client(plan_seats=2)
    admin = await factory.person(client.id, Role.admin)
    spare = await factory.person(client.id, Role.agent, active=False)
    await factory.person(client.id, Role.agent)
    over = await http.post("/api/v1/memberships", headers=admin.headers, json={
        "client_id": client.id, "email": "tercera@example.com", "password": "una-clave-segura", "role": "agent"})
    assert over.status_code == 409 and over.json()["field"] == "active"
    assert "2 licenses" in over.json()["detail"]
    activate = await http.patch(f"/api/v1/memberships/{spare.membership_id}", headers=admin.headers,
                                json={"active": True})
    assert activate.status_code == 409
    parked = await http.post("/api/v1/memberships", headers=admin.headers, json={
        "client_id": client.id, "email": "tercera@example.com", "password": "una-clave-segura", "role": "agent",
        "active": False})
    assert parked.status_code == 201


async def test_a_user_can_hold_seats_in_several_clients(http: httpx.AsyncClient, tenant: Tenant,
                                                         other_tenant: Tenant) -> None:
    response = await http.post("/api/v1/memberships", headers=other_tenant.admin.headers, json={
        "client_id": other_tenant.client.id, "email": tenant.supervisor.email, "password": "ignorada-123",
        "role": "admin"})
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "invited"
    me = (await http.get("/api/v1/me", headers=tenant.supervisor.headers)).json()
    assert [(i["client_id"], i["role"]) for i in me["invitations"]] == [(other_tenant.client.id, "admin")]
    accepted = await http.post(f"/api/v1/me/invitations/{response.json()['id']}/accept",
                               headers=tenant.supervisor.headers)
    assert accepted.status_code == 200 and accepted.json()["invitations"] == []
    me = (await http.get("/api/v1/me", headers=tenant.supervisor.headers)).json()
    assert {(m["client_id"], m["role"]) for m in me["memberships"]} == {
        (tenant.client.id, "supervisor"), (other_tenant.client.id, "admin")}


async def test_only_admins_manage_licenses(http: httpx.AsyncClient, tenant: Tenant) -> None:
    for person in (tenant.supervisor, tenant.agent):
        response = await http.post("/api/v1/memberships", headers=person.headers, json={
            "client_id": tenant.client.id, "email": "x@example.com", "password": "una-clave-segura",
            "role": "agent"})
        assert response.status_code == 403


async def test_inactive_license_cannot_act(http: httpx.AsyncClient, factory: Factory, tenant: Tenant) -> None:
    parked = await factory.person(tenant.client.id, Role.admin, active=False)
    response = await http.post("/api/v1/projects", headers=parked.headers,
                               json={"client_id": tenant.client.id, "name": "Cobranza"})
    assert response.status_code == 403
    assert "license" in response.json()["detail"]


async def test_admin_cannot_remove_own_license(http: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await http.patch(f"/api/v1/memberships/{tenant.admin.membership_id}", headers=tenant.admin.headers,
                                json={"active": False})
    assert response.status_code == 422


async def test_memberships_of_another_client_are_not_found(http: httpx.AsyncClient, tenant: Tenant,
                                                           other_tenant: Tenant) -> None:
    url = f"/api/v1/memberships/{other_tenant.agent.membership_id}"
    assert (await http.get(url, headers=tenant.admin.headers)).status_code == 404
    assert (await http.patch(url, headers=tenant.admin.headers, json={"active": False})).status_code == 404
    assert (await http.delete(url, headers=tenant.admin.headers)).status_code == 404
    listing = await http.get(f"/api/v1/memberships?client_id={other_tenant.client.id}", headers=tenant.admin.headers)
    assert listing.status_code == 404
    mine = (await http.get("/api/v1/memberships", headers=tenant.admin.headers)).json()
    assert mine["total"] == 3
