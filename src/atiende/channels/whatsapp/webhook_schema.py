"""The shape of Meta's webhook body, for the OpenAPI document (and the schema fuzzing that reads it).

Parsing stays in ``payloads.parse_webhook``, which is deliberately more tolerant than this: Meta
adds fields without notice, and an item it cannot read is skipped, not refused. So every model
here allows extra keys, and only what Atiende reads is described.
"""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class Metadata(_Open):
    display_phone_number: str | None = None
    phone_number_id: str = Field(description="Which number of the Meta app the change is for")


class Profile(_Open):
    name: str | None = None


class ContactIn(_Open):
    wa_id: str | None = Field(None, description="The user's phone number, digits only (when shared)")
    user_id: str | None = Field(None, description="The business-scoped user id (BSUID)")
    profile: Profile | None = None


class Text(_Open):
    body: str


class Media(_Open):
    id: str = Field(description="Meta's media id, fetched at once (it expires)")
    mime_type: str | None = None
    caption: str | None = None
    filename: str | None = None


class Context(_Open):
    id: str | None = Field(None, description="The wamid this message answers")


class MessageIn(_Open):
    id: str = Field(description="The wamid: a message is stored once per wamid")
    type: str = Field(description="text, image, audio, video, document, sticker, location, contacts, "
                      "interactive, button, reaction…")
    timestamp: str | None = None
    from_: str | None = Field(None, alias="from", description="The sender's wa_id")
    text: Text | None = None
    image: Media | None = None
    audio: Media | None = None
    video: Media | None = None
    document: Media | None = None
    sticker: Media | None = None
    context: Context | None = None


class StatusError(_Open):
    code: int | None = None
    title: str | None = None


class StatusIn(_Open):
    id: str = Field(description="The wamid of a message Atiende sent")
    status: Literal["sent", "delivered", "read", "played", "failed"]
    timestamp: str | None = None
    recipient_id: str | None = None
    errors: list[StatusError] | None = None


class Value(_Open):
    messaging_product: Literal["whatsapp"] | None = None
    metadata: Metadata
    contacts: list[ContactIn] | None = None
    messages: list[MessageIn] | None = None
    statuses: list[StatusIn] | None = None


class Change(_Open):
    field: str = Field("messages", description="Only messages changes are read")
    value: Value


class Entry(_Open):
    id: str = Field(description="The WhatsApp Business Account id")
    changes: list[Change]


class WebhookIn(_Open):
    """One POST of Meta's: every entry, change, message and status in it is read."""

    object: Literal["whatsapp_business_account"]
    entry: list[Entry]


class WebhookOut(BaseModel):
    stored: int = Field(description="Messages stored now (each is routed after the answer)")
    duplicates: int = Field(description="Messages stored before (a redelivery)")
    statuses: int = Field(description="Delivery reports that moved one of our messages forward")
    ignored: int = Field(description="Items that could not be read, or are for a number this channel does not serve")
