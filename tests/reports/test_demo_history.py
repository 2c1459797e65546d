"""The demo's report history fits the ranges Reportes offers, whatever the time of day it is seeded.

Given the demo client (Bogotá, UTC−5), when ``seed_history`` puts N conversations over the last 30
days of a new campaign at a given instant, then that campaign's "Últimos 30 días" (today and the 29
local days before, read from the rollups) receives all N, each conversation opened on one of those
days and closed before the instant. The instants include the night hours when Bogotá's day and
UTC's differ (the seed once drew 30×24 h back, then moved the hour, so a few fell on the 31st day)."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from atiende.auth.caller import Caller
from atiende.auth.models import Membership, User
from atiende.campaigns.models import Campaign, CampaignChannel
from atiende.conversations.models import CampaignAgent, Conversation
from atiende.db import Database
from atiende.demo import seed_demo
from atiende.reports import rollups
from atiende.reports.demo_history import seed_history
from atiende.reports.filters import RangePreset, ReportFilters, preset_range
from atiende.reports.service import report_service
from tests.reports.world import BOGOTA

SUPERVISOR = "supervisor@demo.atiende.app"
INSTANTS = [
    datetime(2026, 12, 7, 6, 58, tzinfo=UTC),   # 01:58 in Bogotá: UTC is a day ahead
    datetime(2026, 12, 7, 4, 59, tzinfo=UTC),   # 23:59 of the 6th in Bogotá
    datetime(2026, 12, 7, 5, 0, 30, tzinfo=UTC),  # just after Bogotá's midnight
    datetime(2026, 12, 7, 14, 0, tzinfo=UTC),   # 09:00 in Bogotá, office hours under way
    datetime(2026, 3, 1, 23, 30, tzinfo=UTC),   # 18:30 on the first day of a month
]


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def _campaign_like_the_demos(database: Database, name: str) -> Campaign:
    async with database.session() as session:
        first = await session.scalar(select(Campaign).where(Campaign.name == "Soporte general"))
        assert first is not None
        columns = {c.key: getattr(first, c.key) for c in Campaign.__table__.columns
                   if c.key not in ("id", "name", "attention_bot_id", "created_at", "updated_at")}
        campaign = Campaign(**columns, name=name, channel_links=[CampaignChannel(channel_id=first.channel_ids[0])])
        session.add(campaign)
        await session.flush()
        agents = (await session.scalars(select(CampaignAgent.membership_id).where(
            CampaignAgent.campaign_id == first.id))).all()
        session.add_all([CampaignAgent(campaign_id=campaign.id, membership_id=m) for m in agents])
        return campaign


@pytest.mark.parametrize("now", INSTANTS, ids=lambda n: n.strftime("%m-%dT%H:%MZ"))
async def test_the_seeded_history_falls_within_the_last_30_local_days(database: Database, now: datetime) -> None:
    demo = await seed_demo(database)
    campaign = await _campaign_like_the_demos(database, "Historia")
    async with database.session() as session:
        campaign = await session.get(Campaign, campaign.id)
        assert await seed_history(session, campaign, now, count=60, days=30, seed=23) == 60
    await rollups.rebuild(database, client_id=demo.client_id)

    today = now.astimezone(BOGOTA).date()
    first_day, last_day = preset_range(RangePreset.last_30_days, today)
    filters = ReportFilters(client_id=demo.client_id, date_from=first_day, date_to=last_day,
                            timezone="America/Bogota", campaign_id=campaign.id)
    async with database.session() as session:
        seeded = (await session.execute(select(Conversation.opened_at, Conversation.closed_at).where(
            Conversation.campaign_id == campaign.id))).all()
        user = await session.scalar(select(User).where(User.email == SUPERVISOR))
        membership = await session.scalar(select(Membership).where(
            Membership.user_id == user.id, Membership.client_id == demo.client_id))
        summary = await report_service.summary(session, Caller(user=user, memberships={demo.client_id: membership}),
                                               filters, now)

    assert len(seeded) == 60
    for opened, closed in seeded:
        assert filters.start <= _aware(opened) < _aware(closed) <= now, (opened, closed)
    assert summary.current.received == 60
    # The seed spreads over the whole month, not only its recent part.
    assert min(_aware(o) for o, _ in seeded) < filters.start + timedelta(days=5)
