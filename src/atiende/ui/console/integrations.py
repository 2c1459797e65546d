"""Configuración → Integraciones: the client's outgoing webhooks, their log, Probar and Reenviar."""

from babel.dates import format_datetime
from nicegui import ui

from atiende.errors import AtiendeError
from atiende.i18n import current_locale, t
from atiende.integrations.catalog import EVENT_TYPES
from atiende.integrations.models import WebhookDelivery, WebhookSubscription
from atiende.integrations.schemas import SubscriptionCreate, SubscriptionUpdate
from atiende.integrations.service import webhook_service
from atiende.kit.pagination import PageParams
from atiende.ui.components import (
    active_chip, field_error_label, form_dialog, help_text, icon_button, markup_table, row_actions, save_button,
    testid,
)
from atiende.ui.console.base import CatalogScreen
from atiende.ui.context import Acting, PageContext, act
from atiende.ui.data import fetch_all
from atiende.ui.errors import FormErrors, describe
from atiende.ui.layout import console_page
from atiende.ui.runtime import runtime

LOG_SIZE = 50
STATE_COLORS = {"delivered": "positive", "pending": "warning", "sending": "info", "failed": "negative"}


def _allow_private() -> bool:
    return runtime().settings.webhooks_allow_private_addresses


class IntegrationsScreen(CatalogScreen[WebhookSubscription]):
    key = "integrations"
    icon = "webhook"

    async def load(self, acting: Acting) -> list[WebhookSubscription]:
        return await fetch_all(webhook_service.subscriptions, acting.session, acting.caller,
                               client_id=self.context.client_id)

    def headers(self) -> list[str]:
        return [t("common.name"), t("integrations.url"), t("integrations.events"), t("common.state")]

    def draw_row(self, item: WebhookSubscription) -> None:
        with ui.element("td"):
            ui.label(item.name).classes("text-weight-medium")
        with ui.element("td"):
            ui.label(item.url).classes("text-grey-8 ellipsis").style("max-width: 28ch")
        with ui.element("td"):
            ui.label(t("integrations.event_count", count=len(item.event_types)))
        with ui.element("td"):
            active_chip(item.active)

    def draw_actions(self, item: WebhookSubscription) -> None:
        row_actions(("send", t("integrations.ping"), lambda i=item: self.ping(i), f"ping-{item.id}"),
                    ("history", t("integrations.log"), lambda i=item: self.open_log(i), f"log-{item.id}"),
                    ("edit", t("common.edit"), lambda i=item: self.open_form(i), f"edit-{item.id}"),
                    ("delete", t("common.delete"), lambda i=item: self.ask_delete(i), f"delete-{item.id}"))

    async def delete_item(self, acting: Acting, item: WebhookSubscription) -> None:
        sub = await webhook_service.get(acting.session, acting.caller, item.id)
        await webhook_service.delete(acting.session, acting.caller, sub, clock=acting.clock)

    async def ping(self, item: WebhookSubscription) -> None:
        try:
            async with act() as acting:
                sub = await webhook_service.get(acting.session, acting.caller, item.id)
                delivery = await webhook_service.ping(acting.session, acting.caller, sub,
                                                      http=runtime().app.state.http, clock=acting.clock,
                                                      allow_private=_allow_private())
        except AtiendeError as exc:
            ui.notify(" ".join(m for _, m in describe(exc)), type="negative")
            return
        if delivery.state == "delivered":
            ui.notify(t("integrations.ping_ok", status=delivery.response_status, ms=delivery.duration_ms),
                      type="positive")
        else:
            ui.notify(t("integrations.ping_failed", error=delivery.last_error or ""), type="negative",
                      multi_line=True)

    # --- the log ---------------------------------------------------------------------------
    async def open_log(self, item: WebhookSubscription) -> None:
        self.host.clear()
        with self.host:
            with form_dialog(t("integrations.log_title", name=item.name), testid_value="webhook-log",
                             width="min(980px, 96vw)") as (dialog, body, _footer):
                with body:
                    log_view = ui.column().classes("w-full gap-2")
            await self.draw_log(item, log_view)
            dialog.open()

    async def draw_log(self, item: WebhookSubscription, host: ui.column) -> None:
        async with act() as acting:
            sub = await webhook_service.get(acting.session, acting.caller, item.id)
            rows, total = await webhook_service.deliveries(acting.session, acting.caller, sub,
                                                           page=PageParams(page=1, limit=LOG_SIZE))
        host.clear()
        with host:
            with ui.row().classes("w-full items-center gap-2"):
                help_text(t("integrations.log_help", shown=len(rows), total=total))
                ui.space()
                icon_button("refresh", t("common.refresh"), lambda: self.draw_log(item, host), "log-refresh")
            if not rows:
                ui.label(t("integrations.log_empty")).classes("text-grey-7").props('data-testid="log-empty"')
                return
            with ui.element("div").classes("w-full overflow-x-auto"), \
                    markup_table([t("integrations.when"), t("integrations.event"), t("common.state"),
                                  t("integrations.answer"), ""], testid_value="log-table"):
                for delivery in rows:
                    self.draw_log_row(item, delivery, host)

    def draw_log_row(self, item: WebhookSubscription, delivery: WebhookDelivery, host: ui.column) -> None:
        with ui.element("tr").props(f'data-testid="log-row-{delivery.id}"'):
            with ui.element("td"):
                ui.label(format_datetime(delivery.created_at, "dd/MM HH:mm:ss", locale=current_locale()) + " UTC")
            with ui.element("td"):
                ui.label(delivery.event_type)
            with ui.element("td"):
                ui.chip(t(f"integrations.state.{delivery.state}"), color=STATE_COLORS.get(delivery.state, "grey-7"),
                        text_color="white").props("dense square")
                ui.label(t("integrations.attempts", count=delivery.attempts)).classes("text-caption text-grey-7")
            with ui.element("td"):
                status = delivery.response_status if delivery.response_status is not None else "—"
                ui.label(f"{status} · {delivery.duration_ms or 0} ms")
                detail = delivery.last_error or delivery.response_excerpt or ""
                if detail:
                    ui.label(detail[:160]).classes("text-caption text-grey-7").style("word-break: break-all")
            with ui.element("td").classes("text-right"):
                icon_button("replay", t("integrations.resend"), lambda d=delivery: self.resend(item, d, host),
                            f"resend-{delivery.id}")

    async def resend(self, item: WebhookSubscription, delivery: WebhookDelivery, host: ui.column) -> None:
        try:
            async with act() as acting:
                await webhook_service.resend(acting.session, acting.caller, delivery.id, clock=acting.clock)
        except AtiendeError as exc:
            ui.notify(" ".join(m for _, m in describe(exc)), type="negative")
            return
        dispatcher = getattr(runtime().app.state, "webhook_dispatcher", None)
        if dispatcher is not None:
            dispatcher.wake()
        ui.notify(t("integrations.resent"), type="positive")
        await self.draw_log(item, host)

    # --- the form --------------------------------------------------------------------------
    async def build_form(self, item: WebhookSubscription | None) -> None:
        errors = FormErrors()
        chosen: dict[str, bool] = {name: (name in item.event_types) if item else True for name in EVENT_TYPES}
        with form_dialog(t("integrations.edit") if item else t("integrations.new"),
                         testid_value="webhook-dialog") as (dialog, body, footer):
            with body:
                name = testid(ui.input(t("common.name"), value=item.name if item else "")
                              .props("outlined autofocus maxlength=120").classes("w-full"), "webhook-name")
                url = testid(ui.input(t("integrations.url"), value=item.url if item else "",
                                      placeholder="https://crm.example.com/atiende")
                             .props("outlined maxlength=2000").classes("w-full"), "webhook-url")
                help_text(t("integrations.url_help"))
                ui.label(t("integrations.events")).classes("text-subtitle2")
                with ui.column().classes("gap-0"):
                    for event_type in EVENT_TYPES:
                        testid(ui.checkbox(t(f"integrations.event.{event_type}"), value=chosen[event_type],
                                           on_change=lambda e, k=event_type: chosen.__setitem__(k, e.value)),
                               f"webhook-event-{event_type}")
                types_error = field_error_label()
                active = testid(ui.switch(t("common.active"), value=item.active if item else True), "webhook-active")
                if item is not None:
                    ui.label(t("integrations.secret")).classes("text-subtitle2")
                    testid(ui.input(value=item.secret, password=True, password_toggle_button=True)
                           .props("outlined readonly dense").classes("w-full"), "webhook-secret")
                    help_text(t("integrations.secret_help"))
                errors.bind("name", name)
                errors.bind("url", url)
                errors.bind("event_types", types_error)
                errors.add_banner()

            async def submit() -> None:
                types = [k for k, on in chosen.items() if on]

                async def work(acting: Acting) -> None:
                    if item is None:
                        data = SubscriptionCreate(client_id=self.context.client_id, name=name.value or "",
                                                  url=url.value or "", event_types=types, active=active.value)
                        await webhook_service.create(acting.session, acting.caller, data, clock=acting.clock,
                                                     allow_private=_allow_private())
                        return
                    sub = await webhook_service.get(acting.session, acting.caller, item.id)
                    changes = SubscriptionUpdate(name=name.value or "", url=url.value or "", event_types=types,
                                                 active=active.value)
                    await webhook_service.update(acting.session, acting.caller, sub, changes, clock=acting.clock,
                                                 allow_private=_allow_private())

                if await self.save(errors, work):
                    dialog.close()

            with footer:
                save_button(submit)
        dialog.open()


@console_page("integrations")
async def integrations_page(context: PageContext) -> None:
    await IntegrationsScreen(context).mount()
