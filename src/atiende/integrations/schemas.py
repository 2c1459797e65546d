from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, StringConstraints, field_validator

from atiende.integrations.catalog import EVENT_TYPES
from atiende.integrations.models import DeliveryState
from atiende.kit.schemas import Id, InSchema, Name, OutSchema, storable

Url = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000),
                AfterValidator(storable)]
SubscriptionSecret = Annotated[str, StringConstraints(min_length=16, max_length=200), AfterValidator(storable)]


def _event_types(value: list[str] | None) -> list[str] | None:
    if value is None:
        return None
    unknown = [v for v in value if v not in EVENT_TYPES]
    if unknown:
        raise ValueError(f"unknown event type {unknown[0]!r}; known: {', '.join(EVENT_TYPES)}")
    if not value:
        raise ValueError("choose at least one event type")
    return list(dict.fromkeys(value))


class SubscriptionCreate(InSchema):
    client_id: Id
    name: Name
    url: Url
    event_types: list[str]
    secret: SubscriptionSecret | None = None  # generated when left out
    active: bool = True

    _types = field_validator("event_types")(_event_types)


class SubscriptionUpdate(InSchema):
    name: Name | None = None
    url: Url | None = None
    event_types: list[str] | None = None
    active: bool | None = None

    _types = field_validator("event_types")(_event_types)


class SubscriptionOut(OutSchema):
    id: int
    client_id: int
    name: str
    url: str
    secret: str
    event_types: list[str]
    active: bool
    created_at: datetime


class DeliveryOut(OutSchema):
    id: int
    subscription_id: int
    event_id: str
    event_type: str
    state: DeliveryState
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    first_attempt_at: datetime | None
    delivered_at: datetime | None
    response_status: int | None
    duration_ms: int | None
    response_excerpt: str | None
    last_error: str | None
    payload: dict[str, Any]


class EventTypeOut(OutSchema):
    type: str
    label: str
