"""The event bus: services publish typed events after commit; pages and WebSockets listen.

In-process by default. With ``ATIENDE_REDIS_URL`` every event goes through Redis pub/sub, so
all app processes (and every open page or socket in them) see the same events.
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any, ClassVar, Protocol

from pydantic import BaseModel, ConfigDict

log = logging.getLogger(__name__)


class BusEvent(BaseModel):
    """Base of every event. Subclasses set a unique ``kind`` default and their own fields."""

    model_config = ConfigDict(frozen=True)
    kind: str
    client_id: int

    registry: ClassVar[dict[str, type["BusEvent"]]] = {}

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        field = cls.model_fields.get("kind")
        if field is not None and isinstance(field.default, str):
            BusEvent.registry[field.default] = cls

    @staticmethod
    def parse(data: dict[str, Any]) -> "BusEvent":
        """Rebuild the typed event from its JSON form (events crossing Redis)."""
        event_class = BusEvent.registry.get(str(data.get("kind")), BusEvent)
        return event_class.model_validate(data)


class EventBus(Protocol):
    async def publish(self, event: BusEvent) -> None: ...

    async def publish_all(self, events: Sequence[BusEvent]) -> None:
        """Publish in order; one round trip for all of them where the bus is remote."""

    def subscribe(self, kinds: frozenset[str] | None = None,
                  accept: "Accept | None" = None) -> "Subscription": ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


Accept = Callable[["BusEvent"], bool]


class Subscription:
    """A listener's queue of events; iterate it, and close it when done. ``kinds``: only events of
    these kinds (None: all); ``accept``: only events it approves. Filtering at delivery matters:
    with fifty agents connected, waking every socket for every event cost more than the rest of
    handling a message."""

    def __init__(self, hub: "_LocalHub", maxsize: int = 1000, kinds: frozenset[str] | None = None,
                 accept: Accept | None = None) -> None:
        self._hub = hub
        self.kinds = kinds
        self.accept = accept
        self.queue: asyncio.Queue[BusEvent] = asyncio.Queue(maxsize=maxsize)

    def __aiter__(self) -> AsyncIterator[BusEvent]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[BusEvent]:
        while True:
            yield await self.queue.get()

    async def get(self, timeout: float | None = None) -> BusEvent:
        return await asyncio.wait_for(self.queue.get(), timeout)

    def close(self) -> None:
        self._hub.remove(self)

    def __enter__(self) -> "Subscription":
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


class _LocalHub:
    def __init__(self) -> None:
        self._subscriptions: set[Subscription] = set()

    def add(self, kinds: frozenset[str] | None = None, accept: Accept | None = None) -> Subscription:
        subscription = Subscription(self, kinds=kinds, accept=accept)
        self._subscriptions.add(subscription)
        return subscription

    def wants(self, kind: str) -> bool:
        return any(s.kinds is None or kind in s.kinds for s in self._subscriptions)

    def remove(self, subscription: Subscription) -> None:
        self._subscriptions.discard(subscription)

    def deliver(self, event: BusEvent) -> None:
        for subscription in list(self._subscriptions):
            if subscription.kinds is not None and event.kind not in subscription.kinds:
                continue
            if subscription.accept is not None and not subscription.accept(event):
                continue
            try:
                subscription.queue.put_nowait(event)
            except asyncio.QueueFull:
                log.warning("dropping event %s for a slow listener", event.kind)


class InProcessBus:
    def __init__(self) -> None:
        self._hub = _LocalHub()

    async def publish(self, event: BusEvent) -> None:
        self._hub.deliver(event)

    async def publish_all(self, events: Sequence[BusEvent]) -> None:
        for event in events:
            self._hub.deliver(event)

    def subscribe(self, kinds: frozenset[str] | None = None, accept: Accept | None = None) -> Subscription:
        return self._hub.add(kinds, accept)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


class RedisBus:
    """Publishes to one Redis channel; a reader task fans each message out to local listeners.

    Local listeners hear an event only when it comes back from Redis, so every process sees
    every event exactly once, in Redis' order.
    """

    def __init__(self, url: str, channel: str = "atiende:events") -> None:
        import redis.asyncio as redis

        self._redis = redis.from_url(url)
        self._channel = channel
        self._hub = _LocalHub()
        self._reader: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    async def start(self) -> None:
        pubsub = self._redis.pubsub()
        await pubsub.subscribe(self._channel)
        self._reader = asyncio.create_task(self._read(pubsub))
        self._ready.set()

    async def _read(self, pubsub: Any) -> None:
        import json

        try:
            async for message in pubsub.listen():
                if message.get("type") != "message":
                    continue
                try:
                    data = json.loads(message["data"])
                except ValueError:  # a malformed message must not stop the reader
                    log.exception("bad event on the bus")
                    continue
                for item in data if isinstance(data, list) else [data]:  # publish_all sends a list
                    try:
                        if self._hub.wants(str(item.get("kind"))):  # a web process without sockets parses nothing
                            self._hub.deliver(BusEvent.parse(item))
                    except Exception:
                        log.exception("bad event on the bus")
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()

    async def publish(self, event: BusEvent) -> None:
        await self._redis.publish(self._channel, event.model_dump_json())

    async def publish_all(self, events: Sequence[BusEvent]) -> None:
        """One Redis message, a JSON list, for all of them: a routed batch emits hundreds, and
        every process pays per message it reads (a round trip, a wake-up, the client's parsing),
        not per event."""
        if len(events) == 1:
            await self.publish(events[0])
        elif events:
            await self._redis.publish(self._channel, "[" + ",".join(e.model_dump_json() for e in events) + "]")

    def subscribe(self, kinds: frozenset[str] | None = None, accept: Accept | None = None) -> Subscription:
        return self._hub.add(kinds, accept)

    async def stop(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
        await self._redis.aclose()


def make_bus(redis_url: str | None, channel: str = "atiende:events") -> EventBus:
    return RedisBus(redis_url, channel) if redis_url else InProcessBus()
