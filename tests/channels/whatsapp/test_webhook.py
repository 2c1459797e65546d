"""Meta's webhook: the verification handshake, signed deliveries stored once, and bad input."""

import json
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from atiende.channels.models import ChannelKind
from atiende.channels.whatsapp.signature import sign
from atiende.conversations.models import Contact, Conversation, Message
from tests.channels.fakes.data import load, raw
from tests.channels.fakes.meta import FakeGraph
from tests.channels.fakes.setup import APP_SECRET, VERIFY_TOKEN, WHATSAPP_CREDENTIALS, add_channel, whatsapp_center
from tests.conversations.scenario import Scenario
from tests.factories import Factory


async def deliver(http: httpx.AsyncClient, channel_id: int, body: bytes | dict[str, Any], *,
                  secret: str = APP_SECRET, signature: str | None = None) -> httpx.Response:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Content-Type": "application/json",
               "X-Hub-Signature-256": signature if signature is not None else sign(data, secret)}
    return await http.post(f"/webhooks/whatsapp/{channel_id}", content=data, headers=headers)


@pytest.fixture
async def center(http: httpx.AsyncClient, factory: Factory, graph: FakeGraph) -> tuple[Scenario, int]:
    scenario, channel_id = await whatsapp_center(http, factory)
    await scenario.hire(1)
    return scenario, channel_id


async def stored(scenario: Scenario) -> list[Message]:
    async with scenario.database.session() as session:
        return list((await session.scalars(select(Message).join(Conversation).where(
            Conversation.client_id == scenario.client_id).order_by(Message.id))).all())


# --- verification handshake ---------------------------------------------------------------------

async def test_meta_verifies_the_callback_url_with_the_channels_verify_token(
        http: httpx.AsyncClient, center: tuple[Scenario, int]) -> None:
    _, channel_id = center
    response = await http.get(f"/webhooks/whatsapp/{channel_id}", params={
        "hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"})
    assert response.status_code == 200
    assert response.text == "1158201444"
    assert response.headers["content-type"].startswith("text/plain")


@pytest.mark.parametrize("params", [
    {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
    {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"},
    {"hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"},
    {"hub.mode": "subscribe", "hub.challenge": "1"},
])
async def test_a_wrong_verification_is_refused(http: httpx.AsyncClient, center: tuple[Scenario, int],
                                               params: dict[str, str]) -> None:
    _, channel_id = center
    response = await http.get(f"/webhooks/whatsapp/{channel_id}", params=params)
    assert response.status_code == 403
    assert response.json()["field"] == "hub.verify_token"


async def test_verifying_an_unknown_channel_is_not_found(http: httpx.AsyncClient, center: tuple[Scenario, int]) -> None:
    scenario, channel_id = center
    for other in (channel_id + 1000, scenario.channel_id):  # no such channel; an API channel
        response = await http.get(f"/webhooks/whatsapp/{other}", params={
            "hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"})
        assert response.status_code == 404


# --- deliveries ---------------------------------------------------------------------------------

async def test_a_customers_message_opens_a_conversation_and_reaches_an_agent(
        http: httpx.AsyncClient, center: tuple[Scenario, int]) -> None:
    scenario, channel_id = center
    response = await deliver(http, channel_id, raw("whatsapp_text.json"))
    assert response.status_code == 200
    assert response.json() == {"stored": 1, "duplicates": 0, "statuses": 0, "ignored": 0}
    (conversation,) = await scenario.conversations()
    assert conversation.channel_id == channel_id
    assert conversation.status == "assigned" and conversation.assigned_membership_id == scenario.agents[0].membership_id
    assert conversation.contact.name == "Sheena Nelson" and conversation.contact.phone == "+16505551234"
    (message,) = await stored(scenario)
    assert message.text == "Does it come in another color?"
    assert message.external_id == "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA="


async def test_meta_delivering_the_same_message_again_stores_it_once(
        http: httpx.AsyncClient, center: tuple[Scenario, int]) -> None:
    scenario, channel_id = center
    first = await deliver(http, channel_id, raw("whatsapp_text.json"))
    again = await deliver(http, channel_id, raw("whatsapp_text.json"))
    assert first.status_code == again.status_code == 200
    assert again.json()["duplicates"] == 1 and again.json()["stored"] == 0
    assert len(await stored(scenario)) == 1


async def test_every_message_of_every_entry_and_change_is_stored(
        http: httpx.AsyncClient, center: tuple[Scenario, int]) -> None:
    scenario, channel_id = center
    response = await deliver(http, channel_id, raw("whatsapp_batch.json"))
    assert response.json()["stored"] == 3
    assert sorted(m.text for m in await stored(scenario)) == ["primero", "segundo", "tercero"]
    conversations = await scenario.conversations()
    assert sorted(c.contact.name for c in conversations) == ["Kerry Fisher", "Sheena Nelson"]


async def test_a_user_known_only_by_business_scoped_id_is_a_contact_without_phone(
        http: httpx.AsyncClient, center: tuple[Scenario, int]) -> None:
    scenario, channel_id = center
    await deliver(http, channel_id, raw("whatsapp_bsuid.json"))
    (conversation,) = await scenario.conversations()
    assert conversation.contact.phone is None
    assert conversation.contact.external_id_on(channel_id) == "US.13491208655302741918"


# --- bad input ------------------------------------------------------------------------------------

@pytest.mark.parametrize("signature", [
    "", "sha256=", "sha1=abc", "sha256=" + "0" * 64, sign(raw("whatsapp_text.json"), "another-app-secret"),
])
async def test_an_unsigned_or_wrongly_signed_delivery_is_refused_and_nothing_is_stored(
        http: httpx.AsyncClient, center: tuple[Scenario, int], signature: str) -> None:
    scenario, channel_id = center
    response = await deliver(http, channel_id, raw("whatsapp_text.json"), signature=signature)
    assert response.status_code == 401
    assert response.json()["field"] == "X-Hub-Signature-256"
    assert await stored(scenario) == [] and await scenario.conversations() == []


async def test_a_delivery_without_the_signature_header_is_refused(
        http: httpx.AsyncClient, center: tuple[Scenario, int]) -> None:
    scenario, channel_id = center
    response = await http.post(f"/webhooks/whatsapp/{channel_id}", content=raw("whatsapp_text.json"))
    assert response.status_code == 401
    assert await stored(scenario) == []


async def test_a_truncated_body_fails_its_signature_and_a_signed_truncated_body_is_bad_json(
        http: httpx.AsyncClient, center: tuple[Scenario, int]) -> None:
    scenario, channel_id = center
    body = raw("whatsapp_text.json")
    cut = body[: len(body) // 2]
    assert (await deliver(http, channel_id, cut, signature=sign(body, APP_SECRET))).status_code == 401
    response = await deliver(http, channel_id, cut)
    assert response.status_code == 400 and response.json()["field"] == "body"
    assert await stored(scenario) == []


@pytest.mark.parametrize("body", [b"[]", b"{}", b'{"object": "page", "entry": []}', b"null", b"\xff\xfe"])
async def test_a_signed_body_that_is_not_a_whatsapp_webhook_is_a_bad_request(
        http: httpx.AsyncClient, center: tuple[Scenario, int], body: bytes) -> None:
    scenario, channel_id = center
    response = await deliver(http, channel_id, body)
    assert response.status_code == 400
    assert await stored(scenario) == []


async def test_a_3_mb_body_is_refused_before_it_is_read(http: httpx.AsyncClient, center: tuple[Scenario, int]) -> None:
    scenario, channel_id = center
    body = load("whatsapp_text.json")
    body["padding"] = "x" * (3 * 1024 * 1024)
    response = await deliver(http, channel_id, body)
    assert response.status_code == 413
    assert await stored(scenario) == []


async def test_unknown_or_inactive_channels_are_not_found(http: httpx.AsyncClient, center: tuple[Scenario, int]) -> None:
    scenario, channel_id = center
    assert (await deliver(http, channel_id + 1000, raw("whatsapp_text.json"))).status_code == 404
    assert (await deliver(http, scenario.channel_id, raw("whatsapp_text.json"))).status_code == 404  # an API channel
    response = await http.post("/webhooks/whatsapp/0", content=b"{}")
    assert response.status_code == 422
    assert await stored(scenario) == []


async def test_items_for_a_number_the_channel_does_not_serve_are_acknowledged_and_ignored(
        http: httpx.AsyncClient, center: tuple[Scenario, int]) -> None:
    """Meta retries anything but 2xx for days, and such an item can never be stored here: 200."""
    scenario, channel_id = center
    body = load("whatsapp_text.json")
    body["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = "999999999999999"
    response = await deliver(http, channel_id, body)
    assert response.status_code == 200 and response.json()["ignored"] == 1
    assert await stored(scenario) == []


async def test_items_for_a_sibling_number_of_the_same_app_reach_that_channel(
        http: httpx.AsyncClient, center: tuple[Scenario, int]) -> None:
    scenario, channel_id = center
    sibling = await add_channel(scenario, ChannelKind.whatsapp, credentials=WHATSAPP_CREDENTIALS,
                                settings={"phone_number_id": "222222222222222"}, name="Ventas")
    body = load("whatsapp_text.json")
    body["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = "222222222222222"
    response = await deliver(http, channel_id, body)
    assert response.json()["stored"] == 1
    (conversation,) = await scenario.conversations()
    assert conversation.channel_id == sibling


async def test_a_delivery_to_a_channel_without_an_active_campaign_is_retried_by_meta(
        http: httpx.AsyncClient, center: tuple[Scenario, int]) -> None:
    """Not 2xx: Meta keeps the message and delivers it again once a campaign serves the channel."""
    scenario, channel_id = center
    await scenario.update_campaign(active=False)
    response = await deliver(http, channel_id, raw("whatsapp_text.json"))
    assert response.status_code == 409
    assert await stored(scenario) == []
    await scenario.update_campaign(active=True)
    assert (await deliver(http, channel_id, raw("whatsapp_text.json"))).json()["stored"] == 1


async def test_a_phone_meta_sends_that_is_not_valid_does_not_lose_the_message(
        http: httpx.AsyncClient, center: tuple[Scenario, int]) -> None:
    scenario, channel_id = center
    body = load("whatsapp_text.json")
    value = body["entry"][0]["changes"][0]["value"]
    value["contacts"][0]["wa_id"] = value["messages"][0]["from"] = "1234567"
    assert (await deliver(http, channel_id, body)).json()["stored"] == 1
    async with scenario.database.session() as session:
        contact = await session.scalar(select(Contact).where(Contact.client_id == scenario.client_id))
    assert contact is not None and contact.phone is None
