"""Latency from an inbound POST to the agent's ``conversation.assigned`` event on the WebSocket.

50 agents are online with room for every conversation of the run and each holds an open
``GET /api/v1/ws?token=…``. A paced sender posts signed inbound messages from new contacts at a
fixed rate (open loop: a slow answer never delays the next send). Each answer names the accepted
delivery; each ``conversation.assigned`` frame names the conversation, and after the run the
database says which conversation each delivery became. Latency = frame received − POST started,
both on this driver's monotonic clock. A message whose event does not arrive within
``grace`` seconds after the last send counts as missing (and is reported, never dropped silently).
"""

import asyncio
import contextlib
import json
import statistics
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import websockets

from sqlalchemy import select

from atiende.channels.api_channel import SIGNATURE_HEADER, sign
from atiende.channels.whatsapp.signature import sign as whatsapp_sign
from atiende.conversations.models import InboundDelivery
from atiende.db import Database
from benchmarks import servers, world
from benchmarks.rawhttp import RawClient


@dataclass
class LatencyResult:
    rate: int
    seconds: float
    agents: int
    sent: int
    answered: int
    events: int
    missing: int
    achieved_rate: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    answer_p50_ms: float
    answer_p99_ms: float
    topology: str = "single"
    durable_acks: bool = True
    channel: str = "api"
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


@dataclass(frozen=True)
class Post:
    """One signed POST and the provider ids of the messages it carries."""

    raw: bytes
    headers: dict[str, str]
    external_ids: tuple[str, ...]


def _api_posts(numbers: range, tag: str) -> list[Post]:
    """One message per POST, message ``i`` of contact ``i`` (phones differ across the whole run,
    warm-up included, so no message joins another's conversation)."""
    now = datetime.now(UTC).isoformat()
    out = []
    for i in numbers:
        raw = json.dumps({"external_id": f"{tag}-{i}", "contact": {"external_id": f"{tag}-c{i}", "name": f"Lat {i}",
                                                                   "phone": f"+57320{i:07d}"},
                          "text": "Hola, necesito ayuda", "timestamp": now}, separators=(",", ":")).encode()
        out.append(Post(raw, {"Content-Type": "application/json", SIGNATURE_HEADER: sign(world.SECRET, raw)},
                        (f"{tag}-{i}",)))
    return out


def _whatsapp_posts(numbers_of_run: range, tag: str) -> list[Post]:
    """Meta-shaped batches: 1, 2 or 3 messages of new contacts per POST, and a delivery report."""
    out, size = [], 0
    i, end = numbers_of_run.start, numbers_of_run.stop
    stamp = str(int(time.time()))
    while i < end:
        size = size % 3 + 1
        numbers = list(range(i, min(end, i + size)))
        contacts = [{"profile": {"name": f"Lat {n}"}, "wa_id": f"57321{n:07d}"} for n in numbers]
        messages = [{"from": c["wa_id"], "id": f"wamid.{tag}-{n}", "timestamp": stamp, "type": "text",
                     "text": {"body": "Hola, necesito ayuda"}} for c, n in zip(contacts, numbers, strict=True)]
        value = {"messaging_product": "whatsapp",
                 "metadata": {"display_phone_number": "15550000000", "phone_number_id": world.WHATSAPP_NUMBER},
                 "contacts": contacts, "messages": messages,
                 "statuses": [{"id": f"wamid.{tag}-out-{i}", "status": "delivered", "timestamp": stamp,
                               "recipient_id": contacts[0]["wa_id"]}]}
        raw = json.dumps({"object": "whatsapp_business_account", "entry": [
            {"id": "1", "changes": [{"field": "messages", "value": value}]}]}, separators=(",", ":")).encode()
        out.append(Post(raw, {"Content-Type": "application/json",
                              "X-Hub-Signature-256": whatsapp_sign(raw, world.WHATSAPP_SECRET)},
                        tuple(f"wamid.{tag}-{n}" for n in numbers)))
        i += len(numbers)
    return out


class Listener:
    """One agent's socket: the arrival time of every ``conversation.assigned`` frame."""

    def __init__(self, url: str, arrivals: dict[int, float]) -> None:
        self.url = url
        self.arrivals = arrivals
        self.ready = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    async def run(self) -> None:
        async with websockets.connect(self.url, max_queue=None, open_timeout=30) as socket:
            async for frame in socket:
                received = time.perf_counter()
                event = json.loads(frame)
                if event.get("kind") == "ready":
                    self.ready.set()
                elif event.get("kind") == "conversation.assigned":
                    self.arrivals.setdefault(event["conversation_id"], received)


async def _drive(base_url: str, bench: world.World, *, rate: int, seconds: float, warmup: float,
                 grace: float, channel: str = "api",
                 ) -> tuple[dict[str, float], dict[int, float], list[float], int, float]:
    arrivals: dict[int, float] = {}
    ws_base = base_url.replace("http://", "ws://")
    listeners = [Listener(f"{ws_base}/api/v1/ws?token={agent.token}", arrivals) for agent in bench.agents]
    for listener in listeners:
        listener.task = asyncio.create_task(listener.run())
    await asyncio.wait_for(asyncio.gather(*(listener.ready.wait() for listener in listeners)), 30)

    warm_count, count = int(rate * warmup), int(rate * seconds)
    tag = f"lat-{time.time_ns()}"
    if channel == "whatsapp":
        path = f"/webhooks/whatsapp/{bench.whatsapp_channel_id}"
        warm_posts, posts = _whatsapp_posts(range(warm_count), tag), _whatsapp_posts(range(warm_count, warm_count + count), tag)
    else:
        path = bench.inbound_path
        warm_posts, posts = _api_posts(range(warm_count), tag), _api_posts(range(warm_count, warm_count + count), tag)
    sent_at: dict[str, float] = {}  # provider id → POST started (measured messages only)
    accepted = 0
    answers: list[float] = []
    failures = 0
    client = RawClient(base_url)
    try:

        async def post(item: Post, measured: bool) -> None:
            nonlocal failures, accepted
            started = time.perf_counter()
            try:
                status, _ = await client.post(path, item.raw, item.headers)
            except (OSError, asyncio.IncompleteReadError, ValueError):
                failures += len(item.external_ids)
                return
            if status != 200:
                failures += len(item.external_ids)
                return
            accepted += len(item.external_ids)
            if measured:
                answers.append(time.perf_counter() - started)
                sent_at.update(dict.fromkeys(item.external_ids, started))

        async def pace(items: list[Post], measured: bool) -> tuple[list[asyncio.Task[None]], float]:
            """Each POST leaves when its first message is due at ``rate`` messages a second."""
            tasks = []
            began = time.perf_counter()
            first = 0
            for item in items:
                delay = began + first / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(post(item, measured)))
                first += len(item.external_ids)
            return tasks, time.perf_counter() - began

        warm_tasks, _ = await pace(warm_posts, False)
        await _settle(warm_tasks, grace)
        tasks, elapsed = await pace(posts, True)
        unanswered = await _settle(tasks, grace)
        failures += unanswered
        deadline = time.perf_counter() + grace
        while time.perf_counter() < deadline and len(arrivals) < accepted:  # one new conversation per message
            await asyncio.sleep(0.05)
    finally:
        await client.aclose()
    for listener in listeners:
        assert listener.task is not None
        listener.task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await listener.task
    return sent_at, arrivals, answers, failures, elapsed


async def _settle(tasks: list[asyncio.Task[None]], timeout: float) -> int:
    """Wait for the POSTs still in flight at most ``timeout`` seconds; cancel the rest (returned)."""
    if not tasks:
        return 0
    _, pending = await asyncio.wait(tasks, timeout=timeout)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    return len(pending)


async def _conversations_of(url: str, keys: list[Any]) -> dict[Any, int]:
    """delivery id (or provider message id, for strings) → the conversation the router made of it."""
    column = InboundDelivery.external_id if keys and isinstance(keys[0], str) else InboundDelivery.id
    database = Database(url)
    try:
        async with database.session() as session:
            rows = await session.execute(select(column, InboundDelivery.conversation_id).where(column.in_(keys)))
            return {key: conversation for key, conversation in rows.all() if conversation is not None}
    finally:
        await database.dispose()


def run(workdir: Path, *, rate: int = 200, seconds: float = 15, warmup: float = 2, agents: int = 50,
        grace: float = 15, topology: str = "single", durable_acks: bool = True,
        log: Callable[[str], None] = print, prepare: Callable[[str, world.World], None] | None = None,
        settings: dict[str, str] | None = None, channel: str = "api",
        companion: Callable[[str, Path], AbstractContextManager[None]] | None = None) -> LatencyResult:
    """``topology``: as ``servers.deployment`` (``split`` needs Redis at 127.0.0.1:6379);
    ``durable_acks``: webhooks answer only once PostgreSQL flushed their messages to disk
    (``ATIENDE_INBOUND_SYNCHRONOUS_COMMIT=true``, the default; False: the relaxed opt-in);
    ``prepare(url, world)`` adds to the seeded
    world before the server starts, ``settings`` more ATIENDE_* variables for it; ``channel``:
    ``api`` (one message per POST) or ``whatsapp`` (Meta-shaped batches of 1–3 messages and a
    delivery report per POST); ``companion(url, workdir)``: one more process running beside the
    server for the run (the webhooks dispatcher)."""
    workdir.mkdir(parents=True, exist_ok=True)
    capacity = int(rate * (seconds + warmup) / agents) + 10  # room for every conversation of the run
    with world.scratch_database() as url:
        bench = asyncio.run(world.seed(url, agents=agents, capacity=capacity, online=True, tokens=True))
        if prepare is not None:
            prepare(url, bench)
        extra = {"inbound_synchronous_commit": "true" if durable_acks else "false"}
        extra.update(settings or {})
        with servers.deployment(topology, url, workdir, "latency", **extra) as server, \
                (companion(url, workdir) if companion is not None else nullcontext()):
            log(f"  {agents} agents on the WebSocket; {rate} msg/s for {seconds}s after {warmup}s warm-up ({topology}"
                + (", durable acks" if durable_acks else ", relaxed acks") + f", {channel} channel)")
            sent_at, arrivals, answers, failures, elapsed = asyncio.run(
                _drive(server.base_url, bench, rate=rate, seconds=seconds, warmup=warmup, grace=grace,
                       channel=channel))
        conversation_of = asyncio.run(_conversations_of(url, list(sent_at)))
    latencies = [(arrivals[conversation_of[d]] - t) * 1000 for d, t in sent_at.items()
                 if conversation_of.get(d) in arrivals]
    missing = len(sent_at) - len(latencies)
    notes = []
    if failures:
        notes.append(f"{failures} POSTs failed, were refused or got no answer within {grace}s after the last send")
    if missing:
        notes.append(f"{missing} conversations got no assigned event within {grace}s after the last send")
    count = int(rate * seconds)
    result = LatencyResult(
        rate=rate, seconds=seconds, agents=agents, sent=count, answered=len(sent_at), events=len(latencies),
        missing=missing, achieved_rate=round(count / elapsed, 1) if elapsed else 0.0,
        p50_ms=round(percentile(latencies, 50), 1), p90_ms=round(percentile(latencies, 90), 1),
        p99_ms=round(percentile(latencies, 99), 1), max_ms=round(max(latencies), 1) if latencies else float("nan"),
        answer_p50_ms=round(percentile([a * 1000 for a in answers], 50), 1),
        answer_p99_ms=round(percentile([a * 1000 for a in answers], 99), 1), topology=topology,
        durable_acks=durable_acks, channel=channel, notes=notes)
    log(f"    assigned event p50 {result.p50_ms} ms, p99 {result.p99_ms} ms ({result.events}/{result.sent} events)"
        + (f"; mean {statistics.fmean(latencies):.1f} ms" if latencies else ""))
    return result
