"""Typed events the engine publishes after commit.

Every event names its client; conversation events also name the campaign, the conversation and
``membership_ids`` — the agents concerned (current assignee, the one a transfer took it from) — so
a listener filters without a database read: an agent's socket receives an event when its
membership id is listed, a supervisor's when the client is theirs.
"""

from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from atiende.bus import BusEvent, EventBus
from atiende.conversations.models import Conversation
from atiende.db import on_commit


class ConversationEvent(BusEvent):
    campaign_id: int
    conversation_id: int
    status: str
    membership_ids: tuple[int, ...] = ()


class MessageReceived(ConversationEvent):
    kind: str = "message.received"
    message_id: int
    text: str
    at: datetime


class MessageSent(ConversationEvent):
    """An agent, bot or system message was stored and queued for delivery."""

    kind: str = "message.sent"
    message_id: int
    sender: str
    author_membership_id: int | None = None
    text: str
    at: datetime


class MessageStatusChanged(ConversationEvent):
    kind: str = "message.status"
    message_id: int
    delivery_status: str
    reason: str | None = None


class ConversationQueued(ConversationEvent):
    kind: str = "conversation.queued"


class ConversationAssigned(ConversationEvent):
    kind: str = "conversation.assigned"
    membership_id: int


class ConversationTransferred(ConversationEvent):
    kind: str = "conversation.transferred"
    from_membership_id: int
    to_membership_id: int | None  # None: back to the queue
    mass: bool = False


class ConversationClosed(ConversationEvent):
    """The agent's work ended (status ``survey`` while the survey runs, else ``closed``)."""

    kind: str = "conversation.closed"
    reason: str
    typification_id: int | None = None


class ConversationUpdated(ConversationEvent):
    """Stage, fields or survey progress changed (``status`` tells which state it is in now)."""

    kind: str = "conversation.updated"
    what: str


class QueueChanged(BusEvent):
    kind: str = "queue.changed"
    campaign_id: int
    queued: int


class PresenceChanged(BusEvent):
    kind: str = "presence.changed"
    membership_id: int
    presence: str
    membership_ids: tuple[int, ...] = ()


def assignee(conversation: Conversation) -> tuple[int, ...]:
    """Who an event about the conversation concerns: the agent serving it, if any."""
    return (conversation.assigned_membership_id,) if conversation.assigned_membership_id else ()


def emit(session: AsyncSession, bus: EventBus, event: BusEvent) -> None:
    """Publish ``event`` once this session commits (dropped on rollback), in emission order."""
    pending: list[BusEvent] | None = session.info.get("pending_events")
    if pending is None or "after_commit" not in session.info:  # first event, or after a rollback
        pending = session.info["pending_events"] = []
        on_commit(session, _publisher(session, bus, pending))
    pending.append(event)


def _publisher(session: AsyncSession, bus: EventBus, pending: list[BusEvent]) -> Callable[[], Awaitable[None]]:
    async def publish_all() -> None:
        session.info.pop("pending_events", None)
        await bus.publish_all(pending)

    return publish_all
