"""Meta's webhook payloads, normalised.

One POST may carry several entries, each with several changes, each with several messages and
statuses (and messages of several contacts): every one of them is read, none is assumed to be
the first. Items that cannot be understood are skipped and listed in ``ignored`` (the rest of
the batch still counts); a body that is not a WhatsApp webhook at all raises ``MalformedPayload``.

Contacts are keyed by their business-scoped user id (``user_id``, "BSUID") when Meta sends one
and by ``wa_id`` otherwise; the phone (``+`` and ``wa_id``) is kept only when Meta shares it, so a
user known by BSUID alone is still one contact.
"""

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from atiende.channels.protocol import Attachment, AttachmentKind, InboundContact, InboundMessage, StatusUpdate
from atiende.channels.whatsapp.errors import describe
from atiende.conversations.models import DeliveryStatus

MAX_TEXT = 4096 * 4  # a generous bound on stored inbound text; Meta's own limit is 4096
_DIGITS = re.compile(r"^[0-9]{4,20}$")


class MalformedPayload(ValueError):
    """The body is not a WhatsApp Business Account webhook."""


@dataclass(frozen=True)
class MediaRef:
    """A media item to fetch by id (ids expire: it is downloaded as soon as it is received)."""

    media_id: str
    kind: AttachmentKind
    mime_type: str = ""
    filename: str = ""
    sha256: str = ""


@dataclass(frozen=True)
class ParsedMessage:
    phone_number_id: str
    message: InboundMessage
    type: str
    media: MediaRef | None = None
    reply_to: str | None = None  # wamid of the message this one answers or reacts to


@dataclass(frozen=True)
class ParsedStatus:
    phone_number_id: str
    update: StatusUpdate
    error_code: int | None = None


@dataclass
class WebhookBatch:
    messages: list[ParsedMessage] = field(default_factory=list)
    statuses: list[ParsedStatus] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)

    @property
    def phone_number_ids(self) -> set[str]:
        return {m.phone_number_id for m in self.messages} | {s.phone_number_id for s in self.statuses}


def parse_webhook(data: Any) -> WebhookBatch:
    if not isinstance(data, dict) or data.get("object") != "whatsapp_business_account":
        raise MalformedPayload("not a WhatsApp Business Account webhook (object)")
    entries = data.get("entry")
    if not isinstance(entries, list):
        raise MalformedPayload("entry must be a list")
    batch = WebhookBatch()
    for entry in entries:
        changes = entry.get("changes") if isinstance(entry, dict) else None
        if not isinstance(changes, list):
            batch.ignored.append("entry without changes")
            continue
        for change in changes:
            _read_change(change, batch)
    return batch


def _read_change(change: Any, batch: WebhookBatch) -> None:
    if not isinstance(change, dict) or not isinstance(change.get("value"), dict):
        batch.ignored.append("change without value")
        return
    if change.get("field", "messages") != "messages":
        batch.ignored.append(f"field {change.get('field')!r}")
        return
    value = change["value"]
    metadata = value.get("metadata")
    phone_number_id = str(metadata.get("phone_number_id", "")) if isinstance(metadata, dict) else ""
    if not phone_number_id:
        batch.ignored.append("change without metadata.phone_number_id")
        return
    contacts = [c for c in _list(value.get("contacts")) if isinstance(c, dict)]
    for raw in _list(value.get("messages")):
        parsed = _message(raw, contacts, phone_number_id)
        if isinstance(parsed, str):
            batch.ignored.append(parsed)
        else:
            batch.messages.append(parsed)
    for raw in _list(value.get("statuses")):
        status = _status(raw, phone_number_id)
        if isinstance(status, str):
            batch.ignored.append(status)
        else:
            batch.statuses.append(status)
    for error in _list(value.get("errors")):
        batch.ignored.append(f"error {error.get('code') if isinstance(error, dict) else error}")


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _str(value: Any, limit: int = 1000) -> str:
    return value[:limit].replace("\x00", "") if isinstance(value, str) else ""


def _timestamp(value: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


# --- contacts ---------------------------------------------------------------------------------

def _contact_for(raw: dict[str, Any], contacts: list[dict[str, Any]]) -> InboundContact | None:
    wa_id = _str(raw.get("from"), 64)
    user_id = _str(raw.get("from_user_id"), 200)
    match = next((c for c in contacts if (wa_id and c.get("wa_id") == wa_id)
                  or (user_id and c.get("user_id") == user_id)), None)
    if match is None and len(contacts) == 1:
        match = contacts[0]
    match = match or {}
    wa_id = wa_id or _str(match.get("wa_id"), 64)
    user_id = user_id or _str(match.get("user_id"), 200)
    key = user_id or wa_id
    if not key:
        return None
    profile = match.get("profile") if isinstance(match.get("profile"), dict) else {}
    name = _str(profile.get("name"), 120) or _str(profile.get("username"), 120) or None
    phone = f"+{wa_id}" if _DIGITS.match(wa_id) else None
    return InboundContact(external_id=key, name=name, phone=phone)


# --- messages ---------------------------------------------------------------------------------

_MEDIA_KINDS = {"image": AttachmentKind.image, "document": AttachmentKind.document, "audio": AttachmentKind.audio,
                "video": AttachmentKind.video, "sticker": AttachmentKind.sticker}


def _message(raw: Any, contacts: list[dict[str, Any]], phone_number_id: str) -> ParsedMessage | str:
    if not isinstance(raw, dict):
        return "message is not an object"
    wamid = _str(raw.get("id"), 200)
    kind = _str(raw.get("type"), 40) or "unknown"
    if not wamid:
        return "message without id"
    if kind == "system":  # number or BSUID changes: not something the customer wrote
        return f"system message {wamid}"
    contact = _contact_for(raw, contacts)
    if contact is None:
        return f"message {wamid} without sender"
    context = raw.get("context") if isinstance(raw.get("context"), dict) else {}
    reply_to = _str(context.get("id"), 200) or None
    text, media, attachments = _content(kind, raw)
    if kind == "reaction":
        reaction = raw.get("reaction") if isinstance(raw.get("reaction"), dict) else {}
        reply_to = _str(reaction.get("message_id"), 200) or reply_to
    message = InboundMessage(external_id=wamid, contact=contact, text=text[:MAX_TEXT],
                             attachments=tuple(attachments), sent_at=_timestamp(raw.get("timestamp")))
    return ParsedMessage(phone_number_id=phone_number_id, message=message, type=kind, media=media,
                         reply_to=reply_to)


def _content(kind: str, raw: dict[str, Any]) -> tuple[str, MediaRef | None, list[Attachment]]:
    body = raw.get(kind) if isinstance(raw.get(kind), dict) else {}
    if kind == "text":
        return _str(body.get("body"), MAX_TEXT), None, []
    if kind in _MEDIA_KINDS:
        return _str(body.get("caption"), 4096), _media_ref(kind, body), []
    if kind == "location":
        return _location(body)
    if kind == "contacts":
        return _shared_contacts(_list(raw.get("contacts"))), None, []
    if kind == "interactive":
        return _interactive(body), None, []
    if kind == "button":  # a quick-reply button of a template
        return _str(body.get("text"), 1000) or _str(body.get("payload"), 1000), None, []
    if kind == "reaction":
        emoji = _str(body.get("emoji"), 40)
        return (f"{emoji} (reacción)" if emoji else "(reacción eliminada)"), None, []
    return f"[mensaje de tipo {kind} no soportado]", None, []


def _media_ref(kind: str, body: dict[str, Any]) -> MediaRef | None:
    media_id = _str(body.get("id"), 200)
    if not media_id:
        return None
    attachment_kind = _MEDIA_KINDS[kind]
    if kind == "audio" and body.get("voice") is True:
        attachment_kind = AttachmentKind.voice
    return MediaRef(media_id=media_id, kind=attachment_kind, mime_type=_str(body.get("mime_type"), 120),
                    filename=_str(body.get("filename"), 200), sha256=_str(body.get("sha256"), 128))


def _location(body: dict[str, Any]) -> tuple[str, None, list[Attachment]]:
    lat, lng = body.get("latitude"), body.get("longitude")
    label = " — ".join(p for p in (_str(body.get("name"), 200), _str(body.get("address"), 300)) if p)
    if not isinstance(lat, int | float) or not isinstance(lng, int | float) or isinstance(lat, bool):
        return label or "[ubicación]", None, []
    coordinates = f"{lat},{lng}"
    attachment = Attachment(kind=AttachmentKind.location, url=f"https://www.google.com/maps?q={coordinates}",
                            name=(label or coordinates)[:255])
    return label or f"📍 {coordinates}", None, [attachment]


def _shared_contacts(cards: list[Any]) -> str:
    lines = []
    for card in cards:
        if not isinstance(card, dict):
            continue
        name = card.get("name") if isinstance(card.get("name"), dict) else {}
        parts = [_str(name.get("formatted_name"), 200)]
        parts += [_str(p.get("phone"), 40) for p in _list(card.get("phones")) if isinstance(p, dict)]
        parts += [_str(e.get("email"), 200) for e in _list(card.get("emails")) if isinstance(e, dict)]
        lines.append("👤 " + " · ".join(p for p in parts if p))
    return "\n".join(lines) or "[contacto compartido]"


def _interactive(body: dict[str, Any]) -> str:
    reply_type = _str(body.get("type"), 40)
    reply = body.get(reply_type) if isinstance(body.get(reply_type), dict) else {}
    title, description = _str(reply.get("title"), 200), _str(reply.get("description"), 300)
    if not title:
        return f"[respuesta interactiva {reply_type or 'desconocida'}]"
    return f"{title}\n{description}" if description else title


# --- statuses ---------------------------------------------------------------------------------

_STATUSES = {"sent": DeliveryStatus.sent, "delivered": DeliveryStatus.delivered, "read": DeliveryStatus.read,
             "played": DeliveryStatus.read, "failed": DeliveryStatus.failed}


def _status(raw: Any, phone_number_id: str) -> ParsedStatus | str:
    if not isinstance(raw, dict):
        return "status is not an object"
    wamid, name = _str(raw.get("id"), 200), _str(raw.get("status"), 40)
    if not wamid or name not in _STATUSES:
        return f"status {name or '?'} of {wamid or '?'}"
    code, reason = None, None
    if name == "failed":
        code, reason = _failure(_list(raw.get("errors")))
    update = StatusUpdate(status=_STATUSES[name], external_id=wamid, reason=reason,
                          at=_timestamp(raw.get("timestamp")))
    return ParsedStatus(phone_number_id=phone_number_id, update=update, error_code=code)


def _failure(errors: list[Any]) -> tuple[int | None, str]:
    error = next((e for e in errors if isinstance(e, dict)), {})
    code = error.get("code") if isinstance(error.get("code"), int) else None
    title = _str(error.get("title"), 200) or _str(error.get("message"), 200)
    details = error.get("error_data", {}).get("details") if isinstance(error.get("error_data"), dict) else None
    return code, describe(code, title, _str(details, 300))[:500]
