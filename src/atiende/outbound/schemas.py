"""The sends' REST shapes."""

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt, field_validator, model_validator

from atiende.conversations.models import DeliveryStatus
from atiende.kit.schemas import MAX_ID, storable
from atiende.outbound.models import RecipientState, SendStatus, SkipReason


class SendCreate(BaseModel):
    name: Annotated[str, Field(min_length=1, max_length=120)]
    # One of the campaign's active channels; default: its WhatsApp channel, else its first Telegram or API one.
    channel_id: Annotated[int | None, Field(ge=1, le=MAX_ID)] = None


class SourceIn(BaseModel):
    """A template parameter's value: a column of the list (``column``) or a fixed text (``value``)."""

    model_config = ConfigDict(extra="forbid")
    column: Annotated[str | None, Field(max_length=120)] = None
    value: Annotated[str | None, Field(max_length=1000)] = None

    @model_validator(mode="after")
    def one_of(self) -> "SourceIn":
        if (self.column is None) == (self.value is None):
            raise ValueError("give exactly one of column or value")
        return self


class MappingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    header: Annotated[list[SourceIn], Field(max_length=10)] = []
    body: Annotated[list[SourceIn], Field(max_length=60)] = []
    buttons: Annotated[list[SourceIn], Field(max_length=10)] = []
    header_media: SourceIn | None = None


class MessageIn(BaseModel):
    """WhatsApp: an approved template and its mapping. Telegram and API channels: ``text`` with
    ``{column}`` placeholders instead (the channel's limit, e.g. Telegram's 4096, is checked by the service)."""

    template_name: Annotated[str | None, Field(min_length=1, max_length=512)] = None
    language: Annotated[str | None, Field(min_length=1, max_length=20)] = None
    mapping: MappingIn = MappingIn()
    text: Annotated[str | None, Field(max_length=20_000), AfterValidator(storable)] = None


class ProgrammeIn(BaseModel):
    start_at: datetime | None = None  # None: as soon as it is launched
    rate_per_second: Annotated[int, Field(ge=1, le=1000)] = 80
    respect_schedule: bool = True
    max_consecutive_failures: Annotated[int, Field(ge=1, le=10_000)] = 50


class RowErrorOut(BaseModel):
    row: int
    column: str
    value: str
    reason: str


class AudienceOut(BaseModel):
    total: int
    valid: int
    invalid: int
    duplicates: int
    columns: list[str]
    phone_column: str
    name_column: str | None
    preview: list[dict[str, str]]
    errors: list[RowErrorOut]
    no_conversation: int = 0  # Telegram and API sends: rows whose contact never wrote on the channel


class SendOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    campaign_id: int
    channel_id: int
    name: str
    status: SendStatus
    columns: list[str]
    phone_column: str
    name_column: str | None
    template_name: str | None
    template_language: str | None
    mapping: dict[str, object]
    text: str | None = None  # Telegram and API sends
    start_at: datetime | None
    respect_schedule: bool
    rate_per_second: int
    max_consecutive_failures: int
    note: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    counts: dict[str, int] = {}
    review: dict[str, int] | None = Field(
        None, description="A draft's counts before launching: will_send, opted_out, deferred (over the "
                          "messaging limit today: sent in its next window)")


class RecipientOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    row_number: int
    phone: str
    name: str
    contact_id: int | None
    variables: dict[str, str]
    state: RecipientState
    skip_reason: SkipReason | None
    error_code: int | None
    error_title: str | None
    wamid: str | None
    attempted_at: datetime | None
    sent_at: datetime | None
    delivered_at: datetime | None
    read_at: datetime | None
    failed_at: datetime | None
    replied_at: datetime | None
    conversation_id: int | None


class RecipientPage(BaseModel):
    items: list[RecipientOut]
    total: int
    page: int
    limit: int


class TimelinePointOut(BaseModel):
    """One bucket: the recipients that reached each milestone within it."""

    model_config = ConfigDict(from_attributes=True)
    start: datetime  # ISO-8601 with the client's offset, e.g. 2026-12-01T09:00:00-05:00
    sent: int
    delivered: int
    read: int
    failed: int
    replied: int


class TimelineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    bucket_seconds: int
    timezone: str
    points: list[TimelinePointOut]


class SendContextOut(BaseModel):
    """What the agent sees next to a conversation that answers a send."""

    send_id: int
    send_name: str
    template_name: str | None
    text: str | None
    sent_at: datetime | None
    variables: dict[str, str]


class TestSendIn(BaseModel):
    phone: Annotated[str, Field(min_length=5, max_length=32)]


class TestSendOut(BaseModel):
    wamid: str


# --- the notification API ----------------------------------------------------------------------
_Value = Annotated[str, Field(max_length=1000), AfterValidator(storable)]


class NotificationParameters(BaseModel):
    """The template's parameters, in the order the template names them."""

    model_config = ConfigDict(extra="forbid")
    header: Annotated[list[_Value], Field(max_length=10)] = []
    body: Annotated[list[_Value], Field(max_length=60)] = []
    buttons: Annotated[list[_Value], Field(max_length=10)] = []  # one URL suffix per dynamic URL button
    header_media_url: Annotated[str | None, Field(max_length=2000, pattern=r"^https://\S+$")] = None


class NotificationTemplate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, Field(min_length=1, max_length=512), AfterValidator(storable)]
    language: Annotated[str, Field(min_length=1, max_length=20), AfterValidator(storable)]
    parameters: NotificationParameters = NotificationParameters()


class NotificationIn(BaseModel):
    """One message to one contact: an approved WhatsApp template, or plain text (WhatsApp within the
    24-hour window; Telegram and API channels to contacts who already wrote to them)."""

    model_config = ConfigDict(extra="forbid")
    # A phone (a string: E.164, or national in the client's region) or a contact id (a JSON number).
    to: StrictInt | str
    channel_id: Annotated[int | None, Field(ge=1, le=MAX_ID)] = None  # default: the campaign's WhatsApp
    template: NotificationTemplate | None = None
    text: Annotated[str | None, Field(min_length=1, max_length=4096), AfterValidator(storable)] = None

    @field_validator("to")
    @classmethod
    def phone_or_contact_id(cls, value: int | str) -> int | str:
        if isinstance(value, int):
            if not 1 <= value <= MAX_ID:
                raise ValueError(f"a contact id is between 1 and {MAX_ID}")
            return value
        if not 1 <= len(value.strip()) <= 32:
            raise ValueError("a phone has 1 to 32 characters")
        return storable(value) or ""

    @model_validator(mode="after")
    def one_message(self) -> "NotificationIn":
        if (self.template is None) == (self.text is None):
            raise ValueError("give exactly one of template or text")
        return self


class NotificationOut(BaseModel):
    message_id: int
    conversation_id: int
    contact_id: int
    channel_id: int
    status: DeliveryStatus
    status_url: str


class OutboundMessageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    conversation_id: int
    channel_id: int
    status: DeliveryStatus | None
    failure_reason: str | None
    external_id: str | None
    text: str
    created_at: datetime
    sent_at: datetime | None
    delivered_at: datetime | None
    read_at: datetime | None
