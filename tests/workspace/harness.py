"""Browser-test harness for the workspace and the supervisor console: the real app in a subprocess
(its jobs worker on, delivering to a local receiver) seeded with the 24/7 contact center, Debian's
chromium through Playwright, one browser context per person, and the customer writing through the
signed API channel. Imported by the ``conftest.py`` of ``tests/workspace`` and ``tests/supervisor``."""

import asyncio
import itertools
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Locator, Page, async_playwright, expect
from playwright.async_api import TimeoutError as PlaywrightTimeoutError

from tests.live import LiveServer, live_server
from tests.workspace import seed
from tests.workspace.receiver import Receiver, receiver

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync", "--use-fake-ui-for-media-stream",
                 "--use-fake-device-for-media-stream", "--autoplay-policy=no-user-gesture-required"]
LAPTOP = {"width": 1366, "height": 900}
TABLET = {"width": 820, "height": 1180}
_seq = itertools.count(1)
expect.set_options(timeout=15_000)  # the machine may be busy: wait as long as for actions


@dataclass
class Center:
    server: LiveServer
    data: seed.Center
    receiver: Receiver

    @property
    def base_url(self) -> str:
        return self.server.base_url

    def token(self, email: str) -> str:
        return self.server.token(email, seed.PASSWORD)

    def headers(self, email: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(email)}"}


@pytest.fixture(scope="module")
def center(db_base: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Center]:
    workdir = tmp_path_factory.mktemp("workspace-server")
    with receiver() as callback, live_server(workdir, db_base, extra_env={
            "NICEGUI_STORAGE_PATH": str(workdir / "nicegui"), "ATIENDE_MEDIA_DIR": str(workdir / "media"),
            "ATIENDE_WORKER_ENABLED": "true", "ATIENDE_WHATSAPP_GRAPH_URL": callback.url,
            "ATIENDE_TELEGRAM_API_URL": callback.url}) as live:
        data = asyncio.run(seed.seed_center(live.database_url, callback.url))
        yield Center(server=live, data=data, receiver=callback)


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        await browser.close()


Login = Callable[..., Awaitable[Page]]


@pytest.fixture
async def login(browser: Browser, center: Center) -> AsyncIterator[Login]:
    """``await login(email)``: a new browser context (a person at their own computer), logged in."""
    contexts: list[BrowserContext] = []

    async def open_as(email: str, viewport: dict[str, int] = LAPTOP) -> Page:
        context = await browser.new_context(viewport=viewport, base_url=center.base_url, locale="es-CO")
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = await context.new_page()
        await page.goto("/login")
        await page.get_by_test_id("login-email").fill(email)
        await page.get_by_test_id("login-password").fill(seed.PASSWORD)
        await page.get_by_test_id("login-submit").click()
        await expect(page).not_to_have_url(re.compile(r"/login"))
        return page

    yield open_as
    for context in contexts:
        await context.close()


@pytest.fixture
async def customer(center: Center) -> AsyncIterator["Customers"]:
    async with httpx.AsyncClient(base_url=center.base_url, timeout=15) as http:
        customers = Customers(http, center)
        yield customers
        await customers.clean_slate()


class Customers:
    """Customers writing through the API channels (signed like the real integration)."""

    def __init__(self, http: httpx.AsyncClient, center: Center) -> None:
        self.http = http
        self.center = center

    async def write(self, text: str, *, name: str, contact: str | None = None, phone: str | None = None,
                    campaign: str = "sales") -> dict[str, Any]:
        data = self.center.data
        channel, secret = ((data.sales_channel_id, seed.SALES_SECRET) if campaign == "sales"
                           else (data.collections_channel_id, seed.COLLECTIONS_SECRET))
        return await seed.customer_writes(self.http, channel, secret, contact=contact or name.lower().replace(" ", "-"),
                                          name=name, text=text, message_id=f"msg-{next(_seq)}", phone=phone)

    async def api(self, method: str, path: str, email: str, **kwargs: Any) -> httpx.Response:
        return await self.http.request(method, path, headers=self.center.headers(email), **kwargs)

    async def set_presence(self, email: str, presence: str) -> None:
        response = await self.api("PUT", "/api/v1/agents/me/status", email, json={"presence": presence})
        assert response.status_code == 200, response.text

    async def clean_slate(self) -> None:
        """After a test: every agent offline, every open conversation closed by the supervisor."""
        for email in (seed.ANDREA, seed.BRUNO, seed.CARLA):
            await self.set_presence(email, "offline")
        for status in ("assigned", "queued"):
            listed = await self.api("GET", "/api/v1/conversations", seed.SUPERVISOR,
                                    params={"status": status, "limit": 100})
            for item in listed.json()["items"]:
                fields = ({"documento": "00000", "motivo": "Consulta"}
                          if item["campaign_id"] == self.center.data.sales_campaign_id else {})
                closed = await self.api("POST", f"/api/v1/conversations/{item['id']}/close", seed.SUPERVISOR,
                                        json={"fields": fields})
                assert closed.status_code == 200, closed.text

    async def conversation(self, conversation_id: int) -> dict[str, Any]:
        response = await self.api("GET", f"/api/v1/conversations/{conversation_id}", seed.SUPERVISOR)
        assert response.status_code == 200, response.text
        return response.json()


async def go_online(page: Page) -> None:
    """The agent opens Conversaciones and switches to En línea."""
    if not page.url.endswith("/workspace"):
        await page.goto("/workspace")
    await page.get_by_test_id("presence").get_by_role("button", name="En línea").click()
    await expect(page.get_by_test_id("presence").get_by_role("button", name="En línea")) \
        .to_have_attribute("aria-pressed", "true")


async def choose(page: Page, testid: str, option: str) -> None:
    """Picks ``option`` in the Quasar select carrying ``testid``. A live page may redraw the select
    while its menu opens (an event arrived), which closes the menu: then it is opened again."""
    await choose_in(page.get_by_test_id(testid), page, option)


async def click_until_shown(button: Locator, shown: Locator, attempts: int = 3) -> None:
    """Click ``button`` until ``shown`` appears: a live page may redraw the row under the pointer
    (an event arrived), and a click on the element being replaced is lost."""
    for _ in range(attempts - 1):
        await button.click()
        try:
            await shown.wait_for(timeout=3_000)
            return
        except PlaywrightTimeoutError:
            continue
    await button.click()
    await shown.wait_for()


async def choose_in(select: Locator, page: Page, option: str) -> None:
    wanted = page.get_by_role("option", name=option, exact=True)
    for _ in range(3):
        await select.click()
        try:
            await wanted.wait_for(timeout=3_000)
            break
        except PlaywrightTimeoutError:
            continue
    await wanted.click()
    await expect(page.get_by_role("listbox")).to_have_count(0)
