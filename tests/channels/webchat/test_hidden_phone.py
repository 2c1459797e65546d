"""*Mostrar número de contacto* off: the phone a visitor gives in the widget's pre-chat form is the
contact's, and no path brings it to an agent — the chat, the REST API, the events on the
WebSocket, the agent's search, the read-only view of a conversation they closed, the contact's
earlier conversations (the transcript), the exports and the supervisor's search. Supervisors and
admins see it everywhere."""

import asyncio
import json
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from atiende.conversations.inbox import agent_inbox
from atiende.conversations.supervision import supervision_service
from atiende.conversations.workview import work_view
from atiende.errors import Forbidden
from tests.channels.fakes.setup import webchat_center
from tests.channels.webchat.test_widget_api import Visitor
from tests.conversations.scenario import Scenario
from tests.conversations.test_realtime import WAIT, server, token  # noqa: F401  (fixture)
from tests.factories import Factory, Person
from tests.supervisor.test_service import caller_of

PHONE, DIGITS = "+57 300 123 4567", "3001234567"


def leaks(text: str) -> bool:
    return DIGITS in text.replace(" ", "").replace("-", "")


async def hidden_phone_center(http: httpx.AsyncClient, factory: Factory) -> tuple[Scenario, Person, Visitor]:
    scenario, channel_id = await webchat_center(http, factory, prechat=True,
                                                permissions={"show_contact_number": False, "history_enabled": True,
                                                             "history_hours": 24})
    [ana] = await scenario.hire(1)
    visitor = Visitor(http, channel_id)
    assert (await visitor.start(name="Ana Pérez", email="ana@example.com", phone=PHONE)).status_code == 200
    return scenario, ana, visitor


async def served_and_closed(scenario: Scenario, ana: Person, visitor: Visitor, text: str) -> int:
    assert (await visitor.write(text)).status_code == 201
    conversation_id = (await scenario.conversations())[-1].id
    assert (await scenario.reply(ana, conversation_id, "Con gusto")).status_code == 201
    assert (await scenario.close(ana, conversation_id)).status_code == 200
    return conversation_id


async def test_the_agents_socket_carries_no_hidden_phone(server: str, http: httpx.AsyncClient,  # noqa: F811
                                                         factory: Factory) -> None:
    scenario, ana, visitor = await hidden_phone_center(http, factory)
    socket = await connect(f"{server}/api/v1/ws?token={token(ana)}")
    frames: list[dict[str, Any]] = []
    try:
        assert json.loads(await asyncio.wait_for(socket.recv(), WAIT)) == {"kind": "ready"}
        assert (await visitor.write("Hola, mi pedido no llega")).status_code == 201
        conversation_id = (await scenario.conversations())[0].id
        assert (await scenario.reply(ana, conversation_id, "Ya lo reviso")).status_code == 201
        assert (await visitor.write("Gracias, quedo atenta")).status_code == 201  # now Ana's: she hears it
        assert (await scenario.close(ana, conversation_id)).status_code == 200
        while not any(f.get("kind") == "conversation.closed" for f in frames):
            frames.append(json.loads(await asyncio.wait_for(socket.recv(), WAIT)))
    finally:
        await socket.close()
    assert {"message.received", "conversation.assigned", "message.sent"} <= {f["kind"] for f in frames}
    assert not any(leaks(json.dumps(f)) for f in frames), frames


async def test_search_read_only_view_transcript_and_exports_keep_the_hidden_phone_from_agents(
        http: httpx.AsyncClient, factory: Factory) -> None:
    scenario, ana, visitor = await hidden_phone_center(http, factory)
    first = await served_and_closed(scenario, ana, visitor, "Hola, quiero cambiar mi plan")
    assert (await visitor.write("Vuelvo a escribir por lo del plan")).status_code == 201
    second = (await scenario.conversations())[-1].id
    assert second != first
    agent, supervisor = await caller_of(scenario, ana), await caller_of(scenario, scenario.supervisor)
    now = scenario.factory.clock.now()
    async with scenario.database.session() as session:
        inbox = await agent_inbox(session, agent, scenario.client_id, {})
        closed_view = await work_view(session, agent, first, now=now)  # the agent reads the one they closed
        open_view = await work_view(session, agent, second, now=now)
        with pytest.raises(Forbidden):  # the client-wide search is for supervisors
            await supervision_service.search(session, agent, scenario.client_id, DIGITS)
        found = await supervision_service.search(session, supervisor, scenario.client_id, DIGITS)
        as_supervisor = await work_view(session, supervisor, second, now=now)
    [item] = inbox
    assert item.matches("Ana") and not item.matches(DIGITS) and not item.matches("+57300")  # no probing by number
    assert closed_view.view.phone is None and open_view.view.phone is None
    transcript = [m.text for _c, messages in open_view.view.history for m in messages]
    assert transcript == ["Hola, quiero cambiar mi plan", "Con gusto"]  # the earlier conversation, no form
    assert not any(leaks(m.text) for m in [*open_view.view.messages, *closed_view.view.messages])
    for path in (f"/api/v1/conversations/{first}", f"/api/v1/conversations/{second}", "/api/v1/conversations"):
        response = await http.get(path, headers=ana.headers)
        assert response.status_code == 200 and not leaks(response.text), path
    # supervisors see the number: in the search by number and in the view
    assert [f.conversation_id for f in found] == [second, first]
    assert as_supervisor.view.phone == "+573001234567"

    today = scenario.factory.clock.now().date().isoformat()
    params = {"client_id": scenario.client_id, "date_from": today, "date_to": today}
    for export in ("/api/v1/reports/conversations.csv", "/api/v1/reports/conversations.xlsx"):
        refused = await http.get(export, params=params, headers=ana.headers)
        assert refused.status_code == 403 and not leaks(refused.text), export
    csv = await http.get("/api/v1/reports/conversations.csv", params=params, headers=scenario.supervisor.headers)
    assert csv.status_code == 200 and "+573001234567" in csv.text
