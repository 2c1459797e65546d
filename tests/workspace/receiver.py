"""The customer's system behind the API channel's callback URL, for tests against a live server:
a tiny HTTP server in a thread that accepts every message we send and remembers it."""

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Receiver:
    def __init__(self, url: str) -> None:
        self.url = url
        self.bodies: list[dict[str, Any]] = []


@contextmanager
def receiver() -> Iterator[Receiver]:
    bodies: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802  (http.server's naming)
            length = int(self.headers.get("Content-Length") or 0)
            try:
                bodies.append(json.loads(self.rfile.read(length) or b"{}"))
            except ValueError:
                pass
            answer = json.dumps({"external_id": f"crm-{len(bodies)}"}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *_args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    found = Receiver(f"http://127.0.0.1:{server.server_address[1]}/callback")
    found.bodies = bodies
    try:
        yield found
    finally:
        server.shutdown()
        server.server_close()
