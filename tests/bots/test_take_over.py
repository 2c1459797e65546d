"""Supervisors see the conversations the bot holds (count and list) and take one for the agents:
it is handed off like any other (queued, then assigned) with the reason in the transcript."""

import httpx

from atiende.auth.models import User
from atiende.auth.service import auth_service
from atiende.conversations.supervision import supervision_service
from tests.bots.test_flow import with_bot
from tests.factories import Factory


async def test_a_supervisor_takes_a_conversation_from_the_bot(http: httpx.AsyncClient, factory: Factory,
                                                               clock) -> None:  # type: ignore[no-untyped-def]
    sc, _bot = await with_bot(http, factory)
    [ana] = await sc.hire(1)
    conversation_id = (await sc.write("Hola"))["conversation_id"]
    assert (await sc.detail(conversation_id))["status"] == "bot"

    async with sc.database.session() as session:
        user = await session.get(User, sc.supervisor.user_id)
        assert user is not None
        caller = await auth_service.caller_for_user(session, user)
        [summary] = await supervision_service.summaries(session, caller, sc.client_id, clock.now())
        board = await supervision_service.board(session, caller, sc.campaign_id, clock.now())
    assert summary.with_bot == 1 and summary.queued == 0
    assert [row.conversation_id for row in board.with_bot] == [conversation_id]

    url = f"/api/v1/conversations/{conversation_id}/take-over"
    refused = await http.post(url, headers=ana.headers)
    assert refused.status_code == 403  # supervisors only, refused before the conversation is even looked up
    taken = await http.post(url, headers=sc.supervisor.headers)
    assert taken.status_code == 200, taken.text
    detail = await sc.detail(conversation_id, ana)
    assert detail["status"] == "assigned" and detail["assigned_membership_id"] == ana.membership_id
    assert detail["bot_handoff_reason"] == "supervisor"
    assert detail["messages"][-1]["text"] == "Transferida por el asistente: Un supervisor la pasó a los asesores."
    await sc.write("¿cómo pago?")  # the agent's now: the bot stays silent
    assert [m.sender for m in await sc.messages(conversation_id)][-1] == "contact"

    again = await http.post(url, headers=sc.supervisor.headers)
    assert again.status_code == 409 and again.json()["field"] == "status"
