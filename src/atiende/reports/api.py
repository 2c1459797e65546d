"""REST for reports: the same filters on every endpoint; admins and supervisors of the client."""

from datetime import date
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

from atiende.deps import AdminsWrite, ClockDep, CurrentCaller, DatabaseDep, DbSession
from atiende.kit.schemas import MAX_ID
from atiende.reports import exports
from atiende.reports.filters import RangePreset, ReportFilters, client_of, preset_range
from atiende.reports.schemas import (
    AgentRow, Csat, Endings, FunnelReport, SlaRow, SummaryWithChange, Timeseries,
)
from atiende.reports.service import report_service
from atiende.reports.sla_service import SlaPolicyIn, SlaPolicyOut, sla_policy_service

router = APIRouter(prefix="/api/v1/reports", tags=["reports"], dependencies=[AdminsWrite])
IdQuery = Annotated[int | None, Query(ge=1, le=MAX_ID)]


async def report_filters(
        session: DbSession, caller: CurrentCaller, clock: ClockDep,
        client_id: IdQuery = None,
        preset: Annotated[RangePreset | None, Query(description="A named range; ignored when dates are given")] = None,
        date_from: Annotated[date | None, Query(description="First local day (client's time zone)")] = None,
        date_to: Annotated[date | None, Query(description="Last local day, included")] = None,
        project_id: IdQuery = None, campaign_id: IdQuery = None, channel_id: IdQuery = None,
        agent_id: Annotated[int | None, Query(ge=1, le=MAX_ID, description="An agent's membership id")] = None,
        typification_id: IdQuery = None) -> ReportFilters:
    cid = client_of(caller, client_id)
    caller.membership(cid)
    zone = await report_service.client_timezone(session, cid)
    today = clock.now().astimezone(ZoneInfo(zone)).date()
    start, end = preset_range(preset or RangePreset.today, today)
    if date_from is not None or date_to is not None:
        start = date_from or date_to or today
        end = date_to or date_from or today
    return ReportFilters(client_id=cid, date_from=start, date_to=end, timezone=zone, project_id=project_id,
                         campaign_id=campaign_id, channel_id=channel_id, agent_id=agent_id,
                         typification_id=typification_id)


Filters = Annotated[ReportFilters, Depends(report_filters)]



@router.get("/summary", response_model=SummaryWithChange,
            summary="Volume, times (clock and business), service level, abandonment, CSAT and bots; "
                    "with the previous period of the same length")
async def summary(filters: Filters, session: DbSession, caller: CurrentCaller, clock: ClockDep) -> SummaryWithChange:
    return await report_service.summary(session, caller, filters, clock.now())


@router.get("/timeseries", response_model=Timeseries,
            summary="Received/answered/closed/abandoned per day (per hour for one day) and the weekday×hour heatmap")
async def timeseries(filters: Filters, session: DbSession, caller: CurrentCaller, clock: ClockDep) -> Timeseries:
    return await report_service.timeseries(session, caller, filters, clock.now())


@router.get("/agents", response_model=list[AgentRow],
            summary="Per agent: handled, AHT, first response, transfers, CSAT, presence time, occupancy")
async def agents(filters: Filters, session: DbSession, caller: CurrentCaller, clock: ClockDep) -> list[AgentRow]:
    return await report_service.agents(session, caller, filters, clock.now())


@router.get("/typifications", response_model=Endings,
            summary="Endings: the typification tree with subtotals, and the close reasons")
async def typifications(filters: Filters, session: DbSession, caller: CurrentCaller, clock: ClockDep) -> Endings:
    return await report_service.endings(session, caller, filters, clock.now())


@router.get("/csat", response_model=Csat,
            summary="Survey response rate, average rating, % of 4-5, each question's distribution, text answers")
async def csat(filters: Filters, session: DbSession, caller: CurrentCaller, clock: ClockDep) -> Csat:
    return await report_service.csat(session, caller, filters, clock.now())


@router.get("/funnel", response_model=list[FunnelReport],
            summary="Per funnel: conversations per stage and conversion between consecutive stages")
async def funnel(filters: Filters, session: DbSession, caller: CurrentCaller, clock: ClockDep) -> list[FunnelReport]:
    return await report_service.funnel(session, caller, filters, clock.now())


@router.get("/sla", response_model=list[SlaRow],
            summary="Per campaign: queue wait, first response and resolution against the SLA policy")
async def sla(filters: Filters, session: DbSession, caller: CurrentCaller, clock: ClockDep) -> list[SlaRow]:
    return await report_service.sla(session, caller, filters, clock.now())


@router.get("/conversations.csv", response_class=StreamingResponse,
            summary="One row per conversation of the range (streamed CSV)")
async def export_csv(filters: Filters, session: DbSession, database: DatabaseDep, caller: CurrentCaller, clock: ClockDep) -> StreamingResponse:
    table = await exports.conversation_table(session, database, caller, filters, clock.now())
    return StreamingResponse(exports.csv_stream(table), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="{exports.filename(filters, "csv")}"'})


@router.get("/conversations.xlsx", response_class=StreamingResponse,
            summary="One row per conversation of the range (streamed XLSX)")
async def export_xlsx(filters: Filters, session: DbSession, database: DatabaseDep, caller: CurrentCaller,
                      clock: ClockDep) -> StreamingResponse:
    table = await exports.conversation_table(session, database, caller, filters, clock.now())
    return StreamingResponse(exports.xlsx_stream(table), media_type=exports.XLSX_TYPE,
                             headers={"Content-Disposition":
                                      f'attachment; filename="{exports.filename(filters, "xlsx")}"'})


@router.get("/agents.csv", response_class=StreamingResponse, summary="The per-agent table as CSV")
async def agents_csv(filters: Filters, session: DbSession, caller: CurrentCaller, clock: ClockDep) -> StreamingResponse:
    rows = await report_service.agents(session, caller, filters, clock.now())
    return StreamingResponse(exports.agent_lines(rows), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition":
                                      f'attachment; filename="{exports.filename(filters, "csv", "agentes")}"'})


@router.get("/typifications.csv", response_class=StreamingResponse,
            summary="The typification tree (path, count, subtotal) as CSV")
async def typifications_csv(filters: Filters, session: DbSession, caller: CurrentCaller,
                            clock: ClockDep) -> StreamingResponse:
    endings = await report_service.endings(session, caller, filters, clock.now())
    return StreamingResponse(exports.typification_lines(endings), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition":
                                      f'attachment; filename="{exports.filename(filters, "csv", "tipificaciones")}"'})


@router.get("/sla-policies", response_model=list[SlaPolicyOut], summary="The client's default and campaign SLA policies")
async def list_policies(session: DbSession, caller: CurrentCaller, client_id: IdQuery = None) -> list[SlaPolicyOut]:
    return await sla_policy_service.list(session, caller, client_of(caller, client_id))


@router.put("/sla-policies", response_model=SlaPolicyOut,
            summary="Set the client's default (no campaign_id) or one campaign's SLA policy (admins)")
async def put_policy(body: SlaPolicyIn, session: DbSession, caller: CurrentCaller) -> SlaPolicyOut:
    return await sla_policy_service.put(session, caller, body)
