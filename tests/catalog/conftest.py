from collections.abc import AsyncIterator

import pytest
from sqlalchemy import update

from atiende.catalog.models import Typification
from atiende.db import Database


@pytest.fixture(autouse=True)
async def _flatten_typification_trees(database: Database) -> AsyncIterator[None]:
    """The shared clean-up deletes table by table; on SQLite a parent typification (ON DELETE
    RESTRICT) cannot go before its children in one DELETE, so trees are flattened first."""
    yield
    async with database.engine.begin() as conn:
        await conn.execute(update(Typification).where(Typification.parent_id.is_not(None)).values(parent_id=None))
