"""Test harness: a real database (SQLite file or PostgreSQL) migrated with Alembic, the real app
over HTTP, a fake clock. Tables are emptied after every test.

Plain ``pytest`` runs every database test twice: on SQLite (a temporary file) and on PostgreSQL
(``postgresql+asyncpg://postgres@127.0.0.1:5432/test``; each run creates and drops its own
database, so parallel runs never collide). ``ATIENDE_TEST_DATABASE_URL=sqlite`` (or a PostgreSQL
URL) restricts a run to that one database, for quick local loops.
"""

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from atiende import migrate
from atiende.app import create_app
from atiende.bus import InProcessBus
from atiende.channels import webhook_guard
from atiende.clock import FakeClock
from atiende.db import Base, Database
from atiende.jobs import Worker
from atiende.settings import Settings

pytest_plugins = ["tests.factories"]


DEFAULT_POSTGRESQL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


def _database_bases() -> list[str]:
    chosen = os.environ.get("ATIENDE_TEST_DATABASE_URL")
    return [chosen] if chosen else ["sqlite", DEFAULT_POSTGRESQL]


def _kind(base: str) -> str:
    return "sqlite" if base.startswith("sqlite") else "postgresql"


async def _admin_execute(url: str, statement: str) -> None:
    import asyncpg

    u = make_url(url)
    conn = await asyncpg.connect(host=u.host, port=u.port or 5432, user=u.username, password=u.password,
                                 database=u.database)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@contextmanager
def fresh_database(directory: Path, base: str) -> Iterator[str]:
    """A new, migrated database of the kind of ``base`` (SQLite file in ``directory``, or a new
    PostgreSQL database dropped afterwards); yields its URL. An unreachable PostgreSQL fails
    the tests loudly: it is never skipped."""
    if _kind(base) == "sqlite":
        url = f"sqlite+aiosqlite:///{directory / f'atiende-{uuid.uuid4().hex[:8]}.db'}"
        migrate.upgrade(url)
        yield url
        return
    name = f"atiende_test_{uuid.uuid4().hex[:10]}"
    asyncio.run(_admin_execute(base, f'CREATE DATABASE "{name}"'))
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    try:
        migrate.upgrade(url)
        yield url
    finally:
        asyncio.run(_admin_execute(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session", params=_database_bases(), ids=_kind)
def db_base(request: pytest.FixtureRequest) -> str:
    """The database kind under test; every test that touches a database runs once per kind."""
    return request.param


@pytest.fixture(scope="session")
def db_kind(db_base: str) -> str:
    return _kind(db_base)


@pytest.fixture(scope="session")
def database_url(db_base: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with fresh_database(tmp_path_factory.mktemp("db"), db_base) as url:
        yield url


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(database_url=database_url, ui_enabled=False, worker_enabled=False,
                    media_dir=tmp_path_factory.mktemp("media"), login_max_failures=5)


@pytest.fixture(scope="session")
async def database(settings: Settings) -> AsyncIterator[Database]:
    db = Database(settings.database_url)
    yield db
    await db.dispose()


@pytest.fixture(scope="session")
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def bus() -> InProcessBus:
    return InProcessBus()


@pytest.fixture(scope="session")
def app(settings: Settings, database: Database, clock: FakeClock, bus: InProcessBus):  # type: ignore[no-untyped-def]
    """The real app; its jobs worker is not started: tests run due jobs with ``worker.run_due()``."""
    return create_app(settings, clock=clock, database=database, bus=bus, with_ui=False)


@pytest.fixture
def worker(app) -> Worker:  # type: ignore[no-untyped-def]
    return app.state.worker


@pytest.fixture(autouse=True)
async def _fresh_state(database: Database, clock: FakeClock) -> AsyncIterator[None]:
    clock.set(FakeClock().now())
    webhook_guard.budget.reset()  # refused webhook calls are counted per process, per address
    yield
    await empty_tables(database)


async def empty_tables(database: Database) -> None:
    tables = list(reversed(Base.metadata.sorted_tables))
    async with database.engine.begin() as conn:
        if database.dialect == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                # A tree (typifications) refers to itself with ON DELETE RESTRICT: cut the links first.
                for fk in table.foreign_keys:
                    if fk.column.table is table:
                        await conn.execute(table.update().values({fk.parent.name: None}))
                await conn.execute(table.delete())


@pytest.fixture
async def http(app) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client
