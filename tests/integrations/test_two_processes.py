"""Two full app processes (each with its worker and webhook dispatcher) on one PostgreSQL database
with the Redis bus, messages posted to both: every event reaches the client's receiver exactly
once, and the events of one conversation in the order they happened.

In the SQLite pass this is skipped (SQLite is embedded, one host); without Redis it fails."""

import asyncio
import json
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
from tests.conversations.test_multiprocess import redis_url, start  # noqa: F401 - redis_url is a fixture
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
