"""The Redis bus between processes (bus.RedisBus): what one process publishes, every process hears,
in order, once; a bad message on the channel is logged and skipped."""

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as redis

from atiende.bus import RedisBus
from atiende.conversations.events import ConversationAssigned, QueueChanged

REDIS_URL = os.environ.get("ATIENDE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@contextlib.asynccontextmanager
async def redis_pair() -> AsyncIterator[tuple[RedisBus, RedisBus]]:
    """Two started buses on a channel of their own (a publishing and a listening process);
    a missing Redis fails the test loudly."""
    channel = f"atiende-test:{time.time_ns()}"
    publisher, listener = RedisBus(REDIS_URL, channel), RedisBus(REDIS_URL, channel)
    try:
        await publisher.start()
        await listener.start()
    except (OSError, redis.ConnectionError) as exc:
        pytest.fail(f"Redis is not reachable at {REDIS_URL} ({exc}); the bus tests need it")
    try:
        yield publisher, listener
    finally:
        await publisher.stop()
        await listener.stop()


async def _next(subscription: object, count: int) -> list[object]:
    heard = []
    async with asyncio.timeout(5):
        async for event in subscription:  # type: ignore[attr-defined]
            heard.append(event)
            if len(heard) == count:
                return heard
    return heard


async def test_a_batch_published_at_once_arrives_in_order_as_typed_events() -> None:
    async with redis_pair() as (publisher, listener):
        with listener.subscribe() as subscription:
            events = [ConversationAssigned(client_id=1, campaign_id=2, conversation_id=n, status="assigned",
                                           membership_id=7, membership_ids=(7,)) for n in range(3)]
            await publisher.publish_all([*events, QueueChanged(client_id=1, campaign_id=2, queued=0)])
            await publisher.publish(QueueChanged(client_id=1, campaign_id=2, queued=5))
            heard = await _next(subscription, 5)
        assert [type(e).__name__ for e in heard] == ["ConversationAssigned"] * 3 + ["QueueChanged"] * 2
        assert [e.conversation_id for e in heard[:3]] == [0, 1, 2]  # type: ignore[attr-defined]
        assert heard[4].queued == 5  # type: ignore[attr-defined]


async def test_a_malformed_message_is_skipped_and_the_reader_goes_on() -> None:
    channel = f"atiende-test:{time.time_ns()}"
    listener = RedisBus(REDIS_URL, channel)
    raw = redis.from_url(REDIS_URL)
    await listener.start()
    try:
        with listener.subscribe() as subscription:
            await raw.publish(channel, b"{not json")
            await raw.publish(channel, b'[{"kind": "queue.changed"}, 5]')  # a list with two bad items
            await listener.publish(QueueChanged(client_id=3, campaign_id=4, queued=1))
            [heard] = await _next(subscription, 1)
        assert isinstance(heard, QueueChanged) and heard.client_id == 3
    finally:
        await raw.aclose()
        await listener.stop()
