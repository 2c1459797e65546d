"""The survey bot (campaign tab *Detalle*): after an agent closes a conversation, the bot asks the
questions in order, records each answer, re-asks an invalid answer once (then records it as
invalid and moves on), sends the closing message and closes the conversation. If the contact
does not answer within the bot's ``timeout_minutes`` after a question, the survey times out and
the conversation closes. Answers: rating 1–5, yes/no (sí/si/s/yes/y/no/n), free text.
"""

import re
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from atiende.campaigns.models import Campaign
from atiende.catalog.models import QuestionKind, SurveyBot, SurveyQuestion
from atiende.conversations.events import ConversationUpdated, emit
from atiende.conversations.models import (
    Conversation, ConversationStatus, Message, SenderKind, SurveyOutcome, SurveyResponse,
)
from atiende.conversations.outbound import post_message
from atiende.conversations.rows import lock_conversation
from atiende.jobs import JobContext, cancel, enqueue, job

REASK_PREFIX = "No entendí tu respuesta. "
HINTS = {QuestionKind.rating: " (responde con un número del 1 al 5)", QuestionKind.yes_no: " (responde sí o no)",
         QuestionKind.text: ""}
# A question that already tells how to answer ("(sí/no)", "Del 1 al 5, …") gets no second hint.
STATES_ITS_ANSWER = {QuestionKind.rating: re.compile(r"\b1\s*(?:al|a|-|–|to)\s*5\b", re.IGNORECASE),
                     QuestionKind.yes_no: re.compile(r"\bs[ií]\s*(?:/|o|or)\s*no\b|\byes\s*(?:/|or)\s*no\b",
                                                     re.IGNORECASE)}
YES = {"si", "sí", "s", "yes", "y"}
NO = {"no", "n"}


def survey_key(conversation_id: int) -> str:
    return f"survey:{conversation_id}"


async def survey_bot_of(session: AsyncSession, campaign: Campaign) -> SurveyBot | None:
    if not campaign.survey_enabled or campaign.survey_bot_id is None:
        return None
    bot = await session.get(SurveyBot, campaign.survey_bot_id)
    return bot if bot is not None and bot.active and bot.questions else None


async def start(session: AsyncSession, ctx: JobContext, campaign: Campaign, conversation: Conversation,
                now: datetime) -> bool:
    """Begin the survey if the campaign has one; True if the conversation is now in ``survey``."""
    bot = await survey_bot_of(session, campaign)
    if bot is None:
        return False
    conversation.status = ConversationStatus.survey
    conversation.survey_position = 0
    conversation.survey_reasked = False
    await _ask(session, ctx, bot, conversation, bot.questions[0], now)
    return True


async def _ask(session: AsyncSession, ctx: JobContext, bot: SurveyBot, conversation: Conversation,
               question: SurveyQuestion, now: datetime, *, again: bool = False) -> None:
    text = (REASK_PREFIX if again else "") + question.text + hint(question)
    await post_message(session, ctx, conversation, sender=SenderKind.bot, text=text, now=now)
    await enqueue(session, survey_timeout, due_at=now + timedelta(minutes=bot.timeout_minutes),
                  key=survey_key(conversation.id), conversation_id=conversation.id)


def hint(question: SurveyQuestion) -> str:
    """How to answer, unless the question's own text already says it."""
    said = STATES_ITS_ANSWER.get(question.kind)
    return "" if said is not None and said.search(question.text) else HINTS[question.kind]


def parse_answer(kind: QuestionKind, text: str) -> tuple[bool, Any]:
    """(valid, value) for the contact's reply to a question of ``kind``."""
    answer = text.strip()
    if kind == QuestionKind.rating:
        return (True, int(answer)) if answer in {"1", "2", "3", "4", "5"} else (False, None)
    if kind == QuestionKind.yes_no:
        word = answer.lower().rstrip(".!")
        if word in YES:
            return True, True
        if word in NO:
            return True, False
        return False, None
    return (True, answer) if answer else (False, None)


async def handle_answer(session: AsyncSession, ctx: JobContext, campaign: Campaign, conversation: Conversation,
                        message: Message, now: datetime) -> None:
    """The contact wrote while the survey runs: record the answer and go on."""
    bot = await survey_bot_of(session, campaign)
    position = conversation.survey_position
    if bot is None or position is None or position >= len(bot.questions):
        await finish(session, ctx, conversation, now, SurveyOutcome.completed, bot)
        return
    question = bot.questions[position]
    valid, value = parse_answer(question.kind, message.text)
    if not valid and not conversation.survey_reasked:
        conversation.survey_reasked = True
        await _ask(session, ctx, bot, conversation, question, now, again=True)
        return
    session.add(SurveyResponse(conversation_id=conversation.id, question_id=question.id, position=position,
                               kind=question.kind, question=question.text, answer=message.text[:4096],
                               value=value, valid=valid, answered_at=now))
    conversation.survey_position = position + 1
    conversation.survey_reasked = False
    if position + 1 < len(bot.questions):
        await _ask(session, ctx, bot, conversation, bot.questions[position + 1], now)
    else:
        await finish(session, ctx, conversation, now, SurveyOutcome.completed, bot)


async def finish(session: AsyncSession, ctx: JobContext, conversation: Conversation, now: datetime,
                 outcome: SurveyOutcome, bot: SurveyBot | None) -> None:
    if outcome == SurveyOutcome.completed and bot is not None and bot.closing_message.strip():
        await post_message(session, ctx, conversation, sender=SenderKind.bot, text=bot.closing_message, now=now)
    conversation.status = ConversationStatus.closed
    conversation.survey_outcome = outcome
    conversation.survey_position = None
    await cancel(session, survey_key(conversation.id))
    emit(session, ctx.bus, ConversationUpdated(
        client_id=conversation.client_id, campaign_id=conversation.campaign_id, conversation_id=conversation.id,
        status=conversation.status, what=f"survey_{outcome}"))


@job
async def survey_timeout(ctx: JobContext, *, conversation_id: int) -> None:
    """Nobody answered the last question in time: the survey ends and the conversation closes."""
    async with ctx.database.session() as session:
        conversation = await lock_conversation(session, conversation_id)
        if conversation is None or conversation.status != ConversationStatus.survey:
            return
        await finish(session, ctx, conversation, ctx.clock.now(), SurveyOutcome.timed_out, None)
