"""Respuestas rápidas (canned replies): texts a client's agents insert with a shortcut ("/saludo").

Admins manage them (REST ``/api/v1/canned-replies`` and the supervisor console); every member of
the client reads the active ones. A shortcut is unique per client, lowercase letters, digits,
``_`` and ``-``; agents type it after a slash.
"""

from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, StringConstraints
from sqlalchemy import Boolean, ForeignKey, String, Text, UniqueConstraint, func
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from atiende.auth.caller import Caller
from atiende.db import Base
from atiende.kit.columns import IdMixin, TimestampMixin
from atiende.kit.crud import ScopedCrudService, crud_router
from atiende.kit.schemas import Id, InSchema, Name, OutSchema, storable
from atiende.kit.search import starts_with
from atiende.kit.unique import folded_column

MAX_SUGGESTIONS = 8
Shortcut = Annotated[str, BeforeValidator(lambda v: v.strip().lower() if isinstance(v, str) else v),
                     StringConstraints(min_length=1, max_length=40, pattern=r"^[a-z0-9_\-]+$")]
ReplyText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4096),
                      AfterValidator(storable)]


class CannedReply(IdMixin, TimestampMixin, Base):
    __tablename__ = "canned_replies"
    __table_args__ = (UniqueConstraint("client_id", "shortcut_folded"),)
    __folded__ = "shortcut"

    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    shortcut: Mapped[str] = mapped_column(String(40))
    shortcut_folded: Mapped[str] = folded_column()
    title: Mapped[str] = mapped_column(String(120))
    text: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class CannedReplyCreate(InSchema):
    client_id: Id
    shortcut: Shortcut
    title: Name
    text: ReplyText
    active: bool = True


class CannedReplyUpdate(InSchema):
    shortcut: Shortcut | None = None
    title: Name | None = None
    text: ReplyText | None = None
    active: bool | None = None


class CannedReplyOut(OutSchema):
    id: int
    client_id: int
    shortcut: str
    title: str
    text: str
    active: bool


class CannedReplyService(ScopedCrudService[CannedReply, CannedReplyCreate, CannedReplyUpdate]):
    model = CannedReply
    out_schema = CannedReplyOut
    entity = "canned_reply"
    search_columns = ("shortcut", "title")

    async def build(self, session: AsyncSession, data: CannedReplyCreate) -> CannedReply:
        await self.ensure_unique(session, data.client_id, "shortcut", data.shortcut)
        return CannedReply(client_id=data.client_id, shortcut=data.shortcut, title=data.title, text=data.text,
                           active=data.active)

    async def apply(self, session: AsyncSession, obj: CannedReply, data: CannedReplyUpdate) -> None:
        changes = data.model_dump(exclude_unset=True, exclude_none=True)
        if "shortcut" in changes:
            await self.ensure_unique(session, obj.client_id, "shortcut", changes["shortcut"], exclude_id=obj.id)
        for key, value in changes.items():
            setattr(obj, key, value)

    async def suggestions(self, session: AsyncSession, caller: Caller, client_id: int,
                          typed: str) -> list[CannedReply]:
        """Active replies whose shortcut starts with ``typed`` (without the slash), best first."""
        caller.membership(client_id)
        prefix = typed.strip().lower().lstrip("/")[:40]
        stmt = (self.scoped([client_id]).where(CannedReply.active.is_(True), starts_with(CannedReply.shortcut, prefix))
                .order_by(func.length(CannedReply.shortcut), CannedReply.shortcut).limit(MAX_SUGGESTIONS))
        return list((await session.scalars(stmt)).all())

    async def by_shortcut(self, session: AsyncSession, caller: Caller, client_id: int,
                          shortcut: str) -> CannedReply | None:
        caller.membership(client_id)
        return await session.scalar(self.scoped([client_id]).where(
            CannedReply.active.is_(True), CannedReply.shortcut == shortcut.strip().lower().lstrip("/")))

    async def all_of(self, session: AsyncSession, caller: Caller, client_id: int) -> list[CannedReply]:
        caller.membership(client_id)
        return list((await session.scalars(self.scoped([client_id]).order_by(CannedReply.shortcut))).all())


canned_reply_service = CannedReplyService()
router = crud_router(service=canned_reply_service, create_schema=CannedReplyCreate, update_schema=CannedReplyUpdate,
                     out_schema=CannedReplyOut, prefix="/api/v1/canned-replies", tag="canned replies")
