"""The notification API: a system (a billing system) sends one message at a time to one contact of
a campaign, with an ``Idempotency-Key``.

- **Who**: an admin or a supervisor of the campaign's client, by bearer token (a billing system uses
  a user of its own with the supervisor role; see README "API de notificaciones").
- **Once**: the key is inserted (unique per client) in the request's transaction before anything
  else; a second request with the key waits for the first one's transaction and then gets its
  stored answer (same body) or ``notification.idempotency_key_reused`` (another body). A first
  request that fails stores nothing, so its key may be used again. The message itself goes out
  through the channel's one sender (``conversations.outbound``: a durable delivery job after
  commit), which never sends a message twice.
- **What**: the contact (by id, or by phone read in the client's region, created if new), its open
  conversation of the campaign (or a new one, opened like a customer's and waiting in the queue),
  then an approved WhatsApp template (at any time) or plain text: WhatsApp inside the 24-hour
  window, Telegram and API channels to contacts who already wrote there. Opted-out contacts are
  refused. Statuses arrive on the channel's status path and move the message (``message.status``
  reaches the outgoing integrations).
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from atiende.auth.caller import Caller
from atiende.campaigns.models import Campaign
from atiende.channels.models import Channel, ChannelKind
from atiende.channels.whatsapp.adapter import last_customer_message_at
from atiende.channels.whatsapp.models import WhatsAppTemplate, WhatsAppTemplateMessage
from atiende.channels.whatsapp.service import as_template
from atiende.channels.whatsapp.templates import (
    Template, TemplateParameterError, TemplateValues, build_components, preview,
)
from atiende.channels.whatsapp.window import window_is_open
from atiende.contacts import phones
from atiende.contacts.service import ContactNotFound, client_region
from atiende.conversations import dispatch, routing
from atiende.conversations.events import ConversationQueued, emit
from atiende.conversations.models import (
    Contact, Conversation, ConversationStatus, Direction, Message, SenderKind,
)
from atiende.conversations.outbound import post_message
from atiende.jobs import JobContext
from atiende.outbound import contacts_bridge, reach
from atiende.outbound.errors import (
    ContactNeverWrote, ContactOptedOut, ConversationOnOtherChannel, IdempotencyKeyReused, NoSuitableChannel,
    NotificationInvalid, NotificationPhoneInvalid, OutboundMessageNotFound, TemplateNeedsWhatsApp,
    TemplateUnusable, WindowClosed,
)
from atiende.outbound.models import NotificationKey
from atiende.outbound.schemas import NotificationIn, NotificationTemplate
from atiende.outbound.service import MANAGERS

TEXT_KINDS = (ChannelKind.whatsapp, ChannelKind.telegram, ChannelKind.api)


def status_url(message_id: int) -> str:
    return f"/api/v1/outbound/messages/{message_id}"


def request_hash(campaign_id: int, body: NotificationIn) -> str:
    canonical = json.dumps({"campaign_id": campaign_id, "body": body.model_dump(mode="json")}, sort_keys=True,
                           separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass
class Notified:
    response: dict[str, Any]
    replayed: bool = False


class NotificationService:
    async def notify(self, session: AsyncSession, ctx: JobContext, caller: Caller, campaign: Campaign,
                     body: NotificationIn, *, key: str) -> Notified:
        caller.require(campaign.client_id, *MANAGERS, field_name="campaign_id")
        claim, earlier = await self._claim(session, campaign, body, key, ctx)
        if earlier is not None:
            return Notified(earlier, replayed=True)
        assert claim is not None
        message, contact = await self._send(session, ctx, campaign, body)
        response = {"message_id": message.id, "conversation_id": message.conversation_id,
                    "contact_id": contact.id, "channel_id": message.channel_id,
                    "status": message.status.value if message.status else "queued",
                    "status_url": status_url(message.id)}
        claim.response, claim.message_id = response, message.id
        await session.flush()
        return Notified(response)

    # --- the key ----------------------------------------------------------------------------------
    async def _claim(self, session: AsyncSession, campaign: Campaign, body: NotificationIn, key: str,
                     ctx: JobContext) -> tuple[NotificationKey | None, dict[str, Any] | None]:
        """Insert the key (the unique index makes a concurrent twin wait for this transaction), or
        the first answer given to it."""
        digest = request_hash(campaign.id, body)
        row = NotificationKey(client_id=campaign.client_id, key=key, request_hash=digest, response=None,
                              created_at=ctx.clock.now())
        try:
            async with session.begin_nested():
                session.add(row)
                await session.flush()
            return row, None
        except IntegrityError:
            pass
        earlier = await session.scalar(select(NotificationKey).where(
            NotificationKey.client_id == campaign.client_id, NotificationKey.key == key)
            .execution_options(populate_existing=True))
        assert earlier is not None and earlier.response is not None  # written in the winner's transaction
        if earlier.request_hash != digest:
            raise IdempotencyKeyReused()
        return None, dict(earlier.response)

    # --- the message --------------------------------------------------------------------------------
    async def _send(self, session: AsyncSession, ctx: JobContext, campaign: Campaign,
                    body: NotificationIn) -> tuple[Message, Contact]:
        now = ctx.clock.now()
        channel = await self._channel(session, campaign, body)
        contact = await self._contact(session, campaign.client_id, body.to)
        if await contacts_bridge.is_opted_out(session, contact.id, channel.kind.value):
            raise ContactOptedOut(channel.kind.value)
        sent_template: tuple[Template, list[dict[str, Any]]] | None = None
        if body.template is not None:
            if channel.kind != ChannelKind.whatsapp:
                raise TemplateNeedsWhatsApp()
            template = await self._template(session, channel, body.template)
            values = TemplateValues(header=list(body.template.parameters.header),
                                    body=list(body.template.parameters.body),
                                    buttons=list(body.template.parameters.buttons),
                                    header_media_url=body.template.parameters.header_media_url)
            try:
                components = build_components(template, values)
            except TemplateParameterError as exc:
                raise NotificationInvalid(str(exc), field=f"template.parameters.{exc.field}") from exc
            text = preview(template, values)
            sent_template = template, components
        else:
            text = body.text or ""
            await self._may_write_freely(session, channel, contact, now)
        conversation = await self._conversation(session, ctx, campaign, channel, contact, now)
        message = await post_message(session, ctx, conversation, sender=SenderKind.system, text=text, now=now)
        if sent_template is not None:  # the adapter sends these components instead of the text
            template, components = sent_template
            session.add(WhatsAppTemplateMessage(message_id=message.id, name=template.name,
                                                language=template.language, components=components))
            await session.flush()
        return message, contact

    async def _channel(self, session: AsyncSession, campaign: Campaign, body: NotificationIn) -> Channel:
        linked = await reach.campaign_channels(session, campaign.id)
        if body.channel_id is not None:
            chosen = next((c for c in linked if c.id == body.channel_id), None)
            if chosen is None:
                raise NoSuitableChannel("The campaign has no active channel with that id")
        else:
            whatsapp = [c for c in linked if c.kind == ChannelKind.whatsapp]
            others = [c for c in linked if c.kind in TEXT_KINDS]
            chosen = (whatsapp or ([] if body.template is not None else others) or [None])[0]
            if chosen is None:
                raise NoSuitableChannel("The campaign has no active WhatsApp channel" if body.template is not None
                                        else "The campaign has no active WhatsApp, Telegram or API channel")
        if chosen.kind not in TEXT_KINDS:
            raise NoSuitableChannel(f"Notifications are not sent on {chosen.kind.value} channels")
        return chosen

    async def _contact(self, session: AsyncSession, client_id: int, to: int | str) -> Contact:
        if isinstance(to, int):
            contact = await session.scalar(select(Contact).where(Contact.id == to, Contact.client_id == client_id,
                                                                 Contact.erased_at.is_(None)))
            if contact is None:
                raise ContactNotFound("to")
            return contact
        try:
            e164 = phones.to_e164(to, await client_region(session, client_id))
        except ValueError:
            raise NotificationPhoneInvalid() from None
        return await contacts_bridge.upsert_by_phone(session, client_id, e164)

    async def _template(self, session: AsyncSession, channel: Channel, chosen: NotificationTemplate) -> Template:
        row = await session.scalar(select(WhatsAppTemplate).where(
            WhatsAppTemplate.channel_id == channel.id, WhatsAppTemplate.name == chosen.name,
            WhatsAppTemplate.language == chosen.language))
        if row is None:
            raise TemplateUnusable("No template of the channel has that name and language; sync the list",
                                   field="template.name")
        template = as_template(row)
        if not template.approved:
            raise TemplateUnusable(f"The template is {row.status.lower() or 'not approved'}; only approved "
                                   "templates can be sent", field="template.name")
        return template

    async def _may_write_freely(self, session: AsyncSession, channel: Channel, contact: Contact, now: datetime) -> None:
        if channel.kind == ChannelKind.whatsapp:
            if not window_is_open(await last_customer_message_at(session, channel.id, contact.id), now):
                raise WindowClosed()
            return
        if contact.id not in await reach.addresses_on(session, channel.id, [contact.id]):
            # Telegram and API channels reach only the people who wrote to them
            raise ContactNeverWrote()

    async def _conversation(self, session: AsyncSession, ctx: JobContext, campaign: Campaign, channel: Channel,
                            contact: Contact, now: datetime) -> Conversation:
        """The contact's open conversation of the campaign, or a new one opened by the router's own
        function (it waits in the queue, so an agent answers the reply)."""
        conversation = await session.scalar(
            select(Conversation).where(Conversation.campaign_id == campaign.id, Conversation.contact_id == contact.id,
                                       Conversation.status != ConversationStatus.closed)
            .with_for_update(of=Conversation).execution_options(populate_existing=True))
        if conversation is not None:
            if conversation.channel_id != channel.id:
                raise ConversationOnOtherChannel()
            return conversation
        conversation = await routing.open_conversation(session, campaign, channel, contact, now)
        conversation.last_inbound_at = None  # no customer message yet: nobody waits for an answer
        emit(session, ctx.bus, ConversationQueued(client_id=conversation.client_id, campaign_id=campaign.id,
                                                  conversation_id=conversation.id, status=conversation.status))
        dispatch.dispatch_after_commit(session, ctx, campaign.id)
        return conversation

    # --- the status URL ----------------------------------------------------------------------------
    async def message(self, session: AsyncSession, caller: Caller, message_id: int) -> Message:
        found = await session.scalar(
            select(Message).join(Conversation, Conversation.id == Message.conversation_id)
            .where(Message.id == message_id, Message.direction == Direction.outbound,
                   Conversation.client_id.in_(caller.client_ids)))
        if found is None:
            raise OutboundMessageNotFound()
        conversation = await session.get(Conversation, found.conversation_id)
        assert conversation is not None
        caller.require(conversation.client_id, *MANAGERS, field_name="message_id")
        return found


notification_service = NotificationService()
