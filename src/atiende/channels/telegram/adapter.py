"""Sending on Telegram: the engine's delivery job calls ``TelegramAdapter.send``.

The text and attachments go to the chat the contact writes from: one photo, voice note or
document carries the text as its caption when it fits (1024 characters); otherwise the text goes
first. Photos and stickers go with ``sendPhoto``, voice notes and audio with ``sendVoice``, other
files with ``sendDocument``; files stored by Atiende are uploaded, other URLs are passed to
Telegram to fetch. The message is tracked as ``<chat id>:<message id>`` of the last part (Telegram
numbers messages per chat). 429 (with ``retry_after``), 5xx and network errors are retried by
the engine; 400/401/403 fail the message with Telegram's description.
"""

from typing import Any

from atiende.channels.choices import lead_text, telegram_keyboard
from atiende.channels.media import TYPE_OF_EXTENSION, MediaStore
from atiende.channels.models import Channel, ChannelKind
from atiende.channels.protocol import PermanentSendError, RetryableSendError, SendError, register_adapter
from atiende.channels.telegram.client import CAPTION_LIMIT, TelegramClient, TelegramError, TelegramErrorKind, Upload
from atiende.conversations.models import Conversation, Message
from atiende.jobs import JobContext

_METHOD = {"image": "photo", "sticker": "photo", "voice": "voice", "audio": "voice", "video": "document",
           "document": "document"}


def client_for(ctx: JobContext, channel: Channel) -> TelegramClient:
    return TelegramClient(ctx.http, api_url=ctx.settings.telegram_api_url,
                          bot_token=str((channel.credentials or {}).get("bot_token", "")))


def as_send_error(error: TelegramError) -> SendError:
    if error.kind == TelegramErrorKind.rate_limited:
        return RetryableSendError(f"{error.reason} (retry after {error.retry_after or '?'} s)")
    if error.kind == TelegramErrorKind.transient:
        return RetryableSendError(error.reason)
    return PermanentSendError(error.reason)


class TelegramAdapter:
    kind = ChannelKind.telegram

    async def send(self, ctx: JobContext, channel: Channel, conversation: Conversation,
                   message: Message) -> str | None:
        chat_id = conversation.contact.external_id_on(channel.id)
        if not chat_id:
            raise PermanentSendError("The contact has no Telegram chat on this channel")
        return await deliver(ctx, channel, chat_id, message.text, list(message.attachments or []),
                             list(message.choices or []))


async def deliver(ctx: JobContext, channel: Channel, chat_id: str, text: str,
                  attachments: list[dict[str, Any]] | None = None, choices: list[str] | None = None) -> str:
    """The channel's one sender: ``text`` (and files, or a bot's options) to one chat; the tracked id
    ``<chat id>:<message id>``. Conversations' messages and the sends of a campaign both go through it."""
    try:
        keyboard = None if attachments else telegram_keyboard(choices or [])
        if keyboard is not None:
            bot = client_for(ctx, channel)
            last = (await bot.send_message(chat_id, lead_text(text, choices or []), reply_markup=keyboard))[-1]
        else:
            last = await send_content(client_for(ctx, channel), MediaStore(ctx.settings), chat_id, text,
                                      attachments or [])
    except TelegramError as exc:
        raise as_send_error(exc) from exc
    return f"{chat_id}:{last}"


async def send_content(bot: TelegramClient, store: MediaStore, chat_id: str, text: str,
                       attachments: list[dict[str, Any]]) -> int:
    links = [str(a.get("url")) for a in attachments if a.get("kind") == "location"]
    files = [a for a in attachments if a.get("kind") in _METHOD]
    text = "\n".join([text, *links]).strip()
    caption_fits = len(files) == 1 and len(text) <= CAPTION_LIMIT
    last: int | None = None
    if text and not caption_fits:
        last = (await bot.send_message(chat_id, text))[-1]
    for attachment in files:
        last = await _send_file(bot, store, chat_id, attachment, text if caption_fits else None)
    if last is None:
        raise PermanentSendError("The message has nothing Telegram can deliver")
    return last


async def _send_file(bot: TelegramClient, store: MediaStore, chat_id: str, attachment: dict[str, Any],
                     caption: str | None) -> int:
    url = str(attachment.get("url", ""))
    local = store.local_path(url)
    file: str | Upload = url
    if local is not None:
        mime = TYPE_OF_EXTENSION.get(local.suffix.lstrip("."), "application/octet-stream")
        file = Upload(filename=str(attachment.get("name") or local.name), data=local.read_bytes(), mime_type=mime)
    method = _METHOD[str(attachment["kind"])]
    if method == "photo":
        return await bot.send_photo(chat_id, file, caption)
    if method == "voice":
        return await bot.send_voice(chat_id, file, caption)
    return await bot.send_document(chat_id, file, caption)


register_adapter(TelegramAdapter())
