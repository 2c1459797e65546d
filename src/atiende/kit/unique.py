"""Names unique within their parent (the platform's clients, a client's projects, channels and
catalog items, a project's campaigns), compared the way people read them.

Every such table stores the name's *folded* form beside it (``name_folded``: NFKC, case folded,
spaces collapsed) under a unique index, so "Éxito Ltda", "éxito ltda" and "ÉXITO  LTDA" are one
name on SQLite and PostgreSQL alike (SQLite's ``lower()`` folds only ASCII), and two concurrent
writers of one name get one row and one ``Conflict`` (409), never a 500.

A model opts in with ``__folded__ = "name"`` (the source attribute) and a ``name_folded =
folded_column()``; the folded value is kept in step on every insert and update, here, once.
"""

import unicodedata
from collections.abc import Callable
from typing import Any

from sqlalchemy import String, event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from atiende.db import Base
from atiende.errors import Conflict

FOLDED_LENGTH = 500


class NameTaken(Conflict):
    code = "name_taken"

    def __init__(self, message: str, field: str, *, code: str | None = None, value: str | None = None) -> None:
        """``code`` names the object (``campaign.name_taken``) and ``value`` the spelling already held,
        so the UI can say "Ya existe una campaña «Cobranza»"."""
        super().__init__(message, field=field, code=code, extra={"value": value} if value is not None else None)


def fold(text: str) -> str:
    """The comparison key of a name: NFKC, case folded (ß → ss, Σ → σ), inner spaces collapsed."""
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    return " ".join(folded.split())[:FOLDED_LENGTH]


def folded_column(*, unique: bool = False) -> Mapped[str]:
    return mapped_column(String(FOLDED_LENGTH), unique=unique)


def folded_attribute(model: type[Any]) -> str | None:
    """``name_folded`` for a model with ``__folded__ = "name"``; None for others."""
    source = getattr(model, "__folded__", None)
    return f"{source}_folded" if source else None


@event.listens_for(Base, "before_insert", propagate=True)
@event.listens_for(Base, "before_update", propagate=True)
def _keep_folded(_mapper: Any, _connection: Any, target: Any) -> None:
    source = getattr(target, "__folded__", None)
    if source and getattr(target, source, None) is not None:
        setattr(target, f"{source}_folded", fold(getattr(target, source)))


async def taken_by(session: AsyncSession, model: type[Any], source: str, value: str, *,
                   parent: tuple[str, int] | None, exclude_id: int | None = None) -> str | None:
    """The spelling another row of ``parent`` (``("client_id", 7)``; None for a top-level table)
    already holds that folds like ``value`` in ``source``, or None. The unique index decides races;
    this gives the answer its field and words before the insert is tried."""
    column = getattr(model, f"{source}_folded")
    stmt = select(getattr(model, source)).where(column == fold(value))
    if parent is not None:
        stmt = stmt.where(getattr(model, parent[0]) == parent[1])
    if exclude_id is not None:
        stmt = stmt.where(model.id != exclude_id)
    return await session.scalar(stmt.limit(1))


async def flush_or_conflict(session: AsyncSession, conflict: Callable[[], Conflict]) -> None:
    """Flush; a unique index that refuses the row (a concurrent writer won) becomes ``conflict()``."""
    try:
        await session.flush()
    except IntegrityError as exc:
        raise conflict() from exc
