"""Exports from the page: the button asks for a one-use ticket (60 s) bound to the viewer's login
and filters, then the browser downloads ``/reports/download/<ticket>``, streamed from
``reports.exports`` like the API's. Tickets live in the process that served the page, which the
browser reaches again through the balancer's session affinity (see README)."""

import secrets
import time
from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException
from fastapi.responses import StreamingResponse
from nicegui import app

from atiende.auth.service import InvalidToken, auth_service
from atiende.reports import exports
from atiende.reports.filters import ReportFilters
from atiende.reports.service import report_service
from atiende.ui.runtime import runtime

TICKET_SECONDS = 60
_tickets: dict[str, "Ticket"] = {}


@dataclass(frozen=True)
class Ticket:
    token: str
    filters: ReportFilters
    kind: str  # csv | xlsx (conversations), agents | typifications (the page's tables, CSV)
    expires: float


def issue(token: str, filters: ReportFilters, kind: str) -> str:
    now = time.monotonic()
    for key in [k for k, v in _tickets.items() if v.expires < now]:
        del _tickets[key]
    ticket = secrets.token_urlsafe(24)
    _tickets[ticket] = Ticket(token, filters, kind, now + TICKET_SECONDS)
    return f"/reports/download/{ticket}"


@app.get("/reports/download/{ticket}", include_in_schema=False)
async def download(ticket: str) -> StreamingResponse:
    found = _tickets.pop(ticket, None)
    if found is None or found.expires < time.monotonic():
        raise HTTPException(status_code=404)
    rt = runtime()
    async with rt.database.session() as session:
        try:
            caller = await auth_service.caller_for_token(session, found.token, clock=rt.clock)
        except InvalidToken as exc:
            raise HTTPException(status_code=401) from exc
        now = rt.clock.now()
        if found.kind == "agents":
            stream: Any = exports.agent_lines(await report_service.agents(session, caller, found.filters, now))
        elif found.kind == "typifications":
            stream = exports.typification_lines(await report_service.endings(session, caller, found.filters, now))
        else:
            table = await exports.conversation_table(session, rt.database, caller, found.filters, now)
            stream = exports.xlsx_stream(table) if found.kind == "xlsx" else exports.csv_stream(table)
    media = exports.XLSX_TYPE if found.kind == "xlsx" else "text/csv; charset=utf-8"
    stem = {"agents": "agentes", "typifications": "tipificaciones"}.get(found.kind, "conversaciones")
    name = exports.filename(found.filters, "xlsx" if found.kind == "xlsx" else "csv", stem)
    return StreamingResponse(stream, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})
