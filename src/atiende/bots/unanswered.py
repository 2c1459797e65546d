"""The questions a bot did not understand: counted per way of asking and listed most asked first
(``AttentionBotService.learn`` turns one into a new entry or a phrasing of an existing one).

A question is recorded inside the customer message's own transaction (the bot's turn), with one
``INSERT … ON CONFLICT DO UPDATE``: two processes counting the same question never collide, and a
rollback of the turn takes the count back with it.
"""

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from atiende.auth.caller import Caller
from atiende.bots.matcher import fold, normalise
from atiende.bots.models import AttentionBot, UnansweredQuestion
from atiende.errors import NotFound
from atiende.kit.pagination import PageParams, paginate

_TABLE = UnansweredQuestion.__table__


def _upsert(dialect: str):  # type: ignore[no-untyped-def]
    module = postgresql if dialect == "postgresql" else sqlite
    statement = module.insert(_TABLE)
    return statement.on_conflict_do_update(
        index_elements=["bot_id", "key"],
        set_={"count": _TABLE.c.count + 1, "text": statement.excluded.text,
              "last_seen_at": statement.excluded.last_seen_at})


_UPSERTS = {dialect: _upsert(dialect) for dialect in ("postgresql", "sqlite")}


def key_of(text: str) -> str:
    """One row per way of asking: the matcher's normal form (stems of the content words)."""
    return (normalise(text) or fold(text).strip())[:300]


async def record(session: AsyncSession, bot_id: int, text: str, now: datetime) -> None:
    key = key_of(text)
    if not key:
        return
    await session.execute(_UPSERTS[session.bind.dialect.name],
                          {"bot_id": bot_id, "key": key, "text": text.strip()[:500], "count": 1,
                           "first_seen_at": now, "last_seen_at": now})


async def listing(session: AsyncSession, caller: Caller, bot: AttentionBot, page: PageParams
                  ) -> tuple[list[UnansweredQuestion], int]:
    caller.require_admin(bot.client_id)
    statement = (select(UnansweredQuestion).where(UnansweredQuestion.bot_id == bot.id)
                 .order_by(UnansweredQuestion.count.desc(), UnansweredQuestion.last_seen_at.desc(),
                           UnansweredQuestion.id))
    return await paginate(session, statement, page)


async def find(session: AsyncSession, bot: AttentionBot, question_id: int) -> UnansweredQuestion:
    question = await session.scalar(select(UnansweredQuestion).where(UnansweredQuestion.id == question_id,
                                                                     UnansweredQuestion.bot_id == bot.id))
    if question is None:
        raise NotFound("Unanswered question not found", field="question_id")
    return question


async def dismiss(session: AsyncSession, caller: Caller, bot: AttentionBot, question_id: int) -> None:
    caller.require_admin(bot.client_id)
    question = await find(session, bot, question_id)
    await session.execute(delete(UnansweredQuestion).where(UnansweredQuestion.id == question.id))
