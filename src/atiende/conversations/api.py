"""REST for agents and supervisors working conversations; every rule is in the services."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, status
from sqlalchemy import select

from atiende.campaigns.models import Campaign
from atiende.conversations.models import Conversation, ConversationStatus, Message
from atiende.conversations.schemas import (
    AssignIn, CloseIn, ConversationDetailOut, ConversationOut, FieldsIn, MessageIn, MessageOut, StageIn, TransferIn,
)
from atiende.conversations.service import ConversationView, conversation_service
from atiende.conversations.workview import transfer_targets as targets
from atiende.deps import CurrentCaller, DbSession, EngineDep, SupervisorsWrite
from atiende.kit.pagination import Page, PageDep
from atiende.kit.schemas import MAX_ID, OutSchema

router = APIRouter(prefix="/api/v1/conversations", tags=["conversations"])


async def conversation_path(conversation_id: Annotated[int, Path(ge=1, le=MAX_ID)], session: DbSession,
                            caller: CurrentCaller) -> Conversation:
    return await conversation_service.get(session, caller, conversation_id)


ConversationPath = Annotated[Conversation, Depends(conversation_path)]
IdQuery = Annotated[int | None, Query(ge=1, le=MAX_ID)]


def summary(conversation: Conversation, phone: str | None) -> dict[str, Any]:
    data = ConversationOut.model_validate(conversation).model_dump()
    data["contact"]["phone"] = phone
    return data


def detail(view: ConversationView) -> dict[str, Any]:
    data = summary(view.conversation, view.phone)
    data.update(
        messages=[MessageOut.model_validate(m) for m in view.messages],
        assignments=view.assignments, survey=view.survey,
        history=[{"id": c.id, "opened_at": c.opened_at, "closed_at": c.closed_at,
                  "typification_id": c.typification_id, "messages": messages} for c, messages in view.history])
    return data


async def _phones(session: DbSession, caller: CurrentCaller, items: list[Conversation]) -> dict[int, bool]:
    ids = {c.campaign_id for c in items}
    campaigns = (await session.scalars(select(Campaign).where(Campaign.id.in_(ids)))).all() if ids else []
    return {c.id: conversation_service.shows_phone(caller, c) for c in campaigns}


@router.get("", response_model=Page[ConversationOut],
            summary="Conversations (agents: their own; supervisors and admins: their clients')")
async def list_conversations(session: DbSession, caller: CurrentCaller, page: PageDep,
                             client_id: IdQuery = None, status: ConversationStatus | None = None,
                             campaign_id: IdQuery = None,
                             membership_id: Annotated[int | None, Query(
                                 ge=1, le=MAX_ID, description="The agent serving it now")] = None) -> Any:
    items, total = await conversation_service.list_visible(session, caller, page=page, client_id=client_id, status=status,
                                                   campaign_id=campaign_id, membership_id=membership_id)
    shows = await _phones(session, caller, items)
    return {"items": [summary(c, c.contact.phone if shows.get(c.campaign_id) else None) for c in items],
            "total": total, "page": page.page, "limit": page.limit}


@router.get("/{conversation_id}", response_model=ConversationDetailOut,
            summary="A conversation with its messages, fields, assignments, survey and the contact's history")
async def read_conversation(conversation: ConversationPath, session: DbSession, caller: CurrentCaller,
                            engine: EngineDep) -> Any:
    return detail(await conversation_service.view(session, caller, conversation, now=engine.clock.now()))


@router.post("/{conversation_id}/messages", response_model=MessageOut, status_code=status.HTTP_201_CREATED,
             summary="Answer the contact (the assigned agent); delivered by the channel with retries")
async def send_message(conversation: ConversationPath, body: MessageIn, session: DbSession, caller: CurrentCaller,
                       engine: EngineDep) -> Message:
    return await conversation_service.send_message(session, engine, caller, conversation, text=body.text,
                                                   attachments=body.attachments)


async def _reloaded(session: DbSession, caller: CurrentCaller, conversation: Conversation) -> dict[str, Any]:
    shows = await _phones(session, caller, [conversation])
    return summary(conversation, conversation.contact.phone if shows.get(conversation.campaign_id) else None)


@router.post("/{conversation_id}/transfer", response_model=ConversationOut,
             summary="Hand the conversation to another eligible agent of the campaign")
async def transfer(conversation: ConversationPath, body: TransferIn, session: DbSession, caller: CurrentCaller,
                   engine: EngineDep) -> Any:
    done = await conversation_service.transfer(session, engine, caller, conversation,
                                               to_membership_id=body.membership_id)
    return await _reloaded(session, caller, done)


class TransferTargetOut(OutSchema):
    """An agent who could take the conversation now: all an agent's workspace needs to know of a colleague."""

    membership_id: int
    name: str
    load: int
    capacity: int


@router.get("/{conversation_id}/transfer-targets", response_model=list[TransferTargetOut],
            summary="Agents the caller may transfer this conversation to now (empty when the caller may not)")
async def transfer_targets(conversation: ConversationPath, session: DbSession, caller: CurrentCaller) -> Any:
    return [TransferTargetOut(membership_id=x.membership_id, name=x.name, load=x.load, capacity=x.capacity)
            for x in await targets(session, caller, conversation.id)]


@router.post("/{conversation_id}/assign", response_model=ConversationOut,
             dependencies=[SupervisorsWrite],
             summary="Supervisors: give a queued conversation to an eligible agent of its campaign (Asignar a…)")
async def assign(conversation: ConversationPath, body: AssignIn, session: DbSession, caller: CurrentCaller,
                 engine: EngineDep) -> Any:
    done = await conversation_service.assign(session, engine, caller, conversation,
                                             to_membership_id=body.membership_id)
    return await _reloaded(session, caller, done)


@router.post("/{conversation_id}/take-over", response_model=ConversationOut, dependencies=[SupervisorsWrite],
             summary="Supervisors: take a conversation from the attention bot and give it to the agents")
async def take_over(conversation: ConversationPath, session: DbSession, caller: CurrentCaller,
                    engine: EngineDep) -> Any:
    done = await conversation_service.take_over_from_bot(session, engine, caller, conversation)
    return await _reloaded(session, caller, done)


@router.post("/{conversation_id}/close", response_model=ConversationOut,
             summary="Finish: required fields, optional typification; starts the survey if the campaign has one")
async def close(conversation: ConversationPath, body: CloseIn, session: DbSession, caller: CurrentCaller,
                engine: EngineDep) -> Any:
    done = await conversation_service.close(session, engine, caller, conversation,
                                            typification_id=body.typification_id, fields=body.fields)
    return await _reloaded(session, caller, done)


@router.patch("/{conversation_id}/fields", response_model=ConversationOut,
              summary="Fill dynamic fields (validated by type; null clears one)")
async def set_fields(conversation: ConversationPath, body: FieldsIn, session: DbSession, caller: CurrentCaller,
                     engine: EngineDep) -> Any:
    done = await conversation_service.set_fields(session, engine, caller, conversation, body.fields)
    return await _reloaded(session, caller, done)


@router.post("/{conversation_id}/stage", response_model=ConversationOut,
             summary="Move the conversation to a stage of the campaign's funnel")
async def set_stage(conversation: ConversationPath, body: StageIn, session: DbSession, caller: CurrentCaller,
                    engine: EngineDep) -> Any:
    done = await conversation_service.set_stage(session, engine, caller, conversation, body.stage_id)
    return await _reloaded(session, caller, done)
