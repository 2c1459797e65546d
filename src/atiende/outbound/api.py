"""Sends (envíos) over REST: the wizard's steps, the actions, the recipients and the results."""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Path, Query, Response, UploadFile, status

from atiende.campaigns.api import CampaignPath
from atiende.contacts.api import contact_filters
from atiende.contacts.service import ContactFilters
from atiende.conversations.api import ConversationPath
from atiende.deps import ClockDep, CurrentCaller, DbSession, EngineDep, SupervisorsWrite
from atiende.kit.schemas import MAX_ID
from atiende.outbound import hooks  # noqa: F401  (statuses and replies reach the sends)
from atiende.outbound.engine import send_test
from atiende.outbound.models import OutboundSend, RecipientState, SendStatus
from atiende.outbound.schemas import (
    AudienceOut, MessageIn, ProgrammeIn, RecipientPage, SendContextOut, SendCreate, SendOut, TestSendIn,
    TestSendOut,
)
from atiende.outbound.service import outbound_service
from atiende.outbound.schemas import TimelineOut
from atiende.outbound.timeline import send_timeline

# Sends are written by admins and supervisors: the role is checked before the path or the body.
router = APIRouter(prefix="/api/v1", tags=["outbound sends"], dependencies=[SupervisorsWrite])


async def send_path(send_id: Annotated[int, Path(ge=1, le=MAX_ID)], session: DbSession,
                    caller: CurrentCaller) -> OutboundSend:
    return await outbound_service.get(session, caller, send_id)


SendPath = Annotated[OutboundSend, Depends(send_path)]


async def _out(session: DbSession, send: OutboundSend, now: datetime | None = None) -> SendOut:
    """The send and its counters; with ``now``, a draft's review counts too."""
    out = SendOut.model_validate(send)
    out.counts = await outbound_service.counts(session, send)
    if now is not None and send.status == SendStatus.draft:
        out.review = await outbound_service.review(session, send, now=now)
    return out


@router.get("/campaigns/{campaign_id}/sends", response_model=list[SendOut],
            summary="The campaign's sends, newest first (admins and supervisors)")
async def list_sends(campaign: CampaignPath, session: DbSession, caller: CurrentCaller, clock: ClockDep) -> Any:
    return [await _out(session, s, clock.now())
            for s in await outbound_service.of_campaign(session, caller, campaign)]


@router.post("/campaigns/{campaign_id}/sends", response_model=SendOut, status_code=status.HTTP_201_CREATED,
             summary="Start a send (a draft) on one of the campaign's channels: WhatsApp (the default), "
                     "Telegram or API")
async def create_send(campaign: CampaignPath, body: SendCreate, session: DbSession, caller: CurrentCaller,
                      clock: ClockDep) -> Any:
    return await _out(session, await outbound_service.create(session, caller, campaign, name=body.name,
                                                             now=clock.now(), channel_id=body.channel_id))


@router.get("/sends/{send_id}", response_model=SendOut, summary="A send, with its counters per recipient state")
async def read_send(send: SendPath, session: DbSession, clock: ClockDep) -> Any:
    return await _out(session, send, clock.now())


@router.post("/sends/{send_id}/audience", response_model=AudienceOut,
             summary="Audiencia: upload the list (CSV or XLSX); rows become or update contacts")
async def upload_audience(send: SendPath, session: DbSession,
                          file: Annotated[UploadFile, File(description="CSV or XLSX; the first row names the columns")],
                          phone_column: Annotated[str | None, Form(max_length=120)] = None,
                          name_column: Annotated[str | None, Form(max_length=120)] = None,
                          default_region: Annotated[str | None, Form(pattern="^[A-Z]{2}$")] = None) -> Any:
    """Columns other than the phone become the send's variables. Invalid phones and repeated
    phones are kept as omitted rows and listed in `errors` (row numbers count the header as 1)."""
    content = await file.read()
    report = await outbound_service.upload_audience(session, send, filename=file.filename or "", content=content,
                                                    phone_column=phone_column, name_column=name_column,
                                                    default_region=default_region)
    return report


@router.post("/sends/{send_id}/audience/directory", response_model=AudienceOut,
             summary="Audiencia: the contacts of a filter of the directory (the query of GET /contacts)")
async def audience_from_directory(send: SendPath, session: DbSession, caller: CurrentCaller,
                                  filters: Annotated[ContactFilters, Depends(contact_filters)]) -> Any:
    """The filters are those of `GET /api/v1/contacts` (search, channel, exclusive agent, opted
    out, created between). Each contact's `nombre`, `correo`, `documento` and attributes become
    the send's variables; contacts without a phone are listed in `errors`."""
    return await outbound_service.audience_from_directory(session, caller, send, filters)


@router.put("/sends/{send_id}/message", response_model=SendOut,
            summary="Mensaje: on WhatsApp an approved template, each parameter mapped to a column or a value; "
                    "on Telegram and API channels `text` with {column} placeholders")
async def set_message(send: SendPath, body: MessageIn, session: DbSession) -> Any:
    await outbound_service.set_message(session, send, template_name=body.template_name, language=body.language,
                                       mapping=body.mapping.model_dump(exclude_none=True), text=body.text)
    return await _out(session, send)


@router.post("/sends/{send_id}/test", response_model=TestSendOut,
             summary="Enviar prueba: the message, with the first row's values, to one phone")
async def test_send(send: SendPath, body: TestSendIn, session: DbSession, engine: EngineDep) -> Any:
    return TestSendOut(wamid=await send_test(session, engine, send, body.phone))


@router.put("/sends/{send_id}/programme", response_model=SendOut,
            summary="Programación: start time, rate, sending window")
async def set_programme(send: SendPath, body: ProgrammeIn, session: DbSession, clock: ClockDep) -> Any:
    await outbound_service.set_programme(session, send, start_at=body.start_at, rate_per_second=body.rate_per_second,
                                         respect_schedule=body.respect_schedule,
                                         max_consecutive_failures=body.max_consecutive_failures, now=clock.now())
    return await _out(session, send)


@router.post("/sends/{send_id}/launch", response_model=SendOut, summary="Programar: hand the send to the engine")
async def launch(send: SendPath, session: DbSession, clock: ClockDep) -> Any:
    await outbound_service.launch(session, send, now=clock.now())
    return await _out(session, send)


@router.post("/sends/{send_id}/pause", response_model=SendOut, summary="Pausar")
async def pause(send: SendPath, session: DbSession) -> Any:
    await outbound_service.pause(session, send)
    return await _out(session, send)


@router.post("/sends/{send_id}/resume", response_model=SendOut, summary="Reanudar")
async def resume(send: SendPath, session: DbSession, clock: ClockDep) -> Any:
    await outbound_service.resume(session, send, now=clock.now())
    return await _out(session, send)


@router.post("/sends/{send_id}/cancel", response_model=SendOut,
             summary="Cancelar: recipients not yet tried are omitted")
async def cancel(send: SendPath, session: DbSession, clock: ClockDep) -> Any:
    await outbound_service.cancel(session, send, now=clock.now())
    return await _out(session, send)


@router.get("/sends/{send_id}/recipients", response_model=RecipientPage, summary="The recipients, searchable")
async def recipients(send: SendPath, session: DbSession, q: Annotated[str | None, Query(max_length=100)] = None,
                     state: RecipientState | None = None, page: Annotated[int, Query(ge=1, le=100_000)] = 1,
                     limit: Annotated[int, Query(ge=1, le=100)] = 20) -> Any:
    items, total = await outbound_service.recipients(session, send, q=q, state=state, offset=(page - 1) * limit,
                                                     limit=limit)
    return {"items": items, "total": total, "page": page, "limit": limit}


@router.get("/sends/{send_id}/results.csv", response_class=Response,
            summary="Descargar resultados: one row per recipient with every state time and error")
async def results(send: SendPath, session: DbSession) -> Response:
    return Response(await outbound_service.results_csv(session, send), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="envio-{send.id}-resultados.csv"'})


@router.get("/sends/{send_id}/timeline", response_model=TimelineOut,
            summary="The chart over time: per bucket, recipients sent, delivered, read, failed and replied")
async def timeline(send: SendPath, session: DbSession) -> Any:
    """Buckets of 1 s, 10 s, 1 min, 5 min, 15 min, 1 h or whole days (the client's time zone), the
    smallest that keeps the send's span within 120 of them; buckets without events count zero."""
    return await send_timeline(session, send)


@router.get("/conversations/{conversation_id}/send", response_model=SendContextOut | None,
            summary="The send this conversation answers (null if none), for the agent's side panel")
async def conversation_send(conversation: ConversationPath, session: DbSession) -> Any:
    found = await hooks.send_context(session, conversation)
    if found is None:
        return None
    send, recipient = found
    return SendContextOut(send_id=send.id, send_name=send.name, template_name=send.template_name, text=recipient.text,
                          sent_at=recipient.sent_at, variables=recipient.variables)
