"""Inbound intake: every channel's webhook accepts its messages in one short write; a router turns
them into conversations in batches.

Why two steps: a provider (Meta, Telegram, your system) wants a fast answer and retries when it
does not get one, while routing a message (contact, open conversation, survey answer, out-of-hours
action, bot, assignment) takes a dozen statements. So ``accept`` does only what must happen before
the answer: one read of the channel (secret, and whether it serves an active campaign), the
channel's own check (signature, parsing, validation: 401/403/400/422 with nothing stored; WhatsApp's
delivery reports are applied there too, in the same transaction), and one
``INSERT … ON CONFLICT DO NOTHING`` of the request's messages into ``inbound_deliveries`` (unique
per channel and provider id, so a redelivery is recognised there). The API channel, WhatsApp,
Telegram and the web chat all come here; Chatwoot and Rocket.Chat answer their webhooks the same
way and route in background jobs.

The router (``InboundRouter``) claims pending deliveries oldest first (``FOR UPDATE SKIP LOCKED``,
so several processes share the work) and routes a whole batch, assignments included, in one
transaction (``routing_batch``); the downloads of the batch's media are enqueued in it, with their
messages. Its events go out after the commit, in one bus message. Under load batches grow and the
cost per message falls. A batch that fails is retried one delivery at a time; a delivery that still
fails is retried with backoff, and a business refusal (the channel lost its campaign) marks it
``failed`` with the error, the payload kept. The web chat's visitor sees their message in the
answer: its send waits for its own delivery to be routed (``InboundRouter.routed``).

Where routing runs (``ATIENDE_INBOUND_ROUTING``):
- ``local`` (default): the process that accepted the message routes it right after answering.
- ``worker``: web processes only accept, and publish ``inbound.pending`` on the bus; processes that
  run the jobs worker route (``atiende worker``, or ``serve`` with the worker on).
Either way every worker pass also routes whatever is pending, so a delivery accepted just before a
crash is routed after the restart.

Durability (PostgreSQL):
- The webhook's insert is durable by default (``ATIENDE_INBOUND_SYNCHRONOUS_COMMIT=true``): a
  message answered 200 is on disk, so a PostgreSQL or machine crash loses no message a provider
  was told we have (Meta does not resend what it got a 200 for). With ``false`` (opt-in) the
  insert goes through ``Database.relaxed_sessionmaker``, whose connections commit without waiting
  for the WAL to reach the disk (``synchronous_commit = off``): webhooks no longer wait for the
  disk's occasional 50–200 ms flush stalls (``benchmarks/disk.py``), and a PostgreSQL or machine
  crash (not an Atiende crash or restart) in the ~0.6 s before the WAL writer flushes loses
  messages already answered, as Chatwoot's (Sidekiq on Redis) and Rocket.Chat's (MongoDB's default
  write concern) acknowledgements can; a failover to an asynchronous replica loses a similar
  window whatever this setting says.
- The router's batches always commit relaxed. What a batch writes derives from deliveries
  committed before it started, and the WAL is replayed in order: if PostgreSQL crashes before its
  WAL writer flushes, the batch is lost whole, its deliveries are pending again and are routed
  anew. A later ordinary commit that builds on the batch (an agent's reply, a close) flushes the
  WAL up to itself first, so nothing durable ever refers to a lost batch. Agents may have seen
  events of the lost batch; the conversation reappears under a new id.
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, bindparam, delete, exists, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from atiende.bus import BusEvent
from atiende.campaigns.models import Campaign, CampaignChannel
from atiende.channels.models import Channel, ChannelKind
from atiende.channels.protocol import Attachment, InboundContact, InboundMessage, MediaFetch, media_fetcher_for
from atiende.conversations.fields import normalise_phone
from atiende.conversations.models import DeliveryState, Direction, InboundDelivery, Message
from atiende.conversations.routing_batch import route_many
from atiende.db import on_commit, run_logging_failures
from atiende.errors import AtiendeError, Conflict, Invalid, NotFound
from atiende.jobs import JobContext, backoff, enqueue
from atiende.kit.inbound_json import clean
from atiende.kit.snapshots import Snapshots

log = logging.getLogger(__name__)

BATCH = 100  # deliveries routed per transaction, at most
MAX_ATTEMPTS = 5  # then the delivery is failed and kept for an operator
PRUNE_EVERY = 3600.0  # seconds between two prunings by one worker
PRUNE_CHUNK = 5000


class DeliveryFailed(Conflict):
    code = "inbound.delivery_failed"

    def __init__(self, delivery_id: int) -> None:
        super().__init__(f"The message (delivery {delivery_id}) could not be routed; an operator was told",
                         field="delivery_id")


class DeliveryWaits(AtiendeError):
    code = "inbound.delivery_waits"
    status_code = 503

    def __init__(self, delivery_id: int) -> None:
        super().__init__(f"The message (delivery {delivery_id}) is stored and waits to be routed; send it "
                         "again to see it", field="delivery_id", extra={"retry_after": 2})


class InboundPending(BusEvent):
    """Engine-internal: deliveries wait to be routed (wakes the routers of worker processes). No
    client's socket hears it (client 0 is nobody's)."""

    kind: str = "engine.inbound_pending"


@dataclass(frozen=True)
class AcceptedDelivery:
    id: int
    channel_id: int
    external_id: str
    duplicate: bool
    state: DeliveryState
    message_id: int | None = None
    conversation_id: int | None = None


@dataclass(frozen=True)
class Incoming:
    """A message a channel's check found in a request, for the request's channel or (one Meta app
    serves several numbers) for another active channel of the same kind and client."""

    message: InboundMessage
    channel_id: int | None = None  # None: the request's channel


# A channel's own reading of the request, against the channel it names: verify (401/403), parse
# (400/422), anything else the request carries (WhatsApp's delivery reports, in the same
# transaction). Its messages are then stored as deliveries.
Check = Callable[[AsyncSession, Channel], Awaitable[Sequence[Incoming]]]


def _text(value: str | None) -> str | None:
    return None if value is None else clean(value)


def to_payload(inbound: InboundMessage) -> dict[str, Any]:
    """The delivery's stored form, every string storable (``kit.inbound_json.clean``). The phone is
    normalised here, so a bad one is refused (422) before anything is stored."""
    phone = None
    if inbound.contact.phone:
        try:
            phone = normalise_phone(inbound.contact.phone)
        except ValueError as exc:
            raise Invalid(f"Contact phone {exc}", field="contact.phone") from exc
    payload: dict[str, Any] = {
        "contact": {"external_id": clean(inbound.contact.external_id), "name": _text(inbound.contact.name),
                    "phone": phone},
        "text": clean(inbound.text), "attachments": [a.model_dump(mode="json") for a in inbound.attachments],
        "sent_at": inbound.sent_at.isoformat() if inbound.sent_at else None}
    if inbound.fetch is not None:
        payload["fetch"] = {"media_id": inbound.fetch.media_id, "name": inbound.fetch.name,
                            "mime_type": inbound.fetch.mime_type}
    return payload


def from_payload(external_id: str, payload: dict[str, Any]) -> InboundMessage:
    who = payload["contact"]
    sent_at = payload.get("sent_at")
    fetch = payload.get("fetch")
    return InboundMessage(external_id=external_id,
                          contact=InboundContact(external_id=who["external_id"], name=who.get("name"),
                                                 phone=who.get("phone")),
                          text=payload.get("text") or "",
                          attachments=tuple(Attachment.model_validate(a) for a in payload.get("attachments") or ()),
                          sent_at=datetime.fromisoformat(sent_at) if sent_at else None,
                          fetch=MediaFetch(**fetch) if fetch else None)


# Built once: constructing SQLAlchemy expressions per request cost more CPU than running them.
_CHANNEL = (select(Channel, exists().where(CampaignChannel.channel_id == Channel.id,
                                           Campaign.id == CampaignChannel.campaign_id, Campaign.active).label("serves"))
            .where(Channel.id == bindparam("channel_id"), Channel.kind == bindparam("kind"), Channel.active))
_DELIVERIES = InboundDelivery.__table__
# The router reads and marks deliveries as plain rows, not ORM objects: a batch of them would
# otherwise be loaded, tracked and flushed one by one for four columns.
_PENDING = (select(_DELIVERIES.c.id, _DELIVERIES.c.channel_id, _DELIVERIES.c.external_id, _DELIVERIES.c.payload)
            .where(_DELIVERIES.c.state == DeliveryState.pending))
_CLAIM = (_PENDING.where(_DELIVERIES.c.due_at <= bindparam("now")).order_by(_DELIVERIES.c.id)
          .limit(bindparam("batch")).with_for_update(skip_locked=True))
_CLAIM_ONE = _PENDING.where(_DELIVERIES.c.id == bindparam("delivery_id")).with_for_update(skip_locked=True)
_MARK_ROUTED = (update(_DELIVERIES).where(_DELIVERIES.c.id == bindparam("b_id"))
                .values(state=DeliveryState.routed, attempts=_DELIVERIES.c.attempts + 1, last_error=None,
                        message_id=bindparam("b_message_id"), conversation_id=bindparam("b_conversation_id")))
_INSERTS = {dialect: module.insert(_DELIVERIES).on_conflict_do_nothing(index_elements=["channel_id", "external_id"])
            .returning(_DELIVERIES.c.id, _DELIVERIES.c.channel_id, _DELIVERIES.c.external_id)
            for dialect, module in (("postgresql", postgresql), ("sqlite", sqlite))}


# The channels the router routes for, by id, kept the same way (the router reads only their ids
# and client); a deleted channel is read again, and refused.
_routed: Snapshots[Channel] = Snapshots(Channel)


async def _routing_channels(session: AsyncSession, ids: set[int]) -> dict[int, Channel]:
    channels = {channel_id: channel for channel_id in ids if (channel := _routed.get(channel_id)) is not None}
    if missing := ids - channels.keys():
        for channel in (await session.scalars(select(Channel).where(Channel.id.in_(sorted(missing))))).all():
            session.expunge(channel)
            channels[channel.id] = _routed.put(channel.id, channel)
    if gone := ids - channels.keys():
        raise Conflict(f"The channel {min(gone)} was deleted")
    return channels


# What accepting needs to know of a channel, kept a moment per process (``kit.snapshots``): only a
# channel found active and serving a campaign is kept, so a refusal is always current.
_channels: Snapshots[Channel] = Snapshots(Channel, Campaign, CampaignChannel)


async def _channel(session: AsyncSession, channel_id: int, kind: ChannelKind) -> Channel:
    async def load() -> Channel:
        found = (await session.execute(_CHANNEL, {"channel_id": channel_id, "kind": kind})).first()
        if found is None:
            raise NotFound("Channel not found or inactive", field="channel_id")
        channel, serves_campaign = found
        if not serves_campaign:
            raise Conflict("This channel serves no active campaign; link it to one", field="channel_id")
        return channel

    return await _channels.get_or_load((channel_id, kind.value), session, load)


async def accept(ctx: JobContext, channel_id: int, kind: ChannelKind, check: Check, *,
                 transaction: bool = False) -> list[AcceptedDelivery]:
    """Store the request's messages once each and commit; routing comes after the answer. Every
    channel's webhook comes here. ``transaction``: the check writes too (delivery reports), so
    its writes and the deliveries commit together; otherwise (PostgreSQL) the insert runs alone
    in autocommit."""
    durable = ctx.settings.inbound_synchronous_commit
    async with (ctx.database.sessionmaker if durable else ctx.database.relaxed_sessionmaker)() as session:
        if ctx.database.dialect == "postgresql" and not transaction:
            # Autocommit: the insert is one statement, atomic by itself. Without an explicit
            # transaction the request costs one round trip to the server instead of three
            # (BEGIN, INSERT, COMMIT), and this runs for every message of every channel.
            await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        try:
            channel = await _channel(session, channel_id, kind)
            found = list(await check(session, channel))
            for target_id in sorted({i.channel_id for i in found if i.channel_id not in (None, channel.id)}):
                await _channel(session, target_id, kind)  # active, and serving a campaign (409)
            now = ctx.clock.now()
            rows = [{"channel_id": i.channel_id or channel.id, "external_id": clean(i.message.external_id),
                     "payload": to_payload(i.message), "state": DeliveryState.pending, "received_at": now,
                     "due_at": now, "attempts": 0} for i in found]
            fresh: dict[tuple[int, str], int] = {}
            if rows:
                connection = await session.connection()
                inserted = await connection.execute(_INSERTS[ctx.database.dialect], rows[0] if len(rows) == 1 else rows)
                fresh = {(channel_id_, external_id): id_ for id_, channel_id_, external_id in inserted.all()}
            keys = [(row["channel_id"], row["external_id"]) for row in rows]
            known: dict[tuple[int, str], Any] = {}
            if len(fresh) < len(keys):  # redeliveries (or one message twice in this request)
                known = {(row.channel_id, row.external_id): row for row in (await session.execute(
                    select(_DELIVERIES).where(tuple_(_DELIVERIES.c.channel_id, _DELIVERIES.c.external_id)
                                              .in_([key for key in keys if key not in fresh])))).all()}
            await session.commit()
        except BaseException:
            await session.rollback()
            session.info.pop("after_commit", None)
            raise
    await _after_commit(session)
    accepted = []
    for key in keys:
        if key in fresh:
            accepted.append(AcceptedDelivery(fresh.pop(key), key[0], key[1], False, DeliveryState.pending))
            known[key] = accepted[-1]
        else:  # stored before (or earlier in this very request)
            row = known[key]
            accepted.append(AcceptedDelivery(row.id, key[0], key[1], True, row.state, row.message_id,
                                             row.conversation_id))
    return accepted


class InboundRouter:
    """Routes pending deliveries, one drain at a time per process; calls made while a drain runs
    are served by the next one, which sees everything committed before it starts."""

    def __init__(self, ctx: JobContext, *, batch: int = BATCH) -> None:
        self.ctx = ctx
        self.batch = batch
        self._waiters: list[asyncio.Future[None]] = []
        self._again = False
        self._task: asyncio.Task[None] | None = None
        self._listener: asyncio.Task[None] | None = None
        self._announcing = False
        self._announce_again = False
        self._pruned_at: float | None = None

    async def route_pending(self) -> None:
        """Route everything accepted before this call; return once that is done."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        self.kick()
        await asyncio.shield(waiter)

    async def worker_pass(self) -> None:
        """What every pass of a worker does: route what waits; about once an hour, prune."""
        await self.route_pending()
        if self._pruned_at is None or time.monotonic() - self._pruned_at >= PRUNE_EVERY:
            self._pruned_at = time.monotonic()
            await self.prune()

    async def prune(self) -> int:
        """Delete routed deliveries older than ``ATIENDE_INBOUND_RETENTION_DAYS``. Their messages
        stay; a redelivery that late is accepted again and the router finds its message stored.
        Pending and failed ones are kept for an operator. Returns how many."""
        cutoff = self.ctx.clock.now() - timedelta(days=self.ctx.settings.inbound_retention_days)
        pruned = 0
        while True:
            async with self.ctx.database.session() as session:
                old = (select(InboundDelivery.id).where(InboundDelivery.state == DeliveryState.routed,
                                                        InboundDelivery.received_at < cutoff)
                       .limit(PRUNE_CHUNK).scalar_subquery())
                result = await session.execute(delete(InboundDelivery).where(InboundDelivery.id.in_(old)))
            count = int(result.rowcount or 0)  # type: ignore[attr-defined]
            pruned += count
            if count < PRUNE_CHUNK:
                return pruned

    async def routed(self, delivery: AcceptedDelivery, *, timeout: float = 10.0) -> tuple[int, int]:
        """Route now and wait until ``delivery`` is routed (the web chat shows the visitor their
        message at once): its message's and conversation's ids. Another process may hold it for a
        moment; a delivery that failed for good, or still waits after ``timeout`` seconds, is
        refused (a retry of the same message is stored once and answers with it)."""
        deadline = time.monotonic() + timeout
        state, message_id, conversation_id = delivery.state, delivery.message_id, delivery.conversation_id
        while state == DeliveryState.pending:
            await self.route_pending()
            async with self.ctx.database.session() as session:
                state, message_id, conversation_id, due_at = (await session.execute(
                    select(_DELIVERIES.c.state, _DELIVERIES.c.message_id, _DELIVERIES.c.conversation_id,
                           _DELIVERIES.c.due_at).where(_DELIVERIES.c.id == delivery.id))).one()
            if state == DeliveryState.pending:
                if time.monotonic() >= deadline or due_at > self.ctx.clock.now():  # timed out, or backing off
                    raise DeliveryWaits(delivery.id)
                await asyncio.sleep(0.05)
        if state != DeliveryState.routed or message_id is None or conversation_id is None:
            raise DeliveryFailed(delivery.id)
        return message_id, conversation_id

    def kick(self) -> None:
        """Ask for a drain without waiting for it."""
        self._again = True
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run())

    async def after_accept(self) -> None:
        """What a webhook runs after answering: route here, or wake the workers."""
        if self.ctx.settings.inbound_routing == "local":
            await self.route_pending()
            return
        # At once, and once more for whatever was accepted while an announcement was on its way:
        # one announcement covers everything committed before it is sent, so a burst costs a
        # few, and a lone message waits for no timer.
        self._announce_again = True
        if self._announcing:
            return
        self._announcing = True
        try:
            while self._announce_again:
                self._announce_again = False
                await self.ctx.bus.publish(InboundPending(client_id=0))
        finally:
            self._announcing = False

    def listen(self) -> None:
        """Route whenever a web process announces pending deliveries on the bus (worker mode)."""
        subscription = self.ctx.bus.subscribe(frozenset({InboundPending.model_fields["kind"].default}))

        async def _listen() -> None:
            with subscription:
                async for event in subscription:
                    if isinstance(event, InboundPending):
                        self.kick()

        self._listener = asyncio.create_task(_listen())

    async def stop(self) -> None:
        for task in (self._listener, self._task):
            if task is not None and not task.done():
                task.cancel()
                try:
                    await task
                except asyncio.CancelledError:
                    pass

    async def _run(self) -> None:
        while self._again or self._waiters:
            self._again = False
            waiters, self._waiters = self._waiters, []
            try:
                await self._drain()
            except Exception:
                log.exception("routing inbound deliveries failed")
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)

    async def _drain(self) -> None:
        while await self._route_batch() >= self.batch:
            pass

    async def _route_batch(self) -> int:
        """Route up to ``batch`` pending deliveries in one transaction; returns how many were claimed."""
        now = self.ctx.clock.now()
        failed = False
        async with self.ctx.database.relaxed_sessionmaker() as session:
            rows = list((await session.execute(_CLAIM, {"now": now, "batch": self.batch})).all())
            if not rows:
                return 0
            ids = [row.id for row in rows]
            try:
                await self._route(session, rows)
                await session.commit()
            except Exception as exc:
                log.warning("a batch of %d inbound deliveries failed; routing them one by one", len(ids),
                            exc_info=True)
                await session.rollback()
                session.info.pop("after_commit", None)
                failed, error = True, exc
        if not failed:
            await _after_commit(session)
        elif len(ids) == 1:  # that was its own try already
            await self._retry_one(ids[0], first_error=error)
        else:
            for delivery_id in ids:
                await self._retry_one(delivery_id)
        return len(ids)

    async def _route(self, session: AsyncSession, rows: Sequence[Row[Any]], *,
                     look_for_stored: bool = False) -> None:
        """``look_for_stored``: first look for messages stored before, which a redelivery accepted
        after its first delivery was pruned finds. A batch skips the look (a statement per batch
        for a case of more than ``ATIENDE_INBOUND_RETENTION_DAYS``): such a message makes the
        batch's insert fail on the messages' unique key, and the retry, one delivery at a time,
        looks."""
        channels = await _routing_channels(session, {row.channel_id for row in rows})
        stored: dict[tuple[int, str], tuple[int, int]] = {}
        if look_for_stored:
            stored = {(channel_id, external_id): (message_id, conversation_id)
                      for channel_id, external_id, message_id, conversation_id in (await session.execute(
                          select(Message.channel_id, Message.external_id, Message.id, Message.conversation_id).where(
                              Message.direction == Direction.inbound,
                              tuple_(Message.channel_id, Message.external_id).in_(
                                  [(row.channel_id, row.external_id) for row in rows])))).all()}
        fresh = [row for row in rows if (row.channel_id, row.external_id) not in stored]
        items = [(channels[row.channel_id], from_payload(row.external_id, row.payload)) for row in fresh]
        made = {row.id: ids for row, ids in zip(fresh, await route_many(session, self.ctx, items), strict=True)}
        marks = []
        for row in rows:
            message_id, conversation_id = made.get(row.id) or stored[(row.channel_id, row.external_id)]
            marks.append({"b_id": row.id, "b_message_id": message_id, "b_conversation_id": conversation_id})
        await session.execute(_MARK_ROUTED, marks)
        await self._fetch_media(session, channels, [(row, made[row.id][0]) for row in fresh
                                                    if row.payload.get("fetch")])

    async def _fetch_media(self, session: AsyncSession, channels: dict[int, Channel],
                           fetches: list[tuple[Row[Any], int]]) -> None:
        """The downloads of the batch's media, enqueued with their stored messages (in the batch's
        transaction: a message is never stored without its download)."""
        for row, message_id in fetches:
            channel, fetch = channels[row.channel_id], row.payload["fetch"]
            await enqueue(session, media_fetcher_for(channel.kind), due_at=self.ctx.clock.now(),
                          key=f"media:{channel.id}:{fetch['media_id']}"[:120], channel_id=channel.id,
                          message_id=message_id, **fetch)
        wake = self.ctx.extras.get("wake")
        if fetches and wake is not None:
            async def wake_worker() -> None:
                wake()

            on_commit(session, wake_worker)

    async def _retry_one(self, delivery_id: int, *, first_error: Exception | None = None) -> None:
        """One delivery in its own transaction (after its batch failed): a race with another
        process (the same new contact) succeeds now; anything else is recorded on the row. A
        business refusal is not tried again."""
        error = first_error
        for _ in range(2 if first_error is None else 1):
            if isinstance(error, AtiendeError):
                break
            async with self.ctx.database.relaxed_sessionmaker() as session:
                row = (await session.execute(_CLAIM_ONE, {"delivery_id": delivery_id})).first()
                if row is None:
                    return  # routed meanwhile by someone else
                try:
                    await self._route(session, [row], look_for_stored=True)
                    await session.commit()
                except Exception as exc:
                    await session.rollback()
                    session.info.pop("after_commit", None)
                    error = exc
                    continue
            await _after_commit(session)
            return
        assert error is not None
        await self._record_failure(delivery_id, error)

    async def _record_failure(self, delivery_id: int, error: Exception) -> None:
        now = self.ctx.clock.now()
        async with self.ctx.database.session() as session:
            row = await session.get(InboundDelivery, delivery_id, with_for_update=True)
            if row is None or row.state != DeliveryState.pending:
                return
            row.attempts += 1
            row.last_error = f"{type(error).__name__}: {error}"[:2000]
            if isinstance(error, AtiendeError) or row.attempts >= MAX_ATTEMPTS:
                row.state = DeliveryState.failed
                log.error("inbound delivery %s failed for good: %s", delivery_id, row.last_error)
            else:
                row.due_at = now + backoff(row.attempts, base_seconds=2, cap_seconds=300)
                log.warning("inbound delivery %s will be retried: %s", delivery_id, row.last_error)


async def _after_commit(session: AsyncSession) -> None:
    await run_logging_failures(session.info.pop("after_commit", []), "after-commit work of routed deliveries failed")

