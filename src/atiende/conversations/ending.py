"""The record of a conversation's end: its stamps, its inactivity timer cancelled, the survey when
there is one, the ``ConversationClosed`` event.

Kept below ``closing`` (whose operations free seats and so call ``dispatch``) so that dispatch's
hours tick can close out-of-hours conversations (``hours.out_of_hours``) without an import cycle.
"""

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from atiende.campaigns.models import Campaign
from atiende.conversations import survey
from atiende.conversations.events import ConversationClosed, emit
from atiende.conversations.models import CloseReason, Conversation, ConversationStatus
from atiende.jobs import JobContext, cancel


def inactivity_key(conversation_id: int) -> str:
    return f"inactivity:{conversation_id}"


async def finish(session: AsyncSession, ctx: JobContext, campaign: Campaign, conversation: Conversation,
                 now: datetime, reason: CloseReason, typification_id: int | None, by_id: int | None,
                 agent_id: int | None, *, with_survey: bool) -> None:
    """Stamp the end; with ``with_survey`` the campaign's survey (if any) takes the conversation,
    else it is closed. The agent's stretch, if any, was ended by the caller."""
    conversation.closed_at = now
    conversation.close_reason = reason
    conversation.closed_by_membership_id = by_id
    conversation.typification_id = typification_id
    conversation.assigned_at = None
    await cancel(session, inactivity_key(conversation.id))
    if not (with_survey and await survey.start(session, ctx, campaign, conversation, now)):
        conversation.status = ConversationStatus.closed
    emit(session, ctx.bus, ConversationClosed(
        client_id=conversation.client_id, campaign_id=campaign.id, conversation_id=conversation.id,
        status=conversation.status, membership_ids=(agent_id,) if agent_id else (), reason=reason,
        typification_id=typification_id))


async def close_unserved(session: AsyncSession, ctx: JobContext, campaign: Campaign, conversation: Conversation,
                         now: datetime, reason: CloseReason) -> None:
    """Close a conversation no agent holds (out of hours)."""
    await finish(session, ctx, campaign, conversation, now, reason, None, None, None, with_survey=False)
