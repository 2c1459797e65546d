"""A server killed (``kill -9``) while Meta's batches arrive loses none it answered 200: every message
of those batches is stored, and routed once the server is back. Durable acknowledgements are the
default, so this holds for a crash of the machine too; here the process dies mid-stream."""

import asyncio
import itertools
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from atiende.campaigns.models import CampaignChannel
from atiende.channels.models import Channel, ChannelKind
from atiende.channels.whatsapp.signature import sign
from atiende.conversations.models import DeliveryState, InboundDelivery, Message
from atiende.db import Database
from tests.conftest import fresh_database
from tests.live import _seed, start_server, stop_server

pytestmark = pytest.mark.multiprocess
APP_SECRET = "crash-test-app-secret"
PHONE_NUMBER_ID = "555000111"
SENDERS = 6


async def add_whatsapp(url: str, api_channel_id: int) -> int:
    """A WhatsApp channel in the demo's API channel's campaign."""
    database = Database(url)
    try:
        async with database.session() as session:
            api = await session.get(Channel, api_channel_id)
            assert api is not None
            campaign_id = await session.scalar(select(CampaignChannel.campaign_id).where(
                CampaignChannel.channel_id == api_channel_id))
            channel = Channel(client_id=api.client_id, kind=ChannelKind.whatsapp, name="WhatsApp (crash)",
                              credentials={"app_secret": APP_SECRET, "access_token": "x", "verify_token": "v"},
                              settings={"phone_number_id": PHONE_NUMBER_ID}, active=True)
            session.add(channel)
            await session.flush()
            session.add(CampaignChannel(campaign_id=campaign_id, channel_id=channel.id))
            return channel.id
    finally:
        await database.dispose()


def batch(numbers: list[int]) -> bytes:
    """One POST of Meta's: 1–3 messages of different contacts, and a status of a message we never sent."""
    contacts = [{"profile": {"name": f"Cliente {n}"}, "wa_id": f"57301{n % 9_000_000:07d}"} for n in numbers]
    messages = [{"from": c["wa_id"], "id": f"wamid.crash.{n}", "timestamp": "1749416383", "type": "text",
                 "text": {"body": f"mensaje {n}"}} for c, n in zip(contacts, numbers, strict=True)]
    value = {"messaging_product": "whatsapp", "metadata": {"phone_number_id": PHONE_NUMBER_ID},
             "contacts": contacts, "messages": messages,
             "statuses": [{"id": f"wamid.unknown.{numbers[0]}", "status": "delivered", "timestamp": "1749416383"}]}
    return json.dumps({"object": "whatsapp_business_account",
                       "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}]}).encode()


async def post_until_dead(base: str, channel_id: int, kill: Any) -> list[str]:
    """Senders post batches until the server is gone; the wamids of every batch answered 200."""
    answered: list[str] = []
    numbers = itertools.count(1)
    dead = asyncio.Event()

    async def sender(client: httpx.AsyncClient, index: int) -> None:
        while not dead.is_set():
            chunk = [next(numbers) for _ in range(1 + index % 3)]
            raw = batch(chunk)
            try:
                response = await client.post(f"{base}/webhooks/whatsapp/{channel_id}", content=raw, headers={
                    "Content-Type": "application/json", "X-Hub-Signature-256": sign(raw, APP_SECRET)})
            except httpx.TransportError:
                dead.set()
                return
            if response.status_code == 200:
                assert response.json()["stored"] + response.json()["duplicates"] == len(chunk)
                answered.extend(f"wamid.crash.{n}" for n in chunk)
                if len(answered) >= 120 and not dead.is_set():
                    kill()  # mid-stream: the other senders' batches are in flight
            else:
                assert response.status_code >= 500 or response.status_code == 200, response.text

    async with httpx.AsyncClient(timeout=10) as client:
        await asyncio.gather(*(sender(client, i) for i in range(SENDERS)))
    return answered


async def routed(url: str, wamids: list[str], *, seconds: float = 60) -> tuple[set[str], int]:
    """Wait until the messages of ``wamids`` are stored and no delivery is pending."""
    database = Database(url)
    try:
        deadline = asyncio.get_running_loop().time() + seconds
        while True:
            async with database.session() as session:
                stored = set((await session.scalars(select(Message.external_id).where(
                    Message.external_id.in_(wamids)))).all())
                pending = len((await session.scalars(select(InboundDelivery.id).where(
                    InboundDelivery.state != DeliveryState.routed))).all())
            if (stored == set(wamids) and pending == 0) or asyncio.get_running_loop().time() > deadline:
                return stored, pending
            await asyncio.sleep(0.2)
    finally:
        await database.dispose()


def test_every_batch_answered_200_is_stored_and_routed_after_a_kill_9(tmp_path: Path, db_base: str) -> None:
    with fresh_database(tmp_path, db_base) as url:
        demo = asyncio.run(_seed(url))
        channel_id = asyncio.run(add_whatsapp(url, demo.api_channel_id))
        process, base = start_server(url, tmp_path / "first.log")
        try:
            answered = asyncio.run(post_until_dead(base, channel_id, process.kill))
        finally:
            process.kill()
            process.wait(timeout=20)
        assert len(answered) >= 120 and len(set(answered)) == len(answered)

        again, _ = start_server(url, tmp_path / "second.log")
        try:
            stored, pending = asyncio.run(routed(url, answered))
        finally:
            stop_server(again)
        assert stored == set(answered)  # every message answered 200 was stored...
        assert pending == 0  # ...and every delivery routed (none failed, none left waiting)
