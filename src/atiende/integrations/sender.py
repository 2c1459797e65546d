"""One HTTP attempt of one delivery: signed, to a checked address, 10 s at most, no redirects,
and at most ``EXCERPT_BYTES`` of the answer kept for the log."""

import json
import time
from dataclasses import dataclass
from typing import Any

import httpx

from atiende import __version__
from atiende.integrations.addresses import AddressRefused, checked_address, pinned
from atiende.integrations.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign

TIMEOUT_SECONDS = 10.0
EXCERPT_BYTES = 2048


@dataclass(frozen=True)
class Outcome:
    ok: bool
    status: int | None
    duration_ms: int
    excerpt: str | None
    error: str | None


def body_of(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


async def attempt(http: httpx.AsyncClient, *, url: str, secret: str, payload: dict[str, Any],
                  unix_now: int, allow_private: bool,
                  timeout: float = TIMEOUT_SECONDS) -> Outcome:
    started = time.perf_counter()

    def elapsed() -> int:
        return int((time.perf_counter() - started) * 1000)

    body = body_of(payload)
    try:
        target = httpx.URL(url)
        address = await checked_address(target, allow_private=allow_private)
    except (AddressRefused, httpx.InvalidURL) as exc:
        return Outcome(False, None, elapsed(), None, f"address refused: {exc}"[:500])
    aimed, host, extensions = pinned(target, address)
    headers = {**host, "Content-Type": "application/json", "User-Agent": f"Atiende-Webhooks/{__version__}",
               "X-Atiende-Event": str(payload.get("type")), "X-Atiende-Delivery": str(payload.get("id")),
               TIMESTAMP_HEADER: str(unix_now), SIGNATURE_HEADER: sign(secret, unix_now, body)}
    try:
        request = http.build_request("POST", aimed, content=body, headers=headers, extensions=extensions,
                                     timeout=httpx.Timeout(timeout))
        response = await http.send(request, stream=True, follow_redirects=False)
        try:
            excerpt = b""
            async for chunk in response.aiter_raw():
                excerpt += chunk
                if len(excerpt) >= EXCERPT_BYTES:
                    break
        finally:
            await response.aclose()
    except httpx.TimeoutException:
        return Outcome(False, None, elapsed(), None, f"timeout after {timeout:g} s")
    except httpx.HTTPError as exc:
        return Outcome(False, None, elapsed(), None, f"{type(exc).__name__}: {exc}"[:500])
    text = excerpt[:EXCERPT_BYTES].decode("utf-8", "replace").replace("\x00", "")  # PostgreSQL refuses NUL
    ok = 200 <= response.status_code < 300
    return Outcome(ok, response.status_code, elapsed(), text,
                   None if ok else f"HTTP {response.status_code}")
