"""What reaches a send after it went out: WhatsApp's statuses (by wamid) move each recipient
sent → delivered → read, or to failed with Meta's code; a recipient's reply ties their
conversation to the send (the template becomes the conversation's first outbound message, the
send's variables are shown to the agent; a Telegram or API send's text likewise) and a contact who
opted out on the channel's kind (the directory's keywords) gets none of their pending messages."""

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from atiende.channels.models import Channel
from atiende.clock import as_utc
from atiende.channels.whatsapp import inbound as whatsapp_inbound
from atiende.channels.whatsapp.payloads import ParsedStatus
from atiende.conversations import routing
from atiende.conversations.models import (
    Conversation, DeliveryStatus, Direction, Message, SenderKind,
)
from atiende.jobs import JobContext
from atiende.outbound import contacts_bridge
from atiende.outbound.models import STATE_RANK, OutboundRecipient, OutboundSend, RecipientState, SkipReason

REPLY_WINDOW = timedelta(days=7)  # a reply this long after the send still counts as its answer
_STATE_OF = {DeliveryStatus.sent: RecipientState.sent, DeliveryStatus.delivered: RecipientState.delivered,
             DeliveryStatus.read: RecipientState.read}
_DELIVERY_OF = {RecipientState.sent: DeliveryStatus.sent, RecipientState.delivered: DeliveryStatus.delivered,
                RecipientState.read: DeliveryStatus.read}
ANSWERABLE = (RecipientState.sent, RecipientState.delivered, RecipientState.read, RecipientState.uncertain)


async def apply_statuses(session: AsyncSession, ctx: JobContext, channel: Channel,
                         statuses: list[ParsedStatus]) -> None:
    """In the webhook's transaction: each status moves its recipient forward (by wamid)."""
    wamids = [s.update.external_id for s in statuses if s.update.external_id]
    if not wamids:
        return
    rows = {r.wamid: r for r in (await session.scalars(select(OutboundRecipient).where(
        OutboundRecipient.channel_id == channel.id, OutboundRecipient.wamid.in_(wamids))
        .with_for_update())).all()}
    for status in statuses:
        row = rows.get(status.update.external_id)
        if row is not None:
            advance(row, status, status.update.at or ctx.clock.now())
    await session.flush()


def advance(row: OutboundRecipient, status: ParsedStatus, at: datetime) -> None:
    """Forward only: read stays read; failed only from sent (Meta's late refusal)."""
    update_ = status.update
    if update_.status == DeliveryStatus.failed:
        if row.state in (RecipientState.sent, RecipientState.uncertain):
            row.state, row.failed_at = RecipientState.failed, at
            row.error_code, row.error_title = status.error_code, (update_.reason or "failed")[:500]
        return
    target = _STATE_OF.get(update_.status)
    if target is None or row.state not in (*STATE_RANK, RecipientState.uncertain):
        return
    if row.state != RecipientState.uncertain and STATE_RANK[target] <= STATE_RANK[row.state]:
        return
    row.state = target
    row.sent_at = row.sent_at or at
    if target in (RecipientState.delivered, RecipientState.read):
        row.delivered_at = row.delivered_at or at
    if target == RecipientState.read:
        row.read_at = row.read_at or at


async def on_inbound(session: AsyncSession, ctx: JobContext, stored: list[tuple[int, int]]) -> None:
    """Customers' new messages: tie each to the send they answer; stop an opted-out contact's sends.
    One indexed query when no send concerns them (the usual case: inbound latency is kept)."""
    rows = (await session.execute(
        select(OutboundRecipient, Conversation.id)
        .join(Conversation, (Conversation.contact_id == OutboundRecipient.contact_id)
              & (Conversation.channel_id == OutboundRecipient.channel_id))
        .where(Conversation.id.in_({cid for _, cid in stored}),
               OutboundRecipient.state.in_((*ANSWERABLE, RecipientState.pending, RecipientState.claimed)),
               OutboundRecipient.replied_at.is_(None))
        .order_by(OutboundRecipient.id.desc()))).all()
    if not rows:
        return
    by_conversation: dict[int, list[OutboundRecipient]] = {}
    for recipient, conversation_id in rows:
        by_conversation.setdefault(conversation_id, []).append(recipient)
    conversations = {c.id: c for c in (await session.scalars(select(Conversation).where(
        Conversation.id.in_(by_conversation)))).all()}
    kinds = dict((await session.execute(select(Channel.id, Channel.kind).where(
        Channel.id.in_({c.channel_id for c in conversations.values()})))).all())
    now = ctx.clock.now()
    for message_id, conversation_id in stored:
        conversation, mine = conversations.get(conversation_id), by_conversation.get(conversation_id, [])
        if conversation is None:
            continue
        kind = kinds[conversation.channel_id].value
        if await contacts_bridge.is_opted_out(session, conversation.contact_id, kind):
            await _skip_pending(session, mine)  # the directory's keywords (BAJA, STOP…) opted them out
        answered = next((r for r in mine if r.state in ANSWERABLE and r.replied_at is None
                         and r.attempted_at is not None and as_utc(r.attempted_at) >= now - REPLY_WINDOW), None)
        if answered is not None:
            await _tie(session, answered, conversation, now)


async def _skip_pending(session: AsyncSession, rows: list[OutboundRecipient]) -> None:
    pending = [r.id for r in rows if r.state in (RecipientState.pending, RecipientState.claimed)]
    if pending:  # a claimed row whose call has not started is not sent (the engine's update checks the state)
        await session.execute(update(OutboundRecipient).where(
            OutboundRecipient.id.in_(pending),
            OutboundRecipient.state.in_((RecipientState.pending, RecipientState.claimed)))
            .values(state=RecipientState.skipped, skip_reason=SkipReason.opted_out))


async def _tie(session: AsyncSession, row: OutboundRecipient, conversation: Conversation, now: datetime) -> None:
    row.replied_at, row.conversation_id = now, conversation.id
    if row.wamid is not None and await session.scalar(select(Message.id).where(
            Message.conversation_id == conversation.id, Message.external_id == row.wamid)) is not None:
        return
    sent_at = as_utc(row.sent_at or row.attempted_at or now)
    status = _DELIVERY_OF.get(row.state, DeliveryStatus.sent)
    session.add(Message(conversation_id=conversation.id, channel_id=conversation.channel_id,
                        direction=Direction.outbound, sender=SenderKind.system, text=row.text or "",
                        attachments=[], external_id=row.wamid, status=status, delivery_attempts=1,
                        created_at=min(sent_at, as_utc(conversation.opened_at)), sent_at=sent_at,
                        delivered_at=row.delivered_at, read_at=row.read_at))
    await session.flush()


async def send_context(session: AsyncSession, conversation: Conversation) -> tuple[OutboundSend, OutboundRecipient] | None:
    """The send this conversation answers (the latest one tied to it), for the agent's side panel."""
    found = (await session.execute(select(OutboundSend, OutboundRecipient)
                                   .join(OutboundRecipient, OutboundRecipient.send_id == OutboundSend.id)
                                   .where(OutboundRecipient.conversation_id == conversation.id)
                                   .order_by(OutboundRecipient.replied_at.desc()).limit(1))).first()
    return (found[0], found[1]) if found else None


whatsapp_inbound.status_listeners.append(apply_statuses)
routing.inbound_hooks.append(on_inbound)
