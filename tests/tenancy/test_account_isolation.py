"""Tenant isolation of accounts: accounts are global, so one client's admin must never take over a
person of another client (issue 19). Two clients, through HTTP."""

import httpx

from atiende.auth.models import Role
from tests.factories import PASSWORD, Factory, Tenant


async def login(http: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await http.post("/api/v1/auth/token", data={"username": email, "password": password})


def bearer(response: httpx.Response) -> dict[str, str]:
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def invite(http: httpx.AsyncClient, admin_headers: dict[str, str], client_id: int, email: str,
                 **extra: object) -> httpx.Response:
    return await http.post("/api/v1/memberships", headers=admin_headers, json={
        "client_id": client_id, "email": email, "role": "agent", "password": "intruso-clave-1",
        "full_name": "Cuenta Robada", **extra})


async def assert_takeover_fails(http: httpx.AsyncClient, attacker: Tenant, victim_email: str,
                                victim_headers: dict[str, str]) -> None:
    seat = await invite(http, attacker.admin.headers, attacker.client.id, victim_email)
    assert seat.status_code == 201, seat.text
    assert seat.json()["status"] == "invited" and seat.json()["user"] == {"email": victim_email, "full_name": ""}
    url = f"/api/v1/memberships/{seat.json()['id']}"
    for change in ({"password": "intruso-clave-2"}, {"full_name": "Cuenta Robada"}):
        refused = await http.patch(url, headers=attacker.admin.headers, json=change)
        assert refused.status_code == 409, refused.text
        assert refused.json()["code"] == "membership.invitation_pending"
    assert (await login(http, victim_email, "intruso-clave-1")).status_code == 401
    assert (await login(http, victim_email, "intruso-clave-2")).status_code == 401
    me = await http.get("/api/v1/me", headers=victim_headers)
    assert me.status_code == 200 and me.json()["full_name"] != "Cuenta Robada"
    assert (await login(http, victim_email, PASSWORD)).status_code == 200


async def test_an_admin_of_b_cannot_take_over_an_admin_of_a(http: httpx.AsyncClient, tenant: Tenant,
                                                            other_tenant: Tenant) -> None:
    await assert_takeover_fails(http, other_tenant, tenant.admin.email, tenant.admin.headers)
    listing = await http.get(f"/api/v1/memberships?client_id={other_tenant.client.id}&q={tenant.admin.email}",
                             headers=other_tenant.admin.headers)
    assert [m["status"] for m in listing.json()["items"]] == ["invited"]
    # The seat in B opens nothing until A's admin accepts it.
    b_projects = await http.get(f"/api/v1/projects?client_id={other_tenant.client.id}", headers=tenant.admin.headers)
    assert b_projects.status_code == 404


async def test_an_admin_of_b_cannot_take_over_the_platform_superuser(http: httpx.AsyncClient, factory: Factory,
                                                                     tenant: Tenant, other_tenant: Tenant) -> None:
    root = await factory.person(tenant.client.id, Role.admin, superuser=True)
    await assert_takeover_fails(http, other_tenant, root.email, root.headers)


async def test_even_after_the_person_accepts_b_cannot_set_their_password_or_name(
        http: httpx.AsyncClient, factory: Factory, tenant: Tenant, other_tenant: Tenant) -> None:
    root = await factory.person(tenant.client.id, Role.admin, superuser=True)
    for person in (tenant.agent, root):
        seat = (await invite(http, other_tenant.admin.headers, other_tenant.client.id, person.email)).json()
        assert (await http.post(f"/api/v1/me/invitations/{seat['id']}/accept",
                                headers=person.headers)).status_code == 200
        url = f"/api/v1/memberships/{seat['id']}"
        for change in ({"password": "intruso-clave-2"}, {"full_name": "Cuenta Robada"}):
            refused = await http.patch(url, headers=other_tenant.admin.headers, json=change)
            assert refused.status_code == 403 and refused.json()["code"] == "membership.profile_not_yours"
        assert (await login(http, person.email, "intruso-clave-2")).status_code == 401
        # Role and license stay the inviting admin's to manage.
        assert (await http.patch(url, headers=other_tenant.admin.headers, json={"role": "supervisor"})).status_code == 200


async def test_the_answer_does_not_tell_whether_the_email_has_an_account(
        http: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant) -> None:
    known = await invite(http, other_tenant.admin.headers, other_tenant.client.id, tenant.agent.email)
    unknown = await invite(http, other_tenant.admin.headers, other_tenant.client.id, "nadie.aun@example.com")
    assert known.status_code == unknown.status_code == 201
    shape = {k: v for k, v in known.json().items() if k not in ("id", "user")}
    assert shape == {k: v for k, v in unknown.json().items() if k not in ("id", "user")}
    assert set(known.json()["user"]) == {"email", "full_name"} and known.json()["user"]["full_name"] == ""
    assert unknown.json()["user"]["full_name"] == ""
    by_name = await http.get(f"/api/v1/memberships?client_id={other_tenant.client.id}&q={tenant.agent.email.split('@')[0]}",
                             headers=other_tenant.admin.headers)
    assert by_name.json()["total"] == 1  # by email only: an invited person's name is not searchable
    # The new person logs in with the initial password and accepts; then the name shows.
    token = await login(http, "nadie.aun@example.com", "intruso-clave-1")
    assert token.status_code == 200
    accepted = await http.post(f"/api/v1/me/invitations/{unknown.json()['id']}/accept", headers=bearer(token))
    assert [m["client_id"] for m in accepted.json()["memberships"]] == [other_tenant.client.id]
    seat = await http.get(f"/api/v1/memberships/{unknown.json()['id']}", headers=other_tenant.admin.headers)
    assert seat.json()["status"] == "accepted" and seat.json()["user"]["full_name"] == "Cuenta Robada"


async def test_an_admin_resets_the_password_only_of_people_of_their_own_clients(
        http: httpx.AsyncClient, factory: Factory, tenant: Tenant, other_tenant: Tenant) -> None:
    url = f"/api/v1/memberships/{tenant.agent.membership_id}"
    reset = await http.patch(url, headers=tenant.admin.headers, json={"password": "nueva-clave-1"})
    assert reset.status_code == 200, reset.text
    assert (await http.get("/api/v1/me", headers=tenant.agent.headers)).status_code == 401  # sessions ended
    assert (await login(http, tenant.agent.email, "nueva-clave-1")).status_code == 200
    await factory.join(tenant.agent, other_tenant.client.id, Role.agent)
    refused = await http.patch(url, headers=tenant.admin.headers, json={"password": "otra-clave-1"})
    assert refused.status_code == 403 and refused.json()["field"] == "password"
    root = await factory.person(tenant.client.id, Role.admin, superuser=True)
    by_root = await http.patch(url, headers=root.headers, json={"password": "otra-clave-1"})
    assert by_root.status_code == 200
    assert (await login(http, tenant.agent.email, "otra-clave-1")).status_code == 200


async def test_a_declined_invitation_frees_its_seat_and_others_cannot_touch_it(
        http: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant) -> None:
    seat = (await invite(http, other_tenant.admin.headers, other_tenant.client.id, tenant.agent.email)).json()
    assert (await http.post(f"/api/v1/me/invitations/{seat['id']}/accept",
                            headers=tenant.supervisor.headers)).status_code == 404
    assert (await http.delete(f"/api/v1/me/invitations/{seat['id']}", headers=tenant.agent.headers)).status_code == 204
    me = (await http.get("/api/v1/me", headers=tenant.agent.headers)).json()
    assert me["invitations"] == [] and [m["client_id"] for m in me["memberships"]] == [tenant.client.id]
    client = await http.get(f"/api/v1/clients/{other_tenant.client.id}", headers=other_tenant.admin.headers)
    assert client.json()["seats_used"] == 3
