"""Every route of the WhatsApp, Telegram and web chat channels, as one router for ``app.py``,
plus ``GET /media/{name}``: the files received from channels.

Importing this module registers the channels' senders with the engine.
"""

from typing import Annotated

from fastapi import APIRouter, Path, Request
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

SENDERS = (whatsapp_adapter.WhatsAppAdapter, telegram_adapter.TelegramAdapter, webchat_adapter.WebchatAdapter)
router = APIRouter()
for part in (whatsapp_webhooks, whatsapp, telegram_webhooks, telegram, webchat, webchat_pages):
    router.include_router(part)

MediaName = Annotated[str, Path(min_length=5, max_length=60)]


@router.get("/media/{name}", tags=["media"], response_class=FileResponse,
            summary="A file received from a channel or uploaded in the chat (unguessable name)")
async def media(name: MediaName, request: Request) -> FileResponse:
    store = MediaStore(request.app.state.settings)
    path = store.path(name)
    if path is None or not path.is_file():
        raise NotFound("No such file (yet)", field="name")
    mime = TYPE_OF_EXTENSION.get(path.suffix.lstrip("."), "application/octet-stream")
    inline = mime.startswith(INLINE_FAMILIES)
    return FileResponse(path, media_type=mime, content_disposition_type="inline" if inline else "attachment",
                        filename=None if inline else name,
                        headers={"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox",
                                 "Cache-Control": "private, max-age=86400"})
