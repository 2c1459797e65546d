"""Atiende's benchmarks in one command, each number next to its target, ratios measured in this run.

    python -m benchmarks.run                # everything (about 4 minutes)
    python -m benchmarks.run --only latency # one of: throughput, latency, assignment
    python -m benchmarks.run --quick        # toy sizes: checks the machinery, numbers mean nothing
    (Redis at 127.0.0.1:6379 for the web + worker shape)
    python -m benchmarks.run --json out.json

Needs PostgreSQL at 127.0.0.1:5432 (user postgres; ``BENCH_DATABASE_URL`` to change; scratch
databases are created and dropped), ``wrk`` on the PATH, and a free loopback port or two.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks import assignment_scale, disk, latency, statements, throughput

PARTS = ("throughput", "latency", "assignment")
SHAPES = {"single": "one process", "split": "web + worker (Redis)"}
CHANNELS = {"api": "", "whatsapp": ", WhatsApp batches of 1–3 messages and a status"}
REFERENCE_RATE = 10  # msg/s: the latency of one message when the server is not saturated, for context
QUICK: dict[str, dict[str, Any]] = {
    "throughput": {"seconds": 2, "warmup": 1, "connections": 4, "known_contacts": 200, "expected_rps": 300,
                   "drain_limit": 20},
    "statements": {"messages": 10, "warm": 2, "agents": 5, "known_contacts": 50},
    "latency": {"rate": 20, "seconds": 1, "warmup": 0.5, "agents": 5, "grace": 10},
    "assignment": {"sizes": (40, 400), "agents": 20, "samples": 5},
}


def machine() -> dict[str, str]:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    memory = subprocess.run(["free", "-h"], capture_output=True, text=True).stdout.splitlines()
    total = memory[1].split()[1] if len(memory) > 1 else "?"
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
    return {"date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "nproc": str(os.cpu_count()), "cpu": cpu,
            "memory": total, "python": platform.python_version(), "load_average": load(),
            "wrk": (wrk.stdout or wrk.stderr).splitlines()[0].split(" Copyright")[0] if (wrk.stdout or wrk.stderr)
            else "?"}


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def verdict(ok: bool) -> str:
    return "meets target" if ok else "MISSES target"


def report(results: dict[str, Any], info: dict[str, str]) -> str:
    lines = [f"Atiende benchmarks — {info['date']} — {info['nproc']} CPUs {info['cpu']}, {info['memory']} RAM, "
             f"load average {info['load_average']} at start, {info.get('load_average_end', '?')} at end"]
    if "throughput" in results:
        t = results["throughput"]
        lines += [
            "",
            "1. Inbound throughput (PostgreSQL, 1 uvicorn worker each, wrk "
            f"-t{t['settings']['wrk_threads']} -c{t['settings']['wrk_connections']} -d{t['settings']['seconds']}s "
            f"after {t['settings']['warmup_seconds']}s warm-up)",
            f"   bare endpoint (1 INSERT)          {t['bare']['rps']:>8} req/s   p50 {t['bare']['p50_ms']:.1f} ms  "
            f"p99 {t['bare']['p99_ms']:.1f} ms",
        ]
        for run in t["runs"]:
            w, db = run["wrk"], run["database"]
            lines += [
                f"   Atiende, {SHAPES[run['topology']]:<24} {w['rps']:>8} req/s   p50 {w['p50_ms']:.1f} ms  "
                f"p99 {w['p99_ms']:.1f} ms  non-2xx {w['non2xx']}  errors {w['errors']}   ratio {run['ratio']:.3f}",
                f"      stored: {db['deliveries']} deliveries → {db['inbound_messages']} messages, "
                f"{db['conversations']} new conversations, {db['assignments']} assignments; all routed and assigned "
                f"{run['backlog_drain_seconds']} s after wrk stopped ({db['pending_after_drain']} deliveries and "
                f"{db['queued_after_drain']} conversations still waiting); server tracebacks "
                f"{run['server_errors_logged']}",
            ]
        lines.append(f"   best ratio Atiende / bare   {t['ratio']:.3f}   target >= 0.50: {verdict(t['ratio'] >= 0.5)}")
    if "statements" in results:
        st = results["statements"]
        lines.append("   database work per inbound message (bare: 1 statement, 1 transaction):")
        for label, key in (("accept (before the answer)", "accept"),
                           ("one at a time, routed and assigned", "one_at_a_time"),
                           ("routed and assigned in batches", "batched")):
            cost = st[key]
            lines.append(f"      {label:<36} {cost['statements_per_message']:>5} statements  "
                         f"{cost['transactions_per_message']:>5} transactions  "
                         f"{cost['checkouts_per_message']:>5} connection checkouts")
    if "latency" in results:
        first = results["latency"][0]
        lines += ["", f"2. Inbound POST → agent's 'conversation.assigned' on the WebSocket, {first['rate']} msg/s for "
                      f"{first['seconds']} s, {first['agents']} agents online, durable acks (the default)"]
        for lat in results["latency"]:
            lines += [
                f"   {SHAPES[lat['topology']]}{CHANNELS[lat.get('channel', 'api')]}: p50 {lat['p50_ms']} ms   "
                f"p90 {lat['p90_ms']} ms   p99 {lat['p99_ms']} ms"
                f"   max {lat['max_ms']} ms   (events {lat['events']}/{lat['sent']}, sent at {lat['achieved_rate']}"
                f" msg/s; POST answered p50 {lat['answer_p50_ms']} ms, p99 {lat['answer_p99_ms']} ms)",
                f"      target p99 < 100 ms: {verdict(lat['p99_ms'] < 100 and lat['missing'] == 0)}",
                *[f"      note: {note}" for note in lat["notes"]],
            ]
    if "latency_relaxed" in results:
        lat = results["latency_relaxed"]
        lines += [
            f"   for reference, web + worker with relaxed acks (opt-in ATIENDE_INBOUND_SYNCHRONOUS_COMMIT=false): "
            f"p50 {lat['p50_ms']} ms   p90 {lat['p90_ms']} ms   p99 {lat['p99_ms']} ms   max {lat['max_ms']} ms   "
            f"(events {lat['events']}/{lat['sent']}; POST answered p50 {lat['answer_p50_ms']} ms, "
            f"p99 {lat['answer_p99_ms']} ms)",
        ]
    if "latency_reference" in results:
        ref = results["latency_reference"]
        lines += [
            f"   for reference, at {ref['rate']} msg/s: p50 {ref['p50_ms']} ms   p99 {ref['p99_ms']} ms   "
            f"(events {ref['events']}/{ref['sent']}; POST answered p50 {ref['answer_p50_ms']} ms)",
        ]
    if "commit_latency" in results:
        c = results["commit_latency"]
        lines += [
            f"   this machine's durable commit (one-row insert, WAL flushed), {c['rate']}/s for {c['seconds']} s, "
            f"idle server: p50 {c['p50_ms']} ms   p99 {c['p99_ms']} ms   p99.9 {c['p999_ms']} ms   "
            f"max {c['max_ms']} ms   ({c['over_50_ms']} of {c['commits']} over 50 ms)",
        ]
    if "assignment" in results:
        a = results["assignment"]
        first, last = a["runs"][0], a["runs"][-1]
        lines += [
            "",
            f"3. Assigning one conversation, {first['agents']} agents, queue of {first['queued']} vs "
            f"{last['queued']} ({first['samples']} calls each, median, commit included)",
            f"   agent comes online       {first['online_median_ms']:>8} ms vs {last['online_median_ms']:>8} ms   "
            f"ratio {a['online_ratio']}",
            f"   close frees capacity     {first['close_median_ms']:>8} ms vs {last['close_median_ms']:>8} ms   "
            f"ratio {a['close_ratio']}",
            f"   flat (ratio <= 1.3): {verdict(max(a['online_ratio'], a['close_ratio']) <= 1.3)}",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=PARTS, action="append", help="run only this part (repeatable)")
    parser.add_argument("--quick", action="store_true", help="toy sizes, to check the machinery")
    parser.add_argument("--json", type=Path, help="also write every number to this file")
    parser.add_argument("--workdir", type=Path, help="where bodies and server logs go (default: a temp dir)")
    args = parser.parse_args(argv)
    parts = args.only or list(PARTS)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="atiende-bench-"))
    info = machine()
    print(f"machine: {info}\nworkdir (bodies, server logs): {workdir}", flush=True)

    def log(message: str) -> None:
        print(message, flush=True)

    results: dict[str, Any] = {}
    started = time.monotonic()
    for part in parts:
        options = dict(QUICK[part]) if args.quick else {}
        log(f"[{part}]")
        if part == "throughput":
            results[part] = throughput.run(workdir / part, log=log, **options).as_dict()
            log("  counting the statements of one inbound message (in-process)")
            results["statements"] = statements.run(workdir / "statements",
                                                   **(QUICK["statements"] if args.quick else {})).as_dict()
        elif part == "latency":
            results[part] = [latency.run(workdir / f"{part}-{shape}-{channel}", topology=shape, channel=channel,
                                         log=log, **options).as_dict()
                             for channel in ("api", "whatsapp") for shape in SHAPES]
            if not args.quick:
                log("[latency with relaxed acks (webhooks do not wait for the disk), for reference]")
                results["latency_relaxed"] = latency.run(workdir / "latency-relaxed", topology="split",
                                                         durable_acks=False, log=log).as_dict()
                log("[latency at a rate the server sustains, for reference]")
                results["latency_reference"] = latency.run(workdir / "latency-reference", rate=REFERENCE_RATE,
                                                           seconds=10, warmup=1, log=log).as_dict()
                log("[this machine's durable commits, for reference]")
                results["commit_latency"] = disk.run().as_dict()
        else:
            results[part] = assignment_scale.run(workdir / part, log=log, **options).as_dict()
    info["load_average_end"] = load()
    info["seconds"] = f"{time.monotonic() - started:.0f}"
    print("\n" + report(results, info) + f"\n\n(total {info['seconds']} s)", flush=True)
    if args.json:
        args.json.write_text(json.dumps({"machine": info, "results": results}, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
