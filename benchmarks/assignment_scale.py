"""Assignment with a long queue: does assigning one conversation cost more when 10,000 wait than
when 1,000 do?

For each queue length: a fresh database with 500 agents (capacity 1, offline) attached to the
campaign, ``queued`` waiting conversations bulk-inserted through the models (then VACUUM ANALYZE,
as autovacuum would), and two timed paths through the engine's own service functions, each call
in its own transaction (commit included):

- *agent comes online*: ``staffing.change_presence(…, online)`` — the agent takes the oldest
  waiting conversation;
- *capacity frees*: ``conversation_service.close(…)`` (by a supervisor) of a conversation an agent
  holds — the engine assigns the next waiting one to that agent in the same transaction.

Every call must assign exactly one conversation (checked). We also EXPLAIN ANALYZE the queue
queries the dispatcher runs, so a growing cost points at its plan.
"""

import asyncio
import statistics
import time
from contextlib import ExitStack
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import func, select, text
from sqlalchemy.dialects import postgresql

from atiende.auth.models import Membership, Presence, User
from atiende.auth.service import auth_service
from atiende.bus import InProcessBus
from atiende.clock import SystemClock
from atiende.conversations import dispatch
from atiende.conversations.models import Assignment, Conversation, ConversationStatus
from atiende.conversations.service import conversation_service
from atiende.conversations.staffing import change_presence
from atiende.db import Database
from atiende.jobs import JobContext
from atiende.settings import Settings
from benchmarks import world


@dataclass
class QueueRun:
    queued: int
    agents: int
    online_ms: list[float] = field(default_factory=list)
    close_ms: list[float] = field(default_factory=list)
    plans: dict[str, str] = field(default_factory=dict)

    @property
    def online_median(self) -> float:
        return round(statistics.median(self.online_ms), 2)

    @property
    def close_median(self) -> float:
        return round(statistics.median(self.close_ms), 2)

    def summary(self) -> dict[str, object]:
        return {"queued": self.queued, "agents": self.agents, "samples": len(self.online_ms),
                "online_median_ms": self.online_median, "online_mean_ms": round(statistics.fmean(self.online_ms), 2),
                "close_median_ms": self.close_median, "close_mean_ms": round(statistics.fmean(self.close_ms), 2),
                "plans": self.plans}


@dataclass
class ScaleResult:
    runs: list[QueueRun]

    @property
    def online_ratio(self) -> float:
        return round(self.runs[-1].online_median / self.runs[0].online_median, 2)

    @property
    def close_ratio(self) -> float:
        return round(self.runs[-1].close_median / self.runs[0].close_median, 2)

    def as_dict(self) -> dict[str, object]:
        return {"runs": [r.summary() for r in self.runs], "online_ratio": self.online_ratio,
                "close_ratio": self.close_ratio}


async def _explain(database: Database, campaign_id: int) -> dict[str, str]:
    """The plans of the dispatcher's queue queries, as it issues them."""
    head = (select(Conversation).where(Conversation.campaign_id == campaign_id,
                                       Conversation.status == ConversationStatus.queued)
            .order_by(Conversation.queued_at, Conversation.id).limit(dispatch.BATCH).with_for_update(of=Conversation))
    count = select(func.count()).where(Conversation.campaign_id == campaign_id,
                                       Conversation.status == ConversationStatus.queued)
    statements = {"next_waiting_batch": head, "queue_count": count}
    plans = {}
    async with database.engine.connect() as conn:
        for name, stmt in statements.items():
            sql = str(stmt.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
            rows = (await conn.execute(text(f"EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) {sql}"))).all()
            plans[name] = "\n".join(r[0] for r in rows)
        await conn.rollback()
    return plans


class Bench:
    """One database with its queue, driven through the engine's service functions."""

    def __init__(self, url: str, world_: world.World, http: httpx.AsyncClient) -> None:
        self.world = world_
        self.database = Database(url)
        settings = Settings(database_url=url, ui_enabled=False, worker_enabled=False)
        self.ctx = JobContext(database=self.database, clock=SystemClock(), bus=InProcessBus(), settings=settings,
                              http=http)
        self.held: list[int] = []

    async def agent_online(self, index: int) -> float:
        started = time.perf_counter()
        async with self.database.session() as session:
            membership = await session.get(Membership, self.world.agents[index].membership_id)
            assert membership is not None
            await change_presence(session, self.ctx, membership, Presence.online, self.ctx.clock.now())
        return (time.perf_counter() - started) * 1000

    async def close_held(self, index: int) -> float:
        if not self.held:
            async with self.database.session() as session:
                self.held = list((await session.scalars(select(Conversation.id).where(
                    Conversation.status == ConversationStatus.assigned).order_by(Conversation.id))).all())
        started = time.perf_counter()
        async with self.database.session() as session:
            supervisor = await session.get(User, self.world.supervisor_user_id)
            caller = await auth_service.caller_for_user(session, supervisor)
            conversation = await session.get(Conversation, self.held[index])
            assert conversation is not None
            await conversation_service.close(session, self.ctx, caller, conversation)
        return (time.perf_counter() - started) * 1000

    async def assignments(self) -> int:
        async with self.database.session() as session:
            return int(await session.scalar(select(func.count()).select_from(Assignment)))


async def _measure(benches: list[tuple[QueueRun, Bench]], samples: int) -> None:
    """Alternate between the queue lengths call by call, so a change of machine load hits both alike."""
    for index in range(samples):
        for run_, bench in benches:
            run_.online_ms.append(await bench.agent_online(index))
    for index in range(samples):
        for run_, bench in benches:
            run_.close_ms.append(await bench.close_held(index))
    for run_, bench in benches:
        made = await bench.assignments()
        if made != 2 * samples:
            raise AssertionError(f"{run_.queued} queued: expected {2 * samples} assignments, the engine made {made}")


async def _run_all(worlds: list[tuple[QueueRun, str, world.World]], samples: int) -> None:
    async with httpx.AsyncClient() as http:
        benches = [(run_, Bench(url, world_, http)) for run_, url, world_ in worlds]
        try:
            for run_, bench in benches:
                run_.plans = await _explain(bench.database, bench.world.campaign_id)
            await _measure(benches, samples)
        finally:
            for _, bench in benches:
                await bench.database.dispose()


def run(workdir: Path, *, sizes: tuple[int, ...] = (1_000, 10_000), agents: int = 500, samples: int = 100,
        log: Callable[[str], None] = print) -> ScaleResult:
    workdir.mkdir(parents=True, exist_ok=True)
    samples = min(samples, agents, min(sizes) // 2)
    runs = [QueueRun(queued=size, agents=agents) for size in sizes]
    with ExitStack() as stack:
        worlds = []
        for run_ in runs:
            url = stack.enter_context(world.scratch_database())
            bench = asyncio.run(world.seed(url, agents=agents, capacity=1, online=False))
            asyncio.run(world.queue_conversations(url, bench, run_.queued))
            worlds.append((run_, url, bench))
        log(f"  {' and '.join(str(s) for s in sizes)} queued, {agents} agents: {samples} timed calls of each path")
        asyncio.run(_run_all(worlds, samples))
    for run_ in runs:
        log(f"  {run_.queued:>6} queued: agent online → assigned {run_.online_median} ms (median), "
            f"close → next assigned {run_.close_median} ms")
    return ScaleResult(runs)
