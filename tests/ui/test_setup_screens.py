"""The setup screens behind a campaign, each real CRUD with the service's validation shown next to
the field: schedules (bands, overnight, holidays, overlaps), typifications as a tree, fields with
options, funnels and survey bots in order, channels with write-only credentials. Also the
console at tablet width."""

import re

import pytest
from playwright.async_api import Page, expect

from tests.ui.conftest import TABLET
from tests.ui.helpers import field_of, log_in, open_screen, pick, save_dialog
from tests.ui.seed import DEMO_CLIENT

pytestmark = pytest.mark.browser


async def test_schedules_refuse_overlapping_bands_next_to_the_band_and_keep_overnight_ones(page: Page, people) -> None:
    await log_in(page, people.admin)
    await open_screen(page, "schedules", DEMO_CLIENT)
    await page.get_by_test_id("create").click()
    await page.get_by_test_id("schedule-name").fill("Turno noche")
    await pick(page, "schedule-timezone", "America/Mexico_City", search="Mexico_C")
    await page.get_by_test_id("add-band-4").click()
    await page.get_by_test_id("band-4-0-start").fill("22:00")
    await page.get_by_test_id("band-4-0-end").fill("06:00")
    await page.get_by_test_id("band-4-0-overnight").click()
    await page.get_by_test_id("add-band-5").click()
    await page.get_by_test_id("band-5-0-start").fill("05:00")
    await page.get_by_test_id("band-5-0-end").fill("09:00")
    await expect(page.get_by_test_id("schedule-summary")).to_have_text(
        "Viernes 22:00 – 06:00 (día siguiente); Sábado 05:00 – 09:00, America/Mexico_City")
    await page.get_by_test_id("save").click()
    await expect(page.get_by_test_id("day-5")).to_contain_text("Revisa esta franja")
    await page.get_by_test_id("band-5-0-start").fill("07:00")
    await page.get_by_test_id("holidays-add").click()
    await page.get_by_test_id("holiday-day-0").fill("2026-12-31")
    await page.get_by_test_id("holiday-name-0").fill("Fin de año")
    await save_dialog(page, "schedule-dialog")
    row = page.get_by_test_id("schedules-table").get_by_role("row", name=re.compile("Turno noche"))
    await expect(row).to_contain_text("Viernes 22:00 – 06:00 (día siguiente); Sábado 07:00 – 09:00, America/Mexico_City")
    await expect(row).to_contain_text("31 dic 2026")


async def test_typifications_form_a_tree(page: Page, people) -> None:
    await log_in(page, people.admin)
    await open_screen(page, "typifications", DEMO_CLIENT)
    tree = page.get_by_test_id("typifications-tree")
    parent = tree.get_by_role("treeitem").filter(has=page.get_by_text("Venta realizada", exact=True))
    await parent.get_by_role("button", name="Agregar una sub-tipificación a Venta realizada").click()
    await expect(page.get_by_test_id("typification-parent")).to_have_value("Venta realizada (venta)")
    await page.get_by_test_id("typification-name").fill("Venta con descuento")
    await page.get_by_test_id("typification-code").fill("venta con descuento")
    await page.get_by_test_id("save").click()
    await expect(field_of(page, "typification-code")).to_contain_text("Usa solo letras sin tildes")
    await page.get_by_test_id("typification-code").fill("venta_descuento")
    await save_dialog(page, "typification-dialog")
    child = tree.locator("[role=treeitem][aria-level='3']", has=page.get_by_text("Venta con descuento"))
    await expect(child).to_contain_text("venta_descuento")
    await child.get_by_role("button", name="Eliminar").click()
    await page.get_by_test_id("confirm-yes").click()
    await expect(tree).not_to_contain_text("Venta con descuento")


async def test_a_select_field_needs_options_and_a_typification_in_use_cannot_go(page: Page, people) -> None:
    await log_in(page, people.admin)
    await open_screen(page, "fields", DEMO_CLIENT)
    await page.get_by_test_id("create").click()
    await page.get_by_test_id("field-label").fill("Canal de preferencia")
    await pick(page, "field-type", "Lista de opciones")
    await page.get_by_test_id("save").click()
    await expect(page.get_by_test_id("field-dialog")).to_contain_text("Una lista de opciones necesita al menos una opción.")
    await page.get_by_test_id("options-add").click()
    await page.get_by_test_id("field-option-0").fill("Llamada")
    await page.get_by_test_id("options-add").click()
    await page.get_by_test_id("field-option-1").fill("llamada")
    await page.get_by_test_id("save").click()
    await expect(field_of(page, "field-option-1")).to_contain_text("Esta opción está repetida.")
    await page.get_by_test_id("field-option-1").fill("Correo")
    await save_dialog(page, "field-dialog")
    row = page.get_by_test_id("fields-table").get_by_role("row", name=re.compile("Canal de preferencia"))
    await expect(row).to_contain_text("Llamada, Correo")

    await open_screen(page, "typifications", DEMO_CLIENT)
    used = page.get_by_test_id("typifications-tree").get_by_role("treeitem").filter(
        has=page.get_by_text("Transferida", exact=True))
    await used.get_by_role("button", name="Eliminar").click()
    await page.get_by_test_id("confirm-yes").click()
    # Both demo campaigns use it (the outbound "Recordatorios de pago" too), named in alphabetical order.
    await expect(page.get_by_text(
        "Está en uso por las campañas Recordatorios de pago, Soporte general; cámbialas o elimínalas primero.")) \
        .to_be_visible()
    await expect(used).to_be_visible()  # refused: still in the tree


async def test_funnel_stages_and_survey_questions_keep_their_order(page: Page, people) -> None:
    await log_in(page, people.admin)
    await open_screen(page, "funnels", DEMO_CLIENT)
    await page.get_by_test_id("create").click()
    await page.get_by_test_id("funnel-name").fill("Cobro")
    await page.get_by_test_id("stage-0").fill("Acuerdo")
    await page.get_by_test_id("stages-add").click()
    await page.get_by_test_id("stage-1").fill("Recordatorio")
    await page.get_by_test_id("stages-up-1").click()
    await expect(page.get_by_test_id("stage-0")).to_have_value("Recordatorio")
    await save_dialog(page, "funnel-dialog")
    row = page.get_by_test_id("funnels-table").get_by_role("row", name=re.compile("Cobro"))
    await expect(row).to_contain_text("Recordatorio → Acuerdo")

    await open_screen(page, "survey_bots", DEMO_CLIENT)
    await page.get_by_test_id("create").click()
    await page.get_by_test_id("survey-bot-name").fill("Encuesta corta")
    await page.get_by_test_id("question-text-0").fill("¿Te ayudamos?")
    await pick(page, "question-kind-0", "Sí / No")
    await page.get_by_test_id("questions-add").click()
    await expect(page.get_by_test_id("question-text-1")).to_be_visible()
    await page.get_by_test_id("survey-bot-timeout").fill("15")
    await page.get_by_test_id("save").click()
    await expect(field_of(page, "question-text-1")).to_contain_text("Este campo es obligatorio.")
    await page.get_by_test_id("questions-remove-1").click()
    await expect(page.get_by_test_id("question-text-1")).to_have_count(0)
    await save_dialog(page, "survey-bot-dialog")
    row = page.get_by_test_id("survey_bots-table").get_by_role("row", name=re.compile("Encuesta corta"))
    await expect(row).to_contain_text("1. ¿Te ayudamos?")
    await expect(row).to_contain_text("15 min")


async def new_channel(page: Page, people, kind: str, name: str) -> None:
    """An admin on Canales, with the new channel's dialog open on ``kind`` and named."""
    await log_in(page, people.admin)
    await open_screen(page, "channels", DEMO_CLIENT)
    await page.get_by_test_id("create").click()
    await pick(page, "channel-kind", kind)
    await page.get_by_test_id("channel-name").fill(name)


async def test_channel_credentials_are_write_only(page: Page, people) -> None:
    await new_channel(page, people, "Telegram", "Bot de cobros")
    await page.get_by_test_id("channel-bot-token").fill("no-es-un-token")
    await page.get_by_test_id("save").click()
    await expect(field_of(page, "channel-bot-token")).to_contain_text("El token de @BotFather tiene la forma")
    await page.get_by_test_id("channel-bot-token").fill("123456789:AAEhBP0av28aMOBtxyXvKjM7xlGYXYwr4s0")
    await save_dialog(page, "channel-dialog")
    row = page.get_by_test_id("channels-table").get_by_role("row", name=re.compile("Bot de cobros"))
    await expect(row).to_contain_text("Configuradas")
    await row.get_by_role("button", name="Editar").click()
    await expect(page.get_by_test_id("channel-bot-token")).to_have_value("")
    await expect(page.get_by_test_id("credentials-keep")).to_contain_text("Déjalas vacías para mantenerlas")
    await expect(page.get_by_test_id("channel-webhook")).to_contain_text("/webhooks/telegram/")
    await page.get_by_test_id("channel-name").fill("Bot de cobranza")
    await save_dialog(page, "channel-dialog")
    renamed = page.get_by_test_id("channels-table").get_by_role("row", name=re.compile("Bot de cobranza"))
    await expect(renamed).to_contain_text("Configuradas")
    assert "AAEhBP0av28aMOBtxyXvKjM7xlGYXYwr4s0" not in await page.content()


async def test_a_whatsapp_number_takes_metas_messaging_limit_and_portfolio(page: Page, people) -> None:
    await new_channel(page, people, "WhatsApp", "Cobranza Bogotá")
    await page.get_by_test_id("channel-phone-number-id").fill("109900000077")
    for secret in ("access-token", "app-secret", "verify-token"):
        await page.get_by_test_id(f"channel-{secret}").fill(f"secreto-de-prueba-{secret}")
    await page.get_by_test_id("channel-max-messages-per-second").fill("2000")
    await pick(page, "channel-daily-recipient-limit", "10.000")
    await page.get_by_test_id("channel-business-portfolio-id").fill("771100223344")
    await page.get_by_test_id("save").click()
    await expect(field_of(page, "channel-max-messages-per-second")).to_contain_text("1000")
    await page.screenshot(path="docs/channel-messaging-limit.png")
    await page.get_by_test_id("channel-max-messages-per-second").fill("200")
    await save_dialog(page, "channel-dialog")
    row = page.get_by_test_id("channels-table").get_by_role("row", name=re.compile("Cobranza Bogotá"))
    await row.get_by_role("button", name="Editar").click()
    await expect(page.get_by_test_id("channel-max-messages-per-second")).to_have_value("200")
    await expect(page.get_by_test_id("channel-daily-recipient-limit")).to_contain_text("10.000")
    await expect(page.get_by_test_id("channel-business-portfolio-id")).to_have_value("771100223344")


async def test_the_console_works_at_tablet_width(page: Page, people) -> None:
    await page.set_viewport_size(TABLET)
    await log_in(page, people.admin)
    await expect(page.get_by_test_id("nav-schedules")).to_be_hidden()
    await page.get_by_role("button", name="Abrir o cerrar el menú").click()
    await page.get_by_test_id("nav-schedules").click()
    await expect(page).to_have_url(re.compile(r"/console/schedules$"))
    await page.goto("/console/campaigns")
    await page.get_by_test_id("create").click()
    await page.get_by_test_id("tab-assignment").click()
    await expect(page.get_by_test_id("campaign-assignment")).to_be_visible()
    await expect(page.get_by_test_id("campaign-modal").get_by_test_id("save")).to_be_visible()


async def test_probar_bot_answers_like_the_live_bot_and_shows_why(page: Page, people) -> None:
    await log_in(page, people.admin)
    await open_screen(page, "attention_bots", DEMO_CLIENT)
    row = page.get_by_test_id("attention_bots-table").get_by_role("row", name=re.compile("Asistente Demo"))
    await expect(row).to_contain_text("4 opciones")
    await row.get_by_role("button", name="Base de conocimiento").click()
    await expect(page.get_by_test_id("knowledge-table")).to_contain_text("¿Cómo pago mi factura?")
    await page.get_by_test_id("try-text").fill("olvide mi clave y no puedo entrar")
    await page.get_by_test_id("try-run").click()
    await expect(page.get_by_test_id("try-decision")).to_have_text("Responde con la entrada elegida")
    await expect(page.get_by_test_id("try-reply")).to_contain_text("¿Olvidaste tu contraseña?")
    await expect(page.get_by_test_id("try-bot")).to_contain_text("Entrada elegida: Olvidé mi contraseña")
    await expect(page.get_by_test_id("try-bot")).to_contain_text("Segunda opción:")
    await page.get_by_test_id("try-text").fill("quiero hablar con una persona")
    await page.get_by_test_id("try-run").click()
    await expect(page.get_by_test_id("try-decision")).to_have_text("Pasa la conversación a un asesor")
    # a new entry, refused while its answer is empty, then saved and matched
    await page.get_by_test_id("create").click()
    await page.get_by_test_id("entry-question").fill("¿Tienen parqueadero?")
    await page.get_by_test_id("entry-phrasings").fill("dónde parqueo\nhay estacionamiento")
    await page.get_by_test_id("save").click()
    await expect(page.get_by_test_id("entry-dialog")).to_be_visible()
    await expect(field_of(page, "entry-answer")).to_contain_text(re.compile("."))
    await page.get_by_test_id("entry-answer").fill("Sí, en el sótano del edificio, gratis para clientes.")
    await save_dialog(page, "entry-dialog")
    await expect(page.get_by_test_id("knowledge-table")).to_contain_text("¿Tienen parqueadero?")
    await page.get_by_test_id("try-text").fill("hay parqueadero?")
    await page.get_by_test_id("try-run").click()
    await expect(page.get_by_test_id("try-reply")).to_contain_text("en el sótano del edificio")


async def test_unanswered_questions_become_an_entry_or_a_phrasing(page: Page, people) -> None:
    await log_in(page, people.admin)
    await open_screen(page, "attention_bots", DEMO_CLIENT)
    row = page.get_by_test_id("attention_bots-table").get_by_role("row", name=re.compile("Asistente Demo"))
    await row.get_by_role("button", name="Base de conocimiento").click()
    table = page.get_by_test_id("unanswered-table")
    # the demo's, most asked first
    await expect(table.get_by_role("row").nth(1)).to_contain_text("¿Tienen tienda física en Medellín?")
    await expect(table.get_by_role("row").nth(1)).to_contain_text("4 veces")
    first = table.get_by_role("row").filter(has_text="Medellín")
    await first.get_by_role("button", name="Crear entrada").click()
    await expect(page.get_by_test_id("entry-question")).to_have_value("¿Tienen tienda física en Medellín?")
    await page.get_by_test_id("entry-answer").fill("Sí, en el Centro Comercial Santafé, local 120.")
    await save_dialog(page, "entry-dialog")
    await expect(page.get_by_test_id("knowledge-table")).to_contain_text("¿Tienen tienda física en Medellín?")
    await expect(table).not_to_contain_text("Medellín")
    nequi = table.get_by_role("row").filter(has_text="nequi")
    await nequi.get_by_role("button", name="Agregar como frase").click()
    await pick(page, "learn-entry", "¿Cómo pago mi factura?", search="pago mi")
    await save_dialog(page, "learn-dialog")
    await expect(table).not_to_contain_text("nequi")
    await page.get_by_test_id("try-text").fill("puedo pagar con nequi?")
    await page.get_by_test_id("try-run").click()
    await expect(page.get_by_test_id("try-bot")).to_contain_text("Entrada elegida: ¿Cómo pago mi factura?")
