"""The processes' HTTP client: httpx's API over aiohttp's connection pool and C parser.

Every outbound call (Meta's and Telegram's APIs, API-channel callbacks, outgoing webhooks, media
downloads) goes through ``httpx.AsyncClient``; only its transport is aiohttp's. Measured on this
machine against a local server: about 0.4 ms of CPU per request, against 2.6 ms with httpx's own
transport (httpcore + h11), which capped a send at ~800 msg/s and made outgoing webhooks compete
with the inbound path for the CPU.

Errors are mapped so that callers can still tell *nothing was sent* (``httpx.ConnectError``,
``httpx.ConnectTimeout``: no connection, or none free in time) from *the outcome is unknown*
(``httpx.ReadTimeout``, ``httpx.ReadError``: the request may have reached the server). The
outbound engine's at-most-once rule depends on that difference. Redirects are never followed
here (httpx decides), bodies are streamed (a caller may stop reading: webhook excerpts), and
content encodings are left to httpx. ``sni_hostname`` (the webhooks' pinned addresses) is honoured.
"""

import asyncio
import functools
import ssl
from json import dumps
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import certifi
import httpx

CHUNK_BYTES = 16 * 1024
DEFAULT_TIMEOUT = httpx.Timeout(15.0, connect=5.0)


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One TLS context per process: loading the CA bundle costs ~20 ms."""
    return ssl.create_default_context(cafile=certifi.where())


class _Body(httpx.AsyncByteStream):
    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.content.iter_chunked(CHUNK_BYTES):
                yield chunk
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise _unknown_outcome(exc) from exc

    async def aclose(self) -> None:
        self._response.release()


def _as_sent(request: httpx.Request) -> list[tuple[str, str]]:
    """The headers with the caller's own spelling (``X-Atiende-Signature``, not lower case)."""
    return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw]


def _unknown_outcome(exc: BaseException) -> httpx.TransportError:
    if isinstance(exc, aiohttp.ServerTimeoutError | asyncio.TimeoutError):
        return httpx.ReadTimeout(str(exc) or "timed out waiting for the answer")
    return httpx.ReadError(f"{type(exc).__name__}: {exc}")


class AiohttpTransport(httpx.AsyncBaseTransport):
    """``limit`` connections in all (per host: the same), kept alive between calls."""

    def __init__(self, *, limit: int = 100, verify: ssl.SSLContext | None = None) -> None:
        self._limit = limit
        self._tls = verify or tls_context()
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _open(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._loop is not loop:  # one per loop that uses it
            self._loop = loop
            connector = aiohttp.TCPConnector(limit=self._limit, limit_per_host=self._limit, ssl=self._tls,
                                             enable_cleanup_closed=True)
            self._session = aiohttp.ClientSession(connector=connector, auto_decompress=False,
                                                  skip_auto_headers=("User-Agent", "Accept-Encoding"),
                                                  cookie_jar=aiohttp.DummyCookieJar(), trust_env=False)
        return self._session

    async def _send(self, method: str, url: str, headers: list[tuple[str, str]], body: bytes | None,
                    limits: dict[str, float | None], sni: str | None = None) -> aiohttp.ClientResponse:
        timeout = aiohttp.ClientTimeout(total=None, connect=limits.get("pool"), sock_connect=limits.get("connect"),
                                        sock_read=limits.get("read"))
        options: dict[str, Any] = {"server_hostname": sni} if sni else {}
        try:
            return await self._open().request(method, url, data=body or None, headers=headers,
                                              allow_redirects=False, timeout=timeout, **options)
        except aiohttp.ConnectionTimeoutError as exc:  # no connection (or none free) in time: nothing sent
            raise httpx.ConnectTimeout(str(exc) or "timed out connecting") from exc
        except aiohttp.ClientConnectorError as exc:  # refused, unreachable, TLS handshake failed: nothing sent
            raise httpx.ConnectError(str(exc)) from exc
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise _unknown_outcome(exc) from exc

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._send(request.method, str(request.url), _as_sent(request), await request.aread(),
                                    request.extensions.get("timeout", {}), request.extensions.get("sni_hostname"))
        return httpx.Response(response.status, headers=_received(response), stream=_Body(response),
                              extensions={"http_version": b"HTTP/1.1"})

    async def exchange(self, method: str, url: str, headers: list[tuple[str, str]], body: bytes | None,
                       limits: dict[str, float | None]) -> httpx.Response:
        """One call read to the end, without building an ``httpx.Request`` (``_DirectClient.request``)."""
        response = await self._send(method, url, headers, body, limits)
        try:
            content = await response.read()
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise _unknown_outcome(exc) from exc
        finally:
            response.release()
        return httpx.Response(response.status, headers=_received(response), content=content)

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _received(response: aiohttp.ClientResponse) -> list[tuple[str, str]]:
    return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in response.raw_headers]


class _DirectClient(httpx.AsyncClient):
    """httpx's API, without the layers Atiende's calls never use: no cookies, no httpx auth flows,
    no event hooks, redirects never followed (a webhook must not be redirected inside). Those
    layers cost about as much CPU as the call itself (cookie extraction alone was 5 % of a send's
    run). ``send`` goes straight to the transport; ``request`` with a URL string, headers and a
    JSON or bytes body (every API call Atiende makes) does not even build an ``httpx.Request``."""

    _default_headers: list[tuple[str, str]] | None = None

    async def send(self, request: httpx.Request, *, stream: bool = False, auth: Any = None,
                   follow_redirects: Any = None) -> httpx.Response:
        if self.is_closed:
            raise RuntimeError("Cannot send a request, as the client has been closed.")
        response = await self._transport.handle_async_request(request)
        response.request = request
        if not stream:
            try:
                await response.aread()
            finally:
                await response.aclose()
        return response

    async def request(self, method: str, url: Any, *, content: Any = None, json: Any = None,
                      headers: Any = None, timeout: Any = httpx.USE_CLIENT_DEFAULT,
                      **other: Any) -> httpx.Response:
        transport = self._transport
        if other or not isinstance(url, str) or not isinstance(transport, AiohttpTransport) or (
                content is not None and not isinstance(content, bytes)) or self.is_closed:
            return await super().request(method, url, content=content, json=json, headers=headers,
                                         timeout=timeout, **other)
        sent = self._defaults()
        body = content
        if json is not None:
            body = dumps(json, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
            sent.append(("Content-Type", "application/json"))
        if headers:
            given = {k.lower() for k in headers}
            sent = [h for h in sent if h[0].lower() not in given] + list(dict(headers).items())
        limits = (self.timeout if timeout is httpx.USE_CLIENT_DEFAULT else httpx.Timeout(timeout)).as_dict()
        return await transport.exchange(method, url, sent, body, limits)

    def _defaults(self) -> list[tuple[str, str]]:
        """The client's own headers (Accept, Accept-Encoding, User-Agent…), as httpx would send them."""
        if self._default_headers is None:
            self._default_headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in self.headers.raw]
        return list(self._default_headers)


def new_client(*, timeout: httpx.Timeout = DEFAULT_TIMEOUT, limit: int = 100) -> httpx.AsyncClient:
    """A process's client (``app``, ``worker``, ``webhooks``) or a send's own pool."""
    return _DirectClient(timeout=timeout, transport=AiohttpTransport(limit=limit))
