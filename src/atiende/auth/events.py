"""The one auth event: a user's sessions or seats changed, so their open pages and sockets re-check.

Published after commit on the bus (so every process sees it). ``client_id`` is 0: the event is
about a person, not a client, and no supervisor's socket receives it.
"""

from sqlalchemy.ext.asyncio import AsyncSession

from atiende.bus import BusEvent, EventBus
from atiende.db import on_commit

SESSIONS_CHANGED = "auth.sessions_changed"


class SessionsChanged(BusEvent):
    kind: str = SESSIONS_CHANGED
    client_id: int = 0
    user_id: int


def announce_sessions_changed(session: AsyncSession, bus: EventBus | None, user_id: int) -> None:
    """After commit, tell the user's live pages and WebSockets to check their session again."""
    if bus is None:
        return

    async def publish() -> None:
        await bus.publish(SessionsChanged(user_id=user_id))

    on_commit(session, publish)
