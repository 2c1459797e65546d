"""Tenant-scoped CRUD: one base service and one router factory for the setup catalog.

Each resource subclasses ``ScopedCrudService`` with its own validation (``build``, ``apply``,
``check_delete``); scoping, licenses, audit, pagination and 404s are written once, here.
"""

from typing import Annotated, Any, ClassVar, Generic, TypeVar

from fastapi import APIRouter, Depends, Path, Query, status
from pydantic import BaseModel
from sqlalchemy import Select, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from atiende.audit.models import AuditAction
from atiende.audit.service import audit_service
from atiende.auth.caller import Caller
from atiende.clock import Clock
from atiende.db import Base
from atiende.deps import ClockDep, CurrentCaller, DbSession
from atiende.errors import Conflict, Invalid, NotFound
from atiende.kit.pagination import Page, PageDep, PageParams, SearchParam, paginate
from atiende.kit.schemas import MAX_ID

ModelT = TypeVar("ModelT", bound=Base)
CreateT = TypeVar("CreateT", bound=BaseModel)
UpdateT = TypeVar("UpdateT", bound=BaseModel)


class ScopedCrudService(Generic[ModelT, CreateT, UpdateT]):
    model: type[ModelT]
    out_schema: type[BaseModel]
    entity: ClassVar[str]
    search_columns: ClassVar[tuple[str, ...]] = ("name",)

    # --- reads -------------------------------------------------------------------------
    def scoped(self, client_ids: list[int]) -> Select:
        return select(self.model).where(self.model.client_id.in_(client_ids))  # type: ignore[attr-defined]

    async def list(self, session: AsyncSession, caller: Caller, *, client_id: int | None, page: PageParams,
                   q: str | None = None, active: bool | None = None) -> tuple[list[ModelT], int]:
        stmt = self.scoped(caller.scope(client_id))
        if q:
            pattern = f"%{q.lower()}%"
            stmt = stmt.where(or_(*(func.lower(getattr(self.model, c)).like(pattern) for c in self.search_columns)))
        if active is not None and hasattr(self.model, "active"):
            stmt = stmt.where(self.model.active == active)  # type: ignore[attr-defined]
        return await paginate(session, stmt.order_by(self.model.id), page)  # type: ignore[attr-defined]

    async def get(self, session: AsyncSession, caller: Caller, item_id: int) -> ModelT | None:
        stmt = self.scoped(caller.client_ids).where(self.model.id == item_id)  # type: ignore[attr-defined]
        return await session.scalar(stmt.execution_options(populate_existing=True))

    async def get_reference(self, session: AsyncSession, client_id: int, item_id: int | None,
                            field: str) -> ModelT:
        """A referenced row that must exist in ``client_id``; anything else names ``field``."""
        row = None if item_id is None else await session.scalar(
            self.scoped([client_id]).where(self.model.id == item_id))  # type: ignore[attr-defined]
        if row is None:
            raise Invalid(f"{self.entity.replace('_', ' ').capitalize()} {item_id} does not exist in this client",
                          field=field)
        return row

    # --- writes ------------------------------------------------------------------------
    async def build(self, session: AsyncSession, data: CreateT) -> ModelT:
        """Validate ``data`` against the database and return the new, unsaved row."""
        raise NotImplementedError

    async def apply(self, session: AsyncSession, obj: ModelT, data: UpdateT) -> None:
        """Validate the changes in ``data`` (only fields that were sent) and apply them."""
        raise NotImplementedError

    async def check_delete(self, session: AsyncSession, obj: ModelT) -> None:
        """Raise ``Conflict`` while something still uses ``obj``."""

    def snapshot(self, obj: ModelT) -> dict[str, Any]:
        return self.out_schema.model_validate(obj, from_attributes=True).model_dump(mode="json")

    async def create(self, session: AsyncSession, caller: Caller, data: CreateT, *, clock: Clock) -> ModelT:
        client_id: int = data.client_id  # type: ignore[attr-defined]
        caller.require_admin(client_id)
        obj = await self.build(session, data)
        session.add(obj)
        await self._flush(session)
        obj = await self._reload(session, obj)
        await audit_service.record(session, caller=caller, action=AuditAction.create, entity_type=self.entity,
                                   entity_id=obj.id, client_id=client_id, at=clock.now(),  # type: ignore[attr-defined]
                                   after=self.snapshot(obj))
        return obj

    async def update(self, session: AsyncSession, caller: Caller, obj: ModelT, data: UpdateT, *,
                     clock: Clock) -> ModelT:
        caller.require_admin(obj.client_id)  # type: ignore[attr-defined]
        before = self.snapshot(obj)
        await self.apply(session, obj, data)
        await self._flush(session)
        obj = await self._reload(session, obj)
        await audit_service.record(session, caller=caller, action=AuditAction.update, entity_type=self.entity,
                                   entity_id=obj.id, client_id=obj.client_id,  # type: ignore[attr-defined]
                                   at=clock.now(), before=before, after=self.snapshot(obj))
        return obj

    async def delete(self, session: AsyncSession, caller: Caller, obj: ModelT, *, clock: Clock) -> None:
        caller.require_admin(obj.client_id)  # type: ignore[attr-defined]
        await self.check_delete(session, obj)
        before = self.snapshot(obj)
        await session.delete(obj)
        await self._flush(session)
        await audit_service.record(session, caller=caller, action=AuditAction.delete, entity_type=self.entity,
                                   entity_id=obj.id, client_id=obj.client_id,  # type: ignore[attr-defined]
                                   at=clock.now(), before=before)

    async def _flush(self, session: AsyncSession) -> None:
        try:
            await session.flush()
        except IntegrityError as exc:
            raise Conflict(f"This {self.entity.replace('_', ' ')} conflicts with existing data "
                           "(a duplicate, or it is still in use)") from exc

    async def _reload(self, session: AsyncSession, obj: ModelT) -> ModelT:
        """Re-read with eager relationships so the response never lazy-loads outside the session."""
        stmt = select(self.model).where(self.model.id == obj.id)  # type: ignore[attr-defined]
        return (await session.scalars(stmt.execution_options(populate_existing=True))).one()

    async def ensure_unique(self, session: AsyncSession, client_id: int, field: str, value: Any,
                            exclude_id: int | None = None) -> None:
        stmt = self.scoped([client_id]).where(getattr(self.model, field) == value)
        if exclude_id is not None:
            stmt = stmt.where(self.model.id != exclude_id)  # type: ignore[attr-defined]
        if await session.scalar(stmt) is not None:
            raise Conflict(f"Another {self.entity.replace('_', ' ')} already uses this {field}", field=field)


def crud_router(*, service: ScopedCrudService[Any, Any, Any], create_schema: type[BaseModel],
                update_schema: type[BaseModel], out_schema: type[BaseModel], prefix: str, tag: str) -> APIRouter:
    """List, create, read, update and delete for one catalog resource, all tenant-scoped."""
    router = APIRouter(prefix=prefix, tags=[tag])
    label = service.entity.replace("_", " ")

    async def load(item_id: Annotated[int, Path(ge=1, le=MAX_ID)], session: DbSession, caller: CurrentCaller) -> Any:
        obj = await service.get(session, caller, item_id)
        if obj is None:
            raise NotFound(f"{label.capitalize()} not found", field="item_id")
        return obj

    Loaded = Annotated[Any, Depends(load)]

    @router.get("", response_model=Page[out_schema], summary=f"List {label}s")  # type: ignore[valid-type]
    async def list_items(session: DbSession, caller: CurrentCaller, page: PageDep,
                         client_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
                         q: SearchParam = None,
                         active: bool | None = None) -> Any:
        items, total = await service.list(session, caller, client_id=client_id, page=page, q=q, active=active)
        return {"items": items, "total": total, "page": page.page, "limit": page.limit}

    @router.post("", response_model=out_schema, status_code=status.HTTP_201_CREATED, summary=f"Create a {label}")
    async def create_item(body: create_schema, session: DbSession, caller: CurrentCaller,  # type: ignore[valid-type]
                          clock: ClockDep) -> Any:
        return await service.create(session, caller, body, clock=clock)

    @router.get("/{item_id}", response_model=out_schema, summary=f"Read a {label}")
    async def read_item(obj: Loaded) -> Any:
        return obj

    @router.patch("/{item_id}", response_model=out_schema, summary=f"Update a {label}")
    async def update_item(obj: Loaded, body: update_schema, session: DbSession,  # type: ignore[valid-type]
                          caller: CurrentCaller, clock: ClockDep) -> Any:
        return await service.update(session, caller, obj, body, clock=clock)

    @router.delete("/{item_id}", status_code=status.HTTP_204_NO_CONTENT, summary=f"Delete a {label}")
    async def delete_item(obj: Loaded, session: DbSession, caller: CurrentCaller, clock: ClockDep) -> None:
        await service.delete(session, caller, obj, clock=clock)

    router.loader = load  # type: ignore[attr-defined]  # for extra routes on the same resource
    return router
