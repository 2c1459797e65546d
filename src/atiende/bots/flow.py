"""The attention bot on a live conversation: it answers first, and hands off to the agents.

The inbound pipeline calls ``on_customer_message`` once per stored customer message (routing's
``_react``), in the message's own transaction:
- a **new** conversation of a campaign with an active bot goes to status ``bot``: the bot greets
  and shows its menu or, when the first message already asks something, greets and answers it in
  one message (``FirstTurn``);
- a message on a conversation in ``bot`` is answered (``bots.replies.decide``): an answer, "¿Te
  refieres a…?", a misunderstanding, or the end: **resolved** (closed with the campaign's
  typification, the survey still runs) or **handoff** (queued like any new conversation, with the
  reason, so the normal path assigns it; the agent sees the bot's messages in the transcript).
Every reply goes out through ``post_message``, the channel's one sender. A message is routed
once (inbound deliveries are unique), so the bot never answers one message twice; it never acts
on a conversation an agent holds. Inactivity while the bot waits closes it as for agents.
"""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from atiende.bots import unanswered
from atiende.bots.matcher import Intent, KnowledgeMatcher, Phrased, intent_of
from atiende.bots.models import AttentionBot, KnowledgeEntry
from atiende.bots.replies import Decision, Reply, decide, fresh_state, welcome
from atiende.campaigns.models import Campaign
from atiende.catalog.schedule_snapshots import open_now
from atiende.conversations import dispatch
from atiende.conversations.closing import close_by_bot, inactivity_check, schedule_inactivity
from atiende.conversations.ending import inactivity_key
from atiende.conversations.events import ConversationQueued, ConversationUpdated, emit
from atiende.conversations.models import (
    BotHandoffReason, Conversation, ConversationStatus, Direction, Message, SenderKind,
)
from atiende.conversations.outbound import post_many, post_message
from atiende.jobs import JobContext, cancel, enqueue_many

HANDOFF_NOTES = {
    BotHandoffReason.keyword: "El cliente pidió hablar con un asesor.",
    BotHandoffReason.menu: "El cliente eligió «hablar con un asesor» en el menú.",
    BotHandoffReason.misunderstood: "El asistente no entendió al cliente varias veces.",
    BotHandoffReason.out_of_hours: "El asistente no atiende fuera del horario.",
    BotHandoffReason.bot_unavailable: "El asistente de la campaña ya no está activo.",
    BotHandoffReason.supervisor: "Un supervisor la pasó a los asesores.",
}

# Built matchers per bot, kept while the bot's revision stays (every change of the bot or of its
# knowledge base raises it); a few bots per process, so no eviction beyond replacement.
_matchers: dict[int, tuple[int, KnowledgeMatcher, dict[int, KnowledgeEntry]]] = {}


async def knowledge(session: AsyncSession, bot: AttentionBot) -> tuple[KnowledgeMatcher, dict[int, KnowledgeEntry]]:
    """The bot's matcher and active entries by id, built once per revision."""
    cached = _matchers.get(bot.id)
    if cached is not None and cached[0] == bot.revision:
        return cached[1], cached[2]
    rows = (await session.scalars(select(KnowledgeEntry).where(KnowledgeEntry.bot_id == bot.id,
                                                               KnowledgeEntry.active).order_by(KnowledgeEntry.id)))
    entries = {}
    for entry in rows.all():
        session.expunge(entry)
        entries[entry.id] = entry
    matcher = KnowledgeMatcher([Phrased(e.id, e.question, tuple(e.phrasings)) for e in entries.values()],
                               {e.id: e.answer for e in entries.values()})
    _matchers[bot.id] = (bot.revision, matcher, entries)
    return matcher, entries


async def on_customer_message(session: AsyncSession, ctx: JobContext, campaign: Campaign,
                              conversation: Conversation, message: Message, now: datetime, *,
                              created: bool) -> bool:
    """Let the campaign's bot take the message. True: the bot handled it (it holds or closed the
    conversation) and the normal path must not run; False: queue/assign as usual (no bot, or the
    bot just handed off and the conversation is ``queued``)."""
    if conversation.status == ConversationStatus.bot:
        return await _turn(session, ctx, campaign, conversation, message, now)
    if not created or campaign.attention_bot_id is None:
        return False
    bot = await taking(session, campaign, now)
    if bot is None:
        return False
    turn = await first_turn(session, campaign, bot, message.text)
    start(conversation, turn.reply, now)
    emit(session, ctx.bus, ConversationUpdated(client_id=conversation.client_id, campaign_id=campaign.id,
                                               conversation_id=conversation.id, status=conversation.status,
                                               what="bot"))
    if turn.unanswered:
        await unanswered.record(session, bot.id, message.text, now)
    return await _apply(session, ctx, campaign, conversation, turn.reply, now)


@dataclass(frozen=True)
class FirstTurn:
    """What the bot says to a new conversation's first message, in one message: the welcome and
    its menu; or, when the message already asks something, the welcome line and the reply to it
    (an answer, "¿Te refieres a…?", a handoff…). One message, not a menu and then the answer: the
    customer who asked gets the answer at once, and each reply is one delivery."""

    bot: AttentionBot
    reply: Reply
    asked: bool  # the first message asked something (not a greeting alone)

    @property
    def plain(self) -> bool:
        """Only a message: no handoff and no close (the inbound batch writes such turns in bulk)."""
        return self.reply.decision not in (Decision.handoff, Decision.resolved)

    @property
    def unanswered(self) -> bool:
        return self.asked and _missed_question(self.reply)


async def taking(session: AsyncSession, campaign: Campaign, now: datetime) -> AttentionBot | None:
    """The campaign's bot, when it takes a new conversation now (active, and answering at this hour)."""
    bot = await _active_bot(session, campaign)
    return bot if bot is not None and await _answers_now(session, campaign, now) else None


async def first_turn(session: AsyncSession, campaign: Campaign, bot: AttentionBot, text: str) -> FirstTurn:
    greeting = welcome(bot)
    if intent_of(text) in (Intent.greeting, Intent.empty):
        return FirstTurn(bot, greeting, asked=False)
    matcher, entries = await knowledge(session, bot)
    reply = decide(bot, matcher, entries, greeting.state, text, keywords=campaign.bot_handoff_keywords,
                   max_misses=campaign.bot_max_misunderstandings)
    lead = bot.welcome_message.strip()
    return FirstTurn(bot, replace(reply, text="\n\n".join(part for part in (lead, reply.text) if part)), asked=True)


def start(conversation: Conversation, reply: Reply, now: datetime) -> None:
    """The conversation is the bot's from now (not queued for the agents), as ``reply`` leaves it."""
    conversation.status = ConversationStatus.bot
    conversation.queued_at = None
    conversation.bot_state = reply.state


async def start_many(session: AsyncSession, ctx: JobContext,
                     started: Sequence[tuple[Campaign, Conversation, FirstTurn, str]], now: datetime) -> None:
    """The inbound batch's plain first turns (each with the customer's text), written as
    ``on_customer_message`` writes one, in a fixed number of statements: the bot's messages
    (``post_many``), the conversations' inactivity timers in one statement, the unanswered
    questions counted. ``started``'s conversations are inserted already in status ``bot`` (``start``)."""
    for campaign, conversation, _, _ in started:
        emit(session, ctx.bus, ConversationUpdated(client_id=conversation.client_id, campaign_id=campaign.id,
                                                   conversation_id=conversation.id, status=conversation.status,
                                                   what="bot"))
    await post_many(session, ctx, [(conversation, SenderKind.bot, turn.reply.text[:4096], labels_of(turn.reply))
                                   for _, conversation, turn, _ in started], now)
    await enqueue_many(session, inactivity_check, [
        (inactivity_key(conversation.id), now + timedelta(minutes=campaign.inactivity_timeout_minutes),
         {"conversation_id": conversation.id}) for campaign, conversation, _, _ in started])
    for _, _, turn, text in started:
        if turn.unanswered:
            await unanswered.record(session, turn.bot.id, text, now)


async def _turn(session: AsyncSession, ctx: JobContext, campaign: Campaign, conversation: Conversation,
                message: Message, now: datetime, *, bot: AttentionBot | None = None) -> bool:
    """``bot``: given on the conversation's first turn, when the bot and the hours were just
    checked and no inactivity timer runs yet."""
    if bot is None:
        await cancel(session, inactivity_key(conversation.id))  # the contact wrote
        bot = await _active_bot(session, campaign)
        if bot is None:
            await _hand_off(session, ctx, campaign, conversation, BotHandoffReason.bot_unavailable, now)
            return False
        if not await _answers_now(session, campaign, now):
            await _hand_off(session, ctx, campaign, conversation, BotHandoffReason.out_of_hours, now)
            return False
    matcher, entries = await knowledge(session, bot)
    reply = decide(bot, matcher, entries, conversation.bot_state or fresh_state(), message.text,
                   keywords=campaign.bot_handoff_keywords, max_misses=campaign.bot_max_misunderstandings)
    if _missed_question(reply):
        await unanswered.record(session, bot.id, message.text, now)
    return await _apply(session, ctx, campaign, conversation, reply, now)


def _missed_question(reply: Reply) -> bool:
    """A question the bot did not understand (counted for the bot's unanswered list)."""
    missed = reply.decision == Decision.misunderstood or reply.handoff == BotHandoffReason.misunderstood
    return missed and reply.match is not None and reply.match.intent == Intent.question


async def _apply(session: AsyncSession, ctx: JobContext, campaign: Campaign, conversation: Conversation,
                 reply: Reply, now: datetime) -> bool:
    conversation.bot_state = reply.state
    waits = reply.decision not in (Decision.handoff, Decision.resolved)
    if reply.text:
        await _say(session, ctx, campaign, conversation, reply.text, now, wait=waits, choices=labels_of(reply))
    elif waits:
        await schedule_inactivity(session, campaign, conversation, now)
    if reply.decision == Decision.handoff:
        assert reply.handoff is not None
        await _hand_off(session, ctx, campaign, conversation, reply.handoff, now)
        return False
    if reply.decision == Decision.resolved:
        await close_by_bot(session, ctx, campaign, conversation, now, campaign.bot_resolved_typification_id)
    return True


def labels_of(reply: Reply) -> list[str]:
    """What the customer may tap under the reply (the options are numbered in its text too)."""
    return [str(option["label"]) for option in reply.options]


async def _say(session: AsyncSession, ctx: JobContext, campaign: Campaign, conversation: Conversation, text: str,
               now: datetime, *, wait: bool = True, choices: Sequence[str] = ()) -> None:
    await post_message(session, ctx, conversation, sender=SenderKind.bot, text=text[:4096], choices=choices, now=now)
    if wait:
        await schedule_inactivity(session, campaign, conversation, now)


async def _hand_off(session: AsyncSession, ctx: JobContext, campaign: Campaign, conversation: Conversation,
                    reason: BotHandoffReason, now: datetime) -> None:
    """Give the conversation to the agents: queued as if it had just arrived, with the reason in
    the transcript as a note (never sent to the customer)."""
    await cancel(session, inactivity_key(conversation.id))
    conversation.status = ConversationStatus.queued
    conversation.queued_at = now
    conversation.bot_handoff_reason = reason
    conversation.bot_state = None
    session.add(Message(conversation_id=conversation.id, channel_id=conversation.channel_id,
                        direction=Direction.outbound, sender=SenderKind.system,
                        text="Transferida por el asistente: " + HANDOFF_NOTES[reason], created_at=now,
                        delivery_attempts=0, attachments=[]))
    emit(session, ctx.bus, ConversationQueued(client_id=conversation.client_id, campaign_id=campaign.id,
                                              conversation_id=conversation.id, status=conversation.status))


async def take_over(session: AsyncSession, ctx: JobContext, campaign: Campaign, conversation: Conversation,
                    now: datetime) -> None:
    """A supervisor takes the conversation from the bot: handed off like any other, then assigned
    at once when an agent has room (the caller holds the campaign's dispatch lock)."""
    await _hand_off(session, ctx, campaign, conversation, BotHandoffReason.supervisor, now)
    await dispatch.assign_waiting(session, ctx.bus, campaign, now)


async def _active_bot(session: AsyncSession, campaign: Campaign) -> AttentionBot | None:
    if campaign.attention_bot_id is None:
        return None
    bot = await session.get(AttentionBot, campaign.attention_bot_id)
    return bot if bot is not None and bot.active and bot.client_id == campaign.client_id else None


async def _answers_now(session: AsyncSession, campaign: Campaign, now: datetime) -> bool:
    if campaign.bot_answers_out_of_hours:
        return True
    return await open_now(session, campaign.schedule_id, now)
