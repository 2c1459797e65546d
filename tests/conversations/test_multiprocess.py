"""Two app processes on one PostgreSQL database with the Redis bus: inbound messages posted to both,
a WebSocket on process A sees what process B caused, and the assignment invariants hold.

Process A runs as a web process only (``ATIENDE_WORKER_ENABLED=false``,
``ATIENDE_INBOUND_ROUTING=worker``): it accepts messages and announces them on the bus; process B
runs the worker and routes what both accepted.

Needs PostgreSQL and Redis (127.0.0.1:6379 or ``ATIENDE_TEST_REDIS_URL``): without Redis these
tests fail, they are never skipped; in the SQLite pass they are skipped (SQLite is embedded, one
host)."""

import asyncio
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from websockets.asyncio.client import connect

from atiende.channels.api_channel import sign
from atiende.conversations.models import Assignment, Conversation
from tests.conversations.scenario import SECRET, build
from tests.factories import Factory
from tests.live import free_port, stop_server, wait_until_healthy
from tests.workspace.seed import deliver_until_routed

pytestmark = pytest.mark.multiprocess
REDIS_URL = os.environ.get("ATIENDE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
ROOT = Path(__file__).resolve().parents[2]
WAIT = 20


@pytest.fixture
def redis_url(db_kind: str) -> str:
    if db_kind != "postgresql":
        pytest.skip("multi-process runs need PostgreSQL; SQLite is an embedded, single-host database")
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as exc:  # noqa: BLE001 - any failure means the test cannot prove anything
        pytest.fail(f"Redis is not reachable at {REDIS_URL} ({exc}); the multi-process tests need it")
    return REDIS_URL


def start(database_url: str, redis_url: str, channel: str, log_path: Path,
          **settings: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "ATIENDE_DATABASE_URL": database_url, "ATIENDE_REDIS_URL": redis_url,
           "ATIENDE_TEST_BUS_CHANNEL": channel, "ATIENDE_UI_ENABLED": "false",
           "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),  # this checkout's atiende, not an installed one
           **{f"ATIENDE_{name.upper()}": value for name, value in settings.items()}}
    log = log_path.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "tests.conversations.mp_server:build", "--host", "127.0.0.1",
         "--port", str(port), "--ws", "websockets-sansio", "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    wait_until_healthy(process, base, log_path)
    return process, base


@pytest.fixture
def two_processes(redis_url: str, database_url: str, tmp_path: Path) -> Iterator[tuple[str, str]]:
    channel = f"atiende-test:{uuid.uuid4().hex}"
    a, base_a = start(database_url, redis_url, channel, tmp_path / "a.log", worker_enabled="false",
                      inbound_routing="worker")
    try:
        b, base_b = start(database_url, redis_url, channel, tmp_path / "b.log")
    except BaseException:
        stop_server(a)
        raise
    try:
        yield base_a, base_b
    finally:
        stop_server(a)
        stop_server(b)


async def test_two_processes_share_events_and_keep_the_invariants(
        redis_url: str, http: httpx.AsyncClient, factory: Factory, clock, two_processes) -> None:  # type: ignore[no-untyped-def]
    clock.set(datetime.now(UTC))  # the processes run on the real clock: logins must be valid now
    sc = await build(http, factory, permissions={"close_without_reply": True})
    agents = await sc.hire(3, capacity=2)
    base_a, base_b = two_processes
    ws_url = base_a.replace("http://", "ws://") + "/api/v1/ws?token=" + \
        sc.supervisor.headers["Authorization"].removeprefix("Bearer ")
    async with connect(ws_url) as ws, httpx.AsyncClient(timeout=30) as client:
        assert json.loads(await asyncio.wait_for(ws.recv(), WAIT)) == {"kind": "ready"}

        async def post(n: int) -> tuple[str, int]:
            base = base_a if n % 2 == 0 else base_b
            raw = json.dumps({"external_id": f"mp-{n}", "contact": {"external_id": f"c-{n}"},
                              "text": f"Hola {n}"}).encode()
            answer = await deliver_until_routed(client, f"{base}/api/v1/channels/{sc.channel_id}/inbound", raw,
                                                {"X-Atiende-Signature": sign(SECRET, raw)})
            return base, answer["conversation_id"]

        posted = await asyncio.gather(*(post(n) for n in range(12)))
        via_b = {cid for base, cid in posted if base == base_b}
        received: set[int] = set()
        assigned: set[int] = set()
        while not (received >= {cid for _, cid in posted} and len(assigned) == 6):
            frame = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
            if frame["kind"] == "message.received":
                received.add(frame["conversation_id"])
            elif frame["kind"] == "conversation.assigned":
                assigned.add(frame["conversation_id"])
        assert via_b and via_b <= received  # process A's socket heard what process B stored

        async with sc.database.session() as session:
            per_agent = dict((await session.execute(select(Assignment.membership_id, func.count())
                                                    .where(Assignment.ended_at.is_(None))
                                                    .group_by(Assignment.membership_id))).all())
            statuses = [c.status for c in (await session.scalars(select(Conversation))).unique().all()]
        assert per_agent == {agent.membership_id: 2 for agent in agents}
        assert sorted(statuses) == ["assigned"] * 6 + ["queued"] * 6

        # An agent closes on process B: the seat frees and the oldest waiting conversation is assigned;
        # the supervisor's socket on process A sees both.
        held = min(assigned)
        holder_id = (await sc.detail(held))["assigned_membership_id"]
        [holder] = [a for a in agents if a.membership_id == holder_id]
        async with sc.database.session() as session:
            oldest_waiting = await session.scalar(select(Conversation.id).where(Conversation.status == "queued")
                                                  .order_by(Conversation.queued_at, Conversation.id).limit(1))
        closed = await client.post(f"{base_b}/api/v1/conversations/{held}/close", json={}, headers=holder.headers)
        assert closed.status_code == 200, closed.text
        seen_closed = seen_assigned = False
        while not (seen_closed and seen_assigned):
            frame = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
            seen_closed |= frame["kind"] == "conversation.closed" and frame["conversation_id"] == held
            seen_assigned |= (frame["kind"] == "conversation.assigned"
                              and frame["conversation_id"] == oldest_waiting
                              and frame["membership_id"] == holder.membership_id)
