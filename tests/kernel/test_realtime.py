"""The one realtime fan-out (realtime.Fanout): an event reaches exactly the listeners its keys
name, once each; a closed listener is gone from the index; a full queue loses that event for that
listener alone (logged); one bus subscription per process, also over Redis."""

import asyncio
import logging
from datetime import datetime, timezone
from types import SimpleNamespace

import pytest

from atiende import realtime
from atiende.auth.events import SESSIONS_CHANGED, SessionsChanged
from atiende.bus import BusEvent, InProcessBus
from atiende.conversations.events import (
    ConversationAssigned, ConversationQueued, MessageReceived, PresenceChanged, QueueChanged,
)
from tests.kernel.test_redis_bus import redis_pair

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=timezone.utc)


def received(conversation_id: int, *members: int, client_id: int = 1) -> MessageReceived:
    return MessageReceived(client_id=client_id, campaign_id=2, conversation_id=conversation_id, status="assigned",
                           membership_ids=members, message_id=conversation_id * 10, text="hola", at=NOW)


def drain(listener: realtime.Listener) -> list[object]:
    items = []
    while not listener.queue.empty():
        items.append(listener.queue.get_nowait())
    return items


async def settle() -> None:
    for _ in range(3):  # the pump task takes the bus' queue
        await asyncio.sleep(0)


def test_the_kind_of_sessions_changed_is_auth_s() -> None:
    assert realtime.SESSIONS_CHANGED == SESSIONS_CHANGED


def test_an_event_names_its_client_agents_conversation_and_for_a_queued_one_the_new_conversations() -> None:
    assert realtime.keys_of(received(5, 7, 8)) == [realtime.client(1), realtime.agent(7), realtime.agent(8),
                                                   realtime.conversation(5)]
    queued = ConversationQueued(client_id=1, campaign_id=2, conversation_id=5, status="queued")
    assert realtime.new_conversations(1) in realtime.keys_of(queued)
    assert realtime.keys_of(SessionsChanged(user_id=3)) == [realtime.user(3)]  # no client 0
    assert realtime.keys_of(QueueChanged(client_id=1, campaign_id=2, queued=0)) == [realtime.client(1)]


async def test_an_event_reaches_exactly_the_listeners_it_names_once_each() -> None:
    bus = InProcessBus()
    fanout = realtime.Fanout(bus)
    ana = fanout.listen([realtime.agent(7)])
    ana_reading = fanout.listen([realtime.agent(7), realtime.conversation(5)])  # named twice: hears it once
    beto = fanout.listen([realtime.agent(8)])
    board = fanout.listen([realtime.client(1)])
    other_board = fanout.listen([realtime.client(2)])
    person = fanout.listen([realtime.user(3)])
    widget = fanout.listen([realtime.new_conversations(1)])
    try:
        await bus.publish_all([received(5, 7), PresenceChanged(client_id=1, membership_id=8, presence="away",
                                                               membership_ids=(8,)),
                               ConversationQueued(client_id=1, campaign_id=2, conversation_id=6, status="queued"),
                               SessionsChanged(user_id=3)])
        await settle()
        assert [e.kind for e in drain(ana)] == ["message.received"]
        assert [e.kind for e in drain(ana_reading)] == ["message.received"]
        assert [e.kind for e in drain(beto)] == ["presence.changed"]
        assert [e.kind for e in drain(board)] == ["message.received", "presence.changed", "conversation.queued"]
        assert drain(other_board) == []
        assert [e.kind for e in drain(person)] == [SESSIONS_CHANGED]
        assert [e.kind for e in drain(widget)] == ["conversation.queued"]
    finally:
        for listener in (ana, ana_reading, beto, board, other_board, person, widget):
            listener.close()


async def test_keys_added_and_removed_later_are_heard_from_then_on() -> None:
    bus = InProcessBus()
    fanout = realtime.Fanout(bus)
    with fanout.listen([realtime.agent(7)]) as page:
        page.add(realtime.conversation(9))  # the agent opened a conversation that is not theirs
        await bus.publish(received(9))
        await settle()
        assert [e.conversation_id for e in drain(page)] == [9]
        page.remove(realtime.conversation(9))
        await bus.publish(received(9))
        await settle()
        assert drain(page) == []
        assert realtime.conversation(9) not in fanout._index


async def test_listeners_share_one_bus_subscription_released_with_the_last() -> None:
    bus = InProcessBus()
    fanout = realtime.Fanout(bus)
    first, second = fanout.listen([realtime.agent(7)]), fanout.listen([realtime.client(1)])
    assert len(bus._hub._subscriptions) == 1
    first.close()
    first.close()  # twice is harmless
    assert len(bus._hub._subscriptions) == 1 and fanout.listening() == 1
    second.close()
    assert not bus._hub._subscriptions and not fanout._index
    again = fanout.listen([realtime.agent(7)])  # a new listener subscribes anew and hears its events
    try:
        await bus.publish(received(5, 7))
        await settle()
        assert len(drain(again)) == 1
    finally:
        again.close()


async def test_a_closed_listener_hears_nothing_and_leaves_no_key_behind() -> None:
    bus = InProcessBus()
    fanout = realtime.Fanout(bus)
    keep = fanout.listen([realtime.client(1)])
    gone = fanout.listen([realtime.agent(7), realtime.conversation(5)])
    gone.close()
    gone.add(realtime.agent(8))  # a late add on a closed listener is ignored
    try:
        await bus.publish(received(5, 7, 8))
        await settle()
        assert drain(gone) == [] and len(drain(keep)) == 1
        assert set(fanout._index) == {realtime.client(1)}
    finally:
        keep.close()


async def test_a_slow_listener_loses_events_with_a_log_and_never_holds_up_the_others(
        caplog: pytest.LogCaptureFixture) -> None:
    bus = InProcessBus()
    fanout = realtime.Fanout(bus)
    slow = fanout.listen([realtime.agent(7)], maxsize=2)
    quick = fanout.listen([realtime.agent(7)])
    try:
        with caplog.at_level(logging.WARNING, logger="atiende.realtime"):
            await bus.publish_all([received(n, 7) for n in range(1, 6)])
            await settle()
        assert [e.conversation_id for e in drain(slow)] == [1, 2]
        assert [e.conversation_id for e in drain(quick)] == [1, 2, 3, 4, 5]
        assert sum("slow listener" in r.getMessage() for r in caplog.records) == 3
    finally:
        slow.close()
        quick.close()


async def test_one_encoding_per_event_for_every_listener_that_shares_it() -> None:
    bus = InProcessBus()
    fanout = realtime.Fanout(bus)
    calls: list[str] = []

    def encode(event: BusEvent) -> str:
        calls.append(event.kind)
        return event.model_dump_json()

    sockets = [fanout.listen([realtime.client(1)], encode=encode) for _ in range(5)]
    page = fanout.listen([realtime.client(1)])
    try:
        await bus.publish(received(5, 7))
        await settle()
        frames = [drain(s) for s in sockets]
        assert calls == ["message.received"]
        assert all(f == frames[0] and isinstance(f[0], str) for f in frames)
        assert isinstance(drain(page)[0], MessageReceived)
    finally:
        for listener in (*sockets, page):
            listener.close()


async def test_a_bad_encoding_is_logged_and_the_fan_out_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    bus = InProcessBus()
    fanout = realtime.Fanout(bus)

    def encode(event: BusEvent) -> str:
        if event.conversation_id == 1:  # type: ignore[attr-defined]
            raise ValueError("boom")
        return "ok"

    with fanout.listen([realtime.client(1)], encode=encode) as socket:
        with caplog.at_level(logging.ERROR, logger="atiende.realtime"):
            await bus.publish_all([received(1), received(2)])
            await settle()
        assert drain(socket) == ["ok"]
        assert any("delivery failed" in r.getMessage() for r in caplog.records)


async def test_one_fan_out_per_app_and_bus() -> None:
    app = SimpleNamespace(state=SimpleNamespace(bus=InProcessBus()))
    fanout = realtime.Fanout.of(app)
    assert realtime.Fanout.of(app) is fanout
    app.state.bus = InProcessBus()  # a test swapped the bus: a fan-out of the new one
    assert realtime.Fanout.of(app) is not fanout


async def test_over_redis_one_subscription_per_process_delivers_by_key() -> None:
    async with redis_pair() as (publisher, listening):
        fanout = realtime.Fanout(listening)
        ana, beto = fanout.listen([realtime.agent(7)]), fanout.listen([realtime.agent(8)])
        board = fanout.listen([realtime.client(1)])
        try:
            assert len(listening._hub._subscriptions) == 1
            await publisher.publish_all([
                received(1, 7), received(2, 8),
                ConversationAssigned(client_id=1, campaign_id=2, conversation_id=3, status="assigned", membership_id=7,
                                     membership_ids=(7,))])
            async with asyncio.timeout(5):
                heard = [await board.get() for _ in range(3)]
                first_for_ana = [await ana.get(), await ana.get()]
                first_for_beto = await beto.get()
            assert [e.conversation_id for e in heard] == [1, 2, 3]
            assert [e.conversation_id for e in first_for_ana] == [1, 3]
            assert first_for_beto.conversation_id == 2 and beto.queue.empty()
        finally:
            for listener in (ana, beto, board):
                listener.close()
            assert not listening._hub._subscriptions
