"""Typed pagination: every list endpoint takes ``PageParams`` and answers a ``Page``."""

from typing import Annotated, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import AfterValidator, BaseModel
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")
MAX_LIMIT = 100


class PageParams(BaseModel):
    page: int = 1
    limit: int = 20

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.limit


def page_params(
    page: Annotated[int, Query(ge=1, le=1_000_000, description="1-based page number")] = 1,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page")] = 20,
) -> PageParams:
    return PageParams(page=page, limit=limit)


PageDep = Annotated[PageParams, Depends(page_params)]


def _storable(value: str | None) -> str | None:
    from atiende.kit.schemas import storable

    return storable(value)


SearchParam = Annotated[str | None, Query(max_length=120, description="Case-insensitive search"),
                        AfterValidator(_storable)]


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    page: int
    limit: int


async def paginate(session: AsyncSession, stmt: Select, params: PageParams) -> tuple[list, int]:
    """Run ``stmt`` for one page and count all its rows."""
    total = await session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = (await session.scalars(stmt.offset(params.offset).limit(params.limit))).all()
    return list(rows), int(total or 0)
