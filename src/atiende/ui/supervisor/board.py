"""The live board of one campaign: who waits and since when, the agents (presence, time in that
state, load against capacity) and the conversations in progress — plus the campaign cards on top."""

from collections.abc import Awaitable, Callable
from typing import Any
from datetime import datetime

from nicegui import ui

from atiende.auth.models import Presence
from atiende.conversations.supervision import ActiveRow, AgentRow, CampaignBoard, CampaignSummary, WaitingRow
from atiende.i18n import t
from atiende.ui.components import prop, testid
from atiende.ui.supervisor import sla_marks
from atiende.ui.workspace import look
from atiende.ui.workspace.assets import since_label

Action = Callable[..., Awaitable[None] | None]


class BoardActions:
    def __init__(self, *, choose_campaign: Action, read: Action, set_presence: Action, mass_transfer: Action,
                 transfer: Action, close: Action, staff: Action, take_over: Action,
                 assign: Action | None = None) -> None:
        self.choose_campaign = choose_campaign
        self.read = read
        self.set_presence = set_presence
        self.mass_transfer = mass_transfer
        self.transfer = transfer
        self.close = close
        self.staff = staff
        self.take_over = take_over
        self.assign = assign


def campaign_cards(summaries: list[CampaignSummary], selected: int | None, actions: BoardActions) -> None:
    with ui.row().classes("sv-cards w-full gap-3").props('data-testid="campaign-cards"'):
        for item in summaries:
            active = item.campaign_id == selected
            with ui.card().props(f'flat bordered data-testid="campaign-card-{item.campaign_id}" tabindex="0"') \
                    .classes("q-pa-sm gap-1 cursor-pointer" + (" bg-teal-1" if active else "")) \
                    .style("min-width: 220px") \
                    .on("click", lambda cid=item.campaign_id: actions.choose_campaign(cid)) \
                    .on("keydown.enter", lambda cid=item.campaign_id: actions.choose_campaign(cid)):
                with ui.row().classes("items-center justify-between no-wrap w-full gap-2"):
                    ui.label(item.name).classes("text-subtitle2 text-weight-medium ellipsis")
                    hours_badge(item.open_now)
                with ui.row().classes("gap-3 text-caption text-grey-8 no-wrap"):
                    ui.label(t("supervisor.card_queue", n=item.queued)).props('data-testid="card-queued"')
                    ui.label(t("supervisor.card_progress", n=item.in_progress))
                    ui.label(t("supervisor.card_agents", online=item.online_agents, total=item.agents))
                    if item.with_bot:
                        testid(ui.label(t("supervisor.card_bot", n=item.with_bot)), "card-with-bot")


def hours_badge(open_now: bool) -> None:
    if open_now:
        ui.badge(t("supervisor.in_hours"), color="positive").props('outline data-testid="in-hours"')
    else:
        ui.badge(t("supervisor.out_of_hours"), color="negative").props('data-testid="out-of-hours"')


def board(data: CampaignBoard, now: datetime, actions: BoardActions, sla: dict[int, Any] | None = None) -> None:
    sla = sla or {}
    summary = data.summary
    with ui.row().classes("w-full items-center gap-2"):
        ui.label(summary.name).classes("text-h6").props('role="heading" aria-level="2"')
        hours_badge(summary.open_now)
        if data.schedule_name:
            ui.label(t("supervisor.schedule", name=data.schedule_name)).classes("text-caption text-grey-7")
        sla_marks.breaches(sla)
    with ui.element("div").classes("sv-grid w-full grid gap-3"):
        _waiting(sorted(data.waiting, key=lambda r: sla_marks.urgency(sla, r.conversation_id)), now, actions, sla)
        _agents(data.agents, now, actions, summary.campaign_id)
    _in_progress(data.in_progress, now, actions, sla)
    if data.with_bot:
        _with_bot(data.with_bot, now, actions)


def _section(title: str, count: int, testid_value: str, action: Callable[[], None] | None = None) -> ui.card:
    card = testid(ui.card().props("flat bordered"), testid_value).classes("w-full q-pa-sm gap-2")
    with card, ui.row().classes("items-center gap-2 w-full"):
        ui.label(title).classes("text-subtitle1 text-weight-medium")
        testid(ui.badge(str(count), color="grey-7"), f"{testid_value}-count")
        if action is not None:
            ui.space()
            action()
    return card


def _waiting(rows: list[WaitingRow], now: datetime, actions: BoardActions, sla: dict[int, Any]) -> None:
    with _section(t("supervisor.queue"), len(rows), "queue"):
        if not rows:
            ui.label(t("supervisor.queue_empty")).classes("text-body2 text-grey-7")
            return
        with ui.list().props("dense separator").classes("w-full"):
            for row in rows:
                with ui.item().props(f'data-testid="queued-{row.conversation_id}"'):
                    with ui.item_section().props("avatar"):
                        look.channel_icon(row.channel_kind)
                    with ui.item_section():
                        ui.item_label(row.contact_name or t("workspace.unnamed"))
                        ui.item_label(f"#{row.conversation_id}").props("caption")
                    with ui.item_section().props("side"):
                        with ui.row().classes("items-center no-wrap gap-1"):
                            sla_marks.chip(sla.get(row.conversation_id))
                            ui.icon("hourglass_top", size="1rem", color="orange-8")
                            since_label(row.queued_at, now, classes="text-body2 text-orange-9")
                            cid = row.conversation_id
                            _icon_button("visibility", t("supervisor.read"), lambda c=cid: actions.read(c),
                                         f"read-{cid}")
                            if actions.assign is not None:
                                _icon_button("person_add", t("assign.button"), lambda c=cid: actions.assign(c),
                                             f"assign-{cid}")


def _agents(rows: list[AgentRow], now: datetime, actions: BoardActions, campaign_id: int) -> None:
    def staff_button() -> None:
        testid(ui.button(t("supervisor.staff"), icon="groups", on_click=lambda: actions.staff(campaign_id))
               .props("flat dense no-caps color=primary"), "staff-campaign")

    with _section(t("supervisor.agents"), len(rows), "agents", staff_button):
        if not rows:
            ui.label(t("supervisor.agents_empty")).classes("text-body2 text-grey-7")
            return
        options = {p.value: t(f"workspace.presence.{p.value}") for p in Presence}
        with ui.list().props("separator").classes("w-full"):
            for row in rows:
                with ui.item().props(f'data-testid="agent-{row.membership_id}"').classes("sv-agent q-py-xs"):
                    with ui.item_section().props("avatar"):
                        look.presence_dot(row.presence)
                    with ui.item_section():
                        ui.item_label(row.name).classes("text-weight-medium")
                        with ui.row().classes("items-center gap-1 no-wrap text-caption text-grey-7"):
                            ui.label(t(f"workspace.presence.{row.presence.value}"))
                            ui.label("·")
                            since_label(row.presence_since, now)
                        ratio = row.load / row.capacity if row.capacity else 0
                        with ui.row().classes("items-center no-wrap gap-2 w-full"):
                            ui.linear_progress(value=min(ratio, 1), show_value=False, size="6px",
                                               color="negative" if ratio >= 1 else "primary").classes("flex-grow")
                            ui.label(f"{row.load}/{row.capacity}").classes("text-caption") \
                                .props('data-testid="load"')
                    with ui.item_section().props("side"):
                        with ui.row().classes("items-center no-wrap gap-1"):
                            label = t("supervisor.presence_of", name=row.name)
                            presence = testid(ui.select(options, value=row.presence.value,
                                                        on_change=lambda e, m=row.membership_id:
                                                        actions.set_presence(m, e.value))
                                              .props("dense options-dense borderless"), f"presence-{row.membership_id}")
                            prop(presence, "aria-label", label)
                            button = _icon_button("move_up", t("supervisor.mass_transfer"),
                                                  lambda m=row.membership_id, n=row.name: actions.mass_transfer(m, n),
                                                  f"mass-transfer-{row.membership_id}")
                            button.set_enabled(row.load > 0)


def _in_progress(rows: list[ActiveRow], now: datetime, actions: BoardActions, sla: dict[int, Any]) -> None:
    with _section(t("supervisor.in_progress"), len(rows), "in-progress"):
        if not rows:
            ui.label(t("supervisor.in_progress_empty")).classes("text-body2 text-grey-7")
            return
        headers = [t("workspace.contact"), t("supervisor.agent"), t("supervisor.since"), t("supervisor.waiting"), ""]
        with ui.element("q-markup-table").props("flat dense wrap-cells").classes("sv-active w-full"):
            with ui.element("thead"), ui.element("tr"):
                for header in headers:
                    with ui.element("th").classes("text-left"):
                        ui.label(header)
            with ui.element("tbody"):
                for row in rows:
                    with ui.element("tr").props(f'data-testid="active-{row.conversation_id}"'):
                        with ui.element("td"), ui.row().classes("items-center no-wrap gap-2"):
                            look.channel_icon(row.channel_kind, size="1rem")
                            ui.label(row.contact_name or t("workspace.unnamed"))
                            ui.label(f"#{row.conversation_id}").classes("text-caption text-grey-6")
                        with ui.element("td"):
                            ui.label(row.agent_name).props('data-testid="active-agent"')
                        with ui.element("td"):
                            if row.assigned_at:
                                since_label(row.assigned_at, now)
                        with ui.element("td"):
                            if row.waiting_since:
                                sla_marks.chip(sla.get(row.conversation_id))
                                since_label(row.waiting_since, now, classes="text-orange-9")
                        with ui.element("td").classes("text-right"), ui.row().classes("no-wrap gap-0 justify-end"):
                            cid = row.conversation_id
                            _icon_button("visibility", t("supervisor.read"), lambda c=cid: actions.read(c),
                                         f"read-{cid}")
                            _icon_button("swap_horiz", t("workspace.transfer"), lambda c=cid: actions.transfer(c),
                                         f"transfer-{cid}")
                            _icon_button("task_alt", t("workspace.close"), lambda c=cid: actions.close(c),
                                         f"close-{cid}")


def _with_bot(rows: list[WaitingRow], now: datetime, actions: BoardActions) -> None:
    """Conversations the attention bot is answering; a supervisor may take one for the agents."""
    with _section(t("supervisor.with_bot"), len(rows), "with-bot"):
        with ui.list().props("dense separator").classes("w-full"):
            for row in rows:
                with testid(ui.item(), f"bot-{row.conversation_id}"):
                    with ui.item_section().props("avatar"):
                        look.channel_icon(row.channel_kind)
                    with ui.item_section():
                        ui.item_label(row.contact_name or t("workspace.unnamed"))
                        ui.item_label(f"#{row.conversation_id}").props("caption")
                    with ui.item_section().props("side"):
                        with ui.row().classes("items-center no-wrap gap-1"):
                            ui.icon("smart_toy", size="1rem", color="indigo-6")
                            since_label(row.queued_at, now, classes="text-body2")
                            cid = row.conversation_id
                            _icon_button("visibility", t("supervisor.read"), lambda c=cid: actions.read(c),
                                         f"read-{cid}")
                            _icon_button("support_agent", t("supervisor.take_over"),
                                         lambda c=cid: actions.take_over(c), f"take-over-{cid}")


def _icon_button(icon: str, label: str, handler: Action, testid_value: str) -> ui.button:
    button = prop(ui.button(icon=icon, on_click=handler).props("flat round dense"), "aria-label", label)
    button.tooltip(label)
    return testid(button, testid_value)
