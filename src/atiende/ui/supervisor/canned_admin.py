"""Respuestas rápidas: the client's quick replies. Admins create, edit and delete them; supervisors
read them. Agents use them in the typing area with "/" and the shortcut."""

from nicegui import ui
from pydantic import ValidationError

from atiende.auth.models import Role
from atiende.conversations.canned import CannedReply, CannedReplyCreate, CannedReplyUpdate, canned_reply_service
from atiende.errors import AtiendeError, NotFound
from atiende.i18n import t
from atiende.ui.components import active_chip, confirm, empty_state, form_dialog, save_button, testid
from atiende.ui.context import PageContext, act
from atiende.ui.errors import FormErrors
from atiende.ui.workspace import errors as explain_errors


class CannedReplies:
    def __init__(self, context: PageContext) -> None:
        self.context = context
        self.editable = context.role == Role.admin
        self.items: list[CannedReply] = []
        with ui.row().classes("w-full items-center justify-between"):
            with ui.column().classes("gap-0"):
                ui.label(t("supervisor.canned.title")).classes("text-h6").props('role="heading" aria-level="2"')
                ui.label(t("supervisor.canned.subtitle")).classes("text-body2 text-grey-7")
            if self.editable:
                testid(ui.button(t("common.create"), icon="add", on_click=lambda: self.edit(None))
                       .props("unelevated no-caps"), "canned-create")
        self.host = ui.element("div")
        self.list = ui.column().classes("w-full gap-2")

    async def load(self) -> None:
        async with act() as acting:
            self.items = await canned_reply_service.all_of(acting.session, acting.caller, self.context.client_id)
        self.render()

    def render(self) -> None:
        self.list.clear()
        with self.list:
            if not self.items:
                if self.editable:
                    empty_state(t("supervisor.canned.empty"), action=t("supervisor.canned.create_first"),
                                on_click=lambda: self.edit(None), icon="quickreply")
                else:
                    empty_state(t("supervisor.canned.empty_readonly"), icon="quickreply")
                return
            headers = [t("supervisor.canned.shortcut"), t("supervisor.canned.name"), t("supervisor.canned.text"),
                       t("common.state"), ""]
            with ui.element("q-markup-table").props('flat bordered wrap-cells data-testid="canned-table"') \
                    .classes("w-full"):
                with ui.element("thead"), ui.element("tr"):
                    for header in headers:
                        with ui.element("th").classes("text-left"):
                            ui.label(header)
                with ui.element("tbody"):
                    for item in self.items:
                        self._row(item)

    def _row(self, item: CannedReply) -> None:
        with testid(ui.element("tr"), f"canned-{item.shortcut}"):
            with ui.element("td"):
                ui.label(f"/{item.shortcut}").classes("text-weight-medium text-primary")
            with ui.element("td"):
                ui.label(item.title)
            with ui.element("td"):
                ui.label(item.text).classes("text-grey-8").style("white-space: pre-wrap")
            with ui.element("td"):
                active_chip(item.active)
            with ui.element("td").classes("text-right"):
                if self.editable:
                    with ui.row().classes("no-wrap gap-0 justify-end"):
                        ui.button(icon="edit", on_click=lambda i=item: self.edit(i)) \
                            .props(f'flat round dense aria-label="{t("common.edit")}" '
                                   f'data-testid="canned-edit-{item.id}"')
                        ui.button(icon="delete", on_click=lambda i=item: self.delete(i)) \
                            .props(f'flat round dense aria-label="{t("common.delete")}" '
                                   f'data-testid="canned-delete-{item.id}"')

    def edit(self, item: CannedReply | None) -> None:
        self.host.clear()
        errors = FormErrors()
        with self.host, form_dialog(t("supervisor.canned.edit") if item else t("supervisor.canned.new"),
                                    testid_value="canned-dialog") as (dialog, body, footer):
            with body:
                shortcut = testid(ui.input(t("supervisor.canned.shortcut"), value=item.shortcut if item else "")
                                  .props('outlined prefix="/" maxlength=40 autofocus').classes("w-full"),
                                  "canned-shortcut")
                title = testid(ui.input(t("supervisor.canned.name"), value=item.title if item else "")
                               .props("outlined maxlength=120").classes("w-full"), "canned-name")
                text = testid(ui.textarea(t("supervisor.canned.text"), value=item.text if item else "")
                              .props("outlined autogrow maxlength=4096").classes("w-full"), "canned-text")
                ui.label(t("supervisor.canned.placeholders")).classes("text-caption text-grey-7")
                active = ui.switch(t("common.active"), value=item.active if item else True)
                for field, element in (("shortcut", shortcut), ("title", title), ("text", text)):
                    errors.bind(field, element)
                errors.add_banner()

            async def submit() -> None:
                errors.clear()
                try:
                    async with act() as acting:
                        if item is None:
                            data = CannedReplyCreate(client_id=self.context.client_id, shortcut=shortcut.value or "",
                                                     title=title.value or "", text=text.value or "",
                                                     active=active.value)
                            await canned_reply_service.create(acting.session, acting.caller, data, clock=acting.clock)
                        else:
                            row = await canned_reply_service.get(acting.session, acting.caller, item.id)
                            if row is None:
                                raise NotFound(t("error.gone"), field="item_id")
                            changes = CannedReplyUpdate(shortcut=shortcut.value or "", title=title.value or "",
                                                        text=text.value or "", active=active.value)
                            await canned_reply_service.update(acting.session, acting.caller, row, changes,
                                                              clock=acting.clock)
                except (AtiendeError, ValidationError) as exc:
                    explain_errors.show(exc, errors)
                    return
                dialog.close()
                ui.notify(t("common.saved"), type="positive")
                await self.load()

            with footer:
                save_button(submit)
        dialog.open()

    async def delete(self, item: CannedReply) -> None:
        if not await confirm(t("common.confirm_delete", name=f"/{item.shortcut}")):
            return
        try:
            async with act() as acting:
                row = await canned_reply_service.get(acting.session, acting.caller, item.id)
                if row is not None:
                    await canned_reply_service.delete(acting.session, acting.caller, row, clock=acting.clock)
        except AtiendeError as exc:
            ui.notify(exc.message, type="negative")
            return
        await self.load()
