"""Each benchmark runs end to end at toy size and produces its numbers. No timing is asserted:
this only proves ``python -m benchmarks.run`` still works against the current engine (PostgreSQL at
127.0.0.1:5432 and ``wrk`` are needed, as for the real run)."""

import math
from pathlib import Path

import pytest

from benchmarks import assignment_scale, disk, latency, run, statements, throughput

pytestmark = pytest.mark.benchmark


def quiet(_message: str) -> None:
    return None


def test_throughput_compares_atiende_with_the_bare_endpoint(tmp_path: Path) -> None:
    result = throughput.run(tmp_path, **run.QUICK["throughput"], log=quiet)

    assert result.bare.requests > 0
    assert [shape.topology for shape in result.runs] == ["single", "split"]
    for shape in result.runs:
        assert shape.wrk.requests > 0 and shape.wrk.non2xx == 0 and shape.wrk.errors == 0
        assert shape.ratio > 0
        # Everything accepted was routed, and every new conversation assigned (agents were online).
        assert shape.database["inbound_messages"] == shape.database["deliveries"] > 0
        assert shape.database["pending_after_drain"] == 0 and shape.database["queued_after_drain"] == 0
        assert shape.database["assignments"] == shape.database["conversations"] > 0
        assert shape.server_errors_logged == 0


def test_statements_of_one_inbound_message_are_counted(tmp_path: Path) -> None:
    result = statements.run(tmp_path, **run.QUICK["statements"])

    assert result.messages == run.QUICK["statements"]["messages"] // 2  # half one at a time, half batched
    # The webhook: one INSERT (the channel is read once a second at most); routing costs far more.
    assert result.one_at_a_time.statements_per_message > result.accept.statements_per_message >= 1
    assert result.accept.transactions_per_message == 1  # the webhook commits once
    assert result.batched.statements_per_message > 0
    assert result.one_at_a_time.top


def test_latency_matches_each_post_with_its_assigned_event(tmp_path: Path) -> None:
    result = latency.run(tmp_path, **run.QUICK["latency"], durable_acks=True, log=quiet)

    assert result.durable_acks and "synchronous" not in " ".join(result.notes)
    assert result.sent > 0 and result.answered == result.sent
    assert result.events == result.sent and result.missing == 0
    assert 0 < result.p50_ms <= result.p99_ms <= result.max_ms
    assert not math.isnan(result.answer_p99_ms)


def test_latency_over_whatsapp_batches_matches_every_message_with_its_assigned_event(tmp_path: Path) -> None:
    """Meta-shaped POSTs of 1–3 messages and a status each, through the one inbound pipeline."""
    result = latency.run(tmp_path, **run.QUICK["latency"], channel="whatsapp", log=quiet)

    assert result.channel == "whatsapp" and result.durable_acks
    assert result.sent > 0 and result.answered == result.sent
    assert result.events == result.sent and result.missing == 0 and result.notes == []


def test_the_commit_probe_times_every_commit() -> None:
    result = disk.run(rate=100, seconds=0.5)

    assert result.commits == 50
    assert 0 < result.p50_ms <= result.p99_ms <= result.p999_ms <= result.max_ms


def test_assignment_is_timed_at_two_queue_lengths(tmp_path: Path) -> None:
    result = assignment_scale.run(tmp_path, **run.QUICK["assignment"], log=quiet)

    small, large = result.runs
    assert small.queued < large.queued
    assert len(small.online_ms) == len(large.online_ms) == run.QUICK["assignment"]["samples"]
    assert len(small.close_ms) == len(large.close_ms) == run.QUICK["assignment"]["samples"]
    assert result.online_ratio > 0 and result.close_ratio > 0
    assert "LockRows" in large.plans["next_waiting_batch"]  # EXPLAIN ANALYZE of the real statement


def test_the_report_names_every_number(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    assert run.main(["--quick", "--only", "assignment", "--json", str(out), "--workdir", str(tmp_path)]) == 0
    assert '"online_ratio"' in out.read_text()


def test_bot_matching_is_timed_at_two_knowledge_base_sizes() -> None:
    from benchmarks import bot_matching

    result = bot_matching.run((60, 300), repeats=1)

    assert (result.small.entries, result.large.entries) == (60, 300)
    assert result.small.per_message_us > 0 and result.large.per_message_us > 0 and result.ratio > 0
    assert "ratio" in bot_matching.report(result)


def test_bot_latency_matches_each_post_with_the_bots_reply(tmp_path: Path) -> None:
    from benchmarks import bot_latency

    result = bot_latency.run(tmp_path, rate=20, seconds=1, warmup=0.5, entries=60, grace=10, log=quiet)

    assert result.sent == 20 and result.replies == result.sent and result.missing == 0
    assert 0 < result.p50_ms <= result.p99_ms <= result.max_ms
    assert result.assigned.events == result.assigned.sent > 0


def test_webhooks_overhead_runs_both_sides_and_the_dispatcher_process_delivers(tmp_path: Path) -> None:
    """The 'with' side runs `atiende webhooks` beside the server: deliveries reach the receiver."""
    from benchmarks import webhooks_overhead

    result = webhooks_overhead.run(tmp_path, quick=True)

    assert len(result["without"]) == len(result["with"]) == 1  # type: ignore[arg-type]
    assert all(r["missing"] == 0 for r in result["with"])  # type: ignore[attr-defined, index]
    assert isinstance(result["delivered"], int) and result["delivered"] > 0


def test_inbound_latency_is_measured_while_a_send_runs(tmp_path: Path) -> None:
    from benchmarks import outbound_send

    result = outbound_send.inbound_while_sending(tmp_path, quick=True)

    assert result.sent > 0 and result.missing == 0
    sent = int(result.notes[-1].split()[0])
    assert sent > 0  # the send really ran beside the inbound driver
