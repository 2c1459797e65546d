"""Configuración → Integraciones in chromium: create a webhook (an unusable URL refused next to
the field), Probar, the log entry, Reenviar delivered by the server's dispatcher; at phone width too."""

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from tests.integrations.receiver import LocalReceiver, local_receiver
from tests.live import LiveServer, live_server
from tests.ui.helpers import field_of, log_in, open_screen
from tests.ui.seed import DEMO_CLIENT, seed_empty_client

pytestmark = pytest.mark.browser
DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.fixture(scope="module")
def server(db_base: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """This module's server may reach the receiver on 127.0.0.1 and runs its dispatcher."""
    workdir = tmp_path_factory.mktemp("ui-integrations")
    with live_server(workdir, db_base, extra_env={"NICEGUI_STORAGE_PATH": str(workdir / "nicegui"),
                                                  "ATIENDE_WORKER_ENABLED": "true",
                                                  "ATIENDE_WEBHOOKS_ALLOW_PRIVATE_ADDRESSES": "true"}) as live:
        asyncio.run(seed_empty_client(live.database_url))
        yield live


@pytest.fixture
def crm() -> Iterator[LocalReceiver]:
    with local_receiver() as receiver:
        yield receiver


async def test_create_probar_log_and_reenviar(page: Page, people, crm: LocalReceiver, db_kind: str) -> None:
    await log_in(page, people.admin)
    await open_screen(page, "integrations", DEMO_CLIENT)
    await page.get_by_test_id("create").click()
    await page.get_by_test_id("webhook-name").fill("CRM de cobranza")
    await page.get_by_test_id("webhook-url").fill("ftp://crm.example/atiende")
    await page.get_by_test_id("webhook-event-message.status").click()  # unticked: not wanted
    await page.get_by_test_id("save").click()
    await expect(field_of(page, "webhook-url")).to_contain_text("http")
    await page.get_by_test_id("webhook-url").fill(crm.url)
    await page.get_by_test_id("save").click()
    await expect(page.get_by_test_id("webhook-dialog")).to_have_count(0)
    table = page.get_by_test_id("integrations-table")
    await expect(table).to_contain_text("CRM de cobranza")
    await expect(table).to_contain_text("Eventos: 7")
    if db_kind == "sqlite":
        await page.screenshot(path=str(DOCS / "console-integrations.png"))

    row = table.get_by_role("row", name="CRM de cobranza")
    await row.get_by_role("button", name="Probar").click()
    await expect(page.get_by_text("Prueba entregada: respuesta 200")).to_be_visible()
    assert [p["type"] for p in crm.payloads] == ["ping"]

    await row.get_by_role("button", name="Registro de envíos").click()
    log = page.get_by_test_id("log-table")
    await expect(log).to_contain_text("ping")
    await expect(log).to_contain_text("Entregado")
    await log.get_by_role("button", name="Reenviar").click()
    await expect(page.get_by_text("Reenvío programado")).to_be_visible()
    for _ in range(50):  # the server's dispatcher sends it within its poll
        if len(crm.requests) == 2:
            break
        await asyncio.sleep(0.1)
    assert [p["id"] for p in crm.payloads][0] == crm.payloads[-1]["id"] and len(crm.requests) == 2
    await page.get_by_test_id("log-refresh").click()
    await expect(log).to_contain_text("Intentos: 2")

    await page.set_viewport_size({"width": 390, "height": 844})
    await expect(page.get_by_test_id("webhook-log")).to_be_visible()
    if db_kind == "sqlite":
        await page.screenshot(path=str(DOCS / "console-integrations-log-phone.png"))
