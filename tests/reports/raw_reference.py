"""The reference the rollups are checked against: every report recomputed from the raw rows.

This is the service as it was before the rollups (it read the cohort's conversations, messages,
assignments and survey answers on every call and aggregated in Python, through the same metric
definitions in ``reports.facts`` and ``reports.metrics``). Only tests/reports/test_rollups.py uses
it: after a random mix of events, each of its answers must equal ``reports.service``'s."""

from collections import Counter, defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from atiende.auth.caller import Caller
from atiende.auth.models import Membership, Presence, Role
from atiende.bots.models import UnansweredQuestion
from atiende.campaigns.models import Campaign
from atiende.catalog.models import Funnel, QuestionKind, Typification
from atiende.catalog.schedule_rules import ScheduleLike
from atiende.catalog.schedule_snapshots import schedule_of
from atiende.channels.models import Channel
from atiende.conversations.models import Assignment
from atiende.reports.service import FilterNotFound
from atiende.reports import metrics as m
from atiende.reports.facts import Facts, load_facts
from atiende.reports.filters import ReportFilters
from atiende.reports.models import PresenceSpan
from atiende.reports.schemas import (
    AgentRow, Bucket, Csat, Endings, FunnelReport, QuestionStats, SlaCounts, SlaRow, StageRow, Summary,
    SummaryWithChange, TextAnswer, Timeseries, TypificationNode, VolumeRow,
)
from atiende.reports.sla import classify, elapsed, policies_for
from atiende.tenancy.models import Client, Project

READERS = (Role.admin, Role.supervisor)
MAX_TEXT_ANSWERS = 200


class Cohort:
    """The cohort's facts with what every metric needs alongside (names, schedules, clock)."""

    def __init__(self, filters: ReportFilters, facts: list[Facts], schedules: dict[int, ScheduleLike | None],
                 now: datetime) -> None:
        self.filters, self.facts, self.now = filters, facts, now
        self.schedules = schedules
        self.clock = m.BusinessClock(schedules, filters.start, max(now, filters.end))


class RawReports:
    async def client_timezone(self, session: AsyncSession, client_id: int) -> str:
        return await session.scalar(select(Client.timezone).where(Client.id == client_id)) or "UTC"

    async def check(self, session: AsyncSession, caller: Caller, filters: ReportFilters) -> None:
        """The caller reads reports of the client, and every filter id is the client's."""
        caller.require(filters.client_id, *READERS)
        checks: list[tuple[str, Any, Any]] = [
            ("project_id", Project, filters.project_id), ("campaign_id", Campaign, filters.campaign_id),
            ("channel_id", Channel, filters.channel_id), ("agent_id", Membership, filters.agent_id),
            ("typification_id", Typification, filters.typification_id)]
        for name, model, value in checks:
            if value is not None and await session.scalar(
                    select(model.id).where(model.id == value, model.client_id == filters.client_id)) is None:
                raise FilterNotFound(name)

    async def _cohort(self, session: AsyncSession, caller: Caller, filters: ReportFilters, now: datetime,
                      *, with_answers: bool = False) -> Cohort:
        await self.check(session, caller, filters)
        facts = await load_facts(session, filters, with_answers=with_answers)
        campaign_schedules = dict((await session.execute(select(Campaign.id, Campaign.schedule_id).where(
            Campaign.client_id == filters.client_id))).all())
        snapshots = {sid: await schedule_of(session, sid) for sid in set(campaign_schedules.values())}
        return Cohort(filters, facts, {cid: snapshots[sid] for cid, sid in campaign_schedules.items()}, now)

    # --- summary ---------------------------------------------------------------------------------
    async def summary(self, session: AsyncSession, caller: Caller, filters: ReportFilters,
                      now: datetime) -> SummaryWithChange:
        return SummaryWithChange(current=await self._summary(session, caller, filters, now),
                                 previous=await self._summary(session, caller, filters.previous(), now))

    async def _summary(self, session: AsyncSession, caller: Caller, filters: ReportFilters,
                       now: datetime) -> Summary:
        c = await self._cohort(session, caller, filters, now, with_answers=True)
        facts = c.facts
        default, own = await policies_for(session, filters.client_id)
        offered = [f for f in facts if f.offered]
        within = 0
        for f in offered:
            policy = own.get(f.campaign_id, default)
            spans = m.queue_wait_spans(f)
            if spans and elapsed(policy, c.schedules.get(f.campaign_id), spans[0][1], spans[0][2]) \
                    <= policy.queue_optimal_seconds:
                within += 1
        abandoned = sum(1 for f in facts if f.abandoned)
        surveyed = [f for f in facts if f.surveyed]
        ratings = [r for f in facts for r in f.ratings]
        bot = [f for f in facts if f.started_in_bot]
        names = await self._names(session, filters.client_id)
        return Summary(
            date_from=filters.date_from, date_to=filters.date_to, timezone=filters.timezone,
            received=len(facts), answered=sum(1 for f in facts if f.answered),
            closed=sum(1 for f in facts if f.closed), offered=len(offered), abandoned=abandoned,
            abandon_rate=m.ratio(abandoned, len(offered)), service_level=m.ratio(within, len(offered)),
            queue_wait=m.time_metric(facts, m.queue_wait_spans, c.clock),
            first_response=m.time_metric(facts, m.first_response_spans, c.clock),
            handle_time=m.time_metric(facts, m.handle_spans, c.clock),
            resolution=m.time_metric(facts, m.resolution_spans, c.clock),
            csat_average=round(sum(ratings) / len(ratings), 3) if ratings else None,
            csat_response_rate=m.ratio(sum(1 for f in surveyed if f.answers), len(surveyed)),
            bot_started=len(bot), bot_containment=m.ratio(sum(1 for f in bot if f.bot_resolved), len(bot)),
            bot_handoff_rate=m.ratio(sum(1 for f in bot if f.bot_handoff), len(bot)),
            bot_unanswered_questions=await self._unanswered(session, filters),
            by_channel=_volume(facts, lambda f: f.channel_id, names["channel"]),
            by_campaign=_volume(facts, lambda f: f.campaign_id, names["campaign"]),
            by_project=_volume(facts, lambda f: f.project_id, names["project"]))

    async def _names(self, session: AsyncSession, client_id: int) -> dict[str, dict[int, str]]:
        out: dict[str, dict[int, str]] = {}
        for key, model in (("channel", Channel), ("campaign", Campaign), ("project", Project)):
            out[key] = dict((await session.execute(select(model.id, model.name).where(
                model.client_id == client_id))).all())
        return out

    async def _unanswered(self, session: AsyncSession, filters: ReportFilters) -> int:
        from atiende.bots.models import AttentionBot
        return int(await session.scalar(select(func.count()).select_from(UnansweredQuestion).join(
            AttentionBot, AttentionBot.id == UnansweredQuestion.bot_id).where(
            AttentionBot.client_id == filters.client_id, UnansweredQuestion.last_seen_at >= filters.start,
            UnansweredQuestion.last_seen_at < filters.end)) or 0)

    # --- timeseries ------------------------------------------------------------------------------
    async def timeseries(self, session: AsyncSession, caller: Caller, filters: ReportFilters,
                         now: datetime) -> Timeseries:
        c = await self._cohort(session, caller, filters, now)
        zone = filters.zone
        hourly = filters.days == 1
        buckets: dict[datetime, Bucket] = {}
        day = filters.date_from
        while day <= filters.date_to:
            start = datetime(day.year, day.month, day.day, tzinfo=zone)
            if hourly:
                for hour in range(24):
                    at = start.replace(hour=hour)
                    buckets[at] = Bucket(start=at, label=f"{hour:02d}:00")
            else:
                buckets[start] = Bucket(start=start, label=day.isoformat())
            day += timedelta(days=1)
        heatmap = [[0] * 24 for _ in range(7)]
        for f in c.facts:
            local = f.opened_at.astimezone(zone)
            heatmap[local.weekday()][local.hour] += 1
            key = local.replace(minute=0, second=0, microsecond=0, tzinfo=None)
            key = key if hourly else key.replace(hour=0)
            bucket = buckets.get(key.replace(tzinfo=zone))
            if bucket is None:
                continue
            bucket.received += 1
            bucket.answered += f.answered
            bucket.closed += f.closed
            bucket.abandoned += f.abandoned
        return Timeseries(granularity="hour" if hourly else "day", buckets=list(buckets.values()), heatmap=heatmap)

    # --- agents ----------------------------------------------------------------------------------
    async def agents(self, session: AsyncSession, caller: Caller, filters: ReportFilters,
                     now: datetime) -> list[AgentRow]:
        c = await self._cohort(session, caller, filters, now, with_answers=True)
        members = list((await session.scalars(select(Membership).where(
            Membership.client_id == filters.client_id, Membership.role == Role.agent))).all())
        if filters.agent_id is not None:
            members = [mb for mb in members if mb.id == filters.agent_id]
        handled: dict[int, set[int]] = defaultdict(set)
        t_in: Counter[int] = Counter()
        t_out: Counter[int] = Counter()
        ratings: dict[int, list[int]] = defaultdict(list)
        handle: dict[int, list[float]] = defaultdict(list)
        first: dict[int, list[float]] = defaultdict(list)
        for f in c.facts:
            for s in f.stretches:
                handled[s.membership_id].add(f.id)
            ins, outs = m.transfers(f.stretches)
            t_in.update(ins)
            t_out.update(outs)
            if f.last_agent is not None:
                ratings[f.last_agent].extend(f.ratings)
            for stretch in f.stretches:
                if stretch.ended_at is not None:
                    handle[stretch.membership_id].append((stretch.ended_at - stretch.started_at).total_seconds())
            if f.first_reply_by is not None and f.first_reply_at and f.first_inbound_at:
                first[f.first_reply_by].append((f.first_reply_at - f.first_inbound_at).total_seconds())
        window_end = min(now, filters.end)
        presence = await self._presence(session, filters, members, window_end)
        busy = await self._busy(session, filters, window_end)
        rows = []
        for mb in members:
            spans = presence.get(mb.id, [])
            online = [(a, b) for p, a, b in spans if p == Presence.online]
            seconds = {p: sum((b - a).total_seconds() for q, a, b in spans if q == p) for p in Presence}
            held = m.union_seconds(m.intersect(busy.get(mb.id, []), online))
            agent_ratings = ratings.get(mb.id, [])
            rows.append(AgentRow(
                membership_id=mb.id, name=mb.user.full_name or mb.user.email, handled=len(handled.get(mb.id, ())),
                handle_time=m.stats(handle.get(mb.id, [])), first_response=m.stats(first.get(mb.id, [])),
                transfers_in=t_in.get(mb.id, 0), transfers_out=t_out.get(mb.id, 0),
                csat_average=round(sum(agent_ratings) / len(agent_ratings), 3) if agent_ratings else None,
                online_seconds=seconds[Presence.online], away_seconds=seconds[Presence.away],
                offline_seconds=seconds[Presence.offline], busy_seconds=held,
                occupancy=m.ratio(held, seconds[Presence.online])))
        return sorted(rows, key=lambda r: (-r.handled, r.name.lower(), r.membership_id))

    async def _presence(self, session: AsyncSession, filters: ReportFilters, members: list[Membership],
                        window_end: datetime) -> dict[int, list[tuple[Presence, datetime, datetime]]]:
        """Each agent's presence stretches clipped to the range (the current one runs to now)."""
        start = filters.start
        out: dict[int, list[tuple[Presence, datetime, datetime]]] = defaultdict(list)
        ids = [mb.id for mb in members]
        if not ids or window_end <= start:
            return out
        for p in (await session.scalars(select(PresenceSpan).where(
                PresenceSpan.membership_id.in_(ids), PresenceSpan.started_at < window_end,
                PresenceSpan.ended_at > start))).all():
            out[p.membership_id].append((p.presence, max(p.started_at, start), min(p.ended_at, window_end)))
        for mb in members:
            since = max(mb.presence_changed_at, start)
            if since < window_end:
                out[mb.id].append((mb.presence, since, window_end))
        return out

    async def _busy(self, session: AsyncSession, filters: ReportFilters,
                    window_end: datetime) -> dict[int, list[tuple[datetime, datetime]]]:
        """Each agent's assignment stretches (any conversation) clipped to the range."""
        out: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
        start = filters.start
        for mid, a, b in (await session.execute(
                select(Assignment.membership_id, Assignment.started_at, Assignment.ended_at)
                .join(Campaign, Campaign.id == Assignment.campaign_id)
                .where(Campaign.client_id == filters.client_id, Assignment.started_at < window_end,
                       (Assignment.ended_at.is_(None)) | (Assignment.ended_at > start)))).all():
            s, e = max(a, start), min(b or window_end, window_end)
            if s < e:
                out[mid].append((s, e))
        return out

    # --- endings ---------------------------------------------------------------------------------
    async def endings(self, session: AsyncSession, caller: Caller, filters: ReportFilters,
                      now: datetime) -> Endings:
        c = await self._cohort(session, caller, filters, now)
        closed = [f for f in c.facts if f.closed]
        own = Counter(f.typification_id for f in closed if f.typification_id is not None)
        items = (await session.scalars(select(Typification).where(
            Typification.client_id == filters.client_id).order_by(Typification.name, Typification.id))).all()
        children: dict[int | None, list[Typification]] = defaultdict(list)
        for item in items:
            children[item.parent_id].append(item)

        def node(item: Typification) -> TypificationNode:
            kids = [node(k) for k in children.get(item.id, [])]
            kids = [k for k in kids if k.total]
            count = own.get(item.id, 0)
            return TypificationNode(id=item.id, name=item.name, code=item.code, count=count,
                                    total=count + sum(k.total for k in kids), children=kids)

        tree = [n for n in (node(i) for i in children.get(None, [])) if n.total]
        tree.sort(key=lambda n: -n.total)
        reasons = Counter(f.close_reason.value for f in closed if f.close_reason is not None)
        return Endings(closed=len(closed), tree=tree, untyped=sum(1 for f in closed if f.typification_id is None),
                       by_close_reason=dict(sorted(reasons.items())))

    # --- csat ------------------------------------------------------------------------------------
    async def csat(self, session: AsyncSession, caller: Caller, filters: ReportFilters, now: datetime) -> Csat:
        c = await self._cohort(session, caller, filters, now, with_answers=True)
        surveyed = [f for f in c.facts if f.surveyed]
        ratings = [r for f in c.facts for r in f.ratings]
        by_question: dict[tuple[int, str, QuestionKind], list[Any]] = defaultdict(list)
        texts = []
        for f in c.facts:
            for a in f.answers:
                by_question[(a.position, a.question, a.kind)].append(a.value)
                if a.kind == QuestionKind.text:
                    texts.append(TextAnswer(conversation_id=f.id, question=a.question, answer=a.answer,
                                            answered_at=a.answered_at))
        questions = []
        for (position, question, kind), values in sorted(by_question.items(), key=lambda kv: (kv[0][0], kv[0][1])):
            dist: dict[str, int] = {}
            average = None
            if kind == QuestionKind.rating:
                dist = {str(k): sum(1 for v in values if int(v) == k) for k in range(1, 6)}
                average = round(sum(int(v) for v in values) / len(values), 3)
            elif kind == QuestionKind.yes_no:
                dist = {"yes": sum(1 for v in values if v is True), "no": sum(1 for v in values if v is False)}
            questions.append(QuestionStats(position=position, question=question, kind=kind.value,
                                           responses=len(values), distribution=dist, average=average))
        texts.sort(key=lambda t: t.answered_at, reverse=True)
        return Csat(surveyed=len(surveyed), responded=sum(1 for f in surveyed if f.answers),
                    response_rate=m.ratio(sum(1 for f in surveyed if f.answers), len(surveyed)),
                    average=round(sum(ratings) / len(ratings), 3) if ratings else None,
                    satisfied_rate=m.ratio(sum(1 for r in ratings if r >= 4), len(ratings)),
                    questions=questions, text_answers=texts[:MAX_TEXT_ANSWERS])

    # --- funnel ----------------------------------------------------------------------------------
    async def funnel(self, session: AsyncSession, caller: Caller, filters: ReportFilters,
                     now: datetime) -> list[FunnelReport]:
        c = await self._cohort(session, caller, filters, now)
        funnel_of = dict((await session.execute(select(Campaign.id, Campaign.funnel_id).where(
            Campaign.client_id == filters.client_id, Campaign.funnel_id.is_not(None)))).all())
        by_funnel: dict[int, list[Facts]] = defaultdict(list)
        for f in c.facts:
            if f.campaign_id in funnel_of:
                by_funnel[funnel_of[f.campaign_id]].append(f)
        reports = []
        for funnel in (await session.scalars(select(Funnel).where(Funnel.id.in_(list(by_funnel))).order_by(
                Funnel.name))).all():
            facts = by_funnel[funnel.id]
            position = {s.id: s.position for s in funnel.stages}
            current = Counter(f.funnel_stage_id for f in facts if f.funnel_stage_id in position)
            rows, previous = [], None
            for stage in funnel.stages:
                reached = sum(n for sid, n in current.items() if position[sid] >= stage.position)
                rows.append(StageRow(stage_id=stage.id, name=stage.name, position=stage.position,
                                     current=current.get(stage.id, 0), reached=reached,
                                     conversion=m.ratio(reached, previous) if previous is not None else None))
                previous = reached
            reports.append(FunnelReport(funnel_id=funnel.id, name=funnel.name, stages=rows,
                                        without_stage=sum(1 for f in facts if f.funnel_stage_id not in position)))
        return reports

    # --- sla -------------------------------------------------------------------------------------
    async def sla(self, session: AsyncSession, caller: Caller, filters: ReportFilters, now: datetime) -> list[SlaRow]:
        c = await self._cohort(session, caller, filters, now)
        default, own = await policies_for(session, filters.client_id)
        names = (await self._names(session, filters.client_id))["campaign"]
        rows: dict[int, SlaRow] = {}
        for f in c.facts:
            policy = own.get(f.campaign_id, default)
            row = rows.get(f.campaign_id)
            if row is None:
                row = rows[f.campaign_id] = SlaRow(
                    campaign_id=f.campaign_id, name=names.get(f.campaign_id, ""), business_hours=policy.business_hours,
                    queue_optimal_seconds=policy.queue_optimal_seconds, queue_low_seconds=policy.queue_low_seconds,
                    first_response_optimal_seconds=policy.first_response_optimal_seconds,
                    first_response_low_seconds=policy.first_response_low_seconds,
                    resolution_hours=policy.resolution_hours, queue=SlaCounts(), first_response=SlaCounts(),
                    resolution=SlaCounts())
            schedule = c.schedules.get(f.campaign_id)
            for _c, a, b in m.queue_wait_spans(f):
                classify(elapsed(policy, schedule, a, b), policy.queue_optimal_seconds, policy.queue_low_seconds,
                         row.queue)
            for _c, a, b in m.first_response_spans(f):
                classify(elapsed(policy, schedule, a, b), policy.first_response_optimal_seconds,
                         policy.first_response_low_seconds, row.first_response)
            for _c, a, b in m.resolution_spans(f):
                target = policy.resolution_hours * 3600
                classify(elapsed(policy, schedule, a, b), target, target, row.resolution)
        return sorted(rows.values(), key=lambda r: r.name.lower())

    async def facts(self, session: AsyncSession, caller: Caller, filters: ReportFilters,
                    now: datetime) -> Cohort:
        """The cohort itself (exports, drill-down lists)."""
        return await self._cohort(session, caller, filters, now, with_answers=True)


def _volume(facts: list[Facts], key: Any, names: dict[int, str]) -> list[VolumeRow]:
    rows: dict[int, VolumeRow] = {}
    for f in facts:
        k = key(f)
        row = rows.setdefault(k, VolumeRow(id=k, name=names.get(k, str(k))))
        row.received += 1
        row.answered += f.answered
        row.closed += f.closed
        row.abandoned += f.abandoned
    return sorted(rows.values(), key=lambda r: (-r.received, r.name.lower()))


raw_reports = RawReports()
