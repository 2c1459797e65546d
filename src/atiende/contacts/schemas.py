"""The directory's API in and out."""

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, EmailStr, Field, StringConstraints

from atiende.channels.models import ChannelKind
from atiende.contacts.models import ConsentSource, ImportStatus, RowOutcome
from atiende.kit.schemas import Id, InSchema, storable

Text120 = Annotated[str, StringConstraints(strip_whitespace=True, max_length=120), AfterValidator(storable)]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, max_length=32), AfterValidator(storable)]
Document = Annotated[str, StringConstraints(strip_whitespace=True, max_length=40), AfterValidator(storable)]
Region = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=2,
                                          pattern=r"^[A-Za-z]{2}$"), AfterValidator(storable)]
Keyword = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60),
                    AfterValidator(storable)]
ReplyText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000), AfterValidator(storable)]
AttributeValue = str | int | float | bool | list[str] | None


class ContactOut(BaseModel):
    id: int
    client_id: int
    name: str
    phone: str | None = Field(None, description="E.164; null when the caller may not see it")
    phone_display: str = Field("", description="The phone in the client's region's format")
    email: str | None
    document_id: str | None
    attributes: dict[str, Any]
    exclusive_agent_id: int | None
    opted_out: list[ChannelKind] = Field(default_factory=list, description="Channel kinds the contact left")
    created_at: datetime
    updated_at: datetime | None


class IdentityOut(BaseModel):
    channel_id: int
    channel_name: str
    channel_kind: ChannelKind
    external_id: str | None = Field(None, description="Null when it is the phone the caller may not see")


class ConsentOut(BaseModel):
    channel_kind: ChannelKind
    opted_out: bool
    changed_at: datetime | None


class ConsentChangeOut(BaseModel):
    channel_kind: ChannelKind
    opted_out: bool
    source: ConsentSource
    membership_id: int | None
    at: datetime


class ContactConversationOut(BaseModel):
    id: int
    campaign_id: int
    campaign_name: str
    channel_id: int
    status: str
    opened_at: datetime
    closed_at: datetime | None
    typification_id: int | None
    typification_name: str | None
    agent_membership_id: int | None
    agent_name: str | None
    csat: int | None


class ContactDetailOut(ContactOut):
    exclusive_agent_name: str | None = None
    identities: list[IdentityOut]
    consents: list[ConsentOut]
    consent_history: list[ConsentChangeOut]
    conversations: list[ContactConversationOut]


class ContactPatch(InSchema):
    name: Text120 | None = None
    phone: Phone | None = Field(None, description="Any format; without a country code, the client's region")
    email: EmailStr | None = None
    document_id: Document | None = None
    exclusive_agent_id: Id | None = Field(None, description="An active agent of the client; null clears it")
    attributes: dict[Annotated[str, StringConstraints(max_length=60)], AttributeValue] | None = Field(
        None, description="By field definition key; null removes one", max_length=100)


class ConsentIn(InSchema):
    opted_out: bool


class MergeIn(InSchema):
    other_contact_id: Id = Field(description="Merged into this contact, then removed")


class EraseIn(InSchema):
    confirm: Id = Field(description="The contact's id again, to confirm the erasure")


class ContactSettingsOut(BaseModel):
    client_id: int
    default_region: str
    opt_out_keywords: list[str]
    opt_in_keywords: list[str]
    opt_out_reply: str
    opt_in_reply: str


class ContactSettingsIn(InSchema):
    default_region: Region | None = None
    opt_out_keywords: list[Keyword] | None = Field(None, max_length=20)
    opt_in_keywords: list[Keyword] | None = Field(None, max_length=20)
    opt_out_reply: ReplyText | None = None
    opt_in_reply: ReplyText | None = None


class ImportOut(BaseModel):
    id: int
    client_id: int
    filename: str
    file_format: str
    encoding: str | None
    delimiter: str | None
    columns: list[str]
    preview: list[list[str]] = Field(default_factory=list, description="The first rows, as read")
    suggested_mapping: dict[str, str] = Field(default_factory=dict)
    mapping: dict[str, str]
    default_region: str
    status: ImportStatus
    total_rows: int | None
    processed: int
    created: int
    updated: int
    duplicates: int
    refused: int
    error: str | None = Field(None, description="An error code when the import failed (nothing was imported)")
    error_row: int | None = None
    error_column: str | None = None
    created_at: datetime
    finished_at: datetime | None


class ImportStart(InSchema):
    mapping: dict[Annotated[str, StringConstraints(max_length=200)],
                  Annotated[str, StringConstraints(max_length=80)]] = Field(
        description="File column → field: phone, name, email, document_id, exclusive_agent_email, "
                    "attribute:<field key>, or ignore", max_length=200)
    default_region: Region | None = None


class ImportRowOut(BaseModel):
    row_number: int
    outcome: RowOutcome
    contact_id: int | None
    column: str | None
    reason: str | None


__all__ = ["EmailStr"]
