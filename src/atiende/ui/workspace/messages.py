"""A conversation's messages as chat bubbles: who wrote, when, delivery ticks, and attachments
(images inline, an audio player for voice notes and audio, a video player, links for files).
Used by the agent workspace and by the supervisor's read-only reader."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from nicegui import ui

from atiende.channels.media import MediaStore
from atiende.conversations.models import Conversation, Direction, Message, SenderKind
from atiende.i18n import t, tn
from atiende.ui.components import prop
from atiende.ui.runtime import runtime
from atiende.ui.workspace import look


def author_of(message: Message, authors: dict[int, str]) -> str:
    if message.sender == SenderKind.contact:
        return ""
    if message.sender == SenderKind.agent:
        return authors.get(message.author_membership_id or 0, t("workspace.sender.agent"))
    return t(f"workspace.sender.{message.sender.value}")


def bubble(message: Message, authors: dict[int, str], timezone: str, now: datetime) -> None:
    if message.sender == SenderKind.system:
        with ui.row().classes("w-full justify-center").props(f'data-testid="message-{message.id}"'):
            ui.label(message.text).classes("text-caption text-grey-7 bg-grey-3 rounded-borders q-px-sm q-py-xs") \
                .style("white-space: pre-wrap; max-width: 80%")
        return
    inbound = message.direction == Direction.inbound
    side = "justify-start" if inbound else "justify-end"
    tone = "bg-white" if inbound else ("bg-teal-1" if message.sender == SenderKind.agent else "bg-indigo-1")
    direction = "in" if inbound else "out"
    with ui.row().classes(f"w-full no-wrap {side}"):
        with ui.column().classes(f"{tone} rounded-borders q-px-sm q-py-xs gap-1 shadow-1") \
                .style("max-width: min(75%, 560px)") \
                .props(f'data-testid="message-{message.id}" data-direction="{direction}"'):
            author = author_of(message, authors)
            if author:
                ui.label(author).classes("text-caption text-weight-medium text-teal-9")
            if message.text:
                ui.label(message.text).classes("text-body2").style("white-space: pre-wrap; word-break: break-word") \
                    .props('data-testid="message-text"')
            attachments(message.attachments or [], message.conversation_id, now)
            with ui.row().classes("items-center gap-1 self-end no-wrap"):
                ui.label(look.moment(message.created_at, timezone, now)).classes("text-caption text-grey-7")
                if not inbound:
                    look.tick(message.status, message.failure_reason)


def attachments(items: Sequence[dict[str, Any]], conversation_id: int, now: datetime) -> None:
    """Files stored by Atiende are shown (with a grant to fetch them, see ``MediaStore.grant``);
    any other address is only a link, so opening a conversation never makes the browser fetch it.
    Names are text, set as values, never inside a props string."""
    store = MediaStore(runtime().settings)
    for item in items:
        url, kind = str(item.get("url", "")), str(item.get("kind", "document"))
        name = str(item.get("name") or url.split("?", 1)[0].rsplit("/", 1)[-1] or t("workspace.attachment"))
        if not url.startswith(("http://", "https://")):
            continue
        if store.name_of(url) is None:
            kind = "link"
        url = store.grant(url, conversation_id, now)
        if kind in ("image", "sticker"):
            with prop(ui.link(target=url, new_tab=True), "aria-label", name):
                image = ui.image(url).classes("rounded-borders").style("width: 220px; max-height: 260px") \
                    .props('fit=contain data-testid="attachment-image"')
                prop(image, "alt", name).tooltip(name)
        elif kind in ("voice", "audio"):
            with ui.row().classes("items-center gap-1 no-wrap"):
                ui.icon("mic" if kind == "voice" else "audiotrack", color="grey-7")
                ui.audio(url).style("max-width: 260px").props('data-testid="attachment-audio"')
        elif kind == "video":
            ui.video(url).style("max-width: 280px").props('data-testid="attachment-video"')
        else:
            with ui.link(target=url, new_tab=True).classes("row items-center gap-1 no-wrap text-primary") \
                    .props('data-testid="attachment-file" download'):
                ui.icon("description", size="1.1rem")
                ui.label(name).classes("text-body2 ellipsis")


def thread(messages: Sequence[Message], authors: dict[int, str], timezone: str, now: datetime) -> None:
    if not messages:
        ui.label(t("workspace.no_messages")).classes("text-grey-7 text-center w-full q-pa-md")
    for message in messages:
        bubble(message, authors, timezone, now)


def history(earlier: Sequence[tuple[Conversation, list[Message]]], authors: dict[int, str], timezone: str,
            now: datetime) -> None:
    """The contact's earlier conversations (only those the campaign's history hours allow)."""
    if not earlier:
        return
    with ui.column().classes("w-full gap-1").props('data-testid="history"'):
        for conversation, messages in reversed(earlier):
            opened = conversation.opened_at
            when = f"{look.day(opened, timezone)} {look.clock_time(opened, timezone)}"
            title = tn("workspace.history_item", len(messages), date=when)
            with ui.expansion(title, icon="history").classes("w-full bg-grey-2 rounded-borders") \
                    .props(f'dense data-testid="history-{conversation.id}"'):
                with ui.column().classes("w-full gap-2 q-pa-sm opacity-80"):
                    thread(messages, authors, timezone, now)
        ui.separator()
        ui.label(t("workspace.current_conversation")).classes("text-caption text-grey-7 self-center")
