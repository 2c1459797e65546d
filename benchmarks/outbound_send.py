"""A send (envío) against a local fake Graph API that answers each message after 50 ms, on
PostgreSQL, one worker process: the achieved rate over the steady part (target ≥ 95 % of the
configured rate), the most calls started in any one-second window (never above the rate), peak
RSS, and database statements per recipient.

    python -m benchmarks.outbound_send [--recipients 100000] [--rate 1000] [--quick]

``--quick`` sends 5,000 at 500 msg/s. The fake runs in a process of its own (``benchmarks.fake_graph``).
"""

import argparse
import asyncio
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from datetime import UTC, datetime

import httpx
from sqlalchemy import event, insert, select

from atiende.bus import InProcessBus
from atiende.campaigns.models import CampaignChannel
from atiende.channels.models import Channel, ChannelKind
from atiende.channels.whatsapp.models import WhatsAppTemplate
from atiende.clock import SystemClock
from atiende.db import Database
from atiende.jobs import JobContext, Worker, enqueue
from atiende.outbound.engine import run_send
from atiende.outbound.models import OutboundRecipient, OutboundSend, RecipientState, SendStatus
from atiende.outbound.service import job_key
from atiende.settings import Settings
from benchmarks import latency, servers, world

LATENCY_SECONDS = 0.05
TEMPLATE = [{"type": "BODY", "text": "Tu saldo de {{1}} vence el {{2}}."}]


@contextmanager
def fake_graph() -> Iterator[str]:
    """``benchmarks.fake_graph`` in its own process; yields its base URL."""
    port = servers.free_port()
    process = subprocess.Popen([sys.executable, "-m", "benchmarks.fake_graph", "--port", str(port),
                                "--delay", str(LATENCY_SECONDS)], cwd=servers.REPO)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                httpx.get(f"{base}/health", timeout=2)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(10)


async def _prepare(url: str, recipients: int, rate: int) -> int:
    seeded = await world.seed(url, agents=0, capacity=1, online=False)
    return await _add_send(url, seeded.client_id, seeded.campaign_id, recipients, rate)


async def _add_send(url: str, client_id: int, campaign_id: int, recipients: int, rate: int) -> int:
    """A WhatsApp channel on the campaign, an approved template and a programmed send of
    ``recipients``, its job due now; returns the send's id."""
    database = Database(url)
    try:
        async with database.session() as session:
            channel = Channel(client_id=client_id, kind=ChannelKind.whatsapp, name="WA bench", active=True,
                              credentials={"access_token": "t", "app_secret": "s"},
                              settings={"phone_number_id": "1", "max_messages_per_second": rate})
            session.add(channel)
            await session.flush()
            session.add(CampaignChannel(campaign_id=campaign_id, channel_id=channel.id))
            session.add(WhatsAppTemplate(channel_id=channel.id, name="recordatorio", language="es", status="APPROVED",
                                         category="UTILITY", components=TEMPLATE, synced_at=datetime.now(UTC)))
            send = OutboundSend(client_id=client_id, campaign_id=campaign_id, channel_id=channel.id,
                                name="bench", status=SendStatus.scheduled, columns=["monto", "vence"],
                                phone_column="telefono", template_name="recordatorio", template_language="es",
                                mapping={"body": [{"column": "monto"}, {"column": "vence"}]},
                                rate_per_second=rate, respect_schedule=False, max_consecutive_failures=50,
                                consecutive_failures=0, created_at=datetime.now(UTC))
            session.add(send)
            await session.flush()
            send_id, channel_id = send.id, channel.id
        for start in range(0, recipients, 5000):
            async with database.session() as session:
                await session.execute(insert(OutboundRecipient), [
                    {"send_id": send_id, "channel_id": channel_id, "row_number": i + 2, "phone": f"+57300{i:07d}",
                     "name": "", "variables": {"monto": f"$ {i}", "vence": "15 dic"},
                     "state": RecipientState.pending, "attempts": 0}
                    for i in range(start, min(recipients, start + 5000))])
        async with database.session() as session:
            await enqueue(session, run_send, due_at=datetime.now(UTC), key=job_key(send_id), max_attempts=1000,
                          send_id=send_id)
        return send_id
    finally:
        await database.dispose()


def _max_in_window(times: list[float]) -> int:
    best, left = 0, 0
    for right, t in enumerate(times):
        while t - times[left] >= 1.0:
            left += 1
        best = max(best, right - left + 1)
    return best


async def _run(url: str, send_id: int, recipients: int, fake_url: str) -> dict[str, float]:
    database = Database(url)
    statements = [0]
    event.listen(database.engine.sync_engine, "before_cursor_execute", lambda *a: statements.__setitem__(0, statements[0] + 1))
    settings = Settings(database_url=url, whatsapp_graph_url=fake_url)
    started = time.monotonic()
    async with httpx.AsyncClient(timeout=15, limits=httpx.Limits(max_connections=200, max_keepalive_connections=200)) as http:
        worker = Worker(JobContext(database=database, clock=SystemClock(), bus=InProcessBus(), settings=settings,
                                   http=http))
        while True:
            await worker.run_due()
            async with database.session() as session:
                status = await session.scalar(select(OutboundSend.status).where(OutboundSend.id == send_id))
            if status != SendStatus.sending and status != SendStatus.scheduled:
                break
            await asyncio.sleep(0.05)
    elapsed = time.monotonic() - started
    async with database.session() as session:
        times = sorted(t.timestamp() for t in (await session.scalars(select(OutboundRecipient.attempted_at).where(
            OutboundRecipient.send_id == send_id))).all() if t is not None)
        sent = len((await session.scalars(select(OutboundRecipient.id).where(
            OutboundRecipient.send_id == send_id, OutboundRecipient.state == RecipientState.sent))).all())
    await database.dispose()
    steady = times[len(times) // 10: len(times) * 9 // 10]
    rate = (len(steady) - 1) / (steady[-1] - steady[0]) if len(steady) > 1 and steady[-1] > steady[0] else 0.0
    return {"sent": sent, "elapsed_s": elapsed, "steady_rate": rate, "max_in_1s": _max_in_window(times),
            "statements_per_recipient": statements[0] / max(1, recipients),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def inbound_while_sending(workdir: Path, *, send_rate: int = 80, inbound_rate: int = 100,
                          seconds: float = 15, quick: bool = False) -> latency.LatencyResult:
    """The issue's second number: inbound POST → agent's ``conversation.assigned`` at
    ``inbound_rate`` msg/s through one ``atiende serve`` while the same process runs a send at
    ``send_rate`` msg/s against the fake Graph API (target: inbound p99 < 100 ms)."""
    sizes = {"rate": 20, "seconds": 1, "warmup": 0.5, "agents": 5, "grace": 10} if quick else \
        {"rate": inbound_rate, "seconds": seconds, "warmup": 2, "agents": 50, "grace": 15}
    recipients = int(send_rate * (sizes["seconds"] + sizes["warmup"] + 30))  # still sending when the driver stops

    def prepare(url: str, bench: world.World) -> None:
        if send_rate:  # 0: the same run without a send, the baseline
            asyncio.run(_add_send(url, bench.client_id, bench.campaign_id, recipients, send_rate))

    with fake_graph() as fake_url:
        result = latency.run(workdir, **sizes, prepare=prepare, settings={"whatsapp_graph_url": fake_url})
        sent = int(httpx.get(f"{fake_url}/count", timeout=5).text)
    result.notes.append(f"{sent} send messages answered by the fake Graph API during the run")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--with-inbound", action="store_true",
                        help="instead: inbound latency at 100 msg/s while a send runs at 80 msg/s")
    args = parser.parse_args()
    if args.with_inbound:
        with tempfile.TemporaryDirectory() as workdir:
            alone = inbound_while_sending(Path(workdir) / "alone", quick=args.quick, send_rate=0)
            result = inbound_while_sending(Path(workdir) / "sending", quick=args.quick)
        print(f"inbound at {alone.rate} msg/s, no send (same run): p50 {alone.p50_ms} ms, p99 {alone.p99_ms} ms")
        print(f"inbound at {result.rate} msg/s while sending at 80 msg/s: p50 {result.p50_ms} ms, "
              f"p99 {result.p99_ms} ms ({result.events}/{result.sent} events); target p99 < 100 ms: "
              + ("meets target" if result.p99_ms < 100 and result.missing == 0 else "MISSES target")
              + f" (ratio to no send {result.p99_ms / alone.p99_ms:.2f}); " + "; ".join(result.notes))
        return
    recipients, rate = (5000, 500) if args.quick else (args.recipients, args.rate)
    with fake_graph() as fake_url, world.scratch_database() as url:
        send_id = asyncio.run(_prepare(url, recipients, rate))
        result = asyncio.run(_run(url, send_id, recipients, fake_url))
    print(f"outbound send: {recipients} recipients at {rate}/s, fake Graph API answering after 50 ms")
    for key, value in result.items():
        print(f"  {key:<26} {value:,.2f}")
    print(f"  achieved / configured      {result['steady_rate'] / rate:.1%} (target ≥ 95 %)")
    print(f"  never above the rate       {'yes' if result['max_in_1s'] <= rate else 'NO'}")
    sys.exit(0 if result["max_in_1s"] <= rate else 1)


if __name__ == "__main__":
    main()
