"""A minimal HTTP/1.1 client for load generation: keep-alive connections from a pool, requests
written as prepared bytes, answers read by Content-Length.

httpx spends 2–3 ms of CPU per request; at 200 requests/s on a 2-core machine that is most of a
core taken from the server under test, and the driver's own queueing showed up as server
latency. This client spends a few tens of microseconds."""

import asyncio
from urllib.parse import urlsplit


class RawClient:
    def __init__(self, base_url: str, *, max_connections: int = 256) -> None:
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.max_connections = max_connections
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self._open = 0
        self._freed = asyncio.Condition()

    async def _connection(self) -> tuple[tuple[asyncio.StreamReader, asyncio.StreamWriter], bool]:
        """A connection, and whether it was used before (the server may have closed it meanwhile)."""
        async with self._freed:
            while not self._idle and self._open >= self.max_connections:
                await self._freed.wait()
            if self._idle:
                return self._idle.pop(), True
            self._open += 1
        try:
            return await asyncio.open_connection(self.host, self.port), False
        except OSError:
            async with self._freed:
                self._open -= 1
                self._freed.notify()
            raise

    async def _release(self, connection: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None) -> None:
        async with self._freed:
            if connection is None:
                self._open -= 1
            else:
                self._idle.append(connection)
            self._freed.notify()

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        """(status, body). Raises OSError or asyncio.IncompleteReadError when the server hangs up.

        Like any keep-alive client, a request that meets a reused connection the server closed
        while it was idle (uvicorn closes them after 5 s), before any answer byte, is sent again on
        a new one (the inbound webhook is idempotent by ``external_id``)."""
        head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        request = (f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Length: {len(body)}\r\n{head}\r\n"
                   .encode() + body)
        while True:
            connection, reused = await self._connection()
            reader, writer = connection
            answered = False
            try:
                writer.write(request)
                head_bytes = await reader.readuntil(b"\r\n\r\n")
                answered = True
                lines = head_bytes.decode("latin-1").split("\r\n")
                status = int(lines[0].split(" ", 2)[1])
                length = next((int(line.split(":", 1)[1]) for line in lines[1:]
                               if line.lower().startswith("content-length:")), 0)
                answer = await reader.readexactly(length)
            except (OSError, asyncio.IncompleteReadError):
                writer.close()
                await self._release(None)
                if reused and not answered:
                    continue
                raise
            except BaseException:
                writer.close()
                await self._release(None)
                raise
            await self._release(connection)
            return status, answer

    async def aclose(self) -> None:
        for _, writer in self._idle:
            writer.close()
        self._idle.clear()
