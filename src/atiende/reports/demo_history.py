"""Finished conversations for the demo's Reportes: a month of closed conversations with queue
waits, replies, assignments (some transferred), typifications, funnel stages and survey answers.
Deterministic (seeded), inserted straight as rows, in the time the engine would have stored.

Each conversation opens at office hours on one of the client's last ``days`` local calendar days
(today included), the days Reportes' "Últimos N días" covers, and never after ``now``."""

import random
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from atiende.campaigns.models import Campaign
from atiende.catalog.models import FunnelStage, QuestionKind, SurveyBot, Typification
from atiende.conversations.models import (
    Assignment, CampaignAgent, CloseReason, Contact, Conversation, ConversationStatus, Direction, EndReason, Message,
    SenderKind, SurveyOutcome, SurveyResponse,
)
from atiende.tenancy.models import Client

LEEWAY = timedelta(hours=1)  # a conversation opened today is over (closed, surveyed) by ``now``
HOURS = [8, 9, 10, 11, 12, 14, 15, 16, 17, 19]  # local office hours the demo's customers write at
COMMENTS = ["Muy amable, gracias", "Tardaron un poco en responder", "Excelente atención", "Todo claro",
            "Quisiera más horarios", "Me resolvieron rápido"]


async def seed_history(session: AsyncSession, campaign: Campaign, now: datetime, *, count: int = 120,
                       days: int = 30, seed: int = 17) -> int:
    """``count`` closed conversations of ``campaign`` opened over the client's last ``days`` local
    days (today included, before ``now``; ``days`` ≥ 2); returns how many."""
    rng = random.Random(seed)
    zone = ZoneInfo(await session.scalar(select(Client.timezone).where(Client.id == campaign.client_id)) or "UTC")
    today = now.astimezone(zone).date()
    agents = list((await session.scalars(select(CampaignAgent.membership_id).where(
        CampaignAgent.campaign_id == campaign.id))).all())
    channel_id = campaign.channel_ids[0] if campaign.channel_ids else None
    if not agents or channel_id is None:
        return 0
    typifications = list((await session.scalars(select(Typification.id).where(
        Typification.client_id == campaign.client_id, Typification.parent_id.is_not(None)))).all()) or \
        [campaign.typification_agent_closed_id]
    stages = list((await session.scalars(select(FunnelStage).where(
        FunnelStage.funnel_id == campaign.funnel_id).order_by(FunnelStage.position))).all()) if campaign.funnel_id else []
    bot = await session.get(SurveyBot, campaign.survey_bot_id) if campaign.survey_bot_id else None
    for n in range(count):
        day = today - timedelta(days=rng.randrange(days))
        at = time(rng.choice(HOURS), rng.randrange(60), rng.randrange(60))
        opened = datetime.combine(day, at, zone).astimezone(UTC)
        if opened > now - LEEWAY:  # not yet (or too late to be closed by now) today: the day before
            opened = datetime.combine(day - timedelta(days=1), at, zone).astimezone(UTC)
        contact = Contact(client_id=campaign.client_id, name=f"Cliente {campaign.id}-{n + 1}",
                          phone=f"+5730{rng.randrange(10**7, 10**8)}", created_at=opened)
        session.add(contact)
        await session.flush()
        abandoned = rng.random() < 0.08
        wait = rng.randint(5, 240)
        conversation = Conversation(
            client_id=campaign.client_id, campaign_id=campaign.id, channel_id=channel_id, contact_id=contact.id,
            status=ConversationStatus.closed, opened_at=opened, queued_at=opened, last_inbound_at=opened,
            field_values={}, agent_replied=not abandoned,
            funnel_stage_id=rng.choice(stages[: rng.randint(1, len(stages))]).id if stages else None)
        session.add(conversation)
        await session.flush()
        session.add(Message(conversation_id=conversation.id, channel_id=channel_id, direction=Direction.inbound,
                            sender=SenderKind.contact, text="Hola, necesito ayuda", created_at=opened))
        if abandoned:
            conversation.closed_at = opened + timedelta(seconds=wait + rng.randint(600, 1800))
            conversation.close_reason = CloseReason.inactivity
            conversation.typification_id = campaign.typification_inactivity_id
            continue
        agent = rng.choice(agents)
        assigned = opened + timedelta(seconds=wait)
        replied = assigned + timedelta(seconds=rng.randint(10, 180))
        closed = replied + timedelta(seconds=rng.randint(120, 1500))
        typification = rng.choice(typifications)
        if rng.random() < 0.12 and len(agents) > 1:
            other = rng.choice([a for a in agents if a != agent])
            middle = replied + (closed - replied) / 3
            session.add(Assignment(conversation_id=conversation.id, campaign_id=campaign.id, contact_id=contact.id,
                                   membership_id=agent, started_at=assigned, ended_at=middle,
                                   end_reason=EndReason.transferred, typification_id=campaign.typification_transferred_id))
            session.add(Assignment(conversation_id=conversation.id, campaign_id=campaign.id, contact_id=contact.id,
                                   membership_id=other, started_at=middle, ended_at=closed, end_reason=EndReason.closed,
                                   typification_id=typification))
            agent = other
        else:
            session.add(Assignment(conversation_id=conversation.id, campaign_id=campaign.id, contact_id=contact.id,
                                   membership_id=agent, started_at=assigned, ended_at=closed,
                                   end_reason=EndReason.closed, typification_id=typification))
        session.add(Message(conversation_id=conversation.id, channel_id=channel_id, direction=Direction.outbound,
                            sender=SenderKind.agent, author_membership_id=agent, text="Con gusto le ayudo",
                            created_at=replied))
        conversation.assigned_at, conversation.last_outbound_at = assigned, replied
        conversation.closed_at, conversation.close_reason = closed, CloseReason.agent
        conversation.typification_id, conversation.closed_by_membership_id = typification, agent
        if bot is not None and rng.random() < 0.6:
            conversation.survey_outcome = SurveyOutcome.completed
            for question in bot.questions:
                answered = closed + timedelta(seconds=30 * (question.position + 1))
                if question.kind == QuestionKind.rating:
                    value: object = rng.choices([1, 2, 3, 4, 5], weights=[1, 1, 2, 4, 6])[0]
                    text = str(value)
                elif question.kind == QuestionKind.yes_no:
                    value = rng.random() < 0.8
                    text = "sí" if value else "no"
                else:
                    text = value = rng.choice(COMMENTS)
                session.add(SurveyResponse(conversation_id=conversation.id, question_id=question.id,
                                           position=question.position, kind=question.kind, question=question.text,
                                           answer=text, value=value, valid=True, answered_at=answered))
    await session.flush()
    return count
