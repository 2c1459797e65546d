"""Widgets every console screen shares: headings, empty states, confirmations, tables, dialogs."""

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from nicegui import ui
from nicegui.element import Element

from atiende.i18n import t

E = TypeVar("E", bound=Element)
Handler = Callable[[], Awaitable[None] | None]


def prop(element: E, key: str, value: str) -> E:
    """Sets one prop as a value. Anything built from stored data (names, labels, shortcuts) goes in
    this way, never inside a ``.props("...")`` string, whose parser a quote in the data would break
    out of (an ``onmouseover=``, or a ``:prop`` that NiceGUI evaluates as JavaScript)."""
    element.props[key] = value
    return element


def testid(element: E, value: str) -> E:
    """A stable ``data-testid`` for browser tests."""
    return prop(element, "data-testid", value)


def page_heading(title: str, *, subtitle: str | None = None, action: str | None = None,
                 on_action: Handler | None = None, action_testid: str = "create") -> ui.button | None:
    """The screen title with its main action (Crear) at the top right."""
    button = None
    with ui.row().classes("w-full items-center justify-between gap-2"):
        with ui.column().classes("gap-0"):
            ui.label(title).classes("text-h5").props('role="heading" aria-level="1"')
            if subtitle:
                ui.label(subtitle).classes("text-body2 text-grey-7")
        if action and on_action:
            button = testid(ui.button(action, icon="add", on_click=on_action).props("unelevated no-caps"), action_testid)
    return button


def empty_state(message: str, *, action: str | None = None, href: str | None = None,
                on_click: Handler | None = None, icon: str = "inbox") -> None:
    """What to create first, with a link or button that does it ("Aún no tienes horarios. Crear horario")."""
    with ui.card().classes("w-full items-center q-pa-lg").props('flat bordered data-testid="empty-state"'):
        ui.icon(icon, size="2.5rem", color="grey-6")
        ui.label(message).classes("text-body1 text-grey-8 text-center")
        if action and href:
            ui.link(action, href).classes("text-primary text-weight-medium")
        elif action and on_click:
            ui.button(action, on_click=on_click).props("flat color=primary no-caps")


async def confirm(message: str, *, confirm_label: str | None = None, danger: bool = True) -> bool:
    """Asks before something that cannot be undone; True when confirmed."""
    with ui.dialog() as dialog, ui.card().classes("q-pa-md").props('data-testid="confirm-dialog"'):
        ui.label(message).classes("text-body1")
        with ui.row().classes("w-full justify-end gap-2"):
            ui.button(t("common.cancel"), on_click=lambda: dialog.submit(False)).props("flat no-caps")
            testid(ui.button(confirm_label or t("common.delete"), on_click=lambda: dialog.submit(True))
                   .props(f"unelevated no-caps color={'negative' if danger else 'primary'}"), "confirm-yes")
    result = await dialog
    dialog.delete()
    return bool(result)


@contextmanager
def form_dialog(title: str, *, testid_value: str = "form-dialog",
                width: str = "min(640px, 96vw)") -> Iterator[tuple[ui.dialog, ui.column, ui.row]]:
    """A modal with a title, a scrolling body column and a footer row (Cancelar / Guardar) that
    stays in view."""
    with ui.dialog().props("persistent") as dialog, \
            testid(ui.card().style(f"width: {width}; max-width: 96vw; max-height: 94vh")
                   .classes("q-pa-none no-wrap gap-0"), testid_value):
        with ui.row().classes("w-full items-center justify-between q-px-md q-py-sm no-wrap border-b border-gray-200"):
            ui.label(title).classes("text-h6").props('role="heading" aria-level="2"')
            ui.button(icon="close", on_click=dialog.close).props(f'flat round dense aria-label="{t("common.close")}"')
        body = ui.column().classes("w-full q-pa-md gap-3 overflow-y-auto min-h-0 flex-1 no-wrap")
        footer = ui.row().classes("w-full justify-end items-center gap-2 q-px-md q-py-sm border-t border-gray-200")
        with footer:
            ui.button(t("common.cancel"), on_click=dialog.close).props('flat no-caps data-testid="cancel"')
        yield dialog, body, footer


def save_button(on_click: Handler, *, label: str | None = None) -> ui.button:
    return testid(ui.button(label or t("common.save"), icon="save", on_click=on_click).props("unelevated no-caps"),
                  "save")


def active_chip(active: bool) -> ui.chip:
    chip = ui.chip(t("common.active") if active else t("common.inactive"),
                   color="positive" if active else "grey-7", text_color="white" if active else None)
    return chip.props("dense square" + ("" if active else " outline"))


@contextmanager
def markup_table(headers: list[str], *, testid_value: str = "table") -> Iterator[Element]:
    """A plain, keyboard-friendly table; yields the ``tbody`` to add rows to with ``table_row``."""
    with testid(ui.element("q-markup-table").props("flat bordered wrap-cells"), testid_value).classes("w-full"):
        with ui.element("thead"), ui.element("tr"):
            for header in headers:
                with ui.element("th").classes("text-left"):
                    ui.label(header)
        with ui.element("tbody") as body:
            yield body


def icon_button(icon: str, label: str, handler: Handler, tid: str) -> ui.button:
    """A round icon button whose label is its tooltip and its accessible name."""
    button = prop(ui.button(icon=icon, on_click=handler).props("flat round dense"), "aria-label", label)
    button.tooltip(label)
    return testid(button, tid)


def row_actions(*actions: tuple[str, str, Handler, str]) -> None:
    """The icon buttons (icon, label, handler, testid) at the end of a table row."""
    with ui.row().classes("gap-0 no-wrap justify-end"):
        for icon, label, handler, tid in actions:
            icon_button(icon, label, handler, tid)


def field_error_label() -> ui.label:
    """A spot for an error next to an input that has no error slot of its own (switches, lists)."""
    label = ui.label().classes("text-negative text-caption").props('role="alert"')
    label.set_visibility(False)
    return label


def help_text(text: str) -> ui.label:
    return ui.label(text).classes("text-caption text-grey-7")
