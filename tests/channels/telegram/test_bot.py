"""A Telegram bot as a channel: connecting its webhook, updates stored once, replies and files."""

import json
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from atiende.channels.telegram.secret import webhook_secret
from atiende.conversations.models import Conversation, Message
from atiende.jobs import Worker
from atiende.settings import Settings
from tests.channels.fakes.data import load, raw
from tests.channels.fakes.telegram import BOT_TOKEN, FakeTelegram
from tests.channels.fakes.setup import telegram_center
from tests.conversations.scenario import Scenario
from tests.factories import Factory
from tests.media import JPEG, download, upload

OGG = b"OggS\x00\x02" + b"\x01" * 300


@pytest.fixture
async def center(http: httpx.AsyncClient, factory: Factory, telegram: FakeTelegram) -> tuple[Scenario, int]:
    scenario, channel_id = await telegram_center(http, factory, permissions={"external_resources": True})
    await scenario.hire(1)
    return scenario, channel_id


def secret(settings: Settings, channel_id: int) -> str:
    return webhook_secret(settings.secret_key, channel_id, BOT_TOKEN)


async def deliver(http: httpx.AsyncClient, settings: Settings, channel_id: int, body: bytes | dict[str, Any], *,
                  token: str | None = None) -> httpx.Response:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Content-Type": "application/json",
               "X-Telegram-Bot-Api-Secret-Token": secret(settings, channel_id) if token is None else token}
    return await http.post(f"/webhooks/telegram/{channel_id}", content=data, headers=headers)


async def stored(scenario: Scenario) -> list[Message]:
    async with scenario.database.session() as session:
        return list((await session.scalars(select(Message).join(Conversation).where(
            Conversation.client_id == scenario.client_id).order_by(Message.id))).all())


@pytest.fixture
def public(settings: Settings):  # type: ignore[no-untyped-def]
    previous, settings.public_url = settings.public_url, "https://atiende.example.com"
    yield settings.public_url
    settings.public_url = previous


async def test_connecting_the_bot_sets_its_webhook_with_a_secret_token(
        http: httpx.AsyncClient, center: tuple[Scenario, int], telegram: FakeTelegram, settings: Settings,
        public: str) -> None:
    scenario, channel_id = center
    response = await http.post(f"/api/v1/channels/{channel_id}/telegram/connect", headers=scenario.admin.headers)
    assert response.status_code == 200, response.text
    assert response.json() == {"webhook_url": f"https://atiende.example.com/webhooks/telegram/{channel_id}"}
    (call,) = telegram.calls
    assert call.method == "setWebhook"
    assert call.params == {"url": f"https://atiende.example.com/webhooks/telegram/{channel_id}",
                           "secret_token": secret(settings, channel_id), "allowed_updates": ["message"],
                           "drop_pending_updates": False}


async def test_connecting_needs_a_public_https_address_an_admin_and_a_valid_token(
        http: httpx.AsyncClient, center: tuple[Scenario, int], telegram: FakeTelegram, settings: Settings,
        other_tenant) -> None:  # type: ignore[no-untyped-def]
    scenario, channel_id = center
    url = f"/api/v1/channels/{channel_id}/telegram/connect"
    response = await http.post(url, headers=scenario.admin.headers)
    assert response.status_code == 422 and response.json()["field"] == "public_url"
    settings.public_url = "https://atiende.example.com"
    try:
        assert (await http.post(url, headers=scenario.supervisor.headers)).status_code == 403
        assert (await http.post(url, headers=other_tenant.admin.headers)).status_code == 404
        telegram.fail_next(401, "Unauthorized")
        refused = await http.post(url, headers=scenario.admin.headers)
        assert refused.status_code == 502 and "Telegram 401: Unauthorized" in refused.json()["detail"]
    finally:
        settings.public_url = ""


async def test_saving_a_channel_registers_the_webhook_as_a_durable_job(
        http: httpx.AsyncClient, center: tuple[Scenario, int], telegram: FakeTelegram, worker: Worker,
        public: str) -> None:
    scenario, channel_id = center
    telegram.fail_next(502, "Bad Gateway")
    saved = await http.patch(f"/api/v1/channels/{channel_id}", headers=scenario.admin.headers,
                             json={"name": "Bot de soporte"})
    assert saved.status_code == 200, saved.text
    await worker.run_due()
    assert telegram.webhook == {}  # Telegram was down: retried later
    scenario.factory.clock.advance(minutes=1)
    await worker.run_due()
    assert telegram.webhook["url"] == f"https://atiende.example.com/webhooks/telegram/{channel_id}"


async def test_a_message_to_the_bot_opens_a_conversation_once_per_update(
        http: httpx.AsyncClient, center: tuple[Scenario, int], settings: Settings) -> None:
    scenario, channel_id = center
    first = await deliver(http, settings, channel_id, raw("telegram_text.json"))
    again = await deliver(http, settings, channel_id, raw("telegram_text.json"))
    assert first.status_code == again.status_code == 200
    assert first.json() == {"stored": True, "duplicate": False, "ignored": None}
    assert again.json()["duplicate"] is True
    (message,) = await stored(scenario)
    assert message.text == "Hola, necesito ayuda con mi pedido" and message.external_id == "727150001"
    (conversation,) = await scenario.conversations()
    assert conversation.contact.name == "Lucía Gómez" and conversation.status == "assigned"
    assert conversation.contact.external_id_on(channel_id) == "5123456789"


@pytest.mark.parametrize("token", ["", "wrong", "x" * 300])
async def test_a_wrong_secret_token_is_refused_and_nothing_is_stored(
        http: httpx.AsyncClient, center: tuple[Scenario, int], settings: Settings, token: str) -> None:
    scenario, channel_id = center
    response = await deliver(http, settings, channel_id, raw("telegram_text.json"), token=token)
    assert response.status_code in (403, 422)
    if len(token) <= 256:
        assert response.status_code == 403 and response.json()["field"] == "X-Telegram-Bot-Api-Secret-Token"
    assert await stored(scenario) == []


async def test_a_secret_of_another_bot_or_channel_is_refused(
        http: httpx.AsyncClient, center: tuple[Scenario, int], settings: Settings) -> None:
    scenario, channel_id = center
    other = webhook_secret(settings.secret_key, channel_id + 1, BOT_TOKEN)
    assert (await deliver(http, settings, channel_id, raw("telegram_text.json"), token=other)).status_code == 403
    no_header = await http.post(f"/webhooks/telegram/{channel_id}", content=raw("telegram_text.json"))
    assert no_header.status_code == 403
    assert await stored(scenario) == []


@pytest.mark.parametrize("body", [b"{not json", b"[]", b'{"update_id": "1"}', b"", b'{"message": {}}'])
async def test_bodies_that_are_not_updates_are_bad_requests(
        http: httpx.AsyncClient, center: tuple[Scenario, int], settings: Settings, body: bytes) -> None:
    scenario, channel_id = center
    assert (await deliver(http, settings, channel_id, body)).status_code == 400
    assert await stored(scenario) == []


async def test_unknown_channels_and_huge_bodies(http: httpx.AsyncClient, center: tuple[Scenario, int],
                                                settings: Settings) -> None:
    scenario, channel_id = center
    assert (await deliver(http, settings, channel_id + 999, raw("telegram_text.json"))).status_code == 404
    assert (await deliver(http, settings, scenario.channel_id, raw("telegram_text.json"))).status_code == 404
    huge = load("telegram_text.json")
    huge["message"]["text"] = "x" * (3 * 1024 * 1024)
    assert (await deliver(http, settings, channel_id, huge)).status_code == 413
    assert await stored(scenario) == []


async def test_edits_and_other_updates_are_acknowledged_without_storing(
        http: httpx.AsyncClient, center: tuple[Scenario, int], settings: Settings) -> None:
    scenario, channel_id = center
    response = await deliver(http, settings, channel_id, raw("telegram_edited.json"))
    assert response.status_code == 200 and response.json()["stored"] is False
    assert await stored(scenario) == []


async def test_a_voice_note_is_fetched_with_get_file_and_kept(
        http: httpx.AsyncClient, center: tuple[Scenario, int], settings: Settings, telegram: FakeTelegram,
        worker: Worker) -> None:
    scenario, channel_id = center
    telegram.add_file("AwACAgEAAxkBAAM3Z3hVoice", "voice/file_12.oga", OGG)
    await deliver(http, settings, channel_id, raw("telegram_voice.json"))
    await worker.run_due()
    (message,) = await stored(scenario)
    (attachment,) = message.attachments
    assert attachment["kind"] == "voice"
    assert [c.method for c in telegram.calls] == ["getFile"]
    served = await download(http, scenario.supervisor.headers, message.conversation_id, attachment["url"])
    assert served.status_code == 200 and served.content == OGG


async def test_a_file_telegram_no_longer_has_is_noted(
        http: httpx.AsyncClient, center: tuple[Scenario, int], settings: Settings, worker: Worker) -> None:
    scenario, channel_id = center
    await deliver(http, settings, channel_id, raw("telegram_photo.json"))
    await worker.run_due()
    (message,) = await stored(scenario)
    assert message.attachments == []
    assert message.text == "Así llegó la caja\n[adjunto no disponible: Telegram 400: Bad Request: invalid file_id]"


async def test_the_agents_reply_reaches_the_chat(http: httpx.AsyncClient, center: tuple[Scenario, int],
                                                 settings: Settings, telegram: FakeTelegram, worker: Worker) -> None:
    scenario, channel_id = center
    await deliver(http, settings, channel_id, raw("telegram_text.json"))
    (conversation,) = await scenario.conversations()
    reply = await scenario.reply(scenario.agents[0], conversation.id, "Hola Lucía, ¿cuál es tu pedido?")
    await worker.run_due()
    (call,) = telegram.of("sendMessage")
    assert call.params == {"chat_id": "5123456789", "text": "Hola Lucía, ¿cuál es tu pedido?"}
    async with scenario.database.session() as session:
        sent = await session.get(Message, reply.json()["id"])
    assert sent is not None and sent.status == "sent" and sent.external_id == "5123456789:100"


async def test_a_photo_with_text_goes_as_one_captioned_photo(
        http: httpx.AsyncClient, center: tuple[Scenario, int], settings: Settings, telegram: FakeTelegram,
        worker: Worker) -> None:
    scenario, channel_id = center
    await deliver(http, settings, channel_id, raw("telegram_text.json"))
    (conversation,) = await scenario.conversations()
    photo = await upload(http, scenario.agents[0].headers, conversation.id, "a.jpg")
    await scenario.reply(scenario.agents[0], conversation.id, "Así se ve", attachments=[photo])
    await worker.run_due()
    (call,) = telegram.calls
    assert (call.method, call.params) == ("sendPhoto", {"chat_id": "5123456789", "caption": "Así se ve", "photo": "<upload>"})
    assert call.file is not None and call.file[1] == JPEG


@pytest.mark.parametrize(("status", "description", "final", "calls"), [
    (403, "Forbidden: bot was blocked by the user", "failed", 1),
    (429, "Too Many Requests: retry after 3", "sent", 2),
    (500, "Internal Server Error", "sent", 2),
])
async def test_telegram_errors_fail_or_retry_the_message(
        http: httpx.AsyncClient, center: tuple[Scenario, int], settings: Settings, telegram: FakeTelegram,
        worker: Worker, status: int, description: str, final: str, calls: int) -> None:
    scenario, channel_id = center
    await deliver(http, settings, channel_id, raw("telegram_text.json"))
    (conversation,) = await scenario.conversations()
    telegram.fail_next(status, description, retry_after=3 if status == 429 else None)
    reply = await scenario.reply(scenario.agents[0], conversation.id, "Hola")
    await worker.run_due()
    scenario.factory.clock.advance(seconds=10)
    await worker.run_due()
    async with scenario.database.session() as session:
        sent = await session.get(Message, reply.json()["id"])
    assert sent is not None and sent.status == final
    if final == "failed":
        assert sent.failure_reason == f"Telegram {status}: {description}"
    assert len(telegram.of("sendMessage")) == calls
