from datetime import date, time
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from atiende.db import Base
from atiende.kit.columns import IdMixin, TimestampMixin, enum_type
from atiende.kit.unique import folded_column


class Schedule(IdMixin, TimestampMixin, Base):
    """Business hours: weekly bands in one IANA time zone, minus holidays."""

    __tablename__ = "schedules"
    __table_args__ = (UniqueConstraint("client_id", "name_folded"),)
    __folded__ = "name"

    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    name_folded: Mapped[str] = folded_column()
    timezone: Mapped[str] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    bands: Mapped[list["TimeBand"]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="(TimeBand.weekday, TimeBand.start)")
    holidays: Mapped[list["Holiday"]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="Holiday.day")


class TimeBand(IdMixin, Base):
    """Open from ``start`` to ``end`` on ``weekday`` (0 = Monday). ``end`` 00:00 means midnight;
    an ``overnight`` band ends at ``end`` on the next day."""

    __tablename__ = "time_bands"

    schedule_id: Mapped[int] = mapped_column(ForeignKey("schedules.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int] = mapped_column(Integer)
    start: Mapped[time] = mapped_column(Time)
    end: Mapped[time] = mapped_column(Time)
    overnight: Mapped[bool] = mapped_column(Boolean, default=False)


class Holiday(IdMixin, Base):
    __tablename__ = "holidays"
    __table_args__ = (UniqueConstraint("schedule_id", "day"),)

    schedule_id: Mapped[int] = mapped_column(ForeignKey("schedules.id", ondelete="CASCADE"), index=True)
    day: Mapped[date] = mapped_column(Date)
    name: Mapped[str] = mapped_column(String(120), default="")


class Typification(IdMixin, TimestampMixin, Base):
    """A disposition code; ``parent_id`` makes the client's typifications a tree."""

    __tablename__ = "typifications"
    __table_args__ = (UniqueConstraint("client_id", "code_folded"),)
    __folded__ = "code"

    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("typifications.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    code: Mapped[str] = mapped_column(String(60))
    code_folded: Mapped[str] = folded_column()
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class FieldType(StrEnum):
    text = "text"
    number = "number"
    date = "date"
    boolean = "boolean"
    select = "select"
    email = "email"
    phone = "phone"


class FieldDefinition(IdMixin, TimestampMixin, Base):
    """Extra data agents fill in on a conversation. ``validation`` holds type-specific limits
    (min/max length, min/max value, pattern); ``options`` the choices of a select."""

    __tablename__ = "field_definitions"
    __table_args__ = (UniqueConstraint("client_id", "key_folded"),)
    __folded__ = "key"

    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(60))
    key_folded: Mapped[str] = folded_column()
    label: Mapped[str] = mapped_column(String(120))
    type: Mapped[FieldType] = mapped_column(enum_type(FieldType))
    options: Mapped[list[Any]] = mapped_column(JSON, default=list)
    validation: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Funnel(IdMixin, TimestampMixin, Base):
    __tablename__ = "funnels"
    __table_args__ = (UniqueConstraint("client_id", "name_folded"),)
    __folded__ = "name"

    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    name_folded: Mapped[str] = folded_column()
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    stages: Mapped[list["FunnelStage"]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="FunnelStage.position")


class FunnelStage(IdMixin, Base):
    __tablename__ = "funnel_stages"

    funnel_id: Mapped[int] = mapped_column(ForeignKey("funnels.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(120))


class QuestionKind(StrEnum):
    rating = "rating"
    yes_no = "yes_no"
    text = "text"


class SurveyBot(IdMixin, TimestampMixin, Base):
    __tablename__ = "survey_bots"
    __table_args__ = (UniqueConstraint("client_id", "name_folded"),)
    __folded__ = "name"

    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    name_folded: Mapped[str] = folded_column()
    closing_message: Mapped[str] = mapped_column(Text, default="")
    timeout_minutes: Mapped[int] = mapped_column(Integer, default=30)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    questions: Mapped[list["SurveyQuestion"]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="SurveyQuestion.position")


class SurveyQuestion(IdMixin, Base):
    __tablename__ = "survey_questions"

    survey_bot_id: Mapped[int] = mapped_column(ForeignKey("survey_bots.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[QuestionKind] = mapped_column(enum_type(QuestionKind))
    text: Mapped[str] = mapped_column(Text)
