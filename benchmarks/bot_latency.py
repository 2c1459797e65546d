"""FAQ bot answer latency: inbound POST → the bot's reply handed to the channel's sender (its
``message.sent`` event, sender ``bot``, on a supervisor's WebSocket: the reply is stored and its
delivery queued in the same commit), at 200 msg/s from distinct contacts, with a 200-entry
knowledge base, one process on PostgreSQL. Target: p99 < 100 ms. Next to it, in the same run, the
inbound → ``conversation.assigned`` latency of the same server shape without a bot (``latency``).

    python -m benchmarks.bot_latency [--quick]

Every message is a real question (the test set's customer paraphrases, in turn), so the bot
greets and answers it from the knowledge base in one turn, as it does for a customer's first
message.
"""

import argparse
import asyncio
import contextlib
import hashlib
import json
import secrets
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import websockets
from sqlalchemy import insert, update

from atiende.auth.models import AccessToken
from atiende.bots.models import AttentionBot, KnowledgeEntry
from atiende.campaigns.models import Campaign
from atiende.channels.models import Channel
from atiende.channels.api_channel import SIGNATURE_HEADER, sign
from atiende.db import Database
from benchmarks import bot_matching, latency, servers, world
from benchmarks.rawhttp import RawClient
from tests.bots.faq_set import PARAPHRASES

TARGET_P99_MS = 100.0
QUESTIONS = [text for paraphrases in PARAPHRASES for text in paraphrases]


@dataclass(frozen=True)
class BotLatency:
    entries: int
    rate: int
    sent: int
    replies: int
    missing: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    assigned: latency.LatencyResult  # the same run's inbound → assigned, without a bot
    delivered: int = 0  # the bot's replies the receiver had got when the run ended

    @property
    def meets_target(self) -> bool:
        return self.missing == 0 and self.p99_ms < TARGET_P99_MS


async def _prepare(url: str, bench: world.World, entries: int, callback_url: str) -> str:
    """A bot with ``entries`` entries in front of the campaign, the API channel's replies delivered
    to ``callback_url``; a bearer token for the supervisor."""
    database = Database(url)
    try:
        async with database.session() as session:
            bot = AttentionBot(client_id=bench.client_id, name="Asistente bench", revision=1, active=True,
                               welcome_message="¡Hola! Soy el asistente.", fallback_message="No entendí.",
                               handoff_message="Te comunico con un asesor.", menu=[])
            session.add(bot)
            await session.flush()
            phrased, answers = bot_matching.knowledge_base(entries)
            await session.execute(insert(KnowledgeEntry), [
                {"bot_id": bot.id, "question": p.question[:300], "phrasings": [x[:300] for x in p.phrasings],
                 "answer": answers[p.entry_id], "buttons": [], "category": "", "active": True} for p in phrased])
            await session.execute(update(Channel).where(Channel.id == bench.channel_id)
                                  .values(settings={"callback_url": callback_url}))
            await session.execute(update(Campaign).where(Campaign.id == bench.campaign_id)
                                  .values(attention_bot_id=bot.id, bot_answers_out_of_hours=True))
            token = secrets.token_urlsafe(32)
            now = datetime.now(UTC)
            await session.execute(insert(AccessToken).values(
                user_id=bench.supervisor_user_id, token_hash=hashlib.sha256(token.encode()).hexdigest(),
                created_at=now, expires_at=now + world.TOKEN_TTL))
        return token
    finally:
        await database.dispose()


async def _drive(base_url: str, bench: world.World, token: str, *, rate: int, seconds: float, warmup: float,
                 grace: float) -> tuple[dict[int, float], dict[int, float]]:
    arrivals: dict[int, float] = {}  # conversation id → first bot message.sent
    ready = asyncio.Event()

    async def listen() -> None:
        async with websockets.connect(f"{base_url.replace('http://', 'ws://')}/api/v1/ws?token={token}",
                                      max_queue=None, open_timeout=30) as socket:
            async for frame in socket:
                received = time.perf_counter()
                event: dict[str, Any] = json.loads(frame)
                if event.get("kind") == "ready":
                    ready.set()
                elif event.get("kind") == "message.sent" and event.get("sender") == "bot":
                    arrivals.setdefault(event["conversation_id"], received)

    listener = asyncio.create_task(listen())
    await asyncio.wait_for(ready.wait(), 30)
    tag = f"bot-{time.time_ns()}"
    warm_count, count = int(rate * warmup), int(rate * seconds)
    sent_at: dict[int, float] = {}
    client = RawClient(base_url)
    try:
        async def post(index: int, measured: bool) -> None:
            raw = json.dumps({"external_id": f"{tag}-{index}", "contact": {"external_id": f"{tag}-c{index}"},
                              "text": QUESTIONS[index % len(QUESTIONS)]}, separators=(",", ":")).encode()
            started = time.perf_counter()
            with contextlib.suppress(OSError, asyncio.IncompleteReadError, ValueError):
                status, answer = await client.post(bench.inbound_path, raw, {
                    "Content-Type": "application/json", SIGNATURE_HEADER: sign(world.SECRET, raw)})
                if status == 200 and measured:
                    sent_at[json.loads(answer)["delivery_id"]] = started

        async def pace(first: int, total: int, measured: bool) -> list[asyncio.Task[None]]:
            tasks, began = [], time.perf_counter()
            for n in range(total):
                delay = began + n / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(post(first + n, measured)))
            return tasks

        await latency._settle(await pace(0, warm_count, False), grace)
        await latency._settle(await pace(warm_count, count, True), grace)
        deadline = time.perf_counter() + grace
        while time.perf_counter() < deadline and len(arrivals) < warm_count + len(sent_at):
            await asyncio.sleep(0.05)
    finally:
        await client.aclose()
        listener.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await listener
    return sent_at, arrivals


def run(workdir: Path, *, rate: int = 200, seconds: float = 10, warmup: float = 2, entries: int = 200,
        grace: float = 15, log: Any = print) -> BotLatency:
    workdir.mkdir(parents=True, exist_ok=True)
    log("  inbound → assigned, no bot (reference, same run):")
    assigned = latency.run(workdir / "assigned", rate=rate, seconds=seconds, warmup=warmup, grace=grace, log=log)
    # The replies really leave (as they would for a client): the process's jobs worker delivers
    # each to a receiver answering at once, in a process of its own.
    with world.scratch_database() as url, servers.receiver(delay=0) as (callback_url, delivered):
        bench = asyncio.run(world.seed(url, agents=5, capacity=10, online=True))
        token = asyncio.run(_prepare(url, bench, entries, callback_url))
        with servers.deployment("single", url, workdir, "bot-latency") as server:
            log(f"  bot with {entries} entries; {rate} msg/s for {seconds}s after {warmup}s warm-up (one process)")
            sent_at, arrivals = asyncio.run(_drive(server.base_url, bench, token, rate=rate, seconds=seconds,
                                                   warmup=warmup, grace=grace))
            received = delivered()
        conversation_of = asyncio.run(latency._conversations_of(url, list(sent_at)))
    values = [(arrivals[conversation_of[d]] - t) * 1000 for d, t in sent_at.items()
              if conversation_of.get(d) in arrivals]
    result = BotLatency(entries=entries, rate=rate, sent=int(rate * seconds), replies=len(values),
                        missing=len(sent_at) - len(values), p50_ms=round(latency.percentile(values, 50), 1),
                        p99_ms=round(latency.percentile(values, 99), 1),
                        max_ms=round(max(values), 1) if values else float("nan"), assigned=assigned,
                        delivered=received)
    log(f"    bot reply p50 {result.p50_ms} ms, p99 {result.p99_ms} ms ({result.replies}/{result.sent} replies)")
    return result


def report(result: BotLatency) -> str:
    a = result.assigned
    return "\n".join([
        f"FAQ bot answer latency at {result.rate} msg/s, one process on PostgreSQL, {result.entries} entries",
        f"   inbound POST → bot reply handed to the sender   p50 {result.p50_ms:.1f} ms   p99 {result.p99_ms:.1f} ms"
        f"   max {result.max_ms:.1f} ms   ({result.replies}/{result.sent}, {result.missing} missing; "
        f"{result.delivered} replies delivered to the API channel's callback by the end)",
        f"   inbound POST → agent's assigned event (no bot)   p50 {a.p50_ms:.1f} ms   p99 {a.p99_ms:.1f} ms"
        f"   ({a.events}/{a.sent})",
        f"   target p99 < {TARGET_P99_MS:.0f} ms: {'meets target' if result.meets_target else 'MISSES target'}",
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="toy sizes: checks the machinery only")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="atiende-bench-") as tmp:
        result = (run(Path(tmp), rate=20, seconds=1, warmup=0.5, entries=60, grace=10) if args.quick
                  else run(Path(tmp)))
    print(report(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
