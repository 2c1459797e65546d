"""Tables of the contacts directory. The ``Contact`` row itself stays in ``conversations.models``
(the engine reads it on every message); here live what the directory adds around it: per-client
settings, consent per channel with its history, and imports with their per-row report."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from atiende.channels.models import ChannelKind
from atiende.db import Base, UTCDateTime
from atiende.kit.columns import IdMixin, enum_type

DEFAULT_OPT_OUT_KEYWORDS = ["BAJA", "STOP", "NO MAS MENSAJES"]
DEFAULT_OPT_IN_KEYWORDS = ["ALTA", "START"]
DEFAULT_OPT_OUT_REPLY = "Listo, no te enviaremos más mensajes por este canal. Escribe ALTA para volver a recibirlos."
DEFAULT_OPT_IN_REPLY = "Listo, volverás a recibir nuestros mensajes por este canal."


class ConsentSource(StrEnum):
    keyword = "keyword"  # the contact wrote BAJA / ALTA
    agent = "agent"  # a person of the client, in the console or the workspace
    import_ = "import"
    api = "api"
    merge = "merge"


class ContactSettings(Base):
    """Per client: the consent keywords and their answers (the phone region is ``Client.phone_region``)."""

    __tablename__ = "contact_settings"

    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), primary_key=True)
    opt_out_keywords: Mapped[list[str]] = mapped_column(JSON, default=lambda: list(DEFAULT_OPT_OUT_KEYWORDS))
    opt_in_keywords: Mapped[list[str]] = mapped_column(JSON, default=lambda: list(DEFAULT_OPT_IN_KEYWORDS))
    opt_out_reply: Mapped[str] = mapped_column(Text, default=DEFAULT_OPT_OUT_REPLY)
    opt_in_reply: Mapped[str] = mapped_column(Text, default=DEFAULT_OPT_IN_REPLY)


class ContactConsent(IdMixin, Base):
    """The current consent of a contact on one kind of channel; no row means opted in."""

    __tablename__ = "contact_consents"
    __table_args__ = (UniqueConstraint("contact_id", "channel_kind"),)

    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    channel_kind: Mapped[ChannelKind] = mapped_column(enum_type(ChannelKind))
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ConsentChange(IdMixin, Base):
    """Every consent change: when, from where, and who (a membership; none for a keyword)."""

    __tablename__ = "consent_changes"
    __table_args__ = (Index("ix_consent_changes_contact", "contact_id", "at"),)

    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    channel_kind: Mapped[ChannelKind] = mapped_column(enum_type(ChannelKind))
    opted_out: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[ConsentSource] = mapped_column(enum_type(ConsentSource))
    membership_id: Mapped[int | None] = mapped_column(ForeignKey("memberships.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class ImportStatus(StrEnum):
    uploaded = "uploaded"  # previewed, waiting for the mapping
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"


class RowOutcome(StrEnum):
    created = "created"
    updated = "updated"
    duplicate = "duplicate"  # the same phone or document earlier in the file
    refused = "refused"


class ContactImport(IdMixin, Base):
    __tablename__ = "contact_imports"

    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    membership_id: Mapped[int | None] = mapped_column(ForeignKey("memberships.id", ondelete="SET NULL"))
    filename: Mapped[str] = mapped_column(String(200))
    stored_path: Mapped[str] = mapped_column(String(500))
    file_format: Mapped[str] = mapped_column(String(8))  # csv | xlsx
    encoding: Mapped[str | None] = mapped_column(String(20))
    delimiter: Mapped[str | None] = mapped_column(String(1))
    columns: Mapped[list[str]] = mapped_column(JSON, default=list)
    mapping: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)  # column → field
    default_region: Mapped[str] = mapped_column(String(2), default="CO")
    status: Mapped[ImportStatus] = mapped_column(enum_type(ImportStatus), default=ImportStatus.uploaded)
    total_rows: Mapped[int | None] = mapped_column(Integer)
    processed: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    refused: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)  # an error code (``contact.import_formula``…) when failed
    error_row: Mapped[int | None] = mapped_column(Integer)
    error_column: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def counts(self) -> dict[str, Any]:
        return {"created": self.created, "updated": self.updated, "duplicates": self.duplicates,
                "refused": self.refused}


class ContactImportRow(IdMixin, Base):
    """One line of an import's report (the file's row number, 2 = the first data row)."""

    __tablename__ = "contact_import_rows"
    __table_args__ = (UniqueConstraint("import_id", "row_number"),)

    import_id: Mapped[int] = mapped_column(ForeignKey("contact_imports.id", ondelete="CASCADE"))
    row_number: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[RowOutcome] = mapped_column(enum_type(RowOutcome))
    contact_id: Mapped[int | None] = mapped_column(Integer)
    column: Mapped[str | None] = mapped_column(String(120))
    reason: Mapped[str | None] = mapped_column(String(300))
