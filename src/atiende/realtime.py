"""The one realtime fan-out: every live listener of a process (agent and supervisor sockets, open
NiceGUI pages, web-chat sockets and long polls) is found by who must see an event.

A process holds one bus subscription while any listener is open. Each event names its audience
(``keys_of``: its client, the agents it names, its conversation, the user whose sessions changed,
the client's new conversations); each listener is indexed under the keys it hears, so delivering
an event costs a few dictionary lookups, not one filter call per open page or socket (with fifty
agents connected, asking every listener cost more than the rest of handling a message). A listener
whose queue is full loses that event (logged); it never holds up the others.
"""

import asyncio
import logging
from collections.abc import Callable, Hashable, Iterable
from typing import Any

from atiende.bus import BusEvent, EventBus, Subscription

log = logging.getLogger(__name__)

Key = tuple[str, int]
Encode = Callable[[BusEvent], Any]
QUEUE = 1000  # items waiting for one slow listener; then its items are dropped (logged)
SESSIONS_CHANGED = "auth.sessions_changed"  # auth.events' kind; the fan-out does not import the domains
QUEUED = "conversation.queued"


def client(client_id: int) -> Key:
    """Every event of a client: supervisors' sockets and boards."""
    return ("client", client_id)


def agent(membership_id: int) -> Key:
    """Events that name this seat in ``membership_ids``: the agent's socket and workspace page."""
    return ("agent", membership_id)


def conversation(conversation_id: int) -> Key:
    """Events of one conversation: the page that has it open, the visitor's widget."""
    return ("conversation", conversation_id)


def user(user_id: int) -> Key:
    """The user's sessions or seats changed: their pages and sockets check their session again."""
    return ("user", user_id)


def new_conversations(client_id: int) -> Key:
    """A conversation of the client was queued: a widget learns its visitor's new conversation."""
    return ("queued", client_id)


def keys_of(event: BusEvent) -> list[Key]:
    """Who must see ``event``, from the fields every event carries (``conversations.events``)."""
    if event.kind == SESSIONS_CHANGED:
        return [user(getattr(event, "user_id", 0))]
    keys = [client(event.client_id)]
    keys.extend(agent(m) for m in getattr(event, "membership_ids", ()))
    conversation_id = getattr(event, "conversation_id", None)
    if conversation_id is not None:
        keys.append(conversation(conversation_id))
        if event.kind == QUEUED:
            keys.append(new_conversations(event.client_id))
    return keys


class Listener:
    """One page's or socket's queue and the keys it is found by. ``encode`` turns an event into what
    the queue holds (a socket's JSON frame); listeners sharing an ``encode`` share its result, so an
    event is serialised once for all sockets. Close it when the page or socket goes away."""

    def __init__(self, fanout: "Fanout", keys: Iterable[Key], encode: Encode | None, maxsize: int) -> None:
        self._fanout = fanout
        self.keys: set[Key] = set()
        self.encode = encode
        self.queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=maxsize)
        self.closed = False
        self.add(*keys)

    def add(self, *keys: Key) -> None:
        """Hear these keys too (a page opened a conversation, a visitor started one)."""
        for key in keys:
            if key not in self.keys and not self.closed:
                self.keys.add(key)
                self._fanout._index.setdefault(key, set()).add(self)

    def remove(self, *keys: Key) -> None:
        for key in keys:
            if key in self.keys:
                self.keys.discard(key)
                listeners = self._fanout._index.get(key)
                if listeners is not None:
                    listeners.discard(self)
                    if not listeners:
                        del self._fanout._index[key]

    async def get(self, timeout: float | None = None) -> Any:
        return await asyncio.wait_for(self.queue.get(), timeout)

    def close(self) -> None:
        if not self.closed:
            self.remove(*list(self.keys))
            self.closed = True
            self._fanout._left(self)

    def __enter__(self) -> "Listener":
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


class Fanout:
    """The process's listeners, indexed by key, behind one bus subscription (held while any
    listener is open)."""

    def __init__(self, bus: EventBus) -> None:
        self.bus = bus
        self._index: dict[Key, set[Listener]] = {}
        self._listeners: set[Listener] = set()
        self._subscription: Subscription | None = None
        self._pump: asyncio.Task[None] | None = None

    @classmethod
    def of(cls, app: Any) -> "Fanout":
        """The app's fan-out (one per process and bus)."""
        fanout = getattr(app.state, "realtime", None)
        if fanout is None or fanout.bus is not app.state.bus:
            fanout = app.state.realtime = cls(app.state.bus)
        return fanout

    def listen(self, keys: Iterable[Key] = (), *, encode: Encode | None = None, maxsize: int = QUEUE) -> Listener:
        """A listener for ``keys``; events published from now on reach it (the subscription is
        active when this returns)."""
        listener = Listener(self, keys, encode, maxsize)
        self._listeners.add(listener)
        if self._subscription is None:
            self._subscription = self.bus.subscribe()
            self._pump = asyncio.create_task(self._run(self._subscription), name="realtime fan-out")
        return listener

    def listening(self) -> int:
        return len(self._listeners)

    def _left(self, listener: Listener) -> None:
        self._listeners.discard(listener)
        if not self._listeners and self._subscription is not None:
            self._subscription.close()
            assert self._pump is not None
            self._pump.cancel()
            self._subscription = self._pump = None

    async def _run(self, subscription: Subscription) -> None:
        async for event in subscription:
            try:
                self.deliver(event)
            except Exception:  # one bad event must not end every page's live updates
                log.exception("realtime delivery failed for %s", event.kind)

    def deliver(self, event: BusEvent) -> None:
        """Put ``event`` (or its encoding) on the queue of every listener one of its keys names."""
        index = self._index
        targets: set[Listener] = set()
        for key in keys_of(event):
            found = index.get(key)
            if found:
                targets.update(found)
        if not targets:
            return
        encoded: dict[Hashable, Any] = {}
        for listener in targets:
            item = event
            if listener.encode is not None:
                item = encoded.get(listener.encode, encoded)
                if item is encoded:
                    item = encoded[listener.encode] = listener.encode(event)
            try:
                listener.queue.put_nowait(item)
            except asyncio.QueueFull:
                log.warning("dropping event %s for a slow listener", event.kind)
