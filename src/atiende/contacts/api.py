"""REST for the contacts directory; every rule is in the services (service, consent, merge, imports)."""

import csv
import io
from collections.abc import AsyncIterator
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import StreamingResponse

from atiende.auth.caller import Caller
from atiende.channels.models import ChannelKind
from atiende.contacts import consent, merge, views
from atiende.contacts.models import ConsentSource
from atiende.contacts.schemas import (
    ConsentIn, ContactDetailOut, ContactOut, ContactPatch, ContactSettingsIn, ContactSettingsOut, EraseIn, MergeIn,
)
from atiende.contacts.service import ContactFilters, client_region, contact_service, save_settings, settings_of
from atiende.conversations.models import Contact
from atiende.db import Database
from atiende.deps import AdminsWrite, BusDep, ClockDep, CurrentCaller, DatabaseDep, DbSession, SettingsDep, SupervisorsWrite
from atiende.kit.pagination import Page, PageDep, PageParams, SearchParam
from atiende.kit.schemas import MAX_ID
from atiende.reports.filters import client_of

router = APIRouter(prefix="/api/v1/contacts", tags=["contacts"])
IdQuery = Annotated[int | None, Query(ge=1, le=MAX_ID)]
_ONE = PageParams(page=1, limit=1)


async def contact_path(contact_id: Annotated[int, Path(ge=1, le=MAX_ID)], session: DbSession,
                       caller: CurrentCaller) -> Contact:
    return await contact_service.get(session, caller, contact_id)


ContactPath = Annotated[Contact, Depends(contact_path)]


def contact_filters(
        q: SearchParam = None, channel_id: IdQuery = None, channel_kind: ChannelKind | None = None,
        exclusive_agent_id: Annotated[int | None, Query(ge=1, le=MAX_ID, description="Contacts of this agent's cartera")] = None,
        has_exclusive_agent: bool | None = None,
        opted_out: Annotated[bool | None, Query(description="Opted out (of channel_kind, if given)")] = None,
        created_from: Annotated[date | None, Query(description="First day (the client's time zone)")] = None,
        created_to: Annotated[date | None, Query(description="Last day, included")] = None) -> ContactFilters:
    return ContactFilters(q=q, channel_id=channel_id, channel_kind=channel_kind,
                          exclusive_agent_id=exclusive_agent_id, has_exclusive_agent=has_exclusive_agent,
                          opted_out=opted_out, created_from=created_from, created_to=created_to)


FiltersDep = Annotated[ContactFilters, Depends(contact_filters)]


@router.get("", response_model=Page[ContactOut],
            summary="The directory (agents: contacts of their conversations); search name, phone in any format, "
                    "email, document, attribute")
async def list_contacts(session: DbSession, caller: CurrentCaller, page: PageDep, filters: FiltersDep,
                        client_id: IdQuery = None) -> Any:
    cid = client_of(caller, client_id)
    items, total, shown = await contact_service.page(session, caller, cid, filters, page=page)
    return {"items": await views.summaries(session, cid, items, shown), "total": total, "page": page.page,
            "limit": page.limit}


def csv_safe(value: Any) -> str:
    """A cell no spreadsheet runs as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


EXPORT_HEADER = ["id", "nombre", "telefono", "email", "documento", "agente_exclusivo", "bajas", "creado", "atributos"]


async def export_lines(database: Database, caller: Caller, client_id: int,
                       filters: ContactFilters) -> AsyncIterator[bytes]:
    """The CSV, read in batches from its own session (the response streams after the request's ends)."""
    async with database.session() as session:
        async for chunk in _export_lines(session, caller, client_id, filters):
            yield chunk


async def _export_lines(session: Any, caller: Caller, client_id: int, filters: ContactFilters) -> AsyncIterator[bytes]:
    def line(values: list[Any]) -> bytes:
        buffer = io.StringIO()
        csv.writer(buffer).writerow([csv_safe(v) for v in values])
        return buffer.getvalue().encode("utf-8")

    yield "\ufeff".encode() + line(EXPORT_HEADER)
    batch: list[tuple[Contact, bool]] = []

    async def flush() -> AsyncIterator[bytes]:
        kinds = await views.opted_out_kinds(session, [c.id for c, _ in batch])
        names = await views.member_names(session, {c.exclusive_agent_id or 0 for c, _ in batch})
        for contact, shown in batch:
            yield line([contact.id, contact.name, contact.phone if shown else "", contact.email or "",
                        contact.document_id or "", names.get(contact.exclusive_agent_id or 0, ""),
                        " ".join(kinds.get(contact.id, [])), contact.created_at.isoformat(),
                        "; ".join(f"{k}={v}" for k, v in (contact.attributes or {}).items())])

    async for contact, shown in contact_service.all_matching(session, caller, client_id, filters):
        batch.append((contact, shown))
        if len(batch) >= 500:
            async for chunk in flush():
                yield chunk
            batch = []
    async for chunk in flush():
        yield chunk


@router.get("/export.csv", summary="The filtered directory as CSV (cells never start a formula)",
            response_class=StreamingResponse)
async def export_contacts(session: DbSession, caller: CurrentCaller, filters: FiltersDep, database: DatabaseDep,
                          client_id: IdQuery = None) -> StreamingResponse:
    cid = client_of(caller, client_id)
    await contact_service.page(session, caller, cid, filters, page=_ONE)  # refuses before streaming starts
    return StreamingResponse(export_lines(database, caller, cid, filters), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="contactos-{cid}.csv"'})


@router.get("/settings", response_model=ContactSettingsOut, summary="Default phone region and consent keywords")
async def read_settings(session: DbSession, caller: CurrentCaller, client_id: IdQuery = None) -> Any:
    cid = client_of(caller, client_id)
    caller.membership(cid)
    return _settings_out(await settings_of(session, cid), await client_region(session, cid))


@router.put("/settings", response_model=ContactSettingsOut, dependencies=[AdminsWrite], summary="Set the default region and consent keywords (admins)")
async def write_settings(body: ContactSettingsIn, session: DbSession, caller: CurrentCaller,
                         client_id: IdQuery = None) -> Any:
    cid = client_of(caller, client_id)
    saved = await save_settings(session, caller, cid, body.model_dump(exclude_unset=True))
    return _settings_out(saved, await client_region(session, cid))


def _settings_out(found: Any, region: str) -> ContactSettingsOut:
    return ContactSettingsOut(client_id=found.client_id, default_region=region, opt_out_keywords=found.opt_out_keywords,
                              opt_in_keywords=found.opt_in_keywords, opt_out_reply=found.opt_out_reply,
                              opt_in_reply=found.opt_in_reply)


@router.get("/{contact_id}", response_model=ContactDetailOut,
            summary="A contact: identities, consent per channel, conversations (newest first)")
async def read_contact(contact: ContactPath, session: DbSession, caller: CurrentCaller) -> Any:
    return await views.detail(session, caller, contact)


@router.patch("/{contact_id}", response_model=ContactDetailOut,
              dependencies=[SupervisorsWrite], summary="Edit a contact (admins, supervisors): name, phone, email, document, attributes, exclusive agent")
async def update_contact(contact: ContactPath, body: ContactPatch, session: DbSession, caller: CurrentCaller,
                         clock: ClockDep) -> Any:
    changes = body.model_dump(exclude_unset=True)
    await contact_service.update(session, caller, contact, changes, now=clock.now())
    return await views.detail(session, caller, contact)


@router.put("/{contact_id}/consent/{channel_kind}", response_model=ContactDetailOut,
            summary="Opt the contact out of (or back into) a kind of channel")
async def set_consent(contact: ContactPath, channel_kind: ChannelKind, body: ConsentIn, session: DbSession,
                      caller: CurrentCaller, clock: ClockDep, bus: BusDep) -> Any:
    membership = caller.membership(contact.client_id)
    await consent.set_consent(session, contact.id, channel_kind.value, opted_out=body.opted_out,
                              source=ConsentSource.api.value,
                              membership_id=membership.id, bus=bus, clock=clock)
    return await views.detail(session, caller, contact)


@router.post("/{contact_id}/merge", response_model=ContactDetailOut,
             dependencies=[SupervisorsWrite], summary="Merge another contact (same person on another channel) into this one")
async def merge_contacts(contact: ContactPath, body: MergeIn, session: DbSession, caller: CurrentCaller,
                         clock: ClockDep) -> Any:
    other = await contact_service.get(session, caller, body.other_contact_id)
    if other.client_id != contact.client_id:
        from atiende.contacts.service import ContactNotFound

        raise ContactNotFound("other_contact_id")
    kept = await merge.merge(session, caller, contact, other, now=clock.now())
    return await views.detail(session, caller, kept)


@router.post("/{contact_id}/erase", response_model=ContactOut,
             dependencies=[AdminsWrite], summary="Erase a person's data (admins): personal data, message texts and files; counts stay")
async def erase_contact(contact: ContactPath, body: EraseIn, session: DbSession, caller: CurrentCaller,
                        clock: ClockDep, settings: SettingsDep) -> Any:
    erased = await merge.erase(session, caller, contact, confirm=body.confirm, now=clock.now(), settings=settings)
    return views.summary(erased, phone_shown=False, region="CO", opted_out=[])

