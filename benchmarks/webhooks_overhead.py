"""What outgoing webhooks cost the inbound path: inbound POST → agent's ``conversation.assigned``
latency at 200 msg/s, without webhooks and with a subscription to every event whose receiver
answers each POST in 100 ms, measured in the same run. Target: p99 within 10 % (or 5 ms,
whichever is larger: a p99 of a few ms moves by that much between two identical runs).

    python -m benchmarks.webhooks_overhead [--quick]
"""

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from atiende.db import Database
from atiende.integrations.catalog import EVENT_TYPES
from atiende.integrations.models import WebhookSubscription
from benchmarks import latency, servers, world

RECEIVER_SECONDS = 0.1


@contextmanager
def slow_receiver() -> Iterator[tuple[str, Callable[[], int]]]:
    """A receiver answering every POST after 100 ms, in its own process (threads in this one would
    slow the load generator and inflate the very latencies measured); yields its URL and a counter."""
    port = servers.free_port()
    process = subprocess.Popen([sys.executable, "-m", "benchmarks.slow_receiver", "--port", str(port),
                                "--delay", str(RECEIVER_SECONDS)], cwd=servers.REPO)
    base = f"http://127.0.0.1:{port}"

    def count() -> int:
        return int(httpx.get(base, timeout=5).text)

    try:
        for _ in range(100):
            try:
                count()
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield f"{base}/hook", count
    finally:
        process.terminate()
        process.wait(10)


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


def run(workdir: Path, *, quick: bool = False) -> dict[str, object]:
    sizes = {"rate": 20, "seconds": 1, "warmup": 0.5, "agents": 5, "grace": 10} if quick else \
        {"rate": 200, "seconds": 15, "warmup": 2, "agents": 50, "grace": 15}
    without = latency.run(workdir / "without", **sizes)
    with slow_receiver() as (receiver_url, received):
        with_hooks = latency.run(workdir / "with", **sizes,
                                 prepare=lambda url, bench: _subscribe(url, receiver_url, bench),
                                 settings={"webhooks_allow_private_addresses": "true"})
        delivered = received()
    budget = max(without.p99_ms * 1.10, without.p99_ms + 5)
    ok = with_hooks.p99_ms <= budget and with_hooks.missing == 0
    print(f"without webhooks: p50 {without.p50_ms} ms  p99 {without.p99_ms} ms")
    print(f"with a subscription to every event (receiver answers in {RECEIVER_SECONDS * 1000:.0f} ms): "
          f"p50 {with_hooks.p50_ms} ms  p99 {with_hooks.p99_ms} ms; {delivered} webhooks delivered during the run")
    print(f"ratio p99 with / without {with_hooks.p99_ms / without.p99_ms:.2f}  "
          f"(target <= 1.10 or +5 ms): {'meets target' if ok else 'MISSES target'}")
    return {"without": without.as_dict(), "with": with_hooks.as_dict(), "delivered": delivered, "ok": ok}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="toy sizes: checks the machinery only")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        run(Path(workdir), quick=args.quick)


if __name__ == "__main__":
    main()
