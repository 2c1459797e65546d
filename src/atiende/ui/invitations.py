"""Mis invitaciones: the seats admins offered me. A seat opens its client only once I accept it."""

from fastapi.responses import RedirectResponse, Response
from nicegui import ui

from atiende.auth.invitations import invitation_service
from atiende.i18n import t
from atiende.ui.components import testid
from atiende.ui.context import act, choose_client, load_context
from atiende.ui.layout import frame
from atiende.ui.runtime import runtime


@ui.page("/invitations")
async def invitations_page() -> Response | None:
    context = await load_context()
    if context is None:
        return RedirectResponse("/login?next=/invitations", status_code=303)
    async with act() as acting:
        rows = [(m.id, m.client_id, m.client.name, m.role)
                for m in await invitation_service.pending(acting.session, acting.caller.user)]
    if not rows and context.client is not None:
        return RedirectResponse("/", status_code=303)  # nothing left to answer (e.g. just accepted)
    with frame(context, None):
        ui.page_title(f"{t('invitations.title')} · Atiende")
        ui.label(t("invitations.title")).classes("text-h5").props('role="heading" aria-level="1"')
        ui.label(t("invitations.body")).classes("text-grey-8")
        if not rows:
            testid(ui.label(t("invitations.none")).classes("text-grey-7"), "invitations-none")
        for membership_id, client_id, client_name, role in rows:
            with testid(ui.card().props("flat bordered").classes("w-full max-w-xl"), f"invitation-{membership_id}"):
                ui.label(client_name).classes("text-subtitle1 text-weight-medium")
                ui.label(t("invitations.as_role", role=t(f"role.{role.value}"))).classes("text-grey-8")
                with ui.row().classes("gap-2"):
                    async def accept(membership_id: int = membership_id, client_id: int = client_id) -> None:
                        async with act() as acting:
                            await invitation_service.accept(acting.session, acting.caller.user, membership_id,
                                                            bus=runtime().app.state.bus)
                        choose_client(client_id)
                        ui.navigate.to("/")

                    async def decline(membership_id: int = membership_id) -> None:
                        async with act() as acting:
                            await invitation_service.decline(acting.session, acting.caller.user, membership_id)
                        ui.navigate.reload()

                    testid(ui.button(t("invitations.accept"), icon="check", on_click=accept)
                           .props("unelevated no-caps"), f"accept-{membership_id}")
                    testid(ui.button(t("invitations.decline"), on_click=decline).props("flat no-caps"),
                           f"decline-{membership_id}")
    return None
