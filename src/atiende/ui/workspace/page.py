"""Conversaciones (``/workspace``): where an agent works all day.

Left, the presence switch (En línea / Ausente / Desconectado — it drives assignment) and the
inbox; centre, the open conversation with its typing area; right, the contact, dynamic fields,
funnel stage, typification, *Transferir* and *Finalizar*. Everything updates live from the event
bus. Shortcuts: Alt+↓ / Alt+↑ next / previous conversation, Enter sends (Shift+Enter breaks the
line), Alt+Shift+F finalizes.
"""

from typing import Any

from nicegui import events, ui
from pydantic import ValidationError

from atiende import realtime
from atiende.auth.models import Presence
from atiende.bus import BusEvent
from atiende.channels.whatsapp.templates import TemplateValues
from atiende.conversations.canned import canned_reply_service
from atiende.conversations.events import (
    ConversationAssigned, ConversationEvent, MessageReceived, MessageSent, PresenceChanged,
)
from atiende.conversations.inbox import InboxItem, agent_inbox, apply_messages
from atiende.conversations.service import conversation_service
from atiende.conversations.staffing import staffing_service
from atiende.channels.protocol import TemplateChoice
from atiende.conversations.workview import WorkView, transfer_targets, work_view
from atiende.ui.workspace import send_context
from atiende.errors import AtiendeError
from atiende.i18n import t
from atiende.ui.components import testid
from atiende.ui.context import PageContext, act, user_storage
from atiende.ui.layout import console_page
from atiende.ui.runtime import runtime
from atiende.ui.workspace import assets, errors, look, messages
from atiende.ui.workspace.composer import CannedItem, Composer
from atiende.ui.workspace.dialogs import choose_agent
from atiende.ui.workspace.inbox_panel import inbox_list
from atiende.ui.workspace.live import LiveFeed, engine
from atiende.ui.workspace.side_panel import PanelActions, SidePanel
from atiende.ui.workspace.templates import TemplatePicker

SEEN = "workspace_seen"
# Laptops and wider: inbox, conversation and panel side by side. Tablets: a narrower inbox, and the
# panel opens over the conversation with the (i) button of the conversation's header. Phones: one
# column — the inbox, or the open conversation with a back arrow to the inbox; the panel covers it.
LAYOUT_CSS = """
.ws-root { height: calc(100vh - 120px); min-height: 480px; }
.ws-inbox { width: 310px; flex: none; min-width: 0; }
.ws-center { min-width: 0; }
.ws-row-main { min-width: 0; align-items: stretch; }
.ws-row-main > * { max-width: 100%; }
.ws-panel { width: 300px; flex: none; background: white; }
.ws-back { display: none !important; }
@media (max-width: 1023px) {
  .ws-inbox { width: 270px; }
  .ws-panel { display: none !important; position: absolute; right: 0; top: 0; bottom: 0; z-index: 5;
              box-shadow: -4px 0 12px rgba(0, 0, 0, .15); }
  .ws-panel.ws-open { display: flex !important; }
}
@media (max-width: 599px) {
  .nicegui-content, .ws-main { padding: 0 !important; }
  .ws-root { height: calc(100dvh - 75px); min-height: 420px; border-radius: 0 !important; }
  .ws-inbox { width: 100%; border-right: 0 !important; }
  .ws-center { display: none !important; }
  .ws-reading .ws-inbox { display: none !important; }
  .ws-reading .ws-center { display: flex !important; width: 100%; }
  .ws-back { display: inline-flex !important; }
  .ws-panel { width: 100%; }
}
"""
LEAVING = ("conversation.transferred", "conversation.closed", "conversation.queued", "conversation.assigned",
           "conversation.updated")


@console_page("workspace")
async def workspace_page(context: PageContext) -> None:
    await Workspace(context).mount()


class Workspace:
    def __init__(self, context: PageContext) -> None:
        self.context = context
        self.items: list[InboxItem] = []
        self.feed: LiveFeed | None = None
        self._selected: int | None = None
        self.work: WorkView | None = None
        self.send_context: send_context.SendContext | None = None  # the send this conversation answers
        self.panel: SidePanel | None = None
        self.composer: Composer | None = None
        self.rendered: set[int] = set()
        self.drafts: dict[int, str] = {}  # what the agent had typed in each conversation
        self.query = ""
        self._syncing = False

    @property
    def selected(self) -> int | None:
        """The open conversation; the page's feed also hears its events (one the agent no longer
        serves, read-only)."""
        return self._selected

    @selected.setter
    def selected(self, conversation_id: int | None) -> None:
        if self.feed is not None and conversation_id != self._selected:
            if self._selected is not None:
                self.feed.listener.remove(realtime.conversation(self._selected))
            if conversation_id is not None:
                self.feed.listener.add(realtime.conversation(conversation_id))
        self._selected = conversation_id

    # --- building the page -------------------------------------------------------------------------
    async def mount(self) -> None:
        async with act() as acting:
            me = acting.caller.membership(self.context.client_id)
            self.membership_id, self.presence = me.id, me.presence
            self.agent_name = acting.caller.user.full_name or acting.caller.user.email
            now = acting.clock.now()
        assets.install(now)
        main = ui.context.slot.parent
        main.classes(remove="max-w-screen-xl q-pa-md", add="q-pa-sm ws-main")
        ui.add_css(LAYOUT_CSS)
        self.root = ui.row().classes("ws-root w-full no-wrap gap-0 bg-white rounded-borders shadow-1 overflow-hidden "
                                     "relative-position").props('data-testid="workspace"')
        with self.root:
            with ui.column().classes("gap-0 h-full border-r border-gray-200 no-wrap") \
                    .classes("ws-inbox"):
                self._presence_bar()
                self.search = testid(ui.input(placeholder=t("workspace.search"), on_change=self._search)
                                     .props(f'dense outlined clearable aria-label="{t("workspace.search")}"')
                                     .classes("w-full q-px-sm q-pb-sm"), "inbox-search")
                with self.search.add_slot("prepend"):
                    ui.icon("search")
                self.inbox = ui.column().classes("w-full gap-0 overflow-y-auto overflow-x-hidden flex-grow no-wrap") \
                    .props('data-testid="inbox"')
            self.center = ui.column().classes("ws-center gap-0 h-full flex-grow no-wrap bg-grey-1")
            self.right = ui.column().classes("gap-0 h-full overflow-y-auto no-wrap border-l border-gray-200 ws-panel")
        self._nothing_open()
        self.feed = LiveFeed([realtime.agent(self.membership_id)], self._on_events)
        ui.keyboard(on_key=self._on_key, ignore=[])
        await self.reload_canned()
        await self.reload_inbox()
        wanted = self.context.query.get("c", "")
        if wanted.isdigit() and len(wanted) < 10:  # also one the agent served and closed (read-only)
            await self.open(int(wanted))

    async def reload_canned(self) -> list[CannedItem]:
        """The client's active quick replies, read again each time the agent starts a "/": one a
        supervisor adds reaches the agents without reloading the page (on any process)."""
        async with act() as acting:
            replies = await canned_reply_service.all_of(acting.session, acting.caller, self.context.client_id)
        self.canned = [CannedItem(r.shortcut, r.title, r.text) for r in replies if r.active]
        return self.canned

    def _presence_bar(self) -> None:
        with ui.row().classes("w-full items-center no-wrap gap-1 q-pa-sm"):
            self.presence_dot = ui.element("div")
            with self.presence_dot:
                look.presence_dot(self.presence)
            options = {p.value: t(f"workspace.presence.{p.value}") for p in Presence}
            self.presence_toggle = testid(ui.toggle(options, value=self.presence.value, on_change=self._presence)
                                          .props('dense no-caps unelevated toggle-color=primary spread padding="xs"')
                                          .classes("flex-grow text-caption"), "presence")
            self.presence_toggle.props(f'aria-label="{t("workspace.presence.label")}"')

    def _nothing_open(self) -> None:
        self.root.classes(remove="ws-reading")
        self.center.clear()
        self.right.clear()
        with self.center, ui.column().classes("w-full h-full items-center justify-center gap-2 text-center q-pa-lg"):
            ui.icon("forum", size="3rem", color="grey-5")
            ui.label(t("workspace.choose")).classes("text-body1 text-grey-7").props('data-testid="nothing-open"')
            ui.label(t("workspace.shortcuts")).classes("text-caption text-grey-6")

    # --- presence ------------------------------------------------------------------------------------
    async def _presence(self, event: Any) -> None:
        if self._syncing or event.value is None:
            return
        chosen = Presence(event.value)
        try:
            async with act() as acting:
                await staffing_service.set_my_presence(acting.session, engine(), acting.caller, chosen,
                                                       self.context.client_id)
        except (AtiendeError, ValidationError) as exc:
            errors.show(exc)
            self._show_presence(self.presence)
            return
        self._show_presence(chosen)
        await self.reload_inbox()

    def _show_presence(self, presence: Presence) -> None:
        self.presence = presence
        self._syncing = True
        try:
            self.presence_toggle.set_value(presence.value)
        finally:
            self._syncing = False
        self.presence_dot.clear()
        with self.presence_dot:
            look.presence_dot(presence)

    # --- inbox -----------------------------------------------------------------------------------------
    def _seen(self) -> dict[int, int]:
        stored = user_storage().get(SEEN) or {}
        return {int(k): int(v) for k, v in stored.items() if str(k).isdigit()}

    def _mark_seen(self, conversation_id: int, message_id: int) -> None:
        seen = self._seen()
        if message_id > seen.get(conversation_id, 0):
            seen[conversation_id] = message_id
            keep = {i.conversation_id for i in self.items} | {conversation_id}
            user_storage()[SEEN] = {str(k): v for k, v in seen.items() if k in keep}

    async def reload_inbox(self) -> None:
        async with act() as acting:
            self.items = await agent_inbox(acting.session, acting.caller, self.context.client_id, self._seen())
        self._render_inbox()

    def _render_inbox(self) -> None:
        for item in self.items:
            if item.conversation_id == self.selected:
                item.unread = 0  # the agent is reading it
        self.inbox.clear()
        with self.inbox:
            inbox_list(self.items, selected=self.selected, query=self.query, presence=self.presence,
                       now=runtime().clock.now(), on_open=self.open)
            unread = sum(i.unread for i in self.items)
            base = f"{t('nav.workspace')} · Atiende"
            ui.page_title(f"({unread}) {base}" if unread else base)

    def _search(self, event: Any) -> None:
        self.query = event.value or ""
        self._render_inbox()

    # --- the open conversation ------------------------------------------------------------------------
    async def open(self, conversation_id: int) -> None:
        with self.root:  # the inbox row that was clicked is about to be redrawn
            await self._open(conversation_id)

    async def _open(self, conversation_id: int) -> None:
        try:
            async with act() as acting:
                self.work = await work_view(acting.session, acting.caller, conversation_id, now=acting.clock.now())
                self.send_context = await send_context.load(acting.session, self.work.conversation)
        except AtiendeError as exc:
            errors.show(exc)
            return
        self.selected = conversation_id
        self._render_conversation()
        self._render_inbox()
        self.root.classes(add="ws-reading")  # on a phone the conversation replaces the inbox

    def back_to_inbox(self) -> None:
        """Phones: from the open conversation back to the inbox (what was typed is kept)."""
        self._keep_draft()
        self.selected, self.work, self.panel, self.composer = None, None, None, None
        self._nothing_open()
        self._render_inbox()

    def _render_conversation(self) -> None:
        work = self.work
        assert work is not None
        now = runtime().clock.now()
        self._keep_draft()
        self.center.clear()
        self.right.clear()
        with self.center:
            self._header(work)
            self.thread = ui.column().classes("w-full flex-grow overflow-y-auto no-wrap gap-2 q-pa-md") \
                .props('data-testid="thread" role="log" aria-live="polite"')
            self._render_thread()
            self.composer = None
            if work.mine and work.window_open is False:
                TemplatePicker(work, self.send_template)
            elif work.mine:
                self.composer = Composer(work, self.canned, agent_name=self.agent_name, on_send=self.send,
                                         reload_canned=self.reload_canned,
                                         draft=self.drafts.get(work.conversation.id, ""))
            else:
                ui.label(t("workspace.not_yours")).classes("w-full text-center q-pa-md text-grey-8 bg-amber-1")
        with self.right:
            with ui.row().classes("w-full justify-end lt-md q-pt-xs q-px-xs"):
                testid(ui.button(icon="close", on_click=lambda: self.right.classes(remove="ws-open"))
                       .props(f'flat round dense aria-label="{t("common.close")}"'), "details-close")
            self.panel = SidePanel(work, PanelActions(save_fields=self.save_fields, set_stage=self.set_stage,
                                                      transfer=self.transfer, close=self.close), now)
            if self.send_context is not None:
                send_context.send_card(self.send_context)
        if self.composer:
            self.composer.focus()

    def _keep_draft(self) -> None:
        if self.composer is not None:
            self.drafts[self.composer.work.conversation.id] = self.composer.text.value or ""

    def _header(self, work: WorkView) -> None:
        conversation = work.conversation
        with ui.row().classes("w-full items-center no-wrap gap-2 q-px-md q-py-sm bg-white border-b border-gray-200"):
            back = ui.button(icon="arrow_back", on_click=self.back_to_inbox) \
                .props(f'flat round dense aria-label="{t("workspace.back_to_inbox")}"').classes("ws-back")
            testid(back, "back-to-inbox")
            look.channel_icon(work.channel_kind.value)
            with ui.column().classes("gap-0 flex-grow").style("min-width: 0"):
                ui.label(conversation.contact.name or t("workspace.unnamed")) \
                    .classes("text-subtitle1 text-weight-medium ellipsis").props('role="heading" aria-level="1"')
                ui.label(f"{work.campaign_name} · #{conversation.id}").classes("text-caption text-grey-7")
            if work.mine and conversation.contact.exclusive_agent_id == conversation.assigned_membership_id:
                ui.badge(t("contacts.exclusive_badge"), color="teal-8").props('data-testid="header-cartera"') \
                    .tooltip(t("contacts.exclusive_badge_help"))
            if work.view.phone:
                ui.label(work.view.phone).classes("text-caption text-grey-8").props('data-testid="header-phone"')
            ui.icon("keyboard", color="grey-6").classes("gt-xs").tooltip(t("workspace.shortcuts"))
            details = ui.button(icon="info", on_click=lambda: self.right.classes(
                toggle="ws-open")).props(f'flat round dense aria-label="{t("workspace.details")}"').classes("lt-md")
            testid(details, "details-toggle")

    def _render_thread(self) -> None:
        work = self.work
        assert work is not None
        now = runtime().clock.now()
        self.thread.clear()
        with self.thread:
            messages.history(work.view.history, work.authors, work.timezone, now)
            messages.thread(work.view.messages, work.authors, work.timezone, now)
        self.rendered = {m.id for m in work.view.messages}
        if work.view.messages:
            self._mark_seen(work.conversation.id, work.view.messages[-1].id)
        ui.run_javascript(f"atiende.scrollBottom('c{self.thread.id}')")

    async def refresh_thread(self) -> None:
        if self.selected is None:
            return
        try:
            async with act() as acting:
                fresh = await work_view(acting.session, acting.caller, self.selected, now=acting.clock.now())
        except AtiendeError:
            self.selected, self.work = None, None
            self._nothing_open()
            return
        assert self.work is not None
        mine_before = self.work.mine
        self.work.view = fresh.view
        if fresh.mine != mine_before or fresh.window_open != self.work.window_open:
            self.work = fresh
            self._render_conversation()
            return
        self._render_thread()
        if self.panel is not None and fresh.conversation.agent_replied:
            self.panel.work.view = fresh.view
            self.panel.refresh_blockers()

    # --- acting on it ------------------------------------------------------------------------------------
    async def _act_on_current(self, work: Any, form: Any = None) -> bool:
        """Runs ``work(acting, conversation)`` on the open conversation; shows the engine's refusal."""
        if self.selected is None:
            return False
        try:
            async with act() as acting:
                conversation = await conversation_service.get(acting.session, acting.caller, self.selected)
                await work(acting, conversation)
        except (AtiendeError, ValidationError) as exc:
            errors.show(exc, form)
            return False
        return True

    async def send(self, text: str, attachments: list[Any]) -> bool:
        async def work(acting: Any, conversation: Any) -> None:
            await conversation_service.send_message(acting.session, engine(), acting.caller, conversation,
                                                    text=text, attachments=attachments)

        if not await self._act_on_current(work):
            return False
        self.drafts.pop(self.selected or 0, None)
        if self.panel is not None:
            self.panel.replied()
        await self.refresh_thread()
        return True

    async def send_template(self, choice: TemplateChoice, header: list[str], body: list[str]) -> bool:
        from atiende.channels.whatsapp.service import whatsapp_service

        async def work(acting: Any, conversation: Any) -> None:
            await whatsapp_service.send_template(acting.session, engine(), acting.caller, conversation,
                                                 name=choice.name, language=choice.language,
                                                 values=TemplateValues(body=body, header=header))

        if not await self._act_on_current(work):
            return False
        ui.notify(t("workspace.template_sent"), type="positive")
        await self.refresh_thread()
        return True

    async def save_fields(self, values: dict[str, Any]) -> bool:
        async def work(acting: Any, conversation: Any) -> None:
            await conversation_service.set_fields(acting.session, engine(), acting.caller, conversation, values)

        return await self._act_on_current(work, self.panel.form.errors if self.panel and self.panel.form else None)

    async def set_stage(self, stage_id: int) -> bool:
        async def work(acting: Any, conversation: Any) -> None:
            await conversation_service.set_stage(acting.session, engine(), acting.caller, conversation, stage_id)

        done = await self._act_on_current(work)
        if done:
            ui.notify(t("workspace.stage_saved"), type="positive")
        return done

    async def transfer(self) -> None:
        with self.root:  # the panel's button may be redrawn while the dialog is open
            await self._transfer()

    async def _transfer(self) -> None:
        if self.selected is None:
            return
        async with act() as acting:
            targets = await transfer_targets(acting.session, acting.caller, self.selected)
        chosen = await choose_agent(t("workspace.transfer_title"), [(x.membership_id, x.name, x.load, x.capacity)
                                                                     for x in targets])
        if chosen is None:
            return

        async def work(acting: Any, conversation: Any) -> None:
            await conversation_service.transfer(acting.session, engine(), acting.caller, conversation,
                                                to_membership_id=chosen)

        if await self._act_on_current(work):
            name = next((x.name for x in targets if x.membership_id == chosen), "")
            ui.notify(t("workspace.transferred", name=name), type="positive")
            await self._after_leaving()

    async def close(self, typification_id: int | None, values: dict[str, Any]) -> bool:
        with self.root:  # the panel's button may be redrawn while the dialog is open
            return await self._close(typification_id, values)

    async def _close(self, typification_id: int | None, values: dict[str, Any]) -> bool:
        from atiende.ui.components import confirm

        work = self.work
        if work is None or not await confirm(
                t("workspace.confirm_close", name=work.conversation.contact.name or t("workspace.unnamed")),
                confirm_label=t("workspace.close"), danger=False):
            return False

        async def act_close(acting: Any, conversation: Any) -> None:
            await conversation_service.close(acting.session, engine(), acting.caller, conversation,
                                             typification_id=typification_id, fields=values)

        form = self.panel.form.errors if self.panel and self.panel.form else None
        if not await self._act_on_current(act_close, form):
            return False
        ui.notify(t("workspace.closed"), type="positive")
        await self._after_leaving()
        return True

    async def _after_leaving(self) -> None:
        """The open conversation left the agent: on to the next one, or nothing open."""
        gone = self.selected
        self.composer = None  # its draft went with the conversation
        self.drafts.pop(gone or 0, None)
        await self.reload_inbox()
        following = next((i.conversation_id for i in self.items if i.conversation_id != gone), None)
        if following is not None:
            await self.open(following)
        else:
            self.selected, self.work, self.panel = None, None, None
            self._nothing_open()
            self._render_inbox()

    # --- live updates ------------------------------------------------------------------------------------
    async def _on_events(self, batch: list[BusEvent]) -> None:
        """The feed hears the events naming this agent and those of the open conversation."""
        for event in batch:
            if isinstance(event, PresenceChanged) and event.membership_id == self.membership_id:
                self._show_presence(Presence(event.presence))
        changes = [e for e in batch if isinstance(e, ConversationEvent) and e.client_id == self.context.client_id]
        if not changes:
            return
        if self.selected is not None and any(e.conversation_id == self.selected for e in changes):
            current = [e for e in changes if e.conversation_id == self.selected]
            echo = all(isinstance(e, MessageSent) and e.message_id in self.rendered for e in current)
            if any(e.kind in LEAVING for e in current):
                await self.refresh_thread()
            elif not echo:
                await self.refresh_thread()
        if apply_messages(self.items, changes, self.membership_id, self.selected):
            self._render_inbox()  # every change was a message on a row it shows: no re-read
        else:
            await self.reload_inbox()
        fresh = [e for e in changes if (isinstance(e, MessageReceived) and e.conversation_id != self.selected)
                 or (isinstance(e, ConversationAssigned) and e.membership_id == self.membership_id)]
        if fresh:
            ui.run_javascript("atiende.beep()")

    # --- keyboard ----------------------------------------------------------------------------------------
    async def _on_key(self, event: events.KeyEventArguments) -> None:
        if not event.action.keydown or event.action.repeat:
            return
        key, mods = event.key, event.modifiers
        if mods.alt and not mods.ctrl and (key.arrow_down or key.arrow_up):
            await self.step(1 if key.arrow_down else -1)
        elif mods.alt and mods.shift and not mods.ctrl and key.name.lower() == "f":
            if self.panel is not None and self.work is not None and self.work.mine:
                await self.panel._close()  # noqa: SLF001  (the same path as the button)

    async def step(self, offset: int) -> None:
        shown = [i.conversation_id for i in self.items if i.matches(self.query)]
        if not shown:
            return
        if self.selected in shown:
            index = (shown.index(self.selected) + offset) % len(shown)
        else:
            index = 0 if offset > 0 else len(shown) - 1
        await self.open(shown[index])

