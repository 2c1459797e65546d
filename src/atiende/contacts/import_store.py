"""Writing one chunk of an import (``contacts/jobs.py`` parses it): a fixed handful of statements
whatever its size. The phones new to the file go in with one ``INSERT … ON CONFLICT DO NOTHING …
RETURNING`` on the (client, phone) index, in phone order, so two imports at once, or an import while
messages arrive from the same phones, never make twins and never deadlock; the contacts that were
already there (or arrived meanwhile) are then read and locked in one SELECT per key kind and
updated. Changed contacts, consent and the report lines are written in one batch each. Contacts
are plain dicts, never ORM objects.

On PostgreSQL the multi-row statements take their rows as arrays (``unnest``): one statement and a
few parameters per chunk instead of SQLAlchemy handling every row's parameters."""

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, Text, bindparam, cast, func, insert, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import TypeEngine

from atiende.channels.models import ChannelKind
from atiende.contacts.consent import ContactOptedIn, ContactOptedOut, publish
from atiende.contacts.models import ConsentChange, ConsentSource, ContactConsent, ContactImportRow, RowOutcome
from atiende.conversations.models import Contact
from atiende.db import UTCDateTime


@dataclass
class Row:
    """A parsed row of the file."""

    number: int
    values: dict[str, Any]  # field → typed value (non-empty only)
    key: str  # "+57…" or "doc:…"
    duplicate: bool = False  # the key came earlier in the file


@dataclass
class Chunk:
    first: int  # the file's row number of its first row
    size: int  # rows read from the file, blank ones included
    rows: list[Row]
    refused: list[dict[str, Any]]  # report lines of rows refused while parsing


def line(number: int, outcome: RowOutcome, contact_id: int | None = None, column: str | None = None,
         reason: str | None = None) -> dict[str, Any]:
    return {"row_number": number, "outcome": outcome.value, "contact_id": contact_id, "column": column,
            "reason": reason}


async def store(session: AsyncSession, client_id: int, membership_id: int | None, import_id: int, chunk: Chunk,
                now: datetime) -> dict[RowOutcome, int]:
    """Write the chunk's contacts, consent and report lines; the count of each outcome."""
    lines = list(chunk.refused)
    counts = dict.fromkeys(RowOutcome, 0)
    counts[RowOutcome.refused] = len(lines)
    first_of: dict[str, Row] = {}
    for row in chunk.rows:
        if row.key.startswith("+") and not row.duplicate:
            first_of.setdefault(row.key, row)
    # A phone first seen in the file is tried as a new contact; the ones already known (the insert
    # leaves them out) are read afterwards with the repeats and the rows known by document only.
    inserted = await _insert(session, client_id, sorted(first_of.values(), key=lambda r: r.key), now)
    existing = await _existing(session, client_id, [r for r in chunk.rows if r.key not in inserted])
    changed: dict[int, dict[str, Any]] = {}
    consent: list[tuple[int, str, bool]] = []
    for row in chunk.rows:
        if row.key in inserted and first_of.get(row.key) is row:
            outcome, contact = RowOutcome.created, inserted[row.key]
        else:
            contact = existing.get(row.key) or inserted.get(row.key)
            if contact is None:
                lines.append(line(row.number, RowOutcome.refused, reason="documento desconocido y sin teléfono"))
                counts[RowOutcome.refused] += 1
                continue
            _apply(contact, row.values, overwrite=not row.duplicate, now=now)
            changed[contact["id"]] = contact
            outcome = RowOutcome.duplicate if row.duplicate else RowOutcome.updated
        if "consent" in row.values:
            consent.extend((contact["id"], kind, out) for kind, out in row.values["consent"].items())
        lines.append(line(row.number, outcome, contact["id"]))
        counts[outcome] += 1
    await _update(session, list(changed.values()))
    await _set_consents(session, client_id, membership_id, consent, now)
    await _report(session, import_id, lines)
    return counts


def _postgresql(session: AsyncSession) -> bool:
    return session.bind.dialect.name == "postgresql"


def _arrays(**columns: tuple[TypeEngine[Any], list[Any]]) -> Any:
    """PostgreSQL: ``unnest($1::t1[], $2::t2[], …) AS anon(name1, name2, …)``."""
    arrays = (bindparam(None, values, type_=postgresql.ARRAY(kind)) for kind, values in columns.values())
    return func.unnest(*arrays).table_valued(*columns).render_derived()


def _any_of(session: AsyncSession, column: Any, values: list[Any]) -> Any:
    """``column IN values``. On PostgreSQL ``IN (SELECT unnest(array))``: one statement text for
    every chunk, so it is prepared once, and a semi-join whose plan stays good when PostgreSQL
    switches to a generic plan on stale statistics (``= ANY(array)`` then became a sequential scan
    comparing every contact with the whole array: minutes for an import of 100,000 rows)."""
    if _postgresql(session):
        return column.in_(select(func.unnest(bindparam(None, values, type_=postgresql.ARRAY(column.type)))))
    return column.in_(values)


_STATE = (Contact.id, Contact.phone, Contact.name, Contact.email, Contact.document_id, Contact.exclusive_agent_id,
          Contact.attributes)


async def _existing(session: AsyncSession, client_id: int, rows: list[Row]) -> dict[str, dict[str, Any]]:
    """Known contacts of these rows' keys, locked, as dicts."""
    by_phone = sorted({r.key for r in rows if r.key.startswith("+")})
    by_document = sorted({r.key.removeprefix("doc:") for r in rows if r.key.startswith("doc:")})
    found: dict[str, dict[str, Any]] = {}
    if by_phone:
        for contact in (await session.execute(select(*_STATE).where(
                Contact.client_id == client_id, _any_of(session, Contact.phone, by_phone)).order_by(Contact.id)
                .with_for_update())).mappings():
            found[contact["phone"] or ""] = dict(contact)
    if by_document:
        for contact in (await session.execute(select(*_STATE).where(
                Contact.client_id == client_id, _any_of(session, Contact.document_id, by_document),
                Contact.erased_at.is_(None)).order_by(Contact.id).with_for_update())).mappings():
            found.setdefault(f"doc:{contact['document_id']}", dict(contact))
    return found


def _new_contact(client_id: int, row: Row, now: datetime) -> dict[str, Any]:
    values = row.values
    return {"client_id": client_id, "phone": row.key, "name": values.get("name", ""), "email": values.get("email"),
            "document_id": values.get("document_id"), "attributes": values.get("attributes", {}),
            "exclusive_agent_id": values.get("exclusive_agent_id"), "created_at": now, "updated_at": None}


async def _insert(session: AsyncSession, client_id: int, rows: list[Row], now: datetime) -> dict[str, dict[str, Any]]:
    """The new contacts by phone (``ON CONFLICT DO NOTHING``: a phone taken meanwhile is left out)."""
    if not rows:
        return {}
    fresh = {r.key: _new_contact(client_id, r, now) for r in rows}
    table = Contact.__table__
    if _postgresql(session):
        src = _arrays(phone=(Text(), [c["phone"] for c in fresh.values()]),
                      name=(Text(), [c["name"] for c in fresh.values()]),
                      email=(Text(), [c["email"] for c in fresh.values()]),
                      document_id=(Text(), [c["document_id"] for c in fresh.values()]),
                      attributes=(Text(), [json.dumps(c["attributes"]) if c["attributes"] else "{}"
                                           for c in fresh.values()]),
                      agent=(Integer(), [c["exclusive_agent_id"] for c in fresh.values()]))
        stmt = postgresql.insert(table).from_select(
            ["client_id", "phone", "name", "email", "document_id", "attributes", "exclusive_agent_id", "created_at",
             "updated_at"],
            select(literal(client_id, Integer()), src.c.phone, src.c.name, src.c.email, src.c.document_id,
                   cast(src.c.attributes, JSON), src.c.agent, literal(now, UTCDateTime()),
                   literal(None, UTCDateTime())))
        result = await session.execute(stmt.on_conflict_do_nothing(
            index_elements=["client_id", "phone"], index_where=Contact.phone.is_not(None)
        ).returning(table.c.id, table.c.phone))
    else:
        stmt = sqlite.insert(table).on_conflict_do_nothing(
            index_elements=["client_id", "phone"], index_where=Contact.phone.is_not(None)
        ).returning(table.c.id, table.c.phone)
        result = await session.execute(stmt, list(fresh.values()))
    return {phone: {**fresh[phone], "id": contact_id} for contact_id, phone in result.all()}


def _apply(contact: dict[str, Any], values: dict[str, Any], *, overwrite: bool, now: datetime) -> None:
    """The file's non-empty values onto the contact (a duplicate line only fills blanks)."""
    for key in ("name", "email", "document_id", "exclusive_agent_id"):
        if key in values and (overwrite or not contact[key]):
            contact[key] = values[key]
    if "phone" in values and not contact["phone"]:
        contact["phone"] = values["phone"]
    if values.get("attributes"):
        merged = dict(contact["attributes"] or {})
        for key, value in values["attributes"].items():
            if overwrite or merged.get(key) in (None, ""):
                merged[key] = value
        contact["attributes"] = merged
    contact["updated_at"] = now


_UPDATED = ("phone", "name", "email", "document_id", "exclusive_agent_id", "attributes", "updated_at")


async def _update(session: AsyncSession, contacts: list[dict[str, Any]]) -> None:
    if not contacts:
        return
    table = Contact.__table__
    stmt = update(table).where(table.c.id == bindparam("b_id")).values(
        {name: bindparam(f"b_{name}") for name in _UPDATED})
    await session.execute(stmt, [{"b_id": c["id"], **{f"b_{name}": c[name] for name in _UPDATED}}
                                 for c in sorted(contacts, key=lambda c: c["id"])])


async def _set_consents(session: AsyncSession, client_id: int, membership_id: int | None,
                        wanted: list[tuple[int, str, bool]], now: datetime) -> None:
    """The file's consent columns in file order, recorded as ``consent.set_consent`` records one
    change (a history line and an event, only where the state differs), in three statements."""
    if not wanted:
        return
    ids = sorted({contact_id for contact_id, _, _ in wanted})
    state = {(contact_id, ChannelKind(kind)): opted_out for contact_id, kind, opted_out in (await session.execute(
        select(ContactConsent.contact_id, ContactConsent.channel_kind, ContactConsent.opted_out).where(
            _any_of(session, ContactConsent.contact_id, ids)).order_by(ContactConsent.id).with_for_update())).all()}
    final: dict[tuple[int, ChannelKind], bool] = {}
    history: list[dict[str, Any]] = []
    for contact_id, kind_name, opted_out in wanted:
        kind = ChannelKind(kind_name)
        if state.get((contact_id, kind), False) == opted_out:
            continue
        state[(contact_id, kind)] = final[(contact_id, kind)] = opted_out
        history.append({"client_id": client_id, "contact_id": contact_id, "channel_kind": kind.value,
                        "opted_out": opted_out, "source": ConsentSource.import_.value, "membership_id": membership_id,
                        "at": now})
        event = ContactOptedOut if opted_out else ContactOptedIn
        publish(session, None, event(client_id=client_id, contact_id=contact_id, channel_kind=kind.value,
                                     source=ConsentSource.import_.value))
    if not final:
        return
    dialect = postgresql if _postgresql(session) else sqlite
    upsert = dialect.insert(ContactConsent.__table__)
    await session.execute(upsert.on_conflict_do_update(
        index_elements=["contact_id", "channel_kind"],
        set_={"opted_out": upsert.excluded.opted_out, "changed_at": upsert.excluded.changed_at}),
        [{"contact_id": c, "channel_kind": k.value, "opted_out": o, "changed_at": now}
         for (c, k), o in sorted(final.items())])
    await session.execute(insert(ConsentChange.__table__), history)


async def _report(session: AsyncSession, import_id: int, lines: list[dict[str, Any]]) -> None:
    if not lines:
        return
    table = ContactImportRow.__table__
    if not _postgresql(session):
        await session.execute(insert(table), [{"import_id": import_id, **item} for item in lines])
        return
    src = _arrays(n=(Integer(), [item["row_number"] for item in lines]),
                  outcome=(Text(), [item["outcome"] for item in lines]),
                  contact=(Integer(), [item["contact_id"] for item in lines]),
                  col=(Text(), [item["column"] for item in lines]),
                  reason=(Text(), [item["reason"] for item in lines]))
    await session.execute(insert(table).from_select(
        ["import_id", "row_number", "outcome", "contact_id", "column", "reason"],
        select(literal(import_id, Integer()), src.c.n, src.c.outcome, src.c.contact, src.c.col, src.c.reason)))
