"""Contacts import on PostgreSQL: a generated CSV (5 % duplicate phones, 1 % invalid ones) through
the real path (upload stored to disk, then the durable job: formula scan, chunks of 5,000 rows,
each a few statements with one multi-row ``INSERT … ON CONFLICT`` and a report line per row), next
to a bare baseline measured in the same run: the same rows inserted with one ``executemany`` of
plain INSERTs into a fresh table.

    python -m benchmarks.contacts_import --rows 100000     # the issue's size

Reported: rows/s of both, their ratio (target ≥ 0.25) and the import's peak RSS growth (target
< 100 MB; the import runs first, before the baseline holds its rows in memory)."""

import argparse
import asyncio
import csv
import json
import random
import resource
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy import select
from sqlalchemy.engine import make_url

from atiende.auth.caller import Caller
from atiende.auth.models import Membership, User
from atiende.bus import InProcessBus
from atiende.clock import SystemClock
from atiende.contacts import imports
from atiende.contacts.jobs import run_import
from atiende.contacts.models import ContactImport
from atiende.db import Database
from atiende.jobs import JobContext
from atiende.settings import Settings
from benchmarks.world import scratch_database, seed


def generate(path: Path, rows: int, seed_value: int = 7) -> list[tuple[str, str, str, str]]:
    """Writes the CSV; returns its rows (for the baseline, read after the import)."""
    rng = random.Random(seed_value)
    out: list[tuple[str, str, str, str]] = []
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(["nombre", "telefono", "correo", "documento"])
        for n in range(rows):
            roll = rng.random()
            if roll < 0.01:
                phone = "12345"  # invalid
            elif roll < 0.06 and n > 10:
                phone = f"3{rng.randrange(0, n):09d}"  # a phone of an earlier row
            else:
                phone = f"3{n:09d}"
            row = (f"Cliente {n}", phone, f"cliente{n}@example.com", f"{10_000_000 + n}")
            writer.writerow(row)
            out.append(row)
    return out


def rss_mb() -> float:
    """The process's resident set now (VmRSS), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def _sample_peak(peak: list[float]) -> None:
    while True:
        peak[0] = max(peak[0], rss_mb())
        await asyncio.sleep(0.05)


async def _chunks(path: Path) -> AsyncIterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(256 * 1024):
            yield chunk


async def atiende_import(url: str, csv_path: Path, media: Path) -> dict[str, Any]:
    world = await seed(url, agents=2, capacity=5, online=False)
    settings = Settings(database_url=url, media_dir=media, ui_enabled=False, worker_enabled=False)
    database = Database(url)
    clock = SystemClock()
    async with httpx.AsyncClient() as http:
        ctx = JobContext(database=database, clock=clock, bus=InProcessBus(), settings=settings, http=http)
        async with database.session() as session:
            user = await session.get(User, world.supervisor_user_id)
            membership = await session.scalar(select(Membership).where(Membership.user_id == user.id))
            caller = Caller(user=user, memberships={world.client_id: membership})
            record, _ = await imports.create(session, caller, world.client_id, filename="contactos.csv",
                                             chunks=_chunks(csv_path), settings=settings, now=clock.now())
            await imports.start(session, caller, record, {"nombre": "name", "telefono": "phone", "correo": "email",
                                                          "documento": "document_id"}, "CO", now=clock.now())
            import_id = record.id
        before = rss_mb()
        sampled = [before]
        sampler = asyncio.create_task(_sample_peak(sampled))
        started = time.perf_counter()
        await run_import(ctx, import_id=import_id)
        seconds = time.perf_counter() - started
        sampler.cancel()
        peak = max(sampled[0], rss_mb())
        async with database.session() as session:
            done = await session.get(ContactImport, import_id)
            assert done is not None
            result = {"status": done.status.value, "rows": done.processed, "created": done.created,
                      "updated": done.updated, "duplicates": done.duplicates, "refused": done.refused}
    await database.dispose()
    return {**result, "seconds": round(seconds, 2), "rows_per_second": round(result["rows"] / seconds),
            "rss_before_mb": round(before, 1), "rss_peak_mb": round(peak, 1), "rss_growth_mb": round(peak - before, 1)}


async def baseline(url: str, rows: list[tuple[str, str, str, str]]) -> dict[str, Any]:
    u = make_url(url)
    conn = await asyncpg.connect(host=u.host, port=u.port or 5432, user=u.username, database=u.database)
    try:
        await conn.execute("CREATE TABLE bare_contacts (id serial PRIMARY KEY, name text, phone text, email text, "
                           "document text)")
        started = time.perf_counter()
        await conn.executemany("INSERT INTO bare_contacts (name, phone, email, document) VALUES ($1, $2, $3, $4)",
                               rows)
        seconds = time.perf_counter() - started
    finally:
        await conn.close()
    return {"rows": len(rows), "seconds": round(seconds, 2), "rows_per_second": round(len(rows) / seconds)}


def run(rows: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp, scratch_database() as url:
        csv_path = Path(tmp) / "contactos.csv"
        generated = generate(csv_path, rows)
        size_mb = csv_path.stat().st_size / 1024 / 1024
        del generated  # the import must not find the rows in memory
        ours = asyncio.run(atiende_import(url, csv_path, Path(tmp)))
        bare = asyncio.run(baseline(url, generate(Path(tmp) / "again.csv", rows)))
    return {"file_mb": round(size_mb, 1), "atiende": ours, "baseline": bare,
            "ratio": round(ours["rows_per_second"] / bare["rows_per_second"], 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    print(json.dumps(run(args.rows), indent=2))


if __name__ == "__main__":
    main()
