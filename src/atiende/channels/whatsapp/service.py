"""WhatsApp rules agents and admins use: the synced template list, sending a template, and the
state of a conversation's 24-hour window."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from atiende.auth.caller import Caller
from atiende.auth.models import Role
from atiende.channels.models import Channel, ChannelKind
from atiende.channels.protocol import ReplyWindow, TemplateChoice, register_reply_window
from atiende.channels.whatsapp.adapter import client_for, last_customer_message_at
from atiende.channels.whatsapp.errors import GraphError
from atiende.channels.whatsapp.models import WhatsAppTemplate, WhatsAppTemplateMessage
from atiende.channels.whatsapp.templates import (
    Template, TemplateParameterError, TemplateValues, build_components, preview,
)
from atiende.channels.whatsapp.window import window_closes_at, window_is_open
from atiende.conversations.models import Conversation, Message
from atiende.conversations.service import conversation_service
from atiende.errors import AtiendeError, Invalid, NotFound
from atiende.jobs import JobContext


class ProviderError(AtiendeError):
    """Meta refused or did not answer a call made for the user (502, Meta's reason in ``detail``)."""

    code = "whatsapp.provider_error"

    status_code = 502


def as_template(row: WhatsAppTemplate) -> Template:
    return Template(name=row.name, language=row.language, status=row.status, category=row.category,
                    components=tuple(row.components or []), provider_id=row.provider_id)


@dataclass
class WindowState:
    open: bool
    last_customer_message_at: datetime | None
    closes_at: datetime | None


class WhatsAppService:
    async def channel(self, session: AsyncSession, caller: Caller, channel_id: int, *roles: Role) -> Channel:
        channel = await session.scalar(select(Channel).where(
            Channel.id == channel_id, Channel.kind == ChannelKind.whatsapp, Channel.client_id.in_(caller.client_ids)))
        if channel is None:
            raise NotFound("WhatsApp channel not found", field="channel_id")
        caller.require(channel.client_id, *roles, field_name="channel_id")
        return channel

    async def templates(self, session: AsyncSession, channel: Channel) -> list[WhatsAppTemplate]:
        return list((await session.scalars(select(WhatsAppTemplate).where(WhatsAppTemplate.channel_id == channel.id)
                                           .order_by(WhatsAppTemplate.name, WhatsAppTemplate.language))).all())

    async def sync_templates(self, session: AsyncSession, ctx: JobContext, channel: Channel) -> list[WhatsAppTemplate]:
        """Replace the stored list with Meta's current one (all statuses; agents pick approved ones)."""
        account = (channel.settings or {}).get("business_account_id")
        if not account:
            raise Invalid("Set the channel's WhatsApp Business Account id to read its templates",
                          field="settings.business_account_id")
        try:
            fetched = await client_for(ctx, channel).list_templates(str(account))
        except GraphError as exc:
            raise ProviderError(f"Meta did not give the template list: {exc.reason}") from exc
        now = ctx.clock.now()
        stored = {(t.name, t.language): t for t in await self.templates(session, channel)}
        seen = set()
        for template in fetched:
            key = (template.name, template.language)
            if key in seen:
                continue
            seen.add(key)
            row = stored.get(key) or WhatsAppTemplate(channel_id=channel.id, name=template.name,
                                                      language=template.language)
            row.status, row.category = template.status, template.category
            row.components, row.provider_id, row.synced_at = list(template.components), template.provider_id, now
            session.add(row)
        gone = [row.id for key, row in stored.items() if key not in seen]
        if gone:
            await session.execute(delete(WhatsAppTemplate).where(WhatsAppTemplate.id.in_(gone)))
        await session.flush()
        return await self.templates(session, channel)

    async def _conversation_channel(self, session: AsyncSession, conversation: Conversation) -> Channel:
        channel = await session.get(Channel, conversation.channel_id)
        if channel is None or channel.kind != ChannelKind.whatsapp:
            raise Invalid("This conversation is not on a WhatsApp channel", field="conversation_id")
        return channel

    async def window(self, session: AsyncSession, conversation: Conversation, now: datetime) -> WindowState:
        channel = await self._conversation_channel(session, conversation)
        last = await last_customer_message_at(session, channel.id, conversation.contact_id)
        return WindowState(open=window_is_open(last, now), last_customer_message_at=last,
                           closes_at=window_closes_at(last))

    async def send_template(self, session: AsyncSession, ctx: JobContext, caller: Caller, conversation: Conversation,
                            *, name: str, language: str, values: TemplateValues) -> Message:
        """The assigned agent sends an approved template (allowed outside the 24-hour window)."""
        channel = await self._conversation_channel(session, conversation)
        row = await session.scalar(select(WhatsAppTemplate).where(
            WhatsAppTemplate.channel_id == channel.id, WhatsAppTemplate.name == name,
            WhatsAppTemplate.language == language))
        if row is None:
            raise Invalid("No template of this channel has that name and language; sync the list", field="name")
        template = as_template(row)
        if not template.approved:
            raise Invalid(f"The template is {row.status.lower() or 'not approved'}; only approved templates "
                          "can be sent", field="name")
        try:
            components = build_components(template, values)
        except TemplateParameterError as exc:
            raise Invalid(str(exc), field=exc.field) from exc
        message = await conversation_service.send_message(session, ctx, caller, conversation,
                                                          text=preview(template, values))
        session.add(WhatsAppTemplateMessage(message_id=message.id, name=name, language=language,
                                            components=components))
        await session.flush()
        return message


whatsapp_service = WhatsAppService()


async def reply_window(session: AsyncSession, conversation: Conversation, now: datetime, mine: bool) -> ReplyWindow:
    """The workspace's question (``channels.protocol.reply_window_for``): the 24-hour window, and
    while it is closed the approved text-only templates the holder may send."""
    state = await whatsapp_service.window(session, conversation, now)
    templates: list[TemplateChoice] = []
    if not state.open and mine:
        channel = await whatsapp_service._conversation_channel(session, conversation)
        for row in await whatsapp_service.templates(session, channel):
            template = as_template(row)
            if template.approved and template.header_format in (None, "TEXT") and not template.url_buttons:
                templates.append(TemplateChoice(
                    name=template.name, language=template.language, body_text=template.body_text,
                    body_parameters=template.body_parameters, header_parameters=template.header_parameters))
    return ReplyWindow(open=state.open, closes_at=state.closes_at, templates=tuple(templates))


register_reply_window(ChannelKind.whatsapp, reply_window)
