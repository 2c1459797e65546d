"""Inbound throughput: Atiende's signed ``POST /api/v1/channels/{id}/inbound`` through the real
server on PostgreSQL, against the bare endpoint (same FastAPI, uvicorn, asyncpg; one INSERT per
request), with the same wrk settings, one server at a time, each warmed up first.

The traffic is a contact center's: many contacts (thousands known before the run, more new ones),
about a third of the messages join a conversation their contact already has open, and 50 agents
are online with room, so every new conversation is assigned (after the answer, as in production).
Every body is a distinct message (distinct ``external_id``), pre-signed with the channel secret.
After the run we wait until no conversation is left waiting (the assignment backlog) and check the
database: one message stored per answered request.
"""

import asyncio
import json
import random
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from atiende.channels.api_channel import sign
from atiende.db import Database
from benchmarks import servers, world

LUA = Path(__file__).with_name("post.lua")
JOIN_SHARE = 0.3  # messages from a contact who wrote before in the run (joins the open conversation)
KNOWN_SHARE = 0.2  # first message in the run from a contact stored before it (new conversation)
JOIN_GAP = 64  # a joining message comes this many messages (two wrk rounds) after the contact's first one
TEXTS = ["Hola, necesito ayuda con mi factura del mes pasado", "Buenas tardes, ¿cuál es el horario de atención?",
         "Quiero cambiar la dirección de entrega de mi pedido", "No me llegó el código de verificación",
         "Gracias, quedo atento a su respuesta", "¿Me pueden llamar al celular?"]


@dataclass
class WrkResult:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    errors: int
    non2xx: int
    wrapped: bool


@dataclass
class AtiendeRun:
    """Atiende in one deployment shape (see ``servers.deployment``)."""

    topology: str
    wrk: WrkResult
    ratio: float
    database: dict[str, int] = field(default_factory=dict)
    backlog_drain_seconds: float = 0.0
    server_errors_logged: int = 0


@dataclass
class ThroughputResult:
    bare: WrkResult
    runs: list[AtiendeRun]
    settings: dict[str, int | str]

    @property
    def ratio(self) -> float:
        return max(run.ratio for run in self.runs)

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "ratio": self.ratio}


class Stream:
    """The inbound traffic, message after message, reproducible from its seed."""

    def __init__(self, known_contacts: int, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        self.known = known_contacts
        self.next_known = 0
        self.next_new = 0
        self.sequence = 0
        self.writers: list[tuple[str, str, str]] = []  # this file's contacts, in order of first message

    def _contact(self) -> tuple[str, str, str]:
        roll = self.rng.random()
        if roll < JOIN_SHARE and len(self.writers) > JOIN_GAP:
            return self.writers[self.rng.randrange(len(self.writers) - JOIN_GAP)]
        if roll < JOIN_SHARE + KNOWN_SHARE and self.next_known < self.known:
            external_id, phone = world.known_contact(self.next_known)
            contact = (external_id, f"Cliente {self.next_known}", phone)
            self.next_known += 1
        else:
            n = self.next_new
            contact = (f"new-{n}", f"Nuevo {n}", f"+57310{n:07d}")
            self.next_new += 1
        self.writers.append(contact)
        return contact

    def write(self, path: Path, count: int, secret: str) -> Path:
        """``count`` signed bodies; joins only refer to contacts whose first message comes earlier in
        this file (wrk sends a file from its start, and may stop anywhere)."""
        self.writers = []
        now = datetime.now(UTC).isoformat()
        with path.open("w", encoding="utf-8") as out:
            for _ in range(count):
                external_id, name, phone = self._contact()
                self.sequence += 1
                body = json.dumps({"external_id": f"msg-{self.sequence}",
                                   "contact": {"external_id": external_id, "name": name, "phone": phone},
                                   "text": self.rng.choice(TEXTS), "timestamp": now},
                                  ensure_ascii=False, separators=(",", ":"))
                out.write(f"{sign(secret, body.encode())}\t{body}\n")
        return path


def wrk(url: str, path: str, bodies: Path, *, seconds: int, threads: int, connections: int) -> WrkResult:
    binary = shutil.which("wrk") or "/usr/bin/wrk"
    argv = [binary, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", str(LUA), url,
            "--", path, str(bodies), str(threads)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60, check=True)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("BENCH ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no summary:\n{done.stdout}\n{done.stderr}")
    raw = json.loads(line.removeprefix("BENCH "))
    seconds_run = raw["duration_us"] / 1e6
    errors = raw["connect_errors"] + raw["read_errors"] + raw["write_errors"] + raw["timeouts"]
    return WrkResult(requests=raw["requests"], seconds=round(seconds_run, 2),
                     rps=round(raw["requests"] / seconds_run, 1), p50_ms=raw["p50_us"] / 1000,
                     p90_ms=raw["p90_us"] / 1000, p99_ms=raw["p99_us"] / 1000, max_ms=raw["max_us"] / 1000,
                     errors=errors, non2xx=raw["non2xx"], wrapped=bool(raw["wrapped"]))


async def _waiting(url: str, campaign_id: int) -> int:
    """Work still to do: deliveries not routed yet, and conversations not assigned yet."""
    database = Database(url)
    try:
        async with database.session() as session:
            queued = await session.scalar(text(
                "SELECT count(*) FROM conversations WHERE campaign_id = :c AND status = 'queued'"), {"c": campaign_id})
            pending = await session.scalar(text("SELECT count(*) FROM inbound_deliveries WHERE state = 'pending'"))
            return int(queued) + int(pending)
    finally:
        await database.dispose()


async def _census(url: str) -> dict[str, int]:
    database = Database(url)
    queries = {
        "inbound_messages": "SELECT count(*) FROM messages WHERE direction = 'in'",
        "conversations": "SELECT count(*) FROM conversations",
        "assigned": "SELECT count(*) FROM conversations WHERE status = 'assigned'",
        "deliveries": "SELECT count(*) FROM inbound_deliveries",
        "pending_deliveries": "SELECT count(*) FROM inbound_deliveries WHERE state = 'pending'",
        "queued": "SELECT count(*) FROM conversations WHERE status = 'queued'",
        "assignments": "SELECT count(*) FROM assignments",
        "contacts": "SELECT count(*) FROM contacts",
    }
    try:
        async with database.session() as session:
            return {name: int(await session.scalar(text(sql))) for name, sql in queries.items()}
    finally:
        await database.dispose()


def _drain(url: str, campaign_id: int, limit: float) -> float:
    """Seconds until no conversation waits (every one assigned), at most ``limit``."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        if asyncio.run(_waiting(url, campaign_id)) == 0:
            break
        time.sleep(0.2)
    return round(time.monotonic() - started, 2)


def _server_errors(workdir: Path, name: str) -> int:
    """Tracebacks in the server logs, except wrk hanging up on requests in flight when it stops."""
    blocks = [block for log_path in workdir.glob(f"{name}*.log")
              for block in log_path.read_text(errors="replace").split("Traceback (most recent call last):")[1:]]
    return sum(1 for block in blocks if "ClientDisconnect" not in block)


def run(workdir: Path, *, seconds: int = 15, warmup: int = 5, threads: int = 2, connections: int = 32,
        agents: int = 50, capacity: int = 400, known_contacts: int = 20_000, expected_rps: int = 4000,
        drain_limit: float = 45, topologies: tuple[str, ...] = ("single", "split"),
        log: Callable[[str], None] = print) -> ThroughputResult:
    workdir.mkdir(parents=True, exist_ok=True)
    settings = {"wrk_threads": threads, "wrk_connections": connections, "seconds": seconds, "warmup_seconds": warmup,
                "uvicorn_workers": 1, "agents_online": agents, "capacity_per_agent": capacity,
                "known_contacts": known_contacts}
    stream = Stream(known_contacts)
    warm_file = stream.write(workdir / "warmup.bodies", max(200, expected_rps * warmup), world.SECRET)
    run_file = stream.write(workdir / "run.bodies", max(500, expected_rps * seconds), world.SECRET)
    options = {"threads": threads, "connections": connections}

    log(f"  bare endpoint: warm-up {warmup}s, then {seconds}s")
    with world.scratch_database(migrated=False) as url, servers.bare(url, workdir / "bare.log") as server:
        wrk(server.base_url, "/bare", warm_file, seconds=warmup, **options)
        bare = wrk(server.base_url, "/bare", run_file, seconds=seconds, **options)
    log(f"    {bare.rps} req/s")

    runs = []
    for topology in topologies:
        name = f"atiende-{topology}"
        log(f"  Atiende inbound ({topology}): seeding {agents} online agents, {known_contacts} known contacts")
        with world.scratch_database() as url:
            bench = asyncio.run(world.seed(url, agents=agents, capacity=capacity, online=True,
                                           known_contacts=known_contacts))
            with servers.deployment(topology, url, workdir, name) as server:
                log(f"  Atiende inbound ({topology}): warm-up {warmup}s, then {seconds}s")
                wrk(server.base_url, bench.inbound_path, warm_file, seconds=warmup, **options)
                _drain(url, bench.campaign_id, drain_limit)
                before = asyncio.run(_census(url))
                atiende = wrk(server.base_url, bench.inbound_path, run_file, seconds=seconds, **options)
                drain = _drain(url, bench.campaign_id, drain_limit)
                after = asyncio.run(_census(url))
        log(f"    {atiende.rps} req/s; backlog routed and assigned {drain}s after the run")
        database = {key: after[key] - before[key] for key in after}
        database["queued_after_drain"] = after["queued"]
        database["pending_after_drain"] = after["pending_deliveries"]
        runs.append(AtiendeRun(topology=topology, wrk=atiende, ratio=round(atiende.rps / bare.rps, 3),
                               database=database, backlog_drain_seconds=drain,
                               server_errors_logged=_server_errors(workdir, name)))
    return ThroughputResult(bare=bare, runs=runs, settings=settings)
