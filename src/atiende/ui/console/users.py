"""Configuración → Usuarios y licencias: who works in this client, with which role, and how many of
the plan's licenses are in use. The license cap is the membership service's rule; this screen shows
its refusal next to the switch that asked for a seat."""

from nicegui import ui

from atiende.auth.memberships import membership_service
from atiende.auth.models import Membership, MembershipStatus, Role
from atiende.auth.schemas import MembershipCreate, MembershipUpdate
from atiende.i18n import t
from atiende.tenancy.service import client_service
from atiende.conversations.staffing import staffing_service
from atiende.ui.components import (active_chip, field_error_label, form_dialog, help_text, row_actions, save_button,
                                   testid)
from atiende.ui.console.base import CatalogScreen
from atiende.ui.console.staffing import open_agent_campaigns
from atiende.ui.context import Acting, PageContext
from atiende.ui.data import fetch_all
from atiende.ui.errors import FormErrors
from atiende.ui.layout import console_page
from atiende.ui.runtime import runtime


def _invited(item: Membership) -> bool:
    return item.status != MembershipStatus.accepted


class UsersScreen(CatalogScreen[Membership]):
    key = "users"
    icon = "badge"

    def __init__(self, context: PageContext) -> None:
        super().__init__(context)
        self.seats_used = 0
        self.seats = context.client.plan_seats if context.client else 0
        self.campaigns: dict[int, list[str]] = {}

    async def load(self, acting: Acting) -> list[Membership]:
        client = await client_service.get(acting.session, acting.caller, self.context.client_id)
        self.seats = client.plan_seats if client else self.seats
        self.seats_used = await client_service.seats_used(acting.session, self.context.client_id)
        self.campaigns = await staffing_service.campaign_names_by_member(acting.session, acting.caller,
                                                                         self.context.client_id)
        return await fetch_all(membership_service.list, acting.session, acting.caller,
                               client_id=self.context.client_id)

    def item_name(self, item: Membership) -> str:
        return item.user.email

    def headers(self) -> list[str]:
        return [t("users.email"), t("users.full_name"), t("users.role"), t("users.campaigns"), t("users.license")]

    def draw_row(self, item: Membership) -> None:
        with ui.element("td"):
            ui.label(item.user.email).classes("text-weight-medium")
        with ui.element("td"):
            ui.label("" if _invited(item) else item.user.full_name)  # an invited person's name is theirs
        with ui.element("td"):
            ui.label(t(f"role.{item.role.value}"))
        with ui.element("td"), ui.row().classes("gap-1").props(f'data-testid="user-campaigns-{item.id}"'):
            for name in self.campaigns.get(item.id, []):
                ui.chip(name).props("dense outline square")
            if not self.campaigns.get(item.id):
                ui.label("—").classes("text-grey-7")
        with ui.element("td"), ui.row().classes("gap-1 items-center"):
            active_chip(item.active)
            if _invited(item):
                testid(ui.chip(t("users.invited"), icon="schedule_send").props("dense outline square color=accent"),
                       f"user-invited-{item.id}")

    def draw_actions(self, item: Membership) -> None:
        row_actions(("edit", t("common.edit"), lambda i=item: self.open_form(i), f"edit-{item.id}"),
                    ("campaign", t("users.campaigns_edit"), lambda i=item: self.staff(i), f"campaigns-{item.id}"),
                    ("delete", t("common.delete"), lambda i=item: self.ask_delete(i), f"delete-{item.id}"))

    async def staff(self, item: Membership) -> None:
        self.host.clear()
        with self.host:
            await open_agent_campaigns(item.id, on_saved=self.reload)

    def summary(self) -> None:
        with ui.row().classes("items-center gap-3"):
            ui.icon("badge", color="primary")
            testid(ui.label(t("users.seats", used=self.seats_used, total=self.seats))
                   .classes("text-subtitle1 text-weight-medium"), "seats")
            ui.linear_progress(value=min(self.seats_used / self.seats, 1) if self.seats else 0, show_value=False) \
                .classes("w-40").props(f'color={"negative" if self.seats_used >= self.seats else "primary"} rounded')

    async def delete_item(self, acting: Acting, item: Membership) -> None:
        membership = await self.refetch(membership_service, acting, item)
        await membership_service.delete(acting.session, acting.caller, membership, clock=acting.clock,
                                        bus=runtime().app.state.bus)

    async def build_form(self, item: Membership | None) -> None:
        errors = FormErrors()
        roles = {r: t(f"role.{r.value}") for r in Role}
        with form_dialog(t("users.edit") if item else t("users.new"), testid_value="user-dialog") as (
                dialog, body, footer):
            with body:
                email = testid(ui.input(t("users.email"), value=item.user.email if item else "")
                               .props("outlined type=email maxlength=254" + (" readonly" if item else " autofocus"))
                               .classes("w-full"), "user-email")
                # A person's name and password are theirs: set once for a new account, after that only
                # reset for someone who works nowhere else (the service decides, and says why not).
                profile = item is None or not _invited(item)
                full_name = testid(ui.input(t("users.full_name"), value=item.user.full_name if item and profile else "")
                                   .props("outlined maxlength=120").classes("w-full"), "user-full-name")
                password = testid(ui.input(t("users.password"), password=True, password_toggle_button=True)
                                  .props("outlined autocomplete=new-password maxlength=128").classes("w-full"),
                                  "user-password")
                full_name.set_visibility(profile)
                password.set_visibility(profile)
                help_text(t("users.password_help_new") if item is None
                          else t("users.invitation_pending_help") if not profile
                          else t("users.password_help_edit"))
                role = testid(ui.select(roles, value=item.role if item else Role.agent, label=t("users.role"))
                              .props("outlined").classes("w-full"), "user-role")
                active = testid(ui.switch(t("users.license_active"), value=item.active if item else True),
                                "user-active")
                help_text(t("users.seats", used=self.seats_used, total=self.seats))
                active_error = field_error_label()
                for field, element in (("email", email), ("full_name", full_name), ("password", password),
                                       ("role", role), ("active", active_error)):
                    errors.bind(field, element)
                errors.add_banner()

            async def submit() -> None:
                async def work(acting: Acting) -> None:
                    if item is None:
                        data = MembershipCreate(client_id=self.context.client_id, email=(email.value or "").strip(),
                                                full_name=full_name.value or None, password=password.value or "",
                                                role=role.value, active=active.value)
                        await membership_service.create(acting.session, acting.caller, data, clock=acting.clock)
                        return
                    membership = await self.refetch(membership_service, acting, item)
                    name_changed = profile and (full_name.value or "") != item.user.full_name
                    changes = MembershipUpdate(role=role.value, active=active.value,
                                               full_name=(full_name.value or None) if name_changed else None,
                                               password=password.value or None)
                    await membership_service.update(acting.session, acting.caller, membership, changes,
                                                    clock=acting.clock, bus=runtime().app.state.bus)

                if await self.save(errors, work):
                    dialog.close()

            with footer:
                save_button(submit)
        dialog.open()


@console_page("users")
async def users_page(context: PageContext) -> None:
    await UsersScreen(context).mount()
