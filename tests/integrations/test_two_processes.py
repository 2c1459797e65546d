"""Two full app processes (each with its worker and webhook dispatcher) on one PostgreSQL database
with the Redis bus, messages posted to both: every event reaches the client's receiver exactly
once, and the events of one conversation in the order they happened.

In the SQLite pass this is skipped (SQLite is embedded, one host); without Redis it fails."""

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from atiende.channels.api_channel import sign
from atiende.integrations.models import DeliveryState, WebhookDelivery
from tests.conversations.scenario import SECRET, build
from tests.conversations.test_multiprocess import ROOT, redis_url, start  # noqa: F401 - redis_url is a fixture
from tests.factories import Factory
from tests.integrations.receiver import LocalReceiver
from tests.integrations.test_webhooks import private_allowed, subscribe  # noqa: F401 - a fixture
from tests.live import stop_server
from tests.workspace.seed import deliver_until_routed

pytestmark = pytest.mark.multiprocess
WAIT = 40


@pytest.fixture
def two_dispatching(redis_url: str, database_url: str, tmp_path: Path) -> Iterator[tuple[str, str]]:  # noqa: F811
    channel = f"atiende-test:{uuid.uuid4().hex}"
    settings = {"webhooks_allow_private_addresses": "true"}
    a, base_a = start(database_url, redis_url, channel, tmp_path / "a.log", **settings)
    try:
        b, base_b = start(database_url, redis_url, channel, tmp_path / "b.log", **settings)
    except BaseException:
        stop_server(a)
        raise
    try:
        yield base_a, base_b
    finally:
        stop_server(a)
        stop_server(b)


async def test_two_processes_deliver_each_event_once_and_in_order(
        http: httpx.AsyncClient, factory: Factory, clock, crm: LocalReceiver, private_allowed: None,
        two_dispatching) -> None:  # type: ignore[no-untyped-def]
    clock.set(datetime.now(UTC))  # the processes run on the real clock
    sc = await build(http, factory)
    await sc.hire(2, capacity=3)
    created = await subscribe(http, sc.admin.headers, sc.client_id, crm.url, secret="a-receiver-secret-0123456789")
    assert created.status_code == 201, created.text
    base_a, base_b = two_dispatching

    async with httpx.AsyncClient(timeout=30) as client:
        async def post(n: int) -> None:
            base = base_a if n % 2 == 0 else base_b
            raw = json.dumps({"external_id": f"wh-{n}", "contact": {"external_id": f"c-{n % 4}"},
                              "text": f"Hola {n}"}).encode()
            await deliver_until_routed(client, f"{base}/api/v1/channels/{sc.channel_id}/inbound", raw,
                                       {"X-Atiende-Signature": sign(SECRET, raw)})

        await asyncio.gather(*(post(n) for n in range(16)))

    deadline = time.monotonic() + WAIT
    while True:
        async with sc.database.session() as session:
            rows = list((await session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id))).all())
        if rows and all(r.state == DeliveryState.delivered for r in rows):
            break
        assert time.monotonic() < deadline, f"{sum(r.state != DeliveryState.delivered for r in rows)} undelivered"
        await asyncio.sleep(0.2)
    await asyncio.sleep(1)  # a second sender, if there were one, would have posted by now

    ids = [p["id"] for p in crm.payloads]
    assert len(ids) == len(set(ids)) == len(rows) >= 16 + 4  # 16 messages, 4 new conversations, and more
    order = {row.event_id: row.id for row in rows}
    for conversation_id in {p["data"]["conversation_id"] for p in crm.payloads}:
        sent = [order[p["id"]] for p in crm.payloads if p["data"]["conversation_id"] == conversation_id]
        assert sent == sorted(sent), conversation_id


def start_dispatcher(database_url: str, log_path: Path) -> subprocess.Popen[bytes]:
    """``atiende webhooks`` of this checkout: only the dispatcher, polling every 0.2 s."""
    env = {**os.environ, "ATIENDE_DATABASE_URL": database_url, "ATIENDE_WEBHOOKS_ALLOW_PRIVATE_ADDRESSES": "true",
           "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    return subprocess.Popen([sys.executable, "-m", "atiende.cli", "webhooks", "--nice", "5", "--poll", "0.2"],
                            cwd=ROOT, env=env, stdout=log_path.open("wb"), stderr=subprocess.STDOUT)


async def test_with_dispatch_off_the_app_only_writes_deliveries_and_atiende_webhooks_sends_them(
        http: httpx.AsyncClient, factory: Factory, clock, crm: LocalReceiver, private_allowed: None,
        redis_url: str, database_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    clock.set(datetime.now(UTC))
    sc = await build(http, factory)
    await sc.hire(1, capacity=5)
    created = await subscribe(http, sc.admin.headers, sc.client_id, crm.url, secret="a-receiver-secret-0123456789")
    assert created.status_code == 201, created.text
    app, base = start(database_url, redis_url, f"atiende-test:{uuid.uuid4().hex}", tmp_path / "app.log",
                      webhooks_dispatch="false", webhooks_allow_private_addresses="true")
    try:
        async with httpx.AsyncClient(timeout=30) as client:
            for n in range(3):
                raw = json.dumps({"external_id": f"only-{n}", "contact": {"external_id": f"solo-{n}"},
                                  "text": f"Hola {n}"}).encode()
                await deliver_until_routed(client, f"{base}/api/v1/channels/{sc.channel_id}/inbound", raw,
                                           {"X-Atiende-Signature": sign(SECRET, raw)})
        await asyncio.sleep(2)  # the app's own dispatcher, were it running, polls every second
        async with sc.database.session() as session:
            rows = list((await session.scalars(select(WebhookDelivery))).all())
        assert len(rows) >= 6 and all(r.state == DeliveryState.pending for r in rows)  # written, not sent
        assert crm.payloads == []
    finally:
        stop_server(app)

    dispatcher = start_dispatcher(database_url, tmp_path / "webhooks.log")
    try:
        deadline = time.monotonic() + WAIT
        while len(crm.payloads) < len(rows):
            assert dispatcher.poll() is None, (tmp_path / "webhooks.log").read_text()[-2000:]
            assert time.monotonic() < deadline, f"{len(crm.payloads)} of {len(rows)} delivered"
            await asyncio.sleep(0.2)
    finally:
        stop_server(dispatcher)
    assert sorted(p["id"] for p in crm.payloads) == sorted(r.event_id for r in rows)
