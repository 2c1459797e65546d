"""Subscriptions (where a client wants its events) and deliveries (one event to one subscription).

A delivery row is written in the same transaction as the change it reports, so an event is
never lost between a commit and a crash; the dispatcher then sends it, retries it, and keeps
the outcome as the subscription's log.
"""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from atiende.db import Base, UTCDateTime
from atiende.kit.columns import IdMixin, TimestampMixin, enum_type


class DeliveryState(StrEnum):
    pending = "pending"  # waiting for its turn or its next attempt
    sending = "sending"  # claimed by a dispatcher (lease in ``locked_until``)
    delivered = "delivered"
    failed = "failed"  # gave up after the retry window; "Reenviar" makes it pending again


OPEN_ROWS = "state IN ('pending', 'sending')"


class WebhookSubscription(IdMixin, TimestampMixin, Base):
    __tablename__ = "webhook_subscriptions"

    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    url: Mapped[str] = mapped_column(String(2000))
    secret: Mapped[str] = mapped_column(String(200))
    event_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class WebhookDelivery(IdMixin, Base):
    __tablename__ = "webhook_deliveries"
    # The dispatcher's two lookups read only open rows (pending or being sent): partial indexes
    # keep them as cheap with 30 days of delivered rows as with none (a full index on id made
    # each claim walk every delivered row first: 325 ms per claim at 300,000 rows).
    __table_args__ = (Index("ix_webhook_deliveries_open", "id",
                            postgresql_where=text(OPEN_ROWS), sqlite_where=text(OPEN_ROWS)),
                      Index("ix_webhook_deliveries_log", "subscription_id", "id"),
                      Index("ix_webhook_deliveries_open_order", "subscription_id", "ordering_key", "id",
                            postgresql_where=text(OPEN_ROWS), sqlite_where=text(OPEN_ROWS)))

    subscription_id: Mapped[int] = mapped_column(ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(String(40))  # the receiver's idempotency key
    event_type: Mapped[str] = mapped_column(String(60))
    # Deliveries of one key (a conversation) leave strictly in order; None: no order to keep.
    ordering_key: Mapped[str | None] = mapped_column(String(60))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[DeliveryState] = mapped_column(enum_type(DeliveryState), default=DeliveryState.pending)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # The retry window starts at the first attempt (a delivery may wait long behind its conversation).
    first_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    response_status: Mapped[int | None] = mapped_column(Integer)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    response_excerpt: Mapped[str | None] = mapped_column(Text)
    last_error: Mapped[str | None] = mapped_column(String(500))
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
