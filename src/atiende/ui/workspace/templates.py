"""WhatsApp outside the 24-hour window: only an approved template may go out. The agent picks one,
fills its parameters and sees the text the customer will read."""

import re
from collections.abc import Awaitable, Callable

from nicegui import ui

from atiende.channels.protocol import TemplateChoice
from atiende.conversations.workview import WorkView
from atiende.i18n import t
from atiende.ui.components import testid

SendTemplate = Callable[[TemplateChoice, list[str], list[str]], Awaitable[bool]]
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]{1,60})\s*\}\}")


class TemplatePicker:
    def __init__(self, work: WorkView, on_send: SendTemplate) -> None:
        self.work = work
        self.on_send = on_send
        self.header_inputs: list[ui.input] = []
        self.body_inputs: list[ui.input] = []
        with ui.column().classes("w-full gap-2 q-pa-sm bg-amber-1 border-t border-gray-200") \
                .props('data-testid="template-picker"'):
            ui.label(t("workspace.window_closed")).classes("text-body2")
            if not work.templates:
                ui.label(t("workspace.no_templates")).classes("text-caption text-grey-8")
                return
            options = {i: f"{c.name} ({c.language})" for i, c in enumerate(work.templates)}
            self.select = testid(ui.select(options, label=t("workspace.template"), on_change=self._chosen)
                                 .props("outlined dense").classes("w-full"), "template-select")
            self.params = ui.column().classes("w-full gap-1")
            self.preview = ui.label().classes("text-body2 bg-white q-pa-sm rounded-borders w-full") \
                .style("white-space: pre-wrap")
            self.preview.set_visibility(False)
            self.send_button = testid(ui.button(t("workspace.send_template"), icon="send", on_click=self._send)
                                      .props("unelevated no-caps color=primary"), "send-template")
            self.send_button.set_enabled(False)

    @property
    def chosen(self) -> TemplateChoice | None:
        value = self.select.value
        return self.work.templates[int(value)] if value is not None else None

    def _chosen(self) -> None:
        self.params.clear()
        self.header_inputs, self.body_inputs = [], []
        choice = self.chosen
        if choice is None:
            return
        with self.params:
            for name in choice.header_parameters:
                self.header_inputs.append(ui.input(t("workspace.template_header_param", name=name),
                                                   on_change=self._render).props("outlined dense").classes("w-full"))
            for name in choice.body_parameters:
                self.body_inputs.append(ui.input(t("workspace.template_param", name=name),
                                                 on_change=self._render).props("outlined dense").classes("w-full"))
        self._render()

    def _render(self) -> None:
        choice = self.chosen
        if choice is None:
            return
        values = dict(zip(choice.body_parameters, (i.value or "" for i in self.body_inputs), strict=False))
        self.preview.set_text(_PLACEHOLDER.sub(lambda m: values.get(m.group(1)) or m.group(0), choice.body_text))
        self.preview.set_visibility(True)
        self.send_button.set_enabled(all((i.value or "").strip() for i in [*self.header_inputs, *self.body_inputs]))

    async def _send(self) -> None:
        choice = self.chosen
        if choice is None:
            return
        await self.on_send(choice, [i.value.strip() for i in self.header_inputs],
                           [i.value.strip() for i in self.body_inputs])
