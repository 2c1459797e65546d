"""Sending on the web chat: nothing to call — the visitor's widget reads the message from the
widget API (live over its WebSocket or long poll). It counts as sent once stored; it becomes
``read`` when the widget reports the visitor saw it."""

from atiende.channels.models import Channel, ChannelKind
from atiende.channels.protocol import register_adapter
from atiende.conversations.models import Conversation, Message
from atiende.jobs import JobContext


class WebchatAdapter:
    kind = ChannelKind.webchat

    async def send(self, ctx: JobContext, channel: Channel, conversation: Conversation,
                   message: Message) -> str | None:
        return None


register_adapter(WebchatAdapter())
