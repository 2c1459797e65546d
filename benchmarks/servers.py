"""The servers under load, each a real subprocess on a loopback port: Atiende as operators run it
(``atiende serve``: one uvicorn worker, uvloop + httptools, access log on) and the bare baseline
with the very same uvicorn settings."""

import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


@dataclass
class Server:
    base_url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1])


def _wait_healthy(process: subprocess.Popen[bytes], base: str, log_path: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {log_path.read_text(errors='replace')[-2000:]}")
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server did not start: {log_path.read_text(errors='replace')[-2000:]}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@contextmanager
def _serve(argv: list[str], env: dict[str, str], log_path: Path) -> Iterator[Server]:
    port = free_port()
    base = f"http://{HOST}:{port}"
    with log_path.open("wb") as log:
        process = subprocess.Popen([*argv, "--port", str(port)], cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                                   env=env)
        try:
            _wait_healthy(process, base, log_path)
            yield Server(base, process, log_path)
        finally:
            _stop(process)


def _environment(**overrides: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATIENDE_")}
    env["ATIENDE_SECRET_KEY"] = secrets.token_urlsafe(32)  # `atiende serve` refuses to run without one
    env.update({k: v for k, v in overrides.items() if v is not None})
    return env


@contextmanager
def atiende(database_url: str, log_path: Path, *, redis_url: str | None = None,
            **settings: str) -> Iterator[Server]:
    """``settings``: more ATIENDE_* variables, by lowercase name without the prefix."""
    env = _environment(ATIENDE_DATABASE_URL=database_url, ATIENDE_UI_ENABLED="false", ATIENDE_HOST=HOST,
                       ATIENDE_REDIS_URL=redis_url, **{f"ATIENDE_{k.upper()}": v for k, v in settings.items()})
    with _serve([sys.executable, "-m", "atiende.cli", "serve", "--no-migrate"], env, log_path) as server:
        yield server


@contextmanager
def worker(database_url: str, log_path: Path, *, redis_url: str, redis_channel: str) -> Iterator[None]:
    """``atiende worker``: routes what web processes accept (they announce it on the Redis bus)."""
    env = _environment(ATIENDE_DATABASE_URL=database_url, ATIENDE_REDIS_URL=redis_url,
                       ATIENDE_REDIS_CHANNEL=redis_channel)
    with log_path.open("wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "atiende.cli", "worker"], cwd=REPO, stdout=log,
                                   stderr=subprocess.STDOUT, env=env)
        try:
            time.sleep(2)  # imports and the first pass; it has no port to poll
            if process.poll() is not None:
                raise RuntimeError(f"worker exited: {log_path.read_text(errors='replace')[-2000:]}")
            yield
        finally:
            _stop(process)


@contextmanager
def webhooks(database_url: str, log_path: Path, *, nice: int = 10, **settings: str) -> Iterator[None]:
    """``atiende webhooks``: only the outgoing-webhook dispatcher, at a lower CPU priority."""
    env = _environment(ATIENDE_DATABASE_URL=database_url, **{f"ATIENDE_{k.upper()}": v for k, v in settings.items()})
    with log_path.open("wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "atiende.cli", "webhooks", "--nice", str(nice)], cwd=REPO,
                                   stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            time.sleep(2)  # imports; it has no port to poll
            if process.poll() is not None:
                raise RuntimeError(f"webhooks exited: {log_path.read_text(errors='replace')[-2000:]}")
            yield
        finally:
            _stop(process)


@contextmanager
def deployment(topology: str, database_url: str, workdir: Path, name: str, *,
               redis_url: str = "redis://127.0.0.1:6379/0", **settings: str) -> Iterator[Server]:
    """``single``: one ``atiende serve`` process does everything (accepts, routes, assigns, runs
    jobs) on the in-process bus. ``split``: a web process that only accepts (worker off, routing
    left to workers) and an ``atiende worker`` process that routes and assigns, on the Redis bus.
    ``settings``: more ATIENDE_* variables for the process that accepts webhooks."""
    if topology == "single":
        with atiende(database_url, workdir / f"{name}.log", **settings) as server:
            yield server
        return
    channel = f"atiende-bench:{name}:{time.time_ns()}"
    with atiende(database_url, workdir / f"{name}-web.log", redis_url=redis_url, redis_channel=channel,
                 worker_enabled="false", inbound_routing="worker", **settings) as server, \
            worker(database_url, workdir / f"{name}-worker.log", redis_url=redis_url, redis_channel=channel):
        yield server


@contextmanager
def bare(database_url: str, log_path: Path) -> Iterator[Server]:
    env = _environment(BENCH_DATABASE_URL=database_url)
    with _serve([sys.executable, "-m", "benchmarks.bare_app"], env, log_path) as server:
        yield server


@contextmanager
def receiver(delay: float) -> Iterator[tuple[str, Callable[[], int]]]:
    """A receiver answering every POST after ``delay`` seconds, in its own process (threads in this
    one would slow the load generator and inflate the very latencies measured); yields its URL and
    a counter."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "benchmarks.slow_receiver", "--port", str(port),
                                "--delay", str(delay)], cwd=REPO)
    base = f"http://127.0.0.1:{port}"

    def count() -> int:
        return int(httpx.get(base, timeout=5).text)

    try:
        for _ in range(100):
            try:
                count()
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield f"{base}/hook", count
    finally:
        process.terminate()
        process.wait(10)
