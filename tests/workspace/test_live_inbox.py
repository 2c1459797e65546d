"""The workspace applies the live events it can to the inbox it shows (inbox.apply_messages) instead
of reading it again: what it ends with is what a fresh read shows; anything else asks for the read."""

from dataclasses import asdict
from datetime import timedelta

import httpx

from atiende.bus import BusEvent, InProcessBus
from atiende.conversations.events import ConversationEvent
from atiende.conversations.inbox import apply_messages
from tests.conversations.scenario import build
from tests.factories import Factory
from tests.workspace.test_read_models import inbox


def events_of(subscription: object) -> list[ConversationEvent]:
    found: list[BusEvent] = []
    queue = subscription.queue  # type: ignore[attr-defined]
    while not queue.empty():
        found.append(queue.get_nowait())
    return [e for e in found if isinstance(e, ConversationEvent)]


async def test_customers_messages_applied_in_memory_match_a_fresh_read(
        http: httpx.AsyncClient, factory: Factory, bus: InProcessBus) -> None:
    sc = await build(http, factory)
    [ana] = await sc.hire(1, capacity=5)
    first = (await sc.write("Hola", contact="c-1", name="Laura"))["conversation_id"]
    second = (await sc.write("Buenas", contact="c-2", name="Mario"))["conversation_id"]
    await sc.reply(ana, second, "Con gusto")
    seen = {first: 0}
    shown = await inbox(sc, ana, seen)
    with bus.subscribe() as subscription:
        await sc.travel(sc.factory.clock.now() + timedelta(minutes=2))
        await sc.write("¿Siguen ahí?   " + "x" * 120, contact="c-2", name="Mario")  # waits again, long preview
        await sc.travel(sc.factory.clock.now() + timedelta(minutes=1))
        await sc.write("Hola otra vez", contact="c-1", name="Laura")
        events = events_of(subscription)
    assert events and all(e.kind in ("message.received", "queue.changed") for e in events)
    assert apply_messages(shown, events, ana.membership_id, reading=None)
    assert [asdict(i) for i in shown] == [asdict(i) for i in await inbox(sc, ana, seen)]
    assert apply_messages(shown, events, ana.membership_id, reading=None)  # twice: already there, unchanged
    assert [asdict(i) for i in shown] == [asdict(i) for i in await inbox(sc, ana, seen)]


async def test_the_open_conversation_gets_no_unread_and_other_changes_ask_for_a_read(
        http: httpx.AsyncClient, factory: Factory, bus: InProcessBus) -> None:
    sc = await build(http, factory)
    [ana] = await sc.hire(1, capacity=5)
    first = (await sc.write("Hola", contact="c-1", name="Laura"))["conversation_id"]
    shown = await inbox(sc, ana)
    with bus.subscribe() as subscription:
        await sc.write("¿Me lee?", contact="c-1", name="Laura")
        reading = events_of(subscription)
    assert apply_messages(shown, reading, ana.membership_id, reading=first)
    assert shown[0].unread == 1 and shown[0].last_text == "¿Me lee?"  # 1 from before: only the new one is read
    with bus.subscribe() as subscription:
        await sc.write("Soy nuevo", contact="c-9", name="Rosa")  # a new conversation: a row to read
        new = events_of(subscription)
    before = [asdict(i) for i in shown]
    assert not apply_messages(shown, new, ana.membership_id, reading=first)
    assert [asdict(i) for i in shown] == before  # untouched when it asks for the read
    with bus.subscribe() as subscription:
        await sc.reply(ana, first, "Aquí estoy")  # our own message: read again
        ours = events_of(subscription)
    assert not apply_messages(shown, ours, ana.membership_id, reading=first)
    assert not apply_messages(shown, reading, ana.membership_id + 1, reading=first)  # not this agent's
