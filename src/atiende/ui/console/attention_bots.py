"""Configuración → Bots de atención: the bot's messages and menu; its knowledge base and the *Probar
bot* panel open from each row (``knowledge.py``, same URL with ``?bot=<id>``)."""

from typing import Any

from nicegui import ui

from atiende.bots.models import AttentionBot, KnowledgeEntry
from atiende.bots.schemas import MAX_MENU_OPTIONS, AttentionBotCreate, AttentionBotUpdate, MenuKind
from atiende.bots.service import attention_bot_service
from atiende.i18n import t, tn
from atiende.ui.components import active_chip, form_dialog, help_text, row_actions, save_button, testid
from atiende.ui.console.base import CatalogScreen
from atiende.ui.console.knowledge import KnowledgeView
from atiende.ui.context import Acting, PageContext, act
from atiende.ui.data import fetch_all
from atiende.ui.editors import ListEditor
from atiende.ui.errors import FormErrors
from atiende.ui.layout import console_page

PATH = "/console/attention-bots"


def _menu_rows(menu: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"label": o.get("label", ""), "kind": o.get("kind", MenuKind.answer.value), "entry_id": o.get("entry_id"),
             "options": _menu_rows(o.get("options") or [])} for o in menu]


def _menu_payload(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"label": r["label"] or "", "kind": r["kind"],
             "entry_id": r["entry_id"] if r["kind"] == MenuKind.answer else None,
             "options": _menu_payload(r["options"]) if r["kind"] == MenuKind.submenu else []} for r in rows]


class AttentionBotsScreen(CatalogScreen[AttentionBot]):
    key = "attention_bots"
    icon = "smart_toy"

    async def load(self, acting: Acting) -> list[AttentionBot]:
        return await fetch_all(attention_bot_service.list, acting.session, acting.caller,
                               client_id=self.context.client_id)

    def headers(self) -> list[str]:
        return [t("common.name"), t("attention_bots.welcome"), t("attention_bots.menu"), t("common.state")]

    def draw_row(self, item: AttentionBot) -> None:
        with ui.element("td"):
            ui.label(item.name).classes("text-weight-medium")
        with ui.element("td"):
            ui.label(item.welcome_message[:120]).classes("text-grey-8")
        with ui.element("td"):
            ui.label(tn("attention_bots.options", len(item.menu)))
        with ui.element("td"):
            active_chip(item.active)

    def draw_actions(self, item: AttentionBot) -> None:
        row_actions(("menu_book", t("attention_bots.knowledge"), lambda i=item: ui.navigate.to(f"{PATH}?bot={i.id}"),
                     f"knowledge-{item.id}"),
                    ("edit", t("common.edit"), lambda i=item: self.open_form(i), f"edit-{item.id}"),
                    ("delete", t("common.delete"), lambda i=item: self.ask_delete(i), f"delete-{item.id}"))

    async def delete_item(self, acting: Acting, item: AttentionBot) -> None:
        row = await self.refetch(attention_bot_service, acting, item)
        await attention_bot_service.delete(acting.session, acting.caller, row, clock=acting.clock)

    async def build_form(self, item: AttentionBot | None) -> None:
        entries: list[KnowledgeEntry] = []
        if item is not None:
            async with act() as acting:
                entries = await attention_bot_service.all_entries(acting.session, item)
        choices = {e.id: e.question for e in entries}
        kinds = {k.value: t(f"attention_bots.kind.{k.value}") for k in MenuKind}
        errors = FormErrors()
        menu = _menu_rows(item.menu if item else [])
        with form_dialog(t("attention_bots.edit") if item else t("attention_bots.new"),
                         testid_value="attention-bot-dialog", width="min(820px, 96vw)") as (dialog, body, footer):
            with body:
                name = testid(ui.input(t("common.name"), value=item.name if item else "")
                              .props("outlined maxlength=120").classes("w-full"), "attention-bot-name")
                defaults = AttentionBotCreate(client_id=1, name="x")
                texts = {}
                for key in ("welcome_message", "fallback_message", "handoff_message"):
                    texts[key] = testid(ui.textarea(t(f"attention_bots.{key}"),
                                                    value=getattr(item or defaults, key))
                                        .props("outlined autogrow maxlength=4096").classes("w-full"),
                                        f"attention-bot-{key}")
                    errors.bind(key, texts[key])
                errors.bind("name", name)
                ui.label(t("attention_bots.menu")).classes("text-subtitle2")
                help_text(t("attention_bots.menu_help") if entries else t("attention_bots.menu_help_empty"))

                def option_row(prefix: str, level: int) -> Any:
                    def draw(row: dict[str, Any], index: int) -> None:
                        with ui.column().classes("w-full gap-1"):
                            with ui.row().classes("w-full gap-2"):
                                label = testid(ui.input(t("attention_bots.label"), value=row["label"])
                                               .props("outlined dense maxlength=60")
                                               .style("flex: 1 1 12rem; min-width: 12rem"),
                                               f"{prefix}-label-{index}")
                                allowed = {k: v for k, v in kinds.items() if level < 2 or k != MenuKind.submenu}
                                kind = testid(ui.select(allowed, value=row["kind"], label=t("attention_bots.kind"))
                                              .props("outlined dense").classes("w-44"), f"{prefix}-kind-{index}")
                                entry = testid(ui.select(choices, value=row["entry_id"],
                                                         label=t("attention_bots.entry"))
                                               .props("outlined dense").classes("w-64"), f"{prefix}-entry-{index}")
                            entry.set_visibility(row["kind"] == MenuKind.answer)
                            label.on_value_change(lambda e: row.__setitem__("label", e.value))
                            entry.on_value_change(lambda e: row.__setitem__("entry_id", e.value))
                            errors.bind(f"{prefix}.{index}.label", label)
                            errors.bind(f"{prefix}.{index}.entry_id", entry)
                            nested = ui.column().classes("w-full q-pl-lg")
                            with nested:
                                ListEditor(row["options"], option_row(f"{prefix}.{index}.options", level + 1),
                                           new_row=_blank, add_label=t("attention_bots.add_option"),
                                           key=f"{prefix}-{index}-options", errors=errors,
                                           max_rows=MAX_MENU_OPTIONS)
                            nested.set_visibility(row["kind"] == MenuKind.submenu)

                            def kind_changed(e: Any) -> None:
                                row["kind"] = e.value
                                entry.set_visibility(e.value == MenuKind.answer)
                                nested.set_visibility(e.value == MenuKind.submenu)

                            kind.on_value_change(kind_changed)
                    return draw

                ListEditor(menu, option_row("menu", 1), new_row=_blank, add_label=t("attention_bots.add_option"),
                           key="menu", errors=errors, max_rows=MAX_MENU_OPTIONS)
                active = testid(ui.switch(t("common.active"), value=item.active if item else True),
                                "attention-bot-active")
                errors.add_banner()

            async def submit() -> None:
                values = {key: element.value or "" for key, element in texts.items()}

                async def work(acting: Acting) -> None:
                    if item is None:
                        await attention_bot_service.create(acting.session, acting.caller, AttentionBotCreate(
                            client_id=self.context.client_id, name=name.value or "", menu=_menu_payload(menu),
                            active=active.value, **values), clock=acting.clock)
                        return
                    row = await self.refetch(attention_bot_service, acting, item)
                    await attention_bot_service.update(acting.session, acting.caller, row, AttentionBotUpdate(
                        name=name.value or "", menu=_menu_payload(menu), active=active.value, **values),
                        clock=acting.clock)

                if await self.save(errors, work):
                    dialog.close()

            with footer:
                save_button(submit)
        dialog.open()


def _blank() -> dict[str, Any]:
    return {"label": "", "kind": MenuKind.handoff.value, "entry_id": None, "options": []}


@console_page("attention_bots")
async def attention_bots_page(context: PageContext) -> None:
    bot_id = context.query.get("bot", "")
    if bot_id.isdigit():
        await KnowledgeView(context, int(bot_id), back=PATH).mount()
        return
    await AttentionBotsScreen(context).mount()
