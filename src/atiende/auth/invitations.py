"""My invitations: seats an admin offered me, which open their client only once I accept them."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from atiende.auth.events import announce_sessions_changed
from atiende.auth.models import Membership, MembershipStatus, User
from atiende.bus import EventBus
from atiende.errors import NotFound


class InvitationNotFound(NotFound):
    code = "invitation.not_found"

    def __init__(self) -> None:
        super().__init__("Invitation not found", field="membership_id")


class InvitationService:
    async def pending(self, session: AsyncSession, user: User) -> list[Membership]:
        rows = await session.scalars(select(Membership).where(
            Membership.user_id == user.id, Membership.status == MembershipStatus.invited).order_by(Membership.id))
        return list(rows.all())

    async def _mine(self, session: AsyncSession, user: User, membership_id: int) -> Membership:
        membership = await session.scalar(select(Membership).where(
            Membership.id == membership_id, Membership.user_id == user.id,
            Membership.status == MembershipStatus.invited))
        if membership is None:
            raise InvitationNotFound()
        return membership

    async def accept(self, session: AsyncSession, user: User, membership_id: int, *,
                     bus: EventBus | None = None) -> Membership:
        membership = await self._mine(session, user, membership_id)
        membership.status = MembershipStatus.accepted
        await session.flush()
        announce_sessions_changed(session, bus, user.id)  # open pages pick up the new client
        return membership

    async def decline(self, session: AsyncSession, user: User, membership_id: int) -> None:
        """Declining removes the seat (and frees its license); the admin may invite again."""
        await session.delete(await self._mine(session, user, membership_id))
        await session.flush()


invitation_service = InvitationService()
