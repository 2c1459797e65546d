"""Tables of the WhatsApp channel: the synced template list, and which outbound messages are
template sends (and with which components)."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from atiende.db import Base, UTCDateTime
from atiende.kit.columns import IdMixin


class WhatsAppTemplate(IdMixin, Base):
    """One approved-or-not template of a channel's business account, as last synced from Meta."""

    __tablename__ = "whatsapp_templates"
    __table_args__ = (UniqueConstraint("channel_id", "name", "language"),)

    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(512))
    language: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(40))
    category: Mapped[str] = mapped_column(String(40))
    components: Mapped[list[Any]] = mapped_column(JSON, default=list)
    provider_id: Mapped[str] = mapped_column(String(64), default="")
    synced_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WhatsAppTemplateMessage(Base):
    """Marks an outbound message as a template send: the adapter sends these components instead
    of free text (allowed outside the 24-hour window)."""

    __tablename__ = "whatsapp_template_messages"

    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(512))
    language: Mapped[str] = mapped_column(String(20))
    components: Mapped[list[Any]] = mapped_column(JSON, default=list)
