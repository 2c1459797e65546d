"""The rules of a send (envío): who may manage it, its channel (the campaign's WhatsApp, Telegram or
API channel), its audience (an uploaded list or a directory filter; on Telegram and API channels
only contacts who already wrote there), its message (on WhatsApp an approved template, each
parameter mapped to a column or a fixed value; elsewhere plain text with placeholders), its
programme, and the actions Programar / Pausar / Reanudar / Cancelar. The engine that sends lives
in ``engine.py``; statuses and replies in ``hooks.py``."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from atiende.auth.caller import Caller
from atiende.auth.models import Role
from atiende.campaigns.models import Campaign
from atiende.clock import as_utc
from atiende.channels.models import Channel, ChannelKind
from atiende.channels.whatsapp.models import WhatsAppTemplate
from atiende.channels.whatsapp.service import as_template
from atiende.channels.whatsapp.templates import (
    MEDIA_HEADERS, Template, TemplateParameterError, TemplateValues, build_components, preview,
)
from atiende.jobs import cancel as cancel_job
from atiende.jobs import enqueue
from atiende.kit.lists import Table, read_table, to_csv, to_e164
from atiende.outbound import contacts_bridge, reach
from atiende.outbound.errors import (
    NoSendingChannel, SendInvalid, SendNotFound, SendStateConflict, TemplateUnusable,
)
from atiende.outbound.models import (
    ATTEMPTED, OutboundRecipient, OutboundSend, RecipientState, SendStatus, SkipReason,
)
from atiende.outbound.text_message import check_text

MANAGERS = (Role.admin, Role.supervisor)
MAX_RATE = 1000
DEFAULT_CHANNEL_MAX_RATE = 80
TELEGRAM_MAX_RATE = 30  # a bot's broadcast limit (Telegram's FAQ: about 30 messages per second)
SEND_KINDS = (ChannelKind.whatsapp, *reach.FREE_TEXT_KINDS)
PHONE_HEADERS = ("telefono", "teléfono", "celular", "movil", "móvil", "whatsapp", "phone", "numero", "número")
NAME_HEADERS = ("nombre", "name", "cliente", "nombre completo")
PREVIEW_ROWS = 5
MAX_ERRORS_SHOWN = 100
DIRECTORY_COLUMNS = ("nombre", "correo", "documento")  # a directory audience's variables, before attributes


def job_key(send_id: int) -> str:
    return f"outbound:{send_id}"


def channel_max_rate(channel: Channel) -> int:
    default = TELEGRAM_MAX_RATE if channel.kind == ChannelKind.telegram else DEFAULT_CHANNEL_MAX_RATE
    value = (channel.settings or {}).get("max_messages_per_second", default)
    return max(1, min(MAX_RATE, int(value))) if isinstance(value, int | float) else default


def daily_limit(channel: Channel) -> int | None:
    """Meta's messaging limit set on the channel (unique users in a moving 24 h); None: unlimited."""
    value = (channel.settings or {}).get("daily_recipient_limit")
    return int(value) if isinstance(value, int) and value > 0 else None


@dataclass(frozen=True)
class MessagingLimit:
    """How many unique recipients the channels in ``channel_ids`` may reach together in 24 h."""

    limit: int
    channel_ids: tuple[int, ...]


async def messaging_limit(session: AsyncSession, channel: Channel) -> MessagingLimit | None:
    """The limit that binds a channel's sends: its own, or, when it names a business portfolio,
    the one that Meta applies to every number of that portfolio together (the client's WhatsApp
    channels with the same ``business_portfolio_id``; the lowest limit set on any of them)."""
    portfolio = (channel.settings or {}).get("business_portfolio_id")
    if not portfolio:
        own = daily_limit(channel)
        return None if own is None else MessagingLimit(own, (channel.id,))
    numbers = (await session.scalars(select(Channel).where(
        Channel.client_id == channel.client_id, Channel.kind == ChannelKind.whatsapp))).all()
    group = [c for c in numbers if (c.settings or {}).get("business_portfolio_id") == portfolio]
    limits = [limit for c in group if (limit := daily_limit(c)) is not None]
    return MessagingLimit(min(limits), tuple(sorted(c.id for c in group))) if limits else None


async def messaging_room(session: AsyncSession, shared: MessagingLimit, now: datetime) -> tuple[int, datetime]:
    """Room left under the limit now (unique phones reached by any send of the group in the last
    24 h, failures included: Meta counts the attempt), and when the oldest of them leaves the window."""
    since = now - timedelta(hours=24)
    window = and_(OutboundRecipient.channel_id.in_(shared.channel_ids), OutboundRecipient.attempted_at >= since,
                  OutboundRecipient.state.in_(ATTEMPTED + (RecipientState.failed,)))
    used = int(await session.scalar(select(func.count(func.distinct(OutboundRecipient.phone))).where(window)) or 0)
    oldest = await session.scalar(select(func.min(OutboundRecipient.attempted_at)).where(window))
    reopens = (as_utc(oldest) + timedelta(hours=24)) if oldest is not None else now + timedelta(minutes=1)
    return shared.limit - used, reopens


@dataclass
class RowError:
    row: int
    column: str
    value: str
    reason: str


@dataclass
class AudienceReport:
    total: int
    valid: int
    invalid: int
    duplicates: int
    columns: list[str]
    phone_column: str
    name_column: str | None
    preview: list[dict[str, str]]
    errors: list[RowError] = field(default_factory=list)
    no_conversation: int = 0  # Telegram and API sends: contacts who never wrote on the channel


@dataclass
class Source:
    """Where a template parameter's value comes from: a column of the list, or a fixed text."""

    column: str | None = None
    value: str | None = None

    def resolve(self, variables: dict[str, str]) -> str:
        return variables.get(self.column, "") if self.column else (self.value or "")


def _sources(raw: Any) -> list[Source]:
    return [Source(column=s.get("column"), value=s.get("value")) for s in raw or [] if isinstance(s, dict)]


def values_for(mapping: dict[str, Any], variables: dict[str, str]) -> TemplateValues:
    media = mapping.get("header_media")
    return TemplateValues(
        header=[s.resolve(variables) for s in _sources(mapping.get("header"))],
        body=[s.resolve(variables) for s in _sources(mapping.get("body"))],
        buttons=[s.resolve(variables) for s in _sources(mapping.get("buttons"))],
        header_media_url=(Source(**media).resolve(variables) or None) if isinstance(media, dict) else None)


def render(template: Template, mapping: dict[str, Any], variables: dict[str, str]) -> tuple[list[dict[str, Any]], str]:
    """The ``components`` of one recipient's request and the body as they read it;
    ``TemplateParameterError`` if a value is missing."""
    values = values_for(mapping, variables)
    return build_components(template, values), preview(template, values)


class OutboundService:
    # --- loading, scoped to the caller's client -------------------------------------------------
    async def sending_channels(self, session: AsyncSession, campaign: Campaign) -> list[Channel]:
        """The campaign's active channels a send may go out on: WhatsApp first (the default), then
        Telegram and API channels (plain text to contacts who wrote to them)."""
        linked = [c for c in await reach.campaign_channels(session, campaign.id) if c.kind in SEND_KINDS]
        return sorted(linked, key=lambda c: c.kind != ChannelKind.whatsapp)

    async def sending_channel(self, session: AsyncSession, campaign: Campaign, channel_id: int | None) -> Channel:
        channels = await self.sending_channels(session, campaign)
        if channel_id is None:
            if not channels:
                raise NoSendingChannel()
            return channels[0]
        chosen = next((c for c in channels if c.id == channel_id), None)
        if chosen is None:
            raise SendInvalid("The campaign has no active WhatsApp, Telegram or API channel with that id",
                              field="channel_id")
        return chosen

    async def channel_of(self, session: AsyncSession, send: OutboundSend) -> Channel:
        channel = await session.get(Channel, send.channel_id)
        assert channel is not None  # the foreign key restricts deleting a channel with sends
        return channel

    async def get(self, session: AsyncSession, caller: Caller, send_id: int, *, manage: bool = True,
                  lock: bool = False) -> OutboundSend:
        stmt = select(OutboundSend).where(OutboundSend.id == send_id,
                                          OutboundSend.client_id.in_(caller.client_ids))
        send = await session.scalar(stmt.with_for_update() if lock else stmt)
        if send is None:
            raise SendNotFound()
        if manage:
            caller.require(send.client_id, *MANAGERS)
        return send

    async def of_campaign(self, session: AsyncSession, caller: Caller, campaign: Campaign) -> list[OutboundSend]:
        caller.require(campaign.client_id, *MANAGERS)
        return list((await session.scalars(select(OutboundSend).where(OutboundSend.campaign_id == campaign.id)
                                           .order_by(OutboundSend.id.desc()))).all())

    # --- the wizard ----------------------------------------------------------------------------
    async def create(self, session: AsyncSession, caller: Caller, campaign: Campaign, *, name: str,
                     now: datetime, channel_id: int | None = None) -> OutboundSend:
        """A draft on the chosen channel (``channel_id``), else the campaign's WhatsApp channel, else
        its first Telegram or API channel."""
        membership = caller.require(campaign.client_id, *MANAGERS)
        channel = await self.sending_channel(session, campaign, channel_id)
        send = OutboundSend(client_id=campaign.client_id, campaign_id=campaign.id, channel_id=channel.id,
                            name=name.strip()[:120], status=SendStatus.draft, columns=[], mapping={},
                            rate_per_second=min(80, channel_max_rate(channel)), respect_schedule=True,
                            max_consecutive_failures=50, consecutive_failures=0, phone_column="",
                            created_by_membership_id=membership.id, created_at=now)
        session.add(send)
        await session.flush()
        return send

    def _editable(self, send: OutboundSend, action: str) -> None:
        if send.status != SendStatus.draft:
            raise SendStateConflict(action, send.status.value)

    async def upload_audience(self, session: AsyncSession, send: OutboundSend, *, filename: str, content: bytes,
                              phone_column: str | None = None, name_column: str | None = None,
                              default_region: str | None = None) -> AudienceReport:
        """Replace the audience with the file's rows. Each valid, first-seen phone becomes (or
        updates) a contact and a pending recipient; the others are kept as omitted, with the reason."""
        self._editable(send, "change its audience")
        table = read_table(filename, content)
        phone_col = _column(table, phone_column, PHONE_HEADERS, "phone_column")
        name_col = _column(table, name_column, NAME_HEADERS, "name_column", required=False)
        if phone_col is None:
            raise SendInvalid("Say which column holds the phone numbers", field="phone_column")
        await session.execute(OutboundRecipient.__table__.delete().where(OutboundRecipient.send_id == send.id))
        phone_index = table.header.index(phone_col)
        name_index = table.header.index(name_col) if name_col else None
        columns = [h for h in table.header if h != phone_col]
        seen: set[str] = set()
        report = AudienceReport(total=len(table.rows), valid=0, invalid=0, duplicates=0, columns=columns,
                                phone_column=phone_col, name_column=name_col, preview=[])
        recipients = []
        for number, row in enumerate(table.rows, start=2):
            variables = {h: v for h, v in zip(table.header, row, strict=True) if h != phone_col}
            raw_phone = row[phone_index]
            name = row[name_index] if name_index is not None else ""
            recipient = OutboundRecipient(send_id=send.id, channel_id=send.channel_id, row_number=number,
                                          phone=raw_phone[:40], name=name[:120], variables=variables,
                                          state=RecipientState.pending, attempts=0)
            try:
                phone = to_e164(raw_phone, default_region)
            except ValueError:
                report.invalid += 1
                recipient.state, recipient.skip_reason = RecipientState.skipped, SkipReason.invalid_phone
                if len(report.errors) < MAX_ERRORS_SHOWN:
                    report.errors.append(RowError(number, phone_col, raw_phone, "invalid_phone"))
                recipients.append(recipient)
                continue
            recipient.phone = phone
            if phone in seen:
                report.duplicates += 1
                recipient.state, recipient.skip_reason = RecipientState.skipped, SkipReason.duplicate
                if len(report.errors) < MAX_ERRORS_SHOWN:
                    report.errors.append(RowError(number, phone_col, raw_phone, "duplicate"))
                recipients.append(recipient)
                continue
            seen.add(phone)
            contact = await contacts_bridge.upsert_by_phone(session, send.client_id, phone, name=name or None,
                                                            default_region=default_region)
            recipient.contact_id = contact.id
            report.valid += 1
            if len(report.preview) < PREVIEW_ROWS:
                report.preview.append({"telefono": phone, **variables})
            recipients.append(recipient)
        await self._only_who_wrote(session, send, recipients, report)
        session.add_all(recipients)
        send.columns, send.phone_column, send.name_column = columns, phone_col, name_col
        await session.flush()
        return report

    async def audience_from_directory(self, session: AsyncSession, caller: Caller, send: OutboundSend,
                                      filters: contacts_bridge.ContactFilters) -> AudienceReport:
        """Replace the audience with the contacts of a filter of the directory (Contactos' own
        search and filters, as the caller sees them). Each contact's name, email, document and
        attributes become the send's variables (``nombre``, ``correo``, ``documento``, then each
        attribute by its key); a contact without a phone is kept as omitted. Opted-out contacts
        stay in the list and are omitted when the send reaches them, like an uploaded list's."""
        self._editable(send, "change its audience")
        needs_phone = (await self.channel_of(session, send)).kind == ChannelKind.whatsapp
        await session.execute(OutboundRecipient.__table__.delete().where(OutboundRecipient.send_id == send.id))
        contacts = [c async for c, _shown in contacts_bridge.contact_service.all_matching(
            session, caller, send.client_id, filters)]
        attributes = sorted({key for c in contacts for key in (c.attributes or {})} - set(DIRECTORY_COLUMNS))
        columns = [*DIRECTORY_COLUMNS, *attributes]
        report = AudienceReport(total=len(contacts), valid=0, invalid=0, duplicates=0, columns=columns,
                                phone_column="telefono", name_column="nombre", preview=[])
        recipients = []
        for number, contact in enumerate(reversed(contacts), start=1):  # oldest first, as a list is read
            extra = contact.attributes or {}
            variables = {"nombre": contact.name or "", "correo": contact.email or "",
                         "documento": contact.document_id or "",
                         **{key: "" if extra.get(key) is None else str(extra[key]) for key in attributes}}
            recipient = OutboundRecipient(send_id=send.id, channel_id=send.channel_id, row_number=number,
                                          phone=contact.phone or "", name=(contact.name or "")[:120],
                                          variables=variables, contact_id=contact.id,
                                          state=RecipientState.pending, attempts=0)
            if not contact.phone and needs_phone:
                report.invalid += 1
                recipient.state, recipient.skip_reason = RecipientState.skipped, SkipReason.invalid_phone
                if len(report.errors) < MAX_ERRORS_SHOWN:
                    report.errors.append(RowError(number, "telefono", contact.name or f"#{contact.id}",
                                                  "invalid_phone"))
            else:
                report.valid += 1
                if len(report.preview) < PREVIEW_ROWS:
                    report.preview.append({"telefono": contact.phone or "", **variables})
            recipients.append(recipient)
        await self._only_who_wrote(session, send, recipients, report)
        session.add_all(recipients)
        send.columns, send.phone_column, send.name_column = columns, "telefono", "nombre"
        await session.flush()
        return report

    async def template_of(self, session: AsyncSession, send: OutboundSend, name: str, language: str) -> Template:
        row = await session.scalar(select(WhatsAppTemplate).where(
            WhatsAppTemplate.channel_id == send.channel_id, WhatsAppTemplate.name == name,
            WhatsAppTemplate.language == language))
        if row is None:
            raise TemplateUnusable("No template of the campaign's WhatsApp channel has that name and language; "
                                   "sync the list", field="template_name")
        template = as_template(row)
        if not template.approved:
            raise TemplateUnusable(f"The template is {row.status.lower() or 'not approved'}; only approved "
                                   "templates can be sent", field="template_name")
        return template

    async def _only_who_wrote(self, session: AsyncSession, send: OutboundSend, recipients: list[OutboundRecipient],
                              report: AudienceReport) -> None:
        """A Telegram or API send reaches only contacts who already wrote on its channel: the others
        are omitted (``no_conversation``). One query per thousand contacts; nothing for WhatsApp."""
        if (await self.channel_of(session, send)).kind == ChannelKind.whatsapp:
            return
        candidates = [r for r in recipients if r.skip_reason is None]
        known = await reach.addresses_on(session, send.channel_id, [r.contact_id for r in candidates
                                                                    if r.contact_id is not None])
        for recipient in candidates:
            if recipient.contact_id not in known:
                recipient.state, recipient.skip_reason = RecipientState.skipped, SkipReason.no_conversation
                report.valid -= 1
                report.no_conversation += 1
                if len(report.errors) < MAX_ERRORS_SHOWN:
                    report.errors.append(RowError(recipient.row_number, report.phone_column,
                                                  recipient.phone or recipient.name, "no_conversation"))
        report.errors.sort(key=lambda e: e.row)
        report.preview = [{"telefono": r.phone, **r.variables} for r in recipients
                          if r.skip_reason is None][:PREVIEW_ROWS]

    async def set_message(self, session: AsyncSession, send: OutboundSend, *, template_name: str | None = None,
                          language: str | None = None, mapping: dict[str, Any] | None = None,
                          text: str | None = None) -> Template | None:
        """WhatsApp: an approved template, each parameter mapped (outside the 24-hour window
        WhatsApp takes nothing else). Telegram and API channels: plain ``text`` with placeholders."""
        self._editable(send, "change its message")
        kind = (await self.channel_of(session, send)).kind
        if kind != ChannelKind.whatsapp:
            if template_name is not None:
                raise SendInvalid("Templates are sent on WhatsApp only; write the text of the message",
                                  field="template_name")
            send.text = check_text(text, set(send.columns), kind)
            await session.flush()
            return None
        if text is not None:
            raise SendInvalid("A WhatsApp send reaches contacts outside the 24-hour window, where WhatsApp "
                              "takes only an approved template; choose one instead of text", field="text")
        if not template_name:
            raise SendInvalid("Choose the template", field="template_name")
        if not language:
            raise SendInvalid("Say the template's language", field="language")
        template = await self.template_of(session, send, template_name, language)
        mapping = mapping or {}
        _check_mapping(template, mapping, set(send.columns))
        send.template_name, send.template_language, send.mapping = template_name, language, mapping
        await session.flush()
        return template

    async def set_programme(self, session: AsyncSession, send: OutboundSend, *, start_at: datetime | None,
                            rate_per_second: int, respect_schedule: bool, max_consecutive_failures: int,
                            now: datetime) -> None:
        self._editable(send, "change its programme")
        channel = await session.get(Channel, send.channel_id)
        assert channel is not None
        maximum = channel_max_rate(channel)
        if rate_per_second > maximum:
            raise SendInvalid(f"The channel allows at most {maximum} messages per second",
                              field="rate_per_second")
        if start_at is not None and start_at < now:
            raise SendInvalid("The start time is in the past", field="start_at")
        send.start_at, send.rate_per_second = start_at, rate_per_second
        send.respect_schedule, send.max_consecutive_failures = respect_schedule, max_consecutive_failures
        await session.flush()

    # --- review and actions -----------------------------------------------------------------------
    async def counts(self, session: AsyncSession, send: OutboundSend) -> dict[str, int]:
        rows = await session.execute(
            select(OutboundRecipient.state, OutboundRecipient.skip_reason, func.count())
            .where(OutboundRecipient.send_id == send.id)
            .group_by(OutboundRecipient.state, OutboundRecipient.skip_reason))
        counts: dict[str, int] = {s.value: 0 for s in RecipientState} | {f"skipped_{r.value}": 0 for r in SkipReason}
        total = 0
        for state, reason, count in rows:
            counts[state.value] += count
            if reason is not None:
                counts[f"skipped_{reason.value}"] += count
            total += count
        counts["total"] = total
        counts["replied"] = int(await session.scalar(select(func.count()).where(
            OutboundRecipient.send_id == send.id, OutboundRecipient.replied_at.is_not(None))) or 0)
        return counts

    async def review(self, session: AsyncSession, send: OutboundSend, *, now: datetime) -> dict[str, int]:
        """Revisión, before launching: of the pending recipients, how many will be sent, how many
        are opted out of the channel now (omitted when reached), and how many the messaging limit
        defers to its next window (sent later, never dropped)."""
        channel = await session.get(Channel, send.channel_id)
        assert channel is not None
        pending = OutboundRecipient.send_id == send.id, OutboundRecipient.state == RecipientState.pending
        total = int(await session.scalar(select(func.count()).where(*pending)) or 0)
        opted_out = int(await session.scalar(select(func.count()).where(
            *pending, OutboundRecipient.contact_id.in_(contacts_bridge.opted_out_ids(channel.kind.value)))) or 0)
        deferred = 0
        if (shared := await messaging_limit(session, channel)) is not None:
            room, _ = await messaging_room(session, shared, now)
            deferred = max(0, total - opted_out - max(0, room))
        return {"will_send": total - opted_out - deferred, "opted_out": opted_out, "deferred": deferred}

    async def launch(self, session: AsyncSession, send: OutboundSend, *, now: datetime) -> None:
        """Programar: check everything once more, then hand the send to the engine."""
        self._editable(send, "be launched")
        kind = (await self.channel_of(session, send)).kind
        if kind != ChannelKind.whatsapp:
            if send.text is None:
                raise SendInvalid("Write the text of the message first", field="text")
            check_text(send.text, set(send.columns), kind)
        else:
            if not send.template_name or not send.template_language:
                raise SendInvalid("Choose the template first", field="template_name")
            template = await self.template_of(session, send, send.template_name, send.template_language)
            _check_mapping(template, send.mapping, set(send.columns))
        pending = await session.scalar(select(func.count()).where(
            OutboundRecipient.send_id == send.id, OutboundRecipient.state == RecipientState.pending))
        if not pending:
            raise SendInvalid("The audience has no valid recipient; upload a list", field="file")
        if send.start_at is not None and send.start_at < now:
            raise SendInvalid("The start time is in the past", field="start_at")
        send.status = SendStatus.scheduled
        await enqueue(session, _engine_job(), due_at=max(now, send.start_at or now), key=job_key(send.id),
                      max_attempts=1000, send_id=send.id)

    async def pause(self, session: AsyncSession, send: OutboundSend, *, reason: str = "Pausado por un usuario") -> None:
        if send.status not in (SendStatus.scheduled, SendStatus.sending):
            raise SendStateConflict("be paused", send.status.value)
        send.status, send.note = SendStatus.paused, reason
        await cancel_job(session, job_key(send.id))

    async def resume(self, session: AsyncSession, send: OutboundSend, *, now: datetime) -> None:
        if send.status != SendStatus.paused:
            raise SendStateConflict("be resumed", send.status.value)
        send.status = SendStatus.sending if send.started_at else SendStatus.scheduled
        send.note, send.consecutive_failures = None, 0
        await enqueue(session, _engine_job(), due_at=max(now, send.start_at or now), key=job_key(send.id),
                      max_attempts=1000, send_id=send.id)

    async def cancel(self, session: AsyncSession, send: OutboundSend, *, now: datetime) -> None:
        if send.status in (SendStatus.completed, SendStatus.cancelled):
            raise SendStateConflict("be cancelled", send.status.value)
        send.status, send.finished_at = SendStatus.cancelled, now
        await session.execute(update(OutboundRecipient).where(
            OutboundRecipient.send_id == send.id,
            OutboundRecipient.state.in_((RecipientState.pending, RecipientState.claimed)))
            .values(state=RecipientState.skipped, skip_reason=SkipReason.cancelled))
        await cancel_job(session, job_key(send.id))

    async def recipients(self, session: AsyncSession, send: OutboundSend, *, q: str | None, state: RecipientState | None,
                         offset: int, limit: int) -> tuple[list[OutboundRecipient], int]:
        stmt = select(OutboundRecipient).where(OutboundRecipient.send_id == send.id)
        if state is not None:
            stmt = stmt.where(OutboundRecipient.state == state)
        if q:
            like = f"%{q.strip()}%"
            stmt = stmt.where(OutboundRecipient.phone.ilike(like) | OutboundRecipient.name.ilike(like))
        total = await session.scalar(select(func.count()).select_from(stmt.subquery()))
        rows = (await session.scalars(stmt.order_by(OutboundRecipient.row_number).offset(offset).limit(limit))).all()
        return list(rows), int(total or 0)

    async def results_csv(self, session: AsyncSession, send: OutboundSend) -> bytes:
        header = ["fila", "telefono", "nombre", *[c for c in send.columns if c != send.name_column], "estado",
                  "motivo_omitido", "codigo_error", "error", "wamid", "intento", "enviado", "entregado", "leido",
                  "fallido", "respondido"]
        rows = []
        result = await session.stream_scalars(select(OutboundRecipient).where(OutboundRecipient.send_id == send.id)
                                              .order_by(OutboundRecipient.row_number))
        async for r in result:
            rows.append([r.row_number, r.phone, r.name,
                         *[r.variables.get(c, "") for c in send.columns if c != send.name_column],
                         r.state.value, r.skip_reason.value if r.skip_reason else "", r.error_code or "",
                         r.error_title or "", r.wamid or "", *[_iso(t) for t in (
                             r.attempted_at, r.sent_at, r.delivered_at, r.read_at, r.failed_at, r.replied_at)]])
        return to_csv(header, rows)


def _iso(value: datetime | None) -> str:
    return value.isoformat() if value else ""


def _engine_job():  # type: ignore[no-untyped-def]
    from atiende.outbound.engine import run_send

    return run_send


def _column(table: Table, chosen: str | None, guesses: tuple[str, ...], field_name: str,
            required: bool = True) -> str | None:
    if chosen:
        match = next((h for h in table.header if h.lower() == chosen.strip().lower()), None)
        if match is None:
            raise SendInvalid(f"The file has no column {chosen!r}", field=field_name)
        return match
    return next((h for h in table.header if h.lower() in guesses), None)


def _check_mapping(template: Template, mapping: dict[str, Any], columns: set[str]) -> None:
    """Counts match the template's parameters, every mapped column exists in the audience."""
    expected = {"header": len(template.header_parameters), "body": len(template.body_parameters),
                "buttons": len(template.url_buttons)}
    for part, count in expected.items():
        sources = mapping.get(part) or []
        if not isinstance(sources, list) or len(sources) != count:
            raise SendInvalid(f"The template's {part} takes {count} parameter(s), the mapping gives "
                              f"{len(sources) if isinstance(sources, list) else 0}", field=f"mapping.{part}")
        for index, source in enumerate(_sources(sources)):
            _check_source(source, columns, f"mapping.{part}.{index}")
    if template.header_format in MEDIA_HEADERS:
        media = mapping.get("header_media")
        if not isinstance(media, dict):
            raise SendInvalid("This template's header needs a media link", field="mapping.header_media")
        _check_source(Source(**media), columns, "mapping.header_media")
    try:  # with placeholder values: the shape is right
        build_components(template, values_for(mapping, {c: "x" for c in columns}))
    except TemplateParameterError as exc:
        raise SendInvalid(str(exc), field=f"mapping.{exc.field}") from exc


def _check_source(source: Source, columns: set[str], where: str) -> None:
    if source.column is not None:
        if source.column not in columns:
            raise SendInvalid(f"The audience has no column {source.column!r}", field=where)
    elif not (source.value or "").strip():
        raise SendInvalid("Map the parameter to a column or give a fixed value", field=where)


outbound_service = OutboundService()
