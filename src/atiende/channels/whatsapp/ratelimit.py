"""A token bucket per key (a WhatsApp phone number id, a Telegram bot).

Meta allows 80 messages per second per business number by default (more on request); the
bucket keeps each process under ``rate`` per second and lets short bursts of up to ``rate``
through. With several app processes sending, give each a share (``ATIENDE_WHATSAPP_MESSAGES_PER_SECOND``).
Time and sleep are injected so tests never wait.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass


MAX_KEYS = 50_000


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    def __init__(self, rate_per_second: float, *, burst: float | None = None,
                 monotonic: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        if rate_per_second <= 0:
            raise ValueError("rate must be positive")
        self.rate = float(rate_per_second)
        self.burst = float(burst if burst is not None else max(1.0, rate_per_second))
        self._monotonic = monotonic
        self._sleep = sleep
        self._buckets: dict[str, _Bucket] = {}

    def reserve(self, key: str) -> float:
        """Take one token for ``key``; return how many seconds to wait before using it."""
        now = self._monotonic()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(tokens=self.burst, updated=now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        bucket.tokens -= 1
        return 0.0 if bucket.tokens >= 0 else -bucket.tokens / self.rate

    def try_take(self, key: str) -> float:
        """Take a token only if one is free: 0.0 when taken, else the seconds until one will be
        (nothing is consumed). For callers that refuse instead of waiting (HTTP 429)."""
        now = self._monotonic()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= MAX_KEYS:
                self._forget_full(now)
            bucket = self._buckets[key] = _Bucket(tokens=self.burst, updated=now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / self.rate

    def _forget_full(self, now: float) -> None:
        """Drop keys whose bucket has refilled completely: they behave exactly like new keys."""
        full = [k for k, b in self._buckets.items() if b.tokens + (now - b.updated) * self.rate >= self.burst]
        for key in full:
            del self._buckets[key]

    async def acquire(self, key: str) -> None:
        """Wait (if needed) until ``key`` may send one more message. ``reserve`` never awaits, so
        concurrent senders on one event loop each get their own slot."""
        wait = self.reserve(key)
        if wait > 0:
            await self._sleep(wait)
