"""Telegram updates and the Bot API client against the local fake."""

from collections.abc import AsyncIterator

import httpx
import pytest

from atiende.channels.protocol import AttachmentKind
from atiende.channels.telegram.client import TelegramClient, TelegramError, TelegramErrorKind, Upload
from atiende.channels.telegram.secret import secret_matches, webhook_secret
from atiende.channels.telegram.updates import MalformedUpdate, parse_update
from tests.channels.fakes.data import load
from tests.channels.fakes.telegram import BOT_TOKEN, FakeTelegram


@pytest.fixture
async def bot(telegram: FakeTelegram) -> AsyncIterator[TelegramClient]:
    async with httpx.AsyncClient() as http:
        yield TelegramClient(http, api_url=telegram.base_url, bot_token=BOT_TOKEN)  # type: ignore[attr-defined]


def test_the_webhook_secret_is_stable_per_channel_and_token_and_uses_allowed_characters() -> None:
    secret = webhook_secret("key", 7, BOT_TOKEN)
    assert secret == webhook_secret("key", 7, BOT_TOKEN)
    assert secret != webhook_secret("key", 8, BOT_TOKEN) != webhook_secret("key", 7, BOT_TOKEN + "x")
    assert 1 <= len(secret) <= 256 and all(c.isalnum() or c in "_-" for c in secret)
    assert secret_matches(secret, secret) and not secret_matches(secret[:-1], secret)
    assert not secret_matches(None, secret)


def test_a_text_update_is_a_message_of_the_chat_keyed_by_update_id() -> None:
    parsed = parse_update(load("telegram_text.json"))
    assert parsed.update_id == 727150001 and parsed.chat_id == "5123456789"
    assert parsed.message is not None
    assert (parsed.message.external_id, parsed.message.text) == ("727150001", "Hola, necesito ayuda con mi pedido")
    assert (parsed.message.contact.external_id, parsed.message.contact.name) == ("5123456789", "Lucía Gómez")
    assert parsed.file is None


@pytest.mark.parametrize(("name", "kind", "file_id", "mime", "text"), [
    ("telegram_photo.json", AttachmentKind.image, "AgACAgEAAxkBAAM1Z3hLarge", "image/jpeg", "Así llegó la caja"),
    ("telegram_document.json", AttachmentKind.document, "BQACAgEAAxkBAAM2Z3hDoc", "application/pdf", ""),
    ("telegram_voice.json", AttachmentKind.voice, "AwACAgEAAxkBAAM3Z3hVoice", "audio/ogg", ""),
])
def test_photos_documents_and_voice_notes_name_the_file_to_download(name: str, kind: AttachmentKind, file_id: str,
                                                                     mime: str, text: str) -> None:
    parsed = parse_update(load(name))
    assert parsed.file is not None and parsed.message is not None
    assert (parsed.file.kind, parsed.file.file_id, parsed.file.mime_type) == (kind, file_id, mime)
    assert parsed.message.text == text


def test_edits_and_other_updates_are_acknowledged_and_ignored() -> None:
    parsed = parse_update(load("telegram_edited.json"))
    assert parsed.message is None and "edited_message" in parsed.ignored


@pytest.mark.parametrize("body", [None, [], {}, {"update_id": "1"}, {"update_id": True}, {"update_id": -1}])
def test_a_body_without_an_integer_update_id_is_malformed(body: object) -> None:
    with pytest.raises(MalformedUpdate):
        parse_update(body)


async def test_set_webhook_sends_the_url_and_secret(bot: TelegramClient, telegram: FakeTelegram) -> None:
    await bot.set_webhook("https://atiende.example.com/webhooks/telegram/3", "s3cr3t_-")
    (call,) = telegram.calls
    assert call.method == "setWebhook"
    assert call.params == {"url": "https://atiende.example.com/webhooks/telegram/3", "secret_token": "s3cr3t_-",
                           "allowed_updates": ["message"], "drop_pending_updates": False}
    assert telegram.problems == []


async def test_telegram_refuses_a_webhook_that_is_not_https(bot: TelegramClient) -> None:
    with pytest.raises(TelegramError) as raised:
        await bot.set_webhook("http://localhost/webhooks/telegram/3", "s")
    assert raised.value.kind == TelegramErrorKind.permanent and "HTTPS" in raised.value.reason


async def test_send_message_and_files(bot: TelegramClient, telegram: FakeTelegram) -> None:
    assert len(await bot.send_message("5123456789", "Hola Lucía", reply_to=52)) == 1
    await bot.send_photo("5123456789", "https://cdn.example.com/a.jpg", caption="Tu foto")
    await bot.send_document("5123456789", Upload("factura.pdf", b"%PDF-1.4 ...", "application/pdf"))
    await bot.send_voice("5123456789", "https://cdn.example.com/nota.ogg")
    assert [c.method for c in telegram.calls] == ["sendMessage", "sendPhoto", "sendDocument", "sendVoice"]
    assert telegram.calls[0].params == {"chat_id": "5123456789", "text": "Hola Lucía", "reply_parameters": {
        "message_id": 52, "allow_sending_without_reply": True}}
    assert telegram.calls[1].params == {"chat_id": "5123456789", "photo": "https://cdn.example.com/a.jpg",
                                        "caption": "Tu foto"}
    assert telegram.calls[2].file == ("factura.pdf", b"%PDF-1.4 ...", "application/pdf")
    assert telegram.problems == []


@pytest.mark.parametrize(("status", "description", "retry_after", "kind"), [
    (429, "Too Many Requests: retry after 7", 7, TelegramErrorKind.rate_limited),
    (403, "Forbidden: bot was blocked by the user", None, TelegramErrorKind.permanent),
    (400, "Bad Request: chat not found", None, TelegramErrorKind.permanent),
    (502, "Bad Gateway", None, TelegramErrorKind.transient),
])
async def test_errors_keep_telegrams_description_and_retry_after(
        bot: TelegramClient, telegram: FakeTelegram, status: int, description: str, retry_after: int | None,
        kind: TelegramErrorKind) -> None:
    telegram.fail_next(status, description, retry_after)
    with pytest.raises(TelegramError) as raised:
        await bot.send_message("1", "hola")
    assert (raised.value.kind, raised.value.retry_after) == (kind, retry_after)
    assert raised.value.reason == f"Telegram {status}: {description}"


async def test_a_wrong_bot_token_is_unauthorized(telegram: FakeTelegram) -> None:
    async with httpx.AsyncClient() as http:
        bot = TelegramClient(http, api_url=telegram.base_url, bot_token="1:wrong")  # type: ignore[attr-defined]
        with pytest.raises(TelegramError) as raised:
            await bot.send_message("1", "hola")
    assert raised.value.status == 401 and raised.value.kind == TelegramErrorKind.permanent


async def test_a_file_is_found_with_get_file_then_downloaded(bot: TelegramClient, telegram: FakeTelegram) -> None:
    telegram.add_file("AwACAgEAAxkBAAM3Z3hVoice", "voice/file_12.oga", b"OggS" + b"\x00" * 50)
    path = await bot.get_file_path("AwACAgEAAxkBAAM3Z3hVoice")
    assert path == "voice/file_12.oga"
    assert await bot.download(path, max_bytes=1000) == b"OggS" + b"\x00" * 50
    with pytest.raises(TelegramError) as raised:
        await bot.download(path, max_bytes=10)
    assert raised.value.status == 413
