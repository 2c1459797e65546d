"""What every channel implements, and the shapes inbound traffic is normalised into.

A channel module (api, whatsapp, webchat, telegram) does three things:
1. verifies and parses its provider's webhook into ``InboundMessage`` / ``StatusUpdate`` values and
   hands them to ``conversations.intake.accept`` (the API channel: stored as deliveries, routed
   after the answer) or ``conversations.routing.ingest`` (WhatsApp, Telegram, web chat: routed in
   the webhook's transaction) / ``conversations.outbound.ingest_statuses`` (which store once,
   commit, and give back the after-commit work to run after answering);
2. implements ``ChannelAdapter.send`` — deliver one stored outbound message, return the provider's
   message id (or None). Raise ``RetryableSendError`` for transient failures (retried with backoff)
   and ``PermanentSendError`` for refusals (the message fails with that reason at once);
3. registers its adapter with ``register_adapter`` when its module is imported (the app imports
   every channel module through ``app.api_routers()``).
"""

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Protocol

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from atiende.channels.models import Channel, ChannelKind
from atiende.kit.schemas import storable

if TYPE_CHECKING:
    from atiende.conversations.models import Conversation, DeliveryStatus, Message
    from atiende.jobs import JobContext

MAX_ATTACHMENTS = 10


class AttachmentKind(StrEnum):
    image = "image"
    audio = "audio"
    voice = "voice"  # a voice note (recorded in the chat), governed by the campaign's voice_notes permission
    video = "video"
    document = "document"
    sticker = "sticker"
    location = "location"


_Url = Annotated[str, StringConstraints(min_length=1, max_length=2000, pattern=r"^https?://\S+$"),
                 AfterValidator(storable)]
_Short = Annotated[str, StringConstraints(max_length=255), AfterValidator(storable)]


class Attachment(BaseModel):
    """A file or media item of a message, by reference (the channel module stores downloads)."""

    model_config = ConfigDict(extra="forbid")
    kind: AttachmentKind
    url: _Url
    mime_type: _Short = ""
    name: _Short = ""
    size: int | None = Field(None, ge=0, le=2**40)


@dataclass(frozen=True)
class InboundContact:
    external_id: str  # the channel's id for the person (phone, BSUID, visitor id...)
    name: str | None = None
    phone: str | None = None  # any format phonenumbers understands with a leading +


@dataclass(frozen=True)
class InboundMessage:
    external_id: str  # the provider's message id: stored once per channel
    contact: InboundContact
    text: str = ""
    attachments: tuple[Attachment, ...] = field(default_factory=tuple)
    sent_at: datetime | None = None  # the provider's timestamp, when given


@dataclass(frozen=True)
class StatusUpdate:
    status: "DeliveryStatus"
    external_id: str | None = None  # the provider's message id
    message_id: int | None = None  # or Atiende's own id
    reason: str | None = None  # why it failed
    at: datetime | None = None


class SendError(Exception):
    pass


class RetryableSendError(SendError):
    """A transient failure (timeout, 5xx, rate limit): delivery is retried with backoff."""


class PermanentSendError(SendError):
    """The provider refused the message for good: it fails with this reason, no retry."""


class ChannelAdapter(Protocol):
    kind: ChannelKind

    async def send(self, ctx: "JobContext", channel: Channel, conversation: "Conversation",
                   message: "Message") -> str | None:
        """Deliver ``message``; return the provider's message id, if it gives one."""
        ...


_ADAPTERS: dict[ChannelKind, ChannelAdapter] = {}


def register_adapter(adapter: ChannelAdapter) -> ChannelAdapter:
    _ADAPTERS[adapter.kind] = adapter
    return adapter


def adapter_for(kind: ChannelKind) -> ChannelAdapter | None:
    return _ADAPTERS.get(kind)
