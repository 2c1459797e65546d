"""Every route of the WhatsApp, Telegram and web chat channels, as one router for ``app.py``,
plus ``GET /media/{name}``: the files received from channels.

Importing this module registers the channels' senders with the engine.
"""

from pathlib import Path as FilePath
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import FileResponse

from atiende.channels.media import INLINE_FAMILIES, TYPE_OF_EXTENSION, MediaStore
from atiende.channels.telegram import adapter as telegram_adapter
from atiende.channels.telegram.api import router as telegram
from atiende.channels.telegram.api import webhooks as telegram_webhooks
from atiende.channels.webchat import adapter as webchat_adapter
from atiende.channels.webchat.api import pages as webchat_pages
from atiende.channels.webchat.api import router as webchat
from atiende.channels.whatsapp import adapter as whatsapp_adapter
from atiende.channels.whatsapp.api import router as whatsapp
from atiende.channels.whatsapp.api import webhooks as whatsapp_webhooks
from atiende.errors import NotFound
from atiende.kit.schemas import MAX_ID

SENDERS = (whatsapp_adapter.WhatsAppAdapter, telegram_adapter.TelegramAdapter, webchat_adapter.WebchatAdapter)
router = APIRouter()
for part in (whatsapp_webhooks, whatsapp, telegram_webhooks, telegram, webchat, webchat_pages):
    router.include_router(part)

MediaName = Annotated[str, Path(min_length=5, max_length=60)]


@router.get("/media/{name}", tags=["media"], response_class=FileResponse,
            summary="A file received from a channel or uploaded, with the grant Atiende put in its URL "
                    "for someone allowed to read the conversation (404 without one)")
async def media(name: MediaName, request: Request,
                c: Annotated[int, Query(ge=1, le=MAX_ID, description="The conversation it was shown in")] = 0,
                e: Annotated[int, Query(ge=0, le=2**40, description="When the grant ends (Unix time)")] = 0,
                s: Annotated[str, Query(max_length=64, description="The grant's signature")] = "") -> FileResponse:
    store = MediaStore(request.app.state.settings)
    path = store.path(name)
    if path is None or not path.is_file() or not store.granted(name, c, e, s, request.app.state.clock.now()):
        raise NotFound("No such file (yet)", field="name")
    return file_response(path, name)


def file_response(path: FilePath, name: str) -> FileResponse:
    """A stored file with the type its content was checked as. Pictures, audio and video are shown
    inline (none of them can hold script: SVG and HTML are never accepted), anything else is a
    download; all under a sandboxing CSP and ``nosniff``, so nothing runs in the app's origin."""
    mime = TYPE_OF_EXTENSION.get(path.suffix.lstrip("."), "application/octet-stream")
    inline = mime.startswith(INLINE_FAMILIES)
    return FileResponse(path, media_type=mime, content_disposition_type="inline" if inline else "attachment",
                        filename=None if inline else name,
                        headers={"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox",
                                 "Cache-Control": "private, max-age=86400"})
