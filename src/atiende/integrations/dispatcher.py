"""Sends pending deliveries: oldest first, one at a time per conversation, retried with
exponential backoff for ``RETRY_HOURS``, then kept as failed.

Runs as its own background task in every process with the worker enabled (a slow receiver
must not hold up the jobs worker or the inbound router). Claims are row locks with a lease
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL), so two processes never send the same delivery;
a delivery whose older sibling (same subscription and conversation) is still pending or being
sent waits, so a receiver sees a conversation's events in the order they happened even when
one of them had to be retried.
"""

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import and_, bindparam, delete, exists, func, literal_column, or_, select, update
from sqlalchemy.orm import aliased

from atiende.integrations import capture
from atiende.integrations.models import DeliveryState, WebhookDelivery, WebhookSubscription
from atiende.integrations.sender import TIMEOUT_SECONDS, Outcome, attempt
from atiende.jobs import JobContext

log = logging.getLogger(__name__)

RETRY_HOURS = 24
KEEP_DAYS = 30
LEASE_SECONDS = 60
BATCH = 100
FIRST_RETRY_SECONDS = 10
MAX_RETRY_SECONDS = 3600
GATHER_SECONDS = 0.1


def retry_delay(attempts: int) -> timedelta:
    """10 s, 20 s, 40 s … capped at an hour (about 30 attempts in the 24 hours)."""
    return timedelta(seconds=min(MAX_RETRY_SECONDS, FIRST_RETRY_SECONDS * 2 ** max(0, attempts - 1)))


class _Claimed(NamedTuple):
    id: int
    payload: dict[str, Any]
    attempts: int
    first_attempt_at: datetime | None
    next_attempt_at: datetime
    delivered_at: datetime | None
    url: str
    secret: str


_OUTCOME_COLUMNS = ("state", "response_status", "duration_ms", "response_excerpt", "last_error", "locked_until",
                    "delivered_at", "next_attempt_at")
_TABLE = WebhookDelivery.__table__
# Core (the table, not the entity), so a list of parameters is one executemany.
_RECORD = (update(_TABLE)
           .where(_TABLE.c.id == bindparam("b_id"), _TABLE.c.state == DeliveryState.sending,
                  _TABLE.c.attempts == bindparam("b_attempts"))
           .values({c: bindparam(f"v_{c}") for c in _OUTCOME_COLUMNS}))


# Written into the SQL, not bound: a prepared statement's generic plan can use a partial index
# only when its predicate is visible in the text.
_OPEN = [literal_column(f"'{state}'") for state in (DeliveryState.pending, DeliveryState.sending)]


def _due(now: datetime):  # type: ignore[no-untyped-def]
    older = aliased(WebhookDelivery)
    waiting_sibling = exists().where(
        older.subscription_id == WebhookDelivery.subscription_id,
        older.ordering_key == WebhookDelivery.ordering_key,
        older.id < WebhookDelivery.id,
        older.state.in_(_OPEN))
    return (select(WebhookDelivery.id, WebhookDelivery.payload, WebhookDelivery.attempts,
                   WebhookDelivery.first_attempt_at, WebhookDelivery.next_attempt_at, WebhookDelivery.delivered_at,
                   WebhookSubscription.url, WebhookSubscription.secret)
            .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
            .where(WebhookDelivery.state.in_(_OPEN),  # the partial index's predicate, so it is used
                   or_(and_(WebhookDelivery.state == DeliveryState.pending, WebhookDelivery.next_attempt_at <= now),
                       and_(WebhookDelivery.state == DeliveryState.sending, WebhookDelivery.locked_until < now)),
                   or_(WebhookDelivery.ordering_key.is_(None), ~waiting_sibling))
            .order_by(WebhookDelivery.id).limit(BATCH)
            .with_for_update(of=WebhookDelivery, skip_locked=True))


class WebhookDispatcher:
    def __init__(self, context: JobContext, *, poll_seconds: float = 1.0, concurrency: int = 32,
                 timeout_seconds: float = TIMEOUT_SECONDS) -> None:
        self.context = context
        self.timeout_seconds = timeout_seconds
        self.poll_seconds = poll_seconds
        self._limit = asyncio.Semaphore(concurrency)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._last_prune: datetime | None = None

    @property
    def allow_private(self) -> bool:
        return self.context.settings.webhooks_allow_private_addresses

    async def _claim(self) -> list[_Claimed]:
        """Locks a round of due deliveries and leases them, in Core statements: a round of 100 is
        two statements, not 100 ORM objects and their unit of work."""
        now = self.context.clock.now()
        async with self.context.database.session() as session:
            rows = [_Claimed(*row) for row in (await session.execute(_due(now))).all()]
            if rows:
                await session.execute(update(WebhookDelivery).where(
                    WebhookDelivery.id.in_([r.id for r in rows])).values(
                    state=DeliveryState.sending, locked_until=now + timedelta(seconds=LEASE_SECONDS),
                    attempts=WebhookDelivery.attempts + 1,
                    first_attempt_at=func.coalesce(WebhookDelivery.first_attempt_at, now)))
        return [r._replace(attempts=r.attempts + 1, first_attempt_at=r.first_attempt_at or now) for r in rows]

    async def run_due(self) -> int:
        """Send everything due now (each conversation's next event per round); how many attempts.
        A round's outcomes are written in one transaction: a connection per delivery would take
        the pool from the inbound path while a slow receiver keeps dozens in flight."""
        sent = 0
        while claimed := await self._claim():
            outcomes = await asyncio.gather(*(self._send(row) for row in claimed))
            await self._record(list(zip(claimed, outcomes, strict=True)))
            sent += len(claimed)
        await self._prune()
        return sent

    async def _send(self, delivery: _Claimed) -> Outcome:
        async with self._limit:
            return await attempt(self.context.http, url=delivery.url, secret=delivery.secret,
                                 payload=delivery.payload,
                                 unix_now=int(self.context.clock.now().timestamp()),
                                 allow_private=self.allow_private, timeout=self.timeout_seconds)

    def _outcome_values(self, delivery: _Claimed, outcome: Outcome, now: datetime) -> dict[str, object]:
        """Every column of the outcome, for every kind of outcome (one executemany writes a round)."""
        values: dict[str, object] = {
            "b_id": delivery.id, "b_attempts": delivery.attempts, "response_status": outcome.status,
            "duration_ms": outcome.duration_ms, "response_excerpt": outcome.excerpt, "last_error": outcome.error,
            "locked_until": None, "delivered_at": delivery.delivered_at, "next_attempt_at": delivery.next_attempt_at}
        if outcome.ok:
            values.update(state=DeliveryState.delivered, delivered_at=now)
        elif now - (delivery.first_attempt_at or now) >= timedelta(hours=RETRY_HOURS):
            values["state"] = DeliveryState.failed
        else:
            values.update(state=DeliveryState.pending, next_attempt_at=now + retry_delay(delivery.attempts))
        return values

    async def _record(self, results: list[tuple[_Claimed, Outcome]]) -> None:
        now = self.context.clock.now()
        async with self.context.database.session() as session:
            # Only if still ours: a lease that ran out may have let another process retry it.
            await session.execute(_RECORD, [{(k if k.startswith("b_") else f"v_{k}"): v
                                             for k, v in self._outcome_values(d, o, now).items()}
                                            for d, o in results])

    async def _prune(self) -> None:
        now = self.context.clock.now()
        if self._last_prune is not None and now - self._last_prune < timedelta(hours=1):
            return
        self._last_prune = now
        async with self.context.database.session() as session:
            await session.execute(delete(WebhookDelivery).where(
                WebhookDelivery.state == DeliveryState.delivered,
                WebhookDelivery.created_at < now - timedelta(days=KEEP_DAYS)))

    # --- background loop -------------------------------------------------------------------
    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        capture.wakers.append(self.wake)
        self._task = asyncio.create_task(self._loop())

    async def _loop(self) -> None:
        while True:
            try:
                await self.run_due()
            except Exception:
                log.exception("webhook dispatch pass failed")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
            await asyncio.sleep(GATHER_SECONDS)  # let a burst of commits add up to one round

    async def stop(self) -> None:
        with contextlib.suppress(ValueError):
            capture.wakers.remove(self.wake)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
