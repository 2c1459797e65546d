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
