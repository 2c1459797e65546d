"""The shape shared by the setup screens: a heading with Crear, a list, a form dialog, delete.

A screen subclasses ``CatalogScreen`` and fills in how to load its rows, draw one, and edit one.
Rules stay in the services: the screen builds the service's schema, calls it, and shows the
``ValidationError`` or ``AtiendeError`` it gets next to the field.
"""

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

from nicegui import ui
from pydantic import ValidationError

from atiende.errors import AtiendeError, NotFound
from atiende.i18n import t
from atiende.ui.components import confirm, empty_state, markup_table, page_heading, row_actions
from atiende.ui.context import Acting, PageContext, act
from atiende.ui.errors import FormErrors, describe

T = TypeVar("T")


class CatalogScreen(ABC, Generic[T]):
    key: str  # i18n prefix and data-testid prefix ("schedules")
    icon: str = "inbox"

    def __init__(self, context: PageContext) -> None:
        self.context = context
        self.items: list[T] = []

    # --- to fill in ---------------------------------------------------------------------
    @abstractmethod
    async def load(self, acting: Acting) -> list[T]: ...

    @abstractmethod
    def headers(self) -> list[str]: ...

    @abstractmethod
    def draw_row(self, item: T) -> None:
        """The ``td`` cells of one row (actions are added after them)."""

    @abstractmethod
    async def build_form(self, item: T | None) -> None:
        """Builds and opens the create/edit dialog (inside a host that survives list refreshes)."""

    async def delete_item(self, acting: Acting, item: T) -> None:
        raise NotImplementedError

    def item_name(self, item: T) -> str:
        return str(getattr(item, "name", ""))

    def item_id(self, item: T) -> int:
        return int(getattr(item, "id"))

    async def refetch(self, service: Any, acting: Acting, item: T) -> Any:
        """The row again, in this session; gone meanwhile → a "not found" error."""
        row = await service.get(acting.session, acting.caller, self.item_id(item))
        if row is None:
            raise NotFound(t("error.gone"), field="item_id")
        return row

    # --- the screen -----------------------------------------------------------------------
    async def mount(self) -> None:
        page_heading(t(f"{self.key}.title"), subtitle=t(f"{self.key}.subtitle"), action=t("common.create"),
                     on_action=lambda: self.open_form(None))
        self.host = ui.element("div")
        await self.reload(refresh=False)
        self.body()

    async def open_form(self, item: T | None) -> None:
        self.host.clear()
        with self.host:
            await self.build_form(item)

    async def reload(self, *, refresh: bool = True) -> None:
        async with act() as acting:
            self.items = await self.load(acting)
        if refresh:
            self.body.refresh()

    def summary(self) -> None:
        """Anything shown above the list, refreshed with it."""

    @ui.refreshable_method
    def body(self) -> None:
        self.summary()
        if not self.items:
            empty_state(t(f"{self.key}.empty"), action=t(f"{self.key}.create_first"),
                        on_click=lambda: self.open_form(None), icon=self.icon)
            return
        with markup_table([*self.headers(), ""], testid_value=f"{self.key}-table") as _body:
            for item in self.items:
                with ui.element("tr").props(f'data-testid="{self.key}-row-{self.item_id(item)}"'):
                    self.draw_row(item)
                    with ui.element("td").classes("text-right"):
                        self.draw_actions(item)

    def draw_actions(self, item: T) -> None:
        row_actions(("edit", t("common.edit"), lambda i=item: self.open_form(i), f"edit-{self.item_id(item)}"),
                    ("delete", t("common.delete"), lambda i=item: self.ask_delete(i), f"delete-{self.item_id(item)}"))

    async def ask_delete(self, item: T) -> None:
        if not await confirm(t("common.confirm_delete", name=self.item_name(item))):
            return
        try:
            async with act() as acting:
                await self.delete_item(acting, item)
        except (AtiendeError, ValidationError) as exc:
            ui.notify(" ".join(message for _, message in describe(exc)), type="negative", multi_line=True)
            return
        ui.notify(t("common.deleted", name=self.item_name(item)), type="positive")
        await self.reload()

    async def save(self, errors: FormErrors, work: Callable[[Acting], Awaitable[Any]]) -> bool:
        """Runs ``work`` in one session; shows its errors on the form. True when it was saved."""
        errors.clear()
        try:
            async with act() as acting:
                await work(acting)
        except (AtiendeError, ValidationError) as exc:
            errors.show(exc)
            return False
        ui.notify(t("common.saved"), type="positive")
        await self.reload()
        return True
