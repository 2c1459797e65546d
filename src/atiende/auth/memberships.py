"""Users y licencias: seats in a client, capped by the client's plan.

Accounts are global (one user, one email, seats in many clients), so a client admin never writes
an account another client relies on. Every seat an admin gives is an *invitation* until its person
accepts it after logging in (``auth.invitations``); for an email without an account the user is
created with the admin's initial password. The answer is the same whether or not the email already
had an account: same status, no name, and the password is hashed in both cases. Once accepted, an
admin may reset the name or password only of a person whose every seat is in clients that admin
runs (the platform superuser of anyone); the person changes their own in ``PATCH /me``.
"""

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from atiende.audit.models import AuditAction
from atiende.audit.service import audit_service
from atiende.auth.caller import Caller, RoleRequired
from atiende.auth.events import announce_sessions_changed
from atiende.auth.models import Membership, MembershipStatus, Role, User
from atiende.auth.passwords import hash_password
from atiende.auth.schemas import MembershipCreate, MembershipOut, MembershipUpdate
from atiende.auth.service import auth_service, normalize_email
from atiende.bus import EventBus
from atiende.clock import Clock
from atiende.errors import Conflict, Forbidden, Invalid
from atiende.kit.pagination import PageParams, paginate
from atiende.kit.search import contains
from atiende.tenancy.models import Client


class SeatsExhausted(Conflict):
    code = "membership.seats_exhausted"

    def __init__(self, seats: int) -> None:
        super().__init__(f"All {seats} licenses of the plan are in use; deactivate a user or upgrade the plan",
                         field="active")


class ProfileNotYours(Forbidden):
    code = "membership.profile_not_yours"

    def __init__(self, field_name: str) -> None:
        super().__init__("This person's name and password are their own: they change them in their profile "
                         "(or the platform superuser does)", field=field_name)


class InvitationPending(Conflict):
    code = "membership.invitation_pending"

    def __init__(self, field_name: str) -> None:
        super().__init__("The invitation is not accepted yet; delete it and invite again to change it",
                         field=field_name)


SUPERVISING = (Role.admin, Role.supervisor)


class MembershipService:
    def readable_clients(self, caller: Caller, client_id: int | None) -> list[int]:
        """Who works where is for admins and supervisors; an agent gets the names they need elsewhere
        (the transfer targets of a conversation)."""
        if client_id is not None:
            caller.require(client_id, *SUPERVISING)
            return [client_id]
        return [c for c in caller.client_ids if caller.role_in(c) in SUPERVISING]

    async def list(self, session: AsyncSession, caller: Caller, *, client_id: int | None, page: PageParams,
                   role: Role | None = None, q: str | None = None) -> tuple[list[Membership], int]:
        clients = self.readable_clients(caller, client_id)
        if not clients and caller.client_ids:
            raise RoleRequired(SUPERVISING)
        stmt = select(Membership).join(User).where(Membership.client_id.in_(clients))
        if role is not None:
            stmt = stmt.where(Membership.role == role)
        if q:
            # An invited person's name is theirs until they accept: not searchable either.
            stmt = stmt.where(contains(User.email, q) | (
                contains(User.full_name, q) & (Membership.status == MembershipStatus.accepted)))
        return await paginate(session, stmt.order_by(User.email), page)

    async def get(self, session: AsyncSession, caller: Caller, membership_id: int) -> Membership | None:
        """A seat of a client the caller supervises, or the caller's own."""
        membership = await session.scalar(select(Membership).where(
            Membership.id == membership_id, Membership.client_id.in_(caller.client_ids)))
        if membership is None:
            return None
        if membership.user_id != caller.user.id and caller.role_in(membership.client_id) not in SUPERVISING:
            return None
        return membership

    async def create(self, session: AsyncSession, caller: Caller, data: MembershipCreate, *,
                     clock: Clock) -> Membership:
        caller.require_admin(data.client_id)
        email = normalize_email(str(data.email))
        password_hash = hash_password(data.password)  # also for an existing account: the same time either way
        user = await session.scalar(select(User).where(User.email == email))
        if user is None:
            user = User(email=email, full_name=data.full_name or email.split("@")[0], password_hash=password_hash)
            session.add(user)
            await session.flush()
        existing = await session.scalar(select(Membership).where(
            Membership.user_id == user.id, Membership.client_id == data.client_id))
        if existing is not None:
            raise Conflict("This email already has a seat or an invitation in this client", field="email",
                           code="membership.already_here")
        if data.active:
            await self._ensure_free_seat(session, data.client_id)
        membership = Membership(user_id=user.id, client_id=data.client_id, role=data.role, active=data.active,
                                status=MembershipStatus.invited)
        session.add(membership)
        await session.flush()
        await session.refresh(membership, ["user", "client"])
        await self._audit(session, caller, AuditAction.create, membership, clock, after=self.snapshot(membership))
        return membership

    async def update(self, session: AsyncSession, caller: Caller, membership: Membership,
                     data: MembershipUpdate, *, clock: Clock, bus: EventBus | None = None) -> Membership:
        caller.require_admin(membership.client_id)
        if data.full_name is not None or data.password is not None:
            await self._ensure_profile_is_theirs(session, caller, membership,
                                                 "password" if data.password is not None else "full_name")
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
            await auth_service.set_password(session, membership.user, data.password, bus=bus)
        if membership.role != before["role"] or membership.active != before["active"]:
            announce_sessions_changed(session, bus, membership.user_id)
        await session.flush()
        await self._audit(session, caller, AuditAction.update, membership, clock, before=before,
                          after=self.snapshot(membership))
        return membership

    async def delete(self, session: AsyncSession, caller: Caller, membership: Membership, *, clock: Clock,
                     bus: EventBus | None = None) -> None:
        caller.require_admin(membership.client_id)
        if membership.user_id == caller.user.id:
            raise Invalid("You cannot remove your own license", field="item_id")
        before = self.snapshot(membership)
        announce_sessions_changed(session, bus, membership.user_id)
        await session.delete(membership)
        await session.flush()
        await self._audit(session, caller, AuditAction.delete, membership, clock, before=before)

    async def _ensure_profile_is_theirs(self, session: AsyncSession, caller: Caller, membership: Membership,
                                        field_name: str) -> None:
        """An admin writes a person's name or password only when every seat of that person (invited
        or accepted) is in a client the admin runs; the platform superuser, anyone's."""
        if membership.status != MembershipStatus.accepted:
            raise InvitationPending(field_name)
        if caller.user.is_superuser:
            return
        if membership.user.is_superuser:
            raise ProfileNotYours(field_name)
        clients = (await session.scalars(select(Membership.client_id).where(
            Membership.user_id == membership.user_id))).all()
        if any(caller.role_in(c) != Role.admin for c in clients):
            raise ProfileNotYours(field_name)

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
