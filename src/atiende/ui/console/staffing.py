"""Staffing from the console: who works a campaign and with what capacity, seen from either side —
*Agentes* of a campaign (Campañas, and the supervisor's board) or *Campañas* of a user (Usuarios y
licencias). Both dialogs write through the staffing service, the same rules as
``PUT /api/v1/campaigns/{id}/agents`` and ``PUT /api/v1/agents/{id}/campaigns``.

Capacity is per campaign ("Número máximo de conversaciones" in Hibot's user form); empty means the
client's default. A value out of range is refused next to the input, never changed silently."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from nicegui import ui
from pydantic import ValidationError

from atiende.auth.memberships import membership_service
from atiende.conversations.schemas import AgentCampaignIn, CampaignAgentIn
from atiende.conversations.staffing import staffing_service
from atiende.errors import AtiendeError
from atiende.i18n import t
from atiende.tenancy.service import client_service
from atiende.ui.components import form_dialog, help_text, save_button, testid
from atiende.ui.context import Acting, act
from atiende.ui.data import fetch_all
from atiende.ui.errors import describe
from atiende.ui.workspace.live import engine

MAX_CAPACITY = 1000
Seats = list[tuple[int, int | None]]  # (membership or campaign id, capacity or None for the default)


@dataclass
class SeatRow:
    key: int
    label: str
    caption: str
    member: bool
    capacity: int | None


def capacity_rule(value: object) -> bool:
    return value is None or value == "" or (isinstance(value, int | float) and float(value).is_integer()
                                            and 1 <= value <= MAX_CAPACITY)


async def _seats_dialog(title: str, hint: str, rows: list[SeatRow], default_capacity: int,
                        save: Callable[[Acting, Seats], Awaitable[None]], testid_value: str,
                        on_saved: Callable[[], Awaitable[None]] | None) -> None:
    inputs: dict[int, tuple[ui.checkbox, ui.number]] = {}
    with form_dialog(title, testid_value=testid_value) as (dialog, body, footer):
        with body:
            help_text(hint)
            if not rows:
                ui.label(t("staffing.nobody")).classes("text-body2 text-grey-7")
            for row in rows:
                with ui.row().classes("w-full items-center no-wrap gap-3") \
                        .props(f'data-testid="seat-{row.key}"'):
                    member = testid(ui.checkbox(value=row.member), f"seat-member-{row.key}")
                    with ui.column().classes("gap-0 flex-grow min-w-0"):
                        ui.label(row.label).classes("text-weight-medium ellipsis")
                        ui.label(row.caption).classes("text-caption text-grey-7 ellipsis")
                    capacity = testid(ui.number(
                        label=t("staffing.capacity"), value=row.capacity, format="%d",
                        placeholder=t("staffing.capacity_default", n=default_capacity),
                        validation={t("staffing.capacity_range", max=MAX_CAPACITY): capacity_rule})
                        .props("outlined dense clearable").style("width: 11rem"), f"seat-capacity-{row.key}")
                    capacity.bind_enabled_from(member, "value")
                    inputs[row.key] = (member, capacity)
            banner = ui.label().classes("text-negative text-body2").props('role="alert" data-testid="seats-error"')
            banner.set_visibility(False)

        async def submit() -> None:
            if not all(capacity.validate() for member, capacity in inputs.values() if member.value):
                return
            seats = [(key, int(capacity.value) if capacity.value not in (None, "") else None)
                     for key, (member, capacity) in inputs.items() if member.value]
            try:
                async with act() as acting:
                    await save(acting, seats)
            except (AtiendeError, ValidationError) as exc:
                banner.set_text(" ".join(message for _, message in describe(exc)))
                banner.set_visibility(True)
                return
            dialog.close()
            ui.notify(t("staffing.saved"), type="positive")
            if on_saved is not None:
                await on_saved()

        with footer:
            save_button(submit)
    dialog.open()


async def open_campaign_agents(campaign_id: int,
                               on_saved: Callable[[], Awaitable[None]] | None = None) -> None:
    """*Agentes* of a campaign: every licensed user of its client, ticked if they work it."""
    async with act() as acting:
        campaign = await staffing_service.get_campaign(acting.session, acting.caller, campaign_id)
        client = await client_service.get(acting.session, acting.caller, campaign.client_id)
        seats = {row.membership.id: row for row in await staffing_service.agents(acting.session, acting.caller,
                                                                                 campaign)}
        people = await fetch_all(membership_service.list, acting.session, acting.caller,
                                 client_id=campaign.client_id)
        rows = [SeatRow(m.id, m.user.full_name or m.user.email,
                        f"{t(f'role.{m.role.value}')} · {m.user.email}", m.id in seats,
                        None if m.id not in seats or seats[m.id].capacity_is_default else seats[m.id].capacity)
                for m in people if m.active or m.id in seats]
        name, default = campaign.name, client.default_agent_capacity if client else 1

    async def save(acting: Acting, chosen: Seats) -> None:
        row = await staffing_service.get_campaign(acting.session, acting.caller, campaign_id)
        await staffing_service.replace_agents(acting.session, engine(), acting.caller, row,
                                              [CampaignAgentIn(membership_id=k, capacity=c) for k, c in chosen])

    await _seats_dialog(t("staffing.campaign_title", name=name), t("staffing.campaign_hint"), rows, default, save,
                        "campaign-agents-dialog", on_saved)


async def open_agent_campaigns(membership_id: int,
                               on_saved: Callable[[], Awaitable[None]] | None = None) -> None:
    """*Campañas* of a user: every campaign of the client, ticked where the user works."""
    async with act() as acting:
        membership = await staffing_service.get_membership(acting.session, acting.caller, membership_id)
        client = await client_service.get(acting.session, acting.caller, membership.client_id)
        rows = [SeatRow(c.id, c.name, t("common.active") if c.active else t("common.inactive"), seat is not None,
                        seat.capacity if seat else None)
                for c, seat in await staffing_service.campaigns_of(acting.session, acting.caller, membership)]
        name, default = membership.user.full_name or membership.user.email, \
            client.default_agent_capacity if client else 1

    async def save(acting: Acting, chosen: Seats) -> None:
        row = await staffing_service.get_membership(acting.session, acting.caller, membership_id)
        await staffing_service.replace_campaigns_of(acting.session, engine(), acting.caller, row,
                                                    [AgentCampaignIn(campaign_id=k, capacity=c) for k, c in chosen])

    await _seats_dialog(t("staffing.user_title", name=name), t("staffing.user_hint"), rows, default, save,
                        "user-campaigns-dialog", on_saved)
