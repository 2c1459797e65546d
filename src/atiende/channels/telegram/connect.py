"""Pointing a bot at Atiende: ``setWebhook`` with the channel's secret token, as a durable job
enqueued whenever a Telegram channel is saved (so a Telegram outage only delays it)."""

from sqlalchemy.ext.asyncio import AsyncSession

from atiende.channels.models import Channel, ChannelKind
from atiende.channels.telegram.adapter import client_for
from atiende.channels.telegram.client import TelegramError, TelegramErrorKind
from atiende.channels.telegram.inbound import secret_of
from atiende.clock import Clock
from atiende.errors import Invalid
from atiende.jobs import JobContext, PermanentJobError, enqueue, job
from atiende.settings import Settings


def webhook_url(settings: Settings, channel_id: int) -> str:
    base = settings.public_url.rstrip("/")
    if not base.startswith("https://"):
        raise Invalid("Telegram only delivers to https: set ATIENDE_PUBLIC_URL to the public https address "
                      "of this server", field="public_url")
    return f"{base}/webhooks/telegram/{channel_id}"


async def register_webhook(ctx: JobContext, channel: Channel) -> str:
    url = webhook_url(ctx.settings, channel.id)
    await client_for(ctx, channel).set_webhook(url, secret_of(ctx, channel))
    return url


@job
async def set_telegram_webhook(ctx: JobContext, *, channel_id: int) -> None:
    async with ctx.database.session() as session:
        channel = await session.get(Channel, channel_id)
    if channel is None or channel.kind != ChannelKind.telegram or not channel.active:
        return
    try:
        await register_webhook(ctx, channel)
    except TelegramError as exc:
        if exc.kind == TelegramErrorKind.permanent:
            raise PermanentJobError(exc.reason) from exc
        raise
    except Invalid as exc:
        raise PermanentJobError(exc.message) from exc


async def register_webhook_later(session: AsyncSession, clock: Clock, channel: Channel) -> None:
    """Called by the channel service when a channel is saved (in the same transaction):
    ``setWebhook`` runs as a durable job once the change is committed, retried if Telegram is
    unreachable. A channel that is not an active Telegram bot is left alone."""
    if channel.kind == ChannelKind.telegram and channel.active:
        await enqueue(session, set_telegram_webhook, due_at=clock.now(), key=f"tg-webhook:{channel.id}",
                      channel_id=channel.id)
