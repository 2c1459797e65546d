"""Browser-test harness: the real app in a subprocess (uvicorn, free port, its own database) and
Debian's chromium driven by Playwright. One server per test module, one browser per session.

NiceGUI is process-global, so the app under test never runs inside the pytest process. Tests use
Playwright's async API; its ``expect`` waits for the page, so no test sleeps.
"""

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest
from playwright.async_api import Browser, Page, async_playwright

from tests.live import LiveServer, live_server
from tests.ui.seed import ADMIN, AGENT, PASSWORD, SUPERVISOR, seed_empty_client

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]
LAPTOP = {"width": 1366, "height": 900}
TABLET = {"width": 820, "height": 1180}


@pytest.fixture(scope="module")
def server(db_base: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The real app with the demo data plus an empty client, on this run's kind of database."""
    workdir = tmp_path_factory.mktemp("ui-server")
    with live_server(workdir, db_base, extra_env={"NICEGUI_STORAGE_PATH": str(workdir / "nicegui"),
                                                  "ATIENDE_WORKER_ENABLED": "false"}) as live:
        asyncio.run(seed_empty_client(live.database_url))
        yield live


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    """Playwright's async API, on the test session's event loop (its sync API would hold the loop)."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        await browser.close()


@pytest.fixture
async def page(browser: Browser, server: LiveServer) -> AsyncIterator[Page]:
    context = await browser.new_context(viewport=LAPTOP, base_url=server.base_url, locale="es-CO")
    context.set_default_timeout(15_000)
    page = await context.new_page()
    yield page
    await context.close()


class People:
    admin = ADMIN
    agent = AGENT
    supervisor = SUPERVISOR
    password = PASSWORD


@pytest.fixture
def people() -> type[People]:
    return People
