"""Configuración → Bots de encuesta: questions sent in order when a conversation ends."""

from typing import Any

from nicegui import ui

from atiende.catalog.models import QuestionKind, SurveyBot
from atiende.catalog.schemas import SurveyBotCreate, SurveyBotUpdate
from atiende.catalog.service import survey_bot_service
from atiende.i18n import t
from atiende.ui.components import active_chip, form_dialog, help_text, save_button, testid
from atiende.ui.numbers import whole_number
from atiende.ui.console.base import CatalogScreen
from atiende.ui.context import Acting, PageContext
from atiende.ui.data import fetch_all
from atiende.ui.editors import ListEditor
from atiende.ui.errors import FormErrors
from atiende.ui.layout import console_page


class SurveyBotsScreen(CatalogScreen[SurveyBot]):
    key = "survey_bots"
    icon = "poll"

    async def load(self, acting: Acting) -> list[SurveyBot]:
        return await fetch_all(survey_bot_service.list, acting.session, acting.caller,
                               client_id=self.context.client_id)

    def headers(self) -> list[str]:
        return [t("common.name"), t("survey_bots.questions"), t("survey_bots.timeout"), t("common.state")]

    def draw_row(self, item: SurveyBot) -> None:
        with ui.element("td"):
            ui.label(item.name).classes("text-weight-medium")
        with ui.element("td"):
            with ui.column().classes("gap-0"):
                for question in item.questions:
                    ui.label(f"{question.position + 1}. {question.text}").classes("text-grey-8")
        with ui.element("td"):
            ui.label(t("survey_bots.minutes", minutes=item.timeout_minutes))
        with ui.element("td"):
            active_chip(item.active)

    async def delete_item(self, acting: Acting, item: SurveyBot) -> None:
        row = await self.refetch(survey_bot_service, acting, item)
        await survey_bot_service.delete(acting.session, acting.caller, row, clock=acting.clock)

    async def build_form(self, item: SurveyBot | None) -> None:
        errors = FormErrors()
        questions: list[dict[str, Any]] = [{"id": q.id, "kind": q.kind, "text": q.text}
                                           for q in (item.questions if item else [])] \
            or [{"id": None, "kind": QuestionKind.rating, "text": ""}]
        kinds = {k: t(f"question_kind.{k.value}") for k in QuestionKind}
        with form_dialog(t("survey_bots.edit") if item else t("survey_bots.new"),
                         testid_value="survey-bot-dialog", width="min(760px, 96vw)") as (dialog, body, footer):
            with body:
                name = testid(ui.input(t("common.name"), value=item.name if item else "")
                              .props("outlined maxlength=120").classes("w-full"), "survey-bot-name")
                errors.bind("name", name)
                ui.label(t("survey_bots.questions")).classes("text-subtitle2")
                help_text(t("survey_bots.questions_help"))

                def question_row(row: dict[str, Any], index: int) -> None:
                    kind = testid(ui.select(kinds, value=row["kind"], label=t("survey_bots.kind"))
                                  .props("outlined dense").classes("w-40"), f"question-kind-{index}")
                    text = testid(ui.input(t("survey_bots.text"), value=row["text"])
                                  .props("outlined dense maxlength=1000").classes("grow"), f"question-text-{index}")
                    kind.on_value_change(lambda e: row.__setitem__("kind", e.value))
                    text.on_value_change(lambda e: row.__setitem__("text", e.value))
                    errors.bind(f"questions.{index}", text)

                ListEditor(questions, question_row, new_row=lambda: {"id": None, "kind": QuestionKind.text, "text": ""},
                           add_label=t("survey_bots.add_question"), key="questions", errors=errors, max_rows=20)
                closing = testid(ui.textarea(t("survey_bots.closing_message"),
                                             value=item.closing_message if item else "")
                                 .props("outlined autogrow maxlength=4096").classes("w-full"), "survey-bot-closing")
                timeout = testid(whole_number(t("survey_bots.timeout"), value=item.timeout_minutes if item else 30,
                                              low=1, high=10080)
                                 .props("outlined suffix=min").classes("w-56"), "survey-bot-timeout")
                help_text(t("survey_bots.timeout_help"))
                active = testid(ui.switch(t("common.active"), value=item.active if item else True),
                                "survey-bot-active")
                errors.bind("closing_message", closing)
                errors.bind("timeout_minutes", timeout)
                errors.add_banner()

            async def submit() -> None:
                payload = [{"id": q["id"], "kind": q["kind"], "text": q["text"] or ""} for q in questions]
                minutes = int(timeout.value) if isinstance(timeout.value, int | float) else timeout.value

                async def work(acting: Acting) -> None:
                    if item is None:
                        data = SurveyBotCreate(client_id=self.context.client_id, name=name.value or "",
                                               questions=payload, closing_message=closing.value or "",
                                               timeout_minutes=minutes, active=active.value)
                        await survey_bot_service.create(acting.session, acting.caller, data, clock=acting.clock)
                        return
                    row = await self.refetch(survey_bot_service, acting, item)
                    changes = SurveyBotUpdate(name=name.value or "", questions=payload,
                                              closing_message=closing.value or "", timeout_minutes=minutes,
                                              active=active.value)
                    await survey_bot_service.update(acting.session, acting.caller, row, changes, clock=acting.clock)

                if await self.save(errors, work):
                    dialog.close()

            with footer:
                save_button(submit)
        dialog.open()


@console_page("survey_bots")
async def survey_bots_page(context: PageContext) -> None:
    await SurveyBotsScreen(context).mount()
