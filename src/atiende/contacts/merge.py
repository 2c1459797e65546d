"""Two contacts that are one person become one; a person's erasure removes what identifies them.

Merge: identities, conversations (with their assignments), consent and attributes move to the
kept contact; the other is deleted; the audit log records both. Both rows are locked in id order
first, so two merges (or a merge and a routed message) never interleave.

Erase: name, phone, email, document, attributes and identities go; the texts and attachments
(and stored files) of the contact's messages, fields and survey answers are blanked. The
conversation rows stay, so reports keep their counts, attached to an anonymous contact.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from atiende.audit.models import AuditAction
from atiende.audit.service import audit_service
from atiende.auth.caller import Caller
from atiende.auth.models import Role
from atiende.channels.media import MediaStore
from atiende.contacts.models import ConsentChange, ContactConsent
from atiende.contacts.service import SUPERVISING, fill_blanks, snapshot
from atiende.conversations.models import (
    Assignment, Contact, ContactIdentity, Conversation, ConversationStatus, InboundDelivery, Message, SurveyResponse,
)
from atiende.db import on_commit
from atiende.errors import Conflict, Invalid
from atiende.settings import Settings


class MergeSame(Invalid):
    code = "contact.merge_same"

    def __init__(self) -> None:
        super().__init__("A contact cannot be merged with itself", field="other_contact_id")


class MergeOpenConflict(Conflict):
    code = "contact.merge_open_conflict"

    def __init__(self, campaign_id: int) -> None:
        super().__init__("Both contacts have an open conversation in the same campaign; close one first",
                         field="other_contact_id", extra={"campaign_id": campaign_id})


class EraseNotConfirmed(Invalid):
    code = "contact.erase_not_confirmed"

    def __init__(self) -> None:
        super().__init__("Type the contact's id to confirm the erasure", field="confirm")


async def _lock(session: AsyncSession, *ids: int) -> dict[int, Contact]:
    rows = (await session.scalars(select(Contact).where(Contact.id.in_(ids)).order_by(Contact.id)
                                  .with_for_update().execution_options(populate_existing=True))).all()
    return {c.id: c for c in rows}


async def merge(session: AsyncSession, caller: Caller, keep: Contact, other: Contact, *, now: datetime) -> Contact:
    """Move ``other`` into ``keep`` (both already loaded for the caller, so of one client)."""
    caller.require(keep.client_id, *SUPERVISING, field_name="other_contact_id")
    if keep.id == other.id:
        raise MergeSame()
    locked = await _lock(session, keep.id, other.id)
    keep, other = locked[keep.id], locked[other.id]
    await _refuse_twin_open_conversations(session, keep.id, other.id)
    before_keep, before_other = snapshot(keep), snapshot(other)
    moved = await _move_rows(session, keep.id, other.id)
    await _merge_consent(session, keep.id, other.id)
    phone, exclusive = other.phone, other.exclusive_agent_id
    fill_blanks(keep, name=other.name, email=other.email, document_id=other.document_id, attributes=other.attributes)
    await session.execute(delete(Contact).where(Contact.id == other.id))
    await session.flush()
    if keep.phone is None and phone is not None:
        keep.phone = phone  # after the other row is gone: the phone is unique per client
    if keep.exclusive_agent_id is None:
        keep.exclusive_agent_id = exclusive
    keep.updated_at = now
    await session.flush()
    await audit_service.record(session, caller=caller, action=AuditAction.delete, entity_type="contact",
                               entity_id=other.id, client_id=keep.client_id, at=now, before=before_other,
                               after={"merged_into": keep.id})
    await audit_service.record(session, caller=caller, action=AuditAction.update, entity_type="contact",
                               entity_id=keep.id, client_id=keep.client_id, at=now, before=before_keep,
                               after={**snapshot(keep), "merged_from": other.id, **moved})
    return keep


async def _refuse_twin_open_conversations(session: AsyncSession, keep_id: int, other_id: int) -> None:
    open_rows = (await session.execute(select(Conversation.campaign_id, Conversation.contact_id).where(
        Conversation.contact_id.in_((keep_id, other_id)), Conversation.status != ConversationStatus.closed))).all()
    seen: dict[int, int] = {}
    for campaign_id, contact_id in open_rows:
        if seen.get(campaign_id, contact_id) != contact_id:
            raise MergeOpenConflict(campaign_id)
        seen[campaign_id] = contact_id


async def _move_rows(session: AsyncSession, keep_id: int, other_id: int) -> dict[str, Any]:
    counts: dict[str, Any] = {}
    for name, table in (("identities", ContactIdentity), ("conversations", Conversation),
                        ("assignments", Assignment), ("consent_changes", ConsentChange)):
        result = await session.execute(update(table).where(table.contact_id == other_id)  # type: ignore[attr-defined]
                                       .values(contact_id=keep_id).execution_options(synchronize_session=False))
        counts[f"moved_{name}"] = result.rowcount  # type: ignore[attr-defined]
    return counts


async def _merge_consent(session: AsyncSession, keep_id: int, other_id: int) -> None:
    """Opted out on a channel kind if either was: a merge never re-subscribes anyone."""
    rows = (await session.scalars(select(ContactConsent).where(ContactConsent.contact_id.in_((keep_id, other_id)))
                                  .with_for_update())).all()
    kept = {r.channel_kind: r for r in rows if r.contact_id == keep_id}
    for row in [r for r in rows if r.contact_id == other_id]:
        mine = kept.get(row.channel_kind)
        if mine is None:
            row.contact_id = keep_id
        else:
            if row.opted_out and not mine.opted_out:
                mine.opted_out, mine.changed_at = True, row.changed_at
            await session.delete(row)
    await session.flush()


async def erase(session: AsyncSession, caller: Caller, contact: Contact, *, confirm: int, now: datetime,
                settings: Settings) -> Contact:
    """Admin only; ``confirm`` must repeat the contact's id."""
    caller.require(contact.client_id, Role.admin)
    if confirm != contact.id:
        raise EraseNotConfirmed()
    contact = (await _lock(session, contact.id))[contact.id]
    before = {k: bool(v) for k, v in snapshot(contact).items()}  # what was there, never the values
    conversation_ids = list((await session.scalars(select(Conversation.id).where(
        Conversation.contact_id == contact.id))).all())
    files = await _attachments(session, conversation_ids)
    on_commit(session, _file_remover(settings, files))  # only once the erasure is durable
    if conversation_ids:
        await session.execute(update(Message).where(Message.conversation_id.in_(conversation_ids))
                              .values(text="", attachments=[], choices=None))
        await session.execute(update(Conversation).where(Conversation.id.in_(conversation_ids))
                              .values(field_values={}, bot_state=None))
        await session.execute(update(SurveyResponse).where(SurveyResponse.conversation_id.in_(conversation_ids))
                              .values(answer="", value=None))
        await session.execute(update(InboundDelivery).where(InboundDelivery.conversation_id.in_(conversation_ids))
                              .values(payload={"erased": True}))
    await session.execute(delete(ContactIdentity).where(ContactIdentity.contact_id == contact.id))
    contact.name, contact.phone, contact.email, contact.document_id = "", None, None, None
    contact.attributes, contact.exclusive_agent_id = {}, None
    contact.erased_at = contact.updated_at = now
    await session.flush()
    await audit_service.record(session, caller=caller, action=AuditAction.delete, entity_type="contact",
                               entity_id=contact.id, client_id=contact.client_id, at=now, before=before,
                               after={"erased": True, "conversations": len(conversation_ids),
                                      "attachments": len(files)})
    return contact


async def _attachments(session: AsyncSession, conversation_ids: list[int]) -> list[str]:
    if not conversation_ids:
        return []
    urls: list[str] = []
    for attachments in (await session.scalars(select(Message.attachments).where(
            Message.conversation_id.in_(conversation_ids)))).all():
        for item in attachments or []:
            url = item.get("url") if isinstance(item, dict) else None
            if url:
                urls.append(url)
    return urls


def _file_remover(settings: Settings, urls: list[str]):  # noqa: ANN202 - an after-commit action
    async def remove() -> None:
        store = MediaStore(settings)
        for url in urls:
            path = store.local_path(url)
            if path is not None:
                path.unlink(missing_ok=True)

    return remove
