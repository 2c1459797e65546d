"""Alembic is the only way the schema is made: the migrations must build exactly the models,
and must go down and up again cleanly, on SQLite and on PostgreSQL."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

import atiende.models  # noqa: F401
from atiende import migrate
from atiende.db import Base


async def _differences(url: str) -> list:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(lambda c: compare_metadata(MigrationContext.configure(c), Base.metadata))
    finally:
        await engine.dispose()


async def test_the_migrated_schema_matches_the_models(database_url: str) -> None:
    assert await _differences(database_url) == []


def test_migrations_go_down_to_nothing_and_back_up(db_base: str, tmp_path) -> None:
    from tests.conftest import fresh_database

    with fresh_database(tmp_path, db_base) as url:
        migrate.downgrade(url, "base")
        migrate.upgrade(url)
