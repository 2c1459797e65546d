"""Routing: a channel's message goes to the channel's active campaign; the contact is found or
created per client (phone in E.164); a contact has at most one open conversation per campaign."""

import httpx

from atiende.campaigns.models import CampaignChannel
from atiende.channels.models import Channel, ChannelKind
from atiende.conversations.models import Contact, ContactIdentity
from tests.conversations.scenario import SECRET, build
from tests.factories import Factory


async def test_new_messages_join_the_open_conversation_and_a_closed_one_is_not_reopened(
        http: httpx.AsyncClient, factory: Factory) -> None:
    sc = await build(http, factory, permissions={"close_without_reply": True})
    [ana] = await sc.hire(1)
    first = await sc.write("Hola", contact="c-1")
    second = await sc.write("¿Me ayudan?", contact="c-1")
    assert first["conversation_id"] == second["conversation_id"]
    assert await sc.close(ana, first["conversation_id"])
    third = await sc.write("Otra consulta", contact="c-1")
    assert third["conversation_id"] != first["conversation_id"]
    assert await sc.count(Contact) == 1


async def test_a_contact_writing_on_a_second_channel_is_recognised_by_phone(http: httpx.AsyncClient,
                                                                           factory: Factory) -> None:
    sc = await build(http, factory)
    await sc.hire(1)
    async with sc.database.session() as session:
        second = Channel(client_id=sc.client_id, kind=ChannelKind.api, name="Portal", credentials={"secret": SECRET},
                         settings={})
        session.add(second)
        await session.flush()
        session.add(CampaignChannel(campaign_id=sc.campaign_id, channel_id=second.id))
        second_id = second.id
    first = await sc.write("Hola", contact="crm-1", phone="+57 300 111 2233")
    response = await sc.post_inbound({"external_id": "p-1", "contact": {"external_id": "portal-9",
                                                                        "phone": "+573001112233"},
                                       "text": "Soy yo otra vez"}, channel_id=second_id)
    assert response.status_code == 200
    assert (await sc.routed(response.json()["delivery_id"]))["conversation_id"] == first["conversation_id"]
    assert await sc.count(Contact) == 1
    assert await sc.count(ContactIdentity) == 2


async def test_contacts_belong_to_their_client(http: httpx.AsyncClient, factory: Factory) -> None:
    one = await build(http, factory)
    two = await build(http, factory)
    a = await one.write("Hola", contact="same-id", phone="+573001112233")
    b = await two.write("Hola", contact="same-id", phone="+573001112233")
    assert a["conversation_id"] != b["conversation_id"]
    assert await one.count(Contact) == 2


async def test_a_contact_without_a_phone_is_fine(http: httpx.AsyncClient, factory: Factory) -> None:
    sc = await build(http, factory)
    conversation_id = (await sc.write("Hola desde la web", contact="visitor-42", name=""))["conversation_id"]
    contact = (await sc.detail(conversation_id))["contact"]
    assert (contact["phone"], contact["name"]) == (None, "")


async def test_the_contact_keeps_the_latest_name_and_gets_a_phone_once_known(http: httpx.AsyncClient,
                                                                            factory: Factory) -> None:
    sc = await build(http, factory)
    conversation_id = (await sc.write("Hola", contact="c-1", name="Ana"))["conversation_id"]
    await sc.write("Hola", contact="c-1", name="Ana María", phone="+525512345678")
    contact = (await sc.detail(conversation_id))["contact"]
    assert (contact["name"], contact["phone"]) == ("Ana María", "+525512345678")


async def test_attachments_and_the_provider_timestamp_are_kept(http: httpx.AsyncClient, factory: Factory) -> None:
    sc = await build(http, factory)
    photo = {"kind": "image", "url": "https://cdn.example/f.jpg", "mime_type": "image/jpeg", "name": "f.jpg",
             "size": 2048}
    conversation_id = (await sc.write("Mire la foto", attachments=[photo],
                                      timestamp="2026-01-05T11:59:58-05:00"))["conversation_id"]
    [message] = await sc.messages(conversation_id)
    assert message.attachments == [photo]
    assert message.provider_at.isoformat() == "2026-01-05T16:59:58+00:00"
    bad = await sc.post_inbound({"external_id": "x", "contact": {"external_id": "c"},
                                 "attachments": [{"kind": "image", "url": "javascript:alert(1)"}]})
    assert bad.status_code == 422 and bad.json()["field"] == "attachments.0.url"
