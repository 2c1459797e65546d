"""Engine, sessions and the column types every domain shares.

The app owns one ``Database``; requests, jobs and the CLI open sessions from it. Work that
must only happen once data is durable (publishing events, enqueueing jobs) is registered
with :func:`on_commit` and run by :func:`session_scope` after the commit succeeds.
"""

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, MetaData, event
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

log = logging.getLogger(__name__)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC (SQLite has no zones) and always hands back aware UTC datetimes."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use an aware UTC datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


AfterCommit = Callable[[], Awaitable[None]]


def on_commit(session: AsyncSession, action: AfterCommit) -> None:
    """Run ``action`` after this session's transaction commits; dropped on rollback."""
    session.info.setdefault("after_commit", []).append(action)


async def run_after_commit(session: AsyncSession) -> None:
    actions: list[AfterCommit] = session.info.pop("after_commit", [])
    for action in actions:
        await action()


async def run_logging_failures(actions: Sequence[AfterCommit], what: str) -> None:
    """Run after-commit work whose caller has answered already: a failing action is logged (as
    ``what``) and the next one still runs; what was committed stands."""
    for action in actions:
        try:
            await action()
        except Exception:
            log.exception(what)


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


class Database:
    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        kwargs: dict[str, Any] = {"echo": echo}
        if is_sqlite(url):
            kwargs["connect_args"] = {"timeout": 30}
        else:
            # No pre-ping: it costs a round trip per checkout on the hot path; recycle instead. LIFO:
            # a busy process reuses its few most recent connections, whose prepared statements
            # (asyncpg keeps them per connection) are warm; FIFO rotated through all twenty.
            # A routed batch's multi-row inserts and IN lists have a text per batch size, so the
            # per-connection cache holds 500 statements instead of asyncpg's 100 (a miss is a round
            # trip to prepare).
            kwargs.update(pool_size=20, max_overflow=20, pool_recycle=1800, pool_use_lifo=True,
                          connect_args={"prepared_statement_cache_size": 500})
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        if is_sqlite(url):
            _tune_sqlite(self.engine)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)
        # For writes that may commit without waiting for the disk (PostgreSQL's
        # ``synchronous_commit = off``, set when each connection opens, so it costs no statement):
        # inbound intake, see conversations/intake.py for what that trades and why. SQLite has no
        # such mode; there it is the same engine.
        self.relaxed_engine = self.engine
        if not is_sqlite(url):
            self.relaxed_engine = create_async_engine(url, **{
                **kwargs,
                "connect_args": {**kwargs["connect_args"], "server_settings": {"synchronous_commit": "off"}}})
        self.relaxed_sessionmaker = async_sessionmaker(self.relaxed_engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session that commits when the block ends cleanly, then runs after-commit work."""
        async with self.sessionmaker() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                session.info.pop("after_commit", None)
                raise
        await run_after_commit(session)

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self.relaxed_engine is not self.engine:
            await self.relaxed_engine.dispose()


def _tune_sqlite(engine: AsyncEngine) -> None:
    """WAL for concurrent readers; BEGIN IMMEDIATE so two writers queue instead of failing.

    SQLite upgrades a deferred read transaction to a write one lazily and fails with
    "database is locked" when another writer got there first; taking the write lock at
    BEGIN makes every transaction wait its turn (busy_timeout) and keeps the rules that
    rely on row locks on PostgreSQL correct on the embedded database too.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
