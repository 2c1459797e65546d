"""Login, bearer tokens and the caller behind a token."""

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from atiende.auth.caller import Caller
from atiende.auth.models import AccessToken, LoginAttempt, Membership, User
from atiende.auth.passwords import hash_password, verify_password
from atiende.clock import Clock
from atiende.errors import TooManyRequests, Unauthorized
from atiende.settings import Settings


class InvalidCredentials(Unauthorized):
    def __init__(self) -> None:
        super().__init__("Incorrect email or password")


class TooManyLoginAttempts(TooManyRequests):
    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__("Too many failed logins; try again later",
                         extra={"retry_after": retry_after_seconds})


class InvalidToken(Unauthorized):
    def __init__(self) -> None:
        super().__init__("Not authenticated or session expired")


def normalize_email(email: str) -> str:
    return email.strip().lower()


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class AuthService:
    async def authenticate(self, session: AsyncSession, email: str, password: str, *,
                           clock: Clock, settings: Settings) -> User | None:
        """The user behind these credentials, or None after recording the failure.

        Failures are counted per email in the database (so the limit holds across processes);
        the caller must commit even on failure, which is why this returns None instead of raising.
        """
        email = normalize_email(email)
        now = clock.now()
        window_start = now - timedelta(minutes=settings.login_failure_window_minutes)
        failures = await session.scalar(
            select(func.count()).where(LoginAttempt.email == email, LoginAttempt.at >= window_start))
        if (failures or 0) >= settings.login_max_failures:
            raise TooManyLoginAttempts(settings.login_failure_window_minutes * 60)
        user = await session.scalar(select(User).where(User.email == email))
        if not verify_password(password, user.password_hash if user else None) or not user or not user.active:
            session.add(LoginAttempt(email=email, at=now))
            await session.flush()
            return None
        await session.execute(delete(LoginAttempt).where(LoginAttempt.email == email))
        return user

    async def issue_token(self, session: AsyncSession, user: User, *, clock: Clock, settings: Settings) -> str:
        token = secrets.token_urlsafe(32)
        now = clock.now()
        session.add(AccessToken(user_id=user.id, token_hash=_digest(token), created_at=now,
                                expires_at=now + timedelta(minutes=settings.token_ttl_minutes)))
        await session.flush()
        return token

    async def revoke_token(self, session: AsyncSession, token: str) -> None:
        await session.execute(delete(AccessToken).where(AccessToken.token_hash == _digest(token)))

    async def caller_for_token(self, session: AsyncSession, token: str, *, clock: Clock) -> Caller:
        row = await session.execute(
            select(User).join(AccessToken, AccessToken.user_id == User.id)
            .where(AccessToken.token_hash == _digest(token), AccessToken.expires_at > clock.now()))
        user = row.scalar_one_or_none()
        if user is None or not user.active:
            raise InvalidToken()
        return await self.caller_for_user(session, user)

    async def caller_for_user(self, session: AsyncSession, user: User) -> Caller:
        memberships = (await session.scalars(select(Membership).where(Membership.user_id == user.id))).all()
        return Caller(user=user, memberships={m.client_id: m for m in memberships})

    async def change_password(self, session: AsyncSession, user: User, current: str, new: str) -> None:
        if not verify_password(current, user.password_hash):
            raise InvalidCredentials()
        user.password_hash = hash_password(new)
        await session.flush()


auth_service = AuthService()
