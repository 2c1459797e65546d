"""Telegram ``Update`` objects, normalised. Only new messages matter (``message``); edits, channel
posts, button callbacks and the like are acknowledged and ignored.

The message is stored under the update's ``update_id`` (Telegram redelivers an update until it
gets a 2xx, so the same id may arrive more than once). The contact is the chat: replies go to
``chat.id``.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from atiende.channels.protocol import AttachmentKind, InboundContact, InboundMessage

MAX_TEXT = 4096 * 4


class MalformedUpdate(ValueError):
    """Not a Telegram update (no integer ``update_id``)."""


@dataclass(frozen=True)
class FileRef:
    file_id: str
    kind: AttachmentKind
    mime_type: str = ""
    filename: str = ""
    size: int | None = None


@dataclass(frozen=True)
class ParsedUpdate:
    update_id: int
    message: InboundMessage | None  # None: nothing to store (see ``ignored``)
    file: FileRef | None = None
    chat_id: str = ""
    ignored: str = ""


def _str(value: Any, limit: int) -> str:
    return value[:limit].replace("\x00", "") if isinstance(value, str) else ""


def parse_update(data: Any) -> ParsedUpdate:
    if not isinstance(data, dict) or not isinstance(data.get("update_id"), int) or isinstance(
            data.get("update_id"), bool):
        raise MalformedUpdate("an update needs an integer update_id")
    update_id = data["update_id"]
    if not 0 <= update_id < 2**53:
        raise MalformedUpdate("update_id out of range")
    message = data.get("message")
    if not isinstance(message, dict):
        kinds = [key for key in data if key != "update_id"]
        return ParsedUpdate(update_id=update_id, message=None, ignored=f"update of kind {kinds[:1]}")
    chat = message.get("chat") if isinstance(message.get("chat"), dict) else {}
    chat_id = chat.get("id")
    if not isinstance(chat_id, int) or isinstance(chat_id, bool):
        return ParsedUpdate(update_id=update_id, message=None, ignored="message without chat.id")
    sender = message.get("from") if isinstance(message.get("from"), dict) else {}
    name = " ".join(p for p in (_str(sender.get("first_name"), 60), _str(sender.get("last_name"), 60)) if p) \
        or _str(chat.get("title"), 120) or _str(sender.get("username"), 120) or None
    contact = InboundContact(external_id=str(chat_id), name=name)
    text = _str(message.get("text"), MAX_TEXT) or _str(message.get("caption"), 1024)
    file = _file(message)
    if not text and file is None:
        text = f"[mensaje de Telegram no soportado: {_kind(message)}]"
    sent_at = datetime.fromtimestamp(message["date"], UTC) if isinstance(message.get("date"), int) \
        and 0 < message["date"] < 2**33 else None
    inbound = InboundMessage(external_id=str(update_id), contact=contact, text=text, sent_at=sent_at)
    return ParsedUpdate(update_id=update_id, message=inbound, file=file, chat_id=str(chat_id))


def _kind(message: dict[str, Any]) -> str:
    known = ("sticker", "location", "contact", "poll", "venue", "dice", "animation", "video_note")
    return next((k for k in known if k in message), "otro")


def _file(message: dict[str, Any]) -> FileRef | None:
    photos = message.get("photo")
    if isinstance(photos, list) and photos:
        sizes = [p for p in photos if isinstance(p, dict) and isinstance(p.get("file_id"), str)]
        if sizes:  # Telegram lists the sizes smallest first
            best = max(sizes, key=lambda p: (p.get("width") or 0) * (p.get("height") or 0))
            return FileRef(file_id=best["file_id"][:300], kind=AttachmentKind.image, mime_type="image/jpeg",
                           size=best.get("file_size") if isinstance(best.get("file_size"), int) else None)
    for key, kind, default_mime in (("voice", AttachmentKind.voice, "audio/ogg"),
                                    ("audio", AttachmentKind.audio, "audio/mpeg"),
                                    ("video", AttachmentKind.video, "video/mp4"),
                                    ("document", AttachmentKind.document, "application/octet-stream")):
        item = message.get(key)
        if isinstance(item, dict) and isinstance(item.get("file_id"), str):
            return FileRef(file_id=item["file_id"][:300], kind=kind,
                           mime_type=_str(item.get("mime_type"), 120) or default_mime,
                           filename=_str(item.get("file_name"), 200),
                           size=item.get("file_size") if isinstance(item.get("file_size"), int) else None)
    return None
