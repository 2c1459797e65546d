"""One inbound pipeline for every channel: the API channel, WhatsApp, Telegram and the web chat
each verify and parse their request, store it as a delivery (``conversations.intake``), and the
router routes it. So each rule here holds, and is tested, for every kind of channel: a redelivery
is stored once, messages of one conversation keep their order, a transient failure is retried with
backoff and a lasting one fails the delivery with its payload kept, a channel without a campaign
stores nothing, a body that is not JSON or nests too deep is refused (never a 500), and a lone
surrogate is cleaned at the edge instead of failing the insert.

The web process here leaves routing to workers (``inbound_routing=worker``) so deliveries wait
until the test runs the router. The web chat is the exception the visitor needs: its send routes
its own message at once and answers with it."""

import itertools
import json
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, select

from atiende.campaigns.models import CampaignChannel
from atiende.channels.api_channel import sign as sign_api
from atiende.channels.models import ChannelKind
from atiende.channels.telegram.secret import webhook_secret
from atiende.channels.whatsapp.signature import sign as sign_whatsapp
from atiende.conversations import intake
from atiende.conversations.intake import InboundRouter
from atiende.conversations.models import Contact, Conversation, DeliveryState, InboundDelivery, Message
from atiende.errors import Conflict
from atiende.settings import Settings
from tests.channels.fakes.meta import PHONE_NUMBER_ID
from tests.channels.fakes.setup import WHATSAPP_CREDENTIALS, WHATSAPP_SETTINGS, add_channel
from tests.channels.fakes.telegram import BOT_TOKEN
from tests.conversations.scenario import SECRET, Scenario, build
from tests.factories import Factory

SITE = "https://tienda.example.com"
_numbers = itertools.count(1000)


class Channel:
    """One kind of channel as its provider (or the visitor's browser) talks to it."""

    kind: ChannelKind
    routes_at_once = False  # the web chat routes its visitor's message before answering

    def __init__(self, http: httpx.AsyncClient, settings: Settings, scenario: Scenario, channel_id: int) -> None:
        self.http, self.settings, self.scenario, self.channel_id = http, settings, scenario, channel_id

    async def write(self, text: str, *, contact: str = "c-1", name: str = "Ana", number: int | None = None,
                    ) -> httpx.Response:
        """The contact writes message ``number`` (the same number again: the provider redelivers)."""
        return await self.post(self.body(text, contact=contact, name=name, number=number or next(_numbers)))

    def body(self, text: str, *, contact: str, name: str, number: int) -> bytes:
        raise NotImplementedError

    async def post(self, raw: bytes) -> httpx.Response:
        raise NotImplementedError


class Api(Channel):
    kind = ChannelKind.api

    def body(self, text: str, *, contact: str, name: str, number: int) -> bytes:
        return json.dumps({"external_id": f"m-{number}", "contact": {"external_id": contact, "name": name},
                           "text": text}).encode()

    async def post(self, raw: bytes) -> httpx.Response:
        return await self.http.post(f"/api/v1/channels/{self.channel_id}/inbound", content=raw, headers={
            "Content-Type": "application/json", "X-Atiende-Signature": sign_api(SECRET, raw)})


class WhatsApp(Channel):
    kind = ChannelKind.whatsapp

    def body(self, text: str, *, contact: str, name: str, number: int) -> bytes:
        wa_id = f"57300{abs(hash(contact)) % 10_000_000:07d}"
        value = {"messaging_product": "whatsapp",
                 "metadata": {"display_phone_number": "15550783881", "phone_number_id": PHONE_NUMBER_ID},
                 "contacts": [{"profile": {"name": name}, "wa_id": wa_id}],
                 "messages": [{"from": wa_id, "id": f"wamid.{number}", "timestamp": "1749416383", "type": "text",
                               "text": {"body": text}}]}
        return json.dumps({"object": "whatsapp_business_account",
                           "entry": [{"id": "102290129340398", "changes": [{"value": value, "field": "messages"}]}]},
                          ).encode()

    async def post(self, raw: bytes) -> httpx.Response:
        return await self.http.post(f"/webhooks/whatsapp/{self.channel_id}", content=raw, headers={
            "Content-Type": "application/json",
            "X-Hub-Signature-256": sign_whatsapp(raw, WHATSAPP_CREDENTIALS["app_secret"])})


class Telegram(Channel):
    kind = ChannelKind.telegram

    def body(self, text: str, *, contact: str, name: str, number: int) -> bytes:
        chat = 7_000_000 + abs(hash(contact)) % 1_000_000
        return json.dumps({"update_id": number, "message": {
            "message_id": number, "date": 1749416383, "chat": {"id": chat, "type": "private"},
            "from": {"id": chat, "is_bot": False, "first_name": name}, "text": text}}).encode()

    async def post(self, raw: bytes) -> httpx.Response:
        secret = webhook_secret(self.settings.secret_key, self.channel_id, BOT_TOKEN)
        return await self.http.post(f"/webhooks/telegram/{self.channel_id}", content=raw, headers={
            "Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": secret})


class Webchat(Channel):
    kind = ChannelKind.webchat
    routes_at_once = True

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.tokens: dict[str, str] = {}

    async def write(self, text: str, *, contact: str = "c-1", name: str = "Ana", number: int | None = None,
                    ) -> httpx.Response:
        if contact not in self.tokens:
            started = await self.http.post(f"/api/v1/widget/{self.channel_id}/session", json={"name": name},
                                           headers={"Origin": SITE})
            assert started.status_code == 200, started.text
            self.tokens[contact] = started.json()["visitor_token"]
        self.visitor = contact
        return await super().write(text, contact=contact, name=name, number=number)

    def body(self, text: str, *, contact: str, name: str, number: int) -> bytes:
        return json.dumps({"client_message_id": f"msg-{number:08d}", "text": text}).encode()

    async def post(self, raw: bytes) -> httpx.Response:
        token = self.tokens[getattr(self, "visitor", "c-1")] if self.tokens else ""
        return await self.http.post(f"/api/v1/widget/{self.channel_id}/messages", content=raw, headers={
            "Content-Type": "application/json", "Origin": SITE, "Authorization": f"Bearer {token}"})


KINDS: dict[str, type[Channel]] = {"api": Api, "whatsapp": WhatsApp, "telegram": Telegram, "webchat": Webchat}


@pytest.fixture(params=list(KINDS))
async def channel(request: pytest.FixtureRequest, http: httpx.AsyncClient, factory: Factory, settings: Settings,
                  monkeypatch: pytest.MonkeyPatch, app) -> Channel:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(app.state.settings, "inbound_routing", "worker")
    scenario = await build(http, factory)
    await scenario.hire(1)
    cls = KINDS[request.param]
    if cls is Api:
        channel_id = scenario.channel_id
    else:
        async with scenario.database.session() as session:  # this campaign's only channel
            await session.execute(delete(CampaignChannel).where(CampaignChannel.channel_id == scenario.channel_id))
        options: dict[str, dict[str, Any]] = {
            "whatsapp": {"credentials": WHATSAPP_CREDENTIALS, "settings": WHATSAPP_SETTINGS},
            "telegram": {"credentials": {"bot_token": BOT_TOKEN}},
            "webchat": {"settings": {"allowed_origins": [SITE]}}}[request.param]
        channel_id = await add_channel(scenario, cls.kind, **options)
    return cls(http, settings, scenario, channel_id)


@pytest.fixture
def router(app) -> InboundRouter:  # type: ignore[no-untyped-def]
    return app.state.inbound_router


async def deliveries(channel: Channel) -> list[InboundDelivery]:
    async with channel.scenario.database.session() as session:
        return list((await session.scalars(select(InboundDelivery).where(
            InboundDelivery.channel_id == channel.channel_id).order_by(InboundDelivery.id))).all())


async def messages(channel: Channel) -> list[Message]:
    async with channel.scenario.database.session() as session:
        return list((await session.scalars(select(Message).where(
            Message.channel_id == channel.channel_id).order_by(Message.id))).all())


def accepted(response: httpx.Response) -> None:
    assert response.status_code in (200, 201), response.text


async def test_a_message_is_stored_as_a_delivery_and_the_router_makes_it_an_assigned_conversation(
        channel: Channel, router: InboundRouter) -> None:
    accepted(await channel.write("Hola, necesito ayuda"))
    [row] = await deliveries(channel)
    if not channel.routes_at_once:
        assert row.state == DeliveryState.pending and await messages(channel) == []
        await router.route_pending()
        [row] = await deliveries(channel)
    assert row.state == DeliveryState.routed
    [message] = await messages(channel)
    assert (message.id, message.conversation_id, message.text) == (row.message_id, row.conversation_id,
                                                                  "Hola, necesito ayuda")
    detail = await channel.scenario.detail(message.conversation_id)
    assert detail["status"] == "assigned"
    assert detail["assigned_membership_id"] == channel.scenario.agents[0].membership_id


async def test_a_redelivered_message_is_stored_once(channel: Channel, router: InboundRouter) -> None:
    first = await channel.write("Hola", number=4242)
    await router.route_pending()
    again = await channel.write("Hola", number=4242)
    accepted(first)
    accepted(again)
    assert len(await deliveries(channel)) == 1 and len(await messages(channel)) == 1
    answer = again.json()
    duplicate = answer.get("duplicate", answer.get("duplicates"))
    assert duplicate in (True, 1)


async def test_messages_of_one_conversation_keep_their_order(channel: Channel, router: InboundRouter) -> None:
    for text in ("uno", "dos", "tres"):
        accepted(await channel.write(text, contact="lola"))
    accepted(await channel.write("otra persona", contact="mario", name="Mario"))
    await router.route_pending()
    stored = await messages(channel)
    by_conversation: dict[int, list[str]] = {}
    for message in stored:
        by_conversation.setdefault(message.conversation_id, []).append(message.text)
    assert sorted(by_conversation.values()) == [["otra persona"], ["uno", "dos", "tres"]]


async def test_a_transient_failure_is_retried_with_backoff(channel: Channel, router: InboundRouter, clock,  # type: ignore[no-untyped-def]
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    real = intake.route_many
    failures = iter([ConnectionResetError("database went away")] * 2)  # the batch, then its own retry

    async def flaky(*args: Any, **kwargs: Any) -> Any:
        error = next(failures, None)
        if error is not None:
            raise error
        return await real(*args, **kwargs)

    monkeypatch.setattr(intake, "route_many", flaky)
    first = await channel.write("Hola", number=5151)
    await router.route_pending()
    [row] = await deliveries(channel)
    assert (row.state, row.attempts) == (DeliveryState.pending, 1)
    assert "database went away" in (row.last_error or "") and row.due_at > clock.now()
    if channel.routes_at_once:  # the visitor is told it waits (and may send it again)
        assert first.status_code == 503 and first.json()["code"] == "inbound.delivery_waits"
    else:
        accepted(first)

    clock.advance(minutes=5)
    await router.route_pending()
    [row] = await deliveries(channel)
    assert (row.state, row.attempts, row.last_error) == (DeliveryState.routed, 2, None)
    [message] = await messages(channel)
    assert message.id == row.message_id
    if channel.routes_at_once:
        again = await channel.write("Hola", number=5151)
        assert again.status_code == 201 and again.json()["message"]["id"] == message.id


async def test_a_lasting_failure_fails_the_delivery_and_keeps_its_payload(
        channel: Channel, router: InboundRouter, monkeypatch: pytest.MonkeyPatch) -> None:
    async def refuse(*_args: Any, **_kwargs: Any) -> Any:
        raise Conflict("The campaign was closed meanwhile")

    monkeypatch.setattr(intake, "route_many", refuse)
    response = await channel.write("¿Siguen ahí?")
    await router.route_pending()
    [row] = await deliveries(channel)
    assert row.state == DeliveryState.failed and "closed meanwhile" in (row.last_error or "")
    assert row.payload["text"] == "¿Siguen ahí?"
    assert await messages(channel) == []
    if channel.routes_at_once:
        assert response.status_code == 409 and response.json()["code"] == "inbound.delivery_failed"
    else:
        accepted(response)


async def test_a_channel_serving_no_campaign_stores_nothing(channel: Channel) -> None:
    async with channel.scenario.database.session() as session:
        await session.execute(delete(CampaignChannel).where(CampaignChannel.channel_id == channel.channel_id))
    response = await channel.write("Hola")
    assert response.status_code == 409 and response.json()["field"] == "channel_id"
    assert await deliveries(channel) == []


@pytest.mark.parametrize("raw", [b'{"external_id": "x-1", "contact": ', b"[" * 100_000, b"{\"a\":" * 50_000],
                         ids=["broken", "deep-arrays", "deep-objects"])
async def test_a_body_that_is_not_json_or_nests_too_deep_is_refused_not_a_500(channel: Channel, raw: bytes) -> None:
    if channel.routes_at_once:
        await channel.write("Hola")  # a visitor with a session
    response = await channel.post(raw)
    if channel.routes_at_once:  # a JSON API like every other: FastAPI's own refusals
        assert response.status_code in (400, 422)
    else:
        assert response.status_code == 400
        assert response.json()["field"] == "body" and response.json()["code"] == "inbound.unreadable_body"
    assert len(await deliveries(channel)) == int(channel.routes_at_once)


async def test_a_lone_surrogate_or_nul_is_cleaned_at_the_edge(channel: Channel, router: InboundRouter) -> None:
    raw = channel.body("SURROGATE", contact="nora", name="NAME", number=next(_numbers))
    raw = raw.replace(b"SURROGATE", b"a\\ud800b\\u0000c").replace(b"NAME", b"\\udc00X")
    if channel.routes_at_once:
        await channel.write("Hola", contact="nora")
    response = await channel.post(raw)
    accepted(response)
    await router.route_pending()
    stored = await messages(channel)
    assert stored[-1].text == "a\ufffdb\ufffdc"
    if not channel.routes_at_once:  # the widget takes no name with a message
        async with channel.scenario.database.session() as session:
            contact = await session.scalar(select(Contact).join(Conversation, Conversation.contact_id == Contact.id)
                                           .where(Conversation.id == stored[-1].conversation_id))
        assert contact is not None and contact.name == "\ufffdX"
