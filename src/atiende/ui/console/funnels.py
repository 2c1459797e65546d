"""Configuración → Embudos: sales or process pipelines, with their stages in order."""

from typing import Any

from nicegui import ui

from atiende.catalog.models import Funnel
from atiende.catalog.schemas import FunnelCreate, FunnelUpdate
from atiende.catalog.service import funnel_service
from atiende.i18n import t
from atiende.ui.components import active_chip, form_dialog, help_text, save_button, testid
from atiende.ui.console.base import CatalogScreen
from atiende.ui.context import Acting, PageContext
from atiende.ui.data import fetch_all
from atiende.ui.editors import ListEditor
from atiende.ui.errors import FormErrors
from atiende.ui.layout import console_page


class FunnelsScreen(CatalogScreen[Funnel]):
    key = "funnels"
    icon = "filter_alt"

    async def load(self, acting: Acting) -> list[Funnel]:
        return await fetch_all(funnel_service.list, acting.session, acting.caller, client_id=self.context.client_id)

    def headers(self) -> list[str]:
        return [t("common.name"), t("funnels.stages"), t("common.state")]

    def draw_row(self, item: Funnel) -> None:
        with ui.element("td"):
            ui.label(item.name).classes("text-weight-medium")
        with ui.element("td"):
            ui.label(" → ".join(stage.name for stage in item.stages)).classes("text-grey-8")
        with ui.element("td"):
            active_chip(item.active)

    async def delete_item(self, acting: Acting, item: Funnel) -> None:
        row = await self.refetch(funnel_service, acting, item)
        await funnel_service.delete(acting.session, acting.caller, row, clock=acting.clock)

    async def build_form(self, item: Funnel | None) -> None:
        errors = FormErrors()
        stages: list[dict[str, Any]] = [{"id": s.id, "name": s.name} for s in (item.stages if item else [])] \
            or [{"id": None, "name": ""}]
        with form_dialog(t("funnels.edit") if item else t("funnels.new"), testid_value="funnel-dialog") as (
                dialog, body, footer):
            with body:
                name = testid(ui.input(t("common.name"), value=item.name if item else "")
                              .props("outlined maxlength=120").classes("w-full"), "funnel-name")
                active = testid(ui.switch(t("common.active"), value=item.active if item else True), "funnel-active")
                errors.bind("name", name)
                ui.label(t("funnels.stages")).classes("text-subtitle2")
                help_text(t("funnels.stages_help"))

                def stage_row(row: dict[str, Any], index: int) -> None:
                    stage = testid(ui.input(t("funnels.stage"), value=row["name"])
                                   .props("outlined dense maxlength=120").classes("grow"), f"stage-{index}")
                    stage.on_value_change(lambda e: row.__setitem__("name", e.value))
                    errors.bind(f"stages.{index}", stage)

                ListEditor(stages, stage_row, new_row=lambda: {"id": None, "name": ""}, add_label=t("funnels.add_stage"),
                           key="stages", errors=errors, max_rows=50)
                errors.add_banner()

            async def submit() -> None:
                payload = [{"id": s["id"], "name": s["name"] or ""} for s in stages]

                async def work(acting: Acting) -> None:
                    if item is None:
                        data = FunnelCreate(client_id=self.context.client_id, name=name.value or "",
                                            stages=payload, active=active.value)
                        await funnel_service.create(acting.session, acting.caller, data, clock=acting.clock)
                        return
                    row = await self.refetch(funnel_service, acting, item)
                    changes = FunnelUpdate(name=name.value or "", stages=payload, active=active.value)
                    await funnel_service.update(acting.session, acting.caller, row, changes, clock=acting.clock)

                if await self.save(errors, work):
                    dialog.close()

            with footer:
                save_button(submit)
        dialog.open()


@console_page("funnels")
async def funnels_page(context: PageContext) -> None:
    await FunnelsScreen(context).mount()
