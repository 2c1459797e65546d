"""What one inbound message costs the database, counted rather than timed (so the number does not
depend on how busy the machine is): SQL statements, transactions and connection checkouts per
message, with the app in-process (the same code the server runs) fed the throughput benchmark's
traffic one message at a time, assignment included. The bare endpoint costs 1 statement in 1
transaction and 1 checkout."""

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
class StatementsResult:
    messages: int
    statements_per_message: float
    transactions_per_message: float
    checkouts_per_message: float
    top: list[tuple[float, str]] = field(default_factory=list)  # (per message, statement start)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


class Counter:
    def __init__(self, database: Database) -> None:
        self.statements: collections.Counter[str] = collections.Counter()
        self.commits = 0
        self.checkouts = 0
        self.counting = False
        sync_engine = database.engine.sync_engine
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


async def _count(url: str, bench: world.World, bodies: list[tuple[str, str]], warm: int) -> StatementsResult:
    database = Database(url)
    counter = Counter(database)
    settings = Settings(database_url=url, ui_enabled=False, worker_enabled=False)
    app = create_app(settings, database=database, with_ui=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)  # answers once the after-commit work (assignment) is done
        async with httpx.AsyncClient(transport=transport, base_url="http://atiende") as client:
            for index, (signature, body) in enumerate(bodies):
                counter.counting = index >= warm
                response = await client.post(bench.inbound_path, content=body.encode(),
                                             headers={SIGNATURE_HEADER: signature, "Content-Type": "application/json"})
                response.raise_for_status()
    measured = len(bodies) - warm
    total = sum(counter.statements.values())
    return StatementsResult(
        messages=measured, statements_per_message=round(total / measured, 1),
        transactions_per_message=round(counter.commits / measured, 2),
        checkouts_per_message=round(counter.checkouts / measured, 2),
        top=[(round(n / measured, 2), sql) for sql, n in counter.statements.most_common(12)])


def run(workdir: Path, *, messages: int = 150, warm: int = 30, agents: int = 50,
        known_contacts: int = 2000) -> StatementsResult:
    workdir.mkdir(parents=True, exist_ok=True)
    stream = throughput.Stream(known_contacts)
    path = stream.write(workdir / "statements.bodies", messages + warm, world.SECRET)
    bodies = [tuple(line.rstrip("\n").split("\t", 1)) for line in path.open(encoding="utf-8")]
    with world.scratch_database() as url:
        bench = asyncio.run(world.seed(url, agents=agents, capacity=100, online=True, known_contacts=known_contacts))
        return asyncio.run(_count(url, bench, bodies, warm))  # type: ignore[arg-type]
