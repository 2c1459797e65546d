from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from atiende.db import Base, UTCDateTime
from atiende.kit.columns import IdMixin, TimestampMixin, enum_type, utcnow
from atiende.tenancy.models import Client


class Role(StrEnum):
    admin = "admin"
    supervisor = "supervisor"
    agent = "agent"


class Presence(StrEnum):
    online = "online"
    away = "away"
    offline = "offline"


class MembershipStatus(StrEnum):
    """An admin's seat for an existing person is an invitation until that person accepts it."""

    invited = "invited"
    accepted = "accepted"


class User(IdMixin, TimestampMixin, Base):
    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(254), unique=True)
    full_name: Mapped[str] = mapped_column(String(120), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    is_superuser: Mapped[bool] = mapped_column(Boolean, default=False)
    locale: Mapped[str] = mapped_column(String(8), default="es")
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Membership(IdMixin, TimestampMixin, Base):
    """A user's seat in a client. While active it uses one of the plan's licenses."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "client_id"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(enum_type(Role))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[MembershipStatus] = mapped_column(enum_type(MembershipStatus), default=MembershipStatus.accepted,
                                                     server_default=MembershipStatus.accepted.value)
    presence: Mapped[Presence] = mapped_column(enum_type(Presence), default=Presence.offline)
    presence_changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped[User] = relationship(lazy="joined")
    client: Mapped[Client] = relationship(lazy="joined")


class AccessToken(IdMixin, Base):
    """Opaque bearer token; only its SHA-256 is stored so a database leak exposes no session."""

    __tablename__ = "access_tokens"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class LoginAttempt(IdMixin, Base):
    """Failed logins and password checks, kept in the database so the limits hold across processes.

    Counted per email and per source address (``address``: the client's IP as the app sees it)."""

    __tablename__ = "login_attempts"

    email: Mapped[str] = mapped_column(String(254), index=True)
    address: Mapped[str | None] = mapped_column(String(64), index=True, default=None)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
