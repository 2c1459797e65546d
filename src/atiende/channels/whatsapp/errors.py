"""What a Graph API error means for the message being sent.

- 131047 (more than 24 h since the customer's last message): never retried; the agent is told
  to use an approved template.
- 130429 (throughput), 131056 (too many messages to one user), 80007/4/613 (account or app
  call limits): retried with backoff.
- 5xx, timeouts and Meta's "temporarily unavailable" codes (1, 2, 131000, 131016, 133004):
  retried.
- Anything else fails the message with Meta's code, title and details as the reason.
"""

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import httpx


class ErrorKind(StrEnum):
    window_closed = "window_closed"
    rate_limited = "rate_limited"
    transient = "transient"
    permanent = "permanent"


WINDOW_CLOSED_CODES = frozenset({131047})
RATE_LIMIT_CODES = frozenset({130429, 131056, 80007, 4, 613})
TRANSIENT_CODES = frozenset({1, 2, 131000, 131016, 133004})

WINDOW_CLOSED_REASON = ("Han pasado más de 24 horas desde el último mensaje del cliente: "
                        "envía una plantilla aprobada para retomar la conversación.")


def classify(code: int | None, http_status: int = 400) -> ErrorKind:
    if code in WINDOW_CLOSED_CODES:
        return ErrorKind.window_closed
    if code in RATE_LIMIT_CODES or http_status == 429:
        return ErrorKind.rate_limited
    if code in TRANSIENT_CODES or http_status >= 500:
        return ErrorKind.transient
    return ErrorKind.permanent


def describe(code: int | None, title: str, details: str = "") -> str:
    """The reason an agent reads next to a failed message."""
    if code in WINDOW_CLOSED_CODES:
        return f"{WINDOW_CLOSED_REASON} (WhatsApp {code})"
    text = f"WhatsApp {code}: {title}" if code is not None else f"WhatsApp: {title or 'error'}"
    return f"{text} — {details}" if details and details != title else text


@dataclass
class GraphError(Exception):
    """An error answer of the Graph API (or no answer at all: ``http_status`` 0)."""

    code: int | None
    title: str
    details: str = ""
    http_status: int = 0

    def __post_init__(self) -> None:
        super().__init__(self.reason)

    @property
    def kind(self) -> ErrorKind:
        if self.http_status == 0:
            return ErrorKind.transient
        return classify(self.code, self.http_status)

    @property
    def reason(self) -> str:
        return describe(self.code, self.title, self.details)[:500]

    @classmethod
    def from_response(cls, response: httpx.Response) -> "GraphError":
        """Meta's shape: ``{"error": {"message", "type", "code", "error_data": {"details"}, ...}}``."""
        try:
            body: Any = response.json()
        except ValueError:
            body = None
        error = body.get("error") if isinstance(body, dict) else None
        if not isinstance(error, dict):
            return cls(code=None, title=f"HTTP {response.status_code}", http_status=response.status_code)
        code = error.get("code") if isinstance(error.get("code"), int) else None
        data = error.get("error_data") if isinstance(error.get("error_data"), dict) else {}
        details = data.get("details") if isinstance(data.get("details"), str) else ""
        title = error.get("message") if isinstance(error.get("message"), str) else ""
        return cls(code=code, title=title[:300], details=details[:300], http_status=response.status_code)

    @classmethod
    def unreachable(cls, exc: Exception) -> "GraphError":
        return cls(code=None, title=f"{type(exc).__name__}: {exc}"[:300], http_status=0)
