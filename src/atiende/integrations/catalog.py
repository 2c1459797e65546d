"""The event types a subscription can ask for, and how each bus event becomes a versioned payload.

One table: the public name of each type (what ``docs/webhooks.md`` documents) and the bus kinds
it comes from. Payloads carry ``"version": 1``; a field is only ever added to a version, never
renamed or removed.
"""

import uuid
from datetime import datetime
from typing import Any

from atiende.bus import BusEvent

PAYLOAD_VERSION = 1
PING = "ping"

# public type → the bus kinds it reports
EVENT_TYPES: dict[str, tuple[str, ...]] = {
    "conversation.created": (),  # from the conversation rows a transaction inserts (see capture.py)
    "conversation.queued": ("conversation.queued",),
    "conversation.assigned": ("conversation.assigned",),
    "conversation.transferred": ("conversation.transferred",),
    "conversation.closed": ("conversation.closed",),
    "message.created": ("message.received", "message.sent"),
    "message.status": ("message.status",),
    "contact.opted_out": ("contact.opted_out",),
}
_TYPE_OF_KIND = {kind: name for name, kinds in EVENT_TYPES.items() for kind in kinds}
# Bus fields that are internal (who to wake) and never leave the product.
_INTERNAL = {"kind", "client_id", "membership_ids"}


def public_type(kind: str) -> str | None:
    return _TYPE_OF_KIND.get(kind)


def new_event_id() -> str:
    return f"evt_{uuid.uuid4().hex}"


def envelope(event_type: str, client_id: int, data: dict[str, Any], occurred_at: datetime,
             event_id: str | None = None) -> dict[str, Any]:
    return {"version": PAYLOAD_VERSION, "id": event_id or new_event_id(), "type": event_type,
            "occurred_at": occurred_at.isoformat(), "client_id": client_id, "data": data}


def event_data(event: BusEvent) -> dict[str, Any]:
    """The bus event's public fields, named for a reader outside Atiende."""
    data = event.model_dump(mode="json", exclude=_INTERNAL)
    if event.kind == "message.received":
        data.update(direction="inbound", sender="contact")
    elif event.kind == "message.sent":
        data["direction"] = "outbound"
    if event.kind in ("message.received", "message.sent"):
        data.pop("at", None)
    return data


def ordering_key(data: dict[str, Any]) -> str | None:
    """Events of one conversation are delivered in order; others need none."""
    conversation_id = data.get("conversation_id")
    if conversation_id is not None:
        return f"conversation:{conversation_id}"
    contact_id = data.get("contact_id")
    return f"contact:{contact_id}" if contact_id is not None else None
