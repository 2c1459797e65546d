#!/usr/bin/env python3
"""What delivering one bus event to the open pages costs, in one process, without the network:
the per-page filter the pages used before (one bus subscription per page, its ``accept`` called for
every event) against the one fan-out (``atiende.realtime``: a few dictionary lookups per event).

    python3 benchmarks/realtime_fanout.py                  # 50 agent pages, 5 boards, 20,000 events
    python3 benchmarks/realtime_fanout.py --agents 500

Each event is a customer's message to one of the agents (``MessageReceived`` naming its seat), as
the workspace benchmark sends them. CPU is ``time.process_time`` over publishing and taking every
event off the queues it reached; the best of ``--repeat`` runs is printed.
"""

import argparse
import asyncio
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from atiende import realtime  # noqa: E402
from atiende.bus import BusEvent, InProcessBus  # noqa: E402
from atiende.conversations.events import ConversationEvent, MessageReceived, PresenceChanged  # noqa: E402

CLIENT = 1
NOW = datetime(2026, 12, 7, tzinfo=timezone.utc)


def workspace_filter(membership_id: int, selected: int | None):  # type: ignore[no-untyped-def]
    """The workspace page's filter before the fan-out (``Workspace._wants``)."""
    calls = [0]

    def wants(event: BusEvent) -> bool:
        calls[0] += 1
        if event.client_id != CLIENT:
            return False
        if isinstance(event, PresenceChanged):
            return event.membership_id == membership_id
        if isinstance(event, ConversationEvent):
            return membership_id in event.membership_ids or event.conversation_id == selected
        return False

    return wants, calls


def events(count: int, agents: int) -> list[BusEvent]:
    return [MessageReceived(client_id=CLIENT, campaign_id=1, conversation_id=n, status="assigned",
                            membership_ids=(1 + n % agents,), message_id=n, text="hola", at=NOW)
            for n in range(count)]


async def drain(queues: list[asyncio.Queue[object]]) -> int:
    taken = 0
    for queue in queues:
        while not queue.empty():
            queue.get_nowait()
            taken += 1
    return taken


async def per_page(batch: list[BusEvent], agents: int, boards: int) -> tuple[float, int, int]:
    bus = InProcessBus()
    counters = []
    subscriptions = []
    for m in range(1, agents + 1):
        wants, calls = workspace_filter(m, selected=None)
        counters.append(calls)
        subscriptions.append(bus.subscribe(accept=wants))
    subscriptions += [bus.subscribe(accept=lambda e: e.client_id == CLIENT) for _ in range(boards)]
    started = time.process_time()
    taken = 0
    for n in range(0, len(batch), 100):
        await bus.publish_all(batch[n:n + 100])
        taken += await drain([s.queue for s in subscriptions])
    spent = time.process_time() - started
    for s in subscriptions:
        s.close()
    return spent, taken, sum(c[0] for c in counters) + boards * len(batch)


async def fanned_out(batch: list[BusEvent], agents: int, boards: int) -> tuple[float, int, int]:
    bus = InProcessBus()
    fanout = realtime.Fanout(bus)
    listeners = [fanout.listen([realtime.agent(m)]) for m in range(1, agents + 1)]
    listeners += [fanout.listen([realtime.client(CLIENT)]) for _ in range(boards)]
    started = time.process_time()
    taken = 0
    for n in range(0, len(batch), 100):
        await bus.publish_all(batch[n:n + 100])
        while any(not s.queue.empty() for s in fanout.bus._hub._subscriptions):  # type: ignore[attr-defined]
            await asyncio.sleep(0)  # the fan-out's pump takes the bus' queue
        taken += await drain([listener.queue for listener in listeners])
    spent = time.process_time() - started
    for listener in listeners:
        listener.close()
    return spent, taken, 0


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--boards", type=int, default=5, help="supervisor boards open (hear every event)")
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    batch = events(args.events, args.agents)
    for name, run in (("one filter per page (before)", per_page), ("one fan-out (after)", fanned_out)):
        best, taken, calls = min([await run(batch, args.agents, args.boards) for _ in range(args.repeat)])
        print(f"{name:30} {best / len(batch) * 1e6:7.1f} µs CPU per event, {taken / len(batch):.1f} pages woken "
              f"per event, {calls / len(batch):.0f} filter calls per event")


if __name__ == "__main__":
    asyncio.run(main())
