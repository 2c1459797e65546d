"""The import job: a first pass refuses a file with a formula (nothing is written) and counts the
rows; the second writes them in chunks, each chunk one transaction with its report lines and
the progress, so a crash resumes after the last committed chunk and never writes a row twice.

New contacts go in with ``INSERT … ON CONFLICT DO NOTHING`` on the (client, phone) index, in phone
order: two imports at once, or an import while messages arrive from the same phones, never make
twins and never deadlock; a phone taken meanwhile is updated instead."""

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from atiende.auth.models import Membership, Role, User
from atiende.catalog.fields import validate_field_value
from atiende.catalog.models import FieldDefinition
from atiende.contacts import files, phones
from atiende.contacts.consent import set_consent
from atiende.contacts.imports import ATTRIBUTE
from atiende.contacts.models import ConsentSource, ContactImport, ContactImportRow, ImportStatus, RowOutcome
from atiende.conversations.models import Contact
from atiende.errors import AtiendeError
from atiende.jobs import JobContext, job

CHUNK_ROWS = 1000
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass
class _Row:
    number: int
    values: dict[str, Any]  # field → typed value (non-empty only)
    key: str  # "+57…" or "doc:…"
    duplicate: bool = False


@dataclass
class _Context:
    client_id: int
    region: str
    mapping: dict[int, str]  # column index → field
    agents: dict[str, int]  # agent email → membership id
    definitions: dict[str, FieldDefinition]
    membership_id: int | None = None  # who imports (consent changes name them)
    seen: set[str] = field(default_factory=set)


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
    batch: list[tuple[int, list[str]]] = []
    for number, cells in _data_rows(path, shape, skip):
        batch.append((number, cells))
        if len(batch) >= CHUNK_ROWS:
            await _commit_chunk(ctx, import_id, context, batch)
            batch = []
    await _commit_chunk(ctx, import_id, context, batch)
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


def _data_rows(path: Path, shape: files.FileShape, skip: int):  # noqa: ANN202 - an iterator of (number, cells)
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
    return _Context(record.client_id, record.default_region, mapping, {e.lower(): m for e, m in agents.items()},
                    definitions, record.membership_id)


_YES = {"si", "sí", "s", "yes", "y", "true", "1", "x", "baja"}
_NO = {"no", "n", "false", "0", "alta"}


def _fold_yes_no(value: str) -> bool | None:
    said = value.strip().lower()
    return True if said in _YES else False if said in _NO else None


class _Refused(Exception):
    def __init__(self, column: str, reason: str) -> None:
        self.column, self.reason = column, reason


def _parse(context: _Context, header: list[str], number: int, cells: list[str]) -> _Row:
    values: dict[str, Any] = {}
    column_of: dict[str, str] = {}
    for index, target in context.mapping.items():
        cell = cells[index].strip() if index < len(cells) else ""
        column_of[target] = header[index]
        if cell:
            values[target] = cell
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
    for target in [t for t in values if t.startswith("opt_out:")]:
        said = _fold_yes_no(str(values.pop(target)))
        if said is None:
            raise _Refused(column_of[target], "baja inválida (sí/no)")
        consent[target.removeprefix("opt_out:")] = said
    if consent:
        values["consent"] = consent
    attributes: dict[str, Any] = {}
    for target in [t for t in values if t.startswith(ATTRIBUTE)]:
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
    return _Row(number, values, key)


async def _commit_chunk(ctx: JobContext, import_id: int, context: _Context, batch: list[tuple[int, list[str]]]) -> None:
    async with ctx.database.session() as session:
        record = await session.get(ContactImport, import_id, with_for_update=True)
        assert record is not None
        if not batch:
            return
        if batch[0][0] - 2 < record.processed:  # this chunk committed already (a retried job)
            return
        lines, counts = await _write(session, context, record.columns, batch, ctx.clock.now(), ctx.clock)
        if lines:
            await session.execute(insert(ContactImportRow), [{"import_id": import_id, **line} for line in lines])
        record.processed += len(batch)
        record.created += counts[RowOutcome.created]
        record.updated += counts[RowOutcome.updated]
        record.duplicates += counts[RowOutcome.duplicate]
        record.refused += counts[RowOutcome.refused]


async def _write(session: AsyncSession, context: _Context, header: list[str], batch: list[tuple[int, list[str]]],
                 now: Any, clock: Any = None) -> tuple[list[dict[str, Any]], dict[RowOutcome, int]]:
    lines: list[dict[str, Any]] = []
    counts = dict.fromkeys(RowOutcome, 0)
    parsed: list[_Row] = []
    for number, cells in batch:
        if not any(c.strip() for c in cells):
            continue
        try:
            row = _parse(context, header, number, cells)
        except _Refused as refused:
            lines.append({"row_number": number, "outcome": RowOutcome.refused, "contact_id": None,
                          "column": refused.column[:120], "reason": refused.reason})
            counts[RowOutcome.refused] += 1
            continue
        row.duplicate = row.key in context.seen
        context.seen.add(row.key)
        parsed.append(row)
    existing = await _existing(session, context.client_id, parsed)
    fresh = [r for r in parsed if r.key not in existing and r.key.startswith("+") and not r.duplicate]
    first_of: dict[str, _Row] = {}
    for row in fresh:
        first_of.setdefault(row.key, row)
    inserted = await _insert(session, context.client_id, sorted(first_of.values(), key=lambda r: r.key), now)
    if len(inserted) < len(first_of):  # taken meanwhile by another import or an incoming message
        existing.update(await _existing(session, context.client_id, [r for r in first_of.values()
                                                                      if r.key not in inserted]))
    for row in parsed:
        if row.key in inserted and first_of.get(row.key) is row:
            outcome, contact_id = RowOutcome.created, inserted[row.key]
        else:
            contact = existing.get(row.key)
            if contact is None and row.key in inserted:
                contact = await session.get(Contact, inserted[row.key])
            if contact is None:
                lines.append({"row_number": row.number, "outcome": RowOutcome.refused, "contact_id": None,
                              "column": None, "reason": "documento desconocido y sin teléfono"})
                counts[RowOutcome.refused] += 1
                continue
            _apply(contact, row.values, overwrite=not row.duplicate, now=now)
            outcome, contact_id = (RowOutcome.duplicate if row.duplicate else RowOutcome.updated), contact.id
        for kind, opted_out in row.values.get("consent", {}).items():
            await set_consent(session, contact_id, kind, opted_out=opted_out, source=ConsentSource.import_.value,
                              membership_id=context.membership_id, clock=clock)
        lines.append({"row_number": row.number, "outcome": outcome, "contact_id": contact_id, "column": None,
                      "reason": None})
        counts[outcome] += 1
    await session.flush()
    return lines, counts


async def _existing(session: AsyncSession, client_id: int, rows: list[_Row]) -> dict[str, Contact]:
    by_phone = sorted({r.key for r in rows if r.key.startswith("+")})
    by_document = sorted({r.key.removeprefix("doc:") for r in rows if r.key.startswith("doc:")})
    found: dict[str, Contact] = {}
    if by_phone:
        for contact in (await session.scalars(select(Contact).where(
                Contact.client_id == client_id, Contact.phone.in_(by_phone)).order_by(Contact.id)
                .with_for_update())).all():
            found[contact.phone or ""] = contact
    if by_document:
        for contact in (await session.scalars(select(Contact).where(
                Contact.client_id == client_id, Contact.document_id.in_(by_document),
                Contact.erased_at.is_(None)).order_by(Contact.id).with_for_update())).all():
            found.setdefault(f"doc:{contact.document_id}", contact)
    return found


async def _insert(session: AsyncSession, client_id: int, rows: list[_Row], now: Any) -> dict[str, int]:
    if not rows:
        return {}
    dialect = postgresql if session.bind.dialect.name == "postgresql" else sqlite
    values = [{"client_id": client_id, "phone": r.key, "name": r.values.get("name", ""),
               "email": r.values.get("email"), "document_id": r.values.get("document_id"),
               "attributes": r.values.get("attributes", {}), "exclusive_agent_id": r.values.get("exclusive_agent_id"),
               "created_at": now, "updated_at": None} for r in rows]
    # One cached statement run with many parameter sets (SQLAlchemy batches them into multi-row
    # INSERTs with RETURNING): a literal 1,000-row VALUES would be compiled anew for every chunk.
    stmt = dialect.insert(Contact).on_conflict_do_nothing(
        index_elements=["client_id", "phone"], index_where=Contact.phone.is_not(None)
    ).returning(Contact.id, Contact.phone)
    return {phone: contact_id for contact_id, phone in (await session.execute(stmt, values)).all()}


def _apply(contact: Contact, values: dict[str, Any], *, overwrite: bool, now: Any) -> None:
    """The file's non-empty values onto the contact (a duplicate line only fills blanks)."""
    for key in ("name", "email", "document_id", "exclusive_agent_id"):
        if key in values and (overwrite or not getattr(contact, key)):
            setattr(contact, key, values[key])
    if "phone" in values and not contact.phone:
        contact.phone = values["phone"]
    if values.get("attributes"):
        merged = dict(contact.attributes or {})
        for key, value in values["attributes"].items():
            if overwrite or merged.get(key) in (None, ""):
                merged[key] = value
        contact.attributes = merged
    contact.updated_at = now
