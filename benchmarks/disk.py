"""How long a durable commit takes on this machine: the floor under every latency tail.

A webhook answers only once its delivery is committed, and PostgreSQL's default commit waits until
the WAL is flushed to disk. On shared cloud disks that flush usually takes a millisecond and now and
then 50–200 ms, whatever the application does. This probe commits one-row inserts on an otherwise
idle server, paced like the latency benchmark, and reports the distribution, so a latency tail can
be read against the disk's own.
"""

import asyncio
import time
from dataclasses import asdict, dataclass

import asyncpg

from benchmarks import world


@dataclass
class CommitLatency:
    rate: int
    seconds: float
    commits: int
    p50_ms: float
    p99_ms: float
    p999_ms: float
    max_ms: float
    over_50_ms: int

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _at(ordered: list[float], q: float) -> float:
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)


async def _probe(url: str, rate: int, seconds: float) -> list[float]:
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await connection.execute("CREATE TABLE commit_probe (id serial PRIMARY KEY, body text)")
        took = []
        began = time.perf_counter()
        for n in range(int(rate * seconds)):
            delay = began + n / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            started = time.perf_counter()
            await connection.execute("INSERT INTO commit_probe (body) VALUES ('x')")  # autocommit: one flush each
            took.append((time.perf_counter() - started) * 1000)
        return took
    finally:
        await connection.close()


def run(*, rate: int = 200, seconds: float = 10) -> CommitLatency:
    with world.scratch_database() as url:
        took = sorted(asyncio.run(_probe(url, rate, seconds)))
    return CommitLatency(rate=rate, seconds=seconds, commits=len(took), p50_ms=_at(took, 0.5), p99_ms=_at(took, 0.99),
                         p999_ms=_at(took, 0.999), max_ms=round(took[-1], 2),
                         over_50_ms=sum(1 for t in took if t > 50))
