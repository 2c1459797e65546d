"""*Asignar a…*: a supervisor gives a queued conversation to a chosen agent of its campaign, who must
be staffed there, online and with room; everything else is refused with the field and a code."""

from datetime import UTC, datetime

import httpx

from atiende.auth.models import Role
from atiende.conversations.models import Assignment
from tests.conversations.scenario import OFFICE, Scenario, build
from tests.factories import Factory, make_tenant


async def assign(sc: Scenario, who, conversation_id: int, to: int) -> httpx.Response:  # type: ignore[no-untyped-def]
    return await sc.http.post(f"/api/v1/conversations/{conversation_id}/assign", json={"membership_id": to},
                              headers=who.headers)


async def waiting_scenario(http: httpx.AsyncClient, factory: Factory):  # type: ignore[no-untyped-def]
    sc = await build(http, factory, bands=OFFICE)  # Encolar; Saturday: the queue waits for Monday
    ana, beto, dani = await sc.hire(3, capacity=1)
    await sc.presence(beto, "away")
    await sc.travel(datetime(2026, 1, 10, 15, 0, tzinfo=UTC))
    first = (await sc.write(contact="c-1"))["conversation_id"]
    second = (await sc.write(contact="c-2"))["conversation_id"]
    assert (await sc.detail(first))["status"] == (await sc.detail(second))["status"] == "queued"
    return sc, (ana, beto, dani), (first, second)


async def test_a_supervisor_assigns_a_queued_conversation_to_an_eligible_agent(http: httpx.AsyncClient,
                                                                              factory: Factory) -> None:
    sc, (ana, _beto, _dani), (first, second) = await waiting_scenario(http, factory)
    done = await assign(sc, sc.supervisor, first, ana.membership_id)
    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.json()["assigned_membership_id"]) == ("assigned", ana.membership_id)
    detail = await sc.detail(first)
    assert [(s["membership_id"], s["end_reason"]) for s in detail["assignments"]] == [(ana.membership_id, None)]
    assert (await sc.detail(second))["status"] == "queued"  # only the chosen one moved
    inbox = await http.get("/api/v1/conversations", params={"status": "assigned"}, headers=ana.headers)
    assert [c["id"] for c in inbox.json()["items"]] == [first]
    admin = await assign(sc, sc.admin, second, _dani.membership_id)
    assert admin.status_code == 200, admin.text


async def test_assigning_refuses_agents_that_cannot_take_it_naming_field_and_code(
        http: httpx.AsyncClient, factory: Factory) -> None:
    sc, (ana, beto, dani), (first, second) = await waiting_scenario(http, factory)
    outsider = await factory.person(sc.client_id, Role.agent)  # of the client, not of the campaign
    assert (await assign(sc, sc.supervisor, first, dani.membership_id)).status_code == 200  # Dani is now full
    for to, code in [(outsider.membership_id, "assignment.agent_not_staffed"),
                     (beto.membership_id, "assignment.agent_not_online"),
                     (dani.membership_id, "assignment.agent_full"),
                     (987654, "assignment.agent_not_staffed")]:
        refused = await assign(sc, sc.supervisor, second, to)
        assert refused.status_code == 422, refused.text
        assert (refused.json()["field"], refused.json()["code"]) == ("membership_id", code)
    again = await assign(sc, sc.supervisor, first, ana.membership_id)  # no longer queued
    assert (again.status_code, again.json()["code"]) == (409, "conversation.not_queued")
    bad = await http.post(f"/api/v1/conversations/{second}/assign", json={"membership_id": "x"},
                          headers=sc.supervisor.headers)
    assert bad.status_code == 422 and bad.json()["field"].endswith("membership_id")
    assert (await sc.detail(second))["status"] == "queued"
    assert await sc.count(Assignment) == 1  # the refusals changed nothing


async def test_agents_and_other_clients_cannot_assign(http: httpx.AsyncClient, factory: Factory) -> None:
    sc, (ana, _beto, _dani), (first, _second) = await waiting_scenario(http, factory)
    other_tenant = await make_tenant(factory)  # after the clock moved: its tokens are fresh
    by_agent = await assign(sc, ana, first, ana.membership_id)
    assert (by_agent.status_code, by_agent.json()["code"]) == (403, "auth.role_required")
    foreign = await assign(sc, other_tenant.supervisor, first, ana.membership_id)
    assert foreign.status_code == 404
    assert (await sc.detail(first))["status"] == "queued"
    assert await sc.count(Assignment) == 0
