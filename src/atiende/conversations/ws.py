"""``GET /api/v1/ws?token=…``: the caller's live events as JSON text frames.

The first frame is ``{"kind": "ready"}`` (the subscription is active from then on). Agents receive
the events of conversations they are concerned by (their membership id is in the event's
``membership_ids``) and their own presence changes; supervisors and admins every event of their
clients. With Redis configured the events come from every app process.
"""

import asyncio
import contextlib
import json
from dataclasses import dataclass

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.websockets import WebSocketState

from atiende.auth.caller import Caller
from atiende.auth.models import Role
from atiende.auth.service import auth_service
from atiende.bus import BusEvent, EventBus
from atiende.errors import Unauthorized

router = APIRouter()
POLICY_VIOLATION = 4401


@dataclass(frozen=True)
class Audience:
    """What one socket may hear, fixed when it connects."""

    supervised_clients: frozenset[int]
    agent_memberships: frozenset[int]

    @classmethod
    def of(cls, caller: Caller) -> "Audience":
        supervised, agents = set(), set()
        for client_id in caller.client_ids:
            membership = caller.memberships[client_id]
            if membership.role in (Role.admin, Role.supervisor):
                supervised.add(client_id)
            else:
                agents.add(membership.id)
        return cls(frozenset(supervised), frozenset(agents))

    def hears(self, event: BusEvent) -> bool:
        if event.client_id in self.supervised_clients:
            return True
        concerned = getattr(event, "membership_ids", ())
        return any(m in self.agent_memberships for m in concerned)


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
    bus: EventBus = app.state.bus
    subscription = bus.subscribe(accept=audience.hears)
    await websocket.accept()
    reader = asyncio.create_task(_until_closed(websocket))
    try:
        await websocket.send_text(json.dumps({"kind": "ready"}))
        while True:
            getter = asyncio.ensure_future(subscription.get())
            done, _ = await asyncio.wait({getter, reader}, return_when=asyncio.FIRST_COMPLETED)
            if getter not in done:  # the client went away
                getter.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await getter
                return
            await websocket.send_text(getter.result().model_dump_json())
    except (WebSocketDisconnect, RuntimeError):
        return
    finally:
        reader.cancel()
        subscription.close()
        if websocket.application_state != WebSocketState.DISCONNECTED:
            with contextlib.suppress(Exception):
                await websocket.close()


async def _until_closed(websocket: WebSocket) -> None:
    """Reads (and ignores) client frames until the client goes away."""
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
