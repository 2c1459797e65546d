"""Reportes (admins and supervisors): filters, KPI cards against the previous period, charts,
tables per agent and per campaign, exports. Every count links to the conversations behind it
(/reports/conversations, with the same filters). Numbers come from ``reports.service`` only."""

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo
from urllib.parse import urlencode

from nicegui import ui

from atiende.i18n import t
from atiende.reports.filters import RangePreset, ReportFilters, preset_range
from atiende.reports.schemas import AgentRow, Stats, Summary, TimeMetric, VolumeRow
from atiende.reports.service import FilterOptions, filter_options, report_service
from atiende.ui.components import markup_table, page_heading, testid
from atiende.ui.context import PageContext, TOKEN, act, user_storage
from atiende.ui.layout import console_page
from atiende.ui.reports import charts, downloads
from atiende.ui.reports.format import duration, percent

ALL = 0
FILTER_KEYS = ("project_id", "campaign_id", "channel_id", "agent_id", "typification_id")


@console_page("reports")
async def reports_page(context: PageContext) -> None:
    await ReportsScreen(context).mount()


class ReportsScreen:
    def __init__(self, context: PageContext) -> None:
        self.context = context
        self.preset = RangePreset.last_7_days
        self.custom: tuple[date, date] | None = None
        self.chosen: dict[str, int] = {k: ALL for k in FILTER_KEYS}
        self.options: FilterOptions | None = None

    async def mount(self) -> None:
        page_heading(t("reports.title"), subtitle=t("reports.subtitle"))
        async with act() as acting:
            self.options = await filter_options(acting.session, acting.caller, self.context.client_id)
            self.today = acting.clock.now().astimezone(ZoneInfo(self.options.timezone)).date()
        self._filter_bar()
        self.body = ui.column().classes("w-full gap-4")
        await self.reload()

    # --- filters ---------------------------------------------------------------------------------
    def filters(self) -> ReportFilters:
        assert self.options is not None
        start, end = self.custom if self.preset == RangePreset.custom and self.custom else \
            preset_range(self.preset, self.today)
        return ReportFilters(client_id=self.context.client_id, date_from=start, date_to=end,
                             timezone=self.options.timezone,
                             **{k: (v or None) for k, v in self.chosen.items()})

    def _filter_bar(self) -> None:
        assert self.options is not None
        presets = {p.value: t(f"reports.preset.{p.value}") for p in RangePreset}
        with ui.row().classes("w-full gap-2 items-center"):
            testid(ui.select(presets, value=self.preset.value, label=t("reports.filter.range"),
                             on_change=lambda e: self._set_preset(e.value)).props("outlined dense")
                   .classes("w-full sm:w-44"), "report-range")
            self.custom_input = testid(ui.input(t("reports.filter.custom")).props("outlined dense").classes("w-56"),
                                       "report-custom")
            with self.custom_input.add_slot("append"):
                with ui.icon("event").classes("cursor-pointer"):
                    with ui.menu() as menu:
                        picker = ui.date().props("range")
                        picker.on_value_change(lambda e: self._set_custom(e.value, menu))
            self.custom_input.set_visibility(False)
            sources = {"project_id": self.options.projects, "campaign_id": self.options.campaigns,
                       "channel_id": self.options.channels, "agent_id": self.options.agents,
                       "typification_id": self.options.typifications}
            for key, names in sources.items():
                choices = {ALL: t("reports.filter.all"), **names}
                testid(ui.select(choices, value=ALL, label=t(f"reports.filter.{key}"),
                                 on_change=lambda e, k=key: self._set(k, e.value)).props("outlined dense options-dense")
                       .classes("w-full sm:w-44"), f"report-{key.removesuffix('_id')}")
            ui.space()
            testid(ui.button(t("reports.export_csv"), icon="download", on_click=lambda: self._export("csv"))
                   .props("flat no-caps"), "export-csv")
            testid(ui.button(t("reports.export_xlsx"), icon="download", on_click=lambda: self._export("xlsx"))
                   .props("unelevated no-caps"), "export-xlsx")

    async def _set_preset(self, value: str) -> None:
        self.preset = RangePreset(value)
        self.custom_input.set_visibility(self.preset == RangePreset.custom)
        if self.preset != RangePreset.custom or self.custom:
            await self.reload()

    async def _set_custom(self, value: Any, menu: ui.menu) -> None:
        if isinstance(value, dict) and value.get("from") and value.get("to"):
            start, end = date.fromisoformat(value["from"].replace("/", "-")), \
                date.fromisoformat(value["to"].replace("/", "-"))
        elif isinstance(value, str) and value:
            start = end = date.fromisoformat(value.replace("/", "-"))
        else:
            return
        self.custom = (start, end)
        self.custom_input.set_value(f"{start.isoformat()} – {end.isoformat()}")
        menu.close()
        await self.reload()

    async def _set(self, key: str, value: int | None) -> None:
        self.chosen[key] = value or ALL
        await self.reload()

    def _export(self, kind: str) -> None:
        token = str(user_storage().get(TOKEN) or "")
        ui.notify(t("reports.exporting"), type="info")
        ui.navigate.to(downloads.issue(token, self.filters(), kind))

    def link(self, metric: str, **extra: int) -> str:
        f = self.filters()
        query: dict[str, Any] = {"metric": metric, "date_from": f.date_from.isoformat(), "date_to": f.date_to.isoformat()}
        query.update({k: v for k, v in self.chosen.items() if v})
        query.update(extra)
        return f"/reports/conversations?{urlencode(query)}"

    # --- data ------------------------------------------------------------------------------------
    async def reload(self) -> None:
        filters = self.filters()
        async with act() as acting:
            now = acting.clock.now()
            args = (acting.session, acting.caller, filters, now)
            summary = await report_service.summary(*args)
            series = await report_service.timeseries(*args)
            agents = await report_service.agents(*args)
            endings = await report_service.endings(*args)
            csat = await report_service.csat(*args)
            funnels = await report_service.funnel(*args)
        self.body.clear()
        with self.body:
            testid(ui.label(t("reports.range_label", start=filters.date_from.isoformat(), end=filters.date_to.isoformat(),
                                zone=filters.timezone)).classes("text-caption text-grey-7"), "report-range-label")
            self._cards(summary.current, summary.previous)
            with ui.element("div").classes("w-full grid gap-4 grid-cols-1 lg:grid-cols-2"):
                self._chart(t("reports.chart.volume"), charts.volume(series), "chart-volume")
                self._chart(t("reports.chart.heatmap"), charts.heatmap(series), "chart-heatmap")
                self._chart(t("reports.chart.typifications"), charts.typifications(endings), "chart-typifications",
                            export="typifications")
                self._chart(t("reports.chart.csat"), charts.csat(csat), "chart-csat")
                self._chart(t("reports.chart.funnel"), charts.funnel(funnels[0] if funnels else None), "chart-funnel")
                self._texts(csat.text_answers)
            self._times(summary.current)
            self._agents(agents)
            self._campaigns(summary.current.by_campaign)

    # --- pieces ----------------------------------------------------------------------------------
    def _cards(self, now: Summary, before: Summary) -> None:
        cards: list[tuple[str, str, float | None, float | None, str | None, bool]] = [
            ("received", str(now.received), now.received, before.received, "received", True),
            ("answered", str(now.answered), now.answered, before.answered, "answered", True),
            ("closed", str(now.closed), now.closed, before.closed, "closed", True),
            ("abandoned", f"{now.abandoned} · {percent(now.abandon_rate)}", now.abandon_rate, before.abandon_rate,
             "abandoned", False),
            ("service_level", percent(now.service_level), now.service_level, before.service_level, None, True),
            ("queue_wait", duration(now.queue_wait.clock.avg), now.queue_wait.clock.avg, before.queue_wait.clock.avg,
             None, False),
            ("first_response", duration(now.first_response.clock.avg), now.first_response.clock.avg,
             before.first_response.clock.avg, None, False),
            ("handle_time", duration(now.handle_time.clock.avg), now.handle_time.clock.avg,
             before.handle_time.clock.avg, None, False),
            ("csat", f"{now.csat_average:.2f}" if now.csat_average is not None else "—", now.csat_average,
             before.csat_average, "surveyed", True),
        ]
        with ui.element("div").classes("w-full grid gap-3 grid-cols-2 md:grid-cols-3 xl:grid-cols-5"):
            for key, text, value, previous, metric, higher_is_better in cards:
                with testid(ui.card().props("flat bordered").classes("q-pa-sm gap-1"), f"kpi-{key}"):
                    ui.label(t(f"reports.kpi.{key}")).classes("text-caption text-grey-8")
                    if metric:
                        testid(ui.link(text, self.link(metric)).classes("text-h5 text-primary no-underline"),
                               f"kpi-{key}-value")
                    else:
                        testid(ui.label(text).classes("text-h5"), f"kpi-{key}-value")
                    _change(value, previous, higher_is_better)

    def _chart(self, title: str, options: dict[str, Any], tid: str, export: str | None = None) -> None:
        with ui.card().props("flat bordered").classes("w-full q-pa-sm"):
            with ui.row().classes("w-full items-center"):
                ui.label(title).classes("text-subtitle2")
                if export:
                    ui.space()
                    testid(ui.button(t("reports.export_csv"), icon="download",
                                     on_click=lambda: self._export(export)).props("flat dense no-caps"),
                           f"export-{export}")
            testid(ui.echart(options).classes("w-full h-64"), tid)

    def _texts(self, answers: list[Any]) -> None:
        with testid(ui.card().props("flat bordered").classes("w-full q-pa-sm"), "csat-texts"):
            ui.label(t("reports.text_answers")).classes("text-subtitle2")
            if not answers:
                ui.label(t("reports.none")).classes("text-grey-7")
            with ui.column().classes("gap-1 max-h-64 overflow-y-auto w-full"):
                for a in answers[:50]:
                    with ui.row().classes("gap-2 no-wrap"):
                        ui.label(f"#{a.conversation_id}").classes("text-caption text-grey-7")
                        ui.label(a.answer).classes("text-body2")

    def _times(self, s: Summary) -> None:
        rows: list[tuple[str, TimeMetric]] = [("queue_wait", s.queue_wait), ("first_response", s.first_response),
                                              ("handle_time", s.handle_time), ("resolution", s.resolution)]
        ui.label(t("reports.times")).classes("text-subtitle1")
        with markup_table([t("reports.metric"), t("reports.avg"), t("reports.median"), t("reports.p90"),
                           t("reports.business_avg"), t("reports.business_median"), t("reports.business_p90")],
                          testid_value="report-times") as body, body:
            for key, metric in rows:
                with ui.element("tr"):
                    _td(t(f"reports.kpi.{key}"))
                    for stats in (metric.clock, metric.business):
                        for value in _three(stats):
                            _td(duration(value))

    def _agents(self, rows: list[AgentRow]) -> None:
        with ui.row().classes("w-full items-center"):
            ui.label(t("reports.by_agent")).classes("text-subtitle1")
            testid(ui.button(t("reports.export_csv"), icon="download", on_click=lambda: self._export("agents"))
                   .props("flat dense no-caps"), "export-agents")
        with markup_table([t("reports.agent"), t("reports.handled"), t("reports.kpi.handle_time"),
                           t("reports.kpi.first_response"), t("reports.transfers"), t("reports.kpi.csat"),
                           t("reports.online"), t("reports.away"), t("reports.occupancy")],
                          testid_value="report-agents") as body, body:
            for r in rows:
                with ui.element("tr"):
                    _td(r.name)
                    with ui.element("td"):
                        ui.link(str(r.handled), self.link("received", agent_id=r.membership_id))
                    _td(duration(r.handle_time.avg))
                    _td(duration(r.first_response.avg))
                    _td(f"{r.transfers_in} / {r.transfers_out}")
                    _td(f"{r.csat_average:.2f}" if r.csat_average is not None else "—")
                    _td(duration(r.online_seconds))
                    _td(duration(r.away_seconds))
                    _td(percent(r.occupancy))

    def _campaigns(self, rows: list[VolumeRow]) -> None:
        ui.label(t("reports.by_campaign")).classes("text-subtitle1")
        with markup_table([t("reports.campaign"), t("reports.kpi.received"), t("reports.kpi.answered"),
                           t("reports.kpi.closed"), t("reports.kpi.abandoned")],
                          testid_value="report-campaigns") as body, body:
            for r in rows:
                with ui.element("tr"):
                    _td(r.name)
                    for metric, value in (("received", r.received), ("answered", r.answered), ("closed", r.closed),
                                          ("abandoned", r.abandoned)):
                        with ui.element("td"):
                            ui.link(str(value), self.link(metric, campaign_id=r.id))


def _td(text: str) -> None:
    with ui.element("td"):
        ui.label(text)


def _three(stats: Stats) -> tuple[float | None, float | None, float | None]:
    return stats.avg, stats.median, stats.p90


def _change(value: float | None, previous: float | None, higher_is_better: bool) -> None:
    if value is None or previous is None or previous == 0:
        ui.label(t("reports.no_previous")).classes("text-caption text-grey-6")
        return
    change = (value - previous) / previous
    good = (change >= 0) == higher_is_better
    arrow = "▲" if change >= 0 else "▼"
    ui.label(t("reports.vs_previous", change=f"{arrow} {abs(change) * 100:.0f} %")) \
        .classes(f"text-caption {'text-positive' if good else 'text-negative'}")
