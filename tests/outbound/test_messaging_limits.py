"""Meta's messaging limit over HTTP: set on a WhatsApp channel (one of Meta's tiers), shared by
the numbers of one business portfolio, shown in the review before launching, and the rest of a
send deferred to the next window."""

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import delete

from atiende.campaigns.models import CampaignChannel
from atiende.channels.models import Channel, ChannelKind
from atiende.clock import FakeClock
from atiende.jobs import Worker
from tests.channels.fakes.meta import FakeGraph
from tests.channels.fakes.setup import WHATSAPP_CREDENTIALS, WHATSAPP_SETTINGS, add_channel
from tests.factories import Factory
from tests.outbound.helpers import MAPPING, Center, collections_center, debtors_csv, fake_sleep

PORTFOLIO = "771100223344"


@pytest.fixture
async def center(http: httpx.AsyncClient, factory: Factory, graph: FakeGraph) -> Center:
    return await collections_center(http, factory)


async def _settings(center: Center, channel_id: int, **settings: object) -> httpx.Response:
    return await center.http.patch(f"/api/v1/channels/{channel_id}", headers=center.scenario.admin.headers,
                                   json={"kind": "whatsapp", "settings": {**WHATSAPP_SETTINGS, **settings}})


async def test_the_limit_is_one_of_metas_tiers_and_the_rate_at_most_1000(center: Center) -> None:
    for field, value in (("daily_recipient_limit", 300), ("max_messages_per_second", 2000),
                         ("max_messages_per_second", 0), ("business_portfolio_id", "abc")):
        response = await _settings(center, center.channel_id, **{field: value})
        assert response.status_code == 422, (field, response.text)
        assert response.json()["field"] == f"settings.{field}"
    response = await _settings(center, center.channel_id, daily_recipient_limit=250, max_messages_per_second=200,
                               business_portfolio_id=PORTFOLIO)
    assert response.status_code == 200, response.text
    settings = response.json()["settings"]
    assert (settings["daily_recipient_limit"], settings["max_messages_per_second"],
            settings["business_portfolio_id"]) == (250, 200, PORTFOLIO)
    send = await center.create()
    response = await center.put(send["id"], "programme", {"rate_per_second": 201})
    assert response.status_code == 422 and response.json()["field"] == "rate_per_second"


async def _draft(center: Center, count: int, first: int = 0) -> int:
    send = await center.create()
    lines = debtors_csv(count + first).decode().splitlines()
    content = ("\n".join([lines[0], *lines[1 + first:]]) + "\n").encode()
    assert (await center.upload(send["id"], content)).status_code == 200
    response = await center.put(send["id"], "message", {"template_name": "recordatorio_pago", "language": "es",
                                                        "mapping": MAPPING})
    assert response.status_code == 200, response.text
    return int(send["id"])


async def _switch_number(center: Center, portfolio: str) -> int:
    """The campaign moves to a second number of the client (another portfolio, or the same)."""
    settings = {**WHATSAPP_SETTINGS, "phone_number_id": "109900000002", "business_portfolio_id": portfolio}
    second = await add_channel(center.scenario, ChannelKind.whatsapp, credentials=WHATSAPP_CREDENTIALS,
                               settings=settings, linked=True, name="Cobranza 2")
    async with center.scenario.database.session() as session:
        await session.execute(delete(CampaignChannel).where(CampaignChannel.channel_id == center.channel_id))
    await center.template(channel_id=second)
    return second


@pytest.mark.parametrize("shared", [True, False], ids=["same-portfolio", "other-portfolio"])
async def test_numbers_of_one_portfolio_share_the_daily_limit(
        center: Center, graph: FakeGraph, worker: Worker, clock: FakeClock, shared: bool) -> None:
    async with center.scenario.database.session() as session:
        channel = await session.get(Channel, center.channel_id)
        assert channel is not None
        channel.settings = {**channel.settings, "daily_recipient_limit": 3, "business_portfolio_id": PORTFOLIO}
    first = await _draft(center, 2)
    assert (await center.read(first))["review"] == {"will_send": 2, "opted_out": 0, "deferred": 0}
    assert (await center.action(first, "launch")).status_code == 200
    with fake_sleep(worker, clock):
        await worker.run_due()
    assert len(graph.sent()) == 2

    await _switch_number(center, PORTFOLIO if shared else "881100223344")
    second = await _draft(center, 2, first=2)  # two other debtors, on the second number
    review = (await center.read(second))["review"]
    assert review == ({"will_send": 1, "opted_out": 0, "deferred": 1} if shared
                      else {"will_send": 2, "opted_out": 0, "deferred": 0})
    assert (await center.action(second, "launch")).status_code == 200
    with fake_sleep(worker, clock):
        await worker.run_due()
        send = await center.read(second)
        if shared:  # the portfolio reached 3 people today: the fourth waits, it is not dropped
            assert len(graph.sent()) == 3 and send["status"] == "sending"
            assert "Límite diario del canal alcanzado (3)" in send["note"]
            await center.scenario.travel(clock.now() + timedelta(hours=24, seconds=1))
            await worker.run_due()
    assert len(graph.sent()) == 4 and (await center.read(second))["status"] == "completed"


async def test_the_review_counts_who_opted_out_before_launching(center: Center) -> None:
    send_id = await _draft(center, 3)
    recipients = await center.recipients(send_id)
    response = await center.http.put(f"/api/v1/contacts/{recipients[1]['contact_id']}/consent/whatsapp",
                                     headers=center.headers, json={"opted_out": True})
    assert response.status_code == 200, response.text
    assert (await center.read(send_id))["review"] == {"will_send": 2, "opted_out": 1, "deferred": 0}
