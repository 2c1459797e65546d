"""The rules of a send (envío): who may manage it, its audience (an uploaded list), its message (an
approved template of the campaign's WhatsApp channel, each parameter mapped to a column or a fixed
value), its programme, and the actions Programar / Pausar / Reanudar / Cancelar. The engine that
sends lives in ``engine.py``; statuses and replies in ``hooks.py``."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from atiende.auth.caller import Caller
from atiende.auth.models import Role
from atiende.campaigns.models import Campaign, CampaignChannel
from atiende.channels.models import Channel, ChannelKind
from atiende.channels.whatsapp.models import WhatsAppTemplate
from atiende.channels.whatsapp.service import as_template
from atiende.channels.whatsapp.templates import (
    MEDIA_HEADERS, Template, TemplateParameterError, TemplateValues, build_components, preview,
)
from atiende.jobs import cancel as cancel_job
from atiende.jobs import enqueue
from atiende.kit.lists import Table, read_table, to_csv, to_e164
from atiende.outbound import contacts_bridge
from atiende.outbound.errors import (
    NoWhatsAppChannel, SendInvalid, SendNotFound, SendStateConflict, TemplateUnusable,
)
from atiende.outbound.models import OutboundRecipient, OutboundSend, RecipientState, SendStatus, SkipReason

MANAGERS = (Role.admin, Role.supervisor)
MAX_RATE = 1000
DEFAULT_CHANNEL_MAX_RATE = 80
PHONE_HEADERS = ("telefono", "teléfono", "celular", "movil", "móvil", "whatsapp", "phone", "numero", "número")
NAME_HEADERS = ("nombre", "name", "cliente", "nombre completo")
PREVIEW_ROWS = 5
MAX_ERRORS_SHOWN = 100
DIRECTORY_COLUMNS = ("nombre", "correo", "documento")  # a directory audience's variables, before attributes


def job_key(send_id: int) -> str:
    return f"outbound:{send_id}"


def channel_max_rate(channel: Channel) -> int:
    value = (channel.settings or {}).get("max_messages_per_second", DEFAULT_CHANNEL_MAX_RATE)
    return max(1, min(MAX_RATE, int(value))) if isinstance(value, int | float) else DEFAULT_CHANNEL_MAX_RATE


def daily_limit(channel: Channel) -> int | None:
    """Meta's messaging limit of the channel (unique users in a moving 24 h); None: unlimited."""
    value = (channel.settings or {}).get("daily_recipient_limit")
    return int(value) if isinstance(value, int) and value > 0 else None


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
    async def whatsapp_channel(self, session: AsyncSession, campaign: Campaign) -> Channel:
        channel = await session.scalar(
            select(Channel).join(CampaignChannel, CampaignChannel.channel_id == Channel.id)
            .where(CampaignChannel.campaign_id == campaign.id, Channel.kind == ChannelKind.whatsapp, Channel.active)
            .order_by(Channel.id).limit(1))
        if channel is None:
            raise NoWhatsAppChannel()
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
                     now: datetime) -> OutboundSend:
        membership = caller.require(campaign.client_id, *MANAGERS)
        channel = await self.whatsapp_channel(session, campaign)
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
            if not contact.phone:
                report.invalid += 1
                recipient.state, recipient.skip_reason = RecipientState.skipped, SkipReason.invalid_phone
                if len(report.errors) < MAX_ERRORS_SHOWN:
                    report.errors.append(RowError(number, "telefono", contact.name or f"#{contact.id}",
                                                  "invalid_phone"))
            else:
                report.valid += 1
                if len(report.preview) < PREVIEW_ROWS:
                    report.preview.append({"telefono": contact.phone, **variables})
            recipients.append(recipient)
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

    async def set_message(self, session: AsyncSession, send: OutboundSend, *, template_name: str, language: str,
                          mapping: dict[str, Any]) -> Template:
        self._editable(send, "change its message")
        template = await self.template_of(session, send, template_name, language)
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

    async def launch(self, session: AsyncSession, send: OutboundSend, *, now: datetime) -> None:
        """Programar: check everything once more, then hand the send to the engine."""
        self._editable(send, "be launched")
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
