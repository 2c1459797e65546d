"""Dialogs the workspace and the supervisor console share."""

from nicegui import ui

from atiende.i18n import t
from atiende.ui.components import testid


async def choose_agent(title: str, options: list[tuple[int, str, int, int]], *,
                       queue_label: str | None = None, confirm_label: str | None = None) -> int | None:
    """Asks for an agent (id, name, load, capacity); with ``queue_label`` "back to the queue" is an
    option too (answered as 0). None when cancelled."""
    with ui.dialog() as dialog, ui.card().classes("q-pa-md gap-3").style("min-width: min(420px, 94vw)") \
            .props('data-testid="choose-agent"'):
        ui.label(title).classes("text-h6").props('role="heading" aria-level="2"')
        choices: dict[int, str] = {}
        if queue_label:
            choices[0] = queue_label
        choices.update({mid: t("workspace.agent_option", name=name, load=load, capacity=capacity)
                        for mid, name, load, capacity in options})
        if not choices:
            ui.label(t("workspace.no_targets")).classes("text-body2 text-grey-8").props('data-testid="no-targets"')
            radio = None
        else:
            radio = testid(ui.radio(choices).props("dense"), "agent-options")
        with ui.row().classes("w-full justify-end gap-2"):
            ui.button(t("common.cancel"), on_click=lambda: dialog.submit(None)).props("flat no-caps")
            if radio is not None:
                confirm_button = testid(ui.button(confirm_label or t("workspace.transfer"),
                                                  on_click=lambda: dialog.submit(radio.value))
                                        .props("unelevated no-caps color=primary"), "confirm-transfer")
                confirm_button.bind_enabled_from(radio, "value", backward=lambda v: v is not None)
    result = await dialog
    dialog.delete()
    return None if result is None else int(result)
