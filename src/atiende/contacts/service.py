"""The directory's rules: one contact per phone and client, who may see which contact (and its
phone), search and filters, edits (exclusive agent, typed attributes).

``upsert_by_phone`` is the entry point other domains (outbound sends, imports) use to make sure a
person exists: it fills what is blank and never overwrites a value with an empty one.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo
from typing import Any

from sqlalchemy import String, and_, cast, exists, false, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from atiende.auth.caller import Caller
from atiende.auth.models import Membership, Role
from atiende.campaigns.models import Campaign
from atiende.catalog.fields import validate_field_value
from atiende.catalog.models import FieldDefinition
from atiende.channels.models import Channel, ChannelKind
from atiende.clock import Clock
from atiende.contacts import phones, runtime
from atiende.contacts.models import (
    DEFAULT_OPT_IN_KEYWORDS, DEFAULT_OPT_IN_REPLY, DEFAULT_OPT_OUT_KEYWORDS, DEFAULT_OPT_OUT_REPLY, ContactConsent,
    ContactSettings,
)
from atiende.conversations.models import Assignment, Contact, ContactIdentity, Conversation
from atiende.errors import Conflict, Invalid, NotFound
from atiende.kit.pagination import PageParams, paginate
from atiende.kit.search import contains

SUPERVISING = (Role.admin, Role.supervisor)


class ContactNotFound(NotFound):
    code = "contact.not_found"

    def __init__(self, field_name: str = "contact_id") -> None:
        super().__init__("Contact not found", field=field_name)


class PhoneInvalid(Invalid):
    code = "contact.phone_invalid"

    def __init__(self, field_name: str = "phone") -> None:
        super().__init__("Invalid phone number", field=field_name)


class PhoneTaken(Conflict):
    code = "contact.phone_taken"

    def __init__(self, other_id: int) -> None:
        super().__init__("Another contact of this client has that phone; merge them instead",
                         field="phone", extra={"contact_id": other_id})


class ExclusiveAgentInvalid(Invalid):
    code = "contact.exclusive_agent_invalid"

    def __init__(self, field_name: str = "exclusive_agent_id") -> None:
        super().__init__("The exclusive agent must be an active agent of this client", field=field_name)


class AttributeUnknown(Invalid):
    code = "contact.attribute_unknown"

    def __init__(self, key: str) -> None:
        super().__init__(f"No field definition named {key!r}", field=f"attributes.{key}")


class RegionInvalid(Invalid):
    code = "contact.region_invalid"

    def __init__(self) -> None:
        super().__init__("Unknown region code (ISO 3166, e.g. CO)", field="default_region")


# --- settings ----------------------------------------------------------------------------------

async def settings_of(session: AsyncSession, client_id: int) -> ContactSettings:
    """The client's consent settings (defaults until someone saves them)."""
    found = await session.get(ContactSettings, client_id)
    if found is not None:
        return found
    return ContactSettings(client_id=client_id, opt_out_keywords=list(DEFAULT_OPT_OUT_KEYWORDS),
                           opt_in_keywords=list(DEFAULT_OPT_IN_KEYWORDS), opt_out_reply=DEFAULT_OPT_OUT_REPLY,
                           opt_in_reply=DEFAULT_OPT_IN_REPLY)


async def client_region(session: AsyncSession, client_id: int) -> str:
    """The client's phone region (``Client.phone_region``), read for numbers without a country code."""
    from atiende.tenancy.models import Client

    region = await session.scalar(select(Client.phone_region).where(Client.id == client_id))
    return region or phones.DEFAULT_REGION


# --- upsert ------------------------------------------------------------------------------------

def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def fill_blanks(contact: Contact, *, name: str | None = None, attributes: dict[str, Any] | None = None,
                email: str | None = None, document_id: str | None = None) -> bool:
    """Set what the contact lacks; never replaces a value, never writes an empty one."""
    changed = False
    if not _blank(name) and _blank(contact.name):
        contact.name, changed = str(name).strip()[:120], True
    if not _blank(email) and _blank(contact.email):
        contact.email, changed = str(email).strip().lower()[:200], True
    if not _blank(document_id) and _blank(contact.document_id):
        contact.document_id, changed = str(document_id).strip()[:40], True
    if attributes:
        merged = dict(contact.attributes or {})
        for key, value in attributes.items():
            if not _blank(value) and _blank(merged.get(key)):
                merged[key], changed = value, True
        contact.attributes = merged
    return changed


async def upsert_by_phone(session: AsyncSession, client_id: int, phone: str, *, name: str | None = None,
                          attributes: dict | None = None, default_region: str | None = None,
                          clock: Clock | None = None) -> Contact:
    """The client's contact with ``phone`` (any format; E.164 with ``default_region`` — else the
    client's — for numbers without a country code), created if missing. Safe under concurrency:
    the unique (client, phone) index decides, and the loser reads the winner's row."""
    region = default_region or await client_region(session, client_id)
    try:
        e164 = phones.to_e164(phone, region)
    except ValueError:
        raise PhoneInvalid() from None
    contact = await by_phone(session, client_id, e164)
    if contact is None:
        now = (clock or runtime.app_clock()).now()
        candidate = Contact(client_id=client_id, name="", phone=e164, attributes={}, created_at=now)
        try:
            async with session.begin_nested():
                session.add(candidate)
                await session.flush()
            contact = candidate
        except IntegrityError:
            contact = await by_phone(session, client_id, e164)
            if contact is None:
                raise
    if fill_blanks(contact, name=name, attributes=attributes):
        contact.updated_at = (clock or runtime.app_clock()).now()
    await session.flush()
    return contact


async def by_phone(session: AsyncSession, client_id: int, e164: str) -> Contact | None:
    return await session.scalar(select(Contact).where(Contact.client_id == client_id, Contact.phone == e164)
                                .execution_options(populate_existing=True))


# --- who sees what -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Visibility:
    """What one caller may see in one client: every contact (supervisors, admins) or those of
    the agent's conversations, and whose phone."""

    client_id: int
    membership_id: int
    supervising: bool
    phone_campaign_ids: tuple[int, ...] = ()  # campaigns whose agents see the number

    def contact_filter(self) -> ColumnElement[bool]:
        if self.supervising:
            return Contact.client_id == self.client_id
        return and_(Contact.client_id == self.client_id, exists().where(
            Assignment.contact_id == Contact.id, Assignment.membership_id == self.membership_id))

    def phone_filter(self) -> ColumnElement[bool]:
        """Contacts whose phone this caller may see (and so search by)."""
        if self.supervising:
            return Contact.client_id == self.client_id
        if not self.phone_campaign_ids:
            return false()
        return exists().where(Assignment.contact_id == Contact.id, Assignment.membership_id == self.membership_id,
                              Assignment.campaign_id.in_(self.phone_campaign_ids))


async def visibility(session: AsyncSession, caller: Caller, client_id: int) -> Visibility:
    membership = caller.membership(client_id)
    if membership.role in SUPERVISING:
        return Visibility(client_id, membership.id, True)
    campaigns = (await session.scalars(select(Campaign).where(Campaign.client_id == client_id))).all()
    return Visibility(client_id, membership.id, False,
                      tuple(c.id for c in campaigns if c.permissions.show_contact_number))


async def shows_phone(session: AsyncSession, seen: Visibility, contact_ids: Sequence[int]) -> set[int]:
    """Of ``contact_ids``, those whose phone the caller may see."""
    if not contact_ids:
        return set()
    if seen.supervising:
        return set(contact_ids)
    return set((await session.scalars(select(Contact.id).where(Contact.id.in_(contact_ids),
                                                               seen.phone_filter()))).all())


# --- reads -------------------------------------------------------------------------------------

@dataclass
class ContactFilters:
    q: str | None = None
    channel_id: int | None = None
    channel_kind: ChannelKind | None = None
    exclusive_agent_id: int | None = None
    has_exclusive_agent: bool | None = None
    opted_out: bool | None = None
    created_from: date | None = None  # days in the client's time zone, both included
    created_to: date | None = None


def _search(seen: Visibility, q: str, region: str) -> ColumnElement[bool]:
    term = q.strip().lower()
    conditions: list[ColumnElement[bool]] = [
        contains(Contact.name, term), contains(Contact.email, term), contains(Contact.document_id, term),
        contains(cast(Contact.attributes, String), term),
    ]
    digits = "".join(ch for ch in term if ch.isdigit())
    by_phone: list[ColumnElement[bool]] = []
    e164 = phones.maybe_e164(q, region)
    if e164:
        by_phone.append(Contact.phone == e164)
    if len(digits) >= 4:
        by_phone.append(Contact.phone.like(f"%{digits}%"))
    if by_phone:
        conditions.append(and_(or_(*by_phone), seen.phone_filter()))
    return or_(*conditions)


def _day_start(day: date, zone: str) -> datetime:
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(zone)).astimezone(UTC)


async def _zone(session: AsyncSession, client_id: int) -> str:
    from atiende.tenancy.models import Client

    return await session.scalar(select(Client.timezone).where(Client.id == client_id)) or "America/Bogota"


class ContactService:
    async def get(self, session: AsyncSession, caller: Caller, contact_id: int) -> Contact:
        contact = await session.scalar(select(Contact).where(Contact.id == contact_id,
                                                             Contact.client_id.in_(caller.client_ids)))
        if contact is None:
            raise ContactNotFound()
        seen = await visibility(session, caller, contact.client_id)
        if not seen.supervising and not await session.scalar(
                select(exists().where(Contact.id == contact.id, seen.contact_filter()))):
            raise ContactNotFound()
        return contact

    def _listing(self, seen: Visibility, filters: ContactFilters, region: str,  # noqa: ANN202 - a Select
                 zone: str = "America/Bogota"):
        stmt = select(Contact).where(seen.contact_filter(), Contact.erased_at.is_(None))
        if filters.q:
            stmt = stmt.where(_search(seen, filters.q, region))
        if filters.channel_id is not None:
            stmt = stmt.where(exists().where(ContactIdentity.contact_id == Contact.id,
                                             ContactIdentity.channel_id == filters.channel_id))
        if filters.channel_kind is not None:
            stmt = stmt.where(exists().where(ContactIdentity.contact_id == Contact.id,
                                             ContactIdentity.channel_id == Channel.id,
                                             Channel.kind == filters.channel_kind))
        if filters.exclusive_agent_id is not None:
            stmt = stmt.where(Contact.exclusive_agent_id == filters.exclusive_agent_id)
        if filters.has_exclusive_agent is not None:
            stmt = stmt.where(Contact.exclusive_agent_id.is_not(None) if filters.has_exclusive_agent
                              else Contact.exclusive_agent_id.is_(None))
        if filters.opted_out is not None:
            opted = exists().where(ContactConsent.contact_id == Contact.id, ContactConsent.opted_out.is_(True),
                                   *([ContactConsent.channel_kind == filters.channel_kind]
                                     if filters.channel_kind else []))
            stmt = stmt.where(opted if filters.opted_out else ~opted)
        if filters.created_from is not None:
            stmt = stmt.where(Contact.created_at >= _day_start(filters.created_from, zone))
        if filters.created_to is not None:
            stmt = stmt.where(Contact.created_at < _day_start(filters.created_to + timedelta(days=1), zone))
        return stmt.order_by(Contact.id.desc())

    async def page(self, session: AsyncSession, caller: Caller, client_id: int, filters: ContactFilters, *,
                   page: PageParams) -> tuple[list[Contact], int, set[int]]:
        """A page of the directory, newest first, with the ids whose phone the caller may see."""
        seen = await visibility(session, caller, client_id)
        region = await client_region(session, client_id)
        items, total = await paginate(session, self._listing(seen, filters, region, await _zone(session, client_id)),
                                      page)
        return items, total, await shows_phone(session, seen, [c.id for c in items])

    async def all_matching(self, session: AsyncSession, caller: Caller, client_id: int, filters: ContactFilters,
                           *, batch: int = 1000):  # noqa: ANN201 - an async iterator of (contact, phone shown)
        """Every contact of the filtered list, in batches (the CSV export)."""
        seen = await visibility(session, caller, client_id)
        region = await client_region(session, client_id)
        stmt = self._listing(seen, filters, region, await _zone(session, client_id))
        last_id: int | None = None
        while True:
            page_stmt = stmt if last_id is None else stmt.where(Contact.id < last_id)
            rows = list((await session.scalars(page_stmt.limit(batch))).all())
            if not rows:
                return
            shown = await shows_phone(session, seen, [c.id for c in rows])
            for contact in rows:
                yield contact, contact.id in shown
            last_id = rows[-1].id

    async def phone_visible(self, session: AsyncSession, caller: Caller, contact: Contact) -> bool:
        seen = await visibility(session, caller, contact.client_id)
        return contact.id in await shows_phone(session, seen, [contact.id])

    async def identities(self, session: AsyncSession, contact_id: int) -> list[tuple[ContactIdentity, Channel]]:
        rows = (await session.execute(select(ContactIdentity, Channel).join(
            Channel, Channel.id == ContactIdentity.channel_id).where(ContactIdentity.contact_id == contact_id)
            .order_by(ContactIdentity.id))).all()
        return [(i, c) for i, c in rows]

    async def conversations(self, session: AsyncSession, caller: Caller, contact: Contact) -> list[Conversation]:
        """The contact's conversations in every campaign, newest first (agents: those they served)."""
        stmt = select(Conversation).where(Conversation.contact_id == contact.id)
        if caller.role_in(contact.client_id) not in SUPERVISING:
            me = caller.membership(contact.client_id).id
            stmt = stmt.where(exists().where(Assignment.conversation_id == Conversation.id,
                                             Assignment.membership_id == me))
        return list((await session.scalars(stmt.order_by(Conversation.opened_at.desc(), Conversation.id.desc())
                                           .limit(200))).unique().all())

    # --- writes --------------------------------------------------------------------------------

    async def check_exclusive_agent(self, session: AsyncSession, client_id: int, membership_id: int,
                                    field_name: str = "exclusive_agent_id") -> Membership:
        membership = await session.get(Membership, membership_id)
        if membership is None or membership.client_id != client_id or membership.role != Role.agent \
                or not membership.active:
            raise ExclusiveAgentInvalid(field_name)
        return membership

    async def typed_attributes(self, session: AsyncSession, client_id: int, values: dict[str, Any],
                               region: str | None = None) -> dict[str, Any]:
        """Each attribute validated by the client's field definition of that key (None clears)."""
        if not values:
            return {}
        definitions = {d.key: d for d in (await session.scalars(select(FieldDefinition).where(
            FieldDefinition.client_id == client_id, FieldDefinition.key.in_(list(values))))).all()}
        typed: dict[str, Any] = {}
        for key, value in values.items():
            definition = definitions.get(key)
            if definition is None:
                raise AttributeUnknown(key)
            checked = validate_field_value(definition, value, default_region=region, field=f"attributes.{key}")
            typed[key] = checked.isoformat() if hasattr(checked, "isoformat") else checked
        return typed

    async def update(self, session: AsyncSession, caller: Caller, contact: Contact, changes: dict[str, Any], *,
                     now: datetime) -> Contact:
        """Apply a patch (only the keys given). Agents may not edit contacts."""
        from atiende.audit.models import AuditAction
        from atiende.audit.service import audit_service

        caller.require(contact.client_id, *SUPERVISING)
        before = snapshot(contact)
        region = await client_region(session, contact.client_id)
        if "phone" in changes:
            contact.phone = await self._free_phone(session, contact, changes["phone"], region)
        for key in ("name", "email", "document_id"):
            if key in changes:
                value = changes[key]
                value = value.strip() if isinstance(value, str) else value
                if key == "email" and value:
                    value = value.lower()
                setattr(contact, key, value if value else ("" if key == "name" else None))
        if "exclusive_agent_id" in changes:
            agent_id = changes["exclusive_agent_id"]
            if agent_id is not None:
                await self.check_exclusive_agent(session, contact.client_id, agent_id)
            contact.exclusive_agent_id = agent_id
        if "attributes" in changes:
            typed = await self.typed_attributes(session, contact.client_id, changes["attributes"] or {}, region)
            merged = {**(contact.attributes or {}), **typed}
            contact.attributes = {k: v for k, v in merged.items() if v is not None}
        contact.updated_at = now
        await session.flush()
        after = snapshot(contact)
        if after != before:
            await audit_service.record(session, caller=caller, action=AuditAction.update, entity_type="contact",
                                       entity_id=contact.id, client_id=contact.client_id, at=now,
                                       before=before, after=after)
        return contact

    async def _free_phone(self, session: AsyncSession, contact: Contact, value: str | None, region: str) -> str | None:
        if value is None or not str(value).strip():
            return None
        try:
            e164 = phones.to_e164(value, region)
        except ValueError:
            raise PhoneInvalid() from None
        other = await session.scalar(select(Contact.id).where(Contact.client_id == contact.client_id,
                                                              Contact.phone == e164, Contact.id != contact.id))
        if other is not None:
            raise PhoneTaken(other)
        return e164


def snapshot(contact: Contact) -> dict[str, Any]:
    return {"name": contact.name, "phone": contact.phone, "email": contact.email, "document_id": contact.document_id,
            "exclusive_agent_id": contact.exclusive_agent_id, "attributes": dict(contact.attributes or {})}


contact_service = ContactService()


async def save_settings(session: AsyncSession, caller: Caller, client_id: int, changes: dict[str, Any]) -> ContactSettings:
    """Admins set the client's phone region and the consent keywords and answers."""
    from atiende.tenancy.models import Client

    caller.require_admin(client_id)
    region = changes.pop("default_region", None)
    if region is not None:
        if not phones.is_region(region):
            raise RegionInvalid()
        client = await session.get(Client, client_id)
        assert client is not None
        client.phone_region = region.upper()
    found = await session.get(ContactSettings, client_id)
    if found is None:
        found = await settings_of(session, client_id)
        session.add(found)
    for key, value in changes.items():
        if value is not None:
            setattr(found, key, value)
    await session.flush()
    from atiende.contacts.keywords import forget

    forget(client_id)
    return found
