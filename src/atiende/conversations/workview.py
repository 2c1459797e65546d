"""One conversation as the agent workspace (and the supervisor's reader) shows it: the engine's
``ConversationView`` plus what the screen needs around it — the campaign's permissions, its
dynamic fields in order, funnel stages, the typifications an agent may pick, who wrote each
message, the WhatsApp 24-hour window and templates, and who could take a transfer.

Rules stay in the engine; ``close_blockers`` only predicts the engine's refusal so the screen can
say why *Finalizar* is not available yet (the engine still decides).
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from atiende.auth.caller import Caller
from atiende.auth.models import Membership, Role, User
from atiende.campaigns.models import Campaign
from atiende.campaigns.permissions import CampaignPermissions
from atiende.catalog.models import FieldDefinition, FieldType, FunnelStage, Schedule, Typification
from atiende.channels.models import Channel, ChannelKind
from atiende.channels.protocol import TemplateChoice, reply_window_for
from atiende.conversations import assignment
from atiende.conversations.models import Conversation, ConversationStatus
from atiende.conversations.service import ConversationView, conversation_service

SUPERVISING = (Role.admin, Role.supervisor)


@dataclass
class FieldSlot:
    key: str
    label: str
    type: FieldType
    options: list[str]
    validation: dict[str, Any]
    required: bool
    value: Any = None


@dataclass
class Choice:
    id: int
    label: str


@dataclass
class Target:
    """An agent who could take a conversation now."""

    membership_id: int
    name: str
    load: int
    capacity: int


@dataclass
class WorkView:
    view: ConversationView
    campaign_name: str
    permissions: CampaignPermissions
    channel_kind: ChannelKind
    channel_name: str
    fields: list[FieldSlot]
    stages: list[Choice]
    typifications: list[Choice]
    default_typification: str
    authors: dict[int, str]
    timezone: str  # the campaign schedule's: times are shown in it
    mine: bool  # assigned to the viewer, in progress: they may write, transfer and close
    supervising: bool
    typification_name: str = ""  # the stamp of a finished conversation, with its path
    stage_name: str = ""  # the funnel stage it is in
    window_open: bool | None = None  # channels with a reply window (WhatsApp) only
    window_closes_at: datetime | None = None
    templates: list[TemplateChoice] = field(default_factory=list)

    @property
    def conversation(self) -> Conversation:
        return self.view.conversation

    @property
    def can_transfer(self) -> bool:
        return self.mine and (self.supervising or self.permissions.transfer_between_agents)

    @property
    def can_attach(self) -> bool:
        return self.permissions.external_resources

    @property
    def can_record_voice(self) -> bool:
        return self.permissions.voice_notes


@dataclass
class Blockers:
    missing_fields: list[str]
    needs_reply: bool

    def __bool__(self) -> bool:
        return bool(self.missing_fields) or self.needs_reply


def close_blockers(work: WorkView, values: dict[str, Any]) -> Blockers:
    """What stops the agent from closing now, given the values in the form (engine's rules)."""
    missing = [slot.label for slot in work.fields if slot.required and values.get(slot.key) in (None, "")]
    needs_reply = (not work.supervising and not work.conversation.agent_replied
                   and not work.permissions.close_without_reply)
    return Blockers(missing, needs_reply)


async def work_view(session: AsyncSession, caller: Caller, conversation_id: int, *, now: datetime) -> WorkView:
    conversation = await conversation_service.get(session, caller, conversation_id)
    view = await conversation_service.view(session, caller, conversation, now=now)
    campaign = await session.get(Campaign, conversation.campaign_id)
    channel = await session.get(Channel, conversation.channel_id)
    assert campaign is not None and channel is not None
    me = caller.membership(conversation.client_id)
    supervising = me.role in SUPERVISING
    work = WorkView(
        view=view, campaign_name=campaign.name, permissions=campaign.permissions, channel_kind=channel.kind,
        channel_name=channel.name, fields=await field_slots(session, campaign, conversation),
        stages=await stages(session, campaign), typifications=await typifications(session, campaign),
        default_typification=await _name_of(session, campaign.typification_agent_closed_id),
        authors=await authors(session, view), supervising=supervising,
        timezone=await session.scalar(select(Schedule.timezone).where(Schedule.id == campaign.schedule_id)) or "UTC",
        mine=conversation.status == ConversationStatus.assigned and conversation.assigned_membership_id == me.id)
    work.stage_name = next((c.label for c in work.stages if c.id == conversation.funnel_stage_id), "")
    if conversation.typification_id is not None:
        work.typification_name = await typification_path(session, conversation.typification_id)
    window = reply_window_for(channel.kind)
    if window is not None:
        state = await window(session, conversation, now, work.mine)
        work.window_open, work.window_closes_at, work.templates = state.open, state.closes_at, list(state.templates)
    return work


async def field_slots(session: AsyncSession, campaign: Campaign, conversation: Conversation) -> list[FieldSlot]:
    links = sorted(campaign.field_links, key=lambda link: (link.position, link.field_definition_id))
    if not links:
        return []
    definitions = {d.id: d for d in (await session.scalars(select(FieldDefinition).where(
        FieldDefinition.id.in_([link.field_definition_id for link in links])))).all()}
    values = conversation.field_values or {}
    slots = []
    for link in links:
        definition = definitions.get(link.field_definition_id)
        if definition is not None:
            slots.append(FieldSlot(key=definition.key, label=definition.label, type=definition.type,
                                   options=[str(o) for o in definition.options or []],
                                   validation=dict(definition.validation or {}), required=link.required,
                                   value=values.get(definition.key)))
    return slots


async def stages(session: AsyncSession, campaign: Campaign) -> list[Choice]:
    if campaign.funnel_id is None:
        return []
    rows = await session.execute(select(FunnelStage.id, FunnelStage.name).where(
        FunnelStage.funnel_id == campaign.funnel_id).order_by(FunnelStage.position, FunnelStage.id))
    return [Choice(i, name) for i, name in rows.all()]


async def typifications(session: AsyncSession, campaign: Campaign) -> list[Choice]:
    """The client's active typifications an agent may stamp: leaves of the tree, without the ones
    the engine stamps by itself (inactivity, transfer, mass transfer), labelled with their path."""
    rows = (await session.scalars(select(Typification).where(
        Typification.client_id == campaign.client_id, Typification.active.is_(True)))).all()
    by_id = {t.id: t for t in rows}
    parents = {t.parent_id for t in rows if t.parent_id is not None}
    automatic = {campaign.typification_inactivity_id, campaign.typification_transferred_id,
                 campaign.typification_mass_transfer_id}
    choices = []
    for item in rows:
        if item.id in parents or item.id in automatic:
            continue
        path, node, hops = [item.name], by_id.get(item.parent_id or 0), 0
        while node is not None and hops < 20:
            path.insert(0, node.name)
            node, hops = by_id.get(node.parent_id or 0), hops + 1
        choices.append(Choice(item.id, " › ".join(path)))
    return sorted(choices, key=lambda c: c.label.lower())


async def typification_path(session: AsyncSession, typification_id: int) -> str:
    """``Venta › Contado``: the typification with its parents."""
    path, current, hops = [], typification_id, 0
    while current is not None and hops < 20:
        row = (await session.execute(select(Typification.name, Typification.parent_id)
                                     .where(Typification.id == current))).first()
        if row is None:
            break
        path.insert(0, row[0])
        current, hops = row[1], hops + 1
    return " › ".join(path)


async def _name_of(session: AsyncSession, typification_id: int) -> str:
    return await session.scalar(select(Typification.name).where(Typification.id == typification_id)) or ""


async def authors(session: AsyncSession, view: ConversationView) -> dict[int, str]:
    ids = {m.author_membership_id for m in view.messages if m.author_membership_id}
    ids |= {m.author_membership_id for _c, messages in view.history for m in messages if m.author_membership_id}
    ids |= {a.membership_id for a in view.assignments}
    return await member_names(session, ids)


async def member_names(session: AsyncSession, membership_ids: set[int]) -> dict[int, str]:
    if not membership_ids:
        return {}
    rows = await session.execute(select(Membership.id, User.full_name, User.email).join(
        User, User.id == Membership.user_id).where(Membership.id.in_(membership_ids)))
    return {mid: name or email for mid, name, email in rows.all()}


async def transfer_targets(session: AsyncSession, caller: Caller, conversation_id: int) -> list[Target]:
    """Agents of the campaign who could take the conversation now (online, with room), when the
    viewer may transfer it; the engine checks again when the transfer is made."""
    conversation = await conversation_service.get(session, caller, conversation_id)
    campaign = await session.get(Campaign, conversation.campaign_id)
    assert campaign is not None
    me = caller.membership(conversation.client_id)
    supervising = me.role in SUPERVISING
    if conversation.status != ConversationStatus.assigned:
        return []
    if not supervising and (conversation.assigned_membership_id != me.id
                            or not campaign.permissions.transfer_between_agents):
        return []
    seats = await assignment.seats(session, campaign)
    eligible = [s for s in seats.values() if s.eligible and s.membership_id != conversation.assigned_membership_id]
    names = await member_names(session, {s.membership_id for s in eligible})
    return sorted((Target(s.membership_id, names.get(s.membership_id, ""), s.load, s.capacity) for s in eligible),
                  key=lambda t: (t.load / max(t.capacity, 1), t.name.lower()))


async def assign_targets(session: AsyncSession, caller: Caller, conversation_id: int) -> list[Target]:
    """*Asignar a…*: the campaign's agents who could take the queued conversation now (staffed,
    online, with room), for supervisors; the engine checks again when it assigns."""
    conversation = await conversation_service.get(session, caller, conversation_id)
    if caller.membership(conversation.client_id).role not in SUPERVISING \
            or conversation.status != ConversationStatus.queued:
        return []
    campaign = await session.get(Campaign, conversation.campaign_id)
    assert campaign is not None
    eligible = [s for s in (await assignment.seats(session, campaign)).values() if s.eligible]
    names = await member_names(session, {s.membership_id for s in eligible})
    return sorted((Target(s.membership_id, names.get(s.membership_id, ""), s.load, s.capacity) for s in eligible),
                  key=lambda t: (t.load / max(t.capacity, 1), t.name.lower()))

