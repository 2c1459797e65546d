"""What one inbound message costs the database, counted rather than timed (so the number does not
depend on how busy the machine is): SQL statements, transactions and connection checkouts per
message, with the app in-process (the same code the server runs) fed the throughput benchmark's
traffic. The bare endpoint costs 1 statement in 1 transaction and 1 checkout.

Three numbers:
- *accept*: the webhook's own work, before it answers;
- *one at a time*: accept, then routing and assignment of that message alone (a quiet server);
- *batched*: routing and assignment when the router finds many deliveries waiting (a busy server).
"""

import asyncio
import collections
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event

from atiende.app import create_app
from atiende.channels.api_channel import SIGNATURE_HEADER
from atiende.db import Database
from atiende.settings import Settings
from benchmarks import throughput, world


@dataclass
class Cost:
    statements_per_message: float
    transactions_per_message: float
    checkouts_per_message: float
    top: list[tuple[float, str]] = field(default_factory=list)  # (per message, statement start)


@dataclass
class StatementsResult:
    messages: int
    accept: Cost
    one_at_a_time: Cost
    batched: Cost

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


class Counter:
    def __init__(self, database: Database) -> None:
        self.database = database
        self.statements: collections.Counter[str] = collections.Counter()
        self.commits = 0
        self.checkouts = 0
        self.counting = False
        for engine in {database.engine, database.relaxed_engine}:  # intake writes through the second
            sync_engine = engine.sync_engine
            event.listen(sync_engine, "before_cursor_execute", self._statement)
            event.listen(sync_engine, "commit", self._commit)
            event.listen(sync_engine.pool, "checkout", self._checkout)

    def _statement(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if self.counting:
            self.statements[" ".join(statement.split())[:70]] += 1

    def _commit(self, _conn: Any) -> None:
        self.commits += self.counting

    def _checkout(self, *_args: Any) -> None:
        self.checkouts += self.counting

    def cost(self, messages: int) -> Cost:
        total = sum(self.statements.values())
        cost = Cost(statements_per_message=round(total / messages, 1),
                    transactions_per_message=round(self.commits / messages, 2),
                    checkouts_per_message=round(self.checkouts / messages, 2),
                    top=[(round(n / messages, 2), sql) for sql, n in self.statements.most_common(12)])
        self.statements.clear()
        self.commits = self.checkouts = 0
        return cost


async def _post_all(url: str, bench: world.World, bodies: list[tuple[str, str]], counter: Counter, *,
                    routing: str, warm: int) -> Any:
    settings = Settings(database_url=url, ui_enabled=False, worker_enabled=False, inbound_routing=routing)
    app = create_app(settings, database=counter.database, with_ui=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)  # answers once the after-commit work is done
        async with httpx.AsyncClient(transport=transport, base_url="http://atiende") as client:
            for index, (signature, body) in enumerate(bodies):
                counter.counting = index >= warm
                response = await client.post(bench.inbound_path, content=body.encode(),
                                             headers={SIGNATURE_HEADER: signature, "Content-Type": "application/json"})
                response.raise_for_status()
        counter.counting = False
        return app.state.inbound_router


async def _count(url: str, bench: world.World, bodies: list[tuple[str, str]], warm: int) -> StatementsResult:
    database = Database(url)
    counter = Counter(database)
    half = (len(bodies) - warm) // 2
    try:
        # One at a time: each message is routed (and assigned) right after its own answer.
        await _post_all(url, bench, bodies[:warm + half], counter, routing="local", warm=warm)
        one_at_a_time = counter.cost(half)
        # Accept only (routing left to workers), then route the whole backlog in batches.
        rest = bodies[warm + half:]
        router = await _post_all(url, bench, rest, counter, routing="worker", warm=0)
        accept = counter.cost(len(rest))
        counter.counting = True
        await router.route_pending()
        counter.counting = False
        batched = counter.cost(len(rest))
    finally:
        await database.dispose()
    return StatementsResult(messages=half, accept=accept, one_at_a_time=one_at_a_time, batched=batched)


def run(workdir: Path, *, messages: int = 300, warm: int = 30, agents: int = 50,
        known_contacts: int = 2000) -> StatementsResult:
    workdir.mkdir(parents=True, exist_ok=True)
    stream = throughput.Stream(known_contacts)
    path = stream.write(workdir / "statements.bodies", messages + warm, world.SECRET)
    bodies = [tuple(line.rstrip("\n").split("\t", 1)) for line in path.open(encoding="utf-8")]
    with world.scratch_database() as url:
        bench = asyncio.run(world.seed(url, agents=agents, capacity=100, online=True, known_contacts=known_contacts))
        return asyncio.run(_count(url, bench, bodies, warm))  # type: ignore[arg-type]
