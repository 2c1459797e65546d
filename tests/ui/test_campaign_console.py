"""Configuración → Campañas → Crear, the way Hibot's help article walks through it: an admin of a
new client creates each prerequisite in the console, then the campaign through the seven tabs
(Guardar stays disabled until the last mandatory value), finds it in Administración → Campañas
and edits it. The demo client covers server-side refusals, duplicate, deactivate and delete."""

import re

import pytest
from playwright.async_api import Page, expect

from tests.ui.helpers import choose_client, field_of, log_in, open_screen, pick, pick_many, save_dialog
from tests.ui.seed import DEMO_CLIENT, DEMO_SUPERVISOR, EMPTY_CLIENT, EMPTY_CLIENT_HISTORY_HOURS

pytestmark = pytest.mark.browser

TYPIFICATIONS = {"inactivity": "Finalizada por inactividad", "transferred": "Transferida",
                 "agent_closed": "Finalizada por el agente", "mass_transfer": "Transferencia masiva"}


async def create_prerequisites(page: Page) -> None:
    await open_screen(page, "projects")
    await page.get_by_test_id("create").click()
    await page.get_by_test_id("project-name").fill("Cobranza")
    await save_dialog(page, "project-dialog")

    await open_screen(page, "schedules")
    await expect(page.get_by_test_id("empty-state")).to_contain_text("Aún no tienes horarios.")
    await page.get_by_test_id("empty-state").get_by_role("button", name="Crear horario").click()
    await page.get_by_test_id("schedule-name").fill("Oficina Bogotá")
    await page.get_by_test_id("add-band-0").click()
    await expect(page.get_by_test_id("band-0-0-start")).to_have_value("08:00")
    await page.get_by_test_id("copy-monday").click()
    await expect(page.get_by_test_id("schedule-summary")).to_have_text("Lunes a viernes 08:00 – 17:00, America/Bogota")
    await save_dialog(page, "schedule-dialog")
    await expect(page.get_by_test_id("schedules-table")).to_contain_text("Lunes a viernes 08:00 – 17:00")

    await open_screen(page, "typifications")
    for name in TYPIFICATIONS.values():
        await page.get_by_test_id("create").click()
        await page.get_by_test_id("typification-name").fill(name)
        await save_dialog(page, "typification-dialog")
    await expect(page.get_by_test_id("typifications-tree")).to_contain_text("finalizada_por_inactividad")

    await open_screen(page, "channels")
    await page.get_by_test_id("create").click()
    await pick(page, "channel-kind", "Chat web")
    await page.get_by_test_id("channel-name").fill("Chat del sitio")
    await page.get_by_test_id("channel-allowed-origins").fill("https://www.cobranza.example")
    await save_dialog(page, "channel-dialog")

    await open_screen(page, "fields")
    await page.get_by_test_id("create").click()
    await page.get_by_test_id("field-label").fill("Número de documento")
    await expect(page.get_by_test_id("field-key")).to_have_value("numero_de_documento")
    await save_dialog(page, "field-dialog")

    await open_screen(page, "survey_bots")
    await page.get_by_test_id("create").click()
    await page.get_by_test_id("survey-bot-name").fill("Encuesta de cierre")
    await page.get_by_test_id("question-text-0").fill("Del 1 al 5, ¿cómo te atendimos?")
    await save_dialog(page, "survey-bot-dialog")


async def expect_save_disabled(page: Page) -> None:
    await expect(page.get_by_test_id("campaign-modal").get_by_test_id("save")).to_be_disabled()


async def test_an_admin_creates_a_campaign_through_the_seven_tabs(page: Page, people) -> None:
    await log_in(page, people.admin)
    await choose_client(page, EMPTY_CLIENT)
    await page.get_by_test_id("nav-campaigns").click()
    prerequisites = page.get_by_test_id("campaign-prerequisites")
    for needed in ["un proyecto", "un horario", "tipificaciones", "un canal"]:
        await expect(prerequisites).to_contain_text(needed)

    await create_prerequisites(page)
    await page.get_by_test_id("nav-campaigns").click()
    await expect(page.get_by_test_id("campaign-prerequisites")).to_have_count(0)
    await page.get_by_test_id("create").click()
    modal = page.get_by_test_id("campaign-modal")
    tabs = [await modal.get_by_role("tab").nth(i).inner_text() for i in range(7)]
    assert [re.sub(r"\d+$", "", t).strip() for t in tabs] == [
        "Detalle de la campaña", "Canales", "Horario", "Tipificaciones", "Permisos", "Campos", "Método de asignación"]
    await expect_save_disabled(page)
    await expect(page.get_by_test_id("tab-badge-typifications")).to_have_text("4")

    # 1. Detalle de la campaña
    await expect(page.get_by_test_id("campaign-client")).to_have_text(EMPTY_CLIENT)
    await pick(page, "campaign-project", "Cobranza")
    await page.get_by_test_id("campaign-name").fill("Recordatorios de pago")
    await expect(page.get_by_test_id("tab-badge-detail")).to_be_hidden()
    await expect(field_of(page, "campaign-survey-bot")).to_have_class(re.compile("q-field--disabled"))
    await page.get_by_test_id("campaign-survey").click()
    await expect(page.get_by_test_id("tab-badge-detail")).to_have_text("1")
    await pick(page, "campaign-survey-bot", "Encuesta de cierre")
    await expect_save_disabled(page)

    # 2. Canales
    await page.get_by_test_id("tab-channels").click()
    await pick_many(page, "campaign-channels", "Chat web · Chat del sitio")
    await expect(page.get_by_test_id("tab-badge-channels")).to_be_hidden()

    # 3. Horario
    await page.get_by_test_id("tab-schedule").click()
    await pick(page, "campaign-schedule", "Oficina Bogotá")
    await expect(page.get_by_test_id("schedule-bands")).to_have_text("Lunes a viernes 08:00 – 17:00, America/Bogota")
    await expect(modal).to_contain_text("Cerrar: la conversación que llega fuera del horario se finaliza")
    await expect(modal).to_contain_text("Encolar: la conversación espera en la cola")
    await page.get_by_test_id("campaign-action").get_by_text("Encolar").click()
    await page.get_by_test_id("campaign-send-message").click()
    await expect(page.get_by_test_id("tab-badge-schedule")).to_have_text("1")
    await page.get_by_test_id("campaign-message").fill("Nuestro horario es de lunes a viernes de 8 a 17.")
    await expect(page.get_by_test_id("tab-badge-schedule")).to_be_hidden()

    # 4. Tipificaciones
    await page.get_by_test_id("tab-typifications").click()
    for slot, name in TYPIFICATIONS.items():
        await pick(page, f"campaign-typification-{slot.replace('_', '-')}", name)
    await page.get_by_test_id("campaign-inactivity-timeout").fill("45")
    await expect(page.get_by_test_id("tab-badge-typifications")).to_be_hidden()

    # 5. Permisos
    await page.get_by_test_id("tab-permissions").click()
    hours = page.get_by_test_id("permission-history_hours")
    await expect(hours).to_be_disabled()
    await page.get_by_test_id("permission-history_enabled").click()
    await expect(hours).to_be_enabled()
    await hours.fill("24")
    await page.get_by_test_id("permission-transfer_between_agents").click()

    # 6. Campos
    await page.get_by_test_id("tab-fields").click()
    await page.get_by_test_id("campaign-fields-add").click()
    await expect(page.get_by_test_id("tab-badge-fields")).to_have_text("1")
    await expect(page.get_by_test_id("campaign-field-type-0")).to_be_visible()
    await pick(page, "campaign-field-type-0", "Texto")
    await pick(page, "campaign-field-0", "Número de documento")
    await page.get_by_test_id("campaign-field-required-0").click()
    await expect(page.get_by_test_id("tab-badge-fields")).to_be_hidden()
    await expect_save_disabled(page)

    # 7. Método de asignación: the last mandatory value unlocks Guardar
    await page.get_by_test_id("tab-assignment").click()
    await expect(modal).to_contain_text("Round Robin: reparte por turnos")
    await page.get_by_test_id("campaign-assignment").get_by_text("Round Robin").click()
    await expect(page.get_by_test_id("missing-summary")).to_have_text("Todo listo para guardar.")
    await save_dialog(page, "campaign-modal")

    table = page.get_by_test_id("campaigns-table")
    row = table.get_by_role("row", name=re.compile("Recordatorios de pago"))
    for text in ["Cobranza", "Chat web · Chat del sitio", "Oficina Bogotá", "Round Robin", "Activo"]:
        await expect(row).to_contain_text(text)

    await page.get_by_test_id("nav-admin_campaigns").click()
    # The demo's outbound campaign has the same name in Demo S.A.: the row of this client is the one.
    listed = page.get_by_test_id("admin-campaigns-table").get_by_role("row", name=re.compile("Recordatorios de pago")) \
        .filter(has_text=EMPTY_CLIENT)
    for text in [EMPTY_CLIENT, "Cobranza", "Chat web · Chat del sitio", "Oficina Bogotá", "Round Robin"]:
        await expect(listed).to_contain_text(text)

    # Editing it opens the same modal with every tab filled in
    await listed.get_by_role("button", name="Abrir").click()
    await expect(page.get_by_test_id("campaign-name")).to_have_value("Recordatorios de pago")
    await expect(page.get_by_test_id("campaign-client")).to_have_text(EMPTY_CLIENT)
    await page.get_by_test_id("tab-permissions").click()
    await expect(page.get_by_test_id("permission-history_hours")).to_have_value("24")
    await page.get_by_test_id("tab-assignment").click()
    await page.get_by_test_id("campaign-assignment").get_by_text("Inteligente").click()
    await page.get_by_test_id("tab-detail").click()
    await page.get_by_test_id("campaign-name").fill("Recordatorios de pago temprano")
    await save_dialog(page, "campaign-modal")
    edited = page.get_by_test_id("admin-campaigns-table").get_by_role("row", name=re.compile("pago temprano"))
    await expect(edited).to_contain_text("Inteligente")


async def test_history_hours_refuse_more_than_the_plan_allows(page: Page, people) -> None:
    await log_in(page, people.admin)
    await choose_client(page, EMPTY_CLIENT)
    await page.get_by_test_id("nav-campaigns").click()
    await page.get_by_test_id("create").click()
    await page.get_by_test_id("tab-permissions").click()
    plan = f"Máximo de tu plan: {EMPTY_CLIENT_HISTORY_HOURS} horas."
    await expect(page.get_by_test_id("history-hours-plan")).to_have_text(plan)
    hours = page.get_by_test_id("permission-history_hours")
    await expect(hours).to_be_disabled()
    await page.get_by_test_id("permission-history_enabled").click()
    await hours.fill(str(EMPTY_CLIENT_HISTORY_HOURS + 1))
    modal = page.get_by_test_id("campaign-modal")
    await expect(modal).to_contain_text(
        f"No puede superar el máximo de tu plan: {EMPTY_CLIENT_HISTORY_HOURS} horas.")
    await expect(page.get_by_test_id("tab-badge-permissions")).to_have_text("1")
    await hours.fill(str(EMPTY_CLIENT_HISTORY_HOURS))
    await expect(page.get_by_test_id("tab-badge-permissions")).to_be_hidden()
    await expect(modal).not_to_contain_text("No puede superar")


async def fill_demo_campaign(page: Page, name: str, channel: str) -> None:
    await pick(page, "campaign-project", "Cobranza")
    await page.get_by_test_id("campaign-name").fill(name)
    await page.get_by_test_id("tab-channels").click()
    await pick_many(page, "campaign-channels", channel)
    await page.get_by_test_id("tab-schedule").click()
    await pick(page, "campaign-schedule", "Oficina Bogotá")
    await page.get_by_test_id("campaign-action").get_by_text("Cerrar").click()
    await page.get_by_test_id("tab-typifications").click()
    for slot, typification in TYPIFICATIONS.items():
        await pick(page, f"campaign-typification-{slot.replace('_', '-')}", f"Gestión › {typification}")
    await page.get_by_test_id("tab-assignment").click()
    await page.get_by_test_id("campaign-assignment").get_by_text("Inteligente").click()


async def test_a_channel_in_use_is_named_and_the_refusal_shows_next_to_it(page: Page, people) -> None:
    await log_in(page, people.admin)
    await choose_client(page, DEMO_CLIENT)
    await page.get_by_test_id("nav-campaigns").click()
    await page.get_by_test_id("create").click()
    await fill_demo_campaign(page, "Cobros por API", "API · API demo — en uso por Soporte general")
    await page.get_by_test_id("campaign-modal").get_by_test_id("save").click()
    await expect(page.get_by_test_id("tab-channels")).to_have_attribute("aria-selected", "true")
    await expect(page.get_by_test_id("tab-badge-channels")).to_have_text("1")
    await expect(page.get_by_test_id("campaign-modal")).to_contain_text(
        "Un canal elegido ya atiende otra campaña activa")
    # Saved as inactive it may share the channel
    await page.get_by_test_id("tab-detail").click()
    await page.get_by_test_id("campaign-active").click()
    await save_dialog(page, "campaign-modal")
    row = page.get_by_test_id("campaigns-table").get_by_role("row", name=re.compile("Cobros por API"))
    await expect(row).to_contain_text("Inactivo")


async def test_campaigns_are_duplicated_deactivated_and_deleted(page: Page, people) -> None:
    await log_in(page, people.admin)
    await choose_client(page, DEMO_CLIENT)
    await page.get_by_test_id("nav-campaigns").click()
    table = page.get_by_test_id("campaigns-table")
    source = table.locator("tr", has=page.get_by_text("Soporte general", exact=True))
    await source.get_by_role("button", name="Duplicar").click()
    copy = table.locator("tr", has=page.get_by_text("Soporte general (copia)", exact=True))
    await expect(copy).to_contain_text("Inactivo")
    await expect(copy).to_contain_text("Se configuran después")

    await source.get_by_role("button", name="Desactivar").click()
    await expect(source).to_contain_text("Inactivo")
    await source.get_by_role("button", name="Activar").click()
    await expect(source).to_contain_text("Activo")

    await copy.get_by_role("button", name="Eliminar").click()
    await expect(page.get_by_test_id("confirm-dialog")).to_contain_text("¿Eliminar la campaña «Soporte general (copia)»?")
    await page.get_by_test_id("confirm-yes").click()
    await expect(copy).to_have_count(0)
    await expect(source).to_have_count(1)


async def test_a_supervisor_reads_the_campaign_list_of_their_client_with_search_and_filter(page: Page) -> None:
    await log_in(page, DEMO_SUPERVISOR, next_path="/console/admin/campaigns")
    table = page.get_by_test_id("admin-campaigns-table")
    await expect(table).to_contain_text("Soporte general")
    await expect(table).not_to_contain_text(EMPTY_CLIENT)
    await pick(page, "campaign-project-filter", "Cobranza")
    await expect(page.get_by_test_id("main-content")).not_to_contain_text("Soporte general")
    await pick(page, "campaign-project-filter", "Atención al cliente")
    await expect(table).to_contain_text("Soporte general")
    await page.get_by_test_id("campaign-search").fill("zzz-no-existe")
    await expect(page.get_by_test_id("empty-state")).to_contain_text("Ninguna campaña coincide")
    await page.get_by_test_id("campaign-search").fill("soporte")
    await expect(table).to_contain_text("Soporte general")
    await expect(table.get_by_role("button", name="Abrir")).to_have_count(0)
