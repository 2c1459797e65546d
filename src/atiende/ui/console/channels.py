"""Configuración → Canales: WhatsApp numbers, web chat widgets, Telegram bots and API sources.

Credentials are write-only: the form never shows them; on edit their inputs start empty and are
only sent when the admin types a new set ("leave empty to keep")."""

from typing import Any

from babel.numbers import format_decimal
from nicegui import ui

from atiende.channels.models import Channel, ChannelKind
from atiende.channels.schemas import ChannelCreate, ChannelUpdate, webhook_path
from atiende.channels.service import channel_service
from atiende.i18n import current_locale, t
from atiende.ui.components import active_chip, form_dialog, help_text, save_button, testid
from atiende.ui.console.base import CatalogScreen
from atiende.ui.context import Acting, PageContext
from atiende.ui.data import fetch_all
from atiende.ui.errors import FormErrors
from atiende.ui.layout import console_page
from atiende.ui.numbers import whole_number
from atiende.ui.runtime import runtime

# Inputs of each kind: (part, key, widget); widget "secret" | "text" | "lines" | "switch" | "number" | "limit".
FORM_FIELDS: dict[ChannelKind, list[tuple[str, str, str]]] = {
    ChannelKind.whatsapp: [("settings", "phone_number_id", "text"), ("settings", "business_account_id", "text"),
                           ("settings", "api_version", "text"), ("settings", "max_messages_per_second", "number"),
                           ("settings", "daily_recipient_limit", "limit"), ("settings", "business_portfolio_id", "text"),
                           ("credentials", "access_token", "secret"),
                           ("credentials", "app_secret", "secret"), ("credentials", "verify_token", "secret")],
    ChannelKind.webchat: [("settings", "allowed_origins", "lines"), ("settings", "welcome_message", "text"),
                          ("settings", "prechat_form", "switch"), ("settings", "queue_notice", "switch"),
                          ("settings", "queue_position", "switch")],
    ChannelKind.telegram: [("credentials", "bot_token", "secret")],
    ChannelKind.api: [("settings", "callback_url", "text"), ("credentials", "secret", "secret")],
}
DEFAULTS: dict[str, Any] = {"api_version": "v21.0", "queue_notice": True, "queue_position": True,
                            "max_messages_per_second": 80}
MESSAGING_LIMITS = (250, 2000, 10000, 100000)  # Meta's tiers; none: unlimited


def kind_label(kind: ChannelKind) -> str:
    return t(f"channel_kind.{kind.value}")


class ChannelsScreen(CatalogScreen[Channel]):
    key = "channels"
    icon = "hub"

    async def load(self, acting: Acting) -> list[Channel]:
        return await fetch_all(channel_service.list, acting.session, acting.caller, client_id=self.context.client_id)

    def headers(self) -> list[str]:
        return [t("common.name"), t("channels.kind"), t("channels.campaign"), t("channels.credentials"),
                t("common.state")]

    def draw_row(self, item: Channel) -> None:
        with ui.element("td"):
            ui.label(item.name).classes("text-weight-medium")
        with ui.element("td"):
            ui.label(kind_label(item.kind))
        with ui.element("td"):
            campaign = getattr(item, "active_campaign", None)
            ui.label(t("channels.in_use_by", campaign=campaign.name) if campaign else t("channels.free")) \
                .classes("text-grey-8" if campaign is None else "")
        with ui.element("td"):
            needed = [k for part, k, _ in FORM_FIELDS[item.kind] if part == "credentials"]
            if not needed:
                ui.label(t("channels.no_credentials")).classes("text-grey-7")
            elif all((item.credentials or {}).get(k) for k in needed):
                ui.label(t("channels.credentials_set"))
            else:
                ui.label(t("channels.credentials_missing")).classes("text-negative")
        with ui.element("td"):
            active_chip(item.active)

    async def delete_item(self, acting: Acting, item: Channel) -> None:
        channel = await self.refetch(channel_service, acting, item)
        await channel_service.delete(acting.session, acting.caller, channel, clock=acting.clock)

    async def build_form(self, item: Channel | None) -> None:
        errors = FormErrors()
        state: dict[str, Any] = {"kind": item.kind if item else ChannelKind.whatsapp}
        values: dict[str, Any] = {}
        with form_dialog(t("channels.edit") if item else t("channels.new"), testid_value="channel-dialog") as (
                dialog, body, footer):
            with body:
                kinds = {k: kind_label(k) for k in ChannelKind}
                kind = testid(ui.select(kinds, value=state["kind"], label=t("channels.kind"))
                              .props("outlined" + (" readonly" if item else "")).classes("w-full"), "channel-kind")
                name = testid(ui.input(t("common.name"), value=item.name if item else "")
                              .props("outlined maxlength=120").classes("w-full"), "channel-name")
                active = testid(ui.switch(t("common.active"), value=item.active if item else True), "channel-active")
                errors.bind("kind", kind)
                errors.bind("name", name)

                @ui.refreshable
                def kind_fields() -> None:
                    values.clear()
                    self._kind_fields(state["kind"], item, values, errors)

                kind_fields()

                def kind_changed(e: Any) -> None:
                    state["kind"] = e.value
                    kind_fields.refresh()

                kind.on_value_change(kind_changed)
                errors.add_banner()

            async def submit() -> None:
                async def work(acting: Acting) -> None:
                    settings, credentials = self._collect(state["kind"], values)
                    if item is None:
                        data = ChannelCreate(client_id=self.context.client_id, kind=state["kind"],
                                             name=name.value or "", active=active.value,
                                             credentials=credentials or {}, settings=settings)
                        await channel_service.create(acting.session, acting.caller, data, clock=acting.clock)
                        return
                    channel = await self.refetch(channel_service, acting, item)
                    changes = ChannelUpdate(name=name.value or "", active=active.value, kind=item.kind,
                                            settings=settings, credentials=credentials)
                    await channel_service.update(acting.session, acting.caller, channel, changes, clock=acting.clock)

                if await self.save(errors, work):
                    dialog.close()

            with footer:
                save_button(submit)
        dialog.open()

    def _kind_fields(self, kind: ChannelKind, item: Channel | None, values: dict[str, Any],
                     errors: FormErrors) -> None:
        stored = (item.settings if item and item.kind == kind else None) or {}
        secrets = [k for part, k, _ in FORM_FIELDS[kind] if part == "credentials"]
        if secrets and item is not None:
            help_text(t("channels.credentials_keep")).props('data-testid="credentials-keep"')
        for part, key, widget in FORM_FIELDS[kind]:
            label = t(f"channel_field.{key}")
            field = f"{part}.{key}"
            tid = f"channel-{key.replace('_', '-')}"
            if widget == "switch":
                element: Any = ui.switch(label, value=bool(stored.get(key, DEFAULTS.get(key, False))))
            elif widget == "lines":
                element = ui.textarea(label, value="\n".join(stored.get(key, []))).props("outlined autogrow") \
                    .classes("w-full")
                help_text(t(f"channel_help.{key}"))
            elif widget == "number":
                element = whole_number(label, value=stored.get(key, DEFAULTS.get(key)), low=1, high=1000) \
                    .props("outlined").classes("w-full")
            elif widget == "limit":
                options = {0: t("channels.unlimited"),
                           **{n: format_decimal(n, locale=current_locale()) for n in MESSAGING_LIMITS}}
                element = ui.select(options, label=label, value=stored.get(key) or 0).props("outlined") \
                    .classes("w-full")
                help_text(t(f"channel_help.{key}"))
            elif widget == "secret":
                element = ui.input(label, password=True, password_toggle_button=True) \
                    .props("outlined autocomplete=off maxlength=1024").classes("w-full")
            else:
                element = ui.input(label, value=str(stored.get(key) or DEFAULTS.get(key, ""))) \
                    .props("outlined maxlength=300").classes("w-full")
            testid(element, tid)
            values[field] = (widget, element)
            if widget != "switch":
                errors.bind(field, element)
        if item is not None and (path := webhook_path(item.kind, item.id)):
            base = runtime().settings.public_url.rstrip("/")
            with ui.row().classes("items-center gap-2"):
                ui.label(t("channels.webhook")).classes("text-caption text-grey-8")
                ui.label(f"{base}{path}").classes("text-caption font-mono").props('data-testid="channel-webhook"')

    @staticmethod
    def _collect(kind: ChannelKind, values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
        settings: dict[str, Any] = {}
        credentials: dict[str, Any] = {}
        for field, (widget, element) in values.items():
            part, key = field.split(".", 1)
            value = element.value
            if widget == "lines":
                value = [line.strip() for line in (value or "").splitlines() if line.strip()]
            elif widget in ("text", "secret"):
                value = (value or "").strip() or None
            elif widget == "number":
                value = int(value) if isinstance(value, int | float) else value
            elif widget == "limit":
                value = value or None
            target = settings if part == "settings" else credentials
            if value is not None:
                target[key] = value
        return settings, credentials or None


@console_page("channels")
async def channels_page(context: PageContext) -> None:
    await ChannelsScreen(context).mount()
