"""The rollups: each conversation's metrics computed once from its raw rows, stored as facts.

``refresh`` recomputes the facts of some conversations with the one definition of each metric
(``facts`` + ``metrics``); ``drain`` refreshes conversations marked dirty (``reports.dirty``),
a batch at a time, each claimed with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL so two processes
never refresh the same one (and its conversation ``FOR KEY SHARE SKIP LOCKED``: one that a change
holds locked is refreshed on a later pass, after that change); the worker runs it on every pass (``RollupRefresher``) and a report
runs it for its client before reading, so what a report reads is never behind its client's
committed changes by more than ``CATCH_UP`` conversations. ``rebuild`` (``atiende reports
rebuild``) marks every conversation dirty and drains them: the backfill."""

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from atiende.campaigns.models import Campaign
from atiende.catalog.schedule_rules import ScheduleLike
from atiende.catalog.schedule_snapshots import current_schedule
from atiende.conversations.models import Conversation
from atiende.db import Database
from atiende.jobs import JobContext
from atiende.reports import buckets
from atiende.reports import metrics as m
from atiende.reports.dirty import mark
from atiende.reports.facts import TRANSFER_ENDS, Facts, load_facts_of
from atiende.reports.models import AssignmentFact, ConversationFact, DirtyConversation
from atiende.tenancy.models import Client

log = logging.getLogger(__name__)
BATCH = 500
CATCH_UP = 5000  # a report refreshes at most this many of its client's dirty conversations first
PASS_LIMIT = 20  # batches per worker pass, so the other queues get their turn
SLOT_SECONDS = 900


def slot_of(at: datetime) -> int:
    return int(at.timestamp()) // SLOT_SECONDS


def slot_start(slot: int) -> datetime:
    return datetime.fromtimestamp(slot * SLOT_SECONDS, UTC)


def _pair(spans: list[m.Span], clock: m.BusinessClock) -> tuple[float | None, float | None]:
    if not spans:
        return None, None
    campaign_id, a, b = spans[0]
    return (b - a).total_seconds(), clock.seconds(campaign_id, a, b)


def fact_row(f: Facts, clock: m.BusinessClock, zone: ZoneInfo) -> dict[str, Any]:
    queue_wait = _pair(m.queue_wait_spans(f), clock)
    first_response = _pair(m.first_response_spans(f), clock)
    resolution = _pair(m.resolution_spans(f), clock)
    ratings = f.ratings
    return {
        "conversation_id": f.id, "client_id": f.client_id, "campaign_id": f.campaign_id, "project_id": f.project_id,
        "channel_id": f.channel_id, "contact_id": f.contact_id, "status": f.status, "opened_at": f.opened_at,
        "opened_slot": slot_of(f.opened_at), "opened_day": buckets.local_day(f.opened_at, zone),
        "typification_id": f.typification_id,
        "funnel_stage_id": f.funnel_stage_id, "close_reason": f.close_reason, "last_agent_id": f.last_agent,
        "first_reply_by": f.first_reply_by if first_response[0] is not None else None,
        "answered": f.answered, "closed": f.closed, "offered": f.offered, "abandoned": f.abandoned,
        "surveyed": f.surveyed, "responded": bool(f.answers), "bot_started": f.started_in_bot,
        "bot_resolved": f.started_in_bot and f.bot_resolved, "bot_handoff": f.started_in_bot and f.bot_handoff,
        "transfers": sum(1 for s in f.stretches if s.end_reason in TRANSFER_ENDS),
        "rating_sum": sum(ratings), "rating_count": len(ratings), "satisfied_count": sum(1 for r in ratings if r >= 4),
        "queue_wait_s": queue_wait[0], "queue_wait_bs": queue_wait[1],
        "first_response_s": first_response[0], "first_response_bs": first_response[1],
        "resolution_s": resolution[0], "resolution_bs": resolution[1],
    }


def assignment_rows(f: Facts, clock: m.BusinessClock) -> list[dict[str, Any]]:
    rows = []
    for i, s in enumerate(f.stretches):
        ended = s.ended_at is not None
        rows.append({
            "conversation_id": f.id, "position": i, "client_id": f.client_id, "campaign_id": f.campaign_id,
            "project_id": f.project_id, "channel_id": f.channel_id, "typification_id": f.typification_id,
            "opened_at": f.opened_at, "membership_id": s.membership_id, "started_s": s.started_at.timestamp(),
            "ended_s": s.ended_at.timestamp() if s.ended_at is not None else None,
            "handle_s": (s.ended_at - s.started_at).total_seconds() if s.ended_at is not None else None,
            "handle_bs": clock.seconds(f.campaign_id, s.started_at, s.ended_at) if s.ended_at is not None else None,
            "transfer_in": i > 0 and f.stretches[i - 1].end_reason in TRANSFER_ENDS,
            "transfer_out": ended and s.end_reason in TRANSFER_ENDS})
    return rows


def _window(facts: list[Facts]) -> tuple[datetime, datetime]:
    """The instants the batch's spans cover (business hours are walked once over them)."""
    instants = [f.opened_at for f in facts]
    for f in facts:
        instants.extend(t for t in (f.queued_at, f.closed_at, f.first_inbound_at, f.first_reply_at) if t)
        instants.extend(t for s in f.stretches for t in (s.started_at, s.ended_at) if t)
    return min(instants), max(instants) + timedelta(seconds=1)


async def refresh(session: AsyncSession, conversation_ids: Sequence[int]) -> int:
    """Recompute the facts of these conversations (a vanished one loses its facts)."""
    ids = list(conversation_ids)
    if not ids:
        return 0
    facts = await load_facts_of(session, ids)
    F = ConversationFact
    touched = [tuple(r) for r in (await session.execute(select(F.client_id, F.opened_slot, F.opened_day).where(
        F.conversation_id.in_(ids)))).all()]
    await session.execute(delete(AssignmentFact).where(AssignmentFact.conversation_id.in_(ids)))
    await session.execute(delete(ConversationFact).where(ConversationFact.conversation_id.in_(ids)))
    if not facts:
        await buckets.recompute(session, buckets.touched_by(touched))
        return 0
    campaigns = {f.campaign_id for f in facts}
    schedule_ids = dict((await session.execute(select(Campaign.id, Campaign.schedule_id).where(
        Campaign.id.in_(campaigns)))).all())
    snapshots = {sid: await current_schedule(session, sid) for sid in set(schedule_ids.values()) if sid}
    schedules: dict[int, ScheduleLike | None] = {cid: snapshots.get(sid) for cid, sid in schedule_ids.items()}
    clock = m.BusinessClock(schedules, *_window(facts))
    zones = {cid: ZoneInfo(tz) for cid, tz in (await session.execute(select(Client.id, Client.timezone).where(
        Client.id.in_({f.client_id for f in facts})))).all()}
    rows = [fact_row(f, clock, zones.get(f.client_id, ZoneInfo("UTC"))) for f in facts]
    await session.execute(insert(ConversationFact), rows)
    stretches = [row for f in facts for row in assignment_rows(f, clock)]
    if stretches:
        await session.execute(insert(AssignmentFact), stretches)
    touched += [(r["client_id"], r["opened_slot"], r["opened_day"]) for r in rows]
    await buckets.recompute(session, buckets.touched_by(touched))
    return len(facts)


async def drain(session: AsyncSession, *, client_id: int | None = None, limit: int = BATCH) -> int:
    """Refresh up to ``limit`` dirty conversations (of one client, or any) and clear their marks;
    returns how many were refreshed (one that a change holds locked is left for a later pass)."""
    stmt = (select(DirtyConversation.conversation_id).order_by(DirtyConversation.conversation_id).limit(limit)
            .with_for_update(skip_locked=True))
    if client_id is not None:
        stmt = stmt.where(DirtyConversation.client_id == client_id)
    claimed = list((await session.scalars(stmt)).all())
    if not claimed:
        return 0
    # Lock order. A change (the inbound router, the assignment) locks its conversation FOR UPDATE,
    # then marks it dirty at commit, waiting for a refresh holding that mark; the facts' foreign
    # key makes the refresh take the conversation FOR KEY SHARE. Taken here without waiting, a
    # conversation locked by a change is left for a later pass (its mark stays, and the change's
    # own mark waits for this commit only), so neither ever waits for the other: no deadlock.
    ids = list((await session.scalars(select(Conversation.id).where(Conversation.id.in_(claimed))
                                      .order_by(Conversation.id)
                                      .with_for_update(key_share=True, skip_locked=True))).all())
    if ids:
        await refresh(session, ids)
        await session.execute(delete(DirtyConversation).where(DirtyConversation.conversation_id.in_(ids)))
    return len(ids)


async def catch_up(session: AsyncSession, client_id: int) -> None:
    """Before a report of the client: refresh what its committed changes left dirty."""
    done = 0
    while done < CATCH_UP:
        n = await drain(session, client_id=client_id, limit=min(BATCH, CATCH_UP - done))
        done += n
        if n < BATCH:
            return


async def pending(session: AsyncSession, client_id: int | None = None) -> int:
    """How many conversations wait to be recomputed."""
    stmt = select(func.count()).select_from(DirtyConversation)
    if client_id is not None:
        stmt = stmt.where(DirtyConversation.client_id == client_id)
    return int(await session.scalar(stmt) or 0)


async def rebuild(database: Database, *, client_id: int | None = None, batch: int = 2000,
                  progress: Callable[[int], None] | None = None) -> int:
    """The backfill: mark every conversation (of one client, or all) dirty, then drain them."""
    rows = select(Conversation.id, Conversation.client_id)
    if client_id is not None:
        rows = rows.where(Conversation.client_id == client_id)
    async with database.session() as session:
        await session.run_sync(lambda s: mark(s, rows))
    total = 0
    while True:
        async with database.session() as session:
            n = await drain(session, client_id=client_id, limit=batch)
        total += n
        if progress is not None and n:
            progress(total)
        if n < batch:
            return total


class RollupRefresher:
    """The worker's pass: drains dirty conversations, ``PASS_LIMIT`` batches at a time."""

    def __init__(self, context: JobContext) -> None:
        self.context = context

    async def worker_pass(self) -> int:
        total = 0
        for _ in range(PASS_LIMIT):
            async with self.context.database.session() as session:
                n = await drain(session)
            total += n
            if n < BATCH:
                break
        return total
