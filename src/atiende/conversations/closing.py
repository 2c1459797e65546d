"""How a conversation's service ends (tabs *Tipificaciones*, *Permisos*, *Campos*).

- **Agent close**: the campaign's required dynamic fields must be filled with valid values; the
  agent may pick an active typification of the client, else the campaign's "finalizada por el
  agente" one is stamped. Without *Finalizar conversaciones sin responder* an agent cannot close a
  conversation they never answered (supervisors and admins can). With a survey bot the
  conversation goes to ``survey``, else ``closed``.
- **Inactivity**: ``inactivity_timeout_minutes`` after the last agent or bot message (also while
  the attention bot holds it), if the contact
  has not written since, the conversation closes typified "inactividad". A contact who wrote last
  is waiting for us and is never closed for inactivity.
- **Transfer** to another agent: only with *Transferir conversaciones entre agentes* (for agents;
  supervisors and admins may always), only to an agent of the campaign who is eligible now; the
  stretch that ends is typified "transferida". A supervisor may also give a waiting conversation
  to an eligible agent by hand (*Asignar a…*, ``assign_queued``).
- **Mass transfer** (supervisor): all of an agent's conversations in a campaign to another online
  agent (as many as fit; the rest go back to the queue) or back to the queue, each stretch typified
  "transferencia masiva".
Every change that frees a seat assigns the oldest waiting conversation at once.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from atiende.auth.models import Membership, Presence
from atiende.campaigns.models import Campaign
from atiende.catalog.fields import FieldValueInvalid, validate_field_value
from atiende.catalog.models import FieldDefinition, Typification
from atiende.conversations import assignment, dispatch
from atiende.conversations.ending import finish, inactivity_key
from atiende.conversations.events import ConversationTransferred, emit
from atiende.conversations.models import (
    CloseReason, Conversation, ConversationStatus, EndReason, Message, SenderKind,
)
from atiende.conversations.rows import lock_conversation
from atiende.errors import Conflict, Forbidden, Invalid
from atiende.jobs import JobContext, enqueue, job


class NotYourConversation(Forbidden):
    code = "conversation.not_yours"

    def __init__(self) -> None:
        super().__init__("This conversation is not assigned to you")


class NotInProgress(Conflict):
    code = "conversation.not_in_progress"

    def __init__(self, action: str) -> None:
        super().__init__(f"Only a conversation in progress can be {action}", field="status")


# --- fields and typification ------------------------------------------------------------------

async def fill_fields(session: AsyncSession, campaign: Campaign, conversation: Conversation,
                      values: dict[str, Any], *, require: bool) -> None:
    """Validate and store dynamic field values (``None`` clears one); with ``require``, every
    required field of the campaign must end up filled."""
    definitions = await campaign_fields(session, campaign)
    merged = dict(conversation.field_values or {})
    for key, value in values.items():
        found = definitions.get(key)
        if found is None:
            raise Invalid(f"The campaign has no field '{key[:60]}'", field=f"fields.{key[:60]}")
        definition, _required = found
        if value is None:
            merged.pop(key, None)
            continue
        merged[key] = validate_field_value(definition, value, field=f"fields.{key}")
    if require:
        for key, (definition, required) in definitions.items():
            if required and merged.get(key) in (None, ""):
                raise FieldValueInvalid(f"{definition.label} is required to close the conversation",
                                        field=f"fields.{key}", code="field.required",
                                        extra={"label": definition.label, "n": ""})
    conversation.field_values = merged


async def campaign_fields(session: AsyncSession, campaign: Campaign) -> dict[str, tuple[FieldDefinition, bool]]:
    required = {link.field_definition_id: link.required for link in campaign.field_links}
    if not required:
        return {}
    rows = await session.scalars(select(FieldDefinition).where(FieldDefinition.id.in_(required)))
    return {d.key: (d, required[d.id]) for d in rows}


async def chosen_typification(session: AsyncSession, campaign: Campaign, typification_id: int | None) -> int:
    if typification_id is None:
        return campaign.typification_agent_closed_id
    found = await session.scalar(select(Typification.id).where(
        Typification.id == typification_id, Typification.client_id == campaign.client_id, Typification.active))
    if found is None:
        raise Invalid(f"Typification {typification_id} does not exist in this client or is inactive",
                      field="typification_id")
    return found


# --- closing ----------------------------------------------------------------------------------

async def close(session: AsyncSession, ctx: JobContext, campaign: Campaign, conversation: Conversation,
                by: Membership, *, supervising: bool, typification_id: int | None, fields: dict[str, Any],
                now: datetime) -> None:
    """Close as the assigned agent (or, with ``supervising``, as a supervisor or admin). The caller
    holds the campaign lock and the conversation row."""
    if conversation.status not in (ConversationStatus.assigned, ConversationStatus.queued):
        raise NotInProgress("closed")
    if not supervising:
        if conversation.assigned_membership_id != by.id or conversation.status != ConversationStatus.assigned:
            raise NotYourConversation()
        if not conversation.agent_replied and not campaign.permissions.close_without_reply:
            raise Forbidden("Answer the contact before closing: this campaign does not allow closing "
                            "conversations without a reply", field="agent_replied")
    await fill_fields(session, campaign, conversation, fields, require=True)
    typification = await chosen_typification(session, campaign, typification_id)
    agent_id = conversation.assigned_membership_id
    await assignment.end_assignment(session, conversation, now, EndReason.closed, typification)
    await finish(session, ctx, campaign, conversation, now,
                 CloseReason.supervisor if supervising else CloseReason.agent, typification, by.id, agent_id,
                 with_survey=True)
    await dispatch.assign_waiting(session, ctx.bus, campaign, now, announce=agent_id is None)


async def close_by_bot(session: AsyncSession, ctx: JobContext, campaign: Campaign, conversation: Conversation,
                       now: datetime, typification_id: int | None) -> None:
    """The attention bot resolved the conversation alone; the survey, when enabled, still runs."""
    await finish(session, ctx, campaign, conversation, now, CloseReason.bot, typification_id, None, None,
                 with_survey=True)


# --- inactivity -------------------------------------------------------------------------------

async def schedule_inactivity(session: AsyncSession, campaign: Campaign, conversation: Conversation,
                              now: datetime) -> None:
    await enqueue(session, inactivity_check, due_at=now + timedelta(minutes=campaign.inactivity_timeout_minutes),
                  key=inactivity_key(conversation.id), conversation_id=conversation.id)


@job
async def inactivity_check(ctx: JobContext, *, conversation_id: int) -> None:
    async with ctx.database.session() as session:
        campaign_id = await session.scalar(select(Conversation.campaign_id).where(Conversation.id == conversation_id))
        campaign = await session.get(Campaign, campaign_id) if campaign_id else None
        if campaign is None:
            return
        await dispatch.lock_campaign(session, campaign.id)
        conversation = await lock_conversation(session, conversation_id)
        if conversation is None or conversation.status not in (ConversationStatus.assigned, ConversationStatus.bot):
            return
        now = ctx.clock.now()
        last_sender = await session.scalar(
            select(Message.sender).where(Message.conversation_id == conversation.id,
                                         Message.sender != SenderKind.system)
            .order_by(Message.id.desc()).limit(1))
        if last_sender in (None, SenderKind.contact) or conversation.last_outbound_at is None:
            return  # the contact is waiting for us
        due = conversation.last_outbound_at + timedelta(minutes=campaign.inactivity_timeout_minutes)
        if now < due:
            await schedule_inactivity(session, campaign, conversation, conversation.last_outbound_at)
            return
        typification = campaign.typification_inactivity_id
        if conversation.status == ConversationStatus.bot:  # the customer left the attention bot waiting
            await finish(session, ctx, campaign, conversation, now, CloseReason.inactivity, typification, None,
                         None, with_survey=False)
            return
        agent_id = conversation.assigned_membership_id
        await assignment.end_assignment(session, conversation, now, EndReason.inactivity, typification)
        await finish(session, ctx, campaign, conversation, now, CloseReason.inactivity, typification, None,
                     agent_id, with_survey=False)
        await dispatch.assign_waiting(session, ctx.bus, campaign, now)


# --- transfers --------------------------------------------------------------------------------

async def transfer(session: AsyncSession, ctx: JobContext, campaign: Campaign, conversation: Conversation,
                   by: Membership, *, supervising: bool, to_membership_id: int, now: datetime) -> None:
    """To another agent. A supervisor may also hand a waiting conversation to an agent directly."""
    serving = conversation.status == ConversationStatus.assigned
    if not serving and not (supervising and conversation.status == ConversationStatus.queued):
        raise NotInProgress("transferred")
    if not supervising:
        if conversation.assigned_membership_id != by.id:
            raise NotYourConversation()
        if not campaign.permissions.transfer_between_agents:
            raise Forbidden("This campaign does not allow transfers between agents")
    if to_membership_id == conversation.assigned_membership_id:
        raise Invalid("The conversation is already assigned to that agent", field="membership_id")
    table = await assignment.seats(session, campaign)
    target = table.get(to_membership_id)
    if target is None:
        raise Invalid(f"Agent {to_membership_id} does not work in this campaign", field="membership_id")
    if not target.eligible:
        raise Conflict("That agent cannot take it now: not online or at capacity", field="membership_id")
    if not serving:
        await dispatch.assign_to(session, ctx.bus, campaign, conversation, to_membership_id, now)
        await dispatch.announce_queue(session, ctx.bus, campaign)
        return
    from_id = conversation.assigned_membership_id
    assert from_id is not None
    await assignment.end_assignment(session, conversation, now, EndReason.transferred,
                                    campaign.typification_transferred_id)
    await dispatch.assign_to(session, ctx.bus, campaign, conversation, to_membership_id, now)
    emit(session, ctx.bus, ConversationTransferred(
        client_id=conversation.client_id, campaign_id=campaign.id, conversation_id=conversation.id,
        status=conversation.status, membership_ids=(from_id, to_membership_id), from_membership_id=from_id,
        to_membership_id=to_membership_id))
    await dispatch.assign_waiting(session, ctx.bus, campaign, now)


class SupervisorsOnly(Forbidden):
    code = "conversation.assign_supervisors_only"

    def __init__(self) -> None:
        super().__init__("Only supervisors and admins give a waiting conversation to an agent",
                         field="conversation_id")


class NotQueued(Conflict):
    code = "conversation.not_queued"

    def __init__(self) -> None:
        super().__init__("Only a conversation waiting in the queue can be given to an agent", field="status")


class AgentNotStaffed(Invalid):
    code = "assignment.agent_not_staffed"

    def __init__(self, membership_id: int) -> None:
        super().__init__(f"Agent {membership_id} does not work in this campaign", field="membership_id")


class AgentNotOnline(Invalid):
    code = "assignment.agent_not_online"

    def __init__(self) -> None:
        super().__init__("That agent is not online (or their license is off)", field="membership_id")


class AgentFull(Invalid):
    code = "assignment.agent_full"

    def __init__(self) -> None:
        super().__init__("That agent has no room: they are at their capacity in this campaign",
                         field="membership_id")


async def assign_queued(session: AsyncSession, ctx: JobContext, campaign: Campaign, conversation: Conversation,
                        *, supervising: bool, to_membership_id: int, now: datetime) -> None:
    """*Asignar a…*: a supervisor gives a waiting conversation to a chosen agent of its campaign who
    is eligible now (online, license on, below capacity). The one assignment path does the rest."""
    if not supervising:
        raise SupervisorsOnly()
    if conversation.status != ConversationStatus.queued:
        raise NotQueued()
    target = (await assignment.seats(session, campaign)).get(to_membership_id)
    if target is None:
        raise AgentNotStaffed(to_membership_id)
    if target.gone or target.presence != Presence.online:
        raise AgentNotOnline()
    if not target.eligible:
        raise AgentFull()
    await dispatch.assign_to(session, ctx.bus, campaign, conversation, to_membership_id, now)
    await dispatch.announce_queue(session, ctx.bus, campaign)


@dataclass
class MassTransferResult:
    transferred: list[int] = field(default_factory=list)  # conversation ids now with the target agent
    queued: list[int] = field(default_factory=list)  # back in the queue (or reassigned by it)


async def mass_transfer(session: AsyncSession, ctx: JobContext, campaign: Campaign, *, from_membership_id: int,
                        to_membership_id: int | None, now: datetime) -> MassTransferResult:
    """Move everything ``from_membership_id`` serves in ``campaign``; the caller checked roles."""
    await dispatch.lock_campaign(session, campaign.id)
    if to_membership_id == from_membership_id:
        raise Invalid("Choose another agent, or none to send them back to the queue", field="to_membership_id")
    table = await assignment.seats(session, campaign)
    target = table.get(to_membership_id) if to_membership_id is not None else None
    if to_membership_id is not None:
        if target is None:
            raise Invalid(f"Agent {to_membership_id} does not work in this campaign", field="to_membership_id")
        if not target.active or target.presence.value != "online":
            raise Conflict("The receiving agent is not online", field="to_membership_id")
    result = MassTransferResult()
    keep_away: dict[int, int] = {}
    typification = campaign.typification_mass_transfer_id
    for conversation in await assignment.held_by(session, campaign.id, from_membership_id):
        if target is not None and target.eligible:
            await assignment.end_assignment(session, conversation, now, EndReason.mass_transfer, typification)
            await dispatch.assign_to(session, ctx.bus, campaign, conversation, target.membership_id, now)
            target.load += 1
            result.transferred.append(conversation.id)
        else:
            await assignment.requeue(session, conversation, now, EndReason.mass_transfer, typification)
            keep_away[conversation.id] = from_membership_id
            result.queued.append(conversation.id)
        emit(session, ctx.bus, ConversationTransferred(
            client_id=conversation.client_id, campaign_id=campaign.id, conversation_id=conversation.id,
            status=conversation.status, membership_ids=tuple(
                m for m in (from_membership_id, conversation.assigned_membership_id) if m),
            from_membership_id=from_membership_id, to_membership_id=conversation.assigned_membership_id, mass=True))
    await dispatch.assign_waiting(session, ctx.bus, campaign, now, keep_away=keep_away,
                                    announce=bool(result.queued))
    return result
