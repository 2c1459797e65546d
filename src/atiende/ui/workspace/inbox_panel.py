"""The agent's inbox list: one row per conversation in progress with its channel, contact,
campaign, last message, how long the contact has been waiting and the unread count."""

from collections.abc import Callable
from datetime import datetime

from nicegui import ui

from atiende.auth.models import Presence
from atiende.conversations.inbox import InboxItem
from atiende.conversations.models import Direction
from atiende.i18n import t
from atiende.ui.workspace import look
from atiende.ui.workspace.assets import since_label

Open = Callable[[int], object]


def inbox_list(items: list[InboxItem], *, selected: int | None, query: str, presence: Presence, now: datetime,
               on_open: Open) -> None:
    shown = [item for item in items if item.matches(query)]
    if not items:
        with ui.column().classes("w-full items-center q-pa-lg gap-2 text-center").props('data-testid="inbox-empty"'):
            ui.icon("inbox", size="2.5rem", color="grey-5")
            ui.label(t("workspace.inbox_empty") if presence == Presence.online
                     else t("workspace.inbox_empty_offline")).classes("text-body2 text-grey-7")
        return
    if not shown:
        ui.label(t("workspace.no_match")).classes("text-body2 text-grey-7 q-pa-md")
        return
    with ui.list().props("separator").classes("w-full").props(f'aria-label="{t("workspace.inbox")}"'):
        for item in shown:
            _row(item, item.conversation_id == selected, now, on_open)


def _row(item: InboxItem, active: bool, now: datetime, on_open: Open) -> None:
    with ui.item(on_click=lambda cid=item.conversation_id: on_open(cid)) \
            .props(f'clickable data-testid="inbox-item-{item.conversation_id}"'
                   + (' active active-class="bg-teal-1"' if active else "")) \
            .classes("q-py-sm"):
        with ui.item_section().props("avatar"):
            look.channel_icon(item.channel_kind)
        with ui.item_section().classes("ws-row-main"):
            ui.label(item.contact_name or t("workspace.unnamed")) \
                .classes("w-full text-body2 text-weight-medium ellipsis").props('data-testid="inbox-contact"')
            with ui.row().classes("w-full items-center no-wrap gap-1 text-caption"):
                ui.label(item.campaign_name).classes("text-teal-9 ellipsis").style("min-width: 0")
                if item.waiting_since:
                    with ui.row().classes("items-center no-wrap gap-0").props('data-testid="waiting"'):
                        ui.icon("hourglass_top", size="0.9rem", color="orange-8")
                        since_label(item.waiting_since, now, classes="text-orange-9")
            prefix = t("workspace.you") + ": " if item.last_direction == Direction.outbound else ""
            with ui.row().classes("w-full items-center no-wrap gap-1"):
                if item.attachments_only:
                    ui.icon("attach_file", size="0.9rem", color="grey-7").props(
                        f'aria-label="{t("workspace.attach")}" role="img" data-testid="preview-attachment"')
                ui.label(prefix + item.last_text).classes("text-caption text-grey-8 ellipsis") \
                    .style("min-width: 0; flex: 1 1 0").props('data-testid="inbox-preview"')
        with ui.item_section().props("side top").classes("items-end gap-1"):
            if item.last_at:
                ui.label(look.moment(item.last_at, item.timezone, now)).classes("text-caption text-grey-7")
            if item.unread:
                ui.badge(str(item.unread), color="negative").props('rounded data-testid="unread"')
