"""A bot's knowledge base (entries, import/export as CSV or XLSX), the *Probar bot* panel, which
answers like the live bot and shows why (the matched entry, its score and the runner-up), and the
questions the bot did not understand, each turned into an entry or a phrasing in one step."""

from typing import Any

from nicegui import events, ui
from pydantic import ValidationError

from atiende.bots import transfer, unanswered
from atiende.bots.models import AttentionBot, KnowledgeEntry, UnansweredQuestion
from atiende.bots.schemas import EntryCreate, EntryUpdate, LearnIn, TryOut
from atiende.bots.service import attention_bot_service
from atiende.errors import AtiendeError, NotFound
from atiende.i18n import t, tn
from atiende.ui.components import (
    active_chip, confirm, empty_state, form_dialog, help_text, markup_table, page_heading, row_actions, save_button,
    testid,
)
from atiende.kit.pagination import PageParams
from atiende.ui.context import Acting, PageContext, act
from atiende.ui.errors import FormErrors, describe


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class KnowledgeView:
    def __init__(self, context: PageContext, bot_id: int, *, back: str) -> None:
        self.context = context
        self.bot_id = bot_id
        self.back = back
        self.bot: AttentionBot | None = None
        self.entries: list[KnowledgeEntry] = []
        self.unanswered: list[UnansweredQuestion] = []

    async def _bot(self, acting: Acting) -> AttentionBot:
        bot = await attention_bot_service.get(acting.session, acting.caller, self.bot_id)
        if bot is None or bot.client_id != self.context.client_id:
            raise NotFound(t("error.gone"), field="bot")
        return bot

    async def mount(self) -> None:
        try:
            async with act() as acting:
                self.bot = await self._bot(acting)
                self.entries = await attention_bot_service.all_entries(acting.session, self.bot)
                self.unanswered = await self._unanswered(acting)
        except NotFound:
            empty_state(t("attention_bots.not_found"), action=t("attention_bots.back"), href=self.back)
            return
        page_heading(self.bot.name, subtitle=t("attention_bots.knowledge_subtitle"),
                     action=t("attention_bots.new_entry"), on_action=lambda: self.open_form(None))
        with ui.row().classes("w-full items-center gap-2 wrap"):
            testid(ui.button(t("attention_bots.back"), icon="arrow_back", on_click=lambda: ui.navigate.to(self.back))
                   .props("flat no-caps"), "knowledge-back")
            upload = ui.upload(auto_upload=True, on_upload=self.imported, max_file_size=transfer.MAX_BYTES) \
                .props('accept=".csv,.xlsx" data-testid="knowledge-import"').classes("hidden")
            testid(ui.button(t("attention_bots.import"), icon="upload", on_click=lambda: upload.run_method("pickFiles"))
                   .props("outline no-caps"), "knowledge-import-button")
            testid(ui.button(t("attention_bots.export_csv"), icon="download", on_click=lambda: self.export("csv"))
                   .props("outline no-caps"), "knowledge-export-csv")
            testid(ui.button(t("attention_bots.export_xlsx"), icon="download", on_click=lambda: self.export("xlsx"))
                   .props("outline no-caps"), "knowledge-export-xlsx")
        help_text(t("attention_bots.import_help"))
        self.host = ui.element("div")
        with ui.row().classes("w-full items-start gap-4 wrap"):
            with ui.column().classes("gap-2").style("flex: 2 1 520px; min-width: 0"):
                self.table()
                with ui.card().classes("w-full gap-2").props('data-testid="unanswered"'):
                    ui.label(t("attention_bots.unanswered")).classes("text-subtitle1 text-weight-medium")
                    help_text(t("attention_bots.unanswered_help"))
                    self.questions()
            with ui.card().classes("gap-2").style("flex: 1 1 320px").props('data-testid="try-bot"'):
                self.try_panel()

    @ui.refreshable_method
    def table(self) -> None:
        if not self.entries:
            empty_state(t("attention_bots.no_entries"), action=t("attention_bots.new_entry"),
                        on_click=lambda: self.open_form(None), icon="menu_book")
            return
        with markup_table([t("attention_bots.question"), t("common.state"), ""], testid_value="knowledge-table"):
            for entry in self.entries:
                with ui.element("tr").props(f'data-testid="entry-row-{entry.id}"'):
                    with ui.element("td"):
                        ui.label(entry.question).classes("text-weight-medium")
                        details = [entry.category] if entry.category else []
                        if entry.phrasings:
                            details.append(tn("attention_bots.phrasings_count", len(entry.phrasings)))
                        if details:
                            ui.label(" · ".join(details)).classes("text-caption text-grey-7")
                    with ui.element("td"):
                        active_chip(entry.active)
                    with ui.element("td").classes("text-right"):
                        row_actions(("edit", t("common.edit"), lambda e=entry: self.open_form(e), f"edit-{entry.id}"),
                                    ("delete", t("common.delete"), lambda e=entry: self.ask_delete(e),
                                     f"delete-{entry.id}"))

    @ui.refreshable_method
    def questions(self) -> None:
        if not self.unanswered:
            ui.label(t("attention_bots.unanswered_none")).classes("text-caption text-grey-7")
            return
        with markup_table([t("attention_bots.question"), "", ""], testid_value="unanswered-table"):
            for question in self.unanswered:
                with ui.element("tr").props(f'data-testid="unanswered-row-{question.id}"'):
                    with ui.element("td"):
                        ui.label(question.text)
                    with ui.element("td"):
                        ui.badge(tn("attention_bots.unanswered_count", question.count)).props("outline")
                    with ui.element("td").classes("text-right"):
                        row_actions(
                            ("add_circle", t("attention_bots.learn_new"),
                             lambda q=question: self.open_form(None, learning=q), f"learn-new-{question.id}"),
                            ("playlist_add", t("attention_bots.learn_phrasing"),
                             lambda q=question: self.pick_entry(q), f"learn-phrasing-{question.id}"),
                            ("close", t("attention_bots.dismiss"), lambda q=question: self.dismiss(q),
                             f"dismiss-{question.id}"))

    async def _unanswered(self, acting: Acting) -> list[UnansweredQuestion]:
        rows, _ = await unanswered.listing(acting.session, acting.caller, await self._bot(acting),
                                           PageParams(page=1, limit=20))
        return rows

    async def pick_entry(self, question: UnansweredQuestion) -> None:
        """Add the customer's wording as a phrasing of the entry the admin picks."""
        self.host.clear()
        with self.host, form_dialog(t("attention_bots.learn_title", text=question.text[:60]),
                                    testid_value="learn-dialog") as (dialog, body, footer):
            with body:
                pick = testid(ui.select({e.id: e.question for e in self.entries}, label=t("attention_bots.learn_pick"),
                                        with_input=True).props("outlined").classes("w-full"), "learn-entry")

            async def submit() -> None:
                if pick.value is None:
                    return
                try:
                    async with act() as acting:
                        await attention_bot_service.learn(acting.session, acting.caller, await self._bot(acting),
                                                          question.id, LearnIn(entry_id=pick.value),
                                                          clock=acting.clock)
                except (AtiendeError, ValidationError) as exc:
                    ui.notify(" ".join(message for _, message in describe(exc)), type="negative", multi_line=True)
                    return
                ui.notify(t("common.saved"), type="positive")
                dialog.close()
                await self.reload()

            with footer:
                save_button(submit)
        dialog.open()

    async def dismiss(self, question: UnansweredQuestion) -> None:
        async with act() as acting:
            await unanswered.dismiss(acting.session, acting.caller, await self._bot(acting), question.id)
        await self.reload()

    def try_panel(self) -> None:
        ui.label(t("attention_bots.try")).classes("text-subtitle1 text-weight-medium")
        help_text(t("attention_bots.try_help"))
        text = testid(ui.input(t("attention_bots.try_text")).props("outlined dense maxlength=500").classes("w-full"),
                      "try-text")

        async def run() -> None:
            if not (text.value or "").strip():
                return
            async with act() as acting:
                outcome = await attention_bot_service.try_text(acting.session, await self._bot(acting), text.value)
            result.clear()
            with result:
                self.show_try(outcome)

        text.on("keydown.enter", run)
        testid(ui.button(t("attention_bots.try_button"), icon="play_arrow", on_click=run).props("unelevated no-caps"),
               "try-run")
        result = ui.column().classes("w-full gap-1")

    def show_try(self, outcome: TryOut) -> None:
        testid(ui.label(t(f"attention_bots.decision.{outcome.decision}")).classes("text-weight-medium"),
               "try-decision")
        testid(ui.label(outcome.reply).classes("bg-indigo-1 rounded-borders q-pa-sm").style("white-space: pre-wrap"),
               "try-reply")
        for key, candidate in (("best", outcome.best), ("runner_up", outcome.runner_up)):
            if candidate is None:
                continue
            with ui.row().classes("w-full justify-between no-wrap gap-2"):
                ui.label(f"{t('attention_bots.' + key)}: {candidate.question}").classes("text-caption")
                testid(ui.badge(f"{candidate.score:.0f}").props("outline"), f"try-{key}-score")

    async def reload(self) -> None:
        async with act() as acting:
            self.entries = await attention_bot_service.all_entries(acting.session, await self._bot(acting))
            self.unanswered = await self._unanswered(acting)
        self.table.refresh()
        self.questions.refresh()

    async def export(self, kind: str) -> None:
        async with act() as acting:
            bot = await self._bot(acting)
            entries = await attention_bot_service.all_entries(acting.session, bot)
        content = transfer.to_xlsx(entries) if kind == "xlsx" else transfer.to_csv(entries)
        ui.download.content(content, f"base-conocimiento-{bot.id}.{kind}")

    async def imported(self, event: events.UploadEventArguments) -> None:
        try:
            rows = transfer.parse(event.file.name, await event.file.read())
            async with act() as acting:
                created, updated = await attention_bot_service.import_entries(
                    acting.session, acting.caller, await self._bot(acting), rows, clock=acting.clock)
        except (AtiendeError, ValidationError) as exc:
            ui.notify(" ".join(message for _, message in describe(exc)), type="negative", multi_line=True)
            return
        ui.notify(t("attention_bots.imported", created=created, updated=updated), type="positive")
        await self.reload()

    async def ask_delete(self, entry: KnowledgeEntry) -> None:
        if not await confirm(t("common.confirm_delete", name=entry.question)):
            return
        try:
            async with act() as acting:
                bot = await self._bot(acting)
                row = await attention_bot_service.entry(acting.session, bot, entry.id)
                await attention_bot_service.delete_entry(acting.session, acting.caller, bot, row, clock=acting.clock)
        except (AtiendeError, ValidationError) as exc:
            ui.notify(" ".join(message for _, message in describe(exc)), type="negative", multi_line=True)
            return
        await self.reload()

    async def open_form(self, entry: KnowledgeEntry | None, *, learning: UnansweredQuestion | None = None) -> None:
        self.host.clear()
        with self.host:
            self.build_form(entry, learning=learning)

    def build_form(self, entry: KnowledgeEntry | None, *, learning: UnansweredQuestion | None = None) -> None:
        """The entry's form; from an unanswered question, a new entry asked the customer's way,
        and saving it takes the question off the list."""
        errors = FormErrors()
        with form_dialog(t("attention_bots.edit_entry") if entry else t("attention_bots.new_entry"),
                         testid_value="entry-dialog", width="min(760px, 96vw)") as (dialog, body, footer):
            with body:
                fields: dict[str, Any] = {}

                def field(key: str, element: Any) -> Any:
                    fields[key] = testid(element, f"entry-{key}")
                    errors.bind(key, fields[key])
                    return fields[key]

                field("question", ui.input(t("attention_bots.question"),
                                           value=entry.question if entry else (learning.text[:300] if learning else ""))
                      .props("outlined maxlength=300").classes("w-full"))
                field("phrasings", ui.textarea(t("attention_bots.phrasings"),
                                               value="\n".join(entry.phrasings) if entry else "")
                      .props("outlined autogrow").classes("w-full"))
                help_text(t("attention_bots.phrasings_help"))
                field("answer", ui.textarea(t("attention_bots.answer"), value=entry.answer if entry else "")
                      .props("outlined autogrow maxlength=4096").classes("w-full"))
                field("link", ui.input(t("attention_bots.link"), value=(entry.link or "") if entry else "")
                      .props("outlined maxlength=500").classes("w-full"))
                field("buttons", ui.textarea(t("attention_bots.buttons"),
                                             value="\n".join(entry.buttons) if entry else "")
                      .props("outlined autogrow").classes("w-full"))
                help_text(t("attention_bots.buttons_help"))
                field("category", ui.input(t("attention_bots.category"), value=entry.category if entry else "")
                      .props("outlined maxlength=120").classes("w-64"))
                active = testid(ui.switch(t("common.active"), value=entry.active if entry else True), "entry-active")
                errors.add_banner()

            async def submit() -> None:
                values = {"question": fields["question"].value or "", "phrasings": _lines(fields["phrasings"].value),
                          "answer": fields["answer"].value or "", "link": (fields["link"].value or "").strip() or None,
                          "buttons": _lines(fields["buttons"].value), "category": fields["category"].value or "",
                          "active": bool(active.value)}
                errors.clear()
                try:
                    async with act() as acting:
                        bot = await self._bot(acting)
                        if entry is None:
                            await attention_bot_service.add_entry(acting.session, acting.caller, bot,
                                                                  EntryCreate(**values), clock=acting.clock)
                            if learning is not None:
                                await unanswered.dismiss(acting.session, acting.caller, bot, learning.id)
                        else:
                            row = await attention_bot_service.entry(acting.session, bot, entry.id)
                            await attention_bot_service.update_entry(acting.session, acting.caller, bot, row,
                                                                     EntryUpdate(**values), clock=acting.clock)
                except (AtiendeError, ValidationError) as exc:
                    errors.show(exc)
                    return
                ui.notify(t("common.saved"), type="positive")
                dialog.close()
                await self.reload()

            with footer:
                save_button(submit)
        dialog.open()
