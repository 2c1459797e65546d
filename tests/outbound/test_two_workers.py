"""Two ``atiende worker`` processes on one PostgreSQL database (Redis bus) run one send of 2,000
recipients against the fake Graph API: each recipient gets exactly one message, and the configured
rate holds over every one-second window although both processes send.

In the SQLite pass this is skipped (SQLite is embedded, one host); without Redis it fails."""

import asyncio
import bisect
import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from atiende.channels.models import Channel
from atiende.outbound.models import OutboundRecipient
from tests.channels.fakes.meta import FakeGraph
from tests.conversations.test_multiprocess import ROOT, redis_url  # noqa: F401 - redis_url is a fixture
from tests.factories import Factory
from tests.live import stop_server
from tests.outbound.helpers import collections_center, phone

pytestmark = pytest.mark.multiprocess
RECIPIENTS = 2_000
RATE = 500
WAIT = 90


def start_worker(database_url: str, redis_url: str, channel: str, graph_url: str,  # noqa: F811
                 log_path: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "ATIENDE_DATABASE_URL": database_url, "ATIENDE_REDIS_URL": redis_url,
           "ATIENDE_REDIS_CHANNEL": channel, "ATIENDE_WHATSAPP_GRAPH_URL": graph_url,
           "ATIENDE_WEBHOOKS_DISPATCH": "false",
           "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}  # this checkout's atiende
    return subprocess.Popen([sys.executable, "-m", "atiende.cli", "worker"], cwd=ROOT, env=env,
                            stdout=log_path.open("wb"), stderr=subprocess.STDOUT)


@pytest.fixture
def two_workers(redis_url: str, database_url: str, graph: FakeGraph,  # noqa: F811
                tmp_path: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    channel = f"atiende-test:{uuid.uuid4().hex}"
    workers = [start_worker(database_url, redis_url, channel, graph.base_url, tmp_path / f"worker-{n}.log")  # type: ignore[attr-defined]
               for n in range(2)]
    try:
        yield workers
    finally:
        for process in workers:
            stop_server(process)


async def test_two_workers_send_each_recipient_once_and_never_above_the_rate(
        http: httpx.AsyncClient, factory: Factory, graph: FakeGraph, clock, tmp_path: Path,
        two_workers: list[subprocess.Popen[bytes]]) -> None:  # type: ignore[no-untyped-def]
    clock.set(datetime.now(UTC))  # the workers run on the real clock
    center = await collections_center(http, factory)
    async with center.scenario.database.session() as session:
        whatsapp = await session.get(Channel, center.channel_id)
        assert whatsapp is not None
        whatsapp.settings = {**whatsapp.settings, "max_messages_per_second": RATE}
    send_id = await center.ready(RECIPIENTS, rate=RATE)

    deadline = time.monotonic() + WAIT
    while (send := await center.read(send_id))["status"] != "completed":
        for n, process in enumerate(two_workers):
            assert process.poll() is None, (tmp_path / f"worker-{n}.log").read_text()[-2000:]
        assert time.monotonic() < deadline, f"{send['status']}: {send['counts']} after {WAIT} s"
        await asyncio.sleep(0.5)
    await asyncio.sleep(1)  # a duplicate call, were there one, would have reached the fake by now

    reached = Counter(body["to"] for body in graph.sent())
    assert len(reached) == RECIPIENTS and set(reached.values()) == {1}
    assert set(reached) == {phone(i).lstrip("+") for i in range(RECIPIENTS)}
    async with center.scenario.database.session() as session:
        times = sorted((await session.scalars(select(OutboundRecipient.attempted_at).where(
            OutboundRecipient.send_id == send_id))).all())
    assert len(times) == RECIPIENTS
    busiest = max(bisect.bisect_left(times, t + timedelta(seconds=1)) - i for i, t in enumerate(times))
    assert busiest <= RATE
    # Paced, not bunched: with at most RATE starts in any second, N starts span more than N/RATE - 1 s
    # (a run that fell behind catches up faster than its slots, so the span may be a little under N/RATE).
    assert (times[-1] - times[0]).total_seconds() > RECIPIENTS / RATE - 1
