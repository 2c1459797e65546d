"""REST routes of attention bots: the bot (CRUD), its knowledge base, import/export and a try-out."""

from enum import StrEnum
from typing import Annotated, Any

from fastapi import Depends, File, Path, Query, Response, UploadFile, status

from atiende.bots import transfer, unanswered
from atiende.bots.models import AttentionBot, KnowledgeEntry
from atiende.bots.schemas import (
    AttentionBotCreate, AttentionBotOut, AttentionBotUpdate, EntryCreate, EntryOut, EntryUpdate, ImportOut, LearnIn,
    TryIn, TryOut, UnansweredOut,
)
from atiende.bots.service import attention_bot_service
from atiende.deps import ClockDep, CurrentCaller, DbSession
from atiende.kit.crud import crud_router
from atiende.kit.pagination import Page, PageDep, SearchParam
from atiende.kit.schemas import MAX_ID

router = crud_router(service=attention_bot_service, create_schema=AttentionBotCreate,
                     update_schema=AttentionBotUpdate, out_schema=AttentionBotOut, prefix="/api/v1/attention-bots",
                     tag="attention bots")
BotLoaded = Annotated[AttentionBot, Depends(router.loader)]  # type: ignore[attr-defined]


async def _entry(bot: BotLoaded, session: DbSession,
                 entry_id: Annotated[int, Path(ge=1, le=MAX_ID)]) -> KnowledgeEntry:
    return await attention_bot_service.entry(session, bot, entry_id)


EntryLoaded = Annotated[KnowledgeEntry, Depends(_entry)]


class ExportFormat(StrEnum):
    csv = "csv"
    xlsx = "xlsx"


@router.get("/{item_id}/entries", response_model=Page[EntryOut], summary="List the bot's knowledge base")
async def list_entries(bot: BotLoaded, session: DbSession, page: PageDep, q: SearchParam = None,
                       category: Annotated[str | None, Query(max_length=120)] = None) -> Any:
    items, total = await attention_bot_service.entries(session, bot, page=page, q=q, category=category)
    return {"items": items, "total": total, "page": page.page, "limit": page.limit}


@router.post("/{item_id}/entries", response_model=EntryOut, status_code=status.HTTP_201_CREATED,
             summary="Add an entry to the knowledge base")
async def create_entry(bot: BotLoaded, body: EntryCreate, session: DbSession, caller: CurrentCaller,
                       clock: ClockDep) -> Any:
    return await attention_bot_service.add_entry(session, caller, bot, body, clock=clock)


@router.get("/{item_id}/entries/export", summary="The knowledge base as a CSV or XLSX file",
            response_class=Response)
async def export_entries(bot: BotLoaded, session: DbSession,
                         format: Annotated[ExportFormat, Query()] = ExportFormat.csv) -> Response:
    entries = await attention_bot_service.all_entries(session, bot)
    if format == ExportFormat.xlsx:
        body = transfer.to_xlsx(entries)
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        body, media = transfer.to_csv(entries), "text/csv; charset=utf-8"
    return Response(body, media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="base-conocimiento-{bot.id}.{format}"'})


@router.get("/{item_id}/entries/{entry_id}", response_model=EntryOut, summary="Read an entry")
async def read_entry(entry: EntryLoaded) -> Any:
    return entry


@router.patch("/{item_id}/entries/{entry_id}", response_model=EntryOut, summary="Update an entry")
async def update_entry(bot: BotLoaded, entry: EntryLoaded, body: EntryUpdate, session: DbSession,
                       caller: CurrentCaller, clock: ClockDep) -> Any:
    return await attention_bot_service.update_entry(session, caller, bot, entry, body, clock=clock)


@router.delete("/{item_id}/entries/{entry_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete an entry")
async def delete_entry(bot: BotLoaded, entry: EntryLoaded, session: DbSession, caller: CurrentCaller,
                       clock: ClockDep) -> None:
    await attention_bot_service.delete_entry(session, caller, bot, entry, clock=clock)


@router.post("/{item_id}/entries/import", response_model=ImportOut,
             summary="Import entries from a CSV or XLSX file (same question: replaced)")
async def import_entries(bot: BotLoaded, session: DbSession, caller: CurrentCaller, clock: ClockDep,
                         file: Annotated[UploadFile, File(description="pregunta, frases, respuesta, enlace, "
                                                                      "botones, categoria, activa")]) -> Any:
    content = await file.read(transfer.MAX_BYTES + 1)
    rows = transfer.parse(file.filename or "", content)
    created, updated = await attention_bot_service.import_entries(session, caller, bot, rows, clock=clock)
    return {"created": created, "updated": updated}


@router.post("/{item_id}/try", response_model=TryOut, summary="Probar bot: what the bot answers, and why")
async def try_bot(bot: BotLoaded, body: TryIn, session: DbSession) -> Any:
    return await attention_bot_service.try_text(session, bot, body.text)


@router.get("/{item_id}/unanswered", response_model=Page[UnansweredOut],
            summary="What customers asked that the bot did not understand, most asked first")
async def list_unanswered(bot: BotLoaded, session: DbSession, caller: CurrentCaller, page: PageDep) -> Any:
    items, total = await unanswered.listing(session, caller, bot, page)
    return {"items": items, "total": total, "page": page.page, "limit": page.limit}


@router.post("/{item_id}/unanswered/{question_id}/learn", response_model=EntryOut,
             summary="Teach the bot an unanswered question: a phrasing of an entry, or a new entry")
async def learn_unanswered(bot: BotLoaded, body: LearnIn, session: DbSession, caller: CurrentCaller, clock: ClockDep,
                           question_id: Annotated[int, Path(ge=1, le=MAX_ID)]) -> Any:
    return await attention_bot_service.learn(session, caller, bot, question_id, body, clock=clock)


@router.delete("/{item_id}/unanswered/{question_id}", status_code=status.HTTP_204_NO_CONTENT,
               summary="Dismiss an unanswered question")
async def dismiss_unanswered(bot: BotLoaded, session: DbSession, caller: CurrentCaller,
                             question_id: Annotated[int, Path(ge=1, le=MAX_ID)]) -> None:
    await unanswered.dismiss(session, caller, bot, question_id)
