"""Envíos on Telegram and API channels: the Canal of a new send (when the campaign has several
channels to send on) and the Mensaje step as plain text (those channels take no templates) — a
text area, the send's variables as chips that insert ``{column}`` at the cursor, and a live
preview with the first row's values. Saving goes through ``outbound_service`` like the REST API."""

import json
from collections.abc import Callable

from nicegui import events, ui

from atiende.campaigns.models import Campaign
from atiende.channels.models import ChannelKind
from atiende.errors import AtiendeError
from atiende.i18n import t
from atiende.outbound.models import OutboundSend
from atiende.outbound.service import outbound_service
from atiende.outbound.text_message import limit_of, render_text
from atiende.ui.components import help_text, testid
from atiende.ui.context import act


class ChannelPicker:
    """Canal for the next new send; shown only when the campaign has more than one channel to send on
    (WhatsApp first: the default)."""

    def __init__(self) -> None:
        self.value: int | None = None

    def pick(self, event: events.ValueChangeEventArguments) -> None:
        self.value = event.value

    @ui.refreshable_method
    async def show(self, campaign: Campaign | None) -> None:
        channels = []
        if campaign is not None:
            async with act() as acting:
                channels = await outbound_service.sending_channels(acting.session, campaign)
        ids = [c.id for c in channels]
        if self.value not in ids:
            self.value = ids[0] if ids else None
        if len(channels) < 2:
            return
        options = {c.id: f"{c.name} · {t(f'outbound.kind.{c.kind.value}')}" for c in channels}
        testid(ui.select(options, value=self.value, label=t("outbound.channel"), on_change=self.pick)
               .props("outlined dense").style("min-width: 18rem"), "send-channel")


def text_step(send: OutboundSend, first: dict[str, str], kind: ChannelKind,
              fail: Callable[[AtiendeError], None]) -> None:
    limit = limit_of(kind)
    ui.label(t("outbound.step.message")).classes("text-subtitle1 text-weight-medium")
    help_text(t("outbound.text.help", channel=t(f"outbound.kind.{kind.value}"), limit=limit))
    area = testid(ui.textarea(t("outbound.text.label"), value=send.text or "",
                              placeholder=t("outbound.text.placeholder"))
                  .props(f"outlined autogrow counter maxlength={limit}").classes("w-full"), "send-text")

    def insert(column: str) -> None:
        """At the cursor (the browser's own edit, so the text area reports the new value)."""
        token = json.dumps("{" + column + "}")
        ui.run_javascript(
            f"let el = document.getElementById('c{area.id}');"
            f" if (el && el.tagName !== 'TEXTAREA') el = el.querySelector('textarea'); if (el) {{"
            f" const s = el.selectionStart ?? el.value.length, e = el.selectionEnd ?? s;"
            f" el.setRangeText({token}, s, e, 'end'); el.dispatchEvent(new Event('input', {{bubbles: true}}));"
            f" el.focus(); }}")

    if send.columns:
        with ui.row().classes("items-center gap-1 wrap").props('data-testid="send-variables"'):
            help_text(t("outbound.text.variables"))
            for column in send.columns:
                testid(ui.chip("{" + column + "}", icon="add", on_click=lambda c=column: insert(c))
                       .props("dense outline clickable"), f"send-var-{column}")
    else:
        help_text(t("outbound.text.no_variables"))
    help_text(t("outbound.text.preview"))
    bubble = testid(ui.label().classes("q-pa-sm rounded-borders bg-blue-1 text-body2")
                    .style("white-space: pre-wrap; max-width: 28rem"), "send-bubble")

    def update_preview() -> None:
        text = area.value or ""
        bubble.set_text((render_text(text, first) if first else text) or t("outbound.text.empty"))

    area.on_value_change(update_preview)
    update_preview()

    async def save() -> None:
        try:
            async with act() as acting:
                fresh = await outbound_service.get(acting.session, acting.caller, send.id)
                await outbound_service.set_message(acting.session, fresh, text=area.value or "")
        except AtiendeError as exc:
            fail(exc)
            return
        ui.notify(t("outbound.saved"), type="positive")

    testid(ui.button(t("outbound.save_message"), on_click=save).props("outline no-caps"), "send-save-message")
