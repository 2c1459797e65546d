"""Reports of one client: volume, times, service level, endings, CSAT, funnel, agents, bots, SLA.

Only admins and supervisors of the client read them; every id in the filters must belong to the
client (another client's campaign is simply not found). Each metric's definition lives in
``metrics`` (and docs/metrics.md) and is computed once per conversation into the rollups
(``reports.rollups``); this module answers with SQL aggregates over those facts."""

import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from enum import StrEnum
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Text, case, cast, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from atiende.auth.caller import Caller
from atiende.auth.models import Membership, Presence, Role
from atiende.bots.models import UnansweredQuestion
from atiende.campaigns.models import Campaign
from atiende.catalog.models import Funnel, QuestionKind, Typification
from atiende.channels.models import Channel
from atiende.conversations.models import SurveyResponse as R
from atiende.conversations.workview import member_names
from atiende.errors import NotFound
from atiende.reports import aggregates as agg
from atiende.reports import buckets as bk
from atiende.reports import metrics as m
from atiende.reports import rollups
from atiende.reports.aggregates import A, F
from atiende.reports.buckets import H
from atiende.reports.facts import load_facts_of
from atiende.reports.filters import ReportFilters
from atiende.reports.models import PresenceSpan
from atiende.reports.schemas import (
    AgentRow, Bucket, Csat, Endings, FunnelReport, QuestionStats, SlaCounts, SlaRow, StageRow, Stats, Summary,
    SummaryWithChange, TextAnswer, TimeMetric, Timeseries, TypificationNode, VolumeRow,
)
from atiende.reports.sla import Policy, policies_for
from atiende.tenancy.models import Client, Project

READERS = (Role.admin, Role.supervisor)
SORT_MEMORY = "64MB"
Policies = tuple[Policy, dict[int, Policy]]
MAX_TEXT_ANSWERS = 200


class FilterNotFound(NotFound):
    code = "reports.filter_not_found"

    def __init__(self, field_name: str) -> None:
        super().__init__(f"{field_name} not found", field=field_name)


class ReportService:
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

    async def _ready(self, session: AsyncSession, caller: Caller, filters: ReportFilters) -> list[Any]:
        """Checks the caller, brings the client's facts up to date, and returns the cohort's conditions."""
        await self.check(session, caller, filters)
        await rollups.catch_up(session, filters.client_id)
        if session.get_bind().dialect.name == "postgresql":
            await session.execute(text(f"SET LOCAL work_mem = '{SORT_MEMORY}'"))  # the percentiles sort in memory
        return agg.cohort(filters)

    # --- summary ---------------------------------------------------------------------------------
    async def summary(self, session: AsyncSession, caller: Caller, filters: ReportFilters,
                      now: datetime) -> SummaryWithChange:
        """Both periods in the same queries: the cohort of both, grouped by period too."""
        await self._ready(session, caller, filters)
        policies = await policies_for(session, filters.client_id)
        names = await self._names(session, filters.client_id)
        previous = filters.previous()
        both = agg.cohort(filters, start=previous.start)
        period = case((F.opened_at >= filters.start, 1), else_=0)
        within = agg.within_sla(policies)
        flags = (F.answered, F.closed, F.offered, F.abandoned, F.surveyed, F.responded, F.bot_started,
                 F.bot_resolved, F.bot_handoff)
        groups: dict[int, list[Any]] = {0: [], 1: []}
        if bk.counts_answer(filters) and bk.counts_answer(previous):
            hour_period = case((H.hour >= bk.first_hour(filters), 1), else_=0)
            counted = select(hour_period, H.channel_id, H.campaign_id, H.project_id, func.sum(H.n),
                             func.min(H.first_id), func.sum(H.within), func.sum(H.rating_sum),
                             func.sum(H.rating_count), *(func.sum(getattr(H, name)) for name in bk.FLAGS)).where(
                *bk.hour_range(filters, start=previous.start)).group_by(
                hour_period, H.channel_id, H.campaign_id, H.project_id)
        else:
            counted = select(period, F.channel_id, F.campaign_id, F.project_id, func.count(),
                             func.min(F.conversation_id), within, func.sum(F.rating_sum), func.sum(F.rating_count),
                             *(agg.count_if(f) for f in flags)).where(*both).group_by(
                period, F.channel_id, F.campaign_id, F.project_id)
        for row in (await session.execute(counted)).all():
            groups[row[0]].append(row[1:])
        if bk.durations_answer(filters, await self.client_timezone(session, filters.client_id)):
            bucketed = await bk.duration_stats(session, filters, previous)
            times_of: dict[int, list[Stats]] = {
                p: [bucketed[p].get(metric, Stats()) for metric in bk.Metric] for p in (0, 1)}
            return SummaryWithChange(
                current=await self._summary(session, filters, names, groups[1], times_of[1][:6], times_of[1][6:]),
                previous=await self._summary(session, previous, names, groups[0], times_of[0][:6],
                                             times_of[0][6:]))
        times = await agg.grouped_stats(session, select(
            period.label("g"), F.queue_wait_s, F.queue_wait_bs, F.first_response_s, F.first_response_bs,
            F.resolution_s, F.resolution_bs).where(*both), values=6)
        a_period = case((A.opened_at >= filters.start, 1), else_=0)
        handle = await agg.grouped_stats(session, select(a_period.label("g"), A.handle_s, A.handle_bs).where(
            *agg.cohort(filters, start=previous.start, table=A)), values=2)
        return SummaryWithChange(
            current=await self._summary(session, filters, names, groups[1], times.get(1), handle.get(1)),
            previous=await self._summary(session, previous, names, groups[0], times.get(0), handle.get(0)))

    async def _summary(self, session: AsyncSession, filters: ReportFilters, names: dict[str, dict[int, str]],
                       groups: list[Any], times: list[Stats] | None, handle: list[Stats] | None) -> Summary:
        times = times or [Stats()] * 6
        handle = handle or [Stats()] * 2
        total: Counter[str] = Counter()
        volumes: dict[str, dict[int, VolumeRow]] = {"channel": {}, "campaign": {}, "project": {}}
        first: dict[tuple[str, int], int] = {}
        for channel_id, campaign_id, project_id, n, first_id, within_n, rating_sum, rating_count, *counts in groups:
            row = dict(zip(("answered", "closed", "offered", "abandoned", "surveyed", "responded", "bot_started",
                            "bot_resolved", "bot_handoff"), counts, strict=True))
            total.update({"received": n, "within": within_n, "rating_sum": rating_sum or 0,
                          "rating_count": rating_count or 0, **row})
            for kind, key in (("channel", channel_id), ("campaign", campaign_id), ("project", project_id)):
                volume = volumes[kind].setdefault(key, VolumeRow(id=key, name=names[kind].get(key, str(key))))
                volume.received += n
                volume.answered += row["answered"]
                volume.closed += row["closed"]
                volume.abandoned += row["abandoned"]
                first[(kind, key)] = min(first.get((kind, key), first_id), first_id)

        def ordered(kind: str) -> list[VolumeRow]:
            return sorted(volumes[kind].values(), key=lambda r: (-r.received, r.name.lower(), first[(kind, r.id)]))

        rated = total["rating_count"]
        return Summary(
            date_from=filters.date_from, date_to=filters.date_to, timezone=filters.timezone,
            received=total["received"], answered=total["answered"], closed=total["closed"],
            offered=total["offered"], abandoned=total["abandoned"],
            abandon_rate=m.ratio(total["abandoned"], total["offered"]),
            service_level=m.ratio(total["within"], total["offered"]),
            queue_wait=TimeMetric(clock=times[0], business=times[1]),
            first_response=TimeMetric(clock=times[2], business=times[3]),
            handle_time=TimeMetric(clock=handle[0], business=handle[1]),
            resolution=TimeMetric(clock=times[4], business=times[5]),
            csat_average=round(total["rating_sum"] / rated, 3) if rated else None,
            csat_response_rate=m.ratio(total["responded"], total["surveyed"]),
            bot_started=total["bot_started"], bot_containment=m.ratio(total["bot_resolved"], total["bot_started"]),
            bot_handoff_rate=m.ratio(total["bot_handoff"], total["bot_started"]),
            bot_unanswered_questions=await self._unanswered(session, filters),
            by_channel=ordered("channel"), by_campaign=ordered("campaign"), by_project=ordered("project"))

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
        where = await self._ready(session, caller, filters)
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
        if bk.counts_answer(filters):
            counted = select(H.hour * (bk.HOUR // rollups.SLOT_SECONDS), func.sum(H.n), func.sum(H.answered),
                             func.sum(H.closed), func.sum(H.abandoned)).where(
                *bk.hour_range(filters)).group_by(H.hour)
        else:
            counted = select(F.opened_slot, func.count(), agg.count_if(F.answered), agg.count_if(F.closed),
                             agg.count_if(F.abandoned)).where(*where).group_by(F.opened_slot)
        for slot, n, answered, closed, abandoned in (await session.execute(counted)).all():
            local = rollups.slot_start(slot).astimezone(zone)
            heatmap[local.weekday()][local.hour] += n
            key = local.replace(minute=0, second=0, microsecond=0, tzinfo=None)
            key = key if hourly else key.replace(hour=0)
            bucket = buckets.get(key.replace(tzinfo=zone))
            if bucket is None:
                continue
            bucket.received += n
            bucket.answered += answered
            bucket.closed += closed
            bucket.abandoned += abandoned
        return Timeseries(granularity="hour" if hourly else "day", buckets=list(buckets.values()), heatmap=heatmap)

    # --- agents ----------------------------------------------------------------------------------
    async def agents(self, session: AsyncSession, caller: Caller, filters: ReportFilters,
                     now: datetime) -> list[AgentRow]:
        where = await self._ready(session, caller, filters)
        members = list((await session.scalars(select(Membership).where(
            Membership.client_id == filters.client_id, Membership.role == Role.agent))).all())
        if filters.agent_id is not None:
            members = [mb for mb in members if mb.id == filters.agent_id]
        stretches = agg.cohort(filters, table=A)
        held = {mid: (handled, t_in, t_out) for mid, handled, t_in, t_out in (await session.execute(
            select(A.membership_id, func.count(func.distinct(A.conversation_id)), agg.count_if(A.transfer_in),
                   agg.count_if(A.transfer_out)).where(*stretches).group_by(A.membership_id))).all()}
        handle = await agg.grouped_stats(session, select(A.membership_id, A.handle_s).where(*stretches))
        first = await agg.grouped_stats(session, select(F.first_reply_by, F.first_response_s).where(
            *where, F.first_reply_by.is_not(None)))
        ratings = {mid: (total, n) for mid, total, n in (await session.execute(
            select(F.last_agent_id, func.sum(F.rating_sum), func.sum(F.rating_count)).where(
                *where, F.last_agent_id.is_not(None)).group_by(F.last_agent_id))).all()}
        window_end = min(now, filters.end)
        presence = await self._presence(session, filters, members, window_end)
        busy = await self._busy(session, filters, window_end)
        rows = []
        for mb in members:
            spans = presence.get(mb.id, [])
            online = [(a.timestamp(), b.timestamp()) for p, a, b in spans if p == Presence.online]
            seconds = {p: sum((b - a).total_seconds() for q, a, b in spans if q == p) for p in Presence}
            busy_online = m.union_seconds(m.intersect(busy.get(mb.id, []), online))
            handled, t_in, t_out = held.get(mb.id, (0, 0, 0))
            rating_sum, rating_count = ratings.get(mb.id, (0, 0))
            rows.append(AgentRow(
                membership_id=mb.id, name=mb.user.full_name or mb.user.email, handled=handled,
                handle_time=handle.get(mb.id, [Stats()])[0], first_response=first.get(mb.id, [Stats()])[0],
                transfers_in=t_in, transfers_out=t_out,
                csat_average=round(rating_sum / rating_count, 3) if rating_count else None,
                online_seconds=seconds[Presence.online], away_seconds=seconds[Presence.away],
                offline_seconds=seconds[Presence.offline], busy_seconds=busy_online,
                occupancy=m.ratio(busy_online, seconds[Presence.online])))
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
                    window_end: datetime) -> dict[int, list[tuple[float, float]]]:
        """Each agent's assignment stretches (any conversation of the client) clipped to the range,
        in seconds since the epoch."""
        out: dict[int, list[tuple[float, float]]] = defaultdict(list)
        start, end = filters.start.timestamp(), window_end.timestamp()
        c = A.__table__.c  # plain rows, not ORM loading: a busy month is tens of thousands of them
        for mid, a, b in (await session.execute(
                select(c.membership_id, c.started_s, c.ended_s).where(
                    c.client_id == filters.client_id, c.started_s < end,
                    (c.ended_s.is_(None)) | (c.ended_s > start)))).all():
            s, e = max(a, start), min(b if b is not None else end, end)
            if s < e:
                out[mid].append((s, e))
        return out

    # --- endings ---------------------------------------------------------------------------------
    async def endings(self, session: AsyncSession, caller: Caller, filters: ReportFilters,
                      now: datetime) -> Endings:
        where = await self._ready(session, caller, filters)
        typed = dict((await session.execute(select(F.typification_id, func.count()).where(*where, F.closed)
                                            .group_by(F.typification_id))).all())
        untyped = typed.pop(None, 0)
        items = (await session.scalars(select(Typification).where(
            Typification.client_id == filters.client_id).order_by(Typification.name, Typification.id))).all()
        children: dict[int | None, list[Typification]] = defaultdict(list)
        for item in items:
            children[item.parent_id].append(item)

        def node(item: Typification) -> TypificationNode:
            kids = [node(k) for k in children.get(item.id, [])]
            kids = [k for k in kids if k.total]
            count = typed.get(item.id, 0)
            return TypificationNode(id=item.id, name=item.name, code=item.code, count=count,
                                    total=count + sum(k.total for k in kids), children=kids)

        tree = [n for n in (node(i) for i in children.get(None, [])) if n.total]
        tree.sort(key=lambda n: -n.total)
        reasons = {reason.value: n for reason, n in (await session.execute(
            select(F.close_reason, func.count()).where(*where, F.closed, F.close_reason.is_not(None))
            .group_by(F.close_reason))).all()}
        return Endings(closed=untyped + sum(typed.values()), tree=tree, untyped=untyped,
                       by_close_reason=dict(sorted(reasons.items())))

    # --- csat ------------------------------------------------------------------------------------
    async def csat(self, session: AsyncSession, caller: Caller, filters: ReportFilters, now: datetime) -> Csat:
        where = await self._ready(session, caller, filters)
        surveyed, responded, rating_sum, rated, satisfied = (await session.execute(select(
            agg.count_if(F.surveyed), agg.count_if(F.responded), func.sum(F.rating_sum), func.sum(F.rating_count),
            func.sum(F.satisfied_count)).where(*where))).one()
        surveyed, responded, rating_sum, rated, satisfied = (
            int(v or 0) for v in (surveyed, responded, rating_sum, rated, satisfied))
        answer = case((R.kind.in_([QuestionKind.rating, QuestionKind.yes_no]), cast(R.value, Text)), else_=None)
        by_question: dict[tuple[int, str, QuestionKind], list[tuple[Any, int]]] = defaultdict(list)
        for position, question, kind, value, n in (await session.execute(
                select(R.position, R.question, R.kind, answer, func.count())
                .join(F, F.conversation_id == R.conversation_id).where(*where, R.valid)
                .group_by(R.position, R.question, R.kind, answer))).all():
            by_question[(position, question, kind)].append((json.loads(value) if value is not None else None, n))
        questions = []
        for (position, question, kind), values in sorted(by_question.items(), key=lambda kv: (kv[0][0], kv[0][1])):
            dist: dict[str, int] = {}
            average = None
            responses = sum(n for _v, n in values)
            if kind == QuestionKind.rating:
                dist = {str(k): sum(n for v, n in values if int(v) == k) for k in range(1, 6)}
                average = round(sum(int(v) * n for v, n in values) / responses, 3)
            elif kind == QuestionKind.yes_no:
                dist = {"yes": sum(n for v, n in values if v is True), "no": sum(n for v, n in values if v is False)}
            questions.append(QuestionStats(position=position, question=question, kind=kind.value,
                                           responses=responses, distribution=dist, average=average))
        texts = [TextAnswer(conversation_id=cid, question=q, answer=a, answered_at=at) for cid, q, a, at in (
            await session.execute(select(R.conversation_id, R.question, R.answer, R.answered_at)
                                  .join(F, F.conversation_id == R.conversation_id)
                                  .where(*where, R.valid, R.kind == QuestionKind.text)
                                  .order_by(R.answered_at.desc(), R.conversation_id, R.position)
                                  .limit(MAX_TEXT_ANSWERS))).all()]
        return Csat(surveyed=surveyed, responded=responded, response_rate=m.ratio(responded, surveyed),
                    average=round(rating_sum / rated, 3) if rated else None,
                    satisfied_rate=m.ratio(satisfied, rated), questions=questions, text_answers=texts)

    # --- funnel ----------------------------------------------------------------------------------
    async def funnel(self, session: AsyncSession, caller: Caller, filters: ReportFilters,
                     now: datetime) -> list[FunnelReport]:
        where = await self._ready(session, caller, filters)
        funnel_of = dict((await session.execute(select(Campaign.id, Campaign.funnel_id).where(
            Campaign.client_id == filters.client_id, Campaign.funnel_id.is_not(None)))).all())
        by_funnel: dict[int, Counter[int | None]] = defaultdict(Counter)
        for campaign_id, stage_id, n in (await session.execute(
                select(F.campaign_id, F.funnel_stage_id, func.count()).where(*where, F.campaign_id.in_(list(funnel_of)))
                .group_by(F.campaign_id, F.funnel_stage_id))).all():
            by_funnel[funnel_of[campaign_id]][stage_id] += n
        reports = []
        for funnel in (await session.scalars(select(Funnel).where(Funnel.id.in_(list(by_funnel))).order_by(
                Funnel.name))).all():
            counts = by_funnel[funnel.id]
            position = {s.id: s.position for s in funnel.stages}
            current = {sid: n for sid, n in counts.items() if sid in position}
            rows, previous = [], None
            for stage in funnel.stages:
                reached = sum(n for sid, n in current.items() if position[sid] >= stage.position)
                rows.append(StageRow(stage_id=stage.id, name=stage.name, position=stage.position,
                                     current=current.get(stage.id, 0), reached=reached,
                                     conversion=m.ratio(reached, previous) if previous is not None else None))
                previous = reached
            reports.append(FunnelReport(funnel_id=funnel.id, name=funnel.name, stages=rows,
                                        without_stage=sum(n for sid, n in counts.items() if sid not in position)))
        return reports

    # --- sla -------------------------------------------------------------------------------------
    async def sla(self, session: AsyncSession, caller: Caller, filters: ReportFilters, now: datetime) -> list[SlaRow]:
        where = await self._ready(session, caller, filters)
        policies = await policies_for(session, filters.client_id)
        default, own = policies
        names = (await self._names(session, filters.client_id))["campaign"]
        targets = (
            (F.queue_wait_s, F.queue_wait_bs, lambda p: p.queue_optimal_seconds, lambda p: p.queue_low_seconds),
            (F.first_response_s, F.first_response_bs, lambda p: p.first_response_optimal_seconds,
             lambda p: p.first_response_low_seconds),
            (F.resolution_s, F.resolution_bs, lambda p: p.resolution_hours * 3600, lambda p: p.resolution_hours * 3600))
        columns: list[Any] = []
        for clock_s, business_s, optimal, low in targets:
            seconds = agg.chosen(policies, clock_s, business_s)
            opt, lo = agg.per_campaign(policies, optimal), agg.per_campaign(policies, low)
            columns += [func.count(clock_s), agg.count_if(seconds <= opt),
                        agg.count_if((seconds > opt) & (seconds <= lo)), agg.count_if(seconds > lo)]
        rows = []
        for campaign_id, first_id, *counts in (await session.execute(
                select(F.campaign_id, func.min(F.conversation_id), *columns).where(*where)
                .group_by(F.campaign_id))).all():
            policy = own.get(campaign_id, default)
            measured = [SlaCounts(measured=counts[i], met=counts[i + 1], low=counts[i + 2], breached=counts[i + 3])
                        for i in (0, 4, 8)]
            rows.append((first_id, SlaRow(
                campaign_id=campaign_id, name=names.get(campaign_id, ""), business_hours=policy.business_hours,
                queue_optimal_seconds=policy.queue_optimal_seconds, queue_low_seconds=policy.queue_low_seconds,
                first_response_optimal_seconds=policy.first_response_optimal_seconds,
                first_response_low_seconds=policy.first_response_low_seconds,
                resolution_hours=policy.resolution_hours, queue=measured[0], first_response=measured[1],
                resolution=measured[2])))
        return [row for _first, row in sorted(rows, key=lambda r: (r[1].name.lower(), r[0]))]


report_service = ReportService()


class Metric(StrEnum):
    """The conversations behind a number of the page."""

    received = "received"
    answered = "answered"
    closed = "closed"
    abandoned = "abandoned"
    surveyed = "surveyed"


METRIC_FLAG: dict[Metric, Any] = {
    Metric.received: None, Metric.answered: F.answered, Metric.closed: F.closed, Metric.abandoned: F.abandoned,
    Metric.surveyed: F.responded,
}
MAX_LISTED = 200


@dataclass
class Listed:
    id: int
    opened_at: datetime
    campaign: str
    contact: str
    agents: str
    status: str
    typification: str
    answers: list[tuple[str, str]]


async def conversations_behind(session: AsyncSession, caller: Caller, filters: ReportFilters, metric: Metric,
                               now: datetime) -> tuple[list[Listed], int]:
    """The newest conversations counted by ``metric`` (at most ``MAX_LISTED``), with their survey
    answers, and how many there are."""
    from atiende.conversations.models import Contact

    where = await report_service._ready(session, caller, filters)
    flag = METRIC_FLAG[metric]
    if flag is not None:
        where.append(flag)
    total = int(await session.scalar(select(func.count()).select_from(F).where(*where)) or 0)
    ids = list((await session.scalars(select(F.conversation_id).where(*where).order_by(
        F.conversation_id.desc()).limit(MAX_LISTED))).all())
    shown = sorted(await load_facts_of(session, ids), key=lambda f: -f.id)
    names = await report_service._names(session, filters.client_id)
    contacts = dict((await session.execute(select(Contact.id, Contact.name).where(
        Contact.id.in_({f.contact_id for f in shown})))).all()) if shown else {}
    agents = await member_names(session, {s.membership_id for f in shown for s in f.stretches})
    typifications = dict((await session.execute(select(Typification.id, Typification.name).where(
        Typification.client_id == filters.client_id))).all())
    return [Listed(id=f.id, opened_at=f.opened_at, campaign=names["campaign"].get(f.campaign_id, ""),
                   contact=contacts.get(f.contact_id, ""),
                   agents=" > ".join(agents.get(s.membership_id, "") for s in f.stretches), status=f.status.value,
                   typification=typifications.get(f.typification_id or 0, ""),
                   answers=[(a.question, a.answer) for a in f.answers]) for f in shown], total


@dataclass
class FilterOptions:
    projects: dict[int, str]
    campaigns: dict[int, str]
    channels: dict[int, str]
    agents: dict[int, str]
    typifications: dict[int, str]
    timezone: str


async def filter_options(session: AsyncSession, caller: Caller, client_id: int) -> FilterOptions:
    """What the page's filters offer: the client's projects, campaigns, channels, agents, typifications."""
    caller.require(client_id, *READERS)
    names = await report_service._names(session, client_id)
    agents = await member_names(session, set((await session.scalars(select(Membership.id).where(
        Membership.client_id == client_id, Membership.role == Role.agent))).all()))
    typifications = dict((await session.execute(select(Typification.id, Typification.name).where(
        Typification.client_id == client_id).order_by(Typification.name))).all())
    return FilterOptions(projects=names["project"], campaigns=names["campaign"], channels=names["channel"],
                         agents=dict(sorted(agents.items(), key=lambda kv: kv[1].lower())),
                         typifications=typifications,
                         timezone=await report_service.client_timezone(session, client_id))
