"""Consent per channel kind: a contact opted out of WhatsApp gets no outbound campaign message
there. No row means opted in. Every change is kept in ``consent_changes`` (time, source, who)
and an opt-out publishes ``contact.opted_out`` (bus and outgoing webhooks) after commit."""

import unicodedata
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from atiende.bus import BusEvent, EventBus
from atiende.channels.models import ChannelKind
from atiende.clock import Clock
from atiende.contacts import runtime
from atiende.contacts.models import ConsentChange, ConsentSource, ContactConsent
from atiende.conversations.events import emit
from atiende.conversations.models import Contact
from atiende.errors import Invalid


class ContactOptedOut(BusEvent):
    kind: str = "contact.opted_out"
    contact_id: int
    channel_kind: str
    source: str


class ContactOptedIn(BusEvent):
    kind: str = "contact.opted_in"
    contact_id: int
    channel_kind: str
    source: str


class ConsentValueInvalid(Invalid):
    code = "contact.consent_invalid"

    def __init__(self, field_name: str, value: str) -> None:
        super().__init__(f"Unknown value {value!r}", field=field_name)


def _kind(value: str) -> ChannelKind:
    try:
        return ChannelKind(value)
    except ValueError:
        raise ConsentValueInvalid("channel_kind", value) from None


def _source(value: str) -> ConsentSource:
    try:
        return ConsentSource(value)
    except ValueError:
        raise ConsentValueInvalid("source", value) from None


async def is_opted_out(session: AsyncSession, contact_id: int, channel_kind: str) -> bool:
    return bool(await session.scalar(select(ContactConsent.opted_out).where(
        ContactConsent.contact_id == contact_id, ContactConsent.channel_kind == _kind(channel_kind))))


def opted_out_ids(channel_kind: str, *, among: Iterable[int] | None = None) -> Select[tuple[int]]:
    """The contacts opted out of a kind of channel (of ``among``, when given): one statement for a
    whole list, or a subquery."""
    query = select(ContactConsent.contact_id).where(ContactConsent.channel_kind == _kind(channel_kind),
                                                    ContactConsent.opted_out)
    return query if among is None else query.where(ContactConsent.contact_id.in_(list(among)))


async def consents(session: AsyncSession, contact_id: int) -> dict[ChannelKind, ContactConsent]:
    rows = (await session.scalars(select(ContactConsent).where(ContactConsent.contact_id == contact_id))).all()
    return {row.channel_kind: row for row in rows}


async def history(session: AsyncSession, contact_id: int, limit: int = 100) -> list[ConsentChange]:
    return list((await session.scalars(select(ConsentChange).where(ConsentChange.contact_id == contact_id)
                                       .order_by(ConsentChange.at.desc(), ConsentChange.id.desc())
                                       .limit(limit))).all())


async def opt_out(session: AsyncSession, contact_id: int, channel_kind: str, *, source: str,
                  membership_id: int | None = None, bus: EventBus | None = None, clock: Clock | None = None) -> None:
    """Opt the contact out of ``channel_kind``. Opting out twice records nothing new."""
    await set_consent(session, contact_id, channel_kind, opted_out=True, source=source, membership_id=membership_id,
                      bus=bus, clock=clock)


async def opt_in(session: AsyncSession, contact_id: int, channel_kind: str, *, source: str,
                 membership_id: int | None = None, bus: EventBus | None = None, clock: Clock | None = None) -> None:
    await set_consent(session, contact_id, channel_kind, opted_out=False, source=source, membership_id=membership_id,
                      bus=bus, clock=clock)


async def set_consent(session: AsyncSession, contact_id: int, channel_kind: str, *, opted_out: bool, source: str,
                      membership_id: int | None = None, bus: EventBus | None = None,
                      clock: Clock | None = None) -> bool:
    """Returns whether the state changed."""
    kind, origin = _kind(channel_kind), _source(source)
    now = (clock or runtime.app_clock()).now()
    contact = await session.get(Contact, contact_id)
    if contact is None:
        from atiende.contacts.service import ContactNotFound

        raise ContactNotFound()
    row, created = await _row(session, contact_id, kind, now)
    if row.opted_out == opted_out:
        return False  # opted out twice, or opted in without ever opting out
    row.opted_out, row.changed_at = opted_out, now
    session.add(ConsentChange(client_id=contact.client_id, contact_id=contact_id, channel_kind=kind,
                              opted_out=opted_out, source=origin, membership_id=membership_id, at=now))
    await session.flush()
    event_class = ContactOptedOut if opted_out else ContactOptedIn
    publish(session, bus, event_class(client_id=contact.client_id, contact_id=contact_id, channel_kind=kind.value,
                                      source=origin.value))
    return True


async def _row(session: AsyncSession, contact_id: int, kind: ChannelKind,
               now: datetime) -> tuple[ContactConsent, bool]:
    """The consent row, locked; created (opted in) if missing, safe against a concurrent insert."""
    stmt = select(ContactConsent).where(ContactConsent.contact_id == contact_id,
                                        ContactConsent.channel_kind == kind).with_for_update()
    row = await session.scalar(stmt)
    if row is not None:
        return row, False
    fresh = ContactConsent(contact_id=contact_id, channel_kind=kind, opted_out=False, changed_at=now)
    try:
        async with session.begin_nested():
            session.add(fresh)
            await session.flush()
        return fresh, True
    except IntegrityError:
        found = await session.scalar(stmt.execution_options(populate_existing=True))
        assert found is not None
        return found, False


def publish(session: AsyncSession, bus: EventBus | None, event: BusEvent) -> None:
    """After commit, on the given bus (else the app's). Outgoing webhooks capture it before the
    commit from the session's pending events, whichever bus publishes it."""
    emit(session, bus or runtime.app_bus(), event)


# --- keywords ------------------------------------------------------------------------------------

def fold(text: str) -> str:
    """Upper case, no accents, single spaces, no punctuation around: "¡No más mensajes!" → "NO MAS MENSAJES"."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    kept = "".join(ch if ch.isalnum() or ch.isspace() else " " for ch in plain)
    return " ".join(kept.upper().split())


def keyword_of(text: str, opt_out_words: list[str], opt_in_words: list[str]) -> bool | None:
    """True for an opt-out keyword (the whole message), False for an opt-in one, None otherwise."""
    said = fold(text or "")
    if not said:
        return None
    if said in {fold(w) for w in opt_out_words}:
        return True
    if said in {fold(w) for w in opt_in_words}:
        return False
    return None
