"""What every channel implements, and the shapes inbound traffic is normalised into.

A channel module (api, whatsapp, webchat, telegram) does three things:
1. verifies and parses its provider's webhook into ``InboundMessage`` / ``StatusUpdate`` values and
   hands them to ``conversations.intake.accept``, which stores each message once as a delivery and
   answers; the router routes deliveries in batches after the answer, and enqueues the download of
   a message's media (``InboundMessage.fetch``, by the job its channel registered with
   ``register_media_fetcher``) once the message is stored;
2. implements ``ChannelAdapter.send`` — deliver one stored outbound message, return the provider's
   message id (or None). Raise ``RetryableSendError`` for transient failures (retried with backoff)
   and ``PermanentSendError`` for refusals (the message fails with that reason at once);
3. registers its adapter with ``register_adapter`` when its module is imported (the app imports
   every channel module through ``app.api_routers()``).
"""

import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Protocol

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from atiende.channels.models import Channel, ChannelKind
from atiende.kit.schemas import storable

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from atiende.conversations.models import Conversation, DeliveryStatus, Message
    from atiende.jobs import JobContext, JobFunction

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
MAX_ATTACHMENT_NAME = 120


def safe_name(value: object) -> object:
    """A file name as plain, short text: control and direction-override characters dropped (a name
    can't fake its extension or break a line), cut to ``MAX_ATTACHMENT_NAME`` characters."""
    if not isinstance(value, str):
        return value
    kept = "".join(ch for ch in value if unicodedata.category(ch) not in ("Cc", "Cf"))
    return kept.strip()[:MAX_ATTACHMENT_NAME]


_Name = Annotated[str, BeforeValidator(safe_name), StringConstraints(max_length=MAX_ATTACHMENT_NAME),
                  AfterValidator(storable)]


class Attachment(BaseModel):
    """A file or media item of a message, by reference (the channel module stores downloads)."""

    model_config = ConfigDict(extra="forbid")
    kind: AttachmentKind
    url: _Url
    mime_type: _Short = ""
    name: _Name = ""
    size: int | None = Field(None, ge=0, le=2**40)


@dataclass(frozen=True)
class InboundContact:
    external_id: str  # the channel's id for the person (phone, BSUID, visitor id...)
    name: str | None = None
    phone: str | None = None  # any format phonenumbers understands with a leading +


@dataclass(frozen=True)
class MediaFetch:
    """A provider's file to download as soon as its message is stored (provider ids expire). The
    message's attachment already points at ``name``'s final URL in the media store."""

    media_id: str
    name: str
    mime_type: str = ""


@dataclass(frozen=True)
class InboundMessage:
    external_id: str  # the provider's message id: stored once per channel
    contact: InboundContact
    text: str = ""
    attachments: tuple[Attachment, ...] = field(default_factory=tuple)
    sent_at: datetime | None = None  # the provider's timestamp, when given
    fetch: MediaFetch | None = None


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


@dataclass(frozen=True)
class TemplateChoice:
    """A pre-approved message an agent may send when the channel's window is closed."""

    name: str
    language: str
    body_text: str
    body_parameters: tuple[str, ...]
    header_parameters: tuple[str, ...]


@dataclass(frozen=True)
class ReplyWindow:
    """What a channel lets the agent write now (WhatsApp: free text only within 24 hours of the
    customer's last message; after that, one of ``templates``)."""

    open: bool
    closes_at: datetime | None = None
    templates: tuple[TemplateChoice, ...] = ()


# How a kind answers "may the agent write freely now": ``window(session, conversation, now, mine)``
# (``mine``: the viewer holds the conversation, so the templates they may send are listed).
ReplyWindowOf = Callable[["AsyncSession", "Conversation", datetime, bool], Awaitable[ReplyWindow]]
_WINDOWS: dict[ChannelKind, ReplyWindowOf] = {}


def register_reply_window(kind: ChannelKind, window: ReplyWindowOf) -> ReplyWindowOf:
    _WINDOWS[kind] = window
    return window


def reply_window_for(kind: ChannelKind) -> ReplyWindowOf | None:
    return _WINDOWS.get(kind)


# The durable job (``jobs.job``) that downloads a kind's media: called with ``channel_id``,
# ``message_id``, ``media_id``, ``name`` and ``mime_type``.
_FETCHERS: dict[ChannelKind, "JobFunction"] = {}


def register_media_fetcher(kind: ChannelKind, fetcher: "JobFunction") -> "JobFunction":
    _FETCHERS[kind] = fetcher
    return fetcher


def media_fetcher_for(kind: ChannelKind) -> "JobFunction":
    return _FETCHERS[kind]
