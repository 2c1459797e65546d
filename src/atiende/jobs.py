"""Durable timers: pending work with a due time is a row in ``scheduled_jobs``.

A job is an async function registered with ``@job``; code enqueues it by passing the function
(never its name). The worker claims due rows (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite
serializes writers), runs each in its own session, and retries failures with backoff. A restart
loses nothing, and two processes never run the same job at the same time.

Job functions must be safe to run twice: a crash after the work but before marking it done
runs it again.
"""

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import httpx
from sqlalchemy import JSON, Integer, String, Text, delete, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from atiende.bus import EventBus
from atiende.clock import Clock
from atiende.db import Base, Database, UTCDateTime
from atiende.kit.columns import IdMixin, enum_type
from atiende.settings import Settings

log = logging.getLogger(__name__)


class JobStatus(StrEnum):
    pending = "pending"
    running = "running"
    failed = "failed"  # done jobs are deleted; failed ones stay for inspection


class ScheduledJob(IdMixin, Base):
    __tablename__ = "scheduled_jobs"

    function: Mapped[str] = mapped_column(String(120))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # At most one pending job per key (e.g. "inactivity:42"): enqueueing again moves it.
    key: Mapped[str | None] = mapped_column(String(120), unique=True)
    status: Mapped[JobStatus] = mapped_column(enum_type(JobStatus), default=JobStatus.pending, index=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=8)
    last_error: Mapped[str | None] = mapped_column(Text)


@dataclass
class JobContext:
    """What a running job may use. Jobs open their own sessions from ``database``."""

    database: Database
    clock: Clock
    bus: EventBus
    settings: Settings
    http: httpx.AsyncClient
    extras: dict[str, Any] = field(default_factory=dict)


JobFunction = Callable[..., Awaitable[None]]
_REGISTRY: dict[str, JobFunction] = {}


def job(fn: JobFunction) -> JobFunction:
    """Register ``fn`` (``async def fn(ctx: JobContext, **payload)``) as a durable job."""
    _REGISTRY[_name(fn)] = fn
    return fn


# Jobs that the worker runs many at a time: ``many(ctx, payloads)`` does the work of every claimed
# job of one function in a few statements (message deliveries: a bot's replies at 200/s would
# otherwise cost nine statements and three transactions each). Any exception fails them all, to
# be retried like a single job's.
ManyFunction = Callable[[JobContext, list[dict[str, Any]]], Awaitable[None]]
_MANY: dict[str, ManyFunction] = {}


def run_together(fn: JobFunction, many: ManyFunction) -> None:
    """Have the worker hand every claimed job of ``fn`` to ``many`` at once."""
    _MANY[_name(fn)] = many


def _name(fn: JobFunction) -> str:
    return f"{fn.__module__}.{fn.__qualname__}"


class UnknownJob(Exception):
    pass


class PermanentJobError(Exception):
    """Raise from a job to fail it at once, without retries (e.g. the provider refused for good)."""


async def enqueue(session: AsyncSession, fn: JobFunction, *, due_at: datetime, key: str | None = None,
                  max_attempts: int = 8, **payload: Any) -> ScheduledJob:
    """Schedule ``fn(**payload)`` at ``due_at`` in the caller's transaction.

    With ``key``, an existing job of that key (pending, running or failed) is replaced, so a
    timer can be pushed back simply by enqueueing it again.
    """
    if _name(fn) not in _REGISTRY:
        raise UnknownJob(f"{_name(fn)} is not decorated with @job")
    existing = None
    if key is not None:
        existing = await session.scalar(select(ScheduledJob).where(ScheduledJob.key == key).with_for_update())
    if existing is not None:
        existing.function = _name(fn)
        existing.payload = payload
        existing.due_at = due_at
        existing.status = JobStatus.pending
        existing.locked_until = None
        existing.attempts = 0
        existing.max_attempts = max_attempts
        existing.last_error = None
        await session.flush()
        return existing
    row = ScheduledJob(function=_name(fn), payload=payload, key=key, due_at=due_at, max_attempts=max_attempts)
    session.add(row)
    await session.flush()
    return row


async def enqueue_many(session: AsyncSession, fn: JobFunction, jobs: Sequence[tuple[str, datetime, dict[str, Any]]],
                       *, max_attempts: int = 8) -> None:
    """``enqueue`` for many keyed jobs of ``fn`` in one statement: each ``(key, due_at, payload)``
    is inserted, or replaces the job of its key (``INSERT … ON CONFLICT (key) DO UPDATE``)."""
    if _name(fn) not in _REGISTRY:
        raise UnknownJob(f"{_name(fn)} is not decorated with @job")
    if not jobs:
        return
    module = postgresql if session.bind.dialect.name == "postgresql" else sqlite
    statement = module.insert(ScheduledJob.__table__)
    statement = statement.on_conflict_do_update(index_elements=["key"], set_={
        "function": statement.excluded.function, "payload": statement.excluded.payload,
        "due_at": statement.excluded.due_at, "status": JobStatus.pending.value, "locked_until": None,
        "attempts": 0, "max_attempts": statement.excluded.max_attempts, "last_error": None})
    await session.execute(statement, [
        {"function": _name(fn), "payload": payload, "key": key, "due_at": due_at, "status": JobStatus.pending.value,
         "locked_until": None, "attempts": 0, "max_attempts": max_attempts, "last_error": None}
        for key, due_at, payload in jobs])


async def cancel(session: AsyncSession, key: str) -> bool:
    """Drop the pending job of ``key``; True if there was one."""
    result = await session.execute(delete(ScheduledJob).where(
        ScheduledJob.key == key, ScheduledJob.status == JobStatus.pending))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def backoff(attempt: int, base_seconds: float = 5, cap_seconds: float = 3600) -> timedelta:
    """Exponential backoff with jitter: about 5 s, 10 s, 20 s … capped at an hour."""
    delay = min(cap_seconds, base_seconds * 2 ** max(0, attempt - 1))
    return timedelta(seconds=delay * random.uniform(0.8, 1.2))


class Worker:
    """Claims and runs due jobs. ``run_due`` is one pass (tests call it after moving the clock)."""

    def __init__(self, context: JobContext, *, batch: int = 20, lease_seconds: int = 300,
                 poll_seconds: float = 0.5) -> None:
        self.context = context
        self.batch = batch
        self.lease = timedelta(seconds=lease_seconds)
        self.poll_seconds = poll_seconds
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        # Other durable queues polled on every pass (the inbound router): whatever a crash left.
        self.passes: list[Callable[[], Awaitable[object]]] = []

    async def _claim(self) -> list[ScheduledJob]:
        now = self.context.clock.now()
        async with self.context.database.session() as session:
            stmt = (select(ScheduledJob)
                    .where(ScheduledJob.due_at <= now,
                           (ScheduledJob.status == JobStatus.pending)
                           | ((ScheduledJob.status == JobStatus.running) & (ScheduledJob.locked_until < now)))
                    .order_by(ScheduledJob.due_at, ScheduledJob.id).limit(self.batch)
                    .with_for_update(skip_locked=True))
            jobs = list((await session.scalars(stmt)).all())
            for row in jobs:
                row.status = JobStatus.running
                row.locked_until = now + self.lease
                row.attempts += 1
        return jobs

    async def run_due(self) -> int:
        """Run the other queues' passes, then every job due now; returns how many jobs ran
        (including failed attempts)."""
        for extra_pass in self.passes:
            try:
                await extra_pass()
            except Exception:
                log.exception("worker pass failed")
        ran = 0
        while jobs := await self._claim():
            # In the order claimed (oldest due first); neighbours of one batched function run together.
            run: list[ScheduledJob] = []
            for row in jobs:
                if run and row.function != run[0].function:
                    await self._run_many(_MANY[run[0].function], run)
                    run = []
                if row.function in _MANY:
                    run.append(row)
                else:
                    await self._run_one(row)
                ran += 1
            if run:
                await self._run_many(_MANY[run[0].function], run)
        return ran

    async def _run_many(self, many: ManyFunction, rows: list[ScheduledJob]) -> None:
        try:
            await many(self.context, [row.payload for row in rows])
        except Exception as exc:
            log.exception("%d jobs of %s failed together", len(rows), rows[0].function)
            for row in rows:
                await self._finish(row, f"{type(exc).__name__}: {exc}"[:2000], False)
            return
        async with self.context.database.session() as session:
            await session.execute(delete(ScheduledJob).where(
                tuple_(ScheduledJob.id, ScheduledJob.attempts).in_([(row.id, row.attempts) for row in rows]),
                ScheduledJob.status == JobStatus.running))

    async def _run_one(self, row: ScheduledJob) -> None:
        fn = _REGISTRY.get(row.function)
        error: str | None = None
        permanent = False
        if fn is None:
            error, permanent = f"unknown job function {row.function}", True
        else:
            try:
                await fn(self.context, **row.payload)
            except PermanentJobError as exc:
                error, permanent = str(exc) or type(exc).__name__, True
            except Exception as exc:  # retried with backoff; the error is kept on the row
                log.exception("job %s (%s) failed", row.id, row.function)
                error = f"{type(exc).__name__}: {exc}"[:2000]
        await self._finish(row, error, permanent)

    async def _finish(self, row: ScheduledJob, error: str | None, permanent: bool) -> None:
        now = self.context.clock.now()
        async with self.context.database.session() as session:
            still_ours = (ScheduledJob.id == row.id, ScheduledJob.status == JobStatus.running,
                          ScheduledJob.attempts == row.attempts)
            if error is None:
                await session.execute(delete(ScheduledJob).where(*still_ours))
                return
            values: dict[str, Any]
            if permanent or row.attempts >= row.max_attempts:
                values = {"status": JobStatus.failed, "locked_until": None, "last_error": error}
            else:
                values = {"status": JobStatus.pending, "locked_until": None, "last_error": error,
                          "due_at": now + backoff(row.attempts)}
            # Only if nobody re-enqueued the same key meanwhile (which resets it to pending).
            await session.execute(update(ScheduledJob).where(*still_ours).values(**values))

    def wake(self) -> None:
        """Run a pass now instead of at the next poll (after enqueueing something due now)."""
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop())

    async def _loop(self) -> None:
        while True:
            try:
                await self.run_due()
            except Exception:
                log.exception("worker pass failed")
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
            except TimeoutError:
                pass

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
