"""Reading any conversation of the client, read-only: its messages (and the contact's history the
campaign allows), the fields, and who served it when — and the search that finds it."""

from collections.abc import Awaitable, Callable
from datetime import datetime

from nicegui import ui

from atiende.conversations.models import ConversationStatus
from atiende.conversations.supervision import FoundConversation
from atiende.conversations.workview import WorkView
from atiende.i18n import t
from atiende.ui.components import testid
from atiende.ui.workspace import look, messages
from atiende.ui.workspace.outcome import outcome


def show_conversation(work: WorkView, now: datetime) -> None:
    """A dialog with the whole conversation; nothing in it changes the conversation."""
    conversation = work.conversation
    with ui.dialog() as dialog, ui.card().classes("q-pa-none gap-0 no-wrap") \
            .style("width: min(980px, 96vw); max-width: 96vw; height: 90vh").props('data-testid="reader"'):
        with ui.row().classes("w-full items-center no-wrap gap-2 q-px-md q-py-sm border-b border-gray-200"):
            look.channel_icon(work.channel_kind.value)
            with ui.column().classes("gap-0 flex-grow"):
                ui.label(conversation.contact.name or t("workspace.unnamed")).classes("text-h6") \
                    .props('role="heading" aria-level="2"')
                ui.label(f"{work.campaign_name} · #{conversation.id} · "
                         f"{t('supervisor.status.' + conversation.status.value)}").classes("text-caption text-grey-7")
            ui.badge(t("supervisor.read_only"), color="grey-7").props("outline")
            ui.button(icon="close", on_click=dialog.close).props(f'flat round dense aria-label="{t("common.close")}"')
        with ui.row().classes("sv-reader-body w-full no-wrap gap-0 flex-grow").style("min-height: 0"):
            with ui.column().classes("sv-reader-thread flex-grow h-full overflow-y-auto no-wrap gap-2 q-pa-md bg-grey-1") \
                    .props('data-testid="reader-thread"'):
                messages.history(work.view.history, work.authors, work.timezone, now)
                messages.thread(work.view.messages, work.authors, work.timezone, now)
            with ui.column().classes("sv-reader-side h-full overflow-y-auto no-wrap gap-2 q-pa-sm border-l "
                                     "border-gray-200"):
                if work.view.phone:
                    ui.label(work.view.phone).classes("text-body2")
                outcome(work)
                ui.label(t("supervisor.assignments")).classes("text-overline text-grey-7")
                for stretch in work.view.assignments:
                    ended = (look.moment(stretch.ended_at, work.timezone, now) if stretch.ended_at
                             else t("supervisor.now"))
                    reason = t(f"supervisor.end_reason.{stretch.end_reason.value}") if stretch.end_reason else ""
                    ui.label(f"{work.authors.get(stretch.membership_id, '')}: "
                             f"{look.moment(stretch.started_at, work.timezone, now)} – {ended} {reason}") \
                        .classes("text-caption")
    dialog.open()


def search_results(found: list[FoundConversation], now: datetime,
                   on_read: Callable[[int], Awaitable[None]],
                   on_assign: Callable[[int], Awaitable[None]] | None = None) -> None:
    if not found:
        ui.label(t("supervisor.search_empty")).classes("text-body2 text-grey-7 q-pa-md")
        return
    headers = ["#", t("workspace.contact"), t("workspace.campaign"), t("supervisor.state"), t("supervisor.agent"),
               t("supervisor.opened"), ""]
    with ui.element("q-markup-table").props('flat bordered dense data-testid="search-results"').classes("w-full"):
        with ui.element("thead"), ui.element("tr"):
            for header in headers:
                with ui.element("th").classes("text-left"):
                    ui.label(header)
        with ui.element("tbody"):
            for item in found:
                with ui.element("tr").props(f'data-testid="found-{item.conversation_id}"'):
                    for text in (str(item.conversation_id), item.contact_name, item.campaign_name,
                                 t(f"supervisor.status.{item.status.value}"), item.agent_name,
                                 look.moment(item.opened_at, item.timezone, now)):
                        with ui.element("td"):
                            ui.label(text)
                    with ui.element("td"), ui.row().classes("no-wrap gap-1 items-center"):
                        testid(ui.button(icon="visibility", on_click=lambda c=item.conversation_id: on_read(c))
                               .props(f'flat round dense aria-label="{t("supervisor.read")}"'),
                               f"read-{item.conversation_id}")
                        if on_assign is not None and item.status == ConversationStatus.queued:
                            testid(ui.button(t("assign.button"), icon="person_add",
                                             on_click=lambda c=item.conversation_id: on_assign(c))
                                   .props("flat dense no-caps color=primary"), f"assign-{item.conversation_id}")


STATUS_FILTERS = (None, ConversationStatus.queued, ConversationStatus.assigned, ConversationStatus.survey,
                  ConversationStatus.closed)
