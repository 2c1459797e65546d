"""Reports on PostgreSQL: summary + timeseries + agents of a 30-day range (p50/p99 of N runs),
read from the rollups, next to one raw SQL aggregate over the same base tables in the same run
(the ratio is the result); the backfill that fills the rollups (conversations/s); and the
per-conversation export (rows/s, peak RSS).

    python -m benchmarks.reports_bench --conversations 1000000 --messages-per 10   # the issue's size
    python -m benchmarks.reports_bench --conversations 100000                     # a quicker run

The generator inserts server-side with ``INSERT … SELECT generate_series`` (multi-row, no round
trip per row): conversations spread over 90 days, 200 agents, 20 campaigns, ``messages-per``
messages and one assignment per conversation, a survey rating for a third of them. The rows go in
beneath the ORM, so nothing marks them dirty: ``rollups.rebuild`` (``atiende reports rebuild``)
then computes every conversation's facts, as after migrating a live database."""

import argparse
import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
import resource
import statistics
import time
from datetime import UTC, date, datetime

from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from atiende import migrate
from atiende.auth.caller import Caller
from atiende.auth.models import Membership, Role, User
from atiende.campaigns.models import Campaign
from atiende.db import Database
from atiende.reports import exports, rollups
from atiende.reports.filters import ReportFilters
from atiende.reports.service import report_service
from benchmarks.world import BASE_URL, _admin, scratch_database, seed

END = datetime(2026, 3, 31, tzinfo=UTC)
RAW = """
SELECT date_trunc('day', c.opened_at) AS day, count(*) AS received,
       count(*) FILTER (WHERE c.closed_at IS NOT NULL) AS closed,
       avg(extract(epoch FROM a.first_start - c.queued_at)) AS queue_wait,
       avg(extract(epoch FROM c.closed_at - c.opened_at)) AS resolution,
       avg(extract(epoch FROM r.first_reply - fi.first_in)) AS first_response
FROM conversations c
LEFT JOIN (SELECT conversation_id, min(started_at) AS first_start FROM assignments GROUP BY 1) a
       ON a.conversation_id = c.id
LEFT JOIN (SELECT conversation_id, min(created_at) AS first_in FROM messages WHERE sender = 'contact' GROUP BY 1) fi
       ON fi.conversation_id = c.id
LEFT JOIN (SELECT conversation_id, min(created_at) AS first_reply FROM messages WHERE sender = 'agent' GROUP BY 1) r
       ON r.conversation_id = c.id
WHERE c.client_id = :cid AND c.opened_at >= :start AND c.opened_at < :end
GROUP BY 1;
SELECT a.membership_id, count(*), avg(extract(epoch FROM a.ended_at - a.started_at))
FROM assignments a JOIN conversations c ON c.id = a.conversation_id
WHERE c.client_id = :cid AND c.opened_at >= :start AND c.opened_at < :end GROUP BY 1
"""


async def generate(url: str, conversations: int, messages_per: int, campaigns: int, agents: int) -> int:
    world = await seed(url, agents=agents, capacity=5, online=False)
    database = Database(url)
    try:
        async with database.session() as session:
            first = await session.get(Campaign, world.campaign_id)
            assert first is not None
            for n in range(1, campaigns):
                await session.execute(text(
                    "INSERT INTO campaigns (client_id, project_id, name, name_folded, schedule_id, out_of_hours_action, apply_to_queued,"
                    " out_of_hours_message, send_out_of_hours_message, typification_inactivity_id,"
                    " typification_transferred_id, typification_agent_closed_id, typification_mass_transfer_id,"
                    " inactivity_timeout_minutes, permissions, assignment_method, active, survey_enabled,"
                    " configure_channels_later, bot_handoff_keywords, bot_max_misunderstandings,"
                    " bot_answers_out_of_hours, created_at, updated_at)"
                    " SELECT client_id, project_id, name || :n, name_folded || :n, schedule_id, out_of_hours_action, apply_to_queued,"
                    " out_of_hours_message, send_out_of_hours_message, typification_inactivity_id,"
                    " typification_transferred_id, typification_agent_closed_id, typification_mass_transfer_id,"
                    " inactivity_timeout_minutes, permissions, assignment_method, active, survey_enabled,"
                    " configure_channels_later, bot_handoff_keywords, bot_max_misunderstandings,"
                    " bot_answers_out_of_hours, created_at, updated_at FROM campaigns WHERE id = :id"),
                    {"n": f" {n}", "id": first.id})
        async with database.session() as session:
            params = {"cid": world.client_id, "ch": world.channel_id, "n": conversations,
                      "end": END.replace(tzinfo=None), "agents": [a.membership_id for a in world.agents],
                      "typ": first.typification_agent_closed_id}
            await session.execute(text(
                "INSERT INTO contacts (client_id, name, attributes, created_at) "
                "SELECT :cid, 'Cliente ' || g, '{}', CAST(:end AS timestamp) FROM generate_series(1, :n) g"), params)
            await session.execute(text(
                "INSERT INTO conversations (client_id, campaign_id, channel_id, contact_id, status, opened_at, queued_at,"
                " assigned_membership_id, assigned_at, agent_replied, out_of_hours_notified, field_values, closed_at,"
                " close_reason, typification_id, survey_reasked, survey_outcome) "
                "SELECT :cid, cam.ids[1 + g % array_length(cam.ids, 1)], :ch, ct.min_id + g - 1, 'closed', o.at, o.at,"
                " (CAST(:agents AS int[]))[1 + g % array_length(CAST(:agents AS int[]), 1)], o.at + (g % 120) * interval '1 second', true, false, '{}',"
                " o.at + (300 + g % 1500) * interval '1 second', 'agent', :typ, false,"
                " CASE WHEN g % 3 = 0 THEN 'completed' END "
                "FROM generate_series(1, :n) g"
                " CROSS JOIN (SELECT array_agg(id ORDER BY id) AS ids FROM campaigns WHERE client_id = :cid) cam"
                " CROSS JOIN (SELECT min(id) AS min_id FROM contacts WHERE client_id = :cid) ct"
                " CROSS JOIN LATERAL (SELECT CAST(:end AS timestamp) - (g::float / :n * 90) * interval '1 day' AS at) o"),
                params)
            await session.execute(text(
                "INSERT INTO assignments (conversation_id, campaign_id, contact_id, membership_id, started_at, ended_at,"
                " end_reason, typification_id) SELECT id, campaign_id, contact_id, assigned_membership_id, assigned_at,"
                " closed_at, 'closed', typification_id FROM conversations WHERE client_id = :cid"), params)
            await session.execute(text(
                "INSERT INTO messages (conversation_id, channel_id, direction, sender, author_membership_id, text,"
                " attachments, delivery_attempts, created_at) "
                "SELECT c.id, c.channel_id, CASE WHEN k % 2 = 1 THEN 'in' ELSE 'out' END,"
                " CASE WHEN k % 2 = 1 THEN 'contact' ELSE 'agent' END,"
                " CASE WHEN k % 2 = 1 THEN NULL ELSE c.assigned_membership_id END, 'mensaje', '[]', 0,"
                " CASE WHEN k = 1 THEN c.opened_at ELSE c.assigned_at + k * interval '20 seconds' END "
                "FROM conversations c CROSS JOIN generate_series(1, :m) k WHERE c.client_id = :cid"),
                {**params, "m": messages_per})
            await session.execute(text(
                "INSERT INTO survey_responses (conversation_id, position, kind, question, answer, value, valid,"
                " answered_at) SELECT id, 0, 'rating', '¿Cómo te atendimos?', (1 + id % 5)::text,"
                " to_jsonb(1 + id % 5), true, closed_at FROM conversations WHERE survey_outcome = 'completed'"), params)
        async with database.engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("VACUUM ANALYZE"))
        return world.client_id
    finally:
        await database.dispose()


async def backfill(url: str) -> tuple[int, float]:
    database = Database(url)
    try:
        started = time.perf_counter()
        total = await rollups.rebuild(database)
        seconds = time.perf_counter() - started
        async with database.engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("VACUUM ANALYZE"))
        return total, seconds
    finally:
        await database.dispose()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


async def measure(url: str, client_id: int, runs: int) -> dict[str, float]:
    database = Database(url)
    try:
        async with database.session() as session:
            membership = await session.scalar(select(Membership).where(
                Membership.client_id == client_id, Membership.role == Role.supervisor))
            assert membership is not None
            user = await session.get(User, membership.user_id)
            caller = Caller(user=user, memberships={client_id: membership})
        filters = ReportFilters(client_id=client_id, date_from=date(2026, 3, 1), date_to=date(2026, 3, 30),
                                timezone="UTC")
        page, raw = [], []
        parts: dict[str, list[float]] = {"summary": [], "timeseries": [], "agents": []}
        for _ in range(runs):
            started = time.perf_counter()
            async with database.session() as session:
                summary = await report_service.summary(session, caller, filters, END)
                parts["summary"].append((time.perf_counter() - started) * 1000)
                await report_service.timeseries(session, caller, filters, END)
                parts["timeseries"].append((time.perf_counter() - started) * 1000 - parts["summary"][-1])
                await report_service.agents(session, caller, filters, END)
            page.append((time.perf_counter() - started) * 1000)
            parts["agents"].append(page[-1] - parts["summary"][-1] - parts["timeseries"][-1])
            started = time.perf_counter()
            async with database.session() as session:
                for statement in RAW.split(";"):
                    if statement.strip():
                        (await session.execute(text(statement), {"cid": client_id, "start": filters.start.replace(
                            tzinfo=None), "end": filters.end.replace(tzinfo=None)})).all()
            raw.append((time.perf_counter() - started) * 1000)
        async with database.session() as session:
            wide = ReportFilters(client_id=client_id, date_from=date(2025, 12, 1), date_to=date(2026, 3, 31),
                                 timezone="UTC")
            table = await exports.conversation_table(session, database, caller, wide, END)
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        started, count, size = time.perf_counter(), 0, 0
        async for chunk in exports.csv_stream(table):
            count += 1
            size += len(chunk)
        seconds = time.perf_counter() - started
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return {"received_30d": summary.current.received, "page_p50_ms": statistics.median(page),
                **{f"{name}_p50_ms": statistics.median(values) for name, values in parts.items()},
                "page_p99_ms": percentile(page, 99), "raw_p50_ms": statistics.median(raw),
                "raw_p99_ms": percentile(raw, 99), "ratio_p50": statistics.median(page) / statistics.median(raw),
                "export_rows": count - 1, "export_rows_per_s": (count - 1) / seconds, "export_mb": size / 1e6,
                "rss_before_mb": rss_before, "rss_peak_mb": rss_after, "rss_growth_mb": rss_after - rss_before}
    finally:
        await database.dispose()


@contextmanager
def kept_database(name: str) -> Iterator[str]:
    """A database that outlives the run (created and migrated to head when missing)."""
    url = make_url(BASE_URL).set(database=name).render_as_string(hide_password=False)
    try:
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    except Exception:  # already there: reuse it
        pass
    migrate.upgrade(url)
    yield url


async def generated_client(url: str) -> int | None:
    """The client of an earlier generation in this database, if any."""
    database = Database(url)
    try:
        async with database.session() as session:
            return await session.scalar(text("SELECT min(client_id) FROM conversations"))
    finally:
        await database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--conversations", type=int, default=20_000)
    parser.add_argument("--messages-per", type=int, default=10)
    parser.add_argument("--campaigns", type=int, default=20)
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--keep-database", metavar="NAME",
                        help="generate into this database once and keep it (later runs reuse its rows)")
    parser.add_argument("--generate-only", action="store_true")
    args = parser.parse_args()
    with (kept_database(args.keep_database) if args.keep_database else scratch_database()) as url:
        client_id = asyncio.run(generated_client(url))
        if client_id is None:
            started = time.perf_counter()
            client_id = asyncio.run(generate(url, args.conversations, args.messages_per, args.campaigns, args.agents))
            print(f"generated {args.conversations} conversations, {args.conversations * args.messages_per} "
                  f"messages in {time.perf_counter() - started:.1f} s")
        if args.generate_only:
            return
        total, seconds = asyncio.run(backfill(url))
        print(f"backfill (atiende reports rebuild): {total} conversations in {seconds:.1f} s "
              f"({total / seconds:,.0f} conversations/s)")
        for key, value in asyncio.run(measure(url, client_id, args.runs)).items():
            print(f"{key:>20}: {value:,.1f}")


if __name__ == "__main__":
    main()
