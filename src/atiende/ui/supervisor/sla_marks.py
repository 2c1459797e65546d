"""The board's SLA marks: amber when a conversation is about to breach, red once breached, and
the count of breaches (computed by ``reports.sla_live``)."""

from nicegui import ui

from atiende.i18n import t
from atiende.reports.sla import SlaState
from atiende.reports.sla_live import SlaMark

COLORS = {SlaState.warning: "amber-8", SlaState.breached: "negative"}


def chip(mark: SlaMark | None) -> None:
    if mark is None or mark.state == SlaState.ok:
        return
    ui.badge(t(f"reports.sla.{mark.state.value}"), color=COLORS[mark.state]) \
        .props(f'data-testid="sla-{mark.conversation_id}" data-state="{mark.state.value}"')


def breaches(marks: dict[int, SlaMark]) -> None:
    count = sum(1 for m in marks.values() if m.state == SlaState.breached)
    if count:
        ui.badge(t("reports.sla.breaches", count=count), color="negative").props('data-testid="sla-breaches"')


def urgency(marks: dict[int, SlaMark], conversation_id: int) -> int:
    """Sort key: breached first, then about to breach, then the rest."""
    mark = marks.get(conversation_id)
    return {SlaState.breached: 0, SlaState.warning: 1}.get(mark.state, 2) if mark else 2
