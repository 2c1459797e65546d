"""Configuración → Proyectos: the business areas that group campaigns."""

from nicegui import ui

from atiende.i18n import t
from atiende.tenancy.models import Project
from atiende.tenancy.schemas import ProjectCreate, ProjectUpdate
from atiende.tenancy.service import project_service
from atiende.ui.components import active_chip, form_dialog, save_button, testid
from atiende.ui.console.base import CatalogScreen
from atiende.ui.context import Acting, PageContext
from atiende.ui.data import fetch_all
from atiende.ui.errors import FormErrors
from atiende.ui.layout import console_page


class ProjectsScreen(CatalogScreen[Project]):
    key = "projects"
    icon = "folder"

    async def load(self, acting: Acting) -> list[Project]:
        return await fetch_all(project_service.list, acting.session, acting.caller, client_id=self.context.client_id)

    def headers(self) -> list[str]:
        return [t("common.name"), t("projects.description"), t("common.state")]

    def draw_row(self, item: Project) -> None:
        with ui.element("td"):
            ui.label(item.name).classes("text-weight-medium")
        with ui.element("td"):
            ui.label(item.description).classes("text-grey-8")
        with ui.element("td"):
            active_chip(item.active)

    async def delete_item(self, acting: Acting, item: Project) -> None:
        project = await self.refetch(project_service, acting, item)
        await project_service.delete(acting.session, acting.caller, project, clock=acting.clock)

    async def build_form(self, item: Project | None) -> None:
        errors = FormErrors()
        title = t("projects.edit") if item else t("projects.new")
        with form_dialog(title, testid_value="project-dialog") as (dialog, body, footer):
            with body:
                name = testid(ui.input(t("common.name"), value=item.name if item else "")
                              .props("outlined autofocus maxlength=120").classes("w-full"), "project-name")
                description = testid(ui.textarea(t("projects.description"), value=item.description if item else "")
                                     .props("outlined autogrow maxlength=500").classes("w-full"),
                                     "project-description")
                active = testid(ui.switch(t("common.active"), value=item.active if item else True), "project-active")
                errors.bind("name", name)
                errors.bind("description", description)
                errors.add_banner()

            async def submit() -> None:
                async def work(acting: Acting) -> None:
                    if item is None:
                        data = ProjectCreate(client_id=self.context.client_id, name=name.value or "",
                                             description=description.value or "", active=active.value)
                        await project_service.create(acting.session, acting.caller, data, clock=acting.clock)
                        return
                    project = await self.refetch(project_service, acting, item)
                    changes = ProjectUpdate(name=name.value or "", description=description.value or "",
                                            active=active.value)
                    await project_service.update(acting.session, acting.caller, project, changes, clock=acting.clock)

                if await self.save(errors, work):
                    dialog.close()

            with footer:
                save_button(submit)
        dialog.open()


@console_page("projects")
async def projects_page(context: PageContext) -> None:
    await ProjectsScreen(context).mount()
