"""Campañas → Crear / Editar: the modal with the seven tabs of Hibot's campaign form.

Guardar stays disabled until every mandatory value is set; each tab shows a red badge with how
many of its values are missing or were refused by the server (shown next to the field)."""

from collections.abc import Awaitable, Callable
from typing import Any

from nicegui import ui
from nicegui.elements.mixins.validation_element import ValidationElement
from pydantic import ValidationError

from atiende.auth.models import Role
from atiende.campaigns.schemas import CampaignCreate, CampaignUpdate
from atiende.campaigns.service import campaign_service
from atiende.errors import AtiendeError, NotFound
from atiende.i18n import t, tn
from atiende.ui.components import confirm, testid
from atiende.ui.console import campaign_tabs_basic as basic
from atiende.ui.console import campaign_tabs_behavior as behavior
from atiende.ui.console.campaign_form import TABS, CampaignChoices, CampaignDraft, kept_references, load_choices, tab_of
from atiende.ui.context import PageContext, act
from atiende.ui.errors import FormErrors, describe

DRAWERS: dict[str, Callable[["CampaignModal"], None]] = {
    "detail": basic.detail_tab, "channels": basic.channels_tab, "schedule": basic.schedule_tab,
    "typifications": basic.typifications_tab, "permissions": behavior.permissions_tab,
    "fields": behavior.fields_tab, "assignment": behavior.assignment_tab,
}


class CampaignModal:
    def __init__(self, context: PageContext, on_saved: Callable[[], Awaitable[None]]) -> None:
        self.context = context
        self.on_saved = on_saved
        self.campaign_id: int | None = None
        self.errors = FormErrors()
        self.server_errors: dict[str, str] = {}
        self.badges: dict[str, ui.badge] = {}
        self.draft = CampaignDraft(client_id=context.client_id if context.is_admin else None)
        self.opened_with: dict[str, Any] = {}
        self.choices: CampaignChoices | None = None

    @property
    def admin_clients(self) -> dict[int, str]:
        return {c.id: c.name for c in self.context.clients if c.role == Role.admin}

    async def open(self, campaign_id: int | None = None) -> None:
        self.campaign_id = campaign_id
        async with act() as acting:
            if campaign_id is not None:
                campaign = await campaign_service.get(acting.session, acting.caller, campaign_id)
                if campaign is None:
                    raise NotFound(t("error.gone"))
                out = campaign_service.to_out(campaign)
                self.choices = await load_choices(acting, out.client_id, kept_references(out))
                self.draft = CampaignDraft.from_campaign(out, self.choices.field_types())
            else:
                self.choices = await load_choices(acting, self.draft.client_id or self.context.client_id)
        self.opened_with = self.draft.payload()
        self.build()
        self.dialog.open()

    @property
    def dirty(self) -> bool:
        """Something was filled or changed since the form opened."""
        return self.draft.payload() != self.opened_with

    async def leave(self) -> None:
        """*Cancelar* (or the close button): a changed form is thrown away only when confirmed."""
        if self.dirty and not await confirm(t("firstday.discard_question"), confirm_label=t("firstday.discard"),
                                            danger=True):
            return
        self.dialog.close()

    # --- the dialog ------------------------------------------------------------------------
    def build(self) -> None:
        title = t("campaign.edit_title") if self.campaign_id else t("campaign.new_title")
        with ui.dialog().props("persistent") as self.dialog, \
                ui.card().classes("q-pa-none no-wrap gap-0") \
                .style("width: min(1100px, 97vw); max-width: 97vw; height: min(860px, 94vh)") \
                .props('data-testid="campaign-modal"'):
            with ui.row().classes("w-full items-center justify-between q-px-md q-py-sm no-wrap"):
                ui.label(title).classes("text-h6").props('role="heading" aria-level="2"')
                ui.button(icon="close", on_click=self.leave) \
                    .props(f'flat round dense aria-label="{t("common.close")}" data-testid="close-modal"')
            with ui.tabs(value="detail").props("align=left outside-arrows mobile-arrows no-caps dense inline-label") \
                    .classes("w-full border-b border-gray-200 text-grey-8") as self.tabs:
                for key in TABS:
                    with testid(ui.tab(key, label=t(f"campaign.tab.{key}")), f"tab-{key}"):
                        self.badges[key] = ui.badge("", color="negative").props("rounded").classes("q-ml-xs") \
                            .props(f'data-testid="tab-badge-{key}"')
            with ui.element("div").classes("w-full flex-1 min-h-0 overflow-y-auto"):
                self.panels()
            with ui.row().classes("w-full items-center justify-end gap-2 q-px-md q-py-sm no-wrap "
                                  "border-t border-gray-200"):
                self.summary = testid(ui.label().classes("text-caption text-grey-8 grow"), "missing-summary")
                ui.button(t("common.cancel"), on_click=self.leave).props('flat no-caps data-testid="cancel"')
                self.save_button = testid(ui.button(t("common.save"), icon="save", on_click=self.save)
                                          .props("unelevated no-caps"), "save")
        self.refresh_status()

    @ui.refreshable_method
    def panels(self) -> None:
        self.errors = FormErrors()
        with ui.tab_panels(self.tabs, value=self.tabs.value or "detail").props("keep-alive animated=false") \
                .classes("w-full"):
            for key in TABS:
                with ui.tab_panel(key).classes("q-pa-md"):
                    with ui.column().classes("w-full gap-3 max-w-3xl"):
                        DRAWERS[key](self)
        self.banner = self.errors.add_banner()

    # --- helpers the tabs use --------------------------------------------------------------
    def bind(self, field_path: str, element: Any) -> Any:
        """Ties an input to the field the service names in its errors."""
        self.errors.bind(field_path, element)
        return element

    def changed(self, *fields: str) -> None:
        """A value changed: its server error no longer applies; recount what is missing."""
        for field_path in fields:
            for stale in [f for f in self.server_errors if f == field_path or f.startswith(f"{field_path}.")]:
                del self.server_errors[stale]
                element = self.errors.element_for(stale)
                if isinstance(element, ValidationElement):
                    element.error = None
                elif element is not None:
                    element.set_visibility(False)
        self.refresh_status()

    def refresh_status(self) -> None:
        if self.choices is None or not hasattr(self, "save_button"):
            return
        gaps = self.draft.missing(self.choices.plan_max_history_hours)
        for field_path in self.server_errors:
            gaps[tab_of(field_path)].append(field_path)
        for key, badge in self.badges.items():
            count = len(set(gaps[key]))
            badge.set_text(str(count))
            badge.set_visibility(count > 0)
        total = sum(len(set(v)) for v in gaps.values())
        missing = sum(len(set(v)) for v in self.draft.missing(self.choices.plan_max_history_hours).values())
        self.save_button.set_enabled(missing == 0)
        self.summary.set_text(tn("campaign.missing", total) if total else t("campaign.ready"))

    async def change_client(self, client_id: int) -> None:
        """The project list (and every other choice) follows the client."""
        async with act() as acting:
            self.choices = await load_choices(acting, client_id)
        name, active = self.draft.name, self.draft.active
        self.draft = CampaignDraft(client_id=client_id, name=name, active=active)
        self.server_errors.clear()
        self.panels.refresh()
        self.refresh_status()

    # --- saving ------------------------------------------------------------------------------
    async def save(self) -> None:
        self.errors.clear()
        self.server_errors.clear()
        payload = self.draft.payload()
        try:
            async with act() as acting:
                if self.campaign_id is None:
                    await campaign_service.create(acting.session, acting.caller, CampaignCreate.model_validate(payload),
                                                  clock=acting.clock)
                else:
                    campaign = await campaign_service.get(acting.session, acting.caller, self.campaign_id)
                    if campaign is None:
                        raise NotFound(t("error.gone"), field="item_id")
                    payload.pop("client_id")
                    await campaign_service.update(acting.session, acting.caller, campaign,
                                                  CampaignUpdate.model_validate(payload), clock=acting.clock)
        except (AtiendeError, ValidationError) as exc:
            self.show_errors(exc)
            return
        self.dialog.close()
        ui.notify(t("campaign.saved", name=self.draft.name), type="positive")
        await self.on_saved()

    def show_errors(self, exc: AtiendeError | ValidationError) -> None:
        placed = self.errors.show(exc)
        problems = describe(exc)
        for field_path, message in problems:
            self.server_errors[field_path or "detail"] = message
        if problems:
            self.tabs.set_value(tab_of(problems[0][0]))
        if not placed and self.banner is not None:
            self.banner.set_visibility(True)
        self.refresh_status()
