"""What a reader of the directory sees of a contact — the same for the REST API and the console:
the phone only where the caller may see it (also when it is the identity on WhatsApp), the
client's locale format, consent per channel kind, the conversations with typification, agent and CSAT."""

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from atiende.auth.caller import Caller
from atiende.auth.models import Membership, User
from atiende.campaigns.models import Campaign
from atiende.catalog.models import QuestionKind, Typification
from atiende.channels.models import ChannelKind
from atiende.contacts import consent, phones
from atiende.contacts.models import ContactConsent
from atiende.contacts.schemas import (
    ConsentChangeOut, ConsentOut, ContactConversationOut, ContactDetailOut, ContactOut, IdentityOut,
)
from atiende.contacts.service import client_region, contact_service
from atiende.conversations.models import Assignment, Contact, SurveyResponse


async def opted_out_kinds(session: AsyncSession, contact_ids: Sequence[int]) -> dict[int, list[ChannelKind]]:
    if not contact_ids:
        return {}
    rows = (await session.execute(select(ContactConsent.contact_id, ContactConsent.channel_kind).where(
        ContactConsent.contact_id.in_(contact_ids), ContactConsent.opted_out.is_(True))
        .order_by(ContactConsent.channel_kind))).all()
    found: dict[int, list[ChannelKind]] = {}
    for contact_id, kind in rows:
        found.setdefault(contact_id, []).append(kind)
    return found


def summary(contact: Contact, *, phone_shown: bool, region: str, opted_out: list[ChannelKind]) -> ContactOut:
    phone = contact.phone if phone_shown else None
    return ContactOut(id=contact.id, client_id=contact.client_id, name=contact.name, phone=phone,
                      phone_display=phones.display(phone, region), email=contact.email,
                      document_id=contact.document_id, attributes=dict(contact.attributes or {}),
                      exclusive_agent_id=contact.exclusive_agent_id, opted_out=opted_out,
                      created_at=contact.created_at, updated_at=contact.updated_at)


async def summaries(session: AsyncSession, client_id: int, contacts: Sequence[Contact],
                    shown: set[int]) -> list[ContactOut]:
    region = await client_region(session, client_id)
    kinds = await opted_out_kinds(session, [c.id for c in contacts])
    return [summary(c, phone_shown=c.id in shown, region=region, opted_out=kinds.get(c.id, [])) for c in contacts]


async def member_names(session: AsyncSession, membership_ids: set[int]) -> dict[int, str]:
    ids = {i for i in membership_ids if i}
    if not ids:
        return {}
    rows = (await session.execute(select(Membership.id, User.full_name, User.email).join(
        User, User.id == Membership.user_id).where(Membership.id.in_(ids)))).all()
    return {mid: (name or email) for mid, name, email in rows}


async def detail(session: AsyncSession, caller: Caller, contact: Contact) -> ContactDetailOut:
    shown = await contact_service.phone_visible(session, caller, contact)
    region = await client_region(session, contact.client_id)
    states = await consent.consents(session, contact.id)
    base = summary(contact, phone_shown=shown, region=region,
                   opted_out=sorted(k for k, row in states.items() if row.opted_out))
    identities = [IdentityOut(channel_id=channel.id, channel_name=channel.name, channel_kind=channel.kind,
                              external_id=None if (not shown and contact.phone and identity.external_id.lstrip("+")
                                                   == contact.phone.lstrip("+")) else identity.external_id)
                  for identity, channel in await contact_service.identities(session, contact.id)]
    consents = [ConsentOut(channel_kind=kind, opted_out=bool(states[kind].opted_out) if kind in states else False,
                           changed_at=states[kind].changed_at if kind in states else None) for kind in ChannelKind]
    history = [ConsentChangeOut(channel_kind=c.channel_kind, opted_out=c.opted_out, source=c.source,
                                membership_id=c.membership_id, at=c.at)
               for c in await consent.history(session, contact.id)]
    conversations = await contact_service.conversations(session, caller, contact)
    ids = [c.id for c in conversations]
    campaigns = {c.id: c.name for c in (await session.scalars(select(Campaign).where(
        Campaign.id.in_({c.campaign_id for c in conversations})))).all()} if ids else {}
    typifications = {t.id: t.name for t in (await session.scalars(select(Typification).where(
        Typification.id.in_({c.typification_id for c in conversations if c.typification_id})))).all()} if ids else {}
    last_agent: dict[int, int] = {}
    if ids:
        for conversation_id, membership_id in (await session.execute(select(
                Assignment.conversation_id, Assignment.membership_id).where(Assignment.conversation_id.in_(ids))
                .order_by(Assignment.started_at, Assignment.id))).all():
            last_agent[conversation_id] = membership_id
    csat: dict[int, int] = {}
    if ids:
        for conversation_id, value in (await session.execute(select(SurveyResponse.conversation_id,
                                                                    SurveyResponse.value).where(
                SurveyResponse.conversation_id.in_(ids), SurveyResponse.kind == QuestionKind.rating,
                SurveyResponse.valid.is_(True)).order_by(SurveyResponse.position.desc()))).all():
            if isinstance(value, int):
                csat[conversation_id] = value
    names = await member_names(session, {*last_agent.values(), contact.exclusive_agent_id or 0})
    rows = [ContactConversationOut(
        id=c.id, campaign_id=c.campaign_id, campaign_name=campaigns.get(c.campaign_id, ""), channel_id=c.channel_id,
        status=c.status.value, opened_at=c.opened_at, closed_at=c.closed_at, typification_id=c.typification_id,
        typification_name=typifications.get(c.typification_id or 0), agent_membership_id=last_agent.get(c.id),
        agent_name=names.get(last_agent.get(c.id, 0)), csat=csat.get(c.id)) for c in conversations]
    return ContactDetailOut(**base.model_dump(), exclusive_agent_name=names.get(contact.exclusive_agent_id or 0),
                            identities=identities, consents=consents, consent_history=history, conversations=rows)
