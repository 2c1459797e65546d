"""Usuarios y licencias → Campañas: the campaigns one agent works, with the capacity in each, set
from the user's side (the console's other door to the same seats as ``PUT /campaigns/{id}/agents``)."""

import httpx

from atiende.auth.models import Role
from tests.conversations.scenario import build
from tests.factories import Factory


async def test_an_agent_is_given_campaigns_with_a_capacity_and_takes_the_waiting_work_at_once(
        http: httpx.AsyncClient, factory: Factory) -> None:
    sc = await build(http, factory, default_capacity=3)
    second = await factory.campaign_using(sc.client_id, name="Cobranza")  # type: ignore[attr-defined]
    ana = await factory.person(sc.client_id, Role.agent)
    await sc.presence(ana, "online")
    waiting = await sc.write(contact="c-1")
    assert (await sc.detail(waiting["conversation_id"]))["status"] == "queued"  # nobody works the campaign

    url = f"/api/v1/agents/{ana.membership_id}/campaigns"
    before = (await http.get(url, headers=sc.supervisor.headers)).json()
    assert {(c["campaign_id"], c["member"]) for c in before} == {(sc.campaign_id, False), (second, False)}

    response = await http.put(url, json={"campaigns": [{"campaign_id": sc.campaign_id, "capacity": 1},
                                                       {"campaign_id": second}]}, headers=sc.supervisor.headers)
    assert response.status_code == 200, response.text
    assert {(c["campaign_id"], c["member"], c["capacity"]) for c in response.json()} == {
        (sc.campaign_id, True, 1), (second, True, None)}
    assert (await sc.detail(waiting["conversation_id"]))["assigned_membership_id"] == ana.membership_id
    agents = (await http.get(f"/api/v1/campaigns/{second}/agents", headers=sc.admin.headers)).json()
    assert [(a["membership_id"], a["capacity"], a["capacity_is_default"]) for a in agents] == [
        (ana.membership_id, 3, True)]

    # Leaving the first campaign hands its conversation back to the queue.
    left = await http.put(url, json={"campaigns": [{"campaign_id": second}]}, headers=sc.supervisor.headers)
    assert left.status_code == 200
    assert (await sc.detail(waiting["conversation_id"]))["status"] == "queued"


async def test_the_campaigns_of_an_agent_check_the_campaigns_the_role_and_the_client(
        http: httpx.AsyncClient, factory: Factory, other_tenant) -> None:  # type: ignore[no-untyped-def]
    sc = await build(http, factory)
    [ana] = await sc.hire(1)
    url = f"/api/v1/agents/{ana.membership_id}/campaigns"
    foreign_campaign = await factory.campaign_using(other_tenant.client.id)  # type: ignore[attr-defined]
    refused = await http.put(url, json={"campaigns": [{"campaign_id": foreign_campaign}]},
                             headers=sc.supervisor.headers)
    assert refused.status_code == 422 and refused.json()["field"] == "campaigns.0.campaign_id"
    twice = await http.put(url, json={"campaigns": [{"campaign_id": sc.campaign_id}] * 2},
                           headers=sc.supervisor.headers)
    assert twice.status_code == 422 and twice.json()["field"] == "campaigns.1.campaign_id"
    bad_capacity = await http.put(url, json={"campaigns": [{"campaign_id": sc.campaign_id, "capacity": 0}]},
                                  headers=sc.supervisor.headers)
    assert bad_capacity.status_code == 422
    assert (await http.get(url, headers=ana.headers)).status_code == 403
    assert (await http.get(url, headers=other_tenant.admin.headers)).status_code == 404
    agents = (await http.get(f"/api/v1/campaigns/{sc.campaign_id}/agents", headers=sc.admin.headers)).json()
    assert [a["membership_id"] for a in agents] == [ana.membership_id]  # nothing changed
