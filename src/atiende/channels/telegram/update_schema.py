"""The shape of a Telegram ``Update``, for the OpenAPI document (and the schema fuzzing that reads
it). Parsing stays in ``updates.parse_update``, more tolerant than this; only what Atiende reads
is described, and extra keys are allowed (Telegram adds fields)."""

from pydantic import BaseModel, ConfigDict, Field


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class Chat(_Open):
    id: int = Field(description="Replies go to this chat")
    type: str | None = None
    title: str | None = None


class User(_Open):
    id: int
    first_name: str | None = None
    last_name: str | None = None
    username: str | None = None


class File(_Open):
    file_id: str
    file_name: str | None = None
    mime_type: str | None = None
    file_size: int | None = None


class PhotoSize(File):
    width: int | None = None
    height: int | None = None


class MessageIn(_Open):
    message_id: int
    date: int | None = None
    chat: Chat
    from_: User | None = Field(None, alias="from")
    text: str | None = None
    caption: str | None = None
    photo: list[PhotoSize] | None = None
    voice: File | None = None
    audio: File | None = None
    video: File | None = None
    document: File | None = None


class UpdateIn(_Open):
    """One update: a new ``message`` is stored once per ``update_id``; other kinds are ignored."""

    update_id: int = Field(ge=0, lt=2**53)
    message: MessageIn | None = None


class UpdateOut(BaseModel):
    stored: bool = Field(description="A new message was stored (it is routed after the answer)")
    duplicate: bool = Field(description="The update was stored before (a redelivery)")
    ignored: str | None = Field(description="Why nothing was stored (an edit, a callback…)")
