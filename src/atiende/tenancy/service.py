"""Clients (created by the platform superuser) and projects (managed by a client's admins)."""

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from atiende.audit.models import AuditAction
from atiende.audit.service import audit_service
from atiende.auth.caller import Caller, SuperuserRequired
from atiende.auth.models import Membership, Role
from atiende.campaigns.models import Campaign
from atiende.clock import Clock
from atiende.errors import Conflict, Invalid
from atiende.kit.crud import ScopedCrudService
from atiende.kit.pagination import PageParams, paginate
from atiende.kit.unique import NameTaken, flush_or_conflict, taken_by
from atiende.tenancy.models import Client, Project
from atiende.tenancy.schemas import ClientCreate, ClientOut, ClientUpdate, ProjectCreate, ProjectOut, ProjectUpdate

CLIENT_SETTINGS = frozenset({"phone_region"})  # the client's own choices; the rest is the platform's plan


class ClientNameTaken(NameTaken):
    code = "client.name_taken"

    def __init__(self, other: str | None = None) -> None:
        super().__init__(f"A client named «{other}» already exists" if other else "A client with this name already exists",
                         "name", value=other)


class ClientService:
    async def seats_used(self, session: AsyncSession, client_id: int) -> int:
        count = await session.scalar(
            select(func.count()).where(Membership.client_id == client_id, Membership.active.is_(True)))
        return int(count or 0)

    async def out(self, session: AsyncSession, client: Client) -> ClientOut:
        out = ClientOut.model_validate(client)
        out.seats_used = await self.seats_used(session, client.id)
        return out

    async def list(self, session: AsyncSession, caller: Caller, page: PageParams) -> tuple[list[Client], int]:
        stmt = select(Client)
        if not caller.user.is_superuser:
            stmt = stmt.where(Client.id.in_(caller.client_ids))
        return await paginate(session, stmt.order_by(Client.name), page)

    async def get(self, session: AsyncSession, caller: Caller, client_id: int) -> Client | None:
        if not caller.user.is_superuser and client_id not in caller.client_ids:
            return None
        return await session.get(Client, client_id)

    async def create(self, session: AsyncSession, caller: Caller, data: ClientCreate, *, clock: Clock) -> Client:
        if not caller.user.is_superuser:
            raise SuperuserRequired()
        await self._ensure_unique_name(session, data.name)
        client = Client(**data.model_dump())
        session.add(client)
        await flush_or_conflict(session, ClientNameTaken)
        await audit_service.record(session, caller=caller, action=AuditAction.create, entity_type="client",
                                   entity_id=client.id, client_id=client.id, at=clock.now(),
                                   after=self._snapshot(client))
        return client

    async def update(self, session: AsyncSession, caller: Caller, client: Client, data: ClientUpdate, *,
                     clock: Clock) -> Client:
        """The plan belongs to the platform: only a superuser changes it (or renames the client).
        The client's own settings (``phone_region``) its admins change too."""
        changes = data.model_dump(exclude_unset=True, exclude_none=True)
        if not caller.user.is_superuser:
            if set(changes) - CLIENT_SETTINGS:
                raise SuperuserRequired()
            caller.require(client.id, Role.admin)
        before = self._snapshot(client)
        if "name" in changes:
            await self._ensure_unique_name(session, changes["name"], exclude_id=client.id)
        if "plan_seats" in changes and changes["plan_seats"] < await self.seats_used(session, client.id):
            raise Invalid("The plan cannot have fewer seats than active licenses; deactivate users first",
                          field="plan_seats")
        for key, value in changes.items():
            setattr(client, key, value)
        await flush_or_conflict(session, ClientNameTaken)
        await audit_service.record(session, caller=caller, action=AuditAction.update, entity_type="client",
                                   entity_id=client.id, client_id=client.id, at=clock.now(), before=before,
                                   after=self._snapshot(client))
        return client

    async def _ensure_unique_name(self, session: AsyncSession, name: str, exclude_id: int | None = None) -> None:
        other = await taken_by(session, Client, "name", name, parent=None, exclude_id=exclude_id)
        if other is not None:
            raise ClientNameTaken(other)

    def _snapshot(self, client: Client) -> dict[str, Any]:
        return ClientOut.model_validate(client).model_dump(mode="json", exclude={"seats_used"})


class ProjectService(ScopedCrudService[Project, ProjectCreate, ProjectUpdate]):
    model = Project
    out_schema = ProjectOut
    entity = "project"

    async def build(self, session: AsyncSession, data: ProjectCreate) -> Project:
        await self.ensure_unique(session, data.client_id, "name", data.name)
        return Project(**data.model_dump())

    async def apply(self, session: AsyncSession, obj: Project, data: ProjectUpdate) -> None:
        changes = data.model_dump(exclude_unset=True, exclude_none=True)
        if "name" in changes:
            await self.ensure_unique(session, obj.client_id, "name", changes["name"], exclude_id=obj.id)
        for key, value in changes.items():
            setattr(obj, key, value)

    async def check_delete(self, session: AsyncSession, obj: Project) -> None:
        used = await session.scalar(select(func.count()).where(Campaign.project_id == obj.id))
        if used:
            raise Conflict(f"The project has {used} campaign(s); delete or move them first", field="item_id")


client_service = ClientService()
project_service = ProjectService()
