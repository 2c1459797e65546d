"""Assignment under concurrency: many passes, presence changes and inbound messages at once, each
in its own session. Whatever the interleaving: never two agents on a conversation, never an agent
over capacity, never a conversation waiting while an eligible agent has room."""

import asyncio

import httpx
from sqlalchemy import func, select

from atiende.conversations import dispatch
from atiende.conversations.models import Assignment, Conversation
from atiende.jobs import JobContext
from tests.conversations.scenario import build
from tests.factories import Factory


async def test_concurrent_assignment_keeps_every_invariant(http: httpx.AsyncClient, factory: Factory,
                                                           app) -> None:  # type: ignore[no-untyped-def]
    sc = await build(http, factory)
    agents = await sc.hire(5, capacity=3, online=False)
    for n in range(30):  # nobody online: all wait
        await sc.write(contact=f"early-{n}")
    ctx: JobContext = app.state.worker.context

    async def write(n: int) -> None:
        await sc.write(contact=f"late-{n}")

    results = await asyncio.gather(
        *(sc.presence(agent, "online") for agent in agents),
        *(write(n) for n in range(10)),
        *(dispatch.dispatch(ctx, sc.campaign_id) for _ in range(15)),
        return_exceptions=True)
    assert [r for r in results if isinstance(r, BaseException)] == []

    async with sc.database.session() as session:
        per_agent = dict((await session.execute(
            select(Assignment.membership_id, func.count()).where(Assignment.ended_at.is_(None))
            .group_by(Assignment.membership_id))).all())
        doubly_held = (await session.execute(
            select(Assignment.conversation_id).where(Assignment.ended_at.is_(None))
            .group_by(Assignment.conversation_id).having(func.count() > 1))).all()
        conversations = (await session.scalars(select(Conversation))).unique().all()
        open_by_conversation = dict((await session.execute(
            select(Assignment.conversation_id, Assignment.membership_id).where(Assignment.ended_at.is_(None)))).all())
    assert doubly_held == []
    assert per_agent == {agent.membership_id: 3 for agent in agents}  # full, and not one more
    assert sum(c.status == "assigned" for c in conversations) == 15
    assert sum(c.status == "queued" for c in conversations) == 25
    for conversation in conversations:  # the conversation row and the open assignment agree
        assert open_by_conversation.get(conversation.id) == conversation.assigned_membership_id
    # The earliest arrivals were served first.
    served = sorted(c.id for c in conversations if c.status == "assigned")
    assert served == sorted(c.id for c in conversations)[:15]


async def test_concurrent_duplicates_of_one_message_are_stored_once(http: httpx.AsyncClient,
                                                                    factory: Factory) -> None:
    sc = await build(http, factory)
    await sc.hire(2)
    answers = await asyncio.gather(*(sc.write("Hola", contact="c-1", external_id="same-id") for _ in range(8)))
    assert len({a["message_id"] for a in answers}) == 1
    assert sum(not a["duplicate"] for a in answers) == 1
    assert len(await sc.conversations()) == 1


async def test_a_new_contact_writing_twice_at_once_gets_one_conversation(http: httpx.AsyncClient,
                                                                         factory: Factory) -> None:
    sc = await build(http, factory)
    await sc.hire(2)
    answers = await asyncio.gather(*(sc.write(f"Hola {n}", contact="new-contact") for n in range(6)))
    assert len({a["conversation_id"] for a in answers}) == 1
    [conversation] = await sc.conversations()
    assert len(await sc.messages(conversation.id)) == 6
