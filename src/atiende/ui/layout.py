"""The frame around every logged-in page: header (user, client, language, logout), sidebar, and
the guard that turns a forbidden URL into a 403 page."""

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from nicegui import ui

from atiende.i18n import LOCALES, t
from atiende.ui.components import testid
from atiende.ui.context import PageContext, SessionExpired, choose_client, load_context, log_out, save_locale
from atiende.ui.navigation import ENTRIES, NavEntry, visible_sections

Builder = Callable[[PageContext], Awaitable[None]]
BRAND = "#0f766e"


def theme() -> None:
    ui.colors(primary=BRAND, secondary="#334155", accent="#f59e0b", positive="#15803d", negative="#b91c1c")
    ui.query("body").classes("bg-grey-1")


def console_page(entry_key: str) -> Callable[[Builder], Builder]:
    """Registers ``build`` at the sidebar entry's URL, for the roles the entry allows."""
    entry = ENTRIES[entry_key]

    def decorator(build: Builder) -> Builder:
        @ui.page(entry.path)
        async def _page(request: Request) -> Response | None:
            return await render(request, entry, build)

        return build

    return decorator


async def render(request: Request, entry: NavEntry, build: Builder) -> Response | None:
    query = {k: v[:200] for k, v in list(request.query_params.items())[:10]}
    context = await load_context(query)
    if context is None:
        return RedirectResponse(f"/login?next={quote(entry.path)}", status_code=303)
    with frame(context, entry.key):
        if context.role not in entry.roles:
            forbidden()
            return None
        ui.page_title(f"{t('nav.' + entry.key)} · Atiende")
        await build(context)
    return None


def forbidden() -> None:
    ui.status_code(403)
    ui.page_title(f"{t('forbidden.title')} · Atiende")
    with ui.column().classes("items-center w-full q-pa-xl gap-4").props('data-testid="forbidden"'):
        ui.icon("block", size="4rem", color="negative")
        ui.label(t("forbidden.title")).classes("text-h5")
        ui.label(t("forbidden.body")).classes("text-grey-8")
        ui.link(t("forbidden.home"), "/")


@contextmanager
def frame(context: PageContext, active: str | None) -> Iterator[ui.column]:
    """Header and sidebar; yields the main content column."""
    theme()
    ui.on_exception(_on_exception)
    watch_session(context)
    drawer = ui.left_drawer(value=None, bordered=True).props("width=248 breakpoint=1023")
    with ui.header(elevated=False).classes("bg-white text-grey-10 items-center q-px-md q-py-sm gap-2 border-b border-gray-200"):
        ui.button(icon="menu", on_click=drawer.toggle).props(f'flat round aria-label="{t("header.menu")}"') \
            .classes("lt-md")
        ui.link("Atiende", "/").classes("text-h6 text-primary no-underline font-bold")
        ui.space()
        _client_switcher(context)
        _user_menu(context)
    with drawer:
        _sidebar(context, active)
    main = testid(ui.column().classes("w-full q-pa-md gap-4 max-w-screen-xl mx-auto"), "main-content")
    ui.skip_link(t("header.skip"), target=main)
    with main:
        yield main


def _client_switcher(context: PageContext) -> None:
    if len(context.clients) > 1:
        async def switch(e: object) -> None:
            choose_client(int(getattr(e, "value")))
            ui.navigate.reload()

        select = ui.select({c.id: c.name for c in context.clients}, value=context.client_id,
                           label=t("header.client"), on_change=switch).props("dense outlined options-dense")
        testid(select.classes("min-w-[12rem]"), "client-switcher")
    elif context.client is not None:
        testid(ui.label(context.client.name).classes("text-subtitle2 text-grey-8"), "client-name")


def _user_menu(context: PageContext) -> None:
    role = t(f"role.{context.role.value}") if context.role else ""
    with ui.button(icon="account_circle").props('flat no-caps data-testid="user-menu"'):
        with ui.column().classes("items-start gap-0 gt-xs"):
            ui.label(context.full_name).classes("text-body2 leading-tight")
            ui.label(role).classes("text-caption text-grey-7 leading-tight")
        with ui.menu():
            ui.menu_item(context.email).props("disable")
            if context.invitations:
                testid(ui.menu_item(t("invitations.menu", count=context.invitations),
                                    on_click=lambda: ui.navigate.to("/invitations")), "invitations-menu")
            ui.separator()
            for code in LOCALES:
                async def change(code: str = code) -> None:
                    await save_locale(code)
                    ui.navigate.reload()

                item = ui.menu_item(t(f"locale.{code}"), on_click=change)
                testid(item, f"locale-{code}")
                if code == context.locale:
                    item.props("active")
            ui.separator()

            async def leave() -> None:
                await log_out()
                ui.navigate.to("/login")

            testid(ui.menu_item(t("header.logout"), on_click=leave), "logout")


def _sidebar(context: PageContext, active: str | None) -> None:
    with ui.list().props('padding aria-label="panel"').classes("w-full") as nav:
        nav.props(f'aria-label="{t("nav.label")}"')
        for section, entries in visible_sections(context.role):
            ui.item_label(t(f"nav.section.{section.key}")).props("header").classes("text-weight-bold")
            for entry in entries:
                with ui.item().props(f'href="{entry.path}" data-testid="nav-{entry.key}"'
                                     + (" active" if entry.key == active else "") + " dense") \
                        .classes("rounded-borders q-my-xs"):
                    with ui.item_section().props("avatar"):
                        ui.icon(entry.icon)
                    with ui.item_section():
                        ui.label(t(f"nav.{entry.key}"))


def watch_session(context: PageContext) -> None:
    """Ends this page within seconds of the session ending elsewhere: a logout, a new password or a
    seat an admin deactivated, removed or changed (``auth.sessions_changed`` on the bus, from any
    process). The page checks its token again: gone, it goes to /login; its seat changed, it reloads
    (and shows what the seats now allow)."""
    from atiende import realtime
    from atiende.ui.context import act
    from atiende.ui.workspace.live import LiveFeed

    seat = (context.client.id, context.client.role) if context.client else None

    async def check(_events: list[object]) -> None:
        async with act() as acting:  # SessionExpired: the feed sends the page to /login
            membership = acting.caller.memberships.get(seat[0]) if seat else None
            now = (membership.client_id, membership.role) if membership and membership.active else None
            changed = now != seat or (seat is None and acting.caller.client_ids)
        if changed:
            ui.navigate.reload()

    LiveFeed([realtime.user(context.user_id)], check)  # type: ignore[arg-type]


async def _on_exception(exc: Exception) -> None:
    if isinstance(exc, SessionExpired):
        ui.navigate.to("/login")
    else:
        ui.notify(t("error.unexpected"), type="negative")

