"""Configuración → Horarios: business hours in a time zone, weekly bands and holidays."""

from typing import Any
from zoneinfo import available_timezones

from nicegui import ui

from atiende.catalog.models import Schedule
from atiende.catalog.schemas import ScheduleCreate, ScheduleUpdate
from atiende.catalog.service import schedule_service
from atiende.i18n import format_day, t
from atiende.ui.components import active_chip, form_dialog, help_text, save_button, testid
from atiende.ui.console.base import CatalogScreen
from atiende.ui.console.schedule_editor import BandEditor, week_preview
from atiende.ui.context import Acting, PageContext
from atiende.ui.data import fetch_all
from atiende.ui.editors import ListEditor
from atiende.ui.errors import FormErrors
from atiende.ui.layout import console_page
from atiende.ui.schedule_text import summary

DEFAULT_TIMEZONE = "America/Bogota"


def time_zones() -> list[str]:
    return sorted(z for z in available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/")))


class SchedulesScreen(CatalogScreen[Schedule]):
    key = "schedules"
    icon = "schedule"

    async def load(self, acting: Acting) -> list[Schedule]:
        return await fetch_all(schedule_service.list, acting.session, acting.caller, client_id=self.context.client_id)

    def headers(self) -> list[str]:
        return [t("common.name"), t("schedules.bands"), t("schedules.holidays"), t("common.state")]

    def draw_row(self, item: Schedule) -> None:
        with ui.element("td"):
            ui.label(item.name).classes("text-weight-medium")
        with ui.element("td"):
            ui.label(summary(item.bands, item.timezone))
        with ui.element("td"):
            ui.label(", ".join(format_day(h.day) for h in item.holidays[:3])
                     + ("…" if len(item.holidays) > 3 else "") or "—").classes("text-grey-8")
        with ui.element("td"):
            active_chip(item.active)

    async def delete_item(self, acting: Acting, item: Schedule) -> None:
        schedule = await self.refetch(schedule_service, acting, item)
        await schedule_service.delete(acting.session, acting.caller, schedule, clock=acting.clock)

    async def build_form(self, item: Schedule | None) -> None:
        errors = FormErrors()
        bands: list[dict[str, Any]] = [
            {"weekday": b.weekday, "start": b.start.strftime("%H:%M"), "end": b.end.strftime("%H:%M"),
             "overnight": b.overnight} for b in (item.bands if item else [])]
        holidays: list[dict[str, Any]] = [{"day": h.day.isoformat(), "name": h.name}
                                          for h in (item.holidays if item else [])]
        with form_dialog(t("schedules.edit") if item else t("schedules.new"), testid_value="schedule-dialog",
                         width="min(980px, 96vw)") as (dialog, body, footer):
            with body:
                with ui.row().classes("w-full gap-3 items-start"):
                    name = testid(ui.input(t("common.name"), value=item.name if item else "")
                                  .props("outlined maxlength=120").classes("grow min-w-[14rem]"), "schedule-name")
                    zone = testid(ui.select(time_zones(), value=item.timezone if item else DEFAULT_TIMEZONE,
                                            label=t("schedules.timezone"), with_input=True)
                                  .props("outlined").classes("grow min-w-[14rem]"), "schedule-timezone")
                    active = testid(ui.switch(t("common.active"), value=item.active if item else True),
                                    "schedule-active")
                errors.bind("name", name)
                errors.bind("timezone", zone)

                @ui.refreshable
                def preview() -> None:
                    week_preview(bands, zone.value)

                zone.on_value_change(lambda: preview.refresh())
                with ui.row().classes("w-full gap-4 items-start"):
                    with ui.column().classes("flex-1 min-w-[20rem] gap-1"):
                        ui.label(t("schedules.bands")).classes("text-subtitle2")
                        help_text(t("schedules.bands_help"))
                        editor = BandEditor(bands, errors, on_change=lambda: preview.refresh())
                    with ui.column().classes("w-full md:w-72 gap-1"):
                        preview()
                ui.label(t("schedules.holidays")).classes("text-subtitle2")
                help_text(t("schedules.holidays_help"))

                def holiday_row(row: dict[str, Any], index: int) -> None:
                    day = testid(ui.input(t("schedules.holiday_day"), value=row["day"]).props("outlined dense type=date")
                                 .classes("w-44"), f"holiday-day-{index}")
                    label = testid(ui.input(t("schedules.holiday_name"), value=row["name"])
                                   .props("outlined dense maxlength=120").classes("grow"), f"holiday-name-{index}")
                    day.on_value_change(lambda e: row.__setitem__("day", e.value))
                    label.on_value_change(lambda e: row.__setitem__("name", e.value))
                    errors.bind(f"holidays.{index}", day)

                ListEditor(holidays, holiday_row, new_row=lambda: {"day": "", "name": ""},
                           add_label=t("schedules.add_holiday"), key="holidays", errors=errors, reorder=False, numbered=False)
                errors.add_banner()

            async def submit() -> None:
                async def work(acting: Acting) -> None:
                    days = [{"day": h["day"], "name": h["name"] or ""} for h in holidays]
                    if item is None:
                        data = ScheduleCreate(client_id=self.context.client_id, name=name.value or "",
                                              timezone=zone.value or "", bands=editor.payload(), holidays=days,
                                              active=active.value)
                        await schedule_service.create(acting.session, acting.caller, data, clock=acting.clock)
                        return
                    schedule = await self.refetch(schedule_service, acting, item)
                    changes = ScheduleUpdate(name=name.value or "", timezone=zone.value or "",
                                             bands=editor.payload(), holidays=days, active=active.value)
                    await schedule_service.update(acting.session, acting.caller, schedule, changes, clock=acting.clock)

                if await self.save(errors, work):
                    dialog.close()

            with footer:
                save_button(submit)
        dialog.open()


@console_page("schedules")
async def schedules_page(context: PageContext) -> None:
    await SchedulesScreen(context).mount()
