"""Messages we send: stored as ``queued``, delivered by a durable job through the channel's adapter,
retried with backoff, and moved along queued → sent → delivered → read (or failed, with a reason).

The delivery job never holds a transaction while it talks to the provider: it reads the message in
one short session, calls the adapter, and records the result in another.
"""

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from atiende.auth.models import Membership
from atiende.bus import EventBus
from atiende.channels.models import Channel
from atiende.channels.protocol import (
    Attachment, PermanentSendError, StatusUpdate, adapter_for,
)
from atiende.conversations.events import MessageSent, MessageStatusChanged, assignee, emit
from atiende.conversations.models import (
    DELIVERY_RANK, INSERT_MESSAGE_ROWS, Contact, Conversation, DeliveryStatus, Direction, Message, SenderKind,
)
from atiende.db import on_commit
from atiende.errors import NotFound
from atiende.jobs import JobContext, backoff, enqueue, enqueue_many, job, run_together

MAX_DELIVERY_ATTEMPTS = 6  # about 5 s, 10 s, 20 s, 40 s, 80 s between tries; ctx.extras may override


async def post_message(session: AsyncSession, ctx: JobContext, conversation: Conversation, *, sender: SenderKind,
                       text: str, attachments: Sequence[Attachment] = (), author: Membership | None = None,
                       choices: Sequence[str] = (), now: datetime) -> Message:
    """Store an outbound message and schedule its delivery (after commit the worker is woken)."""
    message = Message(**_row(conversation, sender, text, now, attachments=attachments,
                             author_id=author.id if author else None, choices=choices))
    session.add(message)
    await session.flush()
    await enqueue(session, deliver_message, due_at=now, key=f"deliver:{message.id}", message_id=message.id)
    _posted(session, ctx, conversation, message.id, sender, message.author_membership_id, text, now)
    return message


async def post_many(session: AsyncSession, ctx: JobContext,
                    posts: Sequence[tuple[Conversation, SenderKind, str, Sequence[str]]], now: datetime) -> None:
    """``post_message`` for many messages (each ``(conversation, sender, text, choices)``) in two
    statements: one insert of the rows and one of their deliveries."""
    rows = [_row(conversation, sender, text, now, choices=choices) for conversation, sender, text, choices in posts]
    ids = (await session.execute(INSERT_MESSAGE_ROWS, rows)).scalars().all()
    await enqueue_many(session, deliver_message, [(f"deliver:{i}", now, {"message_id": i}) for i in ids])
    for (conversation, sender, text, _), message_id in zip(posts, ids, strict=True):
        _posted(session, ctx, conversation, message_id, sender, None, text, now)


def _row(conversation: Conversation, sender: SenderKind, text: str, now: datetime, *,
         attachments: Sequence[Attachment] = (), author_id: int | None = None,
         choices: Sequence[str] = ()) -> dict[str, Any]:
    return {"conversation_id": conversation.id, "channel_id": conversation.channel_id,
            "direction": Direction.outbound, "sender": sender, "author_membership_id": author_id, "text": text,
            "attachments": [a.model_dump(mode="json") for a in attachments], "choices": list(choices) or None,
            "status": DeliveryStatus.queued, "created_at": now, "delivery_attempts": 0}


def _posted(session: AsyncSession, ctx: JobContext, conversation: Conversation, message_id: int,
            sender: SenderKind, author_id: int | None, text: str, now: datetime) -> None:
    """What storing an outbound message changes besides its row: the conversation, the worker, the event."""
    if sender in (SenderKind.agent, SenderKind.bot):
        conversation.last_outbound_at = now
    if sender == SenderKind.agent:
        conversation.agent_replied = True
    wake_worker_after_commit(session, ctx)
    emit(session, ctx.bus, MessageSent(
        client_id=conversation.client_id, campaign_id=conversation.campaign_id, conversation_id=conversation.id,
        status=conversation.status, membership_ids=assignee(conversation), message_id=message_id,
        sender=sender, author_membership_id=author_id, text=text, at=now))


def wake_worker_after_commit(session: AsyncSession, ctx: JobContext) -> None:
    """Wake this process's jobs worker once the session commits (deliveries are due at once)."""
    wake = ctx.extras.get("wake")
    if wake is None or session.info.get("wake_registered"):
        return
    session.info["wake_registered"] = True

    async def _wake() -> None:
        session.info.pop("wake_registered", None)
        wake()

    on_commit(session, _wake)


@job
async def deliver_message(ctx: JobContext, *, message_id: int) -> None:
    """Send one queued message; on a transient failure try again later, up to the limit. The
    worker runs the claimed ones together (``deliver_messages``); this is the one-message case."""
    await deliver_messages(ctx, [{"message_id": message_id}])


async def deliver_messages(ctx: JobContext, payloads: list[dict[str, Any]]) -> None:
    """Send queued messages in a few statements whatever their number: one short session reads
    them (with their conversations, contacts and channels) and counts the attempt; the calls run
    at once, one conversation's messages one after another in order; another session records
    every outcome. No transaction is held while a provider answers."""
    wanted = sorted({int(payload["message_id"]) for payload in payloads})
    async with ctx.database.session() as session:
        messages = [m for m in (await session.scalars(select(Message).where(Message.id.in_(wanted))
                                                       .order_by(Message.id))).all()
                    if m.status == DeliveryStatus.queued]  # others: delivered already (a job ran twice) or gone
        if not messages:
            return
        conversations = {c.id: c for c in (await session.scalars(
            select(Conversation).where(Conversation.id.in_({m.conversation_id for m in messages}))
            .options(joinedload(Conversation.contact).selectinload(Contact.identities)))).unique().all()}
        channels = {c.id: c for c in (await session.scalars(
            select(Channel).where(Channel.id.in_({m.channel_id for m in messages})))).all()}
        for message in messages:
            message.delivery_attempts += 1
    attempts = {message.id: message.delivery_attempts for message in messages}
    by_conversation: dict[int, list[Message]] = {}
    for message in messages:
        by_conversation.setdefault(message.conversation_id, []).append(message)
    outcomes: dict[int, tuple[str | None, str | None, bool]] = {}  # message id → (provider id, error, permanent)

    async def send_in_order(queue: list[Message]) -> None:
        for message in queue:
            outcomes[message.id] = await _attempt(ctx, channels[message.channel_id],
                                                  conversations[message.conversation_id], message)

    await asyncio.gather(*(send_in_order(queue) for queue in by_conversation.values()))
    max_attempts = int(ctx.extras.get("max_delivery_attempts", MAX_DELIVERY_ATTEMPTS))
    async with ctx.database.session() as session:
        now = ctx.clock.now()
        fresh = {m.id: m for m in (await session.scalars(select(Message).where(
            Message.id.in_(outcomes)).execution_options(populate_existing=True))).all()}
        current = {c.id: c for c in (await session.scalars(select(Conversation).where(
            Conversation.id.in_({m.conversation_id for m in fresh.values()}))
            .execution_options(populate_existing=True))).all()}
        for message_id, (provider_id, error, permanent) in outcomes.items():
            message = fresh.get(message_id)
            conversation = current.get(message.conversation_id) if message else None
            if message is None or conversation is None:
                continue
            attempt = attempts[message_id]
            if error is None:
                message.external_id = provider_id
                _advance(session, ctx.bus, conversation, message, DeliveryStatus.sent, None, now)
            elif permanent or attempt >= max_attempts:
                _advance(session, ctx.bus, conversation, message, DeliveryStatus.failed, error, now)
            else:
                message.failure_reason = error  # last error, kept while retrying
                await enqueue(session, deliver_message, due_at=now + backoff(attempt), key=f"deliver:{message.id}",
                              message_id=message.id)


async def _attempt(ctx: JobContext, channel: Channel, conversation: Conversation,
                   message: Message) -> tuple[str | None, str | None, bool]:
    """One call to the channel's adapter: (the provider's id, the error, whether it is for good)."""
    adapter = adapter_for(channel.kind)
    try:
        if adapter is None:
            raise PermanentSendError(f"No sender is installed for {channel.kind} channels")
        if not channel.active:
            raise PermanentSendError("The channel is inactive")
        return await adapter.send(ctx, channel, conversation, message), None, False
    except PermanentSendError as exc:
        return None, str(exc) or "refused by the channel", True
    except Exception as exc:  # transient by default: timeouts, 5xx, connection errors
        return None, f"{type(exc).__name__}: {exc}"[:500], False


run_together(deliver_message, deliver_messages)


def _advance(session: AsyncSession, bus: EventBus, conversation: Conversation, message: Message,
             status: DeliveryStatus, reason: str | None, at: datetime) -> bool:
    """Move ``message`` forward to ``status``; never back (read stays read). True if it moved."""
    current = message.status or DeliveryStatus.queued
    if status == DeliveryStatus.failed:
        if current not in (DeliveryStatus.queued, DeliveryStatus.sent):
            return False
    elif DELIVERY_RANK[status] <= DELIVERY_RANK[current]:
        return False
    message.status = status
    message.failure_reason = (reason or "failed")[:500] if status == DeliveryStatus.failed else None
    if status in (DeliveryStatus.sent, DeliveryStatus.delivered, DeliveryStatus.read):
        message.sent_at = message.sent_at or at
    if status in (DeliveryStatus.delivered, DeliveryStatus.read):
        message.delivered_at = message.delivered_at or at
    if status == DeliveryStatus.read:
        message.read_at = message.read_at or at
    emit(session, bus, MessageStatusChanged(
        client_id=conversation.client_id, campaign_id=conversation.campaign_id, conversation_id=conversation.id,
        status=conversation.status, membership_ids=assignee(conversation), message_id=message.id,
        delivery_status=status, reason=message.failure_reason))
    return True


async def apply_status(session: AsyncSession, ctx: JobContext, channel: Channel,
                       update: StatusUpdate) -> tuple[Message, bool]:
    """A provider's delivery report for one of our messages on ``channel``: the message, and
    whether the report moved it forward."""
    stmt = select(Message).where(Message.channel_id == channel.id, Message.direction == Direction.outbound)
    if update.message_id is not None:
        stmt = stmt.where(Message.id == update.message_id)
    else:
        stmt = stmt.where(Message.external_id == update.external_id)
    message = await session.scalar(stmt.with_for_update())
    if message is None:
        raise NotFound("No message of this channel has that id",
                       field="message_id" if update.message_id is not None else "external_id")
    conversation = await session.get(Conversation, message.conversation_id)
    assert conversation is not None
    changed = _advance(session, ctx.bus, conversation, message, update.status, update.reason,
                       update.at or ctx.clock.now())
    return message, changed
