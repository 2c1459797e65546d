"""``GET /api/v1/ws?token=…``: the caller's live events as JSON text frames.

The first frame is ``{"kind": "ready"}`` (the subscription is active from then on). Agents receive
the events of conversations they are concerned by (their membership id is in the event's
``membership_ids``) and their own presence changes; supervisors and admins every event of their
clients. With Redis configured the events come from every app process.

A socket lives only as long as its session: when the user logs out, changes their password, or an
admin changes their seats (``auth.sessions_changed``), the socket checks its token again and closes
with 4401 (token no longer valid) or 4403 (its seats changed; reconnect to hear the new ones).
"""

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.websockets import WebSocketState

from atiende.auth.caller import Caller
from atiende.auth.events import SESSIONS_CHANGED
from atiende.auth.models import Role
from atiende.auth.service import auth_service
from atiende.bus import EventBus, Subscription
from atiende.errors import Unauthorized

log = logging.getLogger(__name__)
router = APIRouter()
POLICY_VIOLATION = 4401
SEATS_CHANGED = 4403
RECHECK = "\x00recheck"  # not JSON: never sent, tells the socket to check its session again


@dataclass(frozen=True)
class Audience:
    """What one socket may hear, fixed when it connects."""

    supervised_clients: frozenset[int]
    agent_memberships: frozenset[int]
    user_id: int = 0

    @classmethod
    def of(cls, caller: Caller) -> "Audience":
        supervised, agents = set(), set()
        for client_id in caller.client_ids:
            membership = caller.memberships[client_id]
            if membership.role in (Role.admin, Role.supervisor):
                supervised.add(client_id)
            else:
                agents.add(membership.id)
        return cls(frozenset(supervised), frozenset(agents), caller.user.id)


class SocketFanout:
    """The process's sockets share one bus subscription; each event goes straight to the sockets
    that may hear it, found by key (the agents it names, its client), and is serialised once.
    Asking every socket's audience instead cost 5 % of a web process with fifty agents connected
    at 200 messages/s (benchmarks/README.md). The subscription lives while a socket is open."""

    QUEUE = 1000  # frames waiting for one slow socket; then its frames are dropped (logged)

    def __init__(self, bus: EventBus) -> None:
        self.bus = bus
        self.by_agent: dict[int, set[asyncio.Queue[str]]] = {}
        self.by_client: dict[int, set[asyncio.Queue[str]]] = {}
        self.by_user: dict[int, set[asyncio.Queue[str]]] = {}
        self._subscription: Subscription | None = None
        self._pump: asyncio.Task[None] | None = None

    @classmethod
    def of(cls, app: Any) -> "SocketFanout":
        fanout = getattr(app.state, "socket_fanout", None)
        if fanout is None or fanout.bus is not app.state.bus:
            fanout = app.state.socket_fanout = cls(app.state.bus)
        return fanout

    def join(self, audience: Audience) -> asyncio.Queue[str]:
        """The socket's frames from now on (the subscription is active when this returns)."""
        frames: asyncio.Queue[str] = asyncio.Queue(maxsize=self.QUEUE)
        for key, index in self._keys(audience):
            index.setdefault(key, set()).add(frames)
        if self._subscription is None:
            self._subscription = self.bus.subscribe()
            self._pump = asyncio.create_task(self._deliver(self._subscription))
        return frames

    def leave(self, audience: Audience, frames: asyncio.Queue[str]) -> None:
        for key, index in self._keys(audience):
            listeners = index.get(key)
            if listeners is not None:
                listeners.discard(frames)
                if not listeners:
                    del index[key]
        if not self.by_agent and not self.by_client and not self.by_user and self._subscription is not None:
            self._subscription.close()
            assert self._pump is not None
            self._pump.cancel()
            self._subscription = self._pump = None

    def _keys(self, audience: Audience) -> list[tuple[int, dict[int, set[asyncio.Queue[str]]]]]:
        return ([(m, self.by_agent) for m in audience.agent_memberships]
                + [(c, self.by_client) for c in audience.supervised_clients] + [(audience.user_id, self.by_user)])

    async def _deliver(self, subscription: Subscription) -> None:
        async for event in subscription:
            if event.kind == SESSIONS_CHANGED:
                for frames in self.by_user.get(getattr(event, "user_id", 0), ()):
                    with contextlib.suppress(asyncio.QueueFull):
                        frames.put_nowait(RECHECK)
                continue
            targets = set(self.by_client.get(event.client_id, ()))
            for membership_id in getattr(event, "membership_ids", ()):
                targets.update(self.by_agent.get(membership_id, ()))
            if not targets:
                continue
            frame = event.model_dump_json()
            for frames in targets:
                try:
                    frames.put_nowait(frame)
                except asyncio.QueueFull:
                    log.warning("dropping event %s for a slow socket", event.kind)


@router.websocket("/api/v1/ws")
async def events_socket(websocket: WebSocket) -> None:
    token = websocket.query_params.get("token", "")
    app = websocket.app
    try:
        if not token or len(token) > 200:
            raise Unauthorized("Not authenticated")
        async with app.state.database.session() as session:
            caller = await auth_service.caller_for_token(session, token, clock=app.state.clock)
    except Unauthorized:
        await websocket.close(code=POLICY_VIOLATION)
        return
    audience = Audience.of(caller)
    fanout = SocketFanout.of(app)
    frames = fanout.join(audience)
    await websocket.accept()
    reader = asyncio.create_task(_until_closed(websocket))
    try:
        await websocket.send_text(json.dumps({"kind": "ready"}))
        while True:
            getter = asyncio.ensure_future(frames.get())
            done, _ = await asyncio.wait({getter, reader}, return_when=asyncio.FIRST_COMPLETED)
            if getter not in done:  # the client went away
                getter.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await getter
                return
            frame = getter.result()
            if frame == RECHECK:
                closing = await _session_check(app, token, audience)
                if closing:
                    await websocket.close(code=closing)
                    return
                continue
            await websocket.send_text(frame)
    except (WebSocketDisconnect, RuntimeError):
        return
    finally:
        reader.cancel()
        fanout.leave(audience, frames)
        if websocket.application_state != WebSocketState.DISCONNECTED:
            with contextlib.suppress(Exception):
                await websocket.close()


async def _session_check(app: Any, token: str, audience: Audience) -> int | None:
    """The close code the socket must end with now, or None while its session still holds."""
    try:
        async with app.state.database.session() as session:
            caller = await auth_service.caller_for_token(session, token, clock=app.state.clock)
    except Unauthorized:
        return POLICY_VIOLATION
    return None if Audience.of(caller) == audience else SEATS_CHANGED


async def _until_closed(websocket: WebSocket) -> None:
    """Reads (and ignores) client frames until the client goes away."""
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
