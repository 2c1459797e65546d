"""Rows the engine reads on every message, kept a moment per process.

Under load the same channel, campaign and schedule are read for every inbound message; reading
them cost as much as storing the message. A ``Snapshots`` keeps detached copies for ``seconds``
(wall-clock monotonic time: this is a cache, not business time). Any change to a watched model
flushed or bulk-updated by this process forgets them all at once, so a process always sees its own
changes; other processes see a change within ``seconds``.
"""

import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, Generic, TypeVar

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

T = TypeVar("T")
_ALL: list["Snapshots[Any]"] = []


class Snapshots(Generic[T]):
    def __init__(self, *watched: type, seconds: float = 1.0) -> None:
        self.watched = watched
        self.seconds = seconds
        self._items: dict[Hashable, tuple[float, T]] = {}
        _ALL.append(self)

    def get(self, key: Hashable) -> T | None:
        found = self._items.get(key)
        if found is None or found[0] <= time.monotonic():
            return None
        return found[1]

    def put(self, key: Hashable, value: T) -> T:
        self._items[key] = (time.monotonic() + self.seconds, value)
        return value

    async def get_or_load(self, key: Hashable, session: AsyncSession, load: Callable[[], Awaitable[T]]) -> T:
        """The kept copy, else the ORM object ``load()`` reads, detached from ``session`` (it is
        read for its columns only) and kept. A load that raises keeps nothing, so a refusal is
        always current."""
        found = self.get(key)
        if found is None:
            found = await load()
            session.expunge(found)
            self.put(key, found)
        return found

    def forget(self) -> None:
        self._items.clear()


def forget_all() -> None:
    for snapshots in _ALL:
        snapshots.forget()


@event.listens_for(Session, "after_flush")
def _forget_on_flush(session: Session, _context: Any) -> None:
    live = [s for s in _ALL if s._items]
    if not live:
        return
    changed = {type(obj) for obj in (*session.new, *session.dirty, *session.deleted)}
    for snapshots in live:
        if any(issubclass(kind, snapshots.watched) for kind in changed):
            snapshots.forget()


@event.listens_for(Session, "do_orm_execute")
def _forget_on_bulk_change(state: Any) -> None:
    if not (state.is_update or state.is_delete):
        return
    classes = {mapper.class_ for mapper in state.all_mappers}
    for snapshots in _ALL:
        if snapshots._items and any(issubclass(kind, snapshots.watched) for kind in classes):
            snapshots.forget()
