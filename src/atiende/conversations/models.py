"""Tables of the conversation engine.

Invariants the schema itself guarantees (so no race can break them):
- one open conversation per contact and campaign (partial unique index on non-closed rows);
- one open assignment per conversation (partial unique index on rows without ``ended_at``);
- a provider message stored once per channel and direction (unique ``external_id``);
- an inbound delivery accepted once per channel (unique ``external_id`` in ``inbound_deliveries``).
"""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    insert,
    JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from atiende.catalog.models import QuestionKind
from atiende.db import Base, UTCDateTime
from atiende.kit.columns import IdMixin, enum_type


class ConversationStatus(StrEnum):
    queued = "queued"
    assigned = "assigned"
    survey = "survey"
    bot = "bot"  # the campaign's attention bot holds it (bots/flow.py)
    closed = "closed"


class CloseReason(StrEnum):
    agent = "agent"
    supervisor = "supervisor"
    inactivity = "inactivity"
    out_of_hours = "out_of_hours"
    bot = "bot"  # the attention bot resolved it alone


class SurveyOutcome(StrEnum):
    completed = "completed"
    timed_out = "timed_out"


class Direction(StrEnum):
    inbound = "in"
    outbound = "out"


class SenderKind(StrEnum):
    contact = "contact"
    agent = "agent"
    bot = "bot"
    system = "system"


class DeliveryStatus(StrEnum):
    """Outbound only, in order; a status never moves back (``failed`` only before delivery)."""

    queued = "queued"
    sent = "sent"
    delivered = "delivered"
    read = "read"
    failed = "failed"


DELIVERY_RANK = {DeliveryStatus.queued: 0, DeliveryStatus.sent: 1, DeliveryStatus.delivered: 2,
                 DeliveryStatus.read: 3, DeliveryStatus.failed: 1}


class EndReason(StrEnum):
    """Why an agent's stretch on a conversation ended."""

    closed = "closed"
    inactivity = "inactivity"
    transferred = "transferred"
    mass_transfer = "mass_transfer"
    requeued = "requeued"  # the agent went offline or left the campaign


class BotHandoffReason(StrEnum):
    """Why the attention bot gave the conversation to the agents."""

    keyword = "keyword"  # the customer asked for a person
    menu = "menu"  # the customer chose "hablar con un asesor"
    misunderstood = "misunderstood"  # the bot failed to understand too many times
    out_of_hours = "out_of_hours"  # the bot does not answer outside the schedule
    bot_unavailable = "bot_unavailable"  # the bot was deactivated or removed meanwhile
    supervisor = "supervisor"  # a supervisor took it from the bot on the board


class Contact(IdMixin, Base):
    """A customer of one client. The phone is optional: web visitors and WhatsApp users known only
    by a business-scoped id have none; identities per channel live in ``ContactIdentity``."""

    __tablename__ = "contacts"
    __table_args__ = (
        # One contact per phone in a client: import, merge and routing never make twins.
        Index("uq_contacts_client_phone", "client_id", "phone", unique=True,
              postgresql_where=text("phone IS NOT NULL"), sqlite_where=text("phone IS NOT NULL")),
        Index("ix_contacts_client_document", "client_id", "document_id"),
        Index("ix_contacts_client_email", "client_id", "email"),
    )

    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    phone: Mapped[str | None] = mapped_column(String(20))  # E.164
    email: Mapped[str | None] = mapped_column(String(200))
    document_id: Mapped[str | None] = mapped_column(String(40))
    # Custom attributes, keyed by the client's field definition names (contacts/service.py types them).
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    exclusive_agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("memberships.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # personal data removed (erasure)

    # Loaded only where asked for (sending to the contact): loading it with every contact cost a
    # statement each time a conversation was read, two per routed batch.
    identities: Mapped[list["ContactIdentity"]] = relationship(lazy="raise", cascade="all, delete-orphan",
                                                                passive_deletes=True)

    def external_id_on(self, channel_id: int) -> str | None:
        """The contact's id on the channel; the query must have loaded ``identities``."""
        return next((i.external_id for i in self.identities if i.channel_id == channel_id), None)


class ContactIdentity(IdMixin, Base):
    """How one channel knows the contact (a phone, a WhatsApp BSUID, a widget visitor id...)."""

    __tablename__ = "contact_identities"
    __table_args__ = (UniqueConstraint("channel_id", "external_id"),)

    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(200))


class Conversation(IdMixin, Base):
    __tablename__ = "conversations"
    __table_args__ = (
        Index("uq_conversations_open_contact", "campaign_id", "contact_id", unique=True,
              postgresql_where=text("status != 'closed'"), sqlite_where=text("status != 'closed'")),
        Index("ix_conversations_queue", "campaign_id", "status", "queued_at", "id"),
        Index("ix_conversations_assignee", "assigned_membership_id", "status"),
        Index("ix_conversations_client_status", "client_id", "status"),
        Index("ix_conversations_client_opened", "client_id", "opened_at"),
    )

    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"), index=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    status: Mapped[ConversationStatus] = mapped_column(enum_type(ConversationStatus))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # arrival order in the queue
    assigned_membership_id: Mapped[int | None] = mapped_column(ForeignKey("memberships.id", ondelete="SET NULL"))
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_inbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_outbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # last agent or bot message
    agent_replied: Mapped[bool] = mapped_column(Boolean, default=False)
    out_of_hours_notified: Mapped[bool] = mapped_column(Boolean, default=False)
    funnel_stage_id: Mapped[int | None] = mapped_column(ForeignKey("funnel_stages.id", ondelete="SET NULL"))
    field_values: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    close_reason: Mapped[CloseReason | None] = mapped_column(enum_type(CloseReason))
    closed_by_membership_id: Mapped[int | None] = mapped_column(ForeignKey("memberships.id", ondelete="SET NULL"))
    typification_id: Mapped[int | None] = mapped_column(ForeignKey("typifications.id", ondelete="SET NULL"))
    survey_position: Mapped[int | None] = mapped_column(Integer)  # question being asked
    survey_reasked: Mapped[bool] = mapped_column(Boolean, default=False)
    survey_outcome: Mapped[SurveyOutcome | None] = mapped_column(enum_type(SurveyOutcome))
    bot_state: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the attention bot's memory (bots/flow.py)
    bot_handoff_reason: Mapped[BotHandoffReason | None] = mapped_column(enum_type(BotHandoffReason))

    contact: Mapped[Contact] = relationship(lazy="joined", innerjoin=True)

    @property
    def is_open(self) -> bool:
        return self.status != ConversationStatus.closed


class Message(IdMixin, Base):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("channel_id", "direction", "external_id"),
        Index("ix_messages_conversation", "conversation_id", "id"),
    )

    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    direction: Mapped[Direction] = mapped_column(enum_type(Direction))
    sender: Mapped[SenderKind] = mapped_column(enum_type(SenderKind))
    author_membership_id: Mapped[int | None] = mapped_column(ForeignKey("memberships.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text, default="")
    attachments: Mapped[list[Any]] = mapped_column(JSON, default=list)
    # Options the customer may tap (a bot's menu): buttons where the channel has them; ``text``
    # always carries them numbered too, for channels and readers without buttons.
    choices: Mapped[list[str] | None] = mapped_column(JSON)
    external_id: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[DeliveryStatus | None] = mapped_column(enum_type(DeliveryStatus))  # outbound only
    failure_reason: Mapped[str | None] = mapped_column(String(500))
    delivery_attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())  # stored by Atiende
    provider_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # the channel's own timestamp
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Assignment(IdMixin, Base):
    """One agent's stretch on a conversation."""

    __tablename__ = "assignments"
    __table_args__ = (
        Index("uq_assignments_open", "conversation_id", unique=True,
              postgresql_where=text("ended_at IS NULL"), sqlite_where=text("ended_at IS NULL")),
        Index("ix_assignments_open_load", "campaign_id", "membership_id",
              postgresql_where=text("ended_at IS NULL"), sqlite_where=text("ended_at IS NULL")),
        Index("ix_assignments_conversation", "conversation_id", "started_at"),
    )

    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    membership_id: Mapped[int] = mapped_column(ForeignKey("memberships.id", ondelete="CASCADE"), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    end_reason: Mapped[EndReason | None] = mapped_column(enum_type(EndReason))
    typification_id: Mapped[int | None] = mapped_column(ForeignKey("typifications.id", ondelete="SET NULL"))


class CampaignAgent(Base):
    """An agent working a campaign; ``capacity`` None means the client's default."""

    __tablename__ = "campaign_agents"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    membership_id: Mapped[int] = mapped_column(ForeignKey("memberships.id", ondelete="CASCADE"), primary_key=True,
                                               index=True)
    capacity: Mapped[int | None] = mapped_column(Integer)
    last_assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class DispatchState(Base):
    """Per campaign: the row every assignment decision locks first (so decisions for one campaign
    never interleave across processes) and the Round Robin position, durable across restarts."""

    __tablename__ = "dispatch_states"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    last_membership_id: Mapped[int | None] = mapped_column(Integer)


class SurveyResponse(IdMixin, Base):
    __tablename__ = "survey_responses"
    __table_args__ = (UniqueConstraint("conversation_id", "position"),)

    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    question_id: Mapped[int | None] = mapped_column(ForeignKey("survey_questions.id", ondelete="SET NULL"))
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[QuestionKind] = mapped_column(enum_type(QuestionKind))
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text, default="")  # what the contact wrote
    value: Mapped[Any] = mapped_column(JSON, nullable=True)  # 1-5, true/false or the text; None if invalid
    valid: Mapped[bool] = mapped_column(Boolean, default=True)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime())


class DeliveryState(StrEnum):
    pending = "pending"  # accepted, not routed yet (or waiting to be retried)
    routed = "routed"  # stored as a message of a conversation
    failed = "failed"  # could not be routed (the error is kept; the payload too)


class InboundDelivery(IdMixin, Base):
    """A channel's inbound message as accepted by the webhook, before routing.

    The webhook only verifies, validates and inserts this row (unique per channel and provider id,
    so a redelivery is recognised at once), then answers; the router turns pending rows into
    contacts, conversations and messages in batches. Rows are kept after routing: they answer
    later duplicates with the ids, and a failed one keeps its payload and error for a retry."""

    __tablename__ = "inbound_deliveries"
    __table_args__ = (
        UniqueConstraint("channel_id", "external_id"),
        Index("ix_inbound_deliveries_pending", "due_at", "id",
              postgresql_where=text("state = 'pending'"), sqlite_where=text("state = 'pending'")),
    )

    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)  # the normalised InboundMessage
    state: Mapped[DeliveryState] = mapped_column(enum_type(DeliveryState), default=DeliveryState.pending)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())  # when the router may take it (retries back off)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id", ondelete="SET NULL"))


# Messages inserted as rows, not ORM objects, by the paths that write many at once (the inbound
# batch, the bot's first turns): the unit of work cost more than the insert. Their ids, in order.
INSERT_MESSAGE_ROWS = insert(Message.__table__).returning(Message.__table__.c.id, sort_by_parameter_order=True)
