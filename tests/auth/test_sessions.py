"""Sessions end when they should (logout, a new password, a seat taken away), and the login and
password limits hold per email and per source address (issues 19 and 21). Through HTTP and a real
WebSocket under uvicorn."""

import asyncio
import json
import socket
from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from atiende.auth.models import Role
from tests.conversations.scenario import build
from tests.factories import PASSWORD, Factory, Person, Tenant

WAIT = 10  # seconds before a missing close fails the test (never a timing assertion)


async def login(http: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await http.post("/api/v1/auth/token", data={"username": email, "password": password})


@pytest.fixture
async def elsewhere(app) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    """The same app reached from another address (10.9.8.7)."""
    transport = httpx.ASGITransport(app=app, client=("10.9.8.7", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def test_a_new_password_ends_every_other_session_of_the_user(http: httpx.AsyncClient, tenant: Tenant) -> None:
    other = await login(http, tenant.agent.email, PASSWORD)
    other_headers = {"Authorization": f"Bearer {other.json()['access_token']}"}
    changed = await http.patch("/api/v1/me", headers=tenant.agent.headers,
                               json={"current_password": PASSWORD, "new_password": "otra-clave-9"})
    assert changed.status_code == 200
    assert (await http.get("/api/v1/me", headers=other_headers)).status_code == 401
    assert (await http.get("/api/v1/me", headers=tenant.agent.headers)).status_code == 200  # the one that asked


async def test_guessing_the_current_password_is_limited(http: httpx.AsyncClient, tenant: Tenant) -> None:
    for _ in range(5):
        wrong = await http.patch("/api/v1/me", headers=tenant.agent.headers,
                                 json={"current_password": "adivina-123", "new_password": "otra-clave-9"})
        assert wrong.status_code == 401 and wrong.json()["field"] == "current_password"
    limited = await http.patch("/api/v1/me", headers=tenant.agent.headers,
                               json={"current_password": PASSWORD, "new_password": "otra-clave-9"})
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0


async def test_the_owner_gets_in_through_a_lock_from_an_address_that_has_not_failed(
        http: httpx.AsyncClient, elsewhere: httpx.AsyncClient, tenant: Tenant) -> None:
    for _ in range(5):
        assert (await login(http, tenant.admin.email, "bad-password")).status_code == 401
    assert (await login(http, tenant.admin.email, PASSWORD)).status_code == 429  # the failing address
    assert (await login(elsewhere, tenant.admin.email, PASSWORD)).status_code == 200  # the owner's
    for _ in range(5):
        await login(http, tenant.admin.email, "bad-password")
    assert (await login(elsewhere, tenant.admin.email, "bad-password")).status_code == 401
    assert (await login(elsewhere, tenant.admin.email, PASSWORD)).status_code == 429  # it failed too now


async def test_one_address_trying_many_emails_is_paused(http: httpx.AsyncClient, elsewhere: httpx.AsyncClient,
                                                        tenant: Tenant, clock) -> None:  # type: ignore[no-untyped-def]
    for n in range(20):
        assert (await login(http, f"nadie{n}@example.com", "bad-password")).status_code == 401
    assert (await login(http, tenant.agent.email, PASSWORD)).status_code == 429
    assert (await login(elsewhere, tenant.agent.email, PASSWORD)).status_code == 200
    clock.advance(minutes=16)
    assert (await login(http, tenant.agent.email, PASSWORD)).status_code == 200


async def test_agents_see_only_the_colleagues_they_may_transfer_to(http: httpx.AsyncClient,
                                                                   factory: Factory) -> None:
    sc = await build(http, factory, permissions={"transfer_between_agents": True})
    ana, beto = await sc.hire(2, capacity=1)
    conversation_id = (await sc.write("Hola"))["conversation_id"]
    assert (await http.get("/api/v1/memberships", headers=ana.headers)).status_code == 403
    listing = await http.get(f"/api/v1/memberships?client_id={sc.client_id}", headers=ana.headers)
    assert listing.status_code == 403
    assert (await http.get(f"/api/v1/memberships/{beto.membership_id}", headers=ana.headers)).status_code == 404
    assert (await http.get(f"/api/v1/memberships/{ana.membership_id}", headers=ana.headers)).status_code == 200
    assert (await http.get("/api/v1/memberships", headers=sc.supervisor.headers)).status_code == 200
    holder, other = (ana, beto) if (await http.get(f"/api/v1/conversations/{conversation_id}",
                                                   headers=ana.headers)).status_code == 200 else (beto, ana)
    targets = await http.get(f"/api/v1/conversations/{conversation_id}/transfer-targets", headers=holder.headers)
    assert targets.status_code == 200, targets.text
    assert [(x["membership_id"], x["name"]) for x in targets.json()] == [
        (other.membership_id, other.email.split("@")[0])]
    assert "email" not in targets.json()[0]


# --- live sockets end with their session ------------------------------------------------------

@pytest.fixture
async def server(app) -> AsyncIterator[str]:  # type: ignore[no-untyped-def]
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    uv = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_level="warning", ws="websockets-sansio"))
    task = asyncio.create_task(uv.serve(sockets=[sock]))
    for _ in range(1000):
        if uv.started:
            break
        await asyncio.sleep(0.01)
    yield f"ws://127.0.0.1:{port}"
    uv.should_exit = True
    await task
    sock.close()


async def listen(base: str, headers: dict[str, str]) -> ClientConnection:
    ws = await connect(f"{base}/api/v1/ws?token={headers['Authorization'].removeprefix('Bearer ')}")
    assert json.loads(await asyncio.wait_for(ws.recv(), WAIT)) == {"kind": "ready"}
    return ws


async def closed_with(ws: ClientConnection) -> int | None:
    with pytest.raises(ConnectionClosed):
        while True:
            await asyncio.wait_for(ws.recv(), WAIT)
    return ws.close_code


async def test_logout_closes_the_socket_opened_with_the_token(server: str, http: httpx.AsyncClient,
                                                              tenant: Tenant) -> None:
    ws = await listen(server, tenant.agent.headers)
    assert (await http.post("/api/v1/auth/logout", headers=tenant.agent.headers)).status_code == 204
    assert await closed_with(ws) == 4401


async def test_a_new_password_closes_the_users_other_sockets(server: str, http: httpx.AsyncClient,
                                                             tenant: Tenant) -> None:
    second = await login(http, tenant.agent.email, PASSWORD)
    ws = await listen(server, {"Authorization": f"Bearer {second.json()['access_token']}"})
    kept = await listen(server, tenant.agent.headers)
    changed = await http.patch("/api/v1/me", headers=tenant.agent.headers,
                               json={"current_password": PASSWORD, "new_password": "otra-clave-9"})
    assert changed.status_code == 200
    assert await closed_with(ws) == 4401
    await http.put("/api/v1/agents/me/status", json={"presence": "away"}, headers=tenant.agent.headers)
    frame = json.loads(await asyncio.wait_for(kept.recv(), WAIT))  # the asking session still hears
    assert frame["kind"] == "presence.changed"
    await kept.close()


async def test_a_deactivated_license_closes_the_agents_socket(server: str, http: httpx.AsyncClient,
                                                              factory: Factory, tenant: Tenant) -> None:
    agent: Person = await factory.person(tenant.client.id, Role.agent)
    ws = await listen(server, agent.headers)
    off = await http.patch(f"/api/v1/memberships/{agent.membership_id}", headers=tenant.admin.headers,
                           json={"active": False})
    assert off.status_code == 200
    assert await closed_with(ws) == 4403
