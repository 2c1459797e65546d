"""Users y licencias: seats in a client, capped by the client's plan."""

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from atiende.audit.models import AuditAction
from atiende.audit.service import audit_service
from atiende.auth.caller import Caller
from atiende.auth.models import Membership, Role, User
from atiende.auth.passwords import hash_password
from atiende.auth.schemas import MembershipCreate, MembershipOut, MembershipUpdate
from atiende.auth.service import normalize_email
from atiende.clock import Clock
from atiende.errors import Conflict, Invalid
from atiende.kit.pagination import PageParams, paginate
from atiende.tenancy.models import Client


class SeatsExhausted(Conflict):
    def __init__(self, seats: int) -> None:
        super().__init__(f"All {seats} licenses of the plan are in use; deactivate a user or upgrade the plan",
                         field="active")


class MembershipService:
    async def list(self, session: AsyncSession, caller: Caller, *, client_id: int | None, page: PageParams,
                   role: Role | None = None, q: str | None = None) -> tuple[list[Membership], int]:
        stmt = select(Membership).join(User).where(Membership.client_id.in_(caller.scope(client_id)))
        if role is not None:
            stmt = stmt.where(Membership.role == role)
        if q:
            pattern = f"%{q.lower()}%"
            stmt = stmt.where(func.lower(User.email).like(pattern) | func.lower(User.full_name).like(pattern))
        return await paginate(session, stmt.order_by(User.email), page)

    async def get(self, session: AsyncSession, caller: Caller, membership_id: int) -> Membership | None:
        return await session.scalar(select(Membership).where(
            Membership.id == membership_id, Membership.client_id.in_(caller.client_ids)))

    async def create(self, session: AsyncSession, caller: Caller, data: MembershipCreate, *,
                     clock: Clock) -> Membership:
        caller.require_admin(data.client_id)
        email = normalize_email(str(data.email))
        user = await session.scalar(select(User).where(User.email == email))
        if user is None:
            if data.password is None:
                raise Invalid("A new user needs a password", field="password")
            user = User(email=email, full_name=data.full_name or email.split("@")[0],
                        password_hash=hash_password(data.password))
            session.add(user)
            await session.flush()
        elif data.password is not None:
            raise Conflict("This email already has an account; leave the password empty to give it a seat here",
                           field="email")
        existing = await session.scalar(select(Membership).where(
            Membership.user_id == user.id, Membership.client_id == data.client_id))
        if existing is not None:
            raise Conflict("This user already has a seat in this client", field="email")
        if data.active:
            await self._ensure_free_seat(session, data.client_id)
        membership = Membership(user_id=user.id, client_id=data.client_id, role=data.role, active=data.active)
        session.add(membership)
        await session.flush()
        await session.refresh(membership, ["user", "client"])
        await self._audit(session, caller, AuditAction.create, membership, clock, after=self.snapshot(membership))
        return membership

    async def update(self, session: AsyncSession, caller: Caller, membership: Membership,
                     data: MembershipUpdate, *, clock: Clock) -> Membership:
        caller.require_admin(membership.client_id)
        before = self.snapshot(membership)
        if membership.user_id == caller.user.id and (data.active is False or data.role not in (None, Role.admin)):
            raise Invalid("You cannot remove your own admin license", field="role" if data.role else "active")
        if data.active and not membership.active:
            await self._ensure_free_seat(session, membership.client_id)
        if data.role is not None:
            membership.role = data.role
        if data.active is not None:
            membership.active = data.active
        if data.full_name is not None:
            membership.user.full_name = data.full_name
        if data.password is not None:
            membership.user.password_hash = hash_password(data.password)
        await session.flush()
        await self._audit(session, caller, AuditAction.update, membership, clock, before=before,
                          after=self.snapshot(membership))
        return membership

    async def delete(self, session: AsyncSession, caller: Caller, membership: Membership, *, clock: Clock) -> None:
        caller.require_admin(membership.client_id)
        if membership.user_id == caller.user.id:
            raise Invalid("You cannot remove your own license", field="item_id")
        before = self.snapshot(membership)
        await session.delete(membership)
        await session.flush()
        await self._audit(session, caller, AuditAction.delete, membership, clock, before=before)

    async def _ensure_free_seat(self, session: AsyncSession, client_id: int) -> None:
        """Counts under a lock of the client row, so two admins cannot both take the last seat."""
        client = await session.scalar(select(Client).where(Client.id == client_id).with_for_update())
        assert client is not None
        used = await session.scalar(
            select(func.count()).where(Membership.client_id == client_id, Membership.active.is_(True)))
        if (used or 0) >= client.plan_seats:
            raise SeatsExhausted(client.plan_seats)

    def snapshot(self, membership: Membership) -> dict[str, Any]:
        return MembershipOut.model_validate(membership).model_dump(mode="json")

    async def _audit(self, session: AsyncSession, caller: Caller, action: AuditAction, membership: Membership,
                     clock: Clock, *, before: dict[str, Any] | None = None,
                     after: dict[str, Any] | None = None) -> None:
        await audit_service.record(session, caller=caller, action=action, entity_type="membership",
                                   entity_id=membership.id, client_id=membership.client_id, at=clock.now(),
                                   before=before, after=after)


membership_service = MembershipService()
