"""In a real browser: an admin invites a person from Usuarios y licencias, the person accepts after
logging in, and open pages end within seconds when their session or seat ends elsewhere."""

import re

import httpx
from playwright.async_api import Browser, Page, expect

from tests.live import LiveServer
from tests.ui.conftest import LAPTOP
from tests.ui.helpers import choose_client, log_in
from tests.ui.seed import ADMIN, AGENT, EMPTY_CLIENT, PASSWORD, SUPERVISOR


async def second_page(browser: Browser, server: LiveServer) -> Page:
    context = await browser.new_context(viewport=LAPTOP, base_url=server.base_url, locale="es-CO")
    context.set_default_timeout(15_000)
    return await context.new_page()


def api(server: LiveServer, email: str, password: str = PASSWORD) -> httpx.Client:
    token = server.token(email, password)
    return httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=10)


async def test_an_invited_person_accepts_and_then_the_admin_sees_their_name(page: Page, browser: Browser,
                                                                             server: LiveServer) -> None:
    await log_in(page, ADMIN, next_path="/console/users")
    await choose_client(page)
    await page.get_by_test_id("create").click()
    await expect(page.get_by_test_id("user-dialog")).to_contain_text("recibe una invitación")
    await page.get_by_test_id("user-email").fill("invitada@example.com")
    await page.get_by_test_id("user-full-name").fill("Ines Invitada")
    await page.get_by_test_id("user-password").fill("clave-inicial-1")
    await page.get_by_test_id("save").click()
    row = page.get_by_test_id("users-table").get_by_role("row", name=re.compile("invitada@example.com"))
    await expect(row).to_contain_text("Invitación pendiente")
    await expect(row).not_to_contain_text("Ines Invitada")

    invited = await second_page(browser, server)
    await log_in(invited, "invitada@example.com", "clave-inicial-1")
    await expect(invited).to_have_url(re.compile(r"/invitations$"))
    card = invited.locator('[data-testid^="invitation-"]')
    await expect(card).to_contain_text(EMPTY_CLIENT)
    await expect(card).to_contain_text("Como Agente")
    await card.get_by_role("button", name="Aceptar").click()
    await expect(invited).to_have_url(re.compile(r"/workspace"))
    await invited.context.close()

    await page.reload()
    row = page.get_by_test_id("users-table").get_by_role("row", name=re.compile("invitada@example.com"))
    await expect(row).to_contain_text("Ines Invitada")
    await expect(row).not_to_contain_text("Invitación pendiente")


async def test_a_deactivated_license_ends_the_open_workspace(page: Page, server: LiveServer) -> None:
    await log_in(page, AGENT, next_path="/workspace")
    await expect(page).to_have_url(re.compile(r"/workspace"))
    with api(server, ADMIN) as admin:
        client_id = next(m["client_id"] for m in admin.get("/api/v1/me").json()["memberships"]
                         if m["client_name"] == EMPTY_CLIENT)
        seat = admin.get("/api/v1/memberships", params={"client_id": client_id, "q": AGENT}).json()["items"][0]
        try:
            assert admin.patch(f"/api/v1/memberships/{seat['id']}", json={"active": False}).status_code == 200
            await expect(page.get_by_test_id("forbidden")).to_be_visible()  # the workspace is gone
        finally:
            admin.patch(f"/api/v1/memberships/{seat['id']}", json={"active": True})


async def test_a_new_password_set_elsewhere_sends_the_open_page_to_login(page: Page, server: LiveServer) -> None:
    await log_in(page, SUPERVISOR)
    await expect(page).not_to_have_url(re.compile(r"/login"))
    with api(server, SUPERVISOR) as supervisor:
        changed = supervisor.patch("/api/v1/me", json={"current_password": PASSWORD, "new_password": "otra-clave-9"})
        assert changed.status_code == 200
        try:
            await expect(page).to_have_url(re.compile(r"/login"))
        finally:
            supervisor.patch("/api/v1/me", json={"current_password": "otra-clave-9", "new_password": PASSWORD})


async def test_logout_ends_the_console_session_on_the_server(page: Page, browser: Browser,
                                                             server: LiveServer) -> None:
    await log_in(page, ADMIN, next_path="/console/users")
    other_tab = await page.context.new_page()
    await other_tab.goto("/console/users")
    await expect(other_tab.get_by_test_id("users-table")).to_be_visible()
    await page.get_by_test_id("user-menu").click()
    await page.get_by_test_id("logout").click()
    await expect(page).to_have_url(re.compile(r"/login"))
    await expect(other_tab).to_have_url(re.compile(r"/login"))  # the same session, ended in every tab
