"""A real Atiende server in a subprocess, on its own fresh database seeded with the demo data:
for browser tests, schema fuzzing and multi-process checks."""

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from atiende.db import Database
from atiende.demo import DEMO_PASSWORD, DemoData, seed_demo
from tests.conftest import fresh_database


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LiveServer:
    base_url: str
    database_url: str
    demo: DemoData
    process: subprocess.Popen[bytes]
    log_path: Path

    def token(self, email: str = "admin@demo.atiende.app", password: str = DEMO_PASSWORD) -> str:
        response = httpx.post(f"{self.base_url}/api/v1/auth/token", data={"username": email, "password": password})
        response.raise_for_status()
        return response.json()["access_token"]

    def headers(self, email: str = "admin@demo.atiende.app") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(email)}"}


async def _seed(url: str) -> DemoData:
    database = Database(url)
    try:
        return await seed_demo(database)
    finally:
        await database.dispose()


TEST_SECRET_KEY = "test-secret-key-of-the-live-servers-0123456789"  # `atiende serve` refuses the default


def start_server(database_url: str, log_path: Path, *, extra_env: dict[str, str] | None = None,
                 port: int | None = None, demo: bool = False) -> tuple[subprocess.Popen[bytes], str]:
    """``atiende serve``; with ``demo``, ``atiende demo`` (the only one that serves /demo/site)."""
    port = port or free_port()
    env = {**os.environ, "ATIENDE_DATABASE_URL": database_url, "ATIENDE_PORT": str(port),
           "ATIENDE_SECRET_KEY": TEST_SECRET_KEY, **(extra_env or {})}
    log = log_path.open("wb")
    command = ["demo"] if demo else ["serve", "--no-migrate"]
    process = subprocess.Popen([sys.executable, "-m", "atiende.cli", *command, "--port", str(port)],
                               env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    wait_until_healthy(process, base, log_path)
    return process, base


def wait_until_healthy(process: subprocess.Popen[bytes], base: str, log_path: Path, seconds: float = 60) -> None:
    """Block until ``base``/healthz answers 200; a process that exits or never answers fails with its log."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {log_path.read_text()[-3000:]}")
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"server did not start: {log_path.read_text()[-3000:]}")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


@contextmanager
def live_server(directory: Path, db_base: str, *, extra_env: dict[str, str] | None = None,
                demo: bool = False) -> Iterator[LiveServer]:
    """``db_base`` is the session fixture of the same name: the server runs on that kind of database
    (``demo``: as ``atiende demo``, with its /demo/ pages)."""
    with fresh_database(directory, db_base) as url:
        data = asyncio.run(_seed(url))
        log_path = directory / f"server-{free_port()}.log"
        process, base = start_server(url, log_path, extra_env=extra_env, demo=demo)
        try:
            yield LiveServer(base_url=base, database_url=url, demo=data, process=process, log_path=log_path)
        finally:
            stop_server(process)
