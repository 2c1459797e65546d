"""Supervisión (``/supervisor``): the live board of each campaign — the queue with waiting times,
the agents with presence, time in state and load, the conversations in progress, and whether the
campaign is inside its hours — with the supervisor's actions: change an agent's presence,
transfer or close a conversation, *transferencia masiva*, and read any conversation of the client.
Every action goes through the engine's services; the board follows the event bus."""

import asyncio
import functools
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from nicegui import ui
from pydantic import ValidationError

from atiende import realtime
from atiende.auth.models import Presence
from atiende.bus import BusEvent
from atiende.conversations.models import ConversationStatus
from atiende.conversations.service import conversation_service
from atiende.conversations.staffing import staffing_service
from atiende.conversations.supervision import CampaignBoard, CampaignSummary, supervision_service
from atiende.conversations.workview import assign_targets, transfer_targets, work_view
from atiende.errors import AtiendeError
from atiende.i18n import t, tn
from atiende.reports.sla_live import board_marks
from atiende.ui.components import page_heading, prop, testid
from atiende.ui.context import PageContext, act
from atiende.ui.console.staffing import open_campaign_agents
from atiende.ui.layout import console_page
from atiende.ui.runtime import runtime
from atiende.ui.supervisor import board, reader, small_screens
from atiende.ui.supervisor.canned_admin import CannedReplies
from atiende.ui.workspace import assets, errors
from atiende.ui.workspace.fields_form import FieldsForm
from atiende.ui.workspace.live import LiveFeed, engine
from atiende.ui.workspace.dialogs import choose_agent

MIN_REFRESH_SECONDS = 0.3  # a burst of events redraws the board once
UNSHOWN = frozenset({"message.status"})  # delivery reports: nothing on the board changes, no re-read
Method = TypeVar("Method", bound=Callable[..., Awaitable[Any]])


def rooted(method: Method) -> Method:
    """Run a board action inside the page's root column: the button that started it is redrawn
    (deleted) by the refresh, and dialogs and notifications need a living parent."""

    @functools.wraps(method)
    async def wrapper(self: "Supervision", *args: Any, **kwargs: Any) -> Any:
        with self.root:
            return await method(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


@console_page("supervisor")
async def supervisor_page(context: PageContext) -> None:
    await Supervision(context).mount()


class Supervision:
    def __init__(self, context: PageContext) -> None:
        self.context = context
        self.summaries: list[CampaignSummary] = []
        self.board: CampaignBoard | None = None
        self.sla: dict[int, Any] = {}
        self.selected: int | None = None
        self.search_text = ""
        self.search_status: ConversationStatus | None = None
        self.search_run: Callable[[], Awaitable[None]] | None = None
        self._reading = asyncio.Lock()

    async def mount(self) -> None:
        assets.install(runtime().clock.now())
        small_screens.install()
        page_heading(t("supervisor.title"), subtitle=t("supervisor.subtitle"))
        with ui.tabs().classes("w-full").props("align=left no-caps dense") as tabs:
            board_tab = testid(ui.tab("board", label=t("supervisor.tab.board"), icon="dashboard"), "tab-board")
            search_tab = testid(ui.tab("search", label=t("supervisor.tab.search"), icon="search"), "tab-search")
            canned_tab = testid(ui.tab("canned", label=t("supervisor.tab.canned"), icon="quickreply"), "tab-canned")
        with ui.tab_panels(tabs, value=board_tab).classes("w-full bg-transparent"):
            with ui.tab_panel(board_tab).classes("q-pa-none gap-3"):
                self.root = ui.column().classes("w-full gap-3")
                with self.root:
                    self.cards = ui.element("div").classes("w-full")
                    self.board_area = ui.column().classes("w-full gap-3").props('data-testid="board"')
            with ui.tab_panel(search_tab).classes("q-pa-none gap-3"):
                self._search_panel()
            with ui.tab_panel(canned_tab).classes("q-pa-none gap-3"):
                self.canned = CannedReplies(self.context)
        self.actions = board.BoardActions(choose_campaign=self.choose, read=self.read, set_presence=self.set_presence,
                                          mass_transfer=self.mass_transfer, transfer=self.transfer, close=self.close,
                                          staff=self.staff, take_over=self.take_over, assign=self.assign)
        wanted = self.context.query.get("campaign", "")
        self.selected = int(wanted) if wanted.isdigit() and len(wanted) < 10 else None
        LiveFeed([realtime.client(self.context.client_id)], self._on_events,  # before the first read
                 wants=lambda event: event.kind not in UNSHOWN)
        await self.refresh()
        await self.canned.load()

    # --- the board -----------------------------------------------------------------------------------
    async def refresh(self) -> None:
        async with self._reading:  # one read at a time: an older read never draws over a newer one
            await self._read_and_render()

    async def _read_and_render(self) -> None:
        async with act() as acting:
            now = acting.clock.now()
            self.summaries = await supervision_service.summaries(acting.session, acting.caller,
                                                                 self.context.client_id, now)
            ids = [s.campaign_id for s in self.summaries]
            if self.selected not in ids:
                self.selected = ids[0] if ids else None
            self.board = None if self.selected is None else await supervision_service.board(
                acting.session, acting.caller, self.selected, now)
            self.sla = {} if self.board is None else await board_marks(acting.session, self.board, now)
        self._render(now)

    def _render(self, now: Any) -> None:
        self.cards.clear()
        self.board_area.clear()
        with self.cards:
            if not self.summaries:
                ui.label(t("supervisor.no_campaigns")).classes("text-body1 text-grey-7 q-pa-md") \
                    .props('data-testid="no-campaigns"')
                return
            board.campaign_cards(self.summaries, self.selected, self.actions)
        if self.board is not None:
            with self.board_area:
                board.board(self.board, now, self.actions, sla=self.sla)

    @rooted
    async def choose(self, campaign_id: int) -> None:
        self.selected = campaign_id
        await self.refresh()

    async def _on_events(self, _batch: list[BusEvent]) -> None:
        with self.root:
            await self.refresh()
        await asyncio.sleep(MIN_REFRESH_SECONDS)

    # --- actions ---------------------------------------------------------------------------------------
    async def _run(self, work: Any, success: str | None = None) -> bool:
        try:
            async with act() as acting:
                await work(acting)
        except (AtiendeError, ValidationError) as exc:
            errors.show(exc)
            return False
        if success:
            ui.notify(success, type="positive")
        await self.refresh()
        return True

    @rooted
    async def set_presence(self, membership_id: int, value: str | None) -> None:
        if value is None:
            return

        async def work(acting: Any) -> None:
            await staffing_service.set_presence_of(acting.session, engine(), acting.caller, membership_id,
                                                   Presence(value))

        await self._run(work, t("supervisor.presence_changed"))

    @rooted
    async def mass_transfer(self, membership_id: int, name: str) -> None:
        if self.board is None:
            return
        campaign_id = self.board.summary.campaign_id
        options = [(a.membership_id, a.name, a.load, a.capacity) for a in self.board.agents
                   if a.membership_id != membership_id and a.active and a.presence == Presence.online]
        chosen = await choose_agent(t("supervisor.mass_transfer_title", name=name), options,
                                    queue_label=t("supervisor.back_to_queue"))
        if chosen is None:
            return
        result: dict[str, Any] = {}

        async def work(acting: Any) -> None:
            campaign = await staffing_service.get_campaign(acting.session, acting.caller, campaign_id)
            done = await staffing_service.mass_transfer(acting.session, engine(), acting.caller, campaign,
                                                        from_membership_id=membership_id,
                                                        to_membership_id=chosen or None)
            result.update(transferred=len(done.transferred), queued=len(done.queued))

        if await self._run(work):
            ui.notify(t("supervisor.mass_transfer_done",
                        transferred=tn("supervisor.transferred_count", result.get("transferred", 0)),
                        queued=tn("supervisor.queued_count", result.get("queued", 0))), type="positive")

    @rooted
    async def staff(self, campaign_id: int) -> None:
        await open_campaign_agents(campaign_id, on_saved=self.refresh)

    @rooted
    async def transfer(self, conversation_id: int) -> None:
        async with act() as acting:
            targets = await transfer_targets(acting.session, acting.caller, conversation_id)
        chosen = await choose_agent(t("workspace.transfer_title"),
                                    [(x.membership_id, x.name, x.load, x.capacity) for x in targets])
        if chosen is None:
            return

        async def work(acting: Any) -> None:
            conversation = await conversation_service.get(acting.session, acting.caller, conversation_id)
            await conversation_service.transfer(acting.session, engine(), acting.caller, conversation,
                                                to_membership_id=chosen)

        await self._run(work, t("supervisor.transferred"))

    @rooted
    async def assign(self, conversation_id: int) -> None:
        """*Asignar a…* a queued conversation (from the board's queue or the search): the campaign's
        agents who can take it now are offered; the engine checks again (staffed, online, with room)
        when it assigns."""
        async with act() as acting:
            targets = await assign_targets(acting.session, acting.caller, conversation_id)
        options = [(x.membership_id, x.name, x.load, x.capacity) for x in targets]
        chosen = await choose_agent(t("assign.title"), options, confirm_label=t("assign.confirm"))
        if chosen is None:
            return

        async def work(acting: Any) -> None:
            conversation = await conversation_service.get(acting.session, acting.caller, conversation_id)
            await conversation_service.assign(acting.session, engine(), acting.caller, conversation,
                                              to_membership_id=chosen)

        if await self._run(work, t("assign.done")) and self.search_run is not None:
            await self.search_run()

    @rooted
    async def take_over(self, conversation_id: int) -> None:
        async def work(acting: Any) -> None:
            conversation = await conversation_service.get(acting.session, acting.caller, conversation_id)
            await conversation_service.take_over_from_bot(acting.session, engine(), acting.caller, conversation)

        await self._run(work, t("supervisor.taken_over"))

    @rooted
    async def close(self, conversation_id: int) -> None:
        async with act() as acting:
            work_data = await work_view(acting.session, acting.caller, conversation_id, now=acting.clock.now())
        with ui.dialog() as dialog, ui.card().classes("q-pa-md gap-3").style("width: min(460px, 94vw)") \
                .props('data-testid="close-dialog"'):
            ui.label(t("supervisor.close_title", name=work_data.conversation.contact.name or "")) \
                .classes("text-h6").props('role="heading" aria-level="2"')
            form = FieldsForm(work_data.fields) if work_data.fields else None
            hint = t("workspace.typification_default", name=work_data.default_typification)
            typification = testid(ui.select({c.id: c.label for c in work_data.typifications},
                                            label=t("workspace.typification"), clearable=True)
                                  .props("outlined dense").classes("w-full"), "close-typification")
            prop(typification, "hint", hint)

            async def submit() -> None:
                async def work(acting: Any) -> None:
                    conversation = await conversation_service.get(acting.session, acting.caller, conversation_id)
                    await conversation_service.close(acting.session, engine(), acting.caller, conversation,
                                                     typification_id=typification.value,
                                                     fields=form.values() if form else {})

                try:
                    async with act() as acting:
                        await work(acting)
                except (AtiendeError, ValidationError) as exc:
                    errors.show(exc, form.errors if form else None)
                    return
                dialog.close()
                with self.root:
                    ui.notify(t("workspace.closed"), type="positive")
                    await self.refresh()

            with ui.row().classes("w-full justify-end gap-2"):
                ui.button(t("common.cancel"), on_click=dialog.close).props("flat no-caps")
                testid(ui.button(t("workspace.close"), on_click=submit).props("unelevated no-caps color=primary"),
                       "confirm-close")
        dialog.open()

    @rooted
    async def read(self, conversation_id: int) -> None:
        try:
            async with act() as acting:
                found = await work_view(acting.session, acting.caller, conversation_id, now=acting.clock.now())
        except AtiendeError as exc:
            errors.show(exc)
            return
        reader.show_conversation(found, runtime().clock.now())

    # --- search ------------------------------------------------------------------------------------------
    def _search_panel(self) -> None:
        with ui.row().classes("w-full items-center gap-2"):
            text = testid(ui.input(placeholder=t("supervisor.search_placeholder"))
                          .props("outlined dense clearable").classes("flex-grow"), "search-input")
            status = ui.select({"": t("supervisor.status.all"),
                                **{s.value: t(f"supervisor.status.{s.value}") for s in reader.STATUS_FILTERS if s}},
                               value="", label=t("supervisor.state")).props("outlined dense").style("min-width: 180px")
            button = testid(ui.button(t("supervisor.search"), icon="search").props("unelevated no-caps"),
                            "search-button")
        self.results = ui.column().classes("w-full")

        async def run() -> None:
            self.search_text = text.value or ""
            self.search_status = ConversationStatus(status.value) if status.value else None
            async with act() as acting:
                found = await supervision_service.search(acting.session, acting.caller, self.context.client_id,
                                                         self.search_text, status=self.search_status)
            self.results.clear()
            with self.results:
                reader.search_results(found, runtime().clock.now(), self.read, self.assign)

        self.search_run = run
        button.on_click(run)
        text.on("keydown.enter", run)
