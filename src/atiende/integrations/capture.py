"""Writes webhook deliveries in the transaction that makes the change they report.

Services already collect their bus events per session (``conversations.events.emit``); just
before that session commits, this listener turns the events that some active subscription
wants into ``webhook_deliveries`` rows. So a delivery exists exactly when the change does: a
rollback drops both, a crash after the commit loses neither, and two processes never write the
same one (only the committing session does).

Which clients have subscriptions is cached per process for ``CACHE_SECONDS`` (a routed batch
then costs no query for a client without webhooks); a subscription saved in another process
starts receiving within that time.
"""

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, insert, select
from sqlalchemy.orm import Session

from atiende.bus import BusEvent
from atiende.clock import Clock, SystemClock
from atiende.integrations.catalog import envelope, event_data, new_event_id, ordering_key, public_type
from atiende.integrations.models import DeliveryState, WebhookDelivery, WebhookSubscription

CACHE_SECONDS = 5.0
_CAPTURED = "webhook_captured"  # session.info: (the pending list itself, how many were captured)
_NEW_CONVERSATIONS = "webhook_new_conversations"


@dataclass(frozen=True)
class _Wanted:
    subscription_id: int
    event_types: frozenset[str]


class _Subscriptions:
    """Active subscriptions per client, read at most every ``CACHE_SECONDS``."""

    def __init__(self) -> None:
        self._by_client: dict[int, tuple[float, list[_Wanted]]] = {}

    def forget(self, client_id: int) -> None:
        self._by_client.pop(client_id, None)

    def of(self, session: Session, client_ids: Iterable[int]) -> dict[int, list[_Wanted]]:
        now = time.monotonic()
        client_ids = set(client_ids)
        stale = [c for c in client_ids if c not in self._by_client
                 or now - self._by_client[c][0] > CACHE_SECONDS]
        if stale:
            rows = session.execute(select(WebhookSubscription.id, WebhookSubscription.client_id,
                                          WebhookSubscription.event_types)
                                   .where(WebhookSubscription.client_id.in_(stale),
                                          WebhookSubscription.active.is_(True))).all()
            fresh: dict[int, list[_Wanted]] = {c: [] for c in stale}
            for sub_id, client_id, types in rows:
                fresh[client_id].append(_Wanted(sub_id, frozenset(types or ())))
            for client_id, wanted in fresh.items():
                self._by_client[client_id] = (now, wanted)
        return {c: self._by_client[c][1] for c in client_ids}


subscriptions = _Subscriptions()
clock: Clock = SystemClock()  # the app sets its own (tests: a fake clock) in create_app
wakers: list[Any] = []  # dispatchers of this process, woken after a commit that wrote deliveries


def use_clock(app_clock: Clock) -> None:
    global clock
    clock = app_clock


def _uncaptured(session: Session) -> list[BusEvent]:
    pending: list[BusEvent] = session.info.get("pending_events") or []
    marker = session.info.get(_CAPTURED)
    start = marker[1] if marker and marker[0] is pending else 0  # a session may commit twice before publishing
    session.info[_CAPTURED] = (pending, len(pending))
    return pending[start:]


@event.listens_for(Session, "pending_to_persistent")
def _remember_new_conversation(session: Session, instance: object) -> None:
    from atiende.conversations.models import Conversation

    if isinstance(instance, Conversation):
        session.info.setdefault(_NEW_CONVERSATIONS, []).append(instance)


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_NEW_CONVERSATIONS, None)
    session.info.pop(_CAPTURED, None)


@event.listens_for(Session, "before_commit")
def _capture(session: Session) -> None:
    events = _uncaptured(session)
    created = session.info.pop(_NEW_CONVERSATIONS, [])
    if not events and not created:
        return
    typed = [(t, e) for e in events if (t := public_type(e.kind)) is not None]
    wanted = subscriptions.of(session, {c.client_id for c in created} | {e.client_id for _, e in typed})
    if not any(wanted.values()):
        return  # the usual case: nothing is serialised for a client without subscriptions
    items: list[tuple[str, int, dict[str, Any]]] = [
        ("conversation.created", c.client_id, _created_data(c)) for c in created if wanted.get(c.client_id)]
    items.extend((t, e.client_id, event_data(e)) for t, e in typed if wanted.get(e.client_id))
    now = clock.now()
    rows: list[dict[str, Any]] = []
    for event_type, client_id, data in items:
        targets = [w.subscription_id for w in wanted.get(client_id, []) if event_type in w.event_types]
        if not targets:
            continue
        if event_type == "conversation.closed":
            data = {**data, **_closing_details(session, data["conversation_id"])}
        payload = envelope(event_type, client_id, data, now, new_event_id())
        rows.extend({"subscription_id": sub_id, "client_id": client_id, "event_id": payload["id"],
                     "event_type": event_type, "ordering_key": ordering_key(data), "payload": payload,
                     "state": DeliveryState.pending, "created_at": now, "next_attempt_at": now, "attempts": 0}
                    for sub_id in targets)
    if rows:
        # The cache may name a subscription deleted or switched off since (here or in another
        # process): write only for those that still exist, never fail the change being committed.
        live = set(session.scalars(select(WebhookSubscription.id).where(
            WebhookSubscription.id.in_({r["subscription_id"] for r in rows}),
            WebhookSubscription.active.is_(True))).all())
        rows = [r for r in rows if r["subscription_id"] in live]
    if rows:
        session.execute(insert(WebhookDelivery), rows)
        session.info.setdefault("after_commit", []).append(_wake)


async def _wake() -> None:
    for waker in wakers:
        waker()


def _created_data(conversation: Any) -> dict[str, Any]:
    return {"conversation_id": conversation.id, "campaign_id": conversation.campaign_id,
            "channel_id": conversation.channel_id, "contact_id": conversation.contact_id,
            "status": str(conversation.status), "opened_at": conversation.opened_at.isoformat()}


def _closing_details(session: Session, conversation_id: int) -> dict[str, Any]:
    """What a CRM needs of a closed conversation: the typification by name, the fields, who closed."""
    from atiende.catalog.models import Typification
    from atiende.conversations.models import Conversation

    row = session.execute(
        select(Conversation.field_values, Conversation.closed_at, Conversation.closed_by_membership_id,
               Conversation.contact_id, Typification.name)
        .outerjoin(Typification, Typification.id == Conversation.typification_id)
        .where(Conversation.id == conversation_id)).first()
    if row is None:
        return {}
    fields, closed_at, closed_by, contact_id, typification = row
    return {"fields": fields or {}, "closed_at": closed_at.isoformat() if closed_at else None,
            "closed_by_membership_id": closed_by, "contact_id": contact_id, "typification_name": typification}
