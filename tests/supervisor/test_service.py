"""What the supervisor board reads, through the service the page calls: per campaign the queue in
arrival order, the agents with presence, load and capacity, the conversations in progress and the
out-of-hours flag; a search over the client's conversations; and nobody else may read any of it."""

from datetime import UTC, datetime, time

import httpx
import pytest

from atiende.auth.caller import Caller
from atiende.auth.models import Presence
from atiende.auth.service import auth_service
from atiende.conversations.models import ConversationStatus
from atiende.conversations.supervision import supervision_service
from atiende.errors import Forbidden, NotFound
from tests.conversations.scenario import Scenario, build
from tests.factories import Factory, Person

MONDAY_10_BOGOTA = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)
SATURDAY_10_BOGOTA = datetime(2026, 1, 10, 15, 0, tzinfo=UTC)
OFFICE = [(d, time(8), time(17)) for d in range(5)]


async def caller_of(sc: Scenario, person: Person) -> Caller:
    async with sc.database.session() as session:
        return await auth_service.caller_for_token(session, person.headers["Authorization"][7:],
                                                   clock=sc.factory.clock)


async def test_the_board_shows_the_queue_the_agents_and_the_work_in_progress(
        http: httpx.AsyncClient, factory: Factory) -> None:
    sc = await build(http, factory)
    ana, beto = await sc.hire(2, capacity=1)
    await sc.presence(beto, "away")
    served = (await sc.write("Hola", contact="c-1", name="Laura"))["conversation_id"]
    first_waiting = (await sc.write("Buenas", contact="c-2", name="Mario"))["conversation_id"]
    sc.factory.clock.advance(minutes=2)
    second_waiting = (await sc.write("¿Hola?", contact="c-3", name="Rosa"))["conversation_id"]
    supervisor = await caller_of(sc, sc.supervisor)
    now = sc.factory.clock.now()
    async with sc.database.session() as session:
        [summary] = await supervision_service.summaries(session, supervisor, sc.client_id, now)
        board = await supervision_service.board(session, supervisor, sc.campaign_id, now)
    assert (summary.queued, summary.in_progress, summary.online_agents, summary.agents) == (2, 1, 1, 2)
    assert summary.open_now
    assert [w.conversation_id for w in board.waiting] == [first_waiting, second_waiting]
    assert [w.contact_name for w in board.waiting] == ["Mario", "Rosa"]
    agents = {a.membership_id: a for a in board.agents}
    assert (agents[ana.membership_id].presence, agents[ana.membership_id].load,
            agents[ana.membership_id].capacity) == (Presence.online, 1, 1)
    assert agents[beto.membership_id].presence == Presence.away
    [active] = board.in_progress
    assert (active.conversation_id, active.agent_id, active.contact_name) == (served, ana.membership_id, "Laura")
    assert active.waiting_since is not None  # Laura wrote and nobody answered yet


async def test_out_of_hours_shows_on_the_board(http: httpx.AsyncClient, factory: Factory) -> None:
    sc = await build(http, factory, bands=OFFICE)
    supervisor = await caller_of(sc, sc.supervisor)
    async with sc.database.session() as session:
        [open_monday] = await supervision_service.summaries(session, supervisor, sc.client_id, MONDAY_10_BOGOTA)
        [closed_saturday] = await supervision_service.summaries(session, supervisor, sc.client_id,
                                                                SATURDAY_10_BOGOTA)
        board = await supervision_service.board(session, supervisor, sc.campaign_id, SATURDAY_10_BOGOTA)
    assert open_monday.open_now and not closed_saturday.open_now and not board.summary.open_now


async def test_the_search_finds_conversations_by_name_number_or_id(http: httpx.AsyncClient, factory: Factory) -> None:
    sc = await build(http, factory)
    [ana] = await sc.hire(1)
    laura = (await sc.write("Hola", contact="c-1", name="Laura Gómez", phone="+573001112233"))["conversation_id"]
    mario = (await sc.write("Hola", contact="c-2", name="Mario Ruiz"))["conversation_id"]
    assert (await sc.reply(ana, laura, "Hola Laura")).status_code == 201
    closed = await sc.close(ana, laura)
    assert closed.status_code == 200, closed.text
    supervisor = await caller_of(sc, sc.supervisor)
    async with sc.database.session() as session:
        by_name = await supervision_service.search(session, supervisor, sc.client_id, "laura")
        by_phone = await supervision_service.search(session, supervisor, sc.client_id, "300111")
        by_id = await supervision_service.search(session, supervisor, sc.client_id, str(mario))
        in_progress = await supervision_service.search(session, supervisor, sc.client_id, "",
                                                       status=ConversationStatus.assigned)
        everything = await supervision_service.search(session, supervisor, sc.client_id, "")
        percent = await supervision_service.search(session, supervisor, sc.client_id, "%")
    assert [f.conversation_id for f in by_name] == [laura] and by_name[0].status == ConversationStatus.closed
    assert [f.conversation_id for f in by_phone] == [laura]
    assert mario in [f.conversation_id for f in by_id]
    assert [f.conversation_id for f in in_progress] == [mario] and in_progress[0].agent_name
    assert [f.conversation_id for f in everything] == [mario, laura]
    assert percent == []


async def test_agents_and_other_clients_cannot_read_the_board(http: httpx.AsyncClient, factory: Factory,
                                                              other_tenant) -> None:  # type: ignore[no-untyped-def]
    sc = await build(http, factory)
    [ana] = await sc.hire(1)
    agent = await caller_of(sc, ana)
    stranger = await caller_of(sc, other_tenant.supervisor)
    now = sc.factory.clock.now()
    async with sc.database.session() as session:
        with pytest.raises(Forbidden):
            await supervision_service.summaries(session, agent, sc.client_id, now)
        with pytest.raises(Forbidden):
            await supervision_service.board(session, agent, sc.campaign_id, now)
        with pytest.raises(Forbidden):
            await supervision_service.search(session, agent, sc.client_id, "")
        with pytest.raises(NotFound):
            await supervision_service.summaries(session, stranger, sc.client_id, now)
        with pytest.raises(NotFound):
            await supervision_service.board(session, stranger, sc.campaign_id, now)
        with pytest.raises(NotFound):
            await supervision_service.search(session, stranger, sc.client_id, "")
