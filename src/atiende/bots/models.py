"""Tables of attention bots: the bot (welcome, menu, messages), its knowledge base entries and the
questions it could not answer."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from atiende.db import Base, UTCDateTime
from atiende.kit.columns import IdMixin, TimestampMixin
from atiende.kit.unique import folded_column


class AttentionBot(IdMixin, TimestampMixin, Base):
    """A bot that answers a campaign's customers before an agent does. ``menu`` is the validated
    tree of ``bots.schemas.MenuOption`` (at most 10 options a level); ``revision`` grows with every
    change of the bot or its knowledge base, so a process knows when its cached matcher is stale."""

    __tablename__ = "attention_bots"
    __table_args__ = (UniqueConstraint("client_id", "name_folded"),)
    __folded__ = "name"

    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    name_folded: Mapped[str] = folded_column()
    welcome_message: Mapped[str] = mapped_column(Text, default="")
    fallback_message: Mapped[str] = mapped_column(Text, default="")
    handoff_message: Mapped[str] = mapped_column(Text, default="")
    menu: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    entries: Mapped[list["KnowledgeEntry"]] = relationship(
        lazy="raise", cascade="all, delete-orphan", passive_deletes=True, order_by="KnowledgeEntry.id")


class KnowledgeEntry(IdMixin, TimestampMixin, Base):
    """One answer of the knowledge base and the ways customers ask for it."""

    __tablename__ = "knowledge_entries"

    bot_id: Mapped[int] = mapped_column(ForeignKey("attention_bots.id", ondelete="CASCADE"), index=True)
    question: Mapped[str] = mapped_column(String(300))
    phrasings: Mapped[list[str]] = mapped_column(JSON, default=list)
    answer: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(500))
    buttons: Mapped[list[str]] = mapped_column(JSON, default=list)  # follow-up questions offered after it
    category: Mapped[str] = mapped_column(String(120), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class UnansweredQuestion(IdMixin, Base):
    """What customers asked a bot that it did not understand, one row per normalised text with a
    count, so an admin teaches the bot the most asked first (a new entry or a phrasing of one)."""

    __tablename__ = "bot_unanswered_questions"
    __table_args__ = (UniqueConstraint("bot_id", "key"),)

    bot_id: Mapped[int] = mapped_column(ForeignKey("attention_bots.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(300))  # the matcher's normal form: one row per way of asking
    text: Mapped[str] = mapped_column(String(500))  # the latest wording, as the customer wrote it
    count: Mapped[int] = mapped_column(Integer, default=1)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
