"""REST for contacts imports: upload and preview, start with a mapping, follow, download the report."""

import csv
import io
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Path, Query, UploadFile, status
from fastapi.responses import StreamingResponse

import atiende.contacts.jobs  # noqa: F401  (registers the import job wherever the API is served)
from atiende.auth.caller import Caller
from atiende.contacts import imports
from atiende.contacts.models import ContactImport
from atiende.contacts.schemas import ImportOut, ImportStart
from atiende.db import Database
from atiende.deps import ClockDep, CurrentCaller, DatabaseDep, DbSession, SettingsDep, SupervisorsWrite
from atiende.kit.schemas import MAX_ID
from atiende.reports.filters import client_of

router = APIRouter(prefix="/api/v1/contacts/imports", tags=["contacts"], dependencies=[SupervisorsWrite])
IdQuery = Annotated[int | None, Query(ge=1, le=MAX_ID)]


async def import_path(import_id: Annotated[int, Path(ge=1, le=MAX_ID)], session: DbSession,
                      caller: CurrentCaller) -> ContactImport:
    return await imports.get(session, caller, import_id)


ImportPath = Annotated[ContactImport, Depends(import_path)]


def out(record: ContactImport, sample: list[list[str]] | None = None, suggested: dict[str, str] | None = None) -> ImportOut:
    data = {c.key: getattr(record, c.key) for c in ContactImport.__table__.columns}
    return ImportOut(**{k: v for k, v in data.items() if k in ImportOut.model_fields},
                     preview=sample if sample is not None else imports.sample_of(record),
                     suggested_mapping=suggested or {})


async def _chunks(file: UploadFile) -> AsyncIterator[bytes]:
    while chunk := await file.read(64 * 1024):
        yield chunk


@router.post("", response_model=ImportOut, status_code=status.HTTP_201_CREATED,
             summary="Upload a CSV or XLSX file: its columns, first rows and a suggested mapping")
async def upload(session: DbSession, caller: CurrentCaller, clock: ClockDep, settings: SettingsDep,
                 file: Annotated[UploadFile, File(description="CSV (; or ,; UTF-8 or Latin-1) or XLSX")],
                 client_id: IdQuery = None) -> Any:
    cid = client_of(caller, client_id)
    record, sample = await imports.create(session, caller, cid, filename=file.filename or "",
                                          chunks=_chunks(file), settings=settings, now=clock.now())
    suggested = imports.suggest(record.columns, await imports.attribute_keys(session, cid))
    return out(record, sample, suggested)


@router.get("/{import_id}", response_model=ImportOut, summary="An import: mapping, status and progress")
async def read_import(record: ImportPath) -> Any:
    return out(record)


@router.post("/{import_id}/start", response_model=ImportOut, status_code=status.HTTP_202_ACCEPTED,
             summary="Import with this mapping (a durable job; follow it with GET)")
async def start_import(record: ImportPath, body: ImportStart, session: DbSession, caller: CurrentCaller,
                       clock: ClockDep) -> Any:
    await imports.start(session, caller, record, body.mapping, body.default_region, now=clock.now())
    return out(record)


async def report_csv(database: Database, caller: Caller, import_id: int) -> AsyncIterator[bytes]:
    async with database.session() as session:
        record = await imports.get(session, caller, import_id)
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(imports.REPORT_HEADER)
        yield ("\ufeff" + buffer.getvalue()).encode()
        async for line in imports.report_lines(session, record):
            buffer.seek(0)
            buffer.truncate()
            writer.writerow(line)
            yield buffer.getvalue().encode()


@router.get("/{import_id}/report.csv", response_class=StreamingResponse,
            summary="The result of every row: created, updated, skipped as duplicate, refused (with the reason)")
async def download_report(record: ImportPath, caller: CurrentCaller, database: DatabaseDep) -> StreamingResponse:
    return StreamingResponse(report_csv(database, caller, record.id), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="importacion-{record.id}.csv"'})
