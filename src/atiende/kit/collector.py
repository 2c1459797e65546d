"""Garbage-collector settings for the long-running processes (``atiende serve``, ``atiende worker``).

Routing a batch of inbound messages allocates thousands of ORM objects, and CPython's defaults
(a young collection every 700 allocations, a full one every hundred of those) made the collector
walk the whole heap — modules, mappers, routes, compiled statements, all alive until exit —
every few batches: 25 % of a routing batch's time, and full collections of 50–150 ms were the
latency benchmark's p99 (benchmarks/README.md). So once the process has built what lives as long
as it does, ``gc.freeze`` moves those objects out of the collector's sight, and young collections
run less often. Cycles are still collected; tests and short commands keep the defaults.
"""

import gc

YOUNG_THRESHOLD = 10_000  # allocations between young collections (CPython's default: 700)


def settle_long_lived() -> None:
    """Call once the process is built, before it starts serving."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
