"""Envíos in a real browser, against the demo's own stand-in for Meta: a supervisor uploads a list
with a bad row, maps the template (the bubble previews the first row), launches, watches the
counters reach *leído* and *respondido*, downloads the results; the agent gets the reply with the
send's variables beside it."""

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.async_api import Page, async_playwright, expect

from atiende.outbound.demo import DEMO_LIST
from tests.conftest import fresh_database
from tests.live import LiveServer, _seed, free_port, start_server, stop_server
from tests.workspace.harness import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.browser
DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.fixture(scope="module")
def server(db_base: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    workdir = tmp_path_factory.mktemp("outbound-server")
    with fresh_database(workdir, db_base) as url:
        demo = asyncio.run(_seed(url))
        port = free_port()
        log_path = workdir / "server.log"
        process, base = start_server(url, log_path, port=port, extra_env={
            "ATIENDE_WHATSAPP_GRAPH_URL": f"http://127.0.0.1:{port}/demo/graph"}, demo=True)
        try:
            yield LiveServer(base_url=base, database_url=url, demo=demo, process=process, log_path=log_path)
        finally:
            stop_server(process)


async def log_in(page: Page, email: str) -> None:
    await page.goto("/login")
    await page.get_by_test_id("login-email").fill(email)
    await page.get_by_test_id("login-password").fill("atiende-demo")
    await page.get_by_test_id("login-submit").click()
    await expect(page).not_to_have_url(re.compile(r"/login"))


async def pick(page: Page, testid: str, option: str) -> None:
    await page.get_by_test_id(testid).click()
    await page.locator(".q-menu").last.get_by_role("option", name=option, exact=True).click()


async def test_a_payment_reminder_from_the_list_to_the_agents_inbox(
        server: LiveServer, tmp_path: Path) -> None:
    listing = tmp_path / "deudores.csv"
    listing.write_text(DEMO_LIST, encoding="utf-8")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(base_url=server.base_url, viewport={"width": 1400, "height": 1000})
            await log_in(page, "supervisor@demo.atiende.app")
            await page.goto("/console/sends")
            await page.get_by_test_id("send-create").click()
            await page.locator('[data-testid="send-upload"] input[type=file]').set_input_files(str(listing))
            await expect(page.get_by_test_id("send-audience-counts")).to_contain_text("3 válidos · 1 con teléfono")
            await expect(page.get_by_test_id("send-row-errors")).to_contain_text("12345")
            await expect(page.get_by_test_id("send-preview")).to_contain_text("Laura Gómez")
            await pick(page, "send-map-header-0", "nombre")
            await pick(page, "send-map-body-0", "monto")
            await pick(page, "send-map-body-1", "fecha_vencimiento")
            await pick(page, "send-map-buttons-0", "referencia")
            await expect(page.get_by_test_id("send-bubble")).to_contain_text("$ 1.871.000 vence el 15 dic 2026")
            await page.get_by_test_id("send-save-message").click()
            await expect(page.get_by_test_id("review-will_send")).to_have_text("3")
            await page.get_by_test_id("send-launch").click()
            await expect(page.get_by_test_id("count-read")).to_have_text("3", timeout=30_000)
            await expect(page.get_by_test_id("count-replied")).to_have_text("1", timeout=30_000)
            await expect(page.get_by_test_id("send-status")).to_have_text("Completado")
            async with page.expect_download() as download:
                await page.get_by_test_id("send-download").click()
            results = Path(await (await download.value).path()).read_text(encoding="utf-8-sig")
            assert results.count("\n") == 5 and "invalid_phone" in results and ",read," in results
            await expect(page.get_by_test_id("send-chart")).to_be_visible()
            await page.set_viewport_size({"width": 390, "height": 844})  # the chart fits a phone
            await expect(page.locator(".q-notification")).to_have_count(0, timeout=10_000)  # "Guardado" gone
            await page.wait_for_timeout(800)  # ECharts redraws at the new width
            await page.locator(".q-card", has=page.get_by_test_id("send-chart")).screenshot(
                path=str(DOCS / "outbound-send-chart.png"))

            agent = await browser.new_page(base_url=server.base_url, viewport={"width": 1400, "height": 900})
            await log_in(agent, "agente1@demo.atiende.app")
            await agent.goto("/workspace")
            await agent.get_by_test_id("presence").get_by_role("button", name="En línea").click()
            # The demo's Meta answers from the first recipient whose call reached it (calls run
            # concurrently); wait for that conversation, not for any of the demo's others.
            replied = agent.locator('[data-testid^="inbox-item-"]', has_text="Recordatorios de pago")
            await replied.first.click(timeout=20_000)
            card = agent.get_by_test_id("send-context")
            await expect(card).to_contain_text(re.compile(r"\$ (1\.871\.000|420\.500|96\.000)"))
            await expect(card).to_contain_text(re.compile(r"(15|18|20) dic 2026"))
            await expect(agent.get_by_test_id("thread")).to_contain_text("¿puedo pagar en dos cuotas?")
        finally:
            await browser.close()


async def test_an_audience_from_an_agents_cartera_in_the_directory(server: LiveServer) -> None:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(base_url=server.base_url, viewport={"width": 1400, "height": 1000})
            await log_in(page, "supervisor@demo.atiende.app")
            await page.goto("/console/sends")
            await page.get_by_test_id("send-create").click()
            await pick(page, "send-directory-agent", "Andrea Agente")
            await page.get_by_test_id("send-directory-use").click()
            counts = page.get_by_test_id("send-audience-counts")
            await expect(counts).to_contain_text("2 válidos · 0 con teléfono inválido")
            preview = page.get_by_test_id("send-preview")
            await expect(preview).to_contain_text("Valentina Ríos")
            await expect(preview).to_contain_text("Julián Castro")
            await expect(preview).not_to_contain_text("Camila Herrera")  # another agent's cartera
            await expect(page.get_by_text("nombre, correo, documento, ciudad")).to_be_visible()
            await page.get_by_test_id("send-directory-q").fill("Valentina")
            await page.get_by_test_id("send-directory-use").click()
            await expect(counts).to_contain_text("1 válidos")
            await expect(page.get_by_test_id("send-directory-q")).to_have_value("Valentina")  # kept on redraw
            await page.get_by_test_id("send-detail").screenshot(path=str(DOCS / "outbound-directory-audience.png"))
        finally:
            await browser.close()
