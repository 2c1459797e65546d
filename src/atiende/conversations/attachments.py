"""Files of a conversation: an agent's upload (the only way an agent's message gets an attachment)
and the download of a conversation's files by whoever may read the conversation.

An upload is checked like the channels' media (type from the content, size limit) and stored under
``ATIENDE_MEDIA_DIR``; the answer is the attachment to put in ``POST …/messages``. The workspace's
composer stores its files through ``store_upload`` too.
"""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Path, UploadFile, status
from fastapi.responses import FileResponse
from sqlalchemy import String, cast, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from atiende.campaigns.models import Campaign
from atiende.channels.media import MediaRejected, MediaStore, base_type, check_content, kind_of
from atiende.channels.protocol import Attachment, AttachmentKind, safe_name
from atiende.channels.webhooks import file_response
from atiende.conversations.api import ConversationPath
from atiende.conversations.models import Conversation, Message
from atiende.conversations.service import check_attachments
from atiende.deps import DbSession, EngineDep
from atiende.errors import Invalid, NotFound

router = APIRouter(prefix="/api/v1/conversations", tags=["conversations"])
MediaName = Annotated[str, Path(min_length=5, max_length=60)]


class FileRefused(Invalid):
    code = "attachment.file_refused"


def store_upload(store: MediaStore, *, filename: str, content_type: str, data: bytes, voice: bool = False) -> Attachment:
    """Check and keep one uploaded file; ``MediaRejected`` says why it is refused."""
    if len(data) > store.max_bytes:
        raise MediaRejected(f"file larger than {store.max_bytes} bytes")
    mime = check_content(base_type(content_type), data)
    name = store.name_for(f"upload:{uuid.uuid4().hex}", mime)
    store.save(name, data)
    kind = AttachmentKind.voice if voice and mime.startswith("audio/") else kind_of(mime)
    return Attachment(kind=kind, url=store.url(name), mime_type=mime, name=str(safe_name(filename)) or name,
                      size=len(data))


async def holds_file(session: AsyncSession, conversation: Conversation, name: str) -> bool:
    """Whether one of the conversation's messages carries the stored file ``name``."""
    return bool(await session.scalar(select(exists().where(
        Message.conversation_id == conversation.id, cast(Message.attachments, String).contains(name)))))


@router.post("/{conversation_id}/attachments", status_code=status.HTTP_201_CREATED,
             summary="Upload a file to attach to a message (its type is checked from its content)")
async def upload(conversation: ConversationPath, session: DbSession, engine: EngineDep,
                 file: Annotated[UploadFile, File(description="The file; its type must be an accepted one")],
                 voice: Annotated[bool, Form(description="A voice note recorded by the agent")] = False) -> Any:
    store = MediaStore(engine.settings)
    data = await file.read(store.max_bytes + 1)
    campaign = await session.get(Campaign, conversation.campaign_id)
    assert campaign is not None
    try:
        attachment = store_upload(store, filename=file.filename or "", content_type=file.content_type or "",
                                  data=data, voice=voice)
    except MediaRejected as exc:
        raise FileRefused(str(exc), field="file") from exc
    check_attachments(campaign, [attachment])
    return attachment.model_dump(mode="json")


@router.get("/{conversation_id}/media/{name}", response_class=FileResponse,
            summary="Download a file of the conversation (for whoever may read the conversation)")
async def download(conversation: ConversationPath, name: MediaName, session: DbSession,
                   engine: EngineDep) -> FileResponse:
    store = MediaStore(engine.settings)
    path = store.path(name)
    if path is None or not path.is_file() or not await holds_file(session, conversation, name):
        raise NotFound("No such file in this conversation", field="name")
    return file_response(path, name)
