"""What an agent's inbox shows: the conversations they serve now, each with its campaign, channel,
last message, how long the contact has waited and how many of the contact's messages the agent
has not seen yet.

Visibility comes from ``conversation_service.list_visible`` and the contact's number from
``conversation_service.shows_phone``: this module only gathers display data around them.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from atiende.auth.caller import Caller
from atiende.campaigns.models import Campaign
from atiende.catalog.models import Schedule
from atiende.channels.models import Channel
from atiende.conversations.events import ConversationEvent, MessageReceived, MessageStatusChanged
from atiende.conversations.models import Conversation, ConversationStatus, Direction, Message
from atiende.conversations.service import conversation_service
from atiende.kit.pagination import MAX_LIMIT, PageParams

PREVIEW = 90


@dataclass
class InboxItem:
    conversation_id: int
    campaign_id: int
    campaign_name: str
    channel_kind: str
    channel_name: str
    timezone: str  # the campaign schedule's: times are shown in it
    contact_name: str
    phone: str | None  # None when the campaign hides it from this viewer
    assigned_at: datetime | None
    last_text: str
    last_direction: Direction | None
    last_at: datetime | None
    last_message_id: int
    waiting_since: datetime | None  # the contact wrote last and waits for an answer since then
    unread: int
    attachments_only: bool = False  # the last message is files alone: the preview names them
    def matches(self, query: str) -> bool:
        needle = query.strip().lower()
        if not needle:
            return True
        haystack = [self.contact_name, self.campaign_name, self.last_text, self.channel_name, str(self.conversation_id)]
        if self.phone:
            haystack.append(self.phone)
        return any(needle in value.lower() for value in haystack)


async def waiting_since(session: AsyncSession, conversations: Sequence[Conversation]) -> dict[int, datetime]:
    """How long each contact has waited: since their first message after our last one (Chatwoot's
    ``waiting_since``) — a second message while waiting does not restart the count; our answer
    ends it. Conversations where we spoke last are left out. The one definition the inbox and the
    supervisor's board show."""
    waiting = [c for c in conversations if c.last_inbound_at is not None
               and (c.last_outbound_at is None or c.last_outbound_at < c.last_inbound_at)]
    if not waiting:
        return {}
    rows = await session.execute(
        select(Message.conversation_id, func.min(Message.created_at))
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(Message.conversation_id.in_([c.id for c in waiting]), Message.direction == Direction.inbound,
               or_(Conversation.last_outbound_at.is_(None), Message.created_at > Conversation.last_outbound_at))
        .group_by(Message.conversation_id))
    found = {cid: at for cid, at in rows.all() if at is not None}
    return {c.id: found.get(c.id) or c.last_inbound_at for c in waiting}  # type: ignore[misc]


async def agent_inbox(session: AsyncSession, caller: Caller, client_id: int,
                      seen: Mapping[int, int]) -> list[InboxItem]:
    """The caller's conversations in progress in ``client_id``, the longest-waiting first.

    ``seen`` maps a conversation id to the last message id the agent has seen in it."""
    me = caller.membership(client_id)
    conversations, _total = await conversation_service.list_visible(
        session, caller, page=PageParams(page=1, limit=MAX_LIMIT), client_id=client_id,
        status=ConversationStatus.assigned, membership_id=me.id)
    return await describe(session, caller, conversations, seen)


async def describe(session: AsyncSession, caller: Caller, conversations: Sequence[Conversation],
                   seen: Mapping[int, int]) -> list[InboxItem]:
    if not conversations:
        return []
    ids = [c.id for c in conversations]
    campaigns = {c.id: c for c in (await session.scalars(
        select(Campaign).where(Campaign.id.in_({c.campaign_id for c in conversations})))).all()}
    channels = {row.id: (row.kind.value, row.name) for row in (await session.execute(
        select(Channel.id, Channel.kind, Channel.name).where(
            Channel.id.in_({c.channel_id for c in conversations})))).all()}
    zones = dict((await session.execute(select(Schedule.id, Schedule.timezone).where(
        Schedule.id.in_({c.schedule_id for c in campaigns.values()})))).all())
    last = await last_messages(session, ids)
    unread = await unread_counts(session, ids, seen)
    waits = await waiting_since(session, conversations)
    items = []
    for conversation in conversations:
        campaign = campaigns[conversation.campaign_id]
        kind, channel_name = channels.get(conversation.channel_id, ("api", ""))
        message = last.get(conversation.id)
        items.append(InboxItem(
            conversation_id=conversation.id, campaign_id=campaign.id, campaign_name=campaign.name,
            channel_kind=kind, channel_name=channel_name, timezone=zones.get(campaign.schedule_id, "UTC"),
            contact_name=conversation.contact.name,
            phone=conversation.contact.phone if conversation_service.shows_phone(caller, campaign) else None,
            assigned_at=conversation.assigned_at, last_text=preview(message), last_direction=message.direction
            if message else None, last_at=message.created_at if message else None,
            last_message_id=message.id if message else 0,
            attachments_only=bool(message and message.attachments and not message.text.strip()),
            waiting_since=waits.get(conversation.id),
            unread=unread.get(conversation.id, 0)))
    items.sort(key=_urgency)
    return items


def apply_messages(items: list[InboxItem], events: Sequence[ConversationEvent], membership_id: int,
                   reading: int | None) -> bool:
    """Apply live events to the inbox in memory when each is a customer's text on a row it shows,
    still the agent's (or a delivery report, which the inbox does not show): the newest message,
    the wait, the unread count (not for ``reading``, the conversation open) and the order, as
    ``describe`` would read them. False, with ``items`` untouched, when any event needs a re-read
    (a new, transferred or closed conversation, our own message, a file without text)."""
    rows = {item.conversation_id: item for item in items}
    received = []
    for event in events:
        if isinstance(event, MessageStatusChanged):
            continue
        if not (isinstance(event, MessageReceived) and event.conversation_id in rows and event.text.strip()
                and event.status == ConversationStatus.assigned and membership_id in event.membership_ids):
            return False
        received.append(event)
    for event in received:
        item = rows[event.conversation_id]
        if event.message_id <= item.last_message_id:
            continue  # already read from the database
        item.last_text, item.last_direction, item.last_at = preview_text(event.text), Direction.inbound, event.at
        item.last_message_id, item.attachments_only = event.message_id, False
        if item.waiting_since is None:
            item.waiting_since = event.at
        if event.conversation_id != reading:
            item.unread += 1
    items.sort(key=_urgency)
    return True


def _urgency(item: InboxItem) -> tuple[int, float, int]:
    """Waiting contacts first (longest wait first), then the most recently active."""
    if item.waiting_since is not None:
        return (0, item.waiting_since.timestamp(), item.conversation_id)
    return (1, -(item.last_at.timestamp() if item.last_at else 0.0), item.conversation_id)


def preview(message: Message | None) -> str:
    if message is None:
        return ""
    text = " ".join(message.text.split())
    if not text and message.attachments:
        text = ", ".join(str(a.get("name") or a.get("kind") or "") for a in message.attachments)
    return preview_text(text)


def preview_text(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= PREVIEW else text[:PREVIEW - 1] + "…"


async def last_messages(session: AsyncSession, conversation_ids: Sequence[int]) -> dict[int, Message]:
    newest = (select(func.max(Message.id)).where(Message.conversation_id.in_(conversation_ids))
              .group_by(Message.conversation_id))
    rows = (await session.scalars(select(Message).where(Message.id.in_(newest)))).all()
    return {m.conversation_id: m for m in rows}


async def unread_counts(session: AsyncSession, conversation_ids: Sequence[int],
                        seen: Mapping[int, int]) -> dict[int, int]:
    """Contact messages newer than the last one the agent saw, per conversation."""
    after = or_(*(and_(Message.conversation_id == cid, Message.id > int(seen.get(cid, 0)))
                  for cid in conversation_ids))
    rows = await session.execute(
        select(Message.conversation_id, func.count()).where(Message.direction == Direction.inbound, after)
        .group_by(Message.conversation_id))
    return {cid: int(count) for cid, count in rows.all()}
