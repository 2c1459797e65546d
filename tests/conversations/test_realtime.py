"""Typed events after commit, and the WebSocket that streams each caller their own: an agent the
conversations they are concerned by, a supervisor everything of their client, nobody another
client's. The socket tests run the real app under uvicorn on this test's event loop."""

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from atiende.bus import InProcessBus
from tests.conversations.scenario import Scenario, build, drain, kinds
from tests.factories import Factory, Person

WAIT = 10  # seconds before a missing frame fails the test (never a timing assertion)


async def test_an_inbound_message_publishes_typed_events_after_commit(http: httpx.AsyncClient, factory: Factory,
                                                                     bus: InProcessBus) -> None:
    sc = await build(http, factory)
    [ana] = await sc.hire(1)
    with bus.subscribe() as subscription:
        answer = await sc.write("Hola")
        events = drain(subscription)
    assert kinds(events) == ["message.received", "conversation.queued", "conversation.assigned", "queue.changed"]
    received, queued, assigned, queue = events
    assert (received.client_id, received.campaign_id, received.conversation_id, received.message_id,
            received.text) == (sc.client_id, sc.campaign_id, answer["conversation_id"], answer["message_id"], "Hola")
    assert assigned.membership_id == ana.membership_id and assigned.membership_ids == (ana.membership_id,)
    assert queue.queued == 0
    with bus.subscribe() as subscription:
        await sc.reply(ana, answer["conversation_id"], "Hola Ana")
        await sc.close(ana, answer["conversation_id"])
        events = drain(subscription)
    assert kinds(events) == ["message.sent", "conversation.closed"]  # nobody was waiting
    assert events[1].reason == "agent" and events[1].membership_ids == (ana.membership_id,)


async def test_the_queue_count_is_what_is_left_waiting_after_each_pass(http: httpx.AsyncClient, factory: Factory,
                                                                        bus: InProcessBus) -> None:
    sc = await build(http, factory)
    [ana] = await sc.hire(1, capacity=1)
    counts = []
    for n in range(3):
        with bus.subscribe() as subscription:
            await sc.write(contact=f"c-{n}")
            counts.append([event.queued for event in drain(subscription) if event.kind == "queue.changed"])
    assert counts == [[0], [1], [2]]  # the first is assigned, the next two wait
    first = (await sc.conversations())[0]
    await sc.reply(ana, first.id, "Listo")
    with bus.subscribe() as subscription:
        assert (await sc.close(ana, first.id)).status_code == 200  # a seat frees: the oldest waiting one goes
        queued = [event.queued for event in drain(subscription) if event.kind == "queue.changed"]
    assert queued == [1]


async def test_nothing_is_published_when_the_request_fails(http: httpx.AsyncClient, factory: Factory,
                                                           bus: InProcessBus) -> None:
    sc = await build(http, factory, permissions={"close_without_reply": False})
    [ana] = await sc.hire(1)
    conversation_id = (await sc.write())["conversation_id"]
    with bus.subscribe() as subscription:
        assert (await sc.close(ana, conversation_id)).status_code == 403
        assert drain(subscription) == []


# --- the WebSocket ----------------------------------------------------------------------------

@pytest.fixture
async def server(app) -> AsyncIterator[str]:  # type: ignore[no-untyped-def]
    """The app under a real uvicorn on this loop (sharing its database, bus and clock)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, lifespan="off", log_level="warning", ws="websockets-sansio")
    uv = uvicorn.Server(config)
    task = asyncio.create_task(uv.serve(sockets=[sock]))
    for _ in range(1000):  # startup: a few milliseconds
        if uv.started:
            break
        await asyncio.sleep(0.01)
    yield f"ws://127.0.0.1:{port}"
    uv.should_exit = True
    await task
    sock.close()


def token(person: Person) -> str:
    return person.headers["Authorization"].removeprefix("Bearer ")


async def frames_until(ws: ClientConnection, stop: dict[str, Any]) -> list[dict[str, Any]]:
    """Frames received up to and including the first that contains ``stop``."""
    frames = []
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
        frames.append(frame)
        if all(frame.get(k) == v for k, v in stop.items()):
            return frames


async def listen(base: str, person: Person) -> ClientConnection:
    ws = await connect(f"{base}/api/v1/ws?token={token(person)}")
    assert json.loads(await asyncio.wait_for(ws.recv(), WAIT)) == {"kind": "ready"}
    return ws


async def test_the_socket_streams_each_caller_their_own_events(server: str, http: httpx.AsyncClient,
                                                               factory: Factory, other_tenant) -> None:  # type: ignore[no-untyped-def]
    sc: Scenario = await build(http, factory)
    ana, beto = await sc.hire(2, capacity=1)
    ana_ws, beto_ws, sup_ws, outsider_ws = [await listen(server, p) for p in
                                            (ana, beto, sc.supervisor, other_tenant.supervisor)]
    try:
        first = (await sc.write("Hola", contact="c-1"))["conversation_id"]  # Ana
        second = (await sc.write("Buenas", contact="c-2"))["conversation_id"]  # Beto
        await sc.presence(ana, "away")  # sentinel for Ana
        ana_frames = await frames_until(ana_ws, {"kind": "presence.changed", "membership_id": ana.membership_id})
        assert [(f["kind"], f.get("conversation_id")) for f in ana_frames] == [
            ("conversation.assigned", first), ("presence.changed", None)]
        await sc.presence(beto, "away")
        beto_frames = await frames_until(beto_ws, {"kind": "presence.changed", "membership_id": beto.membership_id})
        assert [(f["kind"], f.get("conversation_id")) for f in beto_frames] == [
            ("conversation.assigned", second), ("presence.changed", None)]
        sup_frames = await frames_until(sup_ws, {"kind": "presence.changed", "membership_id": beto.membership_id})
        assert [f["kind"] for f in sup_frames] == [
            "message.received", "conversation.queued", "conversation.assigned", "queue.changed",
            "message.received", "conversation.queued", "conversation.assigned", "queue.changed",
            "presence.changed", "presence.changed"]
        outsider_sentinel = (await http.put("/api/v1/agents/me/status", json={"presence": "online"},
                                            headers=other_tenant.agent.headers))
        assert outsider_sentinel.status_code == 200
        outsider = await frames_until(outsider_ws, {"kind": "presence.changed"})
        assert [(f["kind"], f["client_id"]) for f in outsider] == [("presence.changed", other_tenant.client.id)]
    finally:
        for ws in (ana_ws, beto_ws, sup_ws, outsider_ws):
            await ws.close()


async def test_the_socket_refuses_a_missing_or_bad_token(server: str, factory: Factory, tenant) -> None:  # type: ignore[no-untyped-def]
    for url in (f"{server}/api/v1/ws", f"{server}/api/v1/ws?token=nonsense"):
        with pytest.raises(InvalidStatus) as refused:
            await connect(url)
        assert refused.value.response.status_code == 403


async def test_sockets_share_one_subscription_released_with_the_last_socket(
        server: str, http: httpx.AsyncClient, factory: Factory, bus: InProcessBus) -> None:
    sc: Scenario = await build(http, factory)
    [ana] = await sc.hire(1, capacity=2)
    first, second = await listen(server, ana), await listen(server, sc.supervisor)
    assert len(bus._hub._subscriptions) == 1
    for ws in (first, second):
        await ws.close()
    for _ in range(500):  # the server notices the close within milliseconds
        if not bus._hub._subscriptions:
            break
        await asyncio.sleep(0.01)
    assert not bus._hub._subscriptions
    again = await listen(server, ana)  # a new socket subscribes anew and hears its events
    try:
        conversation_id = (await sc.write("Hola otra vez"))["conversation_id"]
        frames = await frames_until(again, {"kind": "conversation.assigned"})
        assert frames[-1]["conversation_id"] == conversation_id
    finally:
        await again.close()
