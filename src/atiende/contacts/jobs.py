"""The import job: a first pass refuses a file with a formula (nothing is written) and counts the
rows; the second writes them in chunks, each chunk one transaction with its report lines and
the progress, so a crash resumes after the last committed chunk and never writes a row twice.

Parsing a chunk (pure Python) overlaps with writing the one before it (``contacts/import_store.py``,
a handful of statements per chunk): the database and the parser work at the same time."""

import asyncio
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from atiende.auth.models import Membership, Role, User
from atiende.catalog.fields import validate_field_value
from atiende.catalog.models import FieldDefinition
from atiende.contacts import files, phones
from atiende.contacts.import_store import Chunk, Row, line, store
from atiende.contacts.imports import ATTRIBUTE
from atiende.contacts.models import ContactImport, ImportStatus, RowOutcome
from atiende.errors import AtiendeError
from atiende.jobs import JobContext, job

CHUNK_ROWS = 5000  # two chunks in memory at a time (one parsed, one being written): a few MB
_YIELD_EVERY = 100  # rows parsed between giving the event loop to the chunk being written
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass
class _Context:
    client_id: int
    region: str
    mapping: dict[int, str]  # column index → field
    header: list[str]
    agents: dict[str, int]  # agent email → membership id
    definitions: dict[str, FieldDefinition]
    membership_id: int | None = None  # who imports (consent changes name them)
    seen: set[str] = field(default_factory=set)
    column_of: dict[str, str] = field(init=False)  # field → the file's column name (for refusals)
    consent_fields: list[str] = field(init=False)  # the mapped "opt_out:…" fields
    attribute_fields: list[str] = field(init=False)  # the mapped "attribute:…" fields

    def __post_init__(self) -> None:
        self.column_of = {target: self.header[index] for index, target in self.mapping.items()}
        self.consent_fields = [t for t in self.mapping.values() if t.startswith("opt_out:")]
        self.attribute_fields = [t for t in self.mapping.values() if t.startswith(ATTRIBUTE)]


@job
async def run_import(ctx: JobContext, *, import_id: int) -> None:
    async with ctx.database.session() as session:
        record = await session.get(ContactImport, import_id)
        if record is None or record.status in (ImportStatus.done, ImportStatus.failed):
            return
        record.status = ImportStatus.running
        path = Path(record.stored_path)
        shape = files.FileShape(record.file_format, record.encoding, record.delimiter)
        context = await _context(session, record)
        needs_scan, skip = record.total_rows is None, record.processed
    if needs_scan:
        refused = _scan(path, shape)
        async with ctx.database.session() as session:
            record = await session.get(ContactImport, import_id)
            assert record is not None
            if isinstance(refused, tuple):
                record.status, record.error = ImportStatus.failed, "contact.import_formula"
                record.error_row, record.error_column = refused
                record.finished_at = ctx.clock.now()
                path.unlink(missing_ok=True)
                return
            record.total_rows = refused
    rows = _data_rows(path, shape, skip)
    writing: asyncio.Task[None] | None = None
    try:
        while (chunk := await _read_chunk(context, rows)) is not None:
            if writing is not None:
                await writing
            writing = asyncio.create_task(_commit_chunk(ctx, import_id, context, chunk))
        if writing is not None:
            await writing
    finally:
        if writing is not None and not writing.done():
            writing.cancel()
            await asyncio.gather(writing, return_exceptions=True)
    async with ctx.database.session() as session:
        record = await session.get(ContactImport, import_id)
        assert record is not None
        record.status, record.finished_at = ImportStatus.done, ctx.clock.now()
    path.unlink(missing_ok=True)  # the report stays; the file with personal data does not


def _scan(path: Path, shape: files.FileShape) -> int | tuple[int, str]:
    """The number of data rows, or (row, column) of the first formula."""
    iterator = files.rows(path, shape)
    header = next(iterator, [])
    count = 0
    for number, row in enumerate(iterator, start=2):
        count += 1
        for index, cell in enumerate(row):
            if files.is_formula(cell):
                return number, header[index] if index < len(header) else f"columna {index + 1}"
    return count


def _data_rows(path: Path, shape: files.FileShape, skip: int) -> Iterator[tuple[int, list[str]]]:
    iterator = files.rows(path, shape)
    next(iterator, None)
    for index, row in enumerate(iterator):
        if index >= skip:
            yield index + 2, row


async def _context(session: AsyncSession, record: ContactImport) -> _Context:
    index_of = {name: i for i, name in enumerate(record.columns)}
    mapping = {index_of[column]: target for column, target in record.mapping.items() if column in index_of}
    agents = dict((await session.execute(select(User.email, Membership.id).join(
        Membership, Membership.user_id == User.id).where(
        Membership.client_id == record.client_id, Membership.role == Role.agent, Membership.active.is_(True)))).all())
    definitions = {d.key: d for d in (await session.scalars(select(FieldDefinition).where(
        FieldDefinition.client_id == record.client_id))).all()}
    return _Context(record.client_id, record.default_region, mapping, record.columns,
                    {e.lower(): m for e, m in agents.items()}, definitions, record.membership_id)


_YES = {"si", "sí", "s", "yes", "y", "true", "1", "x", "baja"}
_NO = {"no", "n", "false", "0", "alta"}


def _fold_yes_no(value: str) -> bool | None:
    said = value.strip().lower()
    return True if said in _YES else False if said in _NO else None


class _Refused(Exception):
    def __init__(self, column: str, reason: str) -> None:
        self.column, self.reason = column, reason


def _parse(context: _Context, number: int, cells: list[str]) -> Row:
    """One row's typed values (cells come stripped from ``files.rows``), or ``_Refused``."""
    values: dict[str, Any] = {}
    column_of = context.column_of
    width = len(cells)
    for index, target in context.mapping.items():
        if index < width and cells[index]:
            values[target] = cells[index]
    phone_raw = str(values.pop("phone", "")).lstrip("'")
    key = ""
    if phone_raw:
        try:
            values["phone"] = phones.to_e164(phone_raw, context.region)
        except ValueError:
            raise _Refused(column_of.get("phone", "phone"), "teléfono inválido") from None
        key = values["phone"]
    elif values.get("document_id"):
        key = f"doc:{values['document_id']}"
    else:
        raise _Refused(column_of.get("phone", "phone"), "sin teléfono")
    if "email" in values:
        values["email"] = str(values["email"]).lower()
        if not _EMAIL.match(values["email"]) or len(values["email"]) > 200:
            raise _Refused(column_of["email"], "correo inválido")
    if "exclusive_agent_email" in values:
        agent = context.agents.get(str(values.pop("exclusive_agent_email")).lower())
        if agent is None:
            raise _Refused(column_of["exclusive_agent_email"], "agente desconocido")
        values["exclusive_agent_id"] = agent
    consent: dict[str, bool] = {}
    for target in [t for t in context.consent_fields if t in values]:
        said = _fold_yes_no(str(values.pop(target)))
        if said is None:
            raise _Refused(column_of[target], "baja inválida (sí/no)")
        consent[target.removeprefix("opt_out:")] = said
    if consent:
        values["consent"] = consent
    attributes: dict[str, Any] = {}
    for target in [t for t in context.attribute_fields if t in values]:
        key_name = target.removeprefix(ATTRIBUTE)
        raw = values.pop(target)
        try:
            typed = validate_field_value(context.definitions[key_name], raw, default_region=context.region)
        except AtiendeError as exc:
            raise _Refused(column_of[target], f"valor inválido: {exc.message}"[:300]) from None
        attributes[key_name] = typed.isoformat() if hasattr(typed, "isoformat") else typed
    if attributes:
        values["attributes"] = attributes
    if "name" in values:
        values["name"] = str(values["name"])[:120]
    if "document_id" in values:
        values["document_id"] = str(values["document_id"])[:40]
    return Row(number, values, key)


async def _read_chunk(context: _Context, rows: Iterator[tuple[int, list[str]]]) -> Chunk | None:
    """The next ``CHUNK_ROWS`` rows parsed (None at the end of the file). Gives the event loop a
    turn every few hundred rows, so the chunk being written sends its next statement meanwhile."""
    chunk: Chunk | None = None
    for number, cells in rows:
        if chunk is None:
            chunk = Chunk(first=number, size=0, rows=[], refused=[])
        chunk.size += 1
        if any(cells):
            try:
                row = _parse(context, number, cells)
            except _Refused as refused:
                chunk.refused.append(line(number, RowOutcome.refused, column=refused.column[:120],
                                          reason=refused.reason))
            else:
                row.duplicate = row.key in context.seen
                context.seen.add(row.key)
                chunk.rows.append(row)
        if chunk.size % _YIELD_EVERY == 0:
            await asyncio.sleep(0)
        if chunk.size >= CHUNK_ROWS:
            break
    return chunk


async def _commit_chunk(ctx: JobContext, import_id: int, context: _Context, chunk: Chunk) -> None:
    """One transaction: the chunk's contacts and report lines, and the import's progress."""
    async with ctx.database.session() as session:
        record = await session.get(ContactImport, import_id, with_for_update=True)
        assert record is not None
        if chunk.first - 2 < record.processed:  # this chunk committed already (a retried job)
            return
        counts = await store(session, context.client_id, context.membership_id, import_id, chunk, ctx.clock.now())
        record.processed += chunk.size
        record.created += counts[RowOutcome.created]
        record.updated += counts[RowOutcome.updated]
        record.duplicates += counts[RowOutcome.duplicate]
        record.refused += counts[RowOutcome.refused]
