"""The demo data and the demo's stand-in receiver for the API channel."""

import json

import httpx
from sqlalchemy import select

from atiende.channels.api_channel import sign
from atiende.channels.models import Channel, ChannelKind
from atiende.conversations.models import CampaignAgent
from atiende.db import Database
from atiende.demo import DEMO_API_SECRET, seed_demo


async def test_seeding_twice_reuses_the_data_and_points_the_callback_at_this_server(database: Database) -> None:
    first = await seed_demo(database, base_url="http://127.0.0.1:8000")
    again = await seed_demo(database, base_url="http://127.0.0.1:9001")
    assert first.created and not again.created and first.client_id == again.client_id
    async with database.session() as session:
        api = await session.scalar(select(Channel).where(Channel.kind == ChannelKind.api))
        agents = (await session.scalars(select(CampaignAgent))).all()
    assert api.settings["callback_url"] == "http://127.0.0.1:9001/demo/callback"
    assert len(agents) == 3  # the three demo agents work the demo campaign


async def test_the_demo_receiver_accepts_only_signed_deliveries(http: httpx.AsyncClient) -> None:
    raw = json.dumps({"text": "Hola"}).encode()
    ok = await http.post("/demo/callback", content=raw, headers={"X-Atiende-Signature": sign(DEMO_API_SECRET, raw)})
    assert ok.status_code == 200 and ok.json()["external_id"].startswith("demo-")
    bad = await http.post("/demo/callback", content=raw, headers={"X-Atiende-Signature": "sha256=00"})
    assert bad.status_code == 401


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
