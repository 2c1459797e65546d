"""Tables the reports need beyond the engine's own rows: SLA policies, presence history, and the
rollups (one fact row per conversation and per assignment, kept fresh through a dirty list)."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from atiende.auth.models import Presence
from atiende.conversations.models import CloseReason, ConversationStatus
from atiende.db import Base, UTCDateTime
from atiende.kit.columns import IdMixin, enum_type

DEFAULT_QUEUE_OPTIMAL_SECONDS = 60
DEFAULT_QUEUE_LOW_SECONDS = 180
DEFAULT_FIRST_RESPONSE_OPTIMAL_SECONDS = 120
DEFAULT_FIRST_RESPONSE_LOW_SECONDS = 300
DEFAULT_RESOLUTION_HOURS = 24


class SlaPolicy(IdMixin, Base):
    """Service targets of one campaign, or the client's default when ``campaign_id`` is None
    (Hibot's *SLA Óptimo* / *SLA Bajo*): a conversation within ``*_optimal_seconds`` meets the
    target; past ``*_low_seconds`` it breached it."""

    __tablename__ = "sla_policies"
    __table_args__ = (UniqueConstraint("client_id", "campaign_id"),)

    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    queue_optimal_seconds: Mapped[int] = mapped_column(Integer, default=DEFAULT_QUEUE_OPTIMAL_SECONDS)
    queue_low_seconds: Mapped[int] = mapped_column(Integer, default=DEFAULT_QUEUE_LOW_SECONDS)
    first_response_optimal_seconds: Mapped[int] = mapped_column(Integer,
                                                                default=DEFAULT_FIRST_RESPONSE_OPTIMAL_SECONDS)
    first_response_low_seconds: Mapped[int] = mapped_column(Integer, default=DEFAULT_FIRST_RESPONSE_LOW_SECONDS)
    resolution_hours: Mapped[int] = mapped_column(Integer, default=DEFAULT_RESOLUTION_HOURS)
    business_hours: Mapped[bool] = mapped_column(Boolean, default=False)


class PresenceSpan(IdMixin, Base):
    """A finished stretch of one presence state of an agent; the current one is on the membership
    (``presence`` since ``presence_changed_at``)."""

    __tablename__ = "presence_spans"
    __table_args__ = (Index("ix_presence_spans_member_time", "membership_id", "started_at"),)

    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    membership_id: Mapped[int] = mapped_column(ForeignKey("memberships.id", ondelete="CASCADE"))
    presence: Mapped[Presence] = mapped_column(enum_type(Presence))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SlaTarget(StrEnum):
    queue = "queue"
    first_response = "first_response"


class SlaBreach(IdMixin, Base):
    """A conversation passed a low threshold of its SLA policy (announced once on the bus)."""

    __tablename__ = "sla_breaches"
    __table_args__ = (UniqueConstraint("conversation_id", "target"),
                      Index("ix_sla_breaches_client_time", "client_id", "breached_at"))

    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    target: Mapped[SlaTarget] = mapped_column(enum_type(SlaTarget))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    breached_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ConversationFact(Base):
    """One conversation as the reports count it: every metric of docs/metrics.md computed once
    (``reports.rollups``) from its raw rows. Times in seconds, ``*_bs`` in business time (the
    campaign schedule's open time); None where the metric does not apply (never assigned…)."""

    __tablename__ = "report_conversation_facts"
    __table_args__ = (Index("ix_report_conversation_facts_client_opened", "client_id", "opened_at"),)

    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"),
                                                 primary_key=True, autoincrement=False)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    campaign_id: Mapped[int] = mapped_column(Integer)
    project_id: Mapped[int] = mapped_column(Integer)
    channel_id: Mapped[int] = mapped_column(Integer)
    contact_id: Mapped[int] = mapped_column(Integer)
    status: Mapped[ConversationStatus] = mapped_column(enum_type(ConversationStatus))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Seconds since the epoch // 900: every zone's offset is a multiple of 15 minutes, so a slot
    # lies in one local hour of any zone (timeseries and heatmap group by it).
    opened_slot: Mapped[int] = mapped_column(Integer)
    # The local day of opening in the client's zone (``date.toordinal()``): the duration buckets' day.
    opened_day: Mapped[int | None] = mapped_column(Integer)
    typification_id: Mapped[int | None] = mapped_column(Integer)
    funnel_stage_id: Mapped[int | None] = mapped_column(Integer)
    close_reason: Mapped[CloseReason | None] = mapped_column(enum_type(CloseReason))
    last_agent_id: Mapped[int | None] = mapped_column(Integer)
    first_reply_by: Mapped[int | None] = mapped_column(Integer)
    answered: Mapped[bool] = mapped_column(Boolean)
    closed: Mapped[bool] = mapped_column(Boolean)
    offered: Mapped[bool] = mapped_column(Boolean)
    abandoned: Mapped[bool] = mapped_column(Boolean)
    surveyed: Mapped[bool] = mapped_column(Boolean)
    responded: Mapped[bool] = mapped_column(Boolean)
    bot_started: Mapped[bool] = mapped_column(Boolean)
    bot_resolved: Mapped[bool] = mapped_column(Boolean)
    bot_handoff: Mapped[bool] = mapped_column(Boolean)
    transfers: Mapped[int] = mapped_column(Integer)
    rating_sum: Mapped[int] = mapped_column(Integer)
    rating_count: Mapped[int] = mapped_column(Integer)
    satisfied_count: Mapped[int] = mapped_column(Integer)
    queue_wait_s: Mapped[float | None] = mapped_column(Float)
    queue_wait_bs: Mapped[float | None] = mapped_column(Float)
    first_response_s: Mapped[float | None] = mapped_column(Float)
    first_response_bs: Mapped[float | None] = mapped_column(Float)
    resolution_s: Mapped[float | None] = mapped_column(Float)
    resolution_bs: Mapped[float | None] = mapped_column(Float)


class AssignmentFact(Base):
    """One assignment stretch of a conversation (in order): tiempo de gestión, transfers, and the
    agent's busy time (``started_s``/``ended_s``: seconds since the epoch). Carries its
    conversation's cohort columns, so a report filters it without a join."""

    __tablename__ = "report_assignment_facts"
    __table_args__ = (Index("ix_report_assignment_facts_member", "membership_id", "conversation_id"),
                      Index("ix_report_assignment_facts_client_opened", "client_id", "opened_at"),
                      Index("ix_report_assignment_facts_client_started", "client_id", "started_s"))

    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("report_conversation_facts.conversation_id", ondelete="CASCADE"), primary_key=True,
        autoincrement=False)
    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    client_id: Mapped[int] = mapped_column(Integer)
    campaign_id: Mapped[int] = mapped_column(Integer)
    project_id: Mapped[int] = mapped_column(Integer)
    channel_id: Mapped[int] = mapped_column(Integer)
    typification_id: Mapped[int | None] = mapped_column(Integer)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())  # the conversation's
    membership_id: Mapped[int] = mapped_column(Integer)
    started_s: Mapped[float] = mapped_column(Float)
    ended_s: Mapped[float | None] = mapped_column(Float)  # None while the assignment runs
    handle_s: Mapped[float | None] = mapped_column(Float)
    handle_bs: Mapped[float | None] = mapped_column(Float)
    transfer_in: Mapped[bool] = mapped_column(Boolean)  # the previous stretch ended in a transfer
    transfer_out: Mapped[bool] = mapped_column(Boolean)


class HourCount(Base):
    """The conversations opened in one UTC hour, per campaign, channel and final typification
    (0: none): the counts of the volume, the flags and the service level, recomputed from the
    facts of that hour whenever one of its conversations changes (``reports.buckets``)."""

    __tablename__ = "report_hour_counts"

    client_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    hour: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)  # epoch seconds // 3600
    campaign_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    channel_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    typification_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    project_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    n: Mapped[int] = mapped_column(Integer)
    first_id: Mapped[int] = mapped_column(Integer)  # the smallest conversation id (the tables' tie order)
    within: Mapped[int] = mapped_column(Integer)  # offered and assigned within the SLA's optimal queue wait
    answered: Mapped[int] = mapped_column(Integer)
    closed: Mapped[int] = mapped_column(Integer)
    offered: Mapped[int] = mapped_column(Integer)
    abandoned: Mapped[int] = mapped_column(Integer)
    surveyed: Mapped[int] = mapped_column(Integer)
    responded: Mapped[int] = mapped_column(Integer)
    bot_started: Mapped[int] = mapped_column(Integer)
    bot_resolved: Mapped[int] = mapped_column(Integer)
    bot_handoff: Mapped[int] = mapped_column(Integer)
    rating_sum: Mapped[int] = mapped_column(Integer)
    rating_count: Mapped[int] = mapped_column(Integer)


class DayDuration(Base):
    """How many of the conversations (or assignments) opened on one local day of the client took
    exactly ``seconds`` whole seconds for one time metric, and their exact sum: a median or p90
    over any range of days is read from these counts per distinct value (``reports.buckets``)."""

    __tablename__ = "report_day_durations"

    client_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    day: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)  # date.toordinal()
    metric: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seconds: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    n: Mapped[int] = mapped_column(Integer)
    total: Mapped[float] = mapped_column(Float)


class DirtyConversation(Base):
    """A conversation whose facts must be recomputed: written in the transaction that changed it
    (``reports.dirty``), removed by the refresh that recomputed it (``reports.rollups``)."""

    __tablename__ = "report_dirty_conversations"
    __table_args__ = (Index("ix_report_dirty_conversations_client", "client_id"),)

    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"),
                                                 primary_key=True, autoincrement=False)
    client_id: Mapped[int] = mapped_column(Integer)
    marked_at: Mapped[datetime] = mapped_column(UTCDateTime())
