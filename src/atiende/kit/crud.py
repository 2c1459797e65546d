"""Tenant-scoped CRUD: one base service and one router factory for the setup catalog.

Each resource subclasses ``ScopedCrudService`` with its own validation (``build``, ``apply``,
``check_delete``); scoping, licenses, audit, pagination and 404s are written once, here.
"""

from typing import Annotated, Any, ClassVar, Generic, TypeVar

from fastapi import APIRouter, Depends, Path, Query, status
from pydantic import BaseModel
from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from atiende.audit.models import AuditAction
from atiende.audit.service import audit_service
from atiende.auth.caller import Caller, RoleRequired
from atiende.auth.models import Role
from atiende.clock import Clock
from atiende.db import Base
from atiende.deps import AdminsWrite, ClockDep, CurrentCaller, DbSession
from atiende.errors import Conflict, Invalid, NotFound
from atiende.kit.pagination import Page, PageDep, PageParams, SearchParam, paginate
from atiende.kit.schemas import MAX_ID
from atiende.kit.search import contains
from atiende.kit.unique import NameTaken, flush_or_conflict, taken_by

ModelT = TypeVar("ModelT", bound=Base)
CreateT = TypeVar("CreateT", bound=BaseModel)
UpdateT = TypeVar("UpdateT", bound=BaseModel)


class ScopedCrudService(Generic[ModelT, CreateT, UpdateT]):
    model: type[ModelT]
    out_schema: type[BaseModel]
    entity: ClassVar[str]
    search_columns: ClassVar[tuple[str, ...]] = ("name",)
    readers: ClassVar[tuple[Role, ...]] = ()  # who reads it; empty: anyone with a seat in the client

    # --- reads -------------------------------------------------------------------------
    def scoped(self, client_ids: list[int]) -> Select:
        return select(self.model).where(self.model.client_id.in_(client_ids))  # type: ignore[attr-defined]

    def readable(self, caller: Caller, client_id: int | None) -> list[int]:
        """Clients whose rows the caller may read: one requested (checked), or all the caller reads in."""
        clients = caller.scope(client_id)
        if not self.readers:
            return clients
        if client_id is not None:
            caller.require(client_id, *self.readers)
        readable = [c for c in clients if caller.role_in(c) in self.readers]
        if not readable and clients:
            raise RoleRequired(self.readers)
        return readable

    async def list(self, session: AsyncSession, caller: Caller, *, client_id: int | None, page: PageParams,
                   q: str | None = None, active: bool | None = None) -> tuple[list[ModelT], int]:
        stmt = self.scoped(self.readable(caller, client_id))
        if q:
            stmt = stmt.where(or_(*(contains(getattr(self.model, c), q) for c in self.search_columns)))
        if active is not None and hasattr(self.model, "active"):
            stmt = stmt.where(self.model.active == active)  # type: ignore[attr-defined]
        return await paginate(session, stmt.order_by(self.model.id), page)  # type: ignore[attr-defined]

    async def get(self, session: AsyncSession, caller: Caller, item_id: int) -> ModelT | None:
        stmt = self.scoped(caller.client_ids).where(self.model.id == item_id)  # type: ignore[attr-defined]
        obj = await session.scalar(stmt.execution_options(populate_existing=True))
        if obj is not None and self.readers:
            caller.require(obj.client_id, *self.readers)  # type: ignore[attr-defined]
        return obj

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
        await flush_or_conflict(session, lambda: Conflict(
            f"This {self.entity.replace('_', ' ')} conflicts with existing data (a duplicate, or it is still in use)"))

    async def _reload(self, session: AsyncSession, obj: ModelT) -> ModelT:
        """Re-read with eager relationships so the response never lazy-loads outside the session."""
        stmt = select(self.model).where(self.model.id == obj.id)  # type: ignore[attr-defined]
        return (await session.scalars(stmt.execution_options(populate_existing=True))).one()

    async def ensure_unique(self, session: AsyncSession, client_id: int, field: str, value: Any,
                            exclude_id: int | None = None) -> None:
        """``field`` is the model's folded one (``__folded__``): compared as ``kit.unique.fold`` reads it."""
        other = await taken_by(session, self.model, field, value, parent=("client_id", client_id), exclude_id=exclude_id)
        if other is not None:
            raise NameTaken(f"Another {self.entity.replace('_', ' ')} already uses this {field}: «{other}»", field,
                            code=f"{self.entity}.{field}_taken", value=other)


def crud_router(*, service: ScopedCrudService[Any, Any, Any], create_schema: type[BaseModel],
                update_schema: type[BaseModel], out_schema: type[BaseModel], prefix: str, tag: str,
                writers: Any = AdminsWrite) -> APIRouter:
    """List, create, read, update and delete for one catalog resource, all tenant-scoped; writes
    (also of routes added later to the router) need ``writers`` before anything else is read."""
    router = APIRouter(prefix=prefix, tags=[tag], dependencies=[writers])
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
