"""Per-conversation exports (CSV, XLSX), streamed: the cohort is read a page at a time in its own
session and each page is written out before the next is read, so memory stays flat whatever the
range. XLSX goes through openpyxl's write-only mode into a temporary file, then streams from it.

Columns: ids, channel, campaign, project, contact (phone masked when the campaign hides it from
the caller's role), agents, every time of docs/metrics.md (clock and business seconds),
typification (its path in the tree), close reason, funnel stage, each dynamic field, each survey
answer."""

import csv
import io
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from atiende.auth.caller import Caller
from atiende.campaigns.models import Campaign
from atiende.catalog.models import FieldDefinition, FunnelStage, Funnel, SurveyQuestion, SurveyBot, Typification
from atiende.catalog.schedule_snapshots import schedule_of
from atiende.channels.models import Channel
from atiende.conversations.models import Contact
from atiende.conversations.service import conversation_service
from atiende.conversations.workview import member_names
from atiende.db import Database
from atiende.kit.lists import safe_cell
from atiende.reports import metrics as m
from atiende.reports.facts import Facts, load_facts
from atiende.reports.filters import ReportFilters
from atiende.reports.service import report_service
from atiende.tenancy.models import Project

PAGE = 1000
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FIXED_COLUMNS = [
    "conversation_id", "opened_at", "closed_at", "status", "channel", "campaign", "project", "contact_name",
    "contact_phone", "agents", "queue_wait_s", "queue_wait_business_s", "first_response_s",
    "first_response_business_s", "handle_time_s", "handle_time_business_s", "resolution_s", "resolution_business_s",
    "transfers", "typification", "close_reason", "funnel_stage", "survey_outcome",
]


@dataclass
class ConversationTable:
    """Everything an export needs that does not depend on the page being written."""

    database: Database
    filters: ReportFilters
    now: datetime
    names: dict[str, dict[int, str]]
    shows_phone: dict[int, bool]
    typification_paths: dict[int, str]
    stages: dict[int, str]
    field_keys: list[tuple[str, str]]  # key, label
    questions: list[tuple[int, str]]  # position, text
    schedules: dict[int, Any] = field(default_factory=dict)

    @property
    def header(self) -> list[str]:
        return (FIXED_COLUMNS + [f"field:{label}" for _k, label in self.field_keys]
                + [f"survey:{q}" for _p, q in self.questions])


async def conversation_table(session: AsyncSession, database: Database, caller: Caller, filters: ReportFilters,
                             now: datetime) -> ConversationTable:
    """Checks the caller and the filters, and reads the names the rows will show."""
    await report_service.check(session, caller, filters)
    cid = filters.client_id
    names: dict[str, dict[int, str]] = {}
    for key, model in (("channel", Channel), ("campaign", Campaign), ("project", Project)):
        names[key] = dict((await session.execute(select(model.id, model.name).where(model.client_id == cid))).all())
    campaigns = (await session.scalars(select(Campaign).where(Campaign.client_id == cid))).all()
    tree = {t.id: t for t in (await session.scalars(select(Typification).where(Typification.client_id == cid))).all()}
    stages = dict((await session.execute(select(FunnelStage.id, FunnelStage.name).join(
        Funnel, Funnel.id == FunnelStage.funnel_id).where(Funnel.client_id == cid))).all())
    fields = [(k, label) for k, label in (await session.execute(select(FieldDefinition.key, FieldDefinition.label)
                                                               .where(FieldDefinition.client_id == cid)
                                                               .order_by(FieldDefinition.key))).all()]
    questions = sorted({(p, q) for p, q in (await session.execute(
        select(SurveyQuestion.position, SurveyQuestion.text).join(SurveyBot, SurveyBot.id == SurveyQuestion.survey_bot_id)
        .where(SurveyBot.client_id == cid))).all()})
    schedules = {c.id: await schedule_of(session, c.schedule_id) for c in campaigns}
    return ConversationTable(
        database=database, filters=filters, now=now, names=names,
        shows_phone={c.id: conversation_service.shows_phone(caller, c) for c in campaigns},
        typification_paths={tid: _path(tree, tid) for tid in tree}, stages=stages, field_keys=fields,
        questions=questions, schedules=schedules)


def _path(tree: dict[int, Typification], tid: int) -> str:
    parts, seen, current = [], set(), tree.get(tid)
    while current is not None and current.id not in seen:
        seen.add(current.id)
        parts.append(current.name)
        current = tree.get(current.parent_id) if current.parent_id else None
    return " > ".join(reversed(parts))


def mask(phone: str | None) -> str:
    if not phone:
        return ""
    return "•" * max(0, len(phone) - 4) + phone[-4:]


async def rows(table: ConversationTable) -> AsyncIterator[list[Any]]:
    """The export's rows, one page of the cohort at a time."""
    clock = m.BusinessClock(table.schedules, table.filters.start, max(table.now, table.filters.end))
    zone = table.filters.zone
    after = 0
    while True:
        async with table.database.session() as session:
            page = await load_facts(session, table.filters, after_id=after, limit=PAGE)
            if not page:
                return
            contacts = dict((r.id, (r.name, r.phone)) for r in (await session.execute(
                select(Contact.id, Contact.name, Contact.phone).where(
                    Contact.id.in_({f.contact_id for f in page})))).all())
            agents = await member_names(session, {s.membership_id for f in page for s in f.stretches})
        for f in page:
            yield _row(table, clock, zone, f, contacts.get(f.contact_id, ("", None)), agents)
        after = page[-1].id


def _seconds(clock: m.BusinessClock, spans: list[m.Span]) -> tuple[Any, Any]:
    if not spans:
        return None, None
    return (sum((b - a).total_seconds() for _c, a, b in spans),
            sum(clock.seconds(c, a, b) for c, a, b in spans))


def _row(table: ConversationTable, clock: m.BusinessClock, zone: Any, f: Facts, contact: tuple[str, str | None],
         agents: dict[int, str]) -> list[Any]:
    name, phone = contact
    shown_phone = phone or "" if table.shows_phone.get(f.campaign_id, False) else mask(phone)
    answers = {a.position: a.answer for a in f.answers}
    cells: list[Any] = [
        f.id, f.opened_at.astimezone(zone).replace(tzinfo=None),
        f.closed_at.astimezone(zone).replace(tzinfo=None) if f.closed_at else None, f.status.value,
        table.names["channel"].get(f.channel_id, ""), table.names["campaign"].get(f.campaign_id, ""),
        table.names["project"].get(f.project_id, ""), name, shown_phone,
        " > ".join(agents.get(s.membership_id, str(s.membership_id)) for s in f.stretches),
        *_seconds(clock, m.queue_wait_spans(f)), *_seconds(clock, m.first_response_spans(f)),
        *_seconds(clock, m.handle_spans(f)), *_seconds(clock, m.resolution_spans(f)),
        sum(m.transfers(f.stretches)[1].values()),
        table.typification_paths.get(f.typification_id, "") if f.typification_id else "",
        f.close_reason.value if f.close_reason else "", table.stages.get(f.funnel_stage_id or 0, ""),
        f.survey_outcome or "",
    ]
    cells += [_cell(f.field_values.get(key)) for key, _label in table.field_keys]
    cells += [answers.get(position, "") for position, _q in table.questions]
    return cells


def _cell(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def _guarded(values: list[Any]) -> list[Any]:
    """Text a spreadsheet would run as a formula (a customer named ``=HYPERLINK(…)``, a survey
    answer ``@SUM(…)``) is written as text, in CSV and XLSX alike; numbers and dates stay typed."""
    return [safe_cell(v) if isinstance(v, str) else v for v in values]


def _csv_line(values: list[Any]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(["" if v is None else (v.isoformat(sep=" ") if isinstance(v, datetime) else v)
                                 for v in _guarded(values)])
    return buffer.getvalue().encode("utf-8")


async def csv_stream(table: ConversationTable) -> AsyncIterator[bytes]:
    yield "\ufeff".encode() + _csv_line(table.header)
    async for row in rows(table):
        yield _csv_line(row)


async def xlsx_stream(table: ConversationTable, chunk: int = 64 * 1024) -> AsyncIterator[bytes]:
    with tempfile.TemporaryFile() as spool:
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet("Conversaciones")
        sheet.append(table.header)
        async for row in rows(table):
            sheet.append(_guarded(row))
        workbook.save(spool)
        spool.seek(0)
        for piece in _chunks(spool, chunk):
            yield piece


def _chunks(spool: Any, size: int) -> Iterator[bytes]:
    while piece := spool.read(size):
        yield piece


def filename(filters: ReportFilters, extension: str, stem: str = "conversaciones") -> str:
    return f"{stem}_{filters.date_from.isoformat()}_{filters.date_to.isoformat()}.{extension}"


AGENT_COLUMNS = ["membership_id", "agent", "handled", "aht_avg_s", "aht_median_s", "aht_p90_s",
                 "first_response_avg_s", "transfers_in", "transfers_out", "csat_average", "online_s", "away_s",
                 "offline_s", "busy_s", "occupancy"]
TYPIFICATION_COLUMNS = ["typification_id", "code", "path", "count", "total"]


def agent_lines(rows: list[Any]) -> Iterator[bytes]:
    """The page's per-agent table as CSV."""
    yield "\ufeff".encode() + _csv_line(AGENT_COLUMNS)
    for r in rows:
        yield _csv_line([r.membership_id, r.name, r.handled, r.handle_time.avg, r.handle_time.median,
                         r.handle_time.p90, r.first_response.avg, r.transfers_in, r.transfers_out, r.csat_average,
                         r.online_seconds, r.away_seconds, r.offline_seconds, r.busy_seconds, r.occupancy])


def typification_lines(endings: Any) -> Iterator[bytes]:
    """The endings tree as CSV, one line per node with its path and subtotal."""
    yield "\ufeff".encode() + _csv_line(TYPIFICATION_COLUMNS)

    def walk(nodes: list[Any], prefix: str) -> Iterator[bytes]:
        for node in nodes:
            path = f"{prefix} > {node.name}" if prefix else node.name
            yield _csv_line([node.id, node.code, path, node.count, node.total])
            yield from walk(node.children, path)

    yield from walk(endings.tree, "")
