"""Administración → Campañas: every campaign of the viewer's clients with client, project,
channels, schedule, assignment method and state; search by name and filter by project.

Admins open a campaign in the same modal as Configuración → Campañas; supervisors only read."""

from typing import Any

from nicegui import ui

from atiende.auth.models import Role
from atiende.i18n import t
from atiende.tenancy.service import project_service
from atiende.ui.components import active_chip, empty_state, icon_button, markup_table, page_heading, testid
from atiende.ui.console.campaign_modal import CampaignModal
from atiende.ui.console.campaigns import campaign_rows, channels_cell, method_text
from atiende.ui.context import PageContext, act
from atiende.ui.data import fetch_all
from atiende.ui.layout import console_page

ALL = 0


class AdminCampaignsScreen:
    def __init__(self, context: PageContext) -> None:
        self.context = context
        self.query = ""
        self.project_id = ALL
        self.rows: list[Any] = []
        self.projects: dict[int, str] = {}
        self.clients = {c.id: c.name for c in context.clients}
        self.admin_of = {c.id for c in context.clients if c.role == Role.admin}

    async def mount(self) -> None:
        page_heading(t("admin_campaigns.title"), subtitle=t("admin_campaigns.subtitle"))
        async with act() as acting:
            projects = await fetch_all(project_service.list, acting.session, acting.caller, client_id=None)
        several = len(self.clients) > 1
        self.projects = {ALL: t("admin_campaigns.all_projects")}
        self.projects.update({p.id: f"{self.clients.get(p.client_id, '')} · {p.name}" if several else p.name
                              for p in sorted(projects, key=lambda p: (self.clients.get(p.client_id, ""), p.name))})
        with ui.row().classes("w-full gap-3 items-center"):
            search = testid(ui.input(t("admin_campaigns.search")).props("outlined dense clearable debounce=300")
                            .classes("w-72"), "campaign-search")
            search.props("type=search")
            project = testid(ui.select(self.projects, value=ALL, label=t("admin_campaigns.project_filter"))
                             .props("outlined dense").classes("w-72"), "campaign-project-filter")
        search.on_value_change(lambda e: self.filter(query=e.value or ""))
        project.on_value_change(lambda e: self.filter(project_id=e.value or ALL))
        self.host = ui.element("div")
        await self.reload(refresh=False)
        self.body()

    async def filter(self, *, query: str | None = None, project_id: int | None = None) -> None:
        if query is not None:
            self.query = query.strip()[:120]
        if project_id is not None:
            self.project_id = project_id
        await self.reload()

    async def reload(self, *, refresh: bool = True) -> None:
        filters: dict[str, Any] = {}
        if self.query:
            filters["q"] = self.query
        if self.project_id != ALL:
            filters["project_id"] = self.project_id
        async with act() as acting:
            self.rows = await campaign_rows(acting, None, **filters)
        if refresh:
            self.body.refresh()

    @ui.refreshable_method
    def body(self) -> None:
        if not self.rows:
            filtered = bool(self.query) or self.project_id != ALL
            empty_state(t("admin_campaigns.no_match") if filtered else t("campaigns.empty"),
                        action=None if filtered or not self.admin_of else t("campaigns.create_first"),
                        href="/console/campaigns", icon="campaign")
            return
        headers = [t("campaign.client"), t("campaign.project"), t("admin_campaigns.campaign"), t("campaign.channels"),
                   t("campaign.schedule"), t("campaign.assignment"), t("common.state"), ""]
        with markup_table(headers, testid_value="admin-campaigns-table"):
            for row in self.rows:
                with ui.element("tr").props(f'data-testid="admin-campaign-row-{row.id}"'):
                    for text in (self.clients.get(row.client_id, ""), row.project_name or ""):
                        with ui.element("td"):
                            ui.label(text)
                    with ui.element("td"):
                        ui.label(row.name).classes("text-weight-medium")
                    with ui.element("td"):
                        channels_cell(row)
                    with ui.element("td"):
                        ui.label(row.schedule_name or "")
                    with ui.element("td"):
                        ui.label(method_text(row))
                    with ui.element("td"):
                        active_chip(row.active)
                    with ui.element("td").classes("text-right"):
                        if row.client_id in self.admin_of:
                            icon_button("open_in_new", t("admin_campaigns.open"), lambda r=row: self.open(r.id),
                                        f"open-{row.id}")

    async def open(self, campaign_id: int) -> None:
        self.host.clear()
        with self.host:
            await CampaignModal(self.context, on_saved=self.reload).open(campaign_id)


@console_page("admin_campaigns")
async def admin_campaigns_page(context: PageContext) -> None:
    await AdminCampaignsScreen(context).mount()
