"""Configuración → Tipificaciones: the disposition codes stamped on finished conversations, as a
tree (a typification may have sub-typifications)."""

from collections import defaultdict
from typing import Any

from nicegui import ui

from atiende.catalog.models import Typification
from atiende.catalog.schemas import TypificationCreate, TypificationUpdate
from atiende.catalog.service import typification_service
from atiende.i18n import t
from atiende.ui.components import active_chip, empty_state, form_dialog, help_text, icon_button, save_button, testid
from atiende.ui.console.base import CatalogScreen
from atiende.ui.context import Acting, PageContext
from atiende.ui.data import fetch_all
from atiende.ui.errors import FormErrors
from atiende.ui.layout import console_page

ROOT = 0  # the "no parent" choice of the parent select


def slug(text: str) -> str:
    """A code suggested from a name: "Finalizada por inactividad" → "finalizada_por_inactividad"."""
    import unicodedata

    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return "_".join("".join(c if c.isalnum() else " " for c in plain).split())[:60]


class TypificationsScreen(CatalogScreen[Typification]):
    key = "typifications"
    icon = "account_tree"

    async def load(self, acting: Acting) -> list[Typification]:
        return await fetch_all(typification_service.list, acting.session, acting.caller,
                               client_id=self.context.client_id)

    def headers(self) -> list[str]:
        return []

    def draw_row(self, item: Typification) -> None:
        """Rows are drawn as a tree by ``body``."""

    def children(self) -> dict[int | None, list[Typification]]:
        known = {item.id for item in self.items}
        tree: dict[int | None, list[Typification]] = defaultdict(list)
        for item in sorted(self.items, key=lambda i: i.name.lower()):
            tree[item.parent_id if item.parent_id in known else None].append(item)
        return tree

    @ui.refreshable_method
    def body(self) -> None:
        if not self.items:
            empty_state(t("typifications.empty"), action=t("typifications.create_first"),
                        on_click=lambda: self.open_form(None), icon=self.icon)
            return
        tree = self.children()
        with ui.card().classes("w-full q-pa-none").props('flat bordered data-testid="typifications-tree"'):
            with ui.list().props(f'separator role="tree" aria-label="{t("typifications.title")}"').classes("w-full"):
                for node in tree[None]:
                    self._node(node, tree, depth=0)

    def _node(self, node: Typification, tree: dict[int | None, list[Typification]], depth: int) -> None:
        with ui.item().props(f'data-testid="typifications-row-{node.id}" role="treeitem" aria-level="{depth + 1}"'):
            with ui.item_section().style(f"padding-left: {depth * 1.75}rem"):
                with ui.row().classes("items-center gap-2 no-wrap"):
                    ui.icon("subdirectory_arrow_right" if depth else "label", color="grey-6")
                    ui.label(node.name).classes("text-weight-medium")
                    ui.label(node.code).classes("text-caption text-grey-7 font-mono")
                    if not node.active:
                        active_chip(False)
            with ui.item_section().props("side"):
                with ui.row().classes("gap-0 no-wrap"):
                    icon_button("add", t("typifications.add_child", name=node.name),
                                lambda n=node: self.open_child_form(n), f"add-child-{node.id}")
                    self.draw_actions(node)
        for child in tree.get(node.id, []):
            self._node(child, tree, depth + 1)

    async def open_child_form(self, parent: Typification) -> None:
        self.host.clear()
        with self.host:
            await self.build_form(None, parent_id=parent.id)

    async def delete_item(self, acting: Acting, item: Typification) -> None:
        row = await self.refetch(typification_service, acting, item)
        await typification_service.delete(acting.session, acting.caller, row, clock=acting.clock)

    async def build_form(self, item: Typification | None, parent_id: int | None = None) -> None:
        errors = FormErrors()
        excluded = self._descendants(item.id) if item else set()
        parents: dict[int, str] = {ROOT: t("typifications.no_parent")}
        parents.update({i.id: f"{i.name} ({i.code})" for i in sorted(self.items, key=lambda i: i.name.lower())
                        if i.id not in excluded})
        chosen = (item.parent_id if item else parent_id) or ROOT
        touched: dict[str, bool] = {"code": item is not None}
        with form_dialog(t("typifications.edit") if item else t("typifications.new"),
                         testid_value="typification-dialog") as (dialog, body, footer):
            with body:
                name = testid(ui.input(t("common.name"), value=item.name if item else "")
                              .props("outlined maxlength=120").classes("w-full"), "typification-name")
                code = testid(ui.input(t("typifications.code"), value=item.code if item else "")
                              .props("outlined maxlength=60").classes("w-full"), "typification-code")
                help_text(t("typifications.code_help"))
                parent = testid(ui.select(parents, value=chosen if chosen in parents else ROOT,
                                          label=t("typifications.parent"), with_input=True)
                                .props("outlined").classes("w-full"), "typification-parent")
                active = testid(ui.switch(t("common.active"), value=item.active if item else True),
                                "typification-active")
                for field, element in (("name", name), ("code", code), ("parent_id", parent)):
                    errors.bind(field, element)
                errors.add_banner()

                def suggest(e: Any) -> None:
                    if not touched["code"]:
                        code.set_value(slug(e.value or ""))

                name.on_value_change(suggest)
                code.on("keydown", lambda: touched.__setitem__("code", True))

            async def submit() -> None:
                parent_id_value = None if parent.value in (None, ROOT) else int(parent.value)

                async def work(acting: Acting) -> None:
                    if item is None:
                        data = TypificationCreate(client_id=self.context.client_id, name=name.value or "",
                                                  code=code.value or "", parent_id=parent_id_value,
                                                  active=active.value)
                        await typification_service.create(acting.session, acting.caller, data, clock=acting.clock)
                        return
                    row = await self.refetch(typification_service, acting, item)
                    changes = TypificationUpdate(name=name.value or "", code=code.value or "",
                                                 parent_id=parent_id_value, active=active.value)
                    await typification_service.update(acting.session, acting.caller, row, changes, clock=acting.clock)

                if await self.save(errors, work):
                    dialog.close()

            with footer:
                save_button(submit)
        dialog.open()

    def _descendants(self, item_id: int) -> set[int]:
        tree = self.children()
        found, pending = {item_id}, [item_id]
        while pending:
            for child in tree.get(pending.pop(), []):
                if child.id not in found:
                    found.add(child.id)
                    pending.append(child.id)
        return found


@console_page("typifications")
async def typifications_page(context: PageContext) -> None:
    await TypificationsScreen(context).mount()
