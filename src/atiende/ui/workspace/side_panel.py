"""The panel beside a conversation: the contact, the campaign's dynamic fields, the funnel stage,
the typification, and the two ways a conversation leaves the agent — **Transferir** and
**Finalizar** — each saying plainly why it is not available yet."""

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from nicegui import ui

from atiende.conversations.workview import WorkView, close_blockers
from atiende.i18n import t
from atiende.ui.components import prop, testid
from atiende.ui.workspace import look
from atiende.ui.workspace.fields_form import FieldsForm
from atiende.ui.workspace.outcome import outcome


class PanelActions:
    """What the page does when the agent acts in the panel (each returns True when it worked)."""

    def __init__(self, *, save_fields: Callable[[dict[str, Any]], Awaitable[bool]],
                 set_stage: Callable[[int], Awaitable[bool]], transfer: Callable[[], Awaitable[None]],
                 close: Callable[[int | None, dict[str, Any]], Awaitable[bool]]) -> None:
        self.save_fields = save_fields
        self.set_stage = set_stage
        self.transfer = transfer
        self.close = close


class SidePanel:
    def __init__(self, work: WorkView, actions: PanelActions, now: datetime) -> None:
        self.work = work
        self.actions = actions
        self.form: FieldsForm | None = None
        self.typification: ui.select | None = None
        with ui.column().classes("w-full gap-3 q-pa-sm").props('data-testid="side-panel"'):
            self._contact(now)
            if work.mine:
                self._work_area()
            else:
                notice = ui.label(t("workspace.not_yours")).props('data-testid="not-yours"')
                notice.classes("text-body2 text-grey-8 bg-amber-1 q-pa-sm rounded-borders")
                with ui.card().props("flat bordered").classes("w-full q-pa-sm gap-1"):
                    outcome(work)

    def _contact(self, now: datetime) -> None:
        conversation = self.work.conversation
        with ui.card().props("flat bordered").classes("w-full q-pa-sm gap-1"):
            ui.label(t("workspace.contact")).classes("text-overline text-grey-7")
            ui.label(conversation.contact.name or t("workspace.unnamed")).classes("text-subtitle1 text-weight-medium") \
                .props('data-testid="contact-name"')
            if self.work.mine and conversation.contact.exclusive_agent_id == conversation.assigned_membership_id:
                ui.badge(t("contacts.exclusive_badge"), color="teal-8").props('data-testid="cartera-badge"') \
                    .tooltip(t("contacts.exclusive_badge_help"))
            if self.work.view.phone:
                with ui.row().classes("items-center gap-1"):
                    ui.icon("call", size="1rem", color="grey-7")
                    ui.label(self.work.view.phone).props('data-testid="contact-phone"')
            else:
                ui.label(t("workspace.phone_hidden")).classes("text-caption text-grey-6") \
                    .props('data-testid="phone-hidden"')
            with ui.row().classes("items-center gap-1 no-wrap"):
                look.channel_icon(self.work.channel_kind.value, size="1rem")
                ui.label(self.work.channel_name).classes("text-caption text-grey-8")
            ui.label(f"{t('workspace.campaign')}: {self.work.campaign_name}").classes("text-caption text-grey-8")
            ui.label(t("workspace.opened_at", at=look.moment(conversation.opened_at, self.work.timezone, now))) \
                .classes("text-caption text-grey-7")

    def _work_area(self) -> None:
        work = self.work
        if work.fields:
            with ui.card().props("flat bordered").classes("w-full q-pa-sm gap-2"):
                ui.label(t("workspace.fields")).classes("text-overline text-grey-7")
                self.form = FieldsForm(work.fields, on_change=self.refresh_blockers)
                testid(ui.button(t("workspace.save_fields"), icon="save", on_click=self._save_fields)
                       .props("flat dense no-caps color=primary"), "save-fields")
        if work.stages:
            testid(ui.select({c.id: c.label for c in work.stages}, label=t("workspace.stage"),
                             value=work.conversation.funnel_stage_id, on_change=self._stage)
                   .props("outlined dense").classes("w-full"), "stage")
        self.typification = testid(
            ui.select({c.id: c.label for c in work.typifications}, label=t("workspace.typification"),
                      value=None, clearable=True, with_input=True)
            .props("outlined dense")
            .classes("w-full"), "typification")
        prop(self.typification, "hint", t("workspace.typification_default", name=work.default_typification))
        self.blockers = ui.column().classes("w-full gap-1").props('role="status" data-testid="close-blockers"')
        with ui.row().classes("w-full gap-2 no-wrap"):
            if work.can_transfer:
                testid(ui.button(t("workspace.transfer"), icon="swap_horiz", on_click=self.actions.transfer)
                       .props("outline no-caps color=primary").classes("flex-grow"), "transfer")
            self.close_button = testid(ui.button(t("workspace.close"), icon="task_alt", on_click=self._close)
                                       .props("unelevated no-caps color=primary").classes("flex-grow"), "close")
            self.close_button.tooltip(t("workspace.close_hint"))
        self.refresh_blockers()

    def values(self) -> dict[str, Any]:
        return self.form.values() if self.form else {}

    def refresh_blockers(self) -> None:
        if not self.work.mine:
            return
        found = close_blockers(self.work, self.values())
        self.blockers.clear()
        with self.blockers:
            if found.needs_reply:
                ui.label(t("workspace.block_reply")).classes("text-caption text-negative") \
                    .props('data-testid="block-reply"')
            if found.missing_fields:
                ui.label(t("workspace.block_fields", fields=", ".join(found.missing_fields))) \
                    .classes("text-caption text-negative").props('data-testid="block-fields"')
        self.close_button.set_enabled(not found)

    def replied(self) -> None:
        """The agent's message went out: closing without a reply is no longer the obstacle."""
        self.work.conversation.agent_replied = True
        self.refresh_blockers()

    async def _save_fields(self) -> None:
        if self.form is None:
            return
        self.form.errors.clear()
        if await self.actions.save_fields(self.form.changes()):
            ui.notify(t("workspace.fields_saved"), type="positive")

    async def _stage(self, event: Any) -> None:
        if event.value is not None:
            await self.actions.set_stage(int(event.value))

    async def _close(self) -> None:
        found = close_blockers(self.work, self.values())
        if found:
            self.refresh_blockers()
            ui.notify(t("workspace.close_blocked"), type="warning")
            return
        if self.form:
            self.form.errors.clear()
        value = self.typification.value if self.typification else None
        await self.actions.close(int(value) if value is not None else None, self.values())
