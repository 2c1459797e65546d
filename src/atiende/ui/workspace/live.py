"""Live pages: the engine's job context for actions, and each page's place in the realtime fan-out.

Each open page listens in the process's one fan-out (``atiende.realtime``) under the keys of what
it shows (its agent, its client, the conversation it has open, its user), so only the events of
those reach it, and hands them in batches to the page (a burst of events causes one refresh). The
listener ends when NiceGUI deletes the page's client (tab closed and not reconnected).
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable

from nicegui import background_tasks, ui
from nicegui.client import Client

from atiende import realtime
from atiende.bus import BusEvent
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


class LiveFeed:
    """Feeds the events of ``keys`` (``atiende.realtime``) to ``handle``, inside the page's client
    context; ``wants``, when given, drops some of those first. The feed listens from the moment it
    is built: build it before the page's first read, so an event in between is not lost."""

    def __init__(self, keys: Iterable[realtime.Key], handle: Handle, *, wants: Wants | None = None) -> None:
        self.client: Client = ui.context.client
        self.wants = wants
        self.handle = handle
        self.listener = realtime.Fanout.of(runtime().app).listen(keys)
        self.task = background_tasks.create(self._run(), name=f"live feed {self.client.id}")
        self.client.on_delete(self.close)

    async def _run(self) -> None:
        queue = self.listener.queue
        while True:
            first = await queue.get()
            batch = [first]
            while len(batch) < MAX_BATCH:
                try:
                    batch.append(queue.get_nowait())
                except asyncio.QueueEmpty:
                    break
            if self.wants is not None:
                batch = [e for e in batch if self.wants(e)]
            if not batch or self.client.is_deleted:
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
        self.listener.close()
        self.task.cancel()
