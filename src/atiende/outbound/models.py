"""Tables of the sends (envíos) of a campaign: the send, its recipients (the ledger) and the
per-channel pacing row shared by every worker process."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from atiende.db import Base, UTCDateTime
from atiende.kit.columns import IdMixin, enum_type


class SendStatus(StrEnum):
    draft = "draft"            # borrador
    scheduled = "scheduled"    # programado
    sending = "sending"        # enviando (also while waiting for the window or the daily limit)
    paused = "paused"          # pausado (by a user, or by Meta's spam limit / a burst of failures)
    completed = "completed"    # completado
    cancelled = "cancelled"    # cancelado


class RecipientState(StrEnum):
    pending = "pending"        # not tried yet (or to be tried again: nothing reached Meta)
    claimed = "claimed"        # taken by a worker, the call not made yet
    sending = "sending"        # the call is being made: recorded before it starts
    sent = "sent"
    delivered = "delivered"
    read = "read"
    failed = "failed"
    skipped = "skipped"        # omitido: invalid phone, duplicate, opted out, cancelled, never wrote
    uncertain = "uncertain"    # incierto: the call started and its outcome is unknown; never retried


class SkipReason(StrEnum):
    invalid_phone = "invalid_phone"
    duplicate = "duplicate"
    opted_out = "opted_out"
    cancelled = "cancelled"
    no_conversation = "no_conversation"  # a Telegram or API send: the contact never wrote on that channel


# States in which a recipient may have received the message (for the daily limit and the report).
ATTEMPTED = (RecipientState.sending, RecipientState.sent, RecipientState.delivered, RecipientState.read,
             RecipientState.uncertain)
STATE_RANK = {RecipientState.sent: 1, RecipientState.delivered: 2, RecipientState.read: 3}


class OutboundSend(IdMixin, Base):
    __tablename__ = "outbound_sends"

    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="RESTRICT"))
    name: Mapped[str] = mapped_column(String(120))
    status: Mapped[SendStatus] = mapped_column(enum_type(SendStatus), default=SendStatus.draft)
    # The audience: the file's columns (after the phone and name columns), which become variables.
    columns: Mapped[list[str]] = mapped_column(JSON, default=list)
    phone_column: Mapped[str] = mapped_column(String(120), default="")
    name_column: Mapped[str | None] = mapped_column(String(120))
    # The message on WhatsApp: an approved template of the channel and where each parameter comes from.
    template_name: Mapped[str | None] = mapped_column(String(512))
    template_language: Mapped[str | None] = mapped_column(String(20))
    mapping: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Or, on a Telegram or API channel (no templates there): plain text with {column} placeholders.
    text: Mapped[str | None] = mapped_column(Text)
    # The programme.
    start_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    respect_schedule: Mapped[bool] = mapped_column(Boolean, default=True)
    rate_per_second: Mapped[int] = mapped_column(Integer, default=80)
    max_consecutive_failures: Mapped[int] = mapped_column(Integer, default=50)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    # Why it is paused, or what it waits for while sending (the window, the daily limit).
    note: Mapped[str | None] = mapped_column(Text)
    hold_until: Mapped[datetime | None] = mapped_column(UTCDateTime())  # Meta's throughput back-off
    created_by_membership_id: Mapped[int | None] = mapped_column(ForeignKey("memberships.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class OutboundRecipient(IdMixin, Base):
    """One row of the audience: the ledger entry that makes every recipient get at most one message."""

    __tablename__ = "outbound_recipients"
    __table_args__ = (
        Index("ix_outbound_recipients_send_state", "send_id", "state", "due_at"),
        Index("ix_outbound_recipients_channel_attempted", "channel_id", "attempted_at"),
        Index("ix_outbound_recipients_contact", "contact_id", "replied_at"),
        Index("ix_outbound_recipients_wamid", "wamid"),
    )

    send_id: Mapped[int] = mapped_column(ForeignKey("outbound_sends.id", ondelete="CASCADE"))
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    row_number: Mapped[int] = mapped_column(Integer)  # the file's row (header is row 1)
    phone: Mapped[str] = mapped_column(String(40))  # E.164 when valid; what the file said otherwise
    name: Mapped[str] = mapped_column(String(120), default="")
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    variables: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    state: Mapped[RecipientState] = mapped_column(enum_type(RecipientState), default=RecipientState.pending)
    skip_reason: Mapped[SkipReason | None] = mapped_column(enum_type(SkipReason))
    error_code: Mapped[int | None] = mapped_column(Integer)
    error_title: Mapped[str | None] = mapped_column(String(500))
    wamid: Mapped[str | None] = mapped_column(String(200))
    text: Mapped[str | None] = mapped_column(Text)  # the body as sent (the conversation shows it)
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # calls that reached no one (retried)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # not before (pair rate limit, retries)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # the call started
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id", ondelete="SET NULL"))


class ChannelPacing(Base):
    """The next free sending slot of a channel: every worker reserves its slots here, in a row
    lock, so the configured rate holds across processes."""

    __tablename__ = "outbound_channel_pacing"

    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True)
    next_slot_at: Mapped[datetime] = mapped_column(UTCDateTime())


class NotificationKey(IdMixin, Base):
    """An ``Idempotency-Key`` of the notification API (``notifications.py``): inserted in the
    request's transaction before anything is sent, so the unique (client, key) decides between two
    requests with the same key; keeps the body's hash and the first answer, which a repeat gets back."""

    __tablename__ = "outbound_notification_keys"
    __table_args__ = (UniqueConstraint("client_id", "key"),)

    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    response: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
