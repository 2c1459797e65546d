"""Configuración → Campañas: the client's campaigns with Crear at the top right, and per campaign
edit (the same seven-tab modal), duplicate, deactivate/activate and delete (with confirmation)."""

from nicegui import ui
from pydantic import ValidationError

from atiende.campaigns.models import Campaign
from atiende.campaigns.schemas import CampaignOut, CampaignUpdate
from atiende.campaigns.service import campaign_service
from atiende.errors import AtiendeError, NotFound
from atiende.i18n import t
from atiende.ui.components import active_chip, confirm, empty_state, markup_table, page_heading, row_actions
from atiende.ui.console.campaign_modal import CampaignModal
from atiende.ui.console.channels import kind_label
from atiende.ui.console.staffing import open_campaign_agents
from atiende.ui.context import Acting, PageContext, act
from atiende.ui.data import fetch_all
from atiende.ui.errors import describe
from atiende.ui.layout import console_page
from atiende.ui.navigation import ENTRIES

PREREQUISITES = ("projects", "schedules", "typifications", "channels")


async def campaign_rows(acting: Acting, client_id: int | None, **filters: object) -> list[CampaignOut]:
    campaigns = await fetch_all(campaign_service.list, acting.session, acting.caller, client_id=client_id,
                                **filters)
    return await campaign_service.describe(acting.session, campaigns)


def channels_cell(campaign: CampaignOut) -> None:
    if not campaign.channel_summaries:
        ui.label(t("campaign.channels_later") if campaign.channels.configure_later else "—").classes("text-grey-7")
        return
    with ui.row().classes("gap-1"):
        for channel in campaign.channel_summaries:
            ui.chip(f"{kind_label(channel.kind)} · {channel.name}").props("dense outline square")


def method_text(campaign: CampaignOut) -> str:
    return t(f"assignment.{campaign.assignment_method.value}")


class CampaignsScreen:
    def __init__(self, context: PageContext) -> None:
        self.context = context
        self.items: list[CampaignOut] = []
        self.missing: list[str] = []

    async def mount(self) -> None:
        page_heading(t("campaigns.title"), subtitle=t("campaigns.subtitle"), action=t("common.create"),
                     on_action=self.create)
        self.host = ui.element("div")
        await self.reload(refresh=False)
        self.body()

    async def reload(self, *, refresh: bool = True) -> None:
        from atiende.ui.console.campaign_form import load_choices

        async with act() as acting:
            self.items = await campaign_rows(acting, self.context.client_id)
            choices = await load_choices(acting, self.context.client_id)
        present = {"projects": choices.projects, "schedules": choices.schedules,
                   "typifications": choices.typifications, "channels": choices.channels}
        self.missing = [key for key in PREREQUISITES if not present[key]]
        if refresh:
            self.body.refresh()

    @ui.refreshable_method
    def body(self) -> None:
        if self.missing:
            self.prerequisites()
        if not self.items:
            if not self.missing:
                empty_state(t("campaigns.empty"), action=t("campaigns.create_first"), on_click=self.create,
                            icon="campaign")
            return
        headers = [t("common.name"), t("campaign.project"), t("campaign.channels"), t("campaign.schedule"),
                   t("campaign.assignment"), t("common.state"), ""]
        with markup_table(headers, testid_value="campaigns-table"):
            for campaign in self.items:
                with ui.element("tr").props(f'data-testid="campaign-row-{campaign.id}"'):
                    with ui.element("td"):
                        ui.label(campaign.name).classes("text-weight-medium")
                    with ui.element("td"):
                        ui.label(campaign.project_name or "")
                    with ui.element("td"):
                        channels_cell(campaign)
                    with ui.element("td"):
                        ui.label(campaign.schedule_name or "")
                    with ui.element("td"):
                        ui.label(method_text(campaign))
                    with ui.element("td"):
                        active_chip(campaign.active)
                    with ui.element("td").classes("text-right"):
                        self.actions(campaign)

    def prerequisites(self) -> None:
        with ui.card().classes("w-full q-pa-md gap-1").props('flat bordered data-testid="campaign-prerequisites"'):
            ui.label(t("campaigns.prerequisites")).classes("text-subtitle1 text-weight-medium")
            for key in self.missing:
                with ui.row().classes("items-center gap-2"):
                    ui.icon("radio_button_unchecked", color="grey-6", size="1rem")
                    ui.label(t(f"campaigns.needs.{key}")).classes("text-body2")
                    ui.link(t(f"{key}.create_first"), ENTRIES[key].path).classes("text-primary text-body2")

    def actions(self, campaign: CampaignOut) -> None:
        buttons = [("edit", t("common.edit"), lambda c=campaign: self.edit(c.id), f"edit-{campaign.id}"),
                   ("groups", t("staffing.agents"), lambda c=campaign: self.staff(c.id), f"agents-{campaign.id}"),
                   ("content_copy", t("campaigns.duplicate"), lambda c=campaign: self.duplicate(c),
                    f"duplicate-{campaign.id}"),
                   ("pause_circle" if campaign.active else "play_circle",
                    t("campaigns.deactivate") if campaign.active else t("campaigns.activate"),
                    lambda c=campaign: self.toggle(c), f"toggle-{campaign.id}"),
                   ("delete", t("common.delete"), lambda c=campaign: self.delete(c), f"delete-{campaign.id}")]
        row_actions(*buttons)

    async def create(self) -> None:
        self.host.clear()
        with self.host:
            await CampaignModal(self.context, on_saved=self.reload).open()

    async def edit(self, campaign_id: int) -> None:
        self.host.clear()
        with self.host:
            await CampaignModal(self.context, on_saved=self.reload).open(campaign_id)

    async def staff(self, campaign_id: int) -> None:
        self.host.clear()
        with self.host:
            await open_campaign_agents(campaign_id, on_saved=self.reload)

    async def _act_on(self, campaign_id: int, work: object) -> bool:
        try:
            async with act() as acting:
                campaign = await campaign_service.get(acting.session, acting.caller, campaign_id)
                if campaign is None:
                    raise NotFound(t("error.gone"), field="item_id")
                await work(acting, campaign)  # type: ignore[operator]
        except (AtiendeError, ValidationError) as exc:
            ui.notify(" ".join(message for _, message in describe(exc)), type="negative", multi_line=True)
            return False
        await self.reload()
        return True

    async def duplicate(self, campaign: CampaignOut) -> None:
        async def work(acting: Acting, row: Campaign) -> None:
            await campaign_service.duplicate(acting.session, acting.caller, row, None, clock=acting.clock)

        if await self._act_on(campaign.id, work):
            ui.notify(t("campaigns.duplicated", name=campaign.name), type="positive")

    async def toggle(self, campaign: CampaignOut) -> None:
        async def work(acting: Acting, row: Campaign) -> None:
            await campaign_service.update(acting.session, acting.caller, row,
                                          CampaignUpdate(active=not campaign.active), clock=acting.clock)

        if await self._act_on(campaign.id, work):
            ui.notify(t("campaigns.deactivated" if campaign.active else "campaigns.activated", name=campaign.name),
                      type="positive")

    async def delete(self, campaign: CampaignOut) -> None:
        if not await confirm(t("campaigns.confirm_delete", name=campaign.name)):
            return

        async def work(acting: Acting, row: Campaign) -> None:
            await campaign_service.delete(acting.session, acting.caller, row, clock=acting.clock)

        if await self._act_on(campaign.id, work):
            ui.notify(t("common.deleted", name=campaign.name), type="positive")


@console_page("campaigns")
async def campaigns_page(context: PageContext) -> None:
    screen = CampaignsScreen(context)
    await screen.mount()
    edit = context.query.get("edit", "")
    if edit.isdigit() and len(edit) < 10:
        try:
            await screen.edit(int(edit))
        except AtiendeError as exc:
            ui.notify(" ".join(message for _, message in describe(exc)), type="negative")
