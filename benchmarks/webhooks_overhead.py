"""What outgoing webhooks cost the inbound path: inbound POST → agent's ``conversation.assigned``
latency at 200 msg/s, without webhooks and with a subscription to every event whose receiver
answers each POST in 100 ms, measured in the same run. Target: p99 within 10 % (or 5 ms,
whichever is larger: a p99 of a few ms moves by that much between two identical runs).

    python -m benchmarks.webhooks_overhead [--quick]
"""

import argparse
import asyncio
import statistics
import tempfile
from contextlib import AbstractContextManager
from pathlib import Path

from atiende.db import Database
from atiende.integrations.catalog import EVENT_TYPES
from atiende.integrations.models import WebhookSubscription
from benchmarks import latency, servers, world

RECEIVER_SECONDS = 0.1
NICE = 10


def _subscribe(url: str, receiver_url: str, bench: world.World) -> None:
    async def insert() -> None:
        database = Database(url)
        try:
            async with database.session() as session:
                session.add(WebhookSubscription(client_id=bench.client_id, name="bench", url=receiver_url,
                                                secret="bench-secret-0123456789", event_types=list(EVENT_TYPES)))
        finally:
            await database.dispose()

    asyncio.run(insert())


def _dispatcher(url: str, workdir: Path) -> AbstractContextManager[None]:
    return servers.webhooks(url, workdir / "webhooks.log", nice=NICE, webhooks_allow_private_addresses="true")


def run(workdir: Path, *, quick: bool = False, rounds: int = 3) -> dict[str, object]:
    """Both shapes use one ``atiende serve`` process. With webhooks, deliveries leave from an
    ``atiende webhooks`` process beside it at ``nice`` 10 (the deployment the README advises for
    webhook-heavy clients): the server only writes the delivery rows in its own transactions.

    Runs alternate (without, with, without, with …) and the medians of each side's p99 are
    compared: on this shared machine one run's p99 moves by 2× between identical runs, and
    alternating spreads a slow minute over both sides."""
    sizes = {"rate": 20, "seconds": 1, "warmup": 0.5, "agents": 5, "grace": 10} if quick else \
        {"rate": 200, "seconds": 15, "warmup": 2, "agents": 50, "grace": 15}
    rounds = 1 if quick else rounds
    without: list[latency.LatencyResult] = []
    with_hooks: list[latency.LatencyResult] = []
    with servers.receiver(RECEIVER_SECONDS) as (receiver_url, received):
        for n in range(rounds):
            without.append(latency.run(workdir / f"without-{n}", **sizes))
            with_hooks.append(latency.run(workdir / f"with-{n}", **sizes,
                                          prepare=lambda url, bench: _subscribe(url, receiver_url, bench),
                                          settings={"webhooks_dispatch": "false"}, companion=_dispatcher))
        delivered = received()
    p99_without = statistics.median(r.p99_ms for r in without)
    p99_with = statistics.median(r.p99_ms for r in with_hooks)
    p50_without = statistics.median(r.p50_ms for r in without)
    p50_with = statistics.median(r.p50_ms for r in with_hooks)
    budget = max(p99_without * 1.10, p99_without + 5)
    ok = p99_with <= budget and all(r.missing == 0 for r in with_hooks)
    print(f"without webhooks ({rounds} runs): p99 {[r.p99_ms for r in without]} ms, median {p99_without} ms; "
          f"median p50 {p50_without} ms")
    print(f"with a subscription to every event ({rounds} runs; receiver answers in {RECEIVER_SECONDS * 1000:.0f} ms, "
          f"deliveries sent by `atiende webhooks --nice {NICE}`): p99 {[r.p99_ms for r in with_hooks]} ms, "
          f"median {p99_with} ms; median p50 {p50_with} ms; {delivered} webhooks delivered by the end of the runs")
    print(f"ratio of median p99 with / without {p99_with / p99_without:.2f}  "
          f"(target <= 1.10 or +5 ms): {'meets target' if ok else 'MISSES target'}")
    return {"without": [r.as_dict() for r in without], "with": [r.as_dict() for r in with_hooks],
            "delivered": delivered, "ok": ok}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="toy sizes: checks the machinery only")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        run(Path(workdir), quick=args.quick)


if __name__ == "__main__":
    main()
