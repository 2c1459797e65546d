"""Endings: closing with required fields and typifications, inactivity (durable across a restart),
transfers and mass transfers, each stamped with the campaign's typification."""

from datetime import UTC, datetime

import httpx

from atiende.catalog.models import FieldType, Typification
from atiende.conversations.models import Assignment, Conversation
from atiende.db import Database
from atiende.jobs import JobContext, Worker
from tests.conversations.scenario import OFFICE, Scenario, build
from tests.factories import Factory

FIELDS = [("cedula", FieldType.text, True, {"min_length": 6, "pattern": r"\d+"}),
          ("monto", FieldType.number, False, {"min": 0}),
          ("producto", FieldType.select, False, {"options": ["Tarjeta", "Crédito"]}),
          ("correo", FieldType.email, False, {})]


async def served(sc: Scenario, contact: str = "c-1", reply: bool = True) -> int:
    conversation_id = (await sc.write(contact=contact))["conversation_id"]
    if reply:
        holder = (await sc.detail(conversation_id))["assigned_membership_id"]
        agent = next(a for a in sc.agents if a.membership_id == holder)
        assert (await sc.reply(agent, conversation_id)).status_code == 201
    return conversation_id


async def test_closing_needs_the_required_fields_with_valid_values(http: httpx.AsyncClient, factory: Factory) -> None:
    sc = await build(http, factory, fields=FIELDS)
    [ana] = await sc.hire(1)
    conversation_id = await served(sc)
    missing = await sc.close(ana, conversation_id)
    assert missing.status_code == 422 and missing.json()["field"] == "fields.cedula"
    for fields, field in [({"cedula": "12"}, "fields.cedula"), ({"cedula": "abcdefg"}, "fields.cedula"),
                          ({"cedula": 1234567}, "fields.cedula"),
                          ({"cedula": "1234567", "monto": "diez"}, "fields.monto"),
                          ({"cedula": "1234567", "monto": -1}, "fields.monto"),
                          ({"cedula": "1234567", "producto": "Casa"}, "fields.producto"),
                          ({"cedula": "1234567", "correo": "no-es-correo"}, "fields.correo"),
                          ({"cedula": "1234567", "color": "rojo"}, "fields.color")]:
        response = await sc.close(ana, conversation_id, fields=fields)
        assert (response.status_code, response.json()["field"]) == (422, field), fields
    assert (await sc.detail(conversation_id))["status"] == "assigned"
    short = await sc.close(ana, conversation_id, fields={"cedula": "12"})
    assert short.json()["code"] == "field.min_length" and short.json()["detail"].endswith("At least 6 characters")
    # One validator everywhere: a number written the Spanish way, an option in another case.
    closed = await sc.close(ana, conversation_id, fields={"cedula": "1234567", "monto": "1500,5", "producto": "tarjeta"})
    assert closed.status_code == 200, closed.text
    assert closed.json()["field_values"] == {"cedula": "1234567", "monto": 1500.5, "producto": "Tarjeta"}


async def test_fields_filled_before_closing_count_and_null_clears_one(http: httpx.AsyncClient,
                                                                     factory: Factory) -> None:
    sc = await build(http, factory, fields=FIELDS)
    [ana] = await sc.hire(1)
    conversation_id = await served(sc)
    url = f"/api/v1/conversations/{conversation_id}/fields"
    filled = await http.patch(url, json={"fields": {"cedula": "7654321", "monto": 3}}, headers=ana.headers)
    assert filled.status_code == 200 and filled.json()["field_values"] == {"cedula": "7654321", "monto": 3}
    cleared = await http.patch(url, json={"fields": {"monto": None}}, headers=ana.headers)
    assert cleared.json()["field_values"] == {"cedula": "7654321"}
    assert (await sc.close(ana, conversation_id)).status_code == 200


async def test_the_default_typification_is_finalizada_por_el_agente(http: httpx.AsyncClient, factory: Factory) -> None:
    sc = await build(http, factory)
    [ana] = await sc.hire(1)
    first, second = await served(sc, "c-1"), await served(sc, "c-2")
    default = (await sc.close(ana, first)).json()
    chosen = (await sc.close(ana, second, typification_id=sc.typifications["sale"])).json()
    assert (default["typification_id"], default["close_reason"]) == (sc.typifications["agent_closed"], "agent")
    assert chosen["typification_id"] == sc.typifications["sale"]
    [stretch] = (await sc.detail(second))["assignments"]
    assert (stretch["end_reason"], stretch["typification_id"]) == ("closed", sc.typifications["sale"])


async def test_a_typification_of_another_client_or_inactive_is_refused(http: httpx.AsyncClient, factory: Factory,
                                                                      other_tenant) -> None:  # type: ignore[no-untyped-def]
    sc = await build(http, factory)
    [ana] = await sc.hire(1)
    conversation_id = await served(sc)
    async with sc.database.session() as session:
        foreign = Typification(client_id=other_tenant.client.id, name="Ajena", code="ajena")
        retired = Typification(client_id=sc.client_id, name="Vieja", code="vieja", active=False)
        session.add_all([foreign, retired])
        await session.flush()
        ids = foreign.id, retired.id
    for typification_id in ids:
        response = await sc.close(ana, conversation_id, typification_id=typification_id)
        assert response.status_code == 422 and response.json()["field"] == "typification_id"
    assert (await sc.detail(conversation_id))["status"] == "assigned"


async def test_closing_without_a_reply_is_refused_unless_the_campaign_allows_it(http: httpx.AsyncClient,
                                                                               factory: Factory) -> None:
    sc = await build(http, factory, permissions={"close_without_reply": False})
    [ana] = await sc.hire(1)
    conversation_id = await served(sc, reply=False)
    refused = await sc.close(ana, conversation_id)
    assert refused.status_code == 403
    assert "Answer the contact before closing" in refused.json()["detail"]
    assert (await sc.close(sc.supervisor, conversation_id)).json()["close_reason"] == "supervisor"
    await sc.update_campaign(permissions={"close_without_reply": True})
    other = await served(sc, "c-2", reply=False)
    assert (await sc.close(ana, other)).status_code == 200


async def test_only_the_assigned_agent_closes(http: httpx.AsyncClient, factory: Factory) -> None:
    sc = await build(http, factory)
    ana, beto = await sc.hire(2)
    conversation_id = await served(sc)
    assert (await sc.close(beto, conversation_id)).status_code == 404  # Beto never served it: not even visible
    closed = await sc.close(ana, conversation_id)
    assert closed.status_code == 200
    again = await sc.close(ana, conversation_id)
    assert again.status_code == 409


# --- inactivity -------------------------------------------------------------------------------

async def test_inactivity_closes_after_the_last_agent_message(http: httpx.AsyncClient, factory: Factory, clock,
                                                             worker: Worker) -> None:  # type: ignore[no-untyped-def]
    sc = await build(http, factory, inactivity_minutes=30)
    [ana] = await sc.hire(1)
    conversation_id = await served(sc)
    clock.advance(minutes=20)
    await sc.reply(ana, conversation_id, "¿Sigue ahí?")  # the timer starts again
    clock.advance(minutes=29)
    await worker.run_due()
    assert (await sc.detail(conversation_id))["status"] == "assigned"
    clock.advance(minutes=1)
    await worker.run_due()
    detail = await sc.detail(conversation_id)
    assert (detail["status"], detail["close_reason"], detail["typification_id"]) == (
        "closed", "inactivity", sc.typifications["inactivity"])
    assert detail["assignments"][0]["end_reason"] == "inactivity"


async def test_a_contact_who_wrote_last_is_never_closed_for_inactivity(http: httpx.AsyncClient, factory: Factory,
                                                                      clock, worker: Worker) -> None:  # type: ignore[no-untyped-def]
    sc = await build(http, factory, inactivity_minutes=30)
    await sc.hire(1)
    conversation_id = await served(sc)
    clock.advance(minutes=10)
    await sc.write("Espere, ya le digo", contact="c-1")
    clock.advance(hours=5)
    await worker.run_due()
    assert (await sc.detail(conversation_id))["status"] == "assigned"
    untouched = (await sc.write(contact="c-2"))["conversation_id"]  # no agent message yet: nothing to wait for
    clock.advance(hours=5)
    await worker.run_due()
    assert (await sc.detail(untouched))["status"] == "assigned"


async def test_the_inactivity_timer_survives_a_restart(http: httpx.AsyncClient, factory: Factory, clock,
                                                       app) -> None:  # type: ignore[no-untyped-def]
    sc = await build(http, factory, inactivity_minutes=15)
    await sc.hire(1)
    conversation_id = await served(sc)
    # The process dies; a new one starts with its own database connections and worker.
    clock.advance(minutes=16)
    database = Database(app.state.database.url)
    async with httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(200))) as http_client:
        fresh = Worker(JobContext(database=database, clock=clock, bus=app.state.bus, settings=app.state.settings,
                                  http=http_client))
        await fresh.run_due()
    await database.dispose()
    assert (await sc.detail(conversation_id))["close_reason"] == "inactivity"


# --- transfers --------------------------------------------------------------------------------

async def transfer(sc: Scenario, who, conversation_id: int, to: int) -> httpx.Response:  # type: ignore[no-untyped-def]
    return await sc.http.post(f"/api/v1/conversations/{conversation_id}/transfer", json={"membership_id": to},
                              headers=who.headers)


async def test_a_transfer_needs_the_permission_and_an_eligible_target(http: httpx.AsyncClient, factory: Factory,
                                                                     other_tenant) -> None:  # type: ignore[no-untyped-def]
    sc = await build(http, factory, permissions={"transfer_between_agents": False})
    ana, beto = await sc.hire(2, capacity=1)
    conversation_id = await served(sc)
    refused = await transfer(sc, ana, conversation_id, beto.membership_id)
    assert refused.status_code == 403
    await sc.update_campaign(permissions={"transfer_between_agents": True})
    foreign = await transfer(sc, ana, conversation_id, other_tenant.agent.membership_id)
    assert foreign.status_code == 422 and foreign.json()["field"] == "membership_id"
    await sc.presence(beto, "away")
    unavailable = await transfer(sc, ana, conversation_id, beto.membership_id)
    assert unavailable.status_code == 409
    await sc.presence(beto, "online")
    await served(sc, "c-2")  # Beto is now full
    assert (await transfer(sc, ana, conversation_id, beto.membership_id)).status_code == 409
    assert await sc.count(Assignment) == 2  # nothing changed by the refusals


async def test_a_transfer_ends_the_stretch_typified_transferida(http: httpx.AsyncClient, factory: Factory) -> None:
    sc = await build(http, factory, permissions={"transfer_between_agents": True})
    ana, beto = await sc.hire(2, capacity=1)
    await sc.presence(beto, "away")
    conversation_id = await served(sc)
    waiting = (await sc.write(contact="c-2"))["conversation_id"]  # Ana is full
    await sc.presence(beto, "online")  # takes the waiting one: full too
    assert (await sc.detail(waiting))["assigned_membership_id"] == beto.membership_id
    sc.capacities[beto.membership_id] = 2
    await sc.staff()
    third = (await sc.write(contact="c-3"))["conversation_id"]  # Beto's second seat
    assert (await sc.detail(third))["assigned_membership_id"] == beto.membership_id
    sc.capacities[beto.membership_id] = 3
    await sc.staff()
    moved = await transfer(sc, ana, conversation_id, beto.membership_id)
    assert moved.status_code == 200, moved.text
    assert moved.json()["assigned_membership_id"] == beto.membership_id
    stretches = (await sc.detail(conversation_id))["assignments"]
    assert [(s["membership_id"], s["end_reason"], s["typification_id"]) for s in stretches] == [
        (ana.membership_id, "transferred", sc.typifications["transferred"]), (beto.membership_id, None, None)]


async def test_mass_transfer_to_another_agent_and_back_to_the_queue(http: httpx.AsyncClient, factory: Factory) -> None:
    sc = await build(http, factory)
    ana, beto = await sc.hire(2, capacity=3)
    await sc.presence(beto, "away")
    ids = [(await sc.write(contact=f"c-{n}"))["conversation_id"] for n in range(3)]  # all Ana's
    await sc.presence(beto, "online")
    sc.capacities[beto.membership_id] = 2
    await sc.staff()
    url = f"/api/v1/campaigns/{sc.campaign_id}/mass-transfer"
    body = {"from_membership_id": ana.membership_id, "to_membership_id": beto.membership_id}
    assert (await http.post(url, json=body, headers=ana.headers)).status_code == 403  # supervisors only
    response = await http.post(url, json=body, headers=sc.supervisor.headers)
    assert response.status_code == 200, response.text
    assert response.json() == {"transferred": ids[:2], "queued": ids[2:]}  # Beto had room for two
    details = [await sc.detail(i) for i in ids]
    # The third went back to the queue and, in the same breath, to the only agent with room who is not
    # the one it was taken from... nobody: Ana is excluded for it, Beto is full.
    assert [d["assigned_membership_id"] for d in details] == [beto.membership_id, beto.membership_id, None]
    assert all(d["assignments"][0]["typification_id"] == sc.typifications["mass_transfer"] for d in details)
    assert all(d["assignments"][0]["end_reason"] == "mass_transfer" for d in details)
    back = await http.post(url, json={"from_membership_id": beto.membership_id}, headers=sc.supervisor.headers)
    assert back.json() == {"transferred": [], "queued": ids[:2]}
    # Back in the queue in arrival order; Ana has room again and takes all three (Beto is excluded).
    details = [await sc.detail(i) for i in ids]
    assert [d["assigned_membership_id"] for d in details] == [ana.membership_id] * 3


async def test_mass_transfer_checks_who_is_involved(http: httpx.AsyncClient, factory: Factory,
                                                    other_tenant) -> None:  # type: ignore[no-untyped-def]
    sc = await build(http, factory)
    ana, beto = await sc.hire(2)
    await served(sc)
    url = f"/api/v1/campaigns/{sc.campaign_id}/mass-transfer"
    foreign_to = await http.post(url, json={"from_membership_id": ana.membership_id,
                                            "to_membership_id": other_tenant.agent.membership_id},
                                 headers=sc.supervisor.headers)
    assert foreign_to.status_code == 422 and foreign_to.json()["field"] == "to_membership_id"
    foreign_from = await http.post(url, json={"from_membership_id": other_tenant.agent.membership_id},
                                   headers=sc.supervisor.headers)
    assert foreign_from.status_code == 422 and foreign_from.json()["field"] == "from_membership_id"
    itself = await http.post(url, json={"from_membership_id": ana.membership_id,
                                        "to_membership_id": ana.membership_id}, headers=sc.supervisor.headers)
    assert itself.status_code == 422
    await sc.presence(beto, "offline")
    offline = await http.post(url, json={"from_membership_id": ana.membership_id,
                                         "to_membership_id": beto.membership_id}, headers=sc.supervisor.headers)
    assert offline.status_code == 409
    other_client = await http.post(url, json={"from_membership_id": ana.membership_id},
                                   headers=other_tenant.supervisor.headers)
    assert other_client.status_code == 404
    assert await sc.count(Assignment, Assignment.ended_at.is_not(None)) == 0
    assert [c.assigned_membership_id for c in await sc.conversations()] == [ana.membership_id]
    assert await sc.count(Conversation) == 1


async def test_a_supervisor_hands_a_waiting_conversation_to_an_agent(http: httpx.AsyncClient, factory: Factory,
                                                                    clock) -> None:  # type: ignore[no-untyped-def]
    sc = await build(http, factory, bands=OFFICE)  # Encolar; it is Saturday: the queue waits for Monday
    ana, beto = await sc.hire(2, capacity=1)
    await sc.presence(beto, "away")
    await sc.travel(datetime(2026, 1, 10, 15, 0, tzinfo=UTC))
    waiting = (await sc.write(contact="c-1"))["conversation_id"]
    assert (await sc.detail(waiting))["status"] == "queued"
    assert (await transfer(sc, ana, waiting, ana.membership_id)).status_code == 404  # agents: not theirs to see
    assert (await transfer(sc, sc.supervisor, waiting, beto.membership_id)).status_code == 409  # Beto is away
    handed = await transfer(sc, sc.supervisor, waiting, ana.membership_id)
    assert handed.status_code == 200, handed.text
    detail = await sc.detail(waiting)
    assert (detail["status"], detail["assigned_membership_id"]) == ("assigned", ana.membership_id)
    assert [s["end_reason"] for s in detail["assignments"]] == [None]
