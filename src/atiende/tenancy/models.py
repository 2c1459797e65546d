from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from atiende.db import Base
from atiende.kit.columns import IdMixin, TimestampMixin
from atiende.kit.unique import folded_column


class Client(IdMixin, TimestampMixin, Base):
    """A tenant. Its plan caps licenses (active memberships) and history hours."""

    __tablename__ = "clients"
    __folded__ = "name"

    name: Mapped[str] = mapped_column(String(120))
    name_folded: Mapped[str] = folded_column(unique=True)
    plan_name: Mapped[str] = mapped_column(String(60), default="Estándar")
    plan_seats: Mapped[int] = mapped_column(Integer, default=10)
    plan_max_history_hours: Mapped[int] = mapped_column(Integer, default=72)
    default_agent_capacity: Mapped[int] = mapped_column(Integer, default=5)
    timezone: Mapped[str] = mapped_column(String(64), default="America/Bogota",
                                          server_default="America/Bogota")  # reports' days and hours
    # Phones written without "+country" are read in this region (ISO 3166, "CO"); None: only
    # international numbers are understood.
    phone_region: Mapped[str | None] = mapped_column(String(2))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Project(IdMixin, TimestampMixin, Base):
    __tablename__ = "projects"
    __table_args__ = (UniqueConstraint("client_id", "name_folded"),)
    __folded__ = "name"

    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    name_folded: Mapped[str] = folded_column()
    description: Mapped[str] = mapped_column(String(500), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
