from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from atiende.db import Base
from atiende.kit.columns import IdMixin, TimestampMixin, enum_type
from atiende.kit.unique import folded_column


class ChannelKind(StrEnum):
    whatsapp = "whatsapp"
    webchat = "webchat"
    telegram = "telegram"
    api = "api"


class Channel(IdMixin, TimestampMixin, Base):
    """A source of conversations. ``credentials`` are write-only secrets (never serialized
    back); ``settings`` are the non-secret parameters shown to admins."""

    __tablename__ = "channels"
    __table_args__ = (UniqueConstraint("client_id", "name_folded"),)
    __folded__ = "name"

    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    kind: Mapped[ChannelKind] = mapped_column(enum_type(ChannelKind))
    name: Mapped[str] = mapped_column(String(120))
    name_folded: Mapped[str] = folded_column()
    credentials: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
