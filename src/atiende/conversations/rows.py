"""Loading rows the engine changes, locked for the rest of the transaction."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from atiende.conversations.models import Conversation


async def lock_conversation(session: AsyncSession, conversation_id: int) -> Conversation | None:
    """The conversation, re-read and locked (only its own row, not the contact's)."""
    stmt = (select(Conversation).where(Conversation.id == conversation_id).with_for_update(of=Conversation)
            .execution_options(populate_existing=True))
    return (await session.scalars(stmt)).unique().one_or_none()
