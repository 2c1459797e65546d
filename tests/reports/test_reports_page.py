"""Reportes in a real browser: the supervisor of the demo changes the range and the campaign, the
cards follow the API's numbers, a number opens the conversations behind it, and the XLSX export
holds those rows."""

import asyncio
import io
import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from openpyxl import load_workbook
from playwright.async_api import Browser, Page, async_playwright, expect
from sqlalchemy import select

from atiende.campaigns.models import Campaign, CampaignChannel
from atiende.conversations.models import CampaignAgent
from atiende.db import Database
from atiende.demo import DEMO_PASSWORD
from atiende.reports.demo_history import seed_history
from tests.live import LiveServer, live_server
from tests.workspace.harness import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.browser
DOCS = Path(__file__).resolve().parents[2] / "docs"
SUPERVISOR = "supervisor@demo.atiende.app"
SECOND = "Cobranza demo"


async def _second_campaign(url: str) -> int:
    """A second campaign of the demo client, with 30 closed conversations of its own."""
    database = Database(url)
    try:
        async with database.session() as session:
            first = await session.scalar(select(Campaign).where(Campaign.name == "Soporte general"))
            assert first is not None
            columns = {c.key: getattr(first, c.key) for c in Campaign.__table__.columns
                       if c.key not in ("id", "name", "attention_bot_id", "created_at", "updated_at")}
            second = Campaign(**columns, name=SECOND,
                              channel_links=[CampaignChannel(channel_id=first.channel_ids[0])])
            session.add(second)
            await session.flush()
            agents = (await session.scalars(select(CampaignAgent.membership_id).where(
                CampaignAgent.campaign_id == first.id))).all()
            session.add_all([CampaignAgent(campaign_id=second.id, membership_id=m) for m in agents])
            await session.flush()
            await seed_history(session, second, datetime.now(UTC), count=30, days=20, seed=5)
            return second.id
    finally:
        await database.dispose()


@pytest.fixture(scope="module")
def server(db_base: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, int]]:
    workdir = tmp_path_factory.mktemp("reports-server")
    with live_server(workdir, db_base, extra_env={"NICEGUI_STORAGE_PATH": str(workdir / "nicegui")}) as live:
        yield live, asyncio.run(_second_campaign(live.database_url))


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


async def open_reports(browser: Browser, base: str, viewport: dict[str, int]) -> Page:
    context = await browser.new_context(viewport=viewport, base_url=base, locale="es-CO", accept_downloads=True)
    context.set_default_timeout(20_000)
    page = await context.new_page()
    await page.goto("/login")
    await page.get_by_test_id("login-email").fill(SUPERVISOR)
    await page.get_by_test_id("login-password").fill(DEMO_PASSWORD)
    await page.get_by_test_id("login-submit").click()
    await expect(page).not_to_have_url(re.compile(r"/login"))
    nav = page.get_by_test_id("nav-reports").first
    await expect(nav).to_have_attribute("href", "/reports")
    if viewport["width"] >= 1024:
        await nav.click()
    else:  # the sidebar folds away on a phone
        await page.goto("/reports")
    await expect(page).to_have_url(re.compile(r"/reports$"))
    await expect(page.get_by_test_id("kpi-received-value")).to_be_visible()
    return page


async def choose(page: Page, testid: str, option: str) -> None:
    await page.get_by_test_id(testid).click()
    await page.get_by_role("option", name=option, exact=True).click()


def api_received(live: LiveServer, **params: object) -> int:
    response = httpx.get(f"{live.base_url}/api/v1/reports/summary", params=params, headers=live.headers(SUPERVISOR))
    assert response.status_code == 200, response.text
    return int(response.json()["current"]["received"])


async def test_supervisor_reads_filters_drills_down_and_exports(browser: Browser,
                                                                server: tuple[LiveServer, int]) -> None:
    live, second_id = server
    page = await open_reports(browser, live.base_url, {"width": 1280, "height": 800})
    cards = page.get_by_test_id("kpi-received-value")
    await expect(cards).to_have_text(str(api_received(live, preset="last_7_days")))
    await expect(page.locator("[data-testid=chart-volume] canvas")).to_have_count(1)
    await choose(page, "report-range", "Últimos 30 días")
    month = api_received(live, preset="last_30_days")
    assert month == 150  # 120 of the demo campaign + 30 of the second one, all within 30 days
    await expect(cards).to_have_text(str(month))
    await choose(page, "report-campaign", SECOND)
    await expect(cards).to_have_text("30")
    assert api_received(live, preset="last_30_days", campaign_id=second_id) == 30
    await page.screenshot(path=str(DOCS / "reports-page-desktop.png"), full_page=True)

    async with page.expect_download() as download_info:
        await page.get_by_test_id("export-xlsx").click()
    download = await download_info.value
    workbook = load_workbook(io.BytesIO(Path(await download.path()).read_bytes()), read_only=True)
    rows = list(workbook.active.iter_rows(values_only=True))
    assert rows[0][:3] == ("conversation_id", "opened_at", "closed_at")
    assert len(rows) == 31 and {r[5] for r in rows[1:]} == {SECOND}
    assert all(r[8] and "•" in r[8] or r[8].startswith("+57") for r in rows[1:])  # a phone in every row

    async with page.expect_download() as agents_info:
        await page.get_by_test_id("export-agents").click()
    agents_csv = Path(await (await agents_info.value).path()).read_text(encoding="utf-8-sig").splitlines()
    assert agents_csv[0].startswith("membership_id,agent,handled") and len(agents_csv) == 4  # the 3 demo agents

    await cards.click()
    await expect(page).to_have_url(re.compile(r"/reports/conversations\?metric=received"))
    await expect(page.get_by_test_id("list-total")).to_contain_text("30 conversaciones")
    listed = page.locator("tr[data-testid^=listed-]").filter(has_text=SECOND)
    await expect(listed).to_have_count(30)
    ids = {int(str(r[0])) for r in rows[1:]}
    first_row = await page.locator("tr[data-testid^=listed-] td").first.inner_text()
    assert int(first_row.strip("#")) in ids


async def test_reports_at_phone_width(browser: Browser, server: tuple[LiveServer, int]) -> None:
    live, _second = server
    page = await open_reports(browser, live.base_url, {"width": 390, "height": 844})
    await choose(page, "report-range", "Últimos 30 días")
    await expect(page.get_by_test_id("kpi-received-value")).to_have_text("150")
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390 + 1, f"the page scrolls sideways: {width}px"
    await page.screenshot(path=str(DOCS / "reports-page-phone.png"), full_page=True)
