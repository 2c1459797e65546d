"""Login and the landing redirect (the workspace and supervision pages live in their own packages)."""

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from nicegui import ui

from atiende.i18n import t
from atiende.ui.components import testid
from atiende.ui.context import load_context, log_in
from atiende.ui.layout import frame, theme
from atiende.ui.navigation import home_path


def _safe_next(value: str | None) -> str:
    """Only a path of this site (never ``//host`` or a URL) may follow a login."""
    if value and value.startswith("/") and not value.startswith("//") and len(value) < 200 and "\\" not in value:
        return value
    return "/"


@ui.page("/")
async def landing() -> Response:
    context = await load_context()
    if context is None:
        return RedirectResponse("/login", status_code=303)
    if context.client is None and context.invitations:
        return RedirectResponse("/invitations", status_code=303)
    return RedirectResponse(home_path(context.role), status_code=303)


@ui.page("/login")
async def login_page(request: Request) -> None:
    theme()
    ui.page_title(f"{t('login.title')} · Atiende")
    target = _safe_next(request.query_params.get("next"))
    with ui.column().classes("w-full items-center justify-center min-h-screen q-pa-md"):
        with ui.card().classes("w-full max-w-sm q-pa-lg gap-3").props("bordered flat"):
            ui.label("Atiende").classes("text-h4 text-primary font-bold")
            ui.label(t("login.title")).classes("text-subtitle1 text-grey-8").props('role="heading" aria-level="1"')
            email = testid(ui.input(t("login.email")).props('type=email autocomplete=username autofocus outlined')
                           .classes("w-full"), "login-email")
            password = testid(ui.input(t("login.password"), password=True, password_toggle_button=True)
                              .props("autocomplete=current-password outlined").classes("w-full"), "login-password")
            error = testid(ui.label().classes("text-negative text-body2").props('role="alert"'), "login-error")
            error.set_visibility(False)

            async def submit() -> None:
                problem = await log_in(email.value or "", password.value or "",
                                       request.client.host if request.client else None)
                if problem:
                    error.set_text(t(problem))
                    error.set_visibility(True)
                    password.set_value("")
                    return
                ui.navigate.to(target)

            password.on("keydown.enter", submit)
            email.on("keydown.enter", submit)
            testid(ui.button(t("login.submit"), on_click=submit).props("unelevated no-caps").classes("w-full"),
                   "login-submit")


@ui.page("/no-client")
async def no_client() -> Response | None:
    context = await load_context()
    if context is None:
        return RedirectResponse("/login", status_code=303)
    with frame(context, None):
        ui.label(t("no_client.title")).classes("text-h5")
        ui.label(t("no_client.body")).classes("text-grey-8")
    return None
