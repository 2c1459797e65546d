"""Plain text on Telegram and API channels: it reaches only the contacts who already wrote to the
channel (they have an identity on it: their Telegram chat, the API system's contact id), and goes
out through the channel's one sender. The notification API and the sends of a campaign both
use these; WhatsApp's window and templates live with WhatsApp."""

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from atiende.campaigns.models import CampaignChannel
from atiende.channels import api_channel
from atiende.channels.models import Channel, ChannelKind
from atiende.channels.telegram import adapter as telegram
from atiende.channels.telegram.client import TEXT_LIMIT as TELEGRAM_TEXT_LIMIT
from atiende.channels.telegram.client import TelegramError
from atiende.conversations.models import ContactIdentity, SenderKind
from atiende.errors import cause_of
from atiende.jobs import JobContext

FREE_TEXT_KINDS = (ChannelKind.telegram, ChannelKind.api)  # no templates: text to whoever wrote
TEXT_LIMITS = {ChannelKind.telegram: TELEGRAM_TEXT_LIMIT, ChannelKind.api: 4096}
_IN_BATCH = 1000  # ids per IN (PostgreSQL takes at most 32,767 parameters a statement)


async def campaign_channels(session: AsyncSession, campaign_id: int) -> list[Channel]:
    """The campaign's active channels, oldest first (the default is the first of a kind)."""
    return list((await session.scalars(
        select(Channel).join(CampaignChannel, CampaignChannel.channel_id == Channel.id)
        .where(CampaignChannel.campaign_id == campaign_id, Channel.active).order_by(Channel.id))).all())


async def addresses_on(session: AsyncSession, channel_id: int, contact_ids: Iterable[int]) -> dict[int, str]:
    """contact id → the contact's id on the channel, for the contacts who wrote to it (one query per
    thousand contacts)."""
    ids = sorted(set(contact_ids))
    found: dict[int, str] = {}
    for start in range(0, len(ids), _IN_BATCH):
        rows = await session.execute(select(ContactIdentity.contact_id, ContactIdentity.external_id).where(
            ContactIdentity.channel_id == channel_id, ContactIdentity.contact_id.in_(ids[start:start + _IN_BATCH]))
            .order_by(ContactIdentity.id))
        for contact_id, external_id in rows:
            found.setdefault(contact_id, external_id)
    return found


async def deliver_text(ctx: JobContext, channel: Channel, *, address: str, name: str, text: str,
                       reference: dict[str, int], at: datetime) -> str | None:
    """One text outside any conversation (a send's message) through the channel's sender; the
    provider's id. The API channel's system gets the conversation's payload with ``message_id`` and
    ``conversation_id`` null and ``send`` ({"id", "recipient_id"}) instead. Raises the sender's
    ``SendError`` (or the transport's ``httpx`` error)."""
    if channel.kind == ChannelKind.telegram:
        return await telegram.deliver(ctx, channel, address, text)
    if channel.kind == ChannelKind.api:
        return await api_channel.deliver(ctx, channel, {
            "message_id": None, "conversation_id": None, "send": reference,
            "contact": {"external_id": address, "name": name}, "sender": SenderKind.system.value, "text": text,
            "attachments": [], "choices": [], "created_at": at.isoformat()})
    raise ValueError(f"{channel.kind} channels take no plain-text sends")


def retry_after(error: BaseException) -> float | None:
    """Seconds the channel asked us to wait before sending anything more (Telegram's 429 flood
    limit, for the whole bot), found in the error's causes."""
    flood = cause_of(error, TelegramError)
    return float(flood.retry_after or 1) if flood is not None and flood.status == 429 else None
