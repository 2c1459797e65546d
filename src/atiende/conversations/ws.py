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
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.websockets import WebSocketState

from atiende import realtime
from atiende.auth.caller import Caller
from atiende.auth.events import SESSIONS_CHANGED
from atiende.auth.models import Role
from atiende.auth.service import auth_service
from atiende.bus import BusEvent
from atiende.errors import Unauthorized

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

    def keys(self) -> list[realtime.Key]:
        """What the socket is found by in the process's fan-out (``atiende.realtime``)."""
        return ([realtime.agent(m) for m in self.agent_memberships]
                + [realtime.client(c) for c in self.supervised_clients] + [realtime.user(self.user_id)])


def socket_frame(event: BusEvent) -> str:
    """What a socket sends for ``event``: its JSON (serialised once for every socket that hears
    it), or the order to check its session again."""
    return RECHECK if event.kind == SESSIONS_CHANGED else event.model_dump_json()


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
    listener = realtime.Fanout.of(app).listen(audience.keys(), encode=socket_frame)
    frames = listener.queue
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
        listener.close()
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
