#!/usr/bin/env python3
"""How fast an inbound message reaches the agent's open workspace page, with 50 agents connected,
and what each connected agent costs the app in memory.

    python3 benchmarks/workspace_latency.py                    # SQLite
    python3 benchmarks/workspace_latency.py --postgresql       # PostgreSQL at 127.0.0.1:5432
    python3 benchmarks/workspace_latency.py --agents 50 --messages 300 --rate 20

What it does:
1. starts ``atiende serve`` (jobs worker on) on a fresh database with the 24/7 contact center of the
   browser tests plus N benchmark agents, all online in campaign *Ventas* (capacity 20 each);
2. logs each agent in once with Debian's chromium (Playwright) to get their session cookie, then
   closes the browser — 50 real browser pages are too heavy for a laptop-sized machine;
3. opens N simulated agent pages: each does what a browser does — ``GET /workspace`` (the server
   builds the real NiceGUI page, subscribes it to the event bus, renders the inbox) and connects to
   NiceGUI's socket with that page's client id — and records every update the server pushes;
4. measures the server's RSS before and after the N pages are open (delta / N = memory per agent);
5. customers write through the signed API channel at ``--rate`` messages per second (open loop,
   100 contacts, so conversations are created and then continued); the latency of a message is the
   time from just before its POST to the moment its text (or a newer message of the same contact:
   the inbox shows the newest) arrives in an update on the socket of the agent serving it.
"""

import argparse
import asyncio
import json
import os
import re
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import socketio
from playwright.async_api import async_playwright
from sqlalchemy import update

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from atiende.auth.models import Membership, Presence, Role, User  # noqa: E402
from atiende.auth.passwords import hash_password  # noqa: E402
from atiende.conversations.models import CampaignAgent  # noqa: E402
from atiende.db import Database  # noqa: E402
from tests.conftest import DEFAULT_POSTGRESQL, fresh_database  # noqa: E402
from tests.live import _seed, start_server, stop_server  # noqa: E402
from tests.workspace import seed  # noqa: E402
from tests.workspace.receiver import receiver  # noqa: E402

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]
CLIENT_ID = re.compile(r"""["']client_id["']:\s*["']([0-9a-f-]+)["']""")
CONTACTS = 100
NEXT_MESSAGE_ID = re.compile(r"""["']next_message_id["']:\s*(\d+)""")


async def add_agents(url: str, center: seed.Center, count: int) -> list[str]:
    database = Database(url)
    emails = [f"agente{n:03d}@bench.example" for n in range(1, count + 1)]
    password_hash = hash_password(seed.PASSWORD)
    try:
        async with database.session() as session:
            for email in emails:
                user = User(email=email, full_name=email.split("@")[0].capitalize(), password_hash=password_hash)
                session.add(user)
                await session.flush()
                membership = Membership(user_id=user.id, client_id=center.client_id, role=Role.agent, active=True,
                                        presence=Presence.online)
                session.add(membership)
                await session.flush()
                session.add(CampaignAgent(campaign_id=center.sales_campaign_id, membership_id=membership.id,
                                          capacity=20))
            await session.execute(update(Membership).where(Membership.client_id == center.client_id,
                                                           Membership.role != Role.agent)
                                  .values(presence=Presence.offline))
    finally:
        await database.dispose()
    return emails


async def session_cookies(base_url: str, emails: list[str]) -> dict[str, dict[str, str]]:
    """Each agent logs in once in a real browser; we keep the cookies (the login lives server side)."""
    cookies: dict[str, dict[str, str]] = {}
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        for email in emails:
            context = await browser.new_context(base_url=base_url)
            page = await context.new_page()
            await page.goto("/login?next=/no-client")
            await page.get_by_test_id("login-email").fill(email)
            await page.get_by_test_id("login-password").fill(seed.PASSWORD)
            await page.get_by_test_id("login-submit").click()
            await page.wait_for_url(re.compile(r"/no-client|/workspace"))
            cookies[email] = {c["name"]: c["value"] for c in await context.cookies()}
            await context.close()
        await browser.close()
    return cookies


@dataclass
class AgentPage:
    """One agent's workspace page as the server sees a browser: the page, then its socket."""

    email: str
    cookies: dict[str, str]
    seen: dict[str, float] = field(default_factory=dict)  # marker → when it first arrived
    updates: int = 0
    sio: socketio.AsyncClient | None = None

    async def open(self, base_url: str, http: httpx.AsyncClient, markers: re.Pattern[str]) -> None:
        page = await http.get(f"{base_url}/workspace", cookies=self.cookies)
        page.raise_for_status()
        client_id = CLIENT_ID.search(page.text)
        next_id = NEXT_MESSAGE_ID.search(page.text)
        assert client_id and next_id, "not a NiceGUI page (logged out?)"
        self.sio = socketio.AsyncClient(reconnection=False)

        @self.sio.on("*")
        async def any_event(event: str, data: object) -> None:
            self.updates += 1
            now = time.perf_counter()
            for marker in markers.findall(json.dumps(data, ensure_ascii=False)):
                self.seen.setdefault(marker, now)

        query = (f"client_id={client_id.group(1)}&next_message_id={next_id.group(1)}&implicit_handshake=true"
                 f"&document_id={uuid.uuid4()}&tab_id={uuid.uuid4()}")
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        await self.sio.connect(f"{base_url}?{query}", socketio_path="_nicegui_ws/socket.io",
                               transports=["websocket"], headers={"Cookie": cookie}, wait_timeout=20)

    async def close(self) -> None:
        if self.sio is not None:
            await self.sio.disconnect()


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def cpu_seconds(pid: int) -> float:
    """The server's user + system CPU so far (``/proc/<pid>/stat``), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def settle(pid: int, seconds: float = 3.0) -> int:
    await asyncio.sleep(seconds)
    return rss_kib(pid)


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


async def run(base_url: str, pid: int, center: seed.Center, emails: list[str], args: argparse.Namespace) -> None:
    print(f"logging {len(emails)} agents in (chromium)…", flush=True)
    cookies = await session_cookies(base_url, emails)
    await asyncio.sleep(12)  # the login pages' NiceGUI clients are dropped after the reconnect timeout
    before = await settle(pid)
    markers = re.compile(r"bench-\d+")
    pages = [AgentPage(email, cookies[email]) for email in emails]
    async with httpx.AsyncClient(timeout=30) as http:
        for page in pages:
            await page.open(base_url, http, markers)
        after = await settle(pid)
        print(f"{len(pages)} agent pages connected; server RSS {before / 1024:.1f} MiB → {after / 1024:.1f} MiB",
              flush=True)

        sent: dict[str, float] = {}
        interval = 1 / args.rate

        async def write(n: int) -> None:
            marker = f"bench-{n}"
            contact = f"bench-contact-{n % CONTACTS}"
            raw, headers = seed.signed(seed.SALES_SECRET, {
                "external_id": f"bench-msg-{n}", "text": f"{marker} hola, necesito ayuda",
                "contact": {"external_id": contact, "name": f"Cliente {n % CONTACTS}"}})
            sent[marker] = time.perf_counter()
            response = await http.post(f"{base_url}/api/v1/channels/{center.sales_channel_id}/inbound",
                                       content=raw, headers=headers)
            response.raise_for_status()

        cpu_before = cpu_seconds(pid)
        started = time.perf_counter()
        tasks = []
        for n in range(args.messages):
            tasks.append(asyncio.create_task(write(n)))
            await asyncio.sleep(max(0.0, started + (n + 1) * interval - time.perf_counter()))
        await asyncio.gather(*tasks)
        deadline = time.perf_counter() + 20
        while time.perf_counter() < deadline:
            arrived = {m for p in pages for m in p.seen}
            if len(arrived & set(sent)) == len(sent):
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)  # the last updates' pushes finish
        cpu = cpu_seconds(pid) - cpu_before
        latencies = []
        for n in range(args.messages):
            # The inbox shows a conversation's newest message: message n is on screen once it, or a later
            # message of the same contact, has arrived.
            same_contact = [f"bench-{m}" for m in range(n, args.messages, CONTACTS)]
            times = [p.seen[m] for p in pages for m in same_contact if m in p.seen]
            if times:
                latencies.append((min(times) - sent[f"bench-{n}"]) * 1000)
        for page in pages:
            await page.close()

    missing = len(sent) - len(latencies)
    print()
    print(f"machine load (1/5/15 min):   {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    print(f"agents connected:            {len(pages)}")
    print(f"messages:                    {len(sent)} at {args.rate}/s ({missing} never shown)")
    print(f"inbound → agent page  p50:   {statistics.median(latencies):.1f} ms")
    print(f"inbound → agent page  p99:   {percentile(latencies, 99):.1f} ms")
    print(f"inbound → agent page  max:   {max(latencies):.1f} ms")
    print(f"server CPU per message:      {cpu / len(sent) * 1000:.2f} ms (its events, the pages' updates)")
    print(f"server RSS before pages:     {before / 1024:.1f} MiB")
    print(f"server RSS with pages:       {after / 1024:.1f} MiB")
    print(f"memory per connected agent:  {(after - before) / len(pages):.0f} KiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--rate", type=float, default=20.0, help="inbound messages per second")
    parser.add_argument("--postgresql", nargs="?", const=DEFAULT_POSTGRESQL, default=None,
                        help=f"run on PostgreSQL (default URL {DEFAULT_POSTGRESQL})")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, receiver() as callback:
        workdir = Path(tmp)
        with fresh_database(workdir, args.postgresql or "sqlite") as url:
            asyncio.run(_seed(url))
            center = asyncio.run(seed.seed_center(url, callback.url))
            emails = asyncio.run(add_agents(url, center, args.agents))
            process, base = start_server(url, workdir / "server.log", extra_env={
                "NICEGUI_STORAGE_PATH": str(workdir / "nicegui"), "ATIENDE_MEDIA_DIR": str(workdir / "media")})
            try:
                asyncio.run(run(base, process.pid, center, emails, args))
            finally:
                stop_server(process)


if __name__ == "__main__":
    main()
