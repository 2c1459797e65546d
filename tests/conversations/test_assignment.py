"""Assignment (tab Método de asignación): online agents with room, Inteligente and Round Robin,
exclusive agents, presence changes, and capacity freed → the oldest waiting conversation."""

import httpx
from sqlalchemy import update

from atiende.app import create_app
from atiende.campaigns.models import AssignmentMethod
from atiende.conversations.models import Assignment, Contact
from tests.conversations.scenario import Scenario, build
from tests.factories import Factory


async def assignee(sc: Scenario, conversation_id: int) -> int | None:
    return (await sc.detail(conversation_id))["assigned_membership_id"]


async def make_exclusive(sc: Scenario, contact_external_id: str, membership_id: int) -> None:
    """Bind the contact (already known by its first message) to an agent."""
    conversations = await sc.conversations()
    contact_id = next(c.contact_id for c in conversations if c.contact.identities[0].external_id == contact_external_id)
    async with sc.database.session() as session:
        await session.execute(update(Contact).where(Contact.id == contact_id).values(exclusive_agent_id=membership_id))


async def test_only_online_agents_with_room_receive_conversations(http: httpx.AsyncClient, factory: Factory) -> None:
    sc = await build(http, factory)
    [ana] = await sc.hire(1, capacity=2, online=False)
    first = await sc.write(contact="c-1")
    assert await assignee(sc, first["conversation_id"]) is None
    await sc.presence(ana, "online")  # coming online takes the waiting conversation at once
    assert await assignee(sc, first["conversation_id"]) == ana.membership_id
    second = await sc.write(contact="c-2")
    third = await sc.write(contact="c-3")
    assert await assignee(sc, second["conversation_id"]) == ana.membership_id
    assert (await sc.detail(third["conversation_id"]))["status"] == "queued"  # Ana is at capacity
    queue = (await http.get(f"/api/v1/campaigns/{sc.campaign_id}/queue", headers=sc.supervisor.headers)).json()
    assert [item["conversation_id"] for item in queue["items"]] == [third["conversation_id"]]


async def test_when_capacity_frees_the_oldest_waiting_conversation_is_assigned_at_once(
        http: httpx.AsyncClient, factory: Factory, clock) -> None:  # type: ignore[no-untyped-def]
    sc = await build(http, factory, permissions={"close_without_reply": True})
    [ana] = await sc.hire(1, capacity=1)
    served = await sc.write(contact="c-1")
    clock.advance(minutes=1)
    older = await sc.write(contact="c-2")
    clock.advance(minutes=1)
    newer = await sc.write(contact="c-3")
    assert (await sc.close(ana, served["conversation_id"])).status_code == 200
    assert await assignee(sc, older["conversation_id"]) == ana.membership_id
    assert (await sc.detail(newer["conversation_id"]))["status"] == "queued"


async def test_inteligente_prefers_the_exclusive_agent(http: httpx.AsyncClient, factory: Factory) -> None:
    sc = await build(http, factory, permissions={"close_without_reply": True})
    ana, beto = await sc.hire(2, capacity=3)
    first = await sc.write(contact="vip")  # both idle: ties go to whoever waited longest (Ana, lower id)
    assert await assignee(sc, first["conversation_id"]) == ana.membership_id
    await sc.close(ana, first["conversation_id"])
    await make_exclusive(sc, "vip", beto.membership_id)
    again = await sc.write(contact="vip")
    assert await assignee(sc, again["conversation_id"]) == beto.membership_id


async def test_inteligente_prefers_the_agent_who_last_served_the_contact(http: httpx.AsyncClient,
                                                                       factory: Factory) -> None:
    sc = await build(http, factory, permissions={"close_without_reply": True})
    ana, beto = await sc.hire(2, capacity=3)
    a = await sc.write(contact="c-1")  # Ana
    b = await sc.write(contact="c-2")  # Beto (least loaded)
    c = await sc.write(contact="c-3")  # Ana again: both hold one, Ana waited longer
    assert [await assignee(sc, x["conversation_id"]) for x in (a, b, c)] == [
        ana.membership_id, beto.membership_id, ana.membership_id]
    await sc.close(beto, b["conversation_id"])
    await sc.close(ana, a["conversation_id"])
    # Ana holds 1, Beto 0; c-1 was last served by Ana, so it returns to her despite the load.
    back = await sc.write(contact="c-1")
    assert await assignee(sc, back["conversation_id"]) == ana.membership_id
    new = await sc.write(contact="c-4")  # a new contact goes to the least loaded: Beto
    assert await assignee(sc, new["conversation_id"]) == beto.membership_id


async def test_inteligente_breaks_ties_by_the_longest_time_since_the_last_assignment(
        http: httpx.AsyncClient, factory: Factory, clock) -> None:  # type: ignore[no-untyped-def]
    sc = await build(http, factory, permissions={"close_without_reply": True})
    ana, beto, caro = await sc.hire(3, capacity=5)
    order = []
    for n in range(6):
        clock.advance(minutes=1)
        order.append(await assignee(sc, (await sc.write(contact=f"c-{n}"))["conversation_id"]))
    assert order == [ana.membership_id, beto.membership_id, caro.membership_id] * 2
    # Beto's conversation ends: he is now the least loaded and gets the next one.
    beto_conversation = next(c for c in await sc.conversations() if c.assigned_membership_id == beto.membership_id)
    await sc.close(beto, beto_conversation.id)
    clock.advance(minutes=1)
    assert await assignee(sc, (await sc.write(contact="c-new"))["conversation_id"]) == beto.membership_id


async def test_round_robin_rotates_strictly_and_remembers_its_place_after_a_restart(
        http: httpx.AsyncClient, factory: Factory, settings, database, clock, bus) -> None:  # type: ignore[no-untyped-def]
    sc = await build(http, factory, method=AssignmentMethod.round_robin, permissions={"close_without_reply": True})
    ana, beto, caro = await sc.hire(3, capacity=10)
    got = [await assignee(sc, (await sc.write(contact=f"c-{n}"))["conversation_id"]) for n in range(4)]
    assert got == [ana.membership_id, beto.membership_id, caro.membership_id, ana.membership_id]
    # Ana holds two, others one: Round Robin does not care about load, only the turn.
    restarted = create_app(settings, clock=clock, database=database, bus=bus, with_ui=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=restarted), base_url="http://testserver") as fresh:
        sc.http = fresh
        got = [await assignee(sc, (await sc.write(contact=f"d-{n}"))["conversation_id"]) for n in range(3)]
    assert got == [beto.membership_id, caro.membership_id, ana.membership_id]


async def test_round_robin_skips_agents_who_are_not_eligible(http: httpx.AsyncClient, factory: Factory) -> None:
    sc = await build(http, factory, method=AssignmentMethod.round_robin)
    ana, beto, caro = await sc.hire(3, capacity=10)
    await sc.presence(beto, "away")
    got = [await assignee(sc, (await sc.write(contact=f"c-{n}"))["conversation_id"]) for n in range(4)]
    assert got == [ana.membership_id, caro.membership_id, ana.membership_id, caro.membership_id]


async def test_an_offline_exclusive_agent_is_waited_for_without_reassign(http: httpx.AsyncClient,
                                                                       factory: Factory) -> None:
    sc = await build(http, factory, permissions={"reassign_when_exclusive_offline": False,
                                                 "close_without_reply": True})
    ana, beto = await sc.hire(2, capacity=3)
    first = await sc.write(contact="vip")
    await sc.close(ana, first["conversation_id"])
    await make_exclusive(sc, "vip", beto.membership_id)
    await sc.presence(beto, "offline")
    waiting = await sc.write(contact="vip")
    other = await sc.write(contact="someone-else")  # does not wait behind the pinned one
    assert (await sc.detail(waiting["conversation_id"]))["status"] == "queued"
    assert await assignee(sc, other["conversation_id"]) == ana.membership_id
    await sc.presence(beto, "online")
    assert await assignee(sc, waiting["conversation_id"]) == beto.membership_id


async def test_an_offline_exclusive_agent_is_replaced_with_reassign(http: httpx.AsyncClient,
                                                                   factory: Factory) -> None:
    sc = await build(http, factory, permissions={"reassign_when_exclusive_offline": True,
                                                 "close_without_reply": True})
    ana, beto = await sc.hire(2, capacity=3)
    first = await sc.write(contact="vip")
    await sc.close(ana, first["conversation_id"])
    await make_exclusive(sc, "vip", beto.membership_id)
    await sc.presence(beto, "offline")
    again = await sc.write(contact="vip")
    assert await assignee(sc, again["conversation_id"]) == ana.membership_id


async def test_a_busy_or_away_exclusive_agent_is_waited_for_even_with_reassign(http: httpx.AsyncClient,
                                                                             factory: Factory) -> None:
    sc = await build(http, factory, permissions={"reassign_when_exclusive_offline": True,
                                                 "close_without_reply": True})
    ana, beto = await sc.hire(2, capacity=1)
    first = await sc.write(contact="vip")
    await sc.close(ana, first["conversation_id"])
    await make_exclusive(sc, "vip", beto.membership_id)
    await sc.presence(beto, "away")
    again = await sc.write(contact="vip")
    assert (await sc.detail(again["conversation_id"]))["status"] == "queued"
    await sc.presence(beto, "online")
    assert await assignee(sc, again["conversation_id"]) == beto.membership_id


async def test_an_agent_going_offline_hands_conversations_back_when_reassign_is_on(
        http: httpx.AsyncClient, factory: Factory) -> None:
    sc = await build(http, factory, permissions={"reassign_when_exclusive_offline": True})
    ana, beto = await sc.hire(2, capacity=2)
    await sc.presence(beto, "away")
    ids = [(await sc.write(contact=f"c-{n}"))["conversation_id"] for n in range(3)]  # Ana: 2, one waits
    await sc.presence(beto, "online")  # takes the waiting one
    await sc.presence(ana, "offline")
    details = [await sc.detail(i) for i in ids]
    assert [d["assigned_membership_id"] for d in details[:2]] == [beto.membership_id, None]
    assert details[1]["status"] == "queued"  # Beto is full; it waits, first in line
    ends = [a["end_reason"] for a in details[0]["assignments"]]
    assert ends == ["requeued", None]


async def test_an_agent_going_offline_keeps_conversations_when_reassign_is_off(http: httpx.AsyncClient,
                                                                             factory: Factory) -> None:
    sc = await build(http, factory, permissions={"reassign_when_exclusive_offline": False})
    [ana] = await sc.hire(1, capacity=2)
    conversation = await sc.write(contact="c-1")
    await sc.presence(ana, "offline")
    assert await assignee(sc, conversation["conversation_id"]) == ana.membership_id
    assert (await sc.write(contact="c-2"))["conversation_id"]  # new ones wait
    assert [c.status for c in await sc.conversations()] == ["assigned", "queued"]


async def test_removing_an_agent_from_the_campaign_hands_their_work_to_others(http: httpx.AsyncClient,
                                                                             factory: Factory) -> None:
    sc = await build(http, factory)
    ana, beto = await sc.hire(2, capacity=1)
    first = await sc.write(contact="c-1")
    assert await assignee(sc, first["conversation_id"]) == ana.membership_id
    del sc.capacities[ana.membership_id]
    response = await sc.staff()
    assert [a["membership_id"] for a in response.json()] == [beto.membership_id]
    assert await assignee(sc, first["conversation_id"]) == beto.membership_id


async def test_campaign_agents_show_presence_load_and_capacity(http: httpx.AsyncClient, factory: Factory) -> None:
    sc = await build(http, factory, default_capacity=4)
    ana, beto = await sc.hire(2, capacity=None)
    sc.capacities[beto.membership_id] = 1
    await sc.staff()
    await sc.write(contact="c-1")
    board = (await http.get(f"/api/v1/campaigns/{sc.campaign_id}/agents", headers=sc.supervisor.headers)).json()
    assert [(a["membership_id"], a["capacity"], a["capacity_is_default"], a["load"], a["presence"])
            for a in board] == [(ana.membership_id, 4, True, 1, "online"), (beto.membership_id, 1, False, 0, "online")]
    assert (await http.get(f"/api/v1/campaigns/{sc.campaign_id}/agents", headers=ana.headers)).status_code == 403


async def test_attaching_agents_checks_the_people_and_the_role(http: httpx.AsyncClient, factory: Factory,
                                                               other_tenant) -> None:  # type: ignore[no-untyped-def]
    sc = await build(http, factory)
    [ana] = await sc.hire(1)
    url = f"/api/v1/campaigns/{sc.campaign_id}/agents"
    foreign = await http.put(url, json={"agents": [{"membership_id": other_tenant.agent.membership_id}]},
                             headers=sc.supervisor.headers)
    assert foreign.status_code == 422 and foreign.json()["field"] == "agents.0.membership_id"
    twice = await http.put(url, json={"agents": [{"membership_id": ana.membership_id}] * 2},
                           headers=sc.supervisor.headers)
    assert twice.status_code == 422 and twice.json()["field"] == "agents.1.membership_id"
    by_agent = await http.put(url, json={"agents": []}, headers=ana.headers)
    assert by_agent.status_code == 403
    other_client = await http.put(url, json={"agents": []}, headers=other_tenant.admin.headers)
    assert other_client.status_code == 404
    assert await sc.count(Assignment) == 0


async def test_logging_out_sets_the_agent_offline_and_hands_conversations_to_a_colleague(
        http: httpx.AsyncClient, factory: Factory) -> None:
    sc = await build(http, factory, permissions={"reassign_when_exclusive_offline": True})
    ana, beto = await sc.hire(2, capacity=2)
    await sc.presence(beto, "away")
    conversation = await sc.write(contact="c-1")
    assert await assignee(sc, conversation["conversation_id"]) == ana.membership_id
    await sc.presence(beto, "online")
    assert (await http.post("/api/v1/auth/logout", headers=ana.headers)).status_code == 204
    assert await assignee(sc, conversation["conversation_id"]) == beto.membership_id
    agents = (await http.get(f"/api/v1/campaigns/{sc.campaign_id}/agents", headers=sc.supervisor.headers)).json()
    presence = {a["membership_id"]: a["presence"] for a in agents}
    assert presence[ana.membership_id] == "offline"
