"""The widget in a real browser: a visitor chats on the demo site and sees the agent's answer live.

The app runs in a subprocess on the demo data (tests/live.py); Debian's chromium is driven by
Playwright, whose ``expect`` waits for the page, so nothing here sleeps.
"""

import asyncio
import json
import re
from collections.abc import AsyncIterator, Iterator
from datetime import time
from typing import Any

import httpx
import pytest
import websockets
from playwright.async_api import Browser, Page, async_playwright, expect
from sqlalchemy import delete, select

from atiende.auth.models import Membership, User
from atiende.campaigns.models import Campaign
from atiende.catalog.models import Schedule, TimeBand
from atiende.db import Database
from tests.live import LiveServer, live_server

pytestmark = pytest.mark.browser
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]
AGENT = "agente1@demo.atiende.app"


async def _open_all_week(url: str, client_id: int) -> tuple[int, int]:
    """The demo campaign answers 24/7 (the test may run at night) — returns (campaign, agent membership)."""
    database = Database(url)
    try:
        async with database.session() as session:
            campaign = await session.scalar(select(Campaign).where(Campaign.client_id == client_id))
            assert campaign is not None
            schedule = await session.get(Schedule, campaign.schedule_id)
            assert schedule is not None
            await session.execute(delete(TimeBand).where(TimeBand.schedule_id == schedule.id))
            session.add_all([TimeBand(schedule_id=schedule.id, weekday=d, start=time(0), end=time(0))
                             for d in range(7)])
            campaign.attention_bot_id = None  # this test is about the agent's answer; tests/bots covers the bot
            membership = await session.scalar(select(Membership.id).join(User, User.id == Membership.user_id)
                                              .where(User.email == AGENT, Membership.client_id == client_id))
            assert membership is not None
            return campaign.id, membership
    finally:
        await database.dispose()


@pytest.fixture(scope="module")
def server(db_base: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, dict[str, Any]]]:
    workdir = tmp_path_factory.mktemp("widget-server")
    with live_server(workdir, db_base, extra_env={"ATIENDE_UI_ENABLED": "false",
                                                  "ATIENDE_MEDIA_DIR": str(workdir / "media")},
                     demo=True) as live:
        campaign_id, membership_id = asyncio.run(_open_all_week(live.database_url, live.demo.client_id))
        supervisor = live.headers("supervisor@demo.atiende.app")
        agent = live.headers(AGENT)
        staffed = httpx.put(f"{live.base_url}/api/v1/campaigns/{campaign_id}/agents", headers=supervisor,
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


async def new_page(browser: Browser, live: LiveServer, **options: Any) -> Page:
    context = await browser.new_context(base_url=live.base_url, **{"locale": "es-CO", **options})
    context.set_default_timeout(15_000)
    return await context.new_page()


async def assigned_conversation(live: LiveServer, agent: dict[str, str]) -> int:
    """Wait on the agent's event socket until a conversation is assigned to them."""
    token = agent["Authorization"].removeprefix("Bearer ")
    async with websockets.connect(f"{live.base_url.replace('http', 'ws')}/api/v1/ws?token={token}") as socket:
        assert json.loads(await socket.recv())["kind"] == "ready"
        mine = httpx.get(f"{live.base_url}/api/v1/conversations", params={"status": "assigned"}, headers=agent)
        if mine.json()["items"]:
            return mine.json()["items"][0]["id"]
        async with asyncio.timeout(15):
            while True:
                event = json.loads(await socket.recv())
                if event["kind"] == "conversation.assigned":
                    return event["conversation_id"]


async def agent_says(live: LiveServer, agent: dict[str, str], conversation_id: int, text: str) -> None:
    async with httpx.AsyncClient(base_url=live.base_url, headers=agent) as client:
        response = await client.post(f"/api/v1/conversations/{conversation_id}/messages", json={"text": text})
        assert response.status_code == 201, response.text


async def test_a_visitor_writes_on_the_demo_site_and_sees_the_agents_answer_live(
        browser: Browser, server: tuple[LiveServer, dict[str, Any]]) -> None:
    live, people = server
    page = await new_page(browser, live)
    await page.goto("/demo/site")
    bubble = page.get_by_role("button", name="Abrir el chat")
    await bubble.click()
    panel = page.get_by_role("dialog", name="Chatea con nosotros")
    await expect(panel).to_be_visible()
    # The demo channel asks who you are first (pre-chat form), and greets you.
    await expect(panel.get_by_label("Nombre")).to_be_focused()
    await panel.get_by_label("Nombre").fill("Ana Pérez")
    await panel.get_by_label("Correo electrónico").fill("ana@example.com")
    async with page.expect_websocket() as socket_info:  # live updates come over a WebSocket
        await panel.get_by_role("button", name="Iniciar chat").click()
    assert "/api/v1/widget/" in (await socket_info.value).url
    await expect(panel.locator(".welcome")).to_have_text("Asistente¡Hola! ¿En qué te ayudamos?")
    message = panel.get_by_label("Mensaje")
    await expect(message).to_be_focused()
    await message.fill("Hola, necesito ayuda con mi pedido A-1234")
    await message.press("Enter")
    await expect(panel.locator(".msg.visitor:not(.pending)").last).to_contain_text("Hola, necesito ayuda con mi pedido A-1234")

    conversation_id = await assigned_conversation(live, people["agent"])
    await agent_says(live, people["agent"], conversation_id, "¡Hola Ana! Soy Andrea. Ya reviso tu pedido.")
    await expect(panel.locator(".msg.agent")).to_contain_text("Soy Andrea. Ya reviso tu pedido.")

    # Reloading the page keeps the conversation (the visitor token lives in local storage).
    await page.reload()
    await page.get_by_role("button", name="Abrir el chat").click()
    await expect(page.locator(".msg.agent")).to_contain_text("Soy Andrea")
    await expect(page.locator(".msg.visitor:not(.pending)").last).to_contain_text("mi pedido A-1234")

    # Escape closes the panel and gives the focus back to the bubble.
    await page.get_by_label("Mensaje").press("Escape")
    await expect(page.get_by_role("dialog")).to_be_hidden()
    await expect(page.get_by_role("button", name="Abrir el chat")).to_be_focused()
    await page.context.close()


async def test_without_websockets_the_widget_long_polls_and_fits_a_phone(
        browser: Browser, server: tuple[LiveServer, dict[str, Any]]) -> None:
    live, people = server
    page = await new_page(browser, live, viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)
    await page.add_init_script("window.WebSocket = undefined;")  # e.g. a proxy that blocks them
    await page.goto("/demo/site")
    await page.get_by_role("button", name="Abrir el chat").click()
    panel = page.get_by_role("dialog", name="Chatea con nosotros")
    box = await panel.bounding_box()
    assert box is not None and box["width"] == 375  # full screen at phone width
    await panel.get_by_label("Nombre").fill("Bruno Díaz")
    await panel.get_by_label("Teléfono").fill("301 555 0000")  # read in Colombia, the demo's region
    await panel.get_by_role("button", name="Iniciar chat").click()
    await panel.get_by_label("Mensaje").fill("¿Tienen envío a Cali?")
    await panel.get_by_role("button", name="Enviar").click()
    await expect(panel.locator(".msg.visitor:not(.pending)").last).to_contain_text("¿Tienen envío a Cali?")

    async with httpx.AsyncClient(base_url=live.base_url, headers=people["agent"]) as client:
        conversations = (await client.get("/api/v1/conversations", params={"status": "assigned"})).json()["items"]
    bruno = next(c["id"] for c in conversations if c["contact"]["name"] == "Bruno Díaz")
    await agent_says(live, people["agent"], bruno, "Sí, enviamos a Cali en 2 días.")
    await expect(panel.locator(".msg.agent")).to_contain_text("enviamos a Cali")
    await page.context.close()


async def test_the_widget_speaks_english_when_the_site_asks(
        browser: Browser, server: tuple[LiveServer, dict[str, Any]]) -> None:
    live, _ = server
    page = await new_page(browser, live, locale="en-US")
    await page.goto("/demo/site?lang=en")
    await page.get_by_role("button", name="Open chat").press("Enter")  # keyboard works as well as the mouse
    panel = page.get_by_role("dialog", name="Chat with us")
    await expect(panel.get_by_label("Name")).to_be_focused()
    await expect(panel.get_by_role("button", name="Start chat")).to_be_visible()
    await expect(panel.get_by_role("button", name="Close chat")).to_be_visible()
    await page.context.close()


async def test_the_access_log_never_shows_a_websocket_token(server: tuple[LiveServer, dict[str, Any]]) -> None:
    live, people = server
    page_html = httpx.get(f"{live.base_url}/demo/site").text
    channel = int(page_html.split('data-channel="')[1].split('"')[0])  # the demo site's widget
    origin = {"Origin": live.base_url}
    session = httpx.post(f"{live.base_url}/api/v1/widget/{channel}/session", json={}, headers=origin)
    assert session.status_code in (200, 201), session.text
    visitor = session.json()["visitor_token"]
    agent = people["agent"]["Authorization"].removeprefix("Bearer ")
    ws = live.base_url.replace("http", "ws")
    async with websockets.connect(f"{ws}/api/v1/widget/{channel}/ws?token={visitor}&after=0", origin=live.base_url):
        pass
    async with websockets.connect(f"{ws}/api/v1/ws?token={agent}") as socket:
        assert json.loads(await socket.recv())["kind"] == "ready"
    async with asyncio.timeout(10):
        while f'"WebSocket /api/v1/ws?token=[redacted]"' not in live.log_path.read_text():
            await asyncio.sleep(0.1)
    log = live.log_path.read_text()
    assert visitor not in log and agent not in log
    assert f"/api/v1/widget/{channel}/ws?token=[redacted]&after=0" in log


async def test_the_widgets_icons_are_drawn_not_emoji(
        browser: Browser, server: tuple[LiveServer, dict[str, Any]]) -> None:
    """Without an emoji font an emoji is an empty box: the bubble and the attach button are SVG."""
    live, _ = server
    source = httpx.get(f"{live.base_url}/widget.js").text
    assert not any(ord(ch) > 0x1F000 for ch in source)
    page = await new_page(browser, live)
    await page.goto("/demo/site")
    bubble = page.get_by_role("button", name="Abrir el chat")
    await expect(bubble.locator("svg path")).to_have_count(1)
    assert (await bubble.inner_text()).strip() == ""
    attach = page.locator("#atiende-chat").locator("button.attach")
    await expect(attach.locator("svg path")).to_have_count(1)
    assert (await attach.text_content() or "").strip() == ""
    await page.context.close()


async def test_a_visitor_waiting_in_the_queue_is_told_their_place(
        browser: Browser, server: tuple[LiveServer, dict[str, Any]]) -> None:
    live, people = server

    def presence(value: str) -> None:
        answer = httpx.put(f"{live.base_url}/api/v1/agents/me/status", headers=people["agent"],
                           json={"presence": value})
        assert answer.status_code == 200, answer.text

    presence("away")  # nobody can take the chat: it waits in the queue
    try:
        page = await new_page(browser, live)
        await page.goto("/demo/site")
        await page.get_by_role("button", name="Abrir el chat").click()
        panel = page.get_by_role("dialog", name="Chatea con nosotros")
        await panel.get_by_label("Nombre").fill("Carolina Vélez")
        await panel.get_by_label("Correo electrónico").fill("carolina@example.com")
        await panel.get_by_role("button", name="Iniciar chat").click()
        await panel.get_by_label("Mensaje").fill("quiero hablar con un asesor")
        await panel.get_by_label("Mensaje").press("Enter")
        notice = panel.locator(".note.queue")
        await expect(notice).to_have_text(re.compile(r"Estás en el puesto \d+ de la cola\. "
                                                     r"Un asesor te atenderá en breve\."))
        presence("online")
        await expect(notice).to_be_hidden()
        await page.context.close()
    finally:
        presence("online")


async def test_the_widget_reads_a_local_number_and_words_its_errors_in_its_language(
        browser: Browser, server: tuple[LiveServer, dict[str, Any]]) -> None:
    live, _ = server
    page = await new_page(browser, live, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    await page.goto("/demo/site")
    await page.get_by_role("button", name="Abrir el chat").click()
    panel = page.get_by_role("dialog", name="Chatea con nosotros")
    await panel.get_by_label("Nombre").fill("Diana Ruiz")
    phone = panel.get_by_label("Teléfono")
    await phone.fill("12345")
    await panel.get_by_role("button", name="Iniciar chat").click()
    alert = panel.locator(".alert")
    await expect(alert).to_contain_text("No reconocemos ese teléfono")  # Spanish, not pydantic's English
    await expect(phone).to_have_attribute("aria-invalid", "true")
    await page.screenshot(path="docs/firstday-widget-phone-390.png")
    await phone.fill("300 765 4321")  # Demo S.A. is in Colombia: no +57 needed
    await panel.get_by_role("button", name="Iniciar chat").click()
    await expect(panel.get_by_label("Mensaje")).to_be_visible()
    await expect(alert).to_have_text("")  # the error went with the correct answer
    await page.context.close()

    english = await new_page(browser, live, locale="en-US")
    await english.goto("/demo/site?lang=en")
    await english.get_by_role("button", name="Open chat").click()
    dialog = english.get_by_role("dialog", name="Chat with us")
    await dialog.get_by_label("Name").fill("Dan")
    await dialog.get_by_label("Phone").fill("12345")
    await dialog.get_by_role("button", name="Start chat").click()
    await expect(dialog.locator(".alert")).to_contain_text("We could not read that phone number")
    await english.context.close()
