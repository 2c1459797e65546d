"""Login, bearer tokens and the caller behind a token."""

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from atiende.auth.caller import Caller
from atiende.auth.events import announce_sessions_changed
from atiende.auth.models import AccessToken, LoginAttempt, Membership, MembershipStatus, User
from atiende.auth.passwords import hash_password, verify_password
from atiende.bus import EventBus
from atiende.clock import Clock
from atiende.errors import TooManyRequests, Unauthorized
from atiende.settings import Settings


class InvalidCredentials(Unauthorized):
    code = "auth.invalid_credentials"

    def __init__(self) -> None:
        super().__init__("Incorrect email or password")


class TooManyLoginAttempts(TooManyRequests):
    code = "auth.too_many_attempts"

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__("Too many failed logins; try again later",
                         extra={"retry_after": retry_after_seconds})


class WrongCurrentPassword(Unauthorized):
    code = "auth.wrong_current_password"

    def __init__(self) -> None:
        super().__init__("Your current password is not correct", field="current_password")


class InvalidToken(Unauthorized):
    code = "auth.invalid_token"

    def __init__(self) -> None:
        super().__init__("Not authenticated or session expired")


def normalize_email(email: str) -> str:
    return email.strip().lower()


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class AuthService:
    async def authenticate(self, session: AsyncSession, email: str, password: str, *,
                           clock: Clock, settings: Settings, address: str | None = None) -> User | None:
        """The user behind these credentials, or None after recording the failure.

        Failures are counted in the database (so the limits hold across processes), per source
        address and per email. An address with too many failures is refused whatever it tries. An
        email with too many failures is paused only for addresses that have failed too: its owner,
        typing the right password from a clean address, still gets in, so nobody can lock another
        person out. The caller must commit even on failure, which is why this returns None.
        """
        email = normalize_email(email)
        await self._check_limits(session, email, address, clock=clock, settings=settings)
        user = await session.scalar(select(User).where(User.email == email))
        if not verify_password(password, user.password_hash if user else None) or not user or not user.active:
            await self.record_failure(session, email, address, clock=clock)
            return None
        await session.execute(delete(LoginAttempt).where(LoginAttempt.email == email))
        return user

    async def _check_limits(self, session: AsyncSession, email: str, address: str | None, *,
                            clock: Clock, settings: Settings) -> None:
        window_start = clock.now() - timedelta(minutes=settings.login_failure_window_minutes)
        retry_after = settings.login_failure_window_minutes * 60
        from_address = 0
        if address:
            from_address = await session.scalar(select(func.count()).where(
                LoginAttempt.address == address, LoginAttempt.at >= window_start)) or 0
            if from_address >= settings.login_max_failures_per_address:
                raise TooManyLoginAttempts(retry_after)
        for_email = await session.scalar(select(func.count()).where(
            LoginAttempt.email == email, LoginAttempt.at >= window_start)) or 0
        if for_email >= settings.login_max_failures and (from_address > 0 or not address):
            raise TooManyLoginAttempts(retry_after)

    async def record_failure(self, session: AsyncSession, email: str, address: str | None, *, clock: Clock) -> None:
        session.add(LoginAttempt(email=normalize_email(email), address=(address or None) and address[:64],
                                 at=clock.now()))
        await session.flush()

    async def issue_token(self, session: AsyncSession, user: User, *, clock: Clock, settings: Settings) -> str:
        token = secrets.token_urlsafe(32)
        now = clock.now()
        session.add(AccessToken(user_id=user.id, token_hash=_digest(token), created_at=now,
                                expires_at=now + timedelta(minutes=settings.token_ttl_minutes)))
        await session.flush()
        return token

    async def revoke_token(self, session: AsyncSession, token: str, *, bus: EventBus | None = None) -> None:
        """Logs this session out; sockets opened with the token close (they check again after commit)."""
        user_id = await session.scalar(select(AccessToken.user_id).where(AccessToken.token_hash == _digest(token)))
        await session.execute(delete(AccessToken).where(AccessToken.token_hash == _digest(token)))
        if user_id is not None:
            announce_sessions_changed(session, bus, user_id)

    async def caller_for_token(self, session: AsyncSession, token: str, *, clock: Clock) -> Caller:
        row = await session.execute(
            select(User).join(AccessToken, AccessToken.user_id == User.id)
            .where(AccessToken.token_hash == _digest(token), AccessToken.expires_at > clock.now()))
        user = row.scalar_one_or_none()
        if user is None or not user.active:
            raise InvalidToken()
        return await self.caller_for_user(session, user)

    async def caller_for_user(self, session: AsyncSession, user: User) -> Caller:
        """The user's accepted seats; an invitation not yet accepted opens nothing."""
        memberships = (await session.scalars(select(Membership).where(
            Membership.user_id == user.id, Membership.status == MembershipStatus.accepted))).all()
        return Caller(user=user, memberships={m.client_id: m for m in memberships})

    async def change_password(self, session: AsyncSession, user: User, current: str, new: str, *,
                              clock: Clock, settings: Settings, bus: EventBus | None,
                              keep_token: str | None = None, address: str | None = None) -> None:
        """The user's own change. A wrong current password counts as a failed login of that email
        (same limits), so a stolen session cannot guess it; every other session of the user ends."""
        await self._check_limits(session, user.email, address, clock=clock, settings=settings)
        if not verify_password(current, user.password_hash):
            await self.record_failure(session, user.email, address, clock=clock)
            raise WrongCurrentPassword()
        await self.set_password(session, user, new, bus=bus, keep_token=keep_token)

    async def set_password(self, session: AsyncSession, user: User, new: str, *, bus: EventBus | None,
                           keep_token: str | None = None) -> None:
        """Sets the password and ends the user's sessions (all but ``keep_token``, the one asking)."""
        user.password_hash = hash_password(new)
        await self.revoke_all(session, user.id, bus=bus, keep_token=keep_token)
        await session.flush()

    async def revoke_all(self, session: AsyncSession, user_id: int, *, bus: EventBus | None,
                         keep_token: str | None = None) -> None:
        """Ends every bearer token and console session of the user (but ``keep_token``)."""
        stmt = delete(AccessToken).where(AccessToken.user_id == user_id)
        if keep_token:
            stmt = stmt.where(AccessToken.token_hash != _digest(keep_token))
        await session.execute(stmt)
        announce_sessions_changed(session, bus, user_id)


auth_service = AuthService()
