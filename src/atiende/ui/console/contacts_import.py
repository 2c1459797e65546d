"""Contactos → Importar: upload a CSV or XLSX, see its first rows, map the columns, choose the
region for phones without a country code, import (a durable job) with a progress bar, download
the row report."""

from typing import Any

from nicegui import events, ui

from atiende.contacts import imports
from atiende.contacts.imports import BASE_FIELDS, IGNORE
from atiende.contacts.models import ContactImport, ImportStatus
from atiende.errors import AtiendeError
from atiende.i18n import t
from atiende.ui.components import page_heading, testid
from atiende.ui.console.contacts import report_bytes
from atiende.ui.context import PageContext, act
from atiende.ui.runtime import runtime
from atiende.ui.workspace import errors as toast_errors
from atiende.web import LARGE_BODY_PATHS

REGIONS = ("CO", "MX", "PE", "CL", "AR", "EC", "VE", "ES", "US")


class ImportScreen:
    def __init__(self, context: PageContext) -> None:
        self.context = context
        self.record: ContactImport | None = None
        self.sample: list[list[str]] = []
        self.mapping: dict[str, str] = {}
        self.region = "CO"
        self.keys: list[str] = []
        self.timer: ui.timer | None = None

    async def mount(self) -> None:
        page_heading(t("contacts.import_title"), subtitle=t("contacts.import_subtitle"))
        testid(ui.button(t("contacts.back"), icon="arrow_back", on_click=lambda: ui.navigate.to("/contacts"))
               .props("flat no-caps"), "import-back")
        limit = runtime().settings.contacts_import_max_bytes
        upload = ui.upload(auto_upload=True, on_upload=self.uploaded, max_file_size=limit,
                           label=t("contacts.import_pick")).props('accept=".csv,.xlsx,.txt" data-testid="import-upload"')
        LARGE_BODY_PATHS[upload.props["url"]] = limit + 65536
        ui.context.client.on_disconnect(lambda: LARGE_BODY_PATHS.pop(upload.props["url"], None))
        ui.label(t("contacts.import_help")).classes("text-caption text-grey-7")
        self.timer = ui.timer(0.5, self.poll, active=False)  # here: a timer made in a handler dies with its row
        self.body()

    async def uploaded(self, event: events.UploadEventArguments) -> None:
        try:
            async with act() as acting:
                record, sample = await imports.create(
                    acting.session, acting.caller, self.context.client_id, filename=event.file.name,
                    chunks=event.file.iterate(chunk_size=256 * 1024), settings=runtime().settings,
                    now=acting.clock.now())
                self.keys = await imports.attribute_keys(acting.session, self.context.client_id)
                self.mapping = imports.suggest(record.columns, self.keys)
        except AtiendeError as exc:
            toast_errors.show(exc)
            return
        self.record, self.sample, self.region = record, sample, record.default_region
        self.body.refresh()

    @ui.refreshable_method
    def body(self) -> None:
        record = self.record
        if record is None:
            return
        if record.status == ImportStatus.uploaded:
            self._mapping(record)
        else:
            self._progress(record)

    def _mapping(self, record: ContactImport) -> None:
        fields = {IGNORE: t("contacts.field.ignore"), **{f: t(f"contacts.field.{f}") for f in BASE_FIELDS},
                  **{f"attribute:{k}": t("contacts.field.attribute", name=k) for k in self.keys}}
        with ui.card().classes("w-full gap-2").props('data-testid="import-preview"'):
            ui.label(t("contacts.import_preview", name=record.filename)).classes("text-subtitle1")
            with ui.element("div").classes("w-full overflow-x-auto"):
                with ui.element("q-markup-table").props("flat bordered dense").classes("w-full"):
                    with ui.element("thead"):
                        with ui.element("tr"):
                            for column in record.columns:
                                with ui.element("th").classes("text-left"):
                                    ui.label(column)
                        with ui.element("tr"):
                            for index, column in enumerate(record.columns):
                                with ui.element("th"):
                                    select = testid(ui.select(fields, value=self.mapping.get(column, IGNORE))
                                                    .props("outlined dense options-dense").classes("w-40"),
                                                    f"map-{index}")
                                    select.on_value_change(lambda e, c=column: self.mapping.__setitem__(c, e.value))
                    with ui.element("tbody"):
                        for row in self.sample:
                            with ui.element("tr"):
                                for cell in row[:len(record.columns)]:
                                    with ui.element("td"):
                                        ui.label(cell)
            with ui.row().classes("items-center gap-2"):
                region = testid(ui.select({r: r for r in REGIONS} | {self.region: self.region}, value=self.region,
                                          label=t("contacts.import_region")).props("outlined dense").classes("w-40"),
                                "import-region")
                region.on_value_change(lambda e: setattr(self, "region", e.value))
                testid(ui.button(t("contacts.import_start"), icon="play_arrow", on_click=self.start)
                       .props("unelevated no-caps color=primary"), "import-start")

    async def start(self) -> None:
        assert self.record is not None
        try:
            async with act() as acting:
                record = await imports.get(acting.session, acting.caller, self.record.id)
                await imports.start(acting.session, acting.caller, record, dict(self.mapping), self.region,
                                    now=acting.clock.now())
        except AtiendeError as exc:
            toast_errors.show(exc)
            return
        runtime().app.state.worker.wake()
        self.record = record
        self.body.refresh()
        if self.timer is not None:
            self.timer.activate()

    async def poll(self) -> None:
        assert self.record is not None
        async with act() as acting:
            self.record = await imports.get(acting.session, acting.caller, self.record.id)
        self.body.refresh()
        if self.record.status in (ImportStatus.done, ImportStatus.failed) and self.timer is not None:
            self.timer.deactivate()

    def _progress(self, record: ContactImport) -> None:
        with ui.card().classes("w-full gap-2").props('data-testid="import-progress"'):
            total = record.total_rows or 0
            share = (record.processed / total) if total else 0.0
            ui.linear_progress(value=share if record.status != ImportStatus.done else 1.0, show_value=False) \
                .props('data-testid="import-bar" instant-feedback')
            ui.label(t(f"contacts.import_status.{record.status.value}", done=record.processed, total=total)) \
                .props('data-testid="import-status"')
            if record.status == ImportStatus.failed:
                where = t("contacts.import_where", row=record.error_row, column=record.error_column or "")
                message = t(f"errors.{record.error}") + (f" ({where})" if record.error_row else "")
                ui.label(message).classes("text-negative").props('role="alert" data-testid="import-error"')
            if record.status == ImportStatus.done:
                ui.label(t("contacts.import_counts", **record.counts)).props('data-testid="import-counts"')
                testid(ui.button(t("contacts.import_report"), icon="download", on_click=self.report)
                       .props("outline no-caps"), "import-report")

    async def report(self) -> None:
        assert self.record is not None
        async with act() as acting:
            record = await imports.get(acting.session, acting.caller, self.record.id)
            lines: list[list[Any]] = [line async for line in imports.report_lines(acting.session, record)]
        ui.download.content(report_bytes(lines, imports.REPORT_HEADER), f"importacion-{record.id}.csv", "text/csv")
