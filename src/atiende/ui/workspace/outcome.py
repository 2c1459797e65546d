"""Where a conversation ended up, read-only: its typification, funnel stage, dynamic fields and
the customer's survey answers. The supervisor's reader shows it, and so does the workspace for a
conversation that is no longer the agent's to work (closed, in its survey, transferred)."""

from nicegui import ui

from atiende.conversations.workview import WorkView
from atiende.i18n import t


def outcome(work: WorkView) -> None:
    """Where the conversation ended up: typification, funnel stage, the dynamic fields' values and
    the customer's survey answers (read-only; shown to the supervisor and, after closing, the agent)."""
    facts = [(t("workspace.typification"), work.typification_name, "reader-typification"),
             (t("workspace.stage"), work.stage_name, "reader-stage")]
    with ui.column().classes("w-full gap-1").props('data-testid="reader-outcome"'):
        for label, value, key in facts:
            if value:
                with ui.row().classes("w-full gap-1 no-wrap items-baseline"):
                    ui.label(f"{label}:").classes("text-caption text-grey-7")
                    ui.label(value).classes("text-body2").props(f'data-testid="{key}"')
        if work.fields:
            ui.label(t("workspace.fields")).classes("text-overline text-grey-7")
            for slot in work.fields:
                with ui.row().classes("w-full gap-1 no-wrap items-baseline").props(f'data-testid="reader-field-{slot.key}"'):
                    ui.label(f"{slot.label}:").classes("text-caption text-grey-7")
                    ui.label(field_text(slot.value)).classes("text-body2")
        survey_answers(work)


def field_text(value: object) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return t("workspace.yes") if value else t("workspace.no")
    return str(value)


def survey_answers(work: WorkView) -> None:
    """The customer's answers to the survey bot, in question order."""
    if not work.view.survey:
        return
    ui.label(t("firstday.survey_answers")).classes("text-overline text-grey-7")
    with ui.column().classes("w-full gap-1").props('data-testid="survey-answers"'):
        for answer in work.view.survey:
            with ui.column().classes("w-full gap-0"):
                ui.label(answer.question).classes("text-caption text-grey-7")
                text = answer.answer or "—"
                ui.label(text if answer.valid else t("firstday.survey_invalid", answer=text)).classes("text-body2")
