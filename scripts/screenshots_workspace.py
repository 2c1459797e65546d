#!/usr/bin/env python3
"""Screenshots of the agent workspace and the supervisor board for the README, from a real server.

    python3 scripts/screenshots_workspace.py     # writes docs/workspace.png and docs/supervisor.png

Starts ``atiende serve`` on a throw-away SQLite database seeded with the 24/7 contact center of the
browser tests (``tests/workspace/seed.py``), lets customers write through the signed API channel,
has the agent answer in Debian's chromium (Playwright), and stops the server.
"""

import asyncio
import itertools
import sys
import tempfile
from pathlib import Path

import httpx
from playwright.async_api import Page, async_playwright, expect

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import fresh_database  # noqa: E402
from tests.live import _seed, start_server, stop_server  # noqa: E402
from tests.workspace import seed  # noqa: E402
from tests.workspace.receiver import receiver  # noqa: E402

DOCS = ROOT / "docs"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]
LAPTOP = {"width": 1440, "height": 900}
SETTLE_MS = 800
_seq = itertools.count(1)


class Shop:
    """The customers and the supervisor's REST calls that set the scene."""

    def __init__(self, http: httpx.AsyncClient, center: seed.Center, base_url: str, media_dir: Path) -> None:
        self.http, self.center, self.base_url, self.media_dir = http, center, base_url, media_dir
        self.tokens: dict[str, str] = {}

    async def headers(self, email: str) -> dict[str, str]:
        if email not in self.tokens:
            response = await self.http.post("/api/v1/auth/token", data={"username": email, "password": seed.PASSWORD})
            self.tokens[email] = response.json()["access_token"]
        return {"Authorization": f"Bearer {self.tokens[email]}"}

    async def write(self, name: str, text: str, *, phone: str | None = None, channel: str = "sales",
                    attachments: list[dict[str, str]] | None = None) -> int:
        channel_id, secret = ((self.center.sales_channel_id, seed.SALES_SECRET) if channel == "sales"
                              else (self.center.collections_channel_id, seed.COLLECTIONS_SECRET))
        payload: dict[str, object] = {"external_id": f"shot-{next(_seq)}",
                                      "contact": {"external_id": name.lower().replace(" ", "-"), "name": name},
                                      "text": text, "attachments": attachments or []}
        if phone:
            payload["contact"]["phone"] = phone  # type: ignore[index]
        raw, signed = seed.signed(secret, payload)
        response = await self.http.post(f"/api/v1/channels/{channel_id}/inbound", content=raw, headers=signed)
        response.raise_for_status()
        return int(response.json()["conversation_id"])

    async def call(self, method: str, path: str, email: str = seed.SUPERVISOR, **kwargs: object) -> dict:
        response = await self.http.request(method, path, headers=await self.headers(email), **kwargs)
        response.raise_for_status()
        return response.json() if response.content else {}

    async def presence(self, email: str, presence: str) -> None:
        await self.call("PUT", "/api/v1/agents/me/status", email, json={"presence": presence})

    async def assigned(self, conversation_id: int) -> None:
        """Assignment runs right after the inbound commit; wait for it (bounded)."""
        for _ in range(100):
            found = await self.call("GET", f"/api/v1/conversations/{conversation_id}")
            if found["status"] == "assigned":
                return
            await asyncio.sleep(0.05)
        raise SystemExit(f"conversation {conversation_id} was not assigned")

    async def reply(self, email: str, conversation_id: int, text: str) -> int:
        await self.assigned(conversation_id)
        sent = await self.call("POST", f"/api/v1/conversations/{conversation_id}/messages", email, json={"text": text})
        return int(sent["id"])

    async def mark(self, message_id: int, status: str) -> None:
        raw, signed = seed.signed(seed.SALES_SECRET, {"message_id": message_id, "status": status})
        await self.http.post(f"/api/v1/channels/{self.center.sales_channel_id}/status", content=raw, headers=signed)

    def media(self, name: str, data: bytes) -> str:
        (self.media_dir / name[:2]).mkdir(parents=True, exist_ok=True)
        (self.media_dir / name[:2] / name).write_bytes(data)
        return f"{self.base_url}/media/{name}"


async def product_picture(page: Page) -> bytes:
    """A product photo for the customer to send (drawn by the browser, no image files needed)."""
    await page.set_content("""<div id="p" style="width:360px;height:240px;display:flex;align-items:center;
        justify-content:center;background:linear-gradient(135deg,#0f766e,#5eead4);font:600 30px sans-serif;
        color:white;border-radius:12px">Plan Premium ✓</div>""")
    return await page.locator("#p").screenshot()


async def log_in(page: Page, email: str) -> None:
    await page.goto("/login")
    await page.get_by_test_id("login-email").fill(email)
    await page.get_by_test_id("login-password").fill(seed.PASSWORD)
    await page.get_by_test_id("login-submit").click()
    await page.get_by_test_id("user-menu").wait_for()


async def scene(base_url: str, center: seed.Center, media_dir: Path) -> None:
    async with async_playwright() as playwright, httpx.AsyncClient(base_url=base_url, timeout=20) as http:
        browser = await playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        shop = Shop(http, center, base_url, media_dir)
        andrea_id = center.memberships[seed.ANDREA]
        await shop.call("PUT", f"/api/v1/campaigns/{center.sales_campaign_id}/agents", json={"agents": [
            {"membership_id": andrea_id, "capacity": 5},
            {"membership_id": center.memberships[seed.BRUNO], "capacity": 3}]})
        await shop.presence(seed.ANDREA, "online")

        # Laura wrote last week too: her earlier conversation is in the history.
        earlier = await shop.write("Laura Gómez", "Hola, ¿tienen planes para empresas?", phone="+573001112233")
        await shop.reply(seed.ANDREA, earlier, "¡Hola Laura! Sí, te envío el detalle por correo.")
        await shop.call("POST", f"/api/v1/conversations/{earlier}/close", seed.ANDREA,
                        json={"fields": {"documento": "1020304050", "motivo": "Consulta"}})

        context = await browser.new_context(viewport=LAPTOP, base_url=base_url, locale="es-CO")
        page = await context.new_page()
        picture = shop.media("9f" + "0" * 30 + ".png", await product_picture(page))
        laura = await shop.write("Laura Gómez", "Hola de nuevo, quiero contratar el plan premium",
                                 phone="+573001112233")
        first = await shop.reply(seed.ANDREA, laura, "¡Hola Laura! Con gusto. ¿Para cuántas personas sería?")
        await shop.mark(first, "read")
        await shop.write("Laura Gómez", "Para 12 personas. Vi este plan en la página:",
                         attachments=[{"kind": "image", "url": picture, "mime_type": "image/png",
                                       "name": "plan-premium.png"}])
        second = await shop.reply(seed.ANDREA, laura, "Perfecto, ese plan incluye hasta 15 usuarios. "
                                                      "¿Me confirmas tu número de documento para la cotización?")
        await shop.mark(second, "delivered")
        await shop.write("Laura Gómez", "Claro, es 1020304050")
        for name, text in [("Carlos Pérez", "Buenas tardes, mi pedido no ha llegado"),
                           ("Marta Ruiz", "¿Cuál es el horario de atención?"),
                           ("Jorge Silva", "Necesito cambiar mi método de pago")]:
            await shop.write(name, text)

        await log_in(page, seed.ANDREA)
        await page.goto(f"/workspace?c={laura}")
        await expect(page.get_by_test_id("thread")).to_contain_text("Claro, es 1020304050")
        await page.get_by_test_id("field-documento").fill("1020304050")
        await page.get_by_test_id("message-input").fill("¡Gracias! Te envío la cotización en un momento.")
        await page.wait_for_timeout(SETTLE_MS)
        await page.screenshot(path=str(DOCS / "workspace.png"))

        # Busy afternoon: Andrea's seats fill, Bruno steps away, customers wait in the queue.
        await shop.presence(seed.BRUNO, "away")
        for name, text in [("Lucía Torres", "Hola, ¿me ayudan con una factura?"),
                           ("Andrés Mejía", "Quiero cancelar mi suscripción"),
                           ("Paula Ríos", "¿Hacen envíos a Medellín?")]:
            await shop.write(name, text)
        await shop.presence(seed.CARLA, "online")
        await shop.write("Julián Mora", "Quiero un acuerdo de pago", channel="collections")
        supervisor = await (await browser.new_context(viewport={"width": 1440, "height": 1000}, base_url=base_url,
                                                      locale="es-CO")).new_page()
        await log_in(supervisor, seed.SUPERVISOR)
        await supervisor.goto(f"/supervisor?campaign={center.sales_campaign_id}")
        await expect(supervisor.get_by_test_id("queue-count")).to_have_text("2")
        await supervisor.wait_for_timeout(SETTLE_MS + 2000)  # let the waiting times tick
        await supervisor.screenshot(path=str(DOCS / "supervisor.png"))
        await browser.close()


def main() -> None:
    DOCS.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, receiver() as callback:
        workdir = Path(tmp)
        with fresh_database(workdir, "sqlite") as url:
            asyncio.run(_seed(url))
            center = asyncio.run(seed.seed_center(url, callback.url))
            media = workdir / "media"
            process, base = start_server(url, workdir / "server.log", extra_env={
                "NICEGUI_STORAGE_PATH": str(workdir / "nicegui"), "ATIENDE_MEDIA_DIR": str(media)})
            try:
                asyncio.run(scene(base, center, media))
            finally:
                stop_server(process)
    print(f"wrote {DOCS / 'workspace.png'} and {DOCS / 'supervisor.png'}")


if __name__ == "__main__":
    main()
