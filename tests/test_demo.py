"""The demo data, the demo's customer page and its stand-in receiver for the API channel; those
pages exist only in ``atiende demo`` (issue 13.8)."""

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from atiende.app import create_app

from atiende.channels.api_channel import sign
from atiende.channels.models import Channel, ChannelKind
from atiende.conversations.models import CampaignAgent
from atiende.db import Database
from atiende.auth.models import User
from atiende.auth.service import auth_service
from atiende.demo import DEMO_API_SECRET, FREE_CHANNEL, seed_demo
from atiende.settings import Settings
from atiende.tenancy.models import Client
from tests.factories import Factory


@pytest.fixture
async def demo_http(settings: Settings, database: Database, clock, bus) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    """The app as ``atiende demo`` builds it (the ``http`` fixture's is that of ``atiende serve``)."""
    app = create_app(settings, clock=clock, database=database, bus=bus, with_ui=False, demo=True)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        yield client


async def test_seeding_twice_reuses_the_data_and_points_the_callback_at_this_server(database: Database) -> None:
    first = await seed_demo(database, base_url="http://127.0.0.1:8000")
    again = await seed_demo(database, base_url="http://127.0.0.1:9001")
    assert first.created and not again.created and first.client_id == again.client_id
    async with database.session() as session:
        api = await session.scalar(select(Channel).where(Channel.kind == ChannelKind.api))
        agents = (await session.scalars(select(CampaignAgent))).all()
    assert api.settings["callback_url"] == "http://127.0.0.1:9001/demo/callback"
    assert len(agents) == 6  # the three demo agents work the demo campaign and the collections one


async def test_the_demo_receiver_accepts_only_signed_deliveries(demo_http: httpx.AsyncClient) -> None:
    raw = json.dumps({"text": "Hola"}).encode()
    ok = await demo_http.post("/demo/callback", content=raw,
                              headers={"X-Atiende-Signature": sign(DEMO_API_SECRET, raw)})
    assert ok.status_code == 200 and ok.json()["external_id"].startswith("demo-")
    bad = await demo_http.post("/demo/callback", content=raw, headers={"X-Atiende-Signature": "sha256=00"})
    assert bad.status_code == 401


async def test_the_demo_site_shows_the_demo_clients_web_chat_only(demo_http: httpx.AsyncClient,
                                                                  factory: Factory, database: Database) -> None:
    client = await factory.client()
    elsewhere = await factory.campaign_channel(client.id)  # type: ignore[attr-defined]  # created first
    demo = await seed_demo(database)
    site = await demo_http.get("/demo/site")
    assert site.status_code == 200
    tag = f'src="/widget.js" data-channel="{demo.webchat_channel_id}" data-lang="es" async></script>'
    assert tag in site.text and f'data-channel="{elsewhere}"' not in site.text  # the tag carries the page's nonce too
    assert 'data-lang="en"' in (await demo_http.get("/demo/site", params={"lang": "en"})).text
    assert (await demo_http.get("/demo/site", params={"lang": "fr"})).status_code == 422
    other = await demo_http.get("/demo/site", params={"channel": elsewhere})
    assert other.status_code == 404 and f'data-channel="{elsewhere}"' not in other.text


async def test_atiende_serve_has_no_demo_pages(http: httpx.AsyncClient, factory: Factory,
                                               database: Database) -> None:
    client = await factory.client()
    channel_id = await factory.campaign_channel(client.id)  # type: ignore[attr-defined]
    await seed_demo(database)
    for path in ("/demo/site", f"/demo/site?channel={channel_id}"):
        answer = await http.get(path)
        assert answer.status_code == 404 and "data-channel" not in answer.text
    raw = json.dumps({"text": "Hola"}).encode()
    signed = await http.post("/demo/callback", content=raw,
                             headers={"X-Atiende-Signature": sign(DEMO_API_SECRET, raw)})
    assert signed.status_code in (404, 405)


async def test_the_demo_web_chat_campaign_has_the_faq_bot_with_fifteen_entries(database: Database) -> None:
    from atiende.bots.flow import knowledge
    from atiende.bots.models import AttentionBot, KnowledgeEntry
    from atiende.campaigns.models import Campaign

    await seed_demo(database)
    async with database.session() as session:
        campaign = await session.scalar(select(Campaign).join(Channel, Channel.client_id == Campaign.client_id)
                                        .where(Channel.kind == ChannelKind.webchat))
        bot = await session.get(AttentionBot, campaign.attention_bot_id)
        entries = (await session.scalars(select(KnowledgeEntry).where(KnowledgeEntry.bot_id == bot.id))).all()
        matcher, _ = await knowledge(session, bot)
    assert bot.name == "Asistente Demo" and len(entries) == 15
    assert [o["label"] for o in bot.menu][-1] == "Hablar con un asesor"
    best = matcher.match("como puedo pagar mi factura?").best
    assert best is not None and best.question == "¿Cómo pago mi factura?"


async def test_the_demo_directory_has_contacts_in_an_agents_cartera(database: Database) -> None:
    from atiende.contacts import consent
    from atiende.conversations.models import Contact

    await seed_demo(database)
    async with database.session() as session:
        known = (await session.scalars(select(Contact).where(Contact.document_id.is_not(None))
                                       .order_by(Contact.id))).all()
        assert [c.name for c in known][:2] == ["Valentina Ríos", "Julián Castro"]
        assert known[0].exclusive_agent_id is not None and known[0].exclusive_agent_id == known[1].exclusive_agent_id
        assert known[0].attributes == {"ciudad": "Bogotá"}
        assert await consent.is_opted_out(session, known[-1].id, "whatsapp")


# --- the demo and the README agree --------------------------------------------------------------

README = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")


async def demo_admin(factory: Factory, client_id: int) -> dict[str, str]:
    async with factory.database.session() as session:
        user = await session.scalar(select(User).where(User.email == "admin@demo.atiende.app"))
        token = await auth_service.issue_token(session, user, clock=factory.clock, settings=factory.settings)
    return {"Authorization": f"Bearer {token}"}


async def test_the_readme_tells_the_demo_campaigns_schedule_and_quick_replies(database: Database) -> None:
    from atiende.campaigns.models import Campaign
    from atiende.catalog.models import Schedule
    from atiende.conversations.canned import CannedReply

    demo = await seed_demo(database)
    async with database.session() as session:
        campaign = await session.scalar(select(Campaign).where(Campaign.client_id == demo.client_id))
        schedules = {s.id: s.name for s in (await session.scalars(
            select(Schedule).where(Schedule.client_id == demo.client_id))).all()}
        shortcuts = set((await session.scalars(select(CannedReply.shortcut).where(
            CannedReply.client_id == demo.client_id, CannedReply.active.is_(True)))).all())
        region = await session.scalar(select(Client.phone_region).where(Client.id == demo.client_id))
    quick_start = README.split("## Quick start")[1].split("## What you see")[0]
    assert f"*{campaign.name}* (schedule *{schedules[campaign.schedule_id]}*" in quick_start
    for name in schedules.values():
        assert f"*{name}*" in quick_start
    advertised = {shortcut for listed in re.findall(r"quick replies \(([^)]*)\)", README)
                  for shortcut in re.findall(r"`/([a-z0-9_-]+)`", listed)}
    assert advertised and advertised <= shortcuts  # every quick reply the README shows works in the demo
    assert region == "CO"  # Demo S.A. is in Bogotá: 300 123 4567 is read as +57 300 123 4567


async def test_the_demo_leaves_a_channel_free_for_a_new_campaign(http: httpx.AsyncClient, factory: Factory) -> None:
    from atiende.campaigns.models import CampaignChannel

    demo = await seed_demo(factory.database)
    async with factory.database.session() as session:
        used = set((await session.scalars(select(CampaignChannel.channel_id))).all())
        free = [c for c in (await session.scalars(select(Channel).where(Channel.client_id == demo.client_id))).all()
                if c.id not in used]
    assert [c.name for c in free] == [FREE_CHANNEL]
    setup = await factory.campaign_setup(demo.client_id)  # type: ignore[attr-defined]
    created = await http.post("/api/v1/campaigns", headers=await demo_admin(factory, demo.client_id),
                              json=setup.body(name="Ventas nuevas",
                                              channels={"configure_later": False, "channel_ids": [free[0].id]}))
    assert created.status_code == 201, created.text


async def test_the_demo_has_a_collections_campaign_on_whatsapp_with_its_own_stand_in_for_meta(
        database: Database, demo_http: httpx.AsyncClient) -> None:
    from atiende.campaigns.models import Campaign, CampaignChannel
    from atiende.channels.whatsapp.models import WhatsAppTemplate
    from atiende.outbound.demo import DEMO_PHONE_NUMBER_ID

    await seed_demo(database)
    await seed_demo(database)  # idempotent
    async with database.session() as session:
        channels = (await session.scalars(select(Channel).where(Channel.kind == ChannelKind.whatsapp))).all()
        campaign = await session.scalar(select(Campaign).join(CampaignChannel).where(
            CampaignChannel.channel_id == channels[0].id))
        template = await session.scalar(select(WhatsAppTemplate).where(WhatsAppTemplate.channel_id == channels[0].id))
    assert len(channels) == 1 and campaign.name == "Recordatorios de pago"
    assert template.name == "recordatorio_pago" and template.status == "APPROVED"
    answer = await demo_http.post(f"/demo/graph/v21.0/{DEMO_PHONE_NUMBER_ID}/messages",
                             json={"messaging_product": "whatsapp", "to": "573001112233", "type": "template",
                                   "template": {"name": "recordatorio_pago", "language": {"code": "es"}}})
    assert answer.status_code == 200 and answer.json()["messages"][0]["id"].startswith("wamid.DEMO")
