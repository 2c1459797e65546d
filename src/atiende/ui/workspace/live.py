"""Live pages: the engine's job context for actions, and a per-page subscription to the event bus.

Each open page subscribes to ``app.state.bus`` (in-process, or Redis across processes), keeps the
events it cares about, and hands them in batches to the page (a burst of events causes one
refresh). The subscription ends when NiceGUI deletes the page's client (tab closed and not
reconnected).
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable

from nicegui import background_tasks, ui
from nicegui.client import Client

from atiende.bus import BusEvent, EventBus, Subscription
from atiende.deps import engine_of
from atiende.jobs import JobContext
from atiende.ui.context import SessionExpired
from atiende.ui.runtime import runtime

log = logging.getLogger(__name__)
MAX_BATCH = 200

Wants = Callable[[BusEvent], bool]
Handle = Callable[[list[BusEvent]], Awaitable[None]]


def engine() -> JobContext:
    """The engine's context, as the REST API uses it (``deps.engine_of``)."""
    return engine_of(runtime().app)


def event_bus() -> EventBus:
    bus: EventBus = runtime().app.state.bus
    return bus


class LiveFeed:
    """Feeds the events ``wants`` keeps to ``handle``, inside the page's client context."""

    def __init__(self, wants: Wants, handle: Handle) -> None:
        self.client: Client = ui.context.client
        self.wants = wants
        self.handle = handle
        self.subscription: Subscription = event_bus().subscribe(accept=wants)  # other events never wake it
        self.task = background_tasks.create(self._run(), name=f"live feed {self.client.id}")
        self.client.on_delete(self.close)

    async def _run(self) -> None:
        while True:
            first = await self.subscription.queue.get()
            batch = [first]
            while len(batch) < MAX_BATCH:
                try:
                    batch.append(self.subscription.queue.get_nowait())
                except asyncio.QueueEmpty:
                    break
            if self.client.is_deleted:
                continue
            try:
                with self.client:
                    await self.handle(batch)
            except SessionExpired:
                with self.client:
                    ui.navigate.to("/login")
                return
            except Exception:  # one bad refresh must not end the page's live updates
                log.exception("live update failed")

    def close(self) -> None:
        self.subscription.close()
        self.task.cancel()
