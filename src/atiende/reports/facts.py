"""The rows a report reads, turned into one plain record per conversation of the range.

The cohort is the client's conversations *opened* within the range (in the client's zone) that
match the filters; every metric of a report is about that cohort (docs/metrics.md)."""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, Subquery, and_, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from atiende.campaigns.models import Campaign
from atiende.conversations.models import (
    Assignment, CloseReason, Conversation, ConversationStatus, EndReason, Message, SenderKind, SurveyResponse,
)
from atiende.catalog.models import QuestionKind
from atiende.reports.filters import ReportFilters

TRANSFER_ENDS = (EndReason.transferred, EndReason.mass_transfer)
ABANDON_REASONS = (CloseReason.inactivity, CloseReason.out_of_hours, CloseReason.supervisor)


@dataclass
class Stretch:
    membership_id: int
    started_at: datetime
    ended_at: datetime | None
    end_reason: EndReason | None


@dataclass
class Answer:
    position: int
    question: str
    kind: QuestionKind
    value: Any
    answer: str
    answered_at: datetime


@dataclass
class Facts:
    id: int
    campaign_id: int
    project_id: int
    channel_id: int
    contact_id: int
    status: ConversationStatus
    opened_at: datetime
    queued_at: datetime | None
    closed_at: datetime | None
    close_reason: CloseReason | None
    typification_id: int | None
    funnel_stage_id: int | None
    survey_outcome: str | None
    bot_handoff: bool
    field_values: dict[str, Any]
    first_inbound_at: datetime | None = None
    client_id: int = 0
    first_reply_at: datetime | None = None
    first_reply_by: int | None = None
    stretches: list[Stretch] = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)

    @property
    def first_assigned_at(self) -> datetime | None:
        return self.stretches[0].started_at if self.stretches else None

    @property
    def answered(self) -> bool:
        return self.first_reply_at is not None

    @property
    def closed(self) -> bool:
        """Ended (by an agent, a supervisor, inactivity, the schedule or the bot); a survey may still run."""
        return self.closed_at is not None

    @property
    def bot_resolved(self) -> bool:
        return self.close_reason == CloseReason.bot

    @property
    def started_in_bot(self) -> bool:
        return self.bot_handoff or self.bot_resolved or self.status == ConversationStatus.bot

    @property
    def offered(self) -> bool:
        """Reached the agents' queue (or an agent)."""
        return self.queued_at is not None or bool(self.stretches)

    @property
    def abandoned(self) -> bool:
        return (self.closed and self.offered and not self.stretches
                and self.close_reason in ABANDON_REASONS)

    @property
    def queue_wait_end(self) -> datetime | None:
        return self.first_assigned_at

    @property
    def last_agent(self) -> int | None:
        return self.stretches[-1].membership_id if self.stretches else None

    @property
    def surveyed(self) -> bool:
        return self.survey_outcome is not None or self.status == ConversationStatus.survey or bool(self.answers)

    @property
    def ratings(self) -> list[int]:
        return [int(a.value) for a in self.answers if a.kind == QuestionKind.rating and a.value is not None]


def cohort(filters: ReportFilters) -> Select[tuple[int]]:
    """Ids of the conversations a report covers."""
    stmt = select(Conversation.id).where(
        Conversation.client_id == filters.client_id,
        Conversation.opened_at >= filters.start, Conversation.opened_at < filters.end)
    if filters.campaign_id is not None:
        stmt = stmt.where(Conversation.campaign_id == filters.campaign_id)
    if filters.project_id is not None:
        stmt = stmt.where(Conversation.campaign_id.in_(
            select(Campaign.id).where(Campaign.project_id == filters.project_id)))
    if filters.channel_id is not None:
        stmt = stmt.where(Conversation.channel_id == filters.channel_id)
    if filters.typification_id is not None:
        stmt = stmt.where(Conversation.typification_id == filters.typification_id)
    if filters.agent_id is not None:
        stmt = stmt.where(exists().where(Assignment.conversation_id == Conversation.id,
                                         Assignment.membership_id == filters.agent_id))
    return stmt


async def load_facts(session: AsyncSession, filters: ReportFilters, *, with_answers: bool = True,
                     after_id: int | None = None, limit: int | None = None) -> list[Facts]:
    """The cohort's facts by id; ``after_id``/``limit`` read it a page at a time (exports)."""
    stmt = cohort(filters)
    if after_id is not None:
        stmt = stmt.where(Conversation.id > after_id)
    if limit is not None:
        stmt = stmt.order_by(Conversation.id).limit(limit)
    return await _load(session, stmt.subquery(), with_answers)


async def load_facts_of(session: AsyncSession, conversation_ids: Sequence[int]) -> list[Facts]:
    """The facts of these conversations (the rollups' refresh), with their survey answers."""
    return await _load(session, select(Conversation.id).where(Conversation.id.in_(list(conversation_ids))).subquery(),
                       True)


async def _load(session: AsyncSession, ids: Subquery, with_answers: bool) -> list[Facts]:
    rows = (await session.execute(
        select(Conversation.id, Conversation.client_id, Conversation.campaign_id, Campaign.project_id, Conversation.channel_id,
               Conversation.contact_id, Conversation.status, Conversation.opened_at, Conversation.queued_at,
               Conversation.closed_at, Conversation.close_reason, Conversation.typification_id,
               Conversation.funnel_stage_id, Conversation.survey_outcome, Conversation.bot_handoff_reason,
               Conversation.field_values)
        .join(Campaign, Campaign.id == Conversation.campaign_id)
        .where(Conversation.id.in_(select(ids.c.id))).order_by(Conversation.id))).all()
    facts = {r.id: Facts(
        id=r.id, client_id=r.client_id, campaign_id=r.campaign_id, project_id=r.project_id, channel_id=r.channel_id,
        contact_id=r.contact_id, status=r.status, opened_at=r.opened_at, queued_at=r.queued_at,
        closed_at=r.closed_at, close_reason=r.close_reason, typification_id=r.typification_id,
        funnel_stage_id=r.funnel_stage_id, survey_outcome=r.survey_outcome.value if r.survey_outcome else None,
        bot_handoff=r.bot_handoff_reason is not None, field_values=r.field_values or {}) for r in rows}
    if not facts:
        return []
    in_cohort = Message.conversation_id.in_(select(ids.c.id))
    first_in = (select(Message.conversation_id.label("cid"), func.min(Message.created_at).label("at"))
                .where(in_cohort, Message.sender == SenderKind.contact).group_by(Message.conversation_id)
                .subquery())
    for cid, at in (await session.execute(select(first_in.c.cid, first_in.c.at))).all():
        facts[cid].first_inbound_at = at
    first_reply = (select(Message.conversation_id.label("cid"), func.min(Message.created_at).label("at"))
                   .join(first_in, first_in.c.cid == Message.conversation_id)
                   .where(in_cohort, Message.sender == SenderKind.agent, Message.created_at >= first_in.c.at)
                   .group_by(Message.conversation_id).subquery())
    for cid, at, author in (await session.execute(
            select(first_reply.c.cid, first_reply.c.at, func.min(Message.author_membership_id))
            .join(Message, and_(Message.conversation_id == first_reply.c.cid,
                                Message.created_at == first_reply.c.at, Message.sender == SenderKind.agent))
            .group_by(first_reply.c.cid, first_reply.c.at))).all():
        facts[cid].first_reply_at, facts[cid].first_reply_by = at, author
    for a in (await session.execute(
            select(Assignment.conversation_id, Assignment.membership_id, Assignment.started_at, Assignment.ended_at,
                   Assignment.end_reason).where(Assignment.conversation_id.in_(select(ids.c.id)))
            .order_by(Assignment.conversation_id, Assignment.started_at, Assignment.id))).all():
        facts[a.conversation_id].stretches.append(Stretch(a.membership_id, a.started_at, a.ended_at, a.end_reason))
    if with_answers:
        answers: dict[int, list[Answer]] = defaultdict(list)
        for s in (await session.execute(
                select(SurveyResponse.conversation_id, SurveyResponse.position, SurveyResponse.question,
                       SurveyResponse.kind, SurveyResponse.value, SurveyResponse.answer, SurveyResponse.answered_at,
                       SurveyResponse.valid)
                .where(SurveyResponse.conversation_id.in_(select(ids.c.id)))
                .order_by(SurveyResponse.conversation_id, SurveyResponse.position))).all():
            if s.valid:
                answers[s.conversation_id].append(Answer(s.position, s.question, s.kind, s.value, s.answer,
                                                         s.answered_at))
        for cid, items in answers.items():
            facts[cid].answers = items
    return list(facts.values())
