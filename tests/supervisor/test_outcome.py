"""Supervisión → Conversaciones, through the services the page calls: a finished conversation keeps
the agent who attended it, its read-only view tells where it ended up (typification, funnel stage,
dynamic fields, the customer's survey answers) — for the supervisor and, after closing, for the
agent — and *Asignar a…* offers the campaign's agents who can take a queued conversation."""

import httpx
import pytest
from sqlalchemy import select

from atiende.catalog.models import FieldType, FunnelStage, QuestionKind
from atiende.conversations.supervision import supervision_service
from atiende.conversations.workview import assign_targets, work_view
from atiende.errors import NotFound
from tests.conversations.scenario import build
from tests.factories import Factory
from tests.supervisor.test_service import OFFICE, SATURDAY_10_BOGOTA, caller_of


async def test_a_finished_conversation_shows_its_agent_typification_stage_fields_and_survey(
        http: httpx.AsyncClient, factory: Factory) -> None:
    sc = await build(http, factory, funnel=["Contacto", "Interesado"], fields=[("ciudad", FieldType.text, True, {})],
                     survey=[(QuestionKind.rating, "¿Cómo calificas la atención?"),
                             (QuestionKind.text, "¿Qué podemos mejorar?")])
    [ana] = await sc.hire(1)
    conversation_id = (await sc.write("Quiero comprar"))["conversation_id"]
    await sc.reply(ana, conversation_id)
    async with sc.database.session() as session:
        interested = await session.scalar(select(FunnelStage.id).where(FunnelStage.name == "Interesado")
                                          .order_by(FunnelStage.id.desc()))
    moved = await http.post(f"/api/v1/conversations/{conversation_id}/stage", json={"stage_id": interested},
                            headers=ana.headers)
    assert moved.status_code == 200, moved.text
    closed = await sc.close(ana, conversation_id, typification_id=sc.typifications["sale"],
                            fields={"ciudad": "Medellín"})
    assert closed.status_code == 200, closed.text
    for answer in ["5", "Nada, todo bien"]:
        await sc.write(answer)

    supervisor = await caller_of(sc, sc.supervisor)
    async with sc.database.session() as session:
        [found] = await supervision_service.search(session, supervisor, sc.client_id, str(conversation_id))
        seen = await work_view(session, supervisor, conversation_id, now=sc.factory.clock.now())
    assert (found.status.value, found.agent_name) == ("closed", ana.email.split("@")[0])
    assert (seen.typification_name, seen.stage_name) == ("Venta", "Interesado")
    assert [(s.label, s.value) for s in seen.fields] == [("Ciudad", "Medellín")]
    assert [(a.question, a.answer) for a in seen.view.survey] == [
        ("¿Cómo calificas la atención?", "5"), ("¿Qué podemos mejorar?", "Nada, todo bien")]

    agent = await caller_of(sc, ana)  # after closing, the agent reads it too (read-only)
    async with sc.database.session() as session:
        theirs = await work_view(session, agent, conversation_id, now=sc.factory.clock.now())
    assert not theirs.mine and [a.answer for a in theirs.view.survey] == ["5", "Nada, todo bien"]


async def test_asignar_a_offers_the_campaigns_agents_with_room_for_a_queued_conversation(
        http: httpx.AsyncClient, factory: Factory) -> None:
    sc = await build(http, factory, bands=OFFICE)
    await sc.travel(SATURDAY_10_BOGOTA)  # out of hours: the queue waits while agents are online
    ana, beto = await sc.hire(2, capacity=1)
    carla = (await sc.hire(1, online=False))[0]
    queued = (await sc.write("¿Me atienden?"))["conversation_id"]
    assert (await sc.detail(queued))["status"] == "queued"
    supervisor, agent = await caller_of(sc, sc.supervisor), await caller_of(sc, ana)
    async with sc.database.session() as session:
        offered = await assign_targets(session, supervisor, queued)
        with pytest.raises(NotFound):  # agents do not even see a queued conversation
            await assign_targets(session, agent, queued)
    assert {t.membership_id for t in offered} == {ana.membership_id, beto.membership_id}  # not Carla: offline
    assert carla.membership_id not in {t.membership_id for t in offered}
    assigned = await http.post(f"/api/v1/conversations/{queued}/assign", json={"membership_id": beto.membership_id},
                               headers=sc.supervisor.headers)
    assert assigned.status_code == 200, assigned.text
    async with sc.database.session() as session:
        assert await assign_targets(session, supervisor, queued) == []  # no longer queued
