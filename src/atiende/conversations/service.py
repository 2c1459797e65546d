"""The conversation facade the REST API and the agent workspace both call: tenant scoping, roles
and campaign permissions are enforced here, then the work is done by the domain modules.

Who may do what:
- agents see the conversations they serve or served; they write, fill fields, move the stage,
  transfer and close only the ones assigned to them now;
- supervisors and admins of the client see all its conversations, and may transfer, close and
  edit any of them (they do not write to contacts: the assigned agent does).
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from atiende.auth.caller import Caller
from atiende.auth.models import Membership, Role
from atiende.campaigns.models import Campaign
from atiende.catalog.models import FunnelStage
from atiende.channels.media import MediaStore, issued_attachments
from atiende.channels.protocol import Attachment, AttachmentKind
from atiende.bots import flow as bot_flow
from atiende.conversations import closing, dispatch
from atiende.conversations.events import ConversationUpdated, emit
from atiende.conversations.models import (
    Assignment, Conversation, ConversationStatus, Message, SenderKind, SurveyResponse,
)
from atiende.conversations.outbound import post_message
from atiende.conversations.rows import lock_conversation
from atiende.errors import Conflict, Forbidden, Invalid, NotFound
from atiende.jobs import JobContext
from atiende.kit.pagination import PageParams, paginate
from atiende.tenancy.models import Client

MAX_MESSAGES = 500
MAX_HISTORY = 20
SUPERVISING = (Role.admin, Role.supervisor)
# Pictographs, dingbats, symbols and flags, plus the joiners and selectors that build emoji sequences.
EMOJI = re.compile("[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\u2300-\u23FF\uFE0F\u200D\U000E0020-\U000E007F"
                   "\u3030\u303D\u3297\u3299]")


def contains_emoji(text: str) -> bool:
    return EMOJI.search(text) is not None


@dataclass
class ConversationView:
    """A conversation as the caller may see it (the contact's phone already hidden if needed)."""

    conversation: Conversation
    phone: str | None
    messages: list[Message]
    assignments: list[Assignment]
    survey: list[SurveyResponse]
    history: list[tuple[Conversation, list[Message]]]


class ConversationService:
    # --- reads ---------------------------------------------------------------------------------
    async def get(self, session: AsyncSession, caller: Caller, conversation_id: int) -> Conversation:
        conversation = await session.scalar(select(Conversation).where(
            Conversation.id == conversation_id, Conversation.client_id.in_(caller.client_ids)))
        if conversation is None or not await self._may_read(session, caller, conversation):
            raise NotFound("Conversation not found", field="conversation_id")
        return conversation

    async def _may_read(self, session: AsyncSession, caller: Caller, conversation: Conversation) -> bool:
        membership = caller.membership(conversation.client_id)
        if membership.role in SUPERVISING:
            return True
        return bool(await session.scalar(select(exists().where(
            Assignment.conversation_id == conversation.id, Assignment.membership_id == membership.id))))

    async def list_visible(self, session: AsyncSession, caller: Caller, *, page: PageParams, client_id: int | None = None,
                   status: ConversationStatus | None = None, campaign_id: int | None = None,
                   membership_id: int | None = None) -> tuple[list[Conversation], int]:
        """Newest first. Agents get only conversations they serve or served."""
        client_ids = caller.scope(client_id)
        supervised = [c for c in client_ids if caller.role_in(c) in SUPERVISING]
        mine = [caller.memberships[c].id for c in client_ids if caller.role_in(c) == Role.agent]
        took_part = exists().where(Assignment.conversation_id == Conversation.id, Assignment.membership_id.in_(mine))
        stmt = select(Conversation).where(Conversation.client_id.in_(supervised) | took_part)
        if status is not None:
            stmt = stmt.where(Conversation.status == status)
        if campaign_id is not None:
            stmt = stmt.where(Conversation.campaign_id == campaign_id)
        if membership_id is not None:
            stmt = stmt.where(Conversation.assigned_membership_id == membership_id)
        return await paginate(session, stmt.order_by(Conversation.id.desc()), page)

    def shows_phone(self, caller: Caller, campaign: Campaign) -> bool:
        """Agents see the contact's number only with *Mostrar número de contacto*."""
        return caller.role_in(campaign.client_id) in SUPERVISING or campaign.permissions.show_contact_number

    async def view(self, session: AsyncSession, caller: Caller, conversation: Conversation, *,
                   now: datetime) -> ConversationView:
        campaign = await self._campaign(session, conversation)
        messages = await self._messages(session, [conversation.id])
        assignments = list((await session.scalars(select(Assignment).where(
            Assignment.conversation_id == conversation.id).order_by(Assignment.started_at, Assignment.id))).all())
        answers = list((await session.scalars(select(SurveyResponse).where(
            SurveyResponse.conversation_id == conversation.id).order_by(SurveyResponse.position))).all())
        return ConversationView(conversation, conversation.contact.phone if self.shows_phone(caller, campaign) else None,
                                messages.get(conversation.id, []), assignments, answers,
                                await self._history(session, campaign, conversation, now))

    async def _history(self, session: AsyncSession, campaign: Campaign, conversation: Conversation,
                       now: datetime) -> list[tuple[Conversation, list[Message]]]:
        """The contact's earlier conversations in the campaign closed within *horas históricas*."""
        permissions = campaign.permissions
        if not permissions.history_enabled:
            return []
        hours = permissions.history_hours or await session.scalar(
            select(Client.plan_max_history_hours).where(Client.id == campaign.client_id)) or 0
        earlier = list((await session.scalars(
            select(Conversation).where(Conversation.campaign_id == campaign.id,
                                       Conversation.contact_id == conversation.contact_id,
                                       Conversation.id != conversation.id,
                                       Conversation.closed_at >= now - timedelta(hours=hours))
            .order_by(Conversation.opened_at.desc()).limit(MAX_HISTORY))).unique().all())
        messages = await self._messages(session, [c.id for c in earlier])
        return [(c, messages.get(c.id, [])) for c in earlier]

    async def _messages(self, session: AsyncSession, conversation_ids: Sequence[int]) -> dict[int, list[Message]]:
        if not conversation_ids:
            return {}
        rows = (await session.scalars(select(Message).where(Message.conversation_id.in_(conversation_ids))
                                      .order_by(Message.id.desc()).limit(MAX_MESSAGES * len(conversation_ids)))).all()
        grouped: dict[int, list[Message]] = {}
        for message in reversed(rows):
            grouped.setdefault(message.conversation_id, []).append(message)
        return {cid: items[-MAX_MESSAGES:] for cid, items in grouped.items()}

    async def _campaign(self, session: AsyncSession, conversation: Conversation) -> Campaign:
        campaign = await session.get(Campaign, conversation.campaign_id)
        assert campaign is not None
        return campaign

    # --- the assigned agent's work ------------------------------------------------------------
    async def send_message(self, session: AsyncSession, ctx: JobContext, caller: Caller, conversation: Conversation,
                           *, text: str, attachments: Sequence[Attachment] = ()) -> Message:
        me = caller.membership(conversation.client_id)
        campaign = await self._campaign(session, conversation)
        attachments = issued_attachments(MediaStore(ctx.settings), attachments)
        check_message_permissions(campaign, text, attachments)
        locked = await lock_conversation(session, conversation.id)
        assert locked is not None
        if locked.status != ConversationStatus.assigned:
            raise closing.NotInProgress("answered")
        if locked.assigned_membership_id != me.id:
            raise closing.NotYourConversation()
        now = ctx.clock.now()
        message = await post_message(session, ctx, locked, sender=SenderKind.agent, text=text,
                                     attachments=attachments, author=me, now=now)
        await closing.schedule_inactivity(session, campaign, locked, now)
        return message

    async def _locked(self, session: AsyncSession, conversation: Conversation) -> tuple[Campaign, Conversation]:
        campaign = await self._campaign(session, conversation)
        await dispatch.lock_campaign(session, campaign.id)
        locked = await lock_conversation(session, conversation.id)
        assert locked is not None
        return campaign, locked

    def _acting(self, caller: Caller, conversation: Conversation) -> tuple[Membership, bool]:
        me = caller.membership(conversation.client_id)
        return me, me.role in SUPERVISING

    def _require_serving(self, me: Membership, supervising: bool, conversation: Conversation) -> None:
        if not supervising and (conversation.assigned_membership_id != me.id
                                or conversation.status != ConversationStatus.assigned):
            raise closing.NotYourConversation()

    async def transfer(self, session: AsyncSession, ctx: JobContext, caller: Caller, conversation: Conversation, *,
                       to_membership_id: int) -> Conversation:
        me, supervising = self._acting(caller, conversation)
        campaign, locked = await self._locked(session, conversation)
        await closing.transfer(session, ctx, campaign, locked, me, supervising=supervising,
                               to_membership_id=to_membership_id, now=ctx.clock.now())
        return locked

    async def assign(self, session: AsyncSession, ctx: JobContext, caller: Caller, conversation: Conversation, *,
                     to_membership_id: int) -> Conversation:
        """*Asignar a…* (supervisors and admins): a queued conversation to an eligible agent."""
        _me, supervising = self._acting(caller, conversation)
        if not supervising:
            raise closing.SupervisorsOnly()
        campaign, locked = await self._locked(session, conversation)
        await closing.assign_queued(session, ctx, campaign, locked, supervising=supervising,
                                    to_membership_id=to_membership_id, now=ctx.clock.now())
        return locked

    async def take_over_from_bot(self, session: AsyncSession, ctx: JobContext, caller: Caller,
                                 conversation: Conversation) -> Conversation:
        """A supervisor hands a conversation the bot holds to the agents (queued, then assigned)."""
        _me, supervising = self._acting(caller, conversation)
        if not supervising:
            raise Forbidden("Only supervisors and admins take conversations from the bot", field="conversation_id")
        campaign, locked = await self._locked(session, conversation)
        if locked.status != ConversationStatus.bot:
            raise Conflict("The bot does not hold this conversation", field="status")
        await bot_flow.take_over(session, ctx, campaign, locked, ctx.clock.now())
        return locked

    async def close(self, session: AsyncSession, ctx: JobContext, caller: Caller, conversation: Conversation, *,
                    typification_id: int | None = None, fields: dict[str, Any] | None = None) -> Conversation:
        me, supervising = self._acting(caller, conversation)
        campaign, locked = await self._locked(session, conversation)
        await closing.close(session, ctx, campaign, locked, me, supervising=supervising,
                            typification_id=typification_id, fields=fields or {}, now=ctx.clock.now())
        return locked

    async def set_fields(self, session: AsyncSession, ctx: JobContext, caller: Caller, conversation: Conversation,
                         fields: dict[str, Any]) -> Conversation:
        me, supervising = self._acting(caller, conversation)
        campaign, locked = await self._locked(session, conversation)
        self._require_serving(me, supervising, locked)
        await closing.fill_fields(session, campaign, locked, fields, require=False)
        self._updated(session, ctx, locked, "fields")
        return locked

    async def set_stage(self, session: AsyncSession, ctx: JobContext, caller: Caller, conversation: Conversation,
                        stage_id: int) -> Conversation:
        me, supervising = self._acting(caller, conversation)
        campaign, locked = await self._locked(session, conversation)
        self._require_serving(me, supervising, locked)
        stage = None if campaign.funnel_id is None else await session.scalar(select(FunnelStage.id).where(
            FunnelStage.id == stage_id, FunnelStage.funnel_id == campaign.funnel_id))
        if stage is None:
            raise Invalid("That stage is not in this campaign's funnel", field="stage_id")
        locked.funnel_stage_id = stage
        self._updated(session, ctx, locked, "stage")
        return locked

    def _updated(self, session: AsyncSession, ctx: JobContext, conversation: Conversation, what: str) -> None:
        emit(session, ctx.bus, ConversationUpdated(
            client_id=conversation.client_id, campaign_id=conversation.campaign_id, conversation_id=conversation.id,
            status=conversation.status, what=what,
            membership_ids=(conversation.assigned_membership_id,) if conversation.assigned_membership_id else ()))


def check_attachments(campaign: Campaign, attachments: Sequence[Attachment]) -> None:
    """Files need *Permitir recursos externos*; voice notes need *Habilitar envío de notas de voz*
    (and only that: a campaign may take voice notes without taking files)."""
    permissions = campaign.permissions
    if any(a.kind != AttachmentKind.voice for a in attachments) and not permissions.external_resources:
        raise Forbidden("This campaign does not allow sending files (external resources)", field="attachments")
    if any(a.kind == AttachmentKind.voice for a in attachments) and not permissions.voice_notes:
        raise Forbidden("This campaign does not allow voice notes", field="attachments")


def check_message_permissions(campaign: Campaign, text: str, attachments: Sequence[Attachment]) -> None:
    """Tab *Permisos* for what an agent sends. Emojis without *emoticones* are refused (422), not
    silently stripped: the agent sees exactly what the contact will get."""
    check_attachments(campaign, attachments)
    if not campaign.permissions.emojis and contains_emoji(text):
        raise Invalid("This campaign does not allow emojis; remove them from the message", field="text")


conversation_service = ConversationService()
