"""A real HTTP server on 127.0.0.1 standing for the client's CRM: records every request and
answers as the test tells it (a status, or a delay longer than the sender's timeout)."""

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def payload(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass
class LocalReceiver:
    url: str = ""
    requests: list[Received] = field(default_factory=list)
    answers: list[int | float] = field(default_factory=list)  # int: a status; float: seconds to stall
    redirect_to: str | None = None

    @property
    def payloads(self) -> list[dict[str, Any]]:
        return [r.payload for r in self.requests]

    def types(self) -> list[str]:
        return [p["type"] for p in self.payloads]


@contextmanager
def local_receiver() -> Iterator[LocalReceiver]:
    state = LocalReceiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            state.requests.append(Received({k: v for k, v in self.headers.items()}, body))
            answer = state.answers.pop(0) if state.answers else 200
            if isinstance(answer, float):
                time.sleep(answer)
                answer = 200
            if state.redirect_to:
                self.send_response(302)
                self.send_header("Location", state.redirect_to)
                self.end_headers()
                return
            reply = b"ok" if answer < 300 else b"x" * 10_000
            try:
                self.send_response(answer)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)
            except (BrokenPipeError, ConnectionResetError):  # the sender gave up (its timeout)
                pass

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/atiende"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
