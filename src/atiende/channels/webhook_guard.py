"""Cheap refusal of unsigned calls to the public webhooks (WhatsApp, Telegram, the API channel).

A call without a well-formed signature header is refused before its body is read or the database
is asked (401/403, the channel's own error). Every refused call, also one whose signature did not
match, counts against its source address: after ``ATIENDE_WEBHOOK_REFUSALS_PER_MINUTE`` (30) in a
minute the address gets 429 with ``Retry-After`` before anything else happens, until the minute
ends. Meta's and Telegram's own calls are signed and never count; a channel whose secret is wrong
is refused either way, and its provider retries later.

Per process, like the widget's limits: with N processes an address gets up to N times the budget.
"""

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from fastapi import Request

from atiende.errors import AtiendeError, TooManyRequests

HEX_SIGNATURE = re.compile(r"sha256=[0-9a-fA-F]{64}")
MAX_ADDRESSES = 50_000
WINDOW_SECONDS = 60.0


@dataclass
class _Window:
    started: float
    refused: int


class RefusalBudget:
    """Refused webhook calls per source address, in fixed one-minute windows."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.reset(monotonic)

    def reset(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        """Forget every address; ``monotonic`` is the time source (tests move it)."""
        self._monotonic = monotonic
        self._windows: dict[str, _Window] = {}

    def _window(self, address: str) -> _Window:
        now = self._monotonic()
        window = self._windows.get(address)
        if window is None or now - window.started >= WINDOW_SECONDS:
            if window is None and len(self._windows) >= MAX_ADDRESSES:
                self._windows = {a: w for a, w in self._windows.items() if now - w.started < WINDOW_SECONDS}
            window = self._windows[address] = _Window(started=now, refused=0)
        return window

    def admit(self, address: str, limit: int) -> None:
        """429 for an address that has used its refusals of this minute."""
        window = self._windows.get(address)
        if window is None or window.refused < limit:
            return
        left = WINDOW_SECONDS - (self._monotonic() - window.started)
        if left > 0:
            seconds = max(1, int(left + 0.999))
            raise TooManyRequests(f"Too many refused webhook calls; try again in {seconds} s",
                                  extra={"retry_after": seconds})

    def refused(self, address: str) -> None:
        self._window(address).refused += 1


budget = RefusalBudget()


def address_of(request: Request) -> str:
    return request.client.host if request.client else "?"


def screen(request: Request, header: str | None, refusal: Callable[[], AtiendeError], *,
           pattern: re.Pattern[str] | None = HEX_SIGNATURE) -> None:
    """Before the body is read: 429 for an address over its budget, then ``refusal()`` (counted)
    when the header is missing or not of the form ``pattern``."""
    address = address_of(request)
    budget.admit(address, request.app.state.settings.webhook_refusals_per_minute)
    if not header or (pattern is not None and not pattern.fullmatch(header.strip())):
        budget.refused(address)
        raise refusal()


@contextmanager
def counting_refusals(request: Request, refusal: type[AtiendeError]) -> Iterator[None]:
    """Counts a ``refusal`` raised inside (a well-formed signature that did not match)."""
    try:
        yield
    except refusal:
        budget.refused(address_of(request))
        raise
