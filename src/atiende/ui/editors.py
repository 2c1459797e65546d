"""An ordered list of rows the admin adds to, removes from and reorders (funnel stages, survey
questions, a campaign's fields, schedule bands). Rows are plain dicts the row drawer binds to."""

from collections.abc import Callable
from typing import Any

from nicegui import ui

from atiende.i18n import t
from atiende.ui.components import testid
from atiende.ui.errors import FormErrors

Row = dict[str, Any]
RowDrawer = Callable[[Row, int], None]


class ListEditor:
    def __init__(self, rows: list[Row], draw_row: RowDrawer, *, new_row: Callable[[], Row], add_label: str,
                 key: str, errors: FormErrors | None = None, numbered: bool = True,
                 reorder: bool = True, on_change: Callable[[], None] | None = None, max_rows: int = 100,
                 error_field: str | None = None) -> None:
        self.rows = rows
        self.draw_row = draw_row
        self.new_row = new_row
        self.add_label = add_label
        self.key = key
        self.errors = errors
        self.numbered = numbered
        self.reorder = reorder
        self.on_change = on_change
        self.max_rows = max_rows
        self.error_field = error_field or key
        self.list_error = ui.label()  # replaced in render; keeps the attribute typed
        self.render()

    @ui.refreshable_method
    def render(self) -> None:
        with ui.column().classes("w-full gap-2"):
            for index, row in enumerate(self.rows):
                with testid(ui.row().classes("w-full items-start no-wrap gap-2"), f"{self.key}-row-{index}"):
                    if self.numbered:
                        ui.label(f"{index + 1}.").classes("text-grey-7 q-pt-md w-6 text-right")
                    with ui.row().classes("grow items-start gap-2 no-wrap min-w-0"):
                        self.draw_row(row, index)
                    self._buttons(index)
            self.list_error = ui.label().classes("text-negative text-caption").props('role="alert"')
            self.list_error.set_visibility(False)
            if self.errors is not None:
                self.errors.bind(self.error_field, self.list_error)
            if len(self.rows) < self.max_rows:
                testid(ui.button(self.add_label, icon="add", on_click=self.add).props("flat no-caps color=primary"),
                       f"{self.key}-add")

    def _buttons(self, index: int) -> None:
        with ui.row().classes("gap-0 no-wrap q-pt-sm"):
            if self.reorder:
                up = ui.button(icon="arrow_upward", on_click=lambda i=index: self.move(i, -1)) \
                    .props(f'flat round dense aria-label="{t("editor.up")}" data-testid="{self.key}-up-{index}"')
                up.set_enabled(index > 0)
                down = ui.button(icon="arrow_downward", on_click=lambda i=index: self.move(i, 1)) \
                    .props(f'flat round dense aria-label="{t("editor.down")}" data-testid="{self.key}-down-{index}"')
                down.set_enabled(index < len(self.rows) - 1)
            ui.button(icon="close", on_click=lambda i=index: self.remove(i)) \
                .props(f'flat round dense color=negative aria-label="{t("editor.remove")}" '
                       f'data-testid="{self.key}-remove-{index}"')

    def add(self) -> None:
        self.rows.append(self.new_row())
        self._changed()

    def remove(self, index: int) -> None:
        del self.rows[index]
        self._changed()

    def move(self, index: int, step: int) -> None:
        other = index + step
        if 0 <= other < len(self.rows):
            self.rows[index], self.rows[other] = self.rows[other], self.rows[index]
            self._changed()

    def _changed(self) -> None:
        self.render.refresh()
        if self.on_change is not None:
            self.on_change()
