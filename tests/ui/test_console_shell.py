"""The console's frame: logging in and out, the sidebar each role sees, forbidden URLs, the
language, projects, and users with their licenses."""

import re

import pytest
from playwright.async_api import Page, expect

from tests.ui.helpers import choose_client, log_in
from tests.ui.seed import EMPTY_CLIENT_SEATS

pytestmark = pytest.mark.browser

CONFIG_ENTRIES = ["campaigns", "channels", "schedules", "typifications", "fields", "funnels", "survey_bots",
                  "projects", "users"]


async def test_wrong_password_is_refused_without_saying_which_part(page: Page, people) -> None:
    await page.goto("/login")
    await page.get_by_test_id("login-email").fill(people.admin)
    await page.get_by_test_id("login-password").fill("not-the-password")
    await page.get_by_test_id("login-submit").click()
    await expect(page.get_by_test_id("login-error")).to_have_text("Correo o contraseña incorrectos.")
    await expect(page).to_have_url(re.compile(r"/login"))


async def test_a_console_url_asks_for_login_first_and_then_opens(page: Page, people) -> None:
    await page.goto("/console/projects")
    await expect(page).to_have_url(re.compile(r"/login\?next=/console/projects"))
    await page.get_by_test_id("login-email").fill(people.admin)
    await page.get_by_test_id("login-password").fill(people.password)
    await page.get_by_test_id("login-password").press("Enter")
    await expect(page).to_have_url(re.compile(r"/console/projects$"))
    await expect(page.get_by_role("heading", name="Proyectos")).to_be_visible()


async def test_admin_sees_configuracion_and_administracion(page: Page, people) -> None:
    await log_in(page, people.admin)
    await expect(page).to_have_url(re.compile(r"/console/campaigns$"))
    for entry in CONFIG_ENTRIES:
        await expect(page.get_by_test_id(f"nav-{entry}")).to_be_visible()
    await expect(page.get_by_test_id("nav-admin_campaigns")).to_be_visible()
    await expect(page.get_by_text("Configuración", exact=True)).to_be_visible()
    await expect(page.get_by_text("Administración", exact=True)).to_be_visible()


async def test_an_agent_cannot_reach_configuracion(page: Page, people) -> None:
    await log_in(page, people.agent)
    await expect(page).to_have_url(re.compile(r"/workspace$"))
    for path in ["/console/campaigns", "/console/users", "/console/admin/campaigns", "/console/schedules"]:
        response = await page.goto(path)
        assert response is not None and response.status == 403
        await expect(page.get_by_test_id("forbidden")).to_be_visible()
        await expect(page.get_by_text("No tienes acceso a esta página")).to_be_visible()
        await expect(page.get_by_test_id("nav-workspace")).to_be_visible()
        await expect(page.get_by_text("Configuración", exact=True)).to_have_count(0)
        for entry in [*CONFIG_ENTRIES, "admin_campaigns"]:
            await expect(page.get_by_test_id(f"nav-{entry}")).to_have_count(0)


async def test_a_supervisor_sees_the_campaign_list_but_not_configuracion(page: Page, people) -> None:
    await log_in(page, people.supervisor, next_path="/console/admin/campaigns")
    await expect(page.get_by_test_id("nav-admin_campaigns")).to_be_visible()
    await expect(page.get_by_test_id("nav-campaigns")).to_have_count(0)
    response = await page.goto("/console/channels")
    assert response is not None and response.status == 403


async def test_logout_ends_the_session(page: Page, people) -> None:
    await log_in(page, people.admin)
    await page.get_by_test_id("user-menu").click()
    await page.get_by_test_id("logout").click()
    await expect(page).to_have_url(re.compile(r"/login$"))
    await page.goto("/console/projects")
    await expect(page).to_have_url(re.compile(r"/login"))


async def test_the_language_is_chosen_per_user(page: Page, people) -> None:
    await log_in(page, people.supervisor, next_path="/console/admin/campaigns")
    await page.get_by_test_id("user-menu").click()
    await page.get_by_test_id("locale-en").click()
    await expect(page.get_by_text("Administration", exact=True)).to_be_visible()
    await expect(page.get_by_test_id("nav-admin_campaigns")).to_contain_text("Campaigns")
    await page.reload()
    await expect(page.get_by_text("Administration", exact=True)).to_be_visible()
    await page.get_by_test_id("user-menu").click()
    await page.get_by_test_id("locale-es").click()
    await expect(page.get_by_text("Administración", exact=True)).to_be_visible()


async def test_projects_are_created_validated_edited_and_deleted(page: Page, people) -> None:
    await log_in(page, people.admin, next_path="/console/projects")
    await choose_client(page)
    await expect(page.get_by_test_id("empty-state")).to_contain_text("Aún no tienes proyectos")
    await page.get_by_test_id("create").click()
    await page.get_by_test_id("save").click()
    await expect(page.get_by_test_id("project-dialog")).to_contain_text("Este campo es obligatorio.")
    await page.get_by_test_id("project-name").fill("Cobranza")
    await page.get_by_test_id("project-description").fill("Recordatorios de pago")
    await page.get_by_test_id("save").click()
    await expect(page.get_by_test_id("project-dialog")).to_have_count(0)
    row = page.get_by_test_id("projects-table").get_by_role("row", name=re.compile("Cobranza"))
    await expect(row).to_contain_text("Recordatorios de pago")

    await page.get_by_test_id("create").click()
    await page.get_by_test_id("project-name").fill("Cobranza")
    await page.get_by_test_id("save").click()
    await expect(page.get_by_test_id("project-dialog")).to_contain_text("Ya existe un proyecto «Cobranza».")
    await page.get_by_test_id("cancel").click()

    await row.get_by_role("button", name="Editar").click()
    await page.get_by_test_id("project-name").fill("Cobranza temprana")
    await page.get_by_test_id("save").click()
    await expect(page.get_by_test_id("projects-table")).to_contain_text("Cobranza temprana")

    await page.get_by_test_id("create").click()
    await page.get_by_test_id("project-name").fill("Proyecto temporal")
    await page.get_by_test_id("save").click()
    temporary = page.get_by_role("row", name=re.compile("Proyecto temporal"))
    await temporary.get_by_role("button", name="Eliminar").click()
    await page.get_by_test_id("confirm-yes").click()
    await expect(page.get_by_test_id("projects-table")).not_to_contain_text("Proyecto temporal")


async def test_users_and_licenses_refuse_more_seats_than_the_plan(page: Page, people) -> None:
    await log_in(page, people.admin, next_path="/console/users")
    await choose_client(page)
    await expect(page.get_by_test_id("seats")).to_have_text(f"3 de {EMPTY_CLIENT_SEATS} licencias usadas")
    await page.get_by_test_id("create").click()
    await page.get_by_test_id("user-email").fill("nueva.agente@example.com")
    await page.get_by_test_id("user-full-name").fill("Nueva Agente")
    await page.get_by_test_id("user-password").fill("agente-pass-1")
    await page.get_by_test_id("save").click()
    await expect(page.get_by_test_id("seats")).to_have_text(f"4 de {EMPTY_CLIENT_SEATS} licencias usadas")
    await expect(page.get_by_test_id("users-table")).to_contain_text("nueva.agente@example.com")

    await page.get_by_test_id("create").click()
    await page.get_by_test_id("user-email").fill("una.mas@example.com")
    await page.get_by_test_id("user-password").fill("agente-pass-2")
    await page.get_by_test_id("save").click()
    dialog = page.get_by_test_id("user-dialog")
    await expect(dialog).to_contain_text("Todas las licencias del plan están en uso")
    await page.get_by_test_id("cancel").click()
    await expect(page.get_by_test_id("users-table")).not_to_contain_text("una.mas@example.com")
    await expect(page.get_by_test_id("seats")).to_have_text(f"4 de {EMPTY_CLIENT_SEATS} licencias usadas")
