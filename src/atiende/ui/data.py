"""Reading whole (small) catalogs through the services' paginated ``list`` methods."""

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from atiende.kit.pagination import MAX_LIMIT, PageParams

T = TypeVar("T")
MAX_PAGES = 50  # 5,000 rows: far beyond any client's catalog; a bound, never a loop without end


async def fetch_all(list_fn: Callable[..., Awaitable[tuple[list[T], int]]], *args: Any, **kwargs: Any) -> list[T]:
    """Every row ``list_fn`` answers, page by page."""
    items: list[T] = []
    for number in range(1, MAX_PAGES + 1):
        page, total = await list_fn(*args, page=PageParams(page=number, limit=MAX_LIMIT), **kwargs)
        items.extend(page)
        if len(items) >= total or not page:
            break
    return items
