"""Consent keywords in the inbound pipeline: a customer who writes only "BAJA" (or "STOP", "NO MÁS
MENSAJES", or the client's own words; accents and case ignored) is opted out of that kind of
channel and answered with the client's confirmation; "ALTA"/"START" opts them in again. The
message itself is stored and routed like any other, so the agents see it."""

import time
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from atiende.channels.models import ChannelKind
from atiende.contacts.consent import keyword_of, set_consent
from atiende.contacts.models import ConsentSource
from atiende.conversations.models import Conversation, Message, SenderKind
from atiende.jobs import JobContext

MAX_KEYWORD_TEXT = 60  # longer messages are conversation, never a keyword (and cost no lookup)
CACHE_SECONDS = 5.0  # like the webhook subscriptions: a change saved in another process applies within this
Words = tuple[list[str], list[str], str, str]
_cache: dict[int, tuple[float, Words]] = {}


def forget(client_id: int) -> None:
    _cache.pop(client_id, None)


async def _words(session: AsyncSession, client_id: int) -> Words:
    from atiende.contacts.service import settings_of

    cached = _cache.get(client_id)
    if cached is not None and time.monotonic() - cached[0] < CACHE_SECONDS:
        return cached[1]
    found = await settings_of(session, client_id)
    words = (list(found.opt_out_keywords), list(found.opt_in_keywords), found.opt_out_reply, found.opt_in_reply)
    _cache[client_id] = (time.monotonic(), words)
    return words


async def keyword_in(session: AsyncSession, client_id: int, text: str | None) -> bool | None:
    """True: an opt-out keyword; False: an opt-in one; None: neither."""
    if not text or len(text) > MAX_KEYWORD_TEXT:
        return None
    out_words, in_words, _, _ = await _words(session, client_id)
    return keyword_of(text, out_words, in_words)


async def on_customer_message(session: AsyncSession, ctx: JobContext, kind: ChannelKind, conversation: Conversation,
                              message: Message, now: datetime) -> bool:
    verdict = await keyword_in(session, conversation.client_id, message.text)
    if verdict is None:
        return False
    await set_consent(session, conversation.contact_id, kind.value, opted_out=verdict,
                      source=ConsentSource.keyword.value, bus=ctx.bus, clock=ctx.clock)
    _, _, out_reply, in_reply = await _words(session, conversation.client_id)
    reply = out_reply if verdict else in_reply
    if reply.strip():
        from atiende.conversations.outbound import post_message

        await post_message(session, ctx, conversation, sender=SenderKind.system, text=reply, now=now)
    return True
