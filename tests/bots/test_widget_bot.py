"""The demo's FAQ bot in a real browser: a customer on the demo site's widget asks two questions,
is answered by "Asistente Demo", asks for an asesor, and the conversation reaches the agent with
the bot's part of the transcript marked as the bot's."""

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Route, async_playwright, expect
from sqlalchemy import delete, select

from atiende.auth.models import Membership, User
from atiende.campaigns.models import Campaign
from atiende.catalog.models import Schedule, TimeBand
from atiende.db import Database
from tests.channels.webchat.test_browser import AGENT, CHROMIUM_ARGS, assigned_conversation, new_page
from tests.live import LiveServer, live_server

pytestmark = pytest.mark.browser
DOCS = Path(__file__).resolve().parents[2] / "docs"


async def _open_all_week(url: str, client_id: int) -> tuple[int, int]:
    """The demo's web chat campaign (with its bot) answers 24/7, as the test may run at night."""
    database = Database(url)
    try:
        async with database.session() as session:
            campaign = await session.scalar(select(Campaign).where(Campaign.client_id == client_id,
                                                                   Campaign.attention_bot_id.is_not(None)))
            assert campaign is not None
            await session.execute(delete(TimeBand).where(TimeBand.schedule_id == campaign.schedule_id))
            session.add_all([TimeBand(schedule_id=campaign.schedule_id, weekday=d, start=time(0), end=time(0))
                             for d in range(7)])
            assert await session.get(Schedule, campaign.schedule_id) is not None
            membership = await session.scalar(select(Membership.id).join(User, User.id == Membership.user_id)
                                              .where(User.email == AGENT, Membership.client_id == client_id))
            assert membership is not None
            return campaign.id, membership
    finally:
        await database.dispose()


@pytest.fixture(scope="module")
def server(db_base: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, dict[str, Any]]]:
    workdir = tmp_path_factory.mktemp("bot-widget-server")
    with live_server(workdir, db_base, extra_env={"ATIENDE_UI_ENABLED": "false"}, demo=True) as live:
        campaign_id, membership_id = asyncio.run(_open_all_week(live.database_url, live.demo.client_id))
        agent = live.headers(AGENT)
        staffed = httpx.put(f"{live.base_url}/api/v1/campaigns/{campaign_id}/agents",
                            headers=live.headers("supervisor@demo.atiende.app"),
                            json={"agents": [{"membership_id": membership_id, "capacity": 5}]})
        assert staffed.status_code == 200, staffed.text
        online = httpx.put(f"{live.base_url}/api/v1/agents/me/status", headers=agent, json={"presence": "online"})
        assert online.status_code == 200, online.text
        yield live, {"agent": agent}


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield browser
        await browser.close()


async def _answer_late(route: Route) -> None:
    """The widget's POST reaches the server at once; its answer reaches the page 2 s later."""
    if route.request.method != "POST":
        await route.continue_()
        return
    response = await route.fetch()
    await asyncio.sleep(2)
    await route.fulfill(response=response)


async def test_the_demo_bot_answers_on_the_widget_and_hands_off_with_the_transcript(
        browser: Browser, server: tuple[LiveServer, dict[str, Any]], db_kind: str) -> None:
    live, people = server
    page = await new_page(browser, live)
    await page.goto("/demo/site")
    await page.get_by_role("button", name="Abrir el chat").click()
    panel = page.get_by_role("dialog", name="Chatea con nosotros")
    await panel.get_by_label("Nombre").fill("Beatriz Gómez")
    await panel.get_by_label("Correo electrónico").fill("beatriz@example.com")
    await panel.get_by_role("button", name="Iniciar chat").click()
    message = panel.get_by_label("Mensaje")

    await message.fill("hola, como pago mi factura?")
    await message.press("Enter")
    await expect(panel.locator(".msg.bot").filter(has_text="Soy el Asistente Demo")).to_be_visible()
    await expect(panel.locator(".msg.bot").filter(has_text="Puedes pagar en línea con PSE")).to_be_visible()
    await page.route("**/messages", _answer_late)  # as on a slow network: the socket is faster
    await message.fill("olvide mi clave y no puedo entrar")
    await message.press("Enter")
    await expect(panel.locator(".msg.bot").filter(has_text="¿Olvidaste tu contraseña?")).to_be_visible()
    # The customer's line shows once: its "enviando…" copy goes as soon as the stored one arrives.
    assert await panel.locator(".msg.visitor").filter(has_text="olvide mi clave").count() == 1
    assert await panel.locator(".msg.pending").count() == 0
    await page.unroute("**/messages", _answer_late)
    if db_kind == "sqlite":
        await page.screenshot(path=str(DOCS / "widget-faq-bot.png"))
    # A greeting brings the menu back, as buttons to tap (its numbered lines are not repeated).
    await message.fill("hola")
    await message.press("Enter")
    asesor = panel.get_by_role("button", name="Hablar con un asesor")
    await expect(asesor).to_be_visible()
    await expect(panel.get_by_role("button", name="Horario de atención")).to_be_visible()
    await expect(panel.locator(".msg.bot").last).not_to_contain_text("4. Hablar con un asesor")
    if db_kind == "sqlite":
        await page.screenshot(path=str(DOCS / "widget-bot-menu.png"))
    await asesor.click()
    await expect(panel.locator(".msg.bot").filter(has_text="Te comunico con un asesor")).to_be_visible()
    await expect(asesor).to_have_count(0)

    conversation_id = await assigned_conversation(live, people["agent"])
    detail = httpx.get(f"{live.base_url}/api/v1/conversations/{conversation_id}", headers=people["agent"]).json()
    assert detail["status"] == "assigned" and detail["bot_handoff_reason"] == "menu"
    said = [(m["sender"], m["text"]) for m in detail["messages"]]
    assert ("contact", "hola, como pago mi factura?") in said and ("contact", "Hablar con un asesor") in said
    assert any(sender == "bot" and "Puedes pagar en línea" in text for sender, text in said)
    assert said[-1][0] == "system" and said[-1][1].startswith("Transferida por el asistente")
    await page.context.close()
