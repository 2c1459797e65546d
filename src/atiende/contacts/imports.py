"""Contacts imports: upload (stored, previewed), map columns to fields, then a durable job
(``contacts/jobs.py``) writes the rows in chunks and a report line per row."""

import re
import unicodedata
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from atiende.auth.caller import Caller
from atiende.catalog.models import FieldDefinition
from atiende.contacts import files, phones
from atiende.contacts.models import ContactImport, ContactImportRow, ImportStatus, RowOutcome
from atiende.contacts.service import SUPERVISING, RegionInvalid, client_region
from atiende.errors import Conflict, Invalid, NotFound
from atiende.settings import Settings

BASE_FIELDS = ("phone", "name", "email", "document_id", "exclusive_agent_email",
               "opt_out:whatsapp", "opt_out:webchat", "opt_out:telegram", "opt_out:api")
IGNORE = "ignore"
ATTRIBUTE = "attribute:"
_ALIASES = {
    "phone": ("telefono", "phone", "celular", "movil", "whatsapp", "numero", "tel"),
    "name": ("nombre", "name", "nombres", "cliente", "nombre completo"),
    "email": ("email", "correo", "e-mail", "mail", "correo electronico"),
    "document_id": ("documento", "document", "cedula", "document id", "documento de identidad", "nit", "dni"),
    "exclusive_agent_email": ("agente", "agente exclusivo", "asesor", "cartera", "exclusive agent",
                              "agente_exclusivo", "email agente", "correo agente"),
    "opt_out:whatsapp": ("baja", "baja whatsapp", "opt out", "no contactar"),
}
OUTCOME_LABELS = {RowOutcome.created: "creado", RowOutcome.updated: "actualizado",
                  RowOutcome.duplicate: "omitido por duplicado", RowOutcome.refused: "rechazado"}


class ImportNotFound(NotFound):
    code = "contact.import_not_found"

    def __init__(self) -> None:
        super().__init__("Import not found", field="import_id")


class ImportNoPhone(Invalid):
    code = "contact.import_no_phone"

    def __init__(self) -> None:
        super().__init__("Map a column to the phone", field="mapping")


class ImportMappingInvalid(Invalid):
    code = "contact.import_mapping"

    def __init__(self, detail: str, column: str) -> None:
        super().__init__(detail, field=f"mapping.{column}")


class ImportStarted(Conflict):
    code = "contact.import_state"

    def __init__(self) -> None:
        super().__init__("This import has already started", field="import_id")


def _fold(text: str) -> str:
    plain = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^a-z0-9]+", " ", plain.lower()).split())


def suggest(columns: list[str], attribute_keys: list[str]) -> dict[str, str]:
    """A first mapping from the header's names (the person confirms or changes it)."""
    keys = {_fold(k): k for k in attribute_keys}
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    for column in columns:
        folded = _fold(column)
        field = next((f for f, names in _ALIASES.items() if folded in {_fold(n) for n in names}), None)
        if field is None and folded in keys:
            field = ATTRIBUTE + keys[folded]
        if field is not None and field not in taken:
            mapping[column] = field
            taken.add(field)
        else:
            mapping[column] = IGNORE
    return mapping


def imports_dir(settings: Settings) -> Path:
    directory = Path(settings.media_dir) / "imports"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


async def attribute_keys(session: AsyncSession, client_id: int) -> list[str]:
    return list((await session.scalars(select(FieldDefinition.key).where(
        FieldDefinition.client_id == client_id, FieldDefinition.active.is_(True)).order_by(FieldDefinition.key))).all())


async def create(session: AsyncSession, caller: Caller, client_id: int, *, filename: str,
                 chunks: AsyncIterator[bytes], settings: Settings, now: datetime) -> tuple[ContactImport, list[list[str]]]:
    """Store the upload (streamed to disk, refused past the size limit), read its shape and first rows."""
    membership = caller.require(client_id, *SUPERVISING)
    name = Path(filename or "contactos.csv").name[:200]
    if not name.lower().endswith((".csv", ".txt", ".xlsx")):
        raise files.ImportFormatInvalid()
    suffix = ".xlsx" if name.lower().endswith(".xlsx") else ".csv"
    path = imports_dir(settings) / f"{uuid.uuid4().hex}{suffix}"
    size = 0
    try:
        with path.open("wb") as out:
            async for chunk in chunks:
                size += len(chunk)
                if size > settings.contacts_import_max_bytes:
                    raise files.ImportTooLarge(settings.contacts_import_max_bytes)
                out.write(chunk)
        shape = files.shape_of(path, name)
        columns, sample = files.preview(path, shape)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    record = ContactImport(client_id=client_id, membership_id=membership.id, filename=name, stored_path=str(path),
                           file_format=shape.file_format, encoding=shape.encoding, delimiter=shape.delimiter,
                           columns=columns, mapping={}, default_region=await client_region(session, client_id),
                           status=ImportStatus.uploaded, created_at=now)
    session.add(record)
    await session.flush()
    return record, sample


async def get(session: AsyncSession, caller: Caller, import_id: int) -> ContactImport:
    found = await session.scalar(select(ContactImport).where(ContactImport.id == import_id,
                                                             ContactImport.client_id.in_(caller.client_ids)))
    if found is None or caller.role_in(found.client_id) not in SUPERVISING:
        raise ImportNotFound()
    return found


def sample_of(record: ContactImport) -> list[list[str]]:
    path = Path(record.stored_path)
    if not path.is_file():
        return []
    try:
        return files.preview(path, files.FileShape(record.file_format, record.encoding, record.delimiter))[1]
    except Invalid:
        return []


async def start(session: AsyncSession, caller: Caller, record: ContactImport, mapping: dict[str, str],
                region: str | None, *, now: datetime) -> ContactImport:
    """Check the mapping and queue the import job (after commit the worker takes it)."""
    from atiende.contacts.jobs import run_import
    from atiende.jobs import enqueue

    caller.require(record.client_id, *SUPERVISING)
    if record.status != ImportStatus.uploaded:
        raise ImportStarted()
    keys = set(await attribute_keys(session, record.client_id))
    used: set[str] = set()
    for column, field in mapping.items():
        if column not in record.columns:
            raise ImportMappingInvalid(f"The file has no column {column!r}", column)
        if field == IGNORE:
            continue
        valid = field in BASE_FIELDS or (field.startswith(ATTRIBUTE) and field.removeprefix(ATTRIBUTE) in keys)
        if not valid:
            raise ImportMappingInvalid(f"Unknown field {field!r}", column)
        if field in used:
            raise ImportMappingInvalid(f"Two columns map to {field!r}", column)
        used.add(field)
    if "phone" not in used:
        raise ImportNoPhone()
    if region is not None:
        if not phones.is_region(region):
            raise RegionInvalid()
        record.default_region = region.upper()
    record.mapping = {c: f for c, f in mapping.items() if f != IGNORE}
    record.status = ImportStatus.queued
    await session.flush()
    await enqueue(session, run_import, due_at=now, key=f"contact-import:{record.id}", max_attempts=3,
                  import_id=record.id)
    return record


async def report_lines(session: AsyncSession, record: ContactImport, batch: int = 2000) -> AsyncIterator[list[Any]]:
    """The per-row report, in file order."""
    last = 0
    while True:
        chunk = (await session.scalars(select(ContactImportRow).where(
            ContactImportRow.import_id == record.id, ContactImportRow.row_number > last)
            .order_by(ContactImportRow.row_number).limit(batch))).all()
        if not chunk:
            return
        for row in chunk:
            yield [row.row_number, OUTCOME_LABELS[row.outcome], row.contact_id or "", row.column or "", row.reason or ""]
        last = chunk[-1].row_number


REPORT_HEADER = ["fila", "resultado", "contacto", "columna", "motivo"]
