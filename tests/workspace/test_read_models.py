"""What the workspace shows, read through the same services the page calls: the agent's inbox
(only their conversations in progress, unread counts, waiting contacts first, the number only when
the campaign shows it), the conversation's panel (fields in order, typifications an agent may pick,
who could take a transfer) and why *Finalizar* is not available yet."""

import httpx

from atiende.auth.caller import Caller
from atiende.auth.service import auth_service
from atiende.catalog.models import FieldType
from atiende.conversations.inbox import InboxItem, agent_inbox
from atiende.conversations.workview import close_blockers, transfer_targets, work_view
from tests.conversations.scenario import Scenario, build
from tests.factories import Factory, Person


async def caller_of(sc: Scenario, person: Person) -> Caller:
    async with sc.database.session() as session:
        token = person.headers["Authorization"].removeprefix("Bearer ")
        return await auth_service.caller_for_token(session, token, clock=sc.factory.clock)


async def inbox(sc: Scenario, person: Person, seen: dict[int, int] | None = None) -> list[InboxItem]:
    caller = await caller_of(sc, person)
    async with sc.database.session() as session:
        return await agent_inbox(session, caller, sc.client_id, seen or {})


async def test_the_inbox_lists_only_my_conversations_in_progress_waiting_ones_first(
        http: httpx.AsyncClient, factory: Factory) -> None:
    sc = await build(http, factory, permissions={"show_contact_number": False})
    ana, beto = await sc.hire(2, capacity=2)
    first = (await sc.write("Hola", contact="c-1", name="Laura", phone="+573001112233"))["conversation_id"]
    second = (await sc.write("Buenas", contact="c-2", name="Mario"))["conversation_id"]
    third = (await sc.write("¿Hay alguien?", contact="c-3", name="Rosa"))["conversation_id"]
    mine = {i.conversation_id for i in await inbox(sc, ana)}
    theirs = {i.conversation_id for i in await inbox(sc, beto)}
    assert mine | theirs == {first, second, third} and not mine & theirs

    holder = ana if first in mine else beto
    assert (await sc.reply(holder, first, "Con gusto")).status_code == 201
    sc.factory.clock.advance(minutes=3)
    await sc.write("Gracias, una pregunta más", contact="c-1", name="Laura")
    await sc.write("¿Y el precio?", contact="c-1", name="Laura")
    items = {i.conversation_id: i for i in await inbox(sc, holder)}
    laura = items[first]
    assert laura.unread == 3 and laura.phone is None and laura.contact_name == "Laura"
    assert laura.last_text == "¿Y el precio?"
    assert laura.waiting_since == sc.factory.clock.now()
    last_seen = laura.last_message_id
    assert {i.conversation_id: i.unread for i in await inbox(sc, holder, {first: last_seen})}[first] == 0

    assert (await sc.reply(holder, first, "Cuesta 10")).status_code == 201
    replied = {i.conversation_id: i for i in await inbox(sc, holder)}[first]
    assert replied.waiting_since is None
    ordered = [i.conversation_id for i in await inbox(sc, holder)]
    assert ordered[-1] == first  # contacts still waiting come first


async def test_the_number_shows_in_the_inbox_only_when_the_campaign_allows_it(
        http: httpx.AsyncClient, factory: Factory) -> None:
    sc = await build(http, factory, permissions={"show_contact_number": True})
    [ana] = await sc.hire(1)
    await sc.write("Hola", phone="+573001112233")
    assert (await inbox(sc, ana))[0].phone == "+573001112233"


async def test_the_panel_and_why_finalizar_waits(http: httpx.AsyncClient, factory: Factory) -> None:
    sc = await build(http, factory, permissions={"close_without_reply": False, "transfer_between_agents": True},
                     fields=[("documento", FieldType.text, True, {}), ("correo", FieldType.email, False, {}),
                             ("motivo", FieldType.select, True, {})],
                     funnel=["Nuevo", "Cerrado"])
    ana, beto = await sc.hire(2, capacity=1)
    conversation_id = (await sc.write("Hola"))["conversation_id"]
    holder, other = (ana, beto) if (await sc.detail(conversation_id))["assigned_membership_id"] == ana.membership_id \
        else (beto, ana)
    caller = await caller_of(sc, holder)
    async with sc.database.session() as session:
        work = await work_view(session, caller, conversation_id, now=sc.factory.clock.now())
        assert [(f.key, f.required) for f in work.fields] == [("documento", True), ("correo", False),
                                                               ("motivo", True)]
        assert [s.label for s in work.stages] == ["Nuevo", "Cerrado"]
        assert work.mine and work.can_transfer
        automatic = {sc.typifications[k] for k in ("inactivity", "transferred", "mass_transfer")}
        assert not automatic & {c.id for c in work.typifications}
        blockers = close_blockers(work, {})
        assert blockers.needs_reply and blockers.missing_fields == [f.label for f in work.fields if f.required]
        assert not close_blockers(work, {"documento": "x", "motivo": "y"}).missing_fields
        targets = await transfer_targets(session, caller, conversation_id)
        assert [t.membership_id for t in targets] == [other.membership_id]
    await sc.update_campaign(permissions={"transfer_between_agents": False})
    caller = await caller_of(sc, holder)
    async with sc.database.session() as session:
        assert await transfer_targets(session, caller, conversation_id) == []


async def test_the_inbox_and_the_board_count_the_wait_from_the_first_unanswered_message(
        http: httpx.AsyncClient, factory: Factory) -> None:
    from atiende.conversations.supervision import supervision_service

    sc = await build(http, factory)
    [ana] = await sc.hire(1)
    clock = sc.factory.clock
    started = clock.now()
    conversation_id = (await sc.write("Hola", contact="c-1", name="Laura"))["conversation_id"]
    clock.advance(minutes=4)
    await sc.write("¿Hay alguien?", contact="c-1", name="Laura")  # a second message does not restart the wait

    async def both() -> tuple[object, object]:
        supervisor = await caller_of(sc, sc.supervisor)
        async with sc.database.session() as session:
            board = await supervision_service.board(session, supervisor, sc.campaign_id, clock.now())
        [row] = [r for r in board.in_progress if r.conversation_id == conversation_id]
        [item] = await inbox(sc, ana)
        return item.waiting_since, row.waiting_since

    assert await both() == (started, started)
    assert (await sc.reply(ana, conversation_id, "Aquí estoy")).status_code == 201
    assert await both() == (None, None)  # our answer ends the wait
    clock.advance(minutes=10)
    asked = clock.now()
    await sc.write("¿Cuánto cuesta?", contact="c-1", name="Laura")
    clock.advance(minutes=2)
    await sc.write("¿Y el envío?", contact="c-1", name="Laura")
    assert await both() == (asked, asked)
