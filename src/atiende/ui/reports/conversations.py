"""/reports/conversations: the conversations behind a number of Reportes (same filters), each with
its survey answers."""

from datetime import date

from fastapi import Request
from fastapi.responses import Response
from nicegui import ui

from atiende.errors import AtiendeError
from atiende.i18n import t
from atiende.reports.filters import ReportFilters
from atiende.reports.service import MAX_LISTED, Metric, conversations_behind, report_service
from atiende.ui.components import empty_state, markup_table, page_heading, testid
from atiende.ui.context import PageContext, act
from atiende.ui.layout import render
from atiende.ui.navigation import MANAGERS, NavEntry

ENTRY = NavEntry("reports", "/reports/conversations", "query_stats", MANAGERS)
IDS = ("project_id", "campaign_id", "channel_id", "agent_id", "typification_id")


@ui.page(ENTRY.path)
async def _page(request: Request) -> Response | None:
    return await render(request, ENTRY, conversations_page)


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 10 else None


async def conversations_page(context: PageContext) -> None:
    q = context.query
    try:
        metric = Metric(q.get("metric", "received"))
        async with act() as acting:
            zone = await report_service.client_timezone(acting.session, context.client_id)
            filters = ReportFilters(client_id=context.client_id, date_from=date.fromisoformat(q.get("date_from", "")),
                                    date_to=date.fromisoformat(q.get("date_to", "")), timezone=zone,
                                    **{k: _int(q.get(k)) for k in IDS})
            rows, total = await conversations_behind(acting.session, acting.caller, filters, metric,
                                                     acting.clock.now())
    except (ValueError, AtiendeError):
        empty_state(t("reports.bad_link"), action=t("reports.back"), href="/reports", icon="link_off")
        return
    page_heading(t("reports.list_title", metric=t(f"reports.kpi.{metric.value}")),
                 subtitle=t("reports.range_label", start=filters.date_from.isoformat(),
                            end=filters.date_to.isoformat(), zone=zone))
    testid(ui.label(t("reports.list_total", total=total, shown=min(total, MAX_LISTED))), "list-total")
    ui.link(t("reports.back"), "/reports")
    if not rows:
        empty_state(t("reports.none"), icon="forum")
        return
    with markup_table([t("reports.conversation"), t("reports.opened"), t("reports.campaign"), t("reports.contact"),
                       t("reports.agent"), t("reports.status"), t("reports.typification"), t("reports.survey")],
                      testid_value="listed-conversations") as body, body:
        for r in rows:
            with ui.element("tr").props(f'data-testid="listed-{r.id}"'):
                for text in (f"#{r.id}", r.opened_at.astimezone(filters.zone).strftime("%Y-%m-%d %H:%M:%S"),
                             r.campaign, r.contact, r.agents, t(f"supervisor.status.{r.status}"), r.typification):
                    with ui.element("td"):
                        ui.label(text)
                with ui.element("td"):
                    for question, answer in r.answers:
                        ui.label(f"{question} {answer}").classes("text-caption")


