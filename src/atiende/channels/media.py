"""Files received from channels (WhatsApp media, Telegram files, web chat uploads).

Stored under ``ATIENDE_MEDIA_DIR`` with a name derived from the source (an HMAC of e.g.
``whatsapp:<channel>:<media id>`` with the app's secret key): the same media always lands in the
same file (a retried download overwrites, never duplicates), the name is known before the
download finishes (so the message can point at it at once), and nobody can guess another
file's URL. Only the types in ``ALLOWED_TYPES`` are kept, and the first bytes must agree with
the declared type.
"""

import hashlib
import hmac
import os
import re
import tempfile
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from atiende.channels.protocol import Attachment, AttachmentKind
from atiende.errors import Invalid
from atiende.settings import Settings

if TYPE_CHECKING:
    from collections.abc import Sequence

    from atiende.db import Database

ALLOWED_TYPES: dict[str, str] = {
    "image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/gif": "gif",
    "audio/ogg": "ogg", "audio/mpeg": "mp3", "audio/mp4": "m4a", "audio/aac": "aac", "audio/amr": "amr",
    "audio/webm": "weba", "video/mp4": "mp4", "video/3gpp": "3gp", "video/webm": "webm",
    "application/pdf": "pdf", "text/plain": "txt", "text/csv": "csv",
    "application/msword": "doc", "application/vnd.ms-excel": "xls", "application/vnd.ms-powerpoint": "ppt",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "pptx",
    "application/zip": "zip",
}
TYPE_OF_EXTENSION = {ext: mime for mime, ext in ALLOWED_TYPES.items()}
INLINE_FAMILIES = ("image/", "audio/", "video/")
GRANT_STEP = 24 * 3600
_NAME = re.compile(r"^[0-9a-f]{32}\.[a-z0-9]{2,5}$")

# Leading bytes of the binary formats we accept, by MIME family or exact type.
_SIGNATURES: list[tuple[bytes, int, str]] = [
    (b"\xff\xd8\xff", 0, "image/jpeg"), (b"\x89PNG\r\n\x1a\n", 0, "image/png"), (b"GIF8", 0, "image/gif"),
    (b"WEBP", 8, "image/webp"), (b"%PDF", 0, "application/pdf"), (b"OggS", 0, "audio/ogg"),
    (b"#!AMR", 0, "audio/amr"), (b"ftyp", 4, "video/mp4"), (b"ID3", 0, "audio/mpeg"),
    (b"\x1aE\xdf\xa3", 0, "video/webm"), (b"PK\x03\x04", 0, "application/zip"),
]
_COMPATIBLE = {  # a sniffed type that may carry each declared type
    "audio/mp4": {"video/mp4"}, "audio/aac": {"video/mp4"}, "video/3gpp": {"video/mp4"},
    "audio/webm": {"video/webm"}, "audio/ogg": {"audio/ogg"},
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": {"application/zip"},
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {"application/zip"},
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": {"application/zip"},
}


class MediaRejected(ValueError):
    """The file is not kept: too large, of a type we do not accept, or not what it claims."""


def base_type(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


def sniff(data: bytes) -> str | None:
    for magic, offset, mime in _SIGNATURES:
        if data[offset:offset + len(magic)] == magic:
            return mime
    return None


def check_content(declared: str, data: bytes) -> str:
    """The accepted MIME type of ``data`` declared as ``declared``, or ``MediaRejected``."""
    mime = base_type(declared)
    if mime not in ALLOWED_TYPES:
        raise MediaRejected(f"file type {mime or 'unknown'} is not accepted")
    found = sniff(data)
    if found is not None and found != mime and found not in _COMPATIBLE.get(mime, set()):
        raise MediaRejected(f"the file's content ({found}) does not match its type ({mime})")
    if found is None and not (mime.startswith("text/") or mime in ("application/msword", "application/vnd.ms-excel",
                                                                   "application/vnd.ms-powerpoint", "audio/aac",
                                                                   "audio/mpeg")):
        raise MediaRejected(f"the file's content does not look like {mime}")
    return mime


def kind_of(mime: str, *, voice: bool = False) -> AttachmentKind:
    mime = base_type(mime)
    if mime.startswith("image/"):
        return AttachmentKind.image
    if mime.startswith("audio/"):
        return AttachmentKind.voice if voice else AttachmentKind.audio
    if mime.startswith("video/"):
        return AttachmentKind.video
    return AttachmentKind.document


class MediaStore:
    def __init__(self, settings: Settings) -> None:
        self.directory = Path(settings.media_dir)
        self.max_bytes = settings.media_max_bytes
        self._key = settings.secret_key.encode()
        self.base_url = (settings.public_url or f"http://{settings.host}:{settings.port}").rstrip("/")

    def name_for(self, source: str, mime: str) -> str:
        digest = hmac.new(self._key, source.encode(), hashlib.sha256).hexdigest()[:32]
        return f"{digest}.{ALLOWED_TYPES.get(base_type(mime), 'bin')}"

    def url(self, name: str) -> str:
        return f"{self.base_url}/media/{name}"

    def path(self, name: str) -> Path | None:
        """The file of ``name`` if the name is one of ours (no path tricks), else None."""
        if not _NAME.match(name):
            return None
        return self.directory / name[:2] / name

    def name_of(self, url: str) -> str | None:
        """The media name if ``url`` is one of our media URLs (with or without a grant), else None."""
        prefix = f"{self.base_url}/media/"
        if not url.startswith(prefix):
            return None
        name = url.removeprefix(prefix).split("?", 1)[0]
        return name if _NAME.match(name) else None

    # --- who may fetch a file ------------------------------------------------------------------
    # ``GET /media/{name}`` serves a file only with a grant: a signature over the name, the
    # conversation it was shown in and an expiry, made by the server for someone it has just
    # allowed to read that conversation (a page of the workspace or the supervisor, the visitor's
    # widget, the REST API's caller). Grants last one to two days, by day, so a file's URL stays
    # the same (and cached) for a day.
    def grant(self, url: str, conversation_id: int, now: datetime) -> str:
        """``url`` with a grant to fetch it, if it is one of our files; any other URL as it is."""
        name = self.name_of(url)
        if name is None:
            return url
        expires = (int(now.timestamp()) // GRANT_STEP + 2) * GRANT_STEP
        return f"{self.url(name)}?c={conversation_id}&e={expires}&s={self._signature(name, conversation_id, expires)}"

    def granted(self, name: str, conversation_id: int, expires: int, signature: str, now: datetime) -> bool:
        if expires < now.timestamp():
            return False
        return hmac.compare_digest(signature, self._signature(name, conversation_id, expires))

    def _signature(self, name: str, conversation_id: int, expires: int) -> str:
        payload = f"media-grant:{name}:{conversation_id}:{expires}".encode()
        return hmac.new(self._key, payload, hashlib.sha256).hexdigest()[:32]

    def issued(self, url: str) -> str | None:
        """The plain URL of a file this app stored (uploaded or received), else None."""
        name = self.name_of(url)
        return self.url(name) if name is not None and self.exists(name) else None

    def local_path(self, url: str) -> Path | None:
        """The stored file behind one of our media URLs (None for other URLs or missing files)."""
        name = self.name_of(url)
        path = self.path(name) if name else None
        return path if path is not None and path.is_file() else None

    def exists(self, name: str) -> bool:
        path = self.path(name)
        return path is not None and path.is_file()

    def save(self, name: str, data: bytes) -> Path:
        """Write atomically: a reader never sees half a file; a second save replaces the first."""
        if len(data) > self.max_bytes:
            raise MediaRejected(f"file larger than {self.max_bytes} bytes")
        path = self.path(name)
        if path is None:
            raise ValueError(f"not a media name: {name!r}")
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".part-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path


async def mark_unavailable(database: "Database", message_id: int, url: str, reason: str) -> None:
    """A received file could not be kept: drop it from the message and say why in its text, so the
    agent sees that something was sent and why it is missing."""
    from atiende.conversations.models import Message

    async with database.session() as session:
        message = await session.get(Message, message_id, with_for_update=True)
        if message is None:
            return
        kept = [a for a in message.attachments or [] if a.get("url") != url]
        if len(kept) == len(message.attachments or []):
            return  # already marked (the job ran twice)
        message.attachments = kept
        note = f"[adjunto no disponible: {reason}]"
        message.text = f"{message.text}\n{note}" if message.text else note


class AttachmentNotIssued(Invalid):
    """An agent's attachment must be a file uploaded through the app, never a URL of the sender's
    choosing (a supervisor's browser would fetch it)."""

    code = "attachment.not_issued"


def issued_attachments(store: MediaStore, attachments: "Sequence[Attachment]") -> list[Attachment]:
    """``attachments`` pointing at files this app stored, their type and kind taken from the
    stored file (not from what the sender claims); ``AttachmentNotIssued`` naming the first other."""
    kept: list[Attachment] = []
    for index, attachment in enumerate(attachments):
        url = store.issued(attachment.url)
        if url is None:
            raise AttachmentNotIssued("Attach a file uploaded through Atiende (POST /api/v1/conversations/"
                                      "{id}/attachments), not an outside URL", field=f"attachments.{index}.url")
        mime = TYPE_OF_EXTENSION.get(url.rsplit(".", 1)[-1], "application/octet-stream")
        voice = attachment.kind == AttachmentKind.voice and mime.startswith("audio/")
        kept.append(attachment.model_copy(update={"url": url, "mime_type": mime,
                                                  "kind": kind_of(mime, voice=voice)}))
    return kept
