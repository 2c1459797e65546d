#!/usr/bin/env python3
"""Screenshots of the admin console for the README, taken from a real server with the demo data.

    python3 scripts/screenshots.py            # writes docs/console-*.png

Starts ``atiende serve`` on a throw-away SQLite database seeded by ``atiende.demo``, drives
Debian's chromium (``/usr/bin/chromium``) with Playwright as the demo admin, and stops the server.
"""

import asyncio
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from playwright.sync_api import Page, sync_playwright

from atiende import migrate
from atiende.db import Database
from atiende.demo import DEMO_PASSWORD, seed_demo

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]
ADMIN = "admin@demo.atiende.app"
LAPTOP = {"width": 1366, "height": 860}
TABLET = {"width": 820, "height": 1100}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def seed(url: str) -> None:
    database = Database(url)
    try:
        await seed_demo(database)
    finally:
        await database.dispose()


def start_server(workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    url = f"sqlite+aiosqlite:///{workdir / 'screenshots.db'}"
    migrate.upgrade(url)
    asyncio.run(seed(url))
    port = free_port()
    env = {**os.environ, "ATIENDE_DATABASE_URL": url, "ATIENDE_WORKER_ENABLED": "false",
           "ATIENDE_SECRET_KEY": secrets.token_urlsafe(32),
           "ATIENDE_PUBLIC_URL": "https://atiende.example.com", "NICEGUI_STORAGE_PATH": str(workdir / "nicegui")}
    process = subprocess.Popen([sys.executable, "-m", "atiende.cli", "serve", "--no-migrate", "--port", str(port)],
                               env=env, cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        if process.poll() is not None:
            raise SystemExit("the server stopped while starting")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return process, base
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("the server did not start")


def log_in(page: Page) -> None:
    page.goto("/login?next=/console/campaigns")
    page.get_by_test_id("login-email").fill(ADMIN)
    page.get_by_test_id("login-password").fill(DEMO_PASSWORD)
    page.get_by_test_id("login-submit").click()
    page.get_by_test_id("campaigns-table").wait_for()


SETTLE_MS = 700  # lets Quasar's transitions (floating labels, tab indicator, switches) finish


def shoot(page: Page, name: str, *, full_page: bool = False) -> None:
    page.wait_for_load_state("networkidle")
    page.mouse.move(0, 0)
    page.wait_for_timeout(SETTLE_MS)
    path = DOCS / name
    page.screenshot(path=str(path), full_page=full_page)
    print(f"wrote {path.relative_to(ROOT)}")


def take(page: Page) -> None:
    page.goto("/login")
    page.get_by_test_id("login-submit").wait_for()
    shoot(page, "console-login.png")
    log_in(page)
    shoot(page, "console-campaigns.png")

    page.get_by_test_id("create").click()
    page.get_by_test_id("campaign-modal").wait_for()
    page.get_by_test_id("campaign-project").click()
    page.get_by_role("option", name="Cobranza", exact=True).click()
    page.get_by_test_id("campaign-name").fill("Recordatorios de pago")
    page.get_by_test_id("campaign-survey").click()
    shoot(page, "console-campaign-modal.png")
    page.get_by_test_id("tab-permissions").click()
    page.get_by_test_id("permission-history_enabled").click()
    shoot(page, "console-campaign-modal-permisos.png")
    page.get_by_test_id("cancel").click()

    page.goto("/console/campaigns?edit=1")
    page.get_by_test_id("campaign-modal").wait_for()
    page.get_by_test_id("tab-schedule").click()
    page.get_by_test_id("campaign-schedule").click()
    page.get_by_role("option", name="Oficina Bogotá", exact=True).click()
    page.get_by_text("Lunes a viernes 08:00 – 17:00, America/Bogota").wait_for()
    shoot(page, "console-campaign-modal-horario.png")

    page.goto("/console/campaigns")
    page.get_by_role("button", name="Duplicar").first.click()
    page.get_by_text("Soporte general (copia)").wait_for()
    page.goto("/console/admin/campaigns")
    page.get_by_test_id("admin-campaigns-table").wait_for()
    shoot(page, "console-campaign-list.png")

    page.goto("/console/schedules")
    page.get_by_role("button", name="Editar").first.click()
    page.get_by_test_id("schedule-dialog").wait_for()
    shoot(page, "console-schedule-editor.png")

    page.set_viewport_size(TABLET)
    page.goto("/console/campaigns?edit=1")
    page.get_by_test_id("campaign-modal").wait_for()
    page.get_by_test_id("tab-typifications").click()
    shoot(page, "console-campaign-modal-tablet.png")


def main() -> None:
    DOCS.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="atiende-shots-") as tmp:
        process, base = start_server(Path(tmp))
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
                page = browser.new_page(viewport=LAPTOP, base_url=base, locale="es-CO")
                page.set_default_timeout(20_000)
                take(page)
                browser.close()
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


if __name__ == "__main__":
    main()
