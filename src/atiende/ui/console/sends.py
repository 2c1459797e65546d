"""Administración → Envíos: the sends of a campaign (admins and supervisors). A list with live
progress, and for each send the four steps of the wizard — Audiencia (upload, preview, row
errors), Mensaje (approved template, each parameter mapped, live preview), Programación,
Revisión — then Pausar / Reanudar / Cancelar, the counters, the recipients and Descargar
resultados. Everything goes through ``outbound_service``, the same rules as the REST API."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from nicegui import events, ui
from sqlalchemy import select

from atiende.campaigns.models import Campaign
from atiende.channels.models import Channel, ChannelKind
from atiende.catalog.models import Schedule
from atiende.contacts.service import ContactFilters
from atiende.channels.whatsapp.models import WhatsAppTemplate
from atiende.channels.whatsapp.service import as_template
from atiende.channels.whatsapp.templates import Template, TemplateParameterError
from atiende.errors import AtiendeError
from atiende.i18n import t
from atiende.outbound.engine import send_test
from atiende.outbound.models import OutboundRecipient, OutboundSend, SendStatus
from atiende.outbound.service import AudienceReport, outbound_service, render
from atiende.ui.components import empty_state, help_text, page_heading, testid
from atiende.ui.console.contacts import agent_choices
from atiende.ui.console.send_chart import SendChart
from atiende.ui.console.send_text import ChannelPicker, text_step
from atiende.ui.context import Acting, PageContext, act
from atiende.ui.errors import describe
from atiende.ui.layout import console_page
from atiende.ui.workspace.live import engine

FIXED = "__fixed__"
LIVE_AFTER_FINISH = timedelta(hours=1)
PROGRESSED = ("sent", "delivered", "read", "failed", "skipped", "uncertain")


class SendsScreen:
    def __init__(self, context: PageContext) -> None:
        self.context = context
        self.campaigns: list[Campaign] = []
        self.campaign_id: int | None = None
        self.send_id: int | None = None
        self.report: AudienceReport | None = None
        self.directory: tuple[str, int] = ("", 0)  # the directory picker's last search and cartera
        self.channel = ChannelPicker()  # the channel of the next new send

    async def mount(self) -> None:
        async with act() as acting:
            self.campaigns = list((await acting.session.scalars(select(Campaign).where(
                Campaign.client_id == self.context.client_id).order_by(Campaign.name))).all())
        wanted = self.context.query.get("campaign", "")
        ids = [c.id for c in self.campaigns]
        self.campaign_id = int(wanted) if wanted.isdigit() and int(wanted) in ids else (ids[0] if ids else None)
        page_heading(t("outbound.title"), subtitle=t("outbound.subtitle"), action=t("outbound.new"),
                     on_action=self.create, action_testid="send-create")
        if not self.campaigns:
            empty_state(t("outbound.no_campaigns"))
            return
        testid(ui.select({c.id: c.name for c in self.campaigns}, value=self.campaign_id, label=t("outbound.campaign"),
                         on_change=self.choose_campaign).props("outlined dense").style("min-width: 18rem"),
               "send-campaign")
        await self.channel.show(self._campaign())
        self.error = ui.label().classes("text-negative").props('role="alert" data-testid="send-error"')
        self.error.set_visibility(False)
        with ui.row().classes("w-full items-start gap-4 wrap"):
            with ui.column().classes("gap-2").style("flex: 1 1 320px"):
                await self.sends_list()
            with ui.column().classes("gap-2").style("flex: 3 1 640px; min-width: 0"):
                await self.detail()
                self.chart = SendChart()  # outside the refreshed detail: the timer updates it in place
                await self.chart.show(self.send_id)
        ui.timer(2.0, self.tick)

    def fail(self, exc: AtiendeError) -> None:
        self.error.set_text(" ".join(message for _, message in describe(exc)))
        self.error.set_visibility(True)

    async def choose_campaign(self, event: events.ValueChangeEventArguments) -> None:
        self.campaign_id, self.send_id, self.report = event.value, None, None
        await self.channel.show.refresh(self._campaign())
        await self.refresh()

    def _campaign(self) -> Campaign | None:
        return next((c for c in self.campaigns if c.id == self.campaign_id), None)

    async def refresh(self) -> None:
        self.error.set_visibility(False)
        await self.sends_list.refresh()
        await self.detail.refresh()
        await self.chart.show(self.send_id)

    async def tick(self) -> None:
        if self.send_id is not None and self._live:
            await self.refresh()

    _live = False  # sending, or finished in the last hour: statuses and replies still arrive

    async def create(self) -> None:
        campaign = next((c for c in self.campaigns if c.id == self.campaign_id), None)
        if campaign is None:
            return
        try:
            async with act() as acting:
                now = acting.clock.now()
                send = await outbound_service.create(acting.session, acting.caller, campaign,
                                                     name=t("outbound.default_name", date=now.strftime("%Y-%m-%d %H:%M")),
                                                     now=now, channel_id=self.channel.value)
                self.send_id = send.id
        except AtiendeError as exc:
            self.fail(exc)
            return
        self.report = None
        await self.refresh()

    async def open(self, send_id: int) -> None:
        self.send_id, self.report = send_id, None
        await self.refresh()

    @ui.refreshable_method
    async def sends_list(self) -> None:
        if self.campaign_id is None:
            return
        campaign = next(c for c in self.campaigns if c.id == self.campaign_id)
        async with act() as acting:
            sends = await outbound_service.of_campaign(acting.session, acting.caller, campaign)
            counts = {s.id: await outbound_service.counts(acting.session, s) for s in sends}
        if not sends:
            help_text(t("outbound.none"))
        for send in sends:
            c = counts[send.id]
            done = sum(c[k] for k in PROGRESSED)
            with ui.card().classes("w-full q-pa-sm gap-1 cursor-pointer").props(
                    f'flat bordered data-testid="send-row-{send.id}"').on("click", lambda s=send.id: self.open(s)):
                with ui.row().classes("w-full items-center justify-between no-wrap"):
                    ui.label(send.name).classes("text-weight-medium ellipsis")
                    ui.chip(t(f"outbound.status.{send.status.value}")).props("dense outline")
                ui.linear_progress(value=(done / c["total"]) if c["total"] else 0, show_value=False).props("rounded")

    # --- the selected send ---------------------------------------------------------------------
    @ui.refreshable_method
    async def detail(self) -> None:
        if self.send_id is None:
            help_text(t("outbound.pick"))
            return
        async with act() as acting:
            send = await outbound_service.get(acting.session, acting.caller, self.send_id)
            counts = await outbound_service.counts(acting.session, send)
            if send.status == SendStatus.draft:
                counts |= {f"review_{k}": v for k, v in
                           (await outbound_service.review(acting.session, send, now=acting.clock.now())).items()}
            templates = [as_template(r) for r in (await acting.session.scalars(select(WhatsAppTemplate).where(
                WhatsAppTemplate.channel_id == send.channel_id).order_by(WhatsAppTemplate.name))).all()]
            first = await acting.session.scalar(select(OutboundRecipient).where(
                OutboundRecipient.send_id == send.id, OutboundRecipient.skip_reason.is_(None))
                .order_by(OutboundRecipient.row_number).limit(1))
            recipients, total = await outbound_service.recipients(acting.session, send, q=None, state=None,
                                                                  offset=0, limit=50)
            zone = await self._zone(acting, send)
            agents = await agent_choices(acting.session, send.client_id) if send.status == SendStatus.draft else {}
            channel = await acting.session.get(Channel, send.channel_id)
        kind = channel.kind if channel is not None else ChannelKind.whatsapp
        recent = send.finished_at is not None and send.finished_at > acting.clock.now() - LIVE_AFTER_FINISH
        self._live = send.status in (SendStatus.scheduled, SendStatus.sending) or (
            send.status == SendStatus.completed and recent)
        with ui.card().classes("w-full gap-2").props('flat bordered data-testid="send-detail"'):
            with ui.row().classes("w-full items-center justify-between"):
                ui.label(send.name).classes("text-h6")
                testid(ui.chip(t(f"outbound.status.{send.status.value}")), "send-status")
            if send.note:
                testid(ui.label(send.note).classes("text-body2 text-warning"), "send-note")
            if send.status == SendStatus.draft:
                self.audience_step(send, agents)
                if kind == ChannelKind.whatsapp:
                    self.message_step(send, [tp for tp in templates if tp.approved], first.variables if first else {})
                else:  # Telegram and API channels: plain text to contacts who wrote (no templates there)
                    text_step(send, first.variables if first else {}, kind, self.fail)
                self.programme_step(send, zone)
                self.review_step(counts)
            else:
                self.progress(send, counts)
                self.recipient_table(recipients, total)

    async def _zone(self, acting: Acting, send: OutboundSend) -> str:
        campaign = await acting.session.get(Campaign, send.campaign_id)
        schedule = await acting.session.get(Schedule, campaign.schedule_id) if campaign else None
        return schedule.timezone if schedule else "UTC"

    def audience_step(self, send: OutboundSend, agents: dict[int, str]) -> None:
        ui.label(t("outbound.step.audience")).classes("text-subtitle1 text-weight-medium")
        help_text(t("outbound.audience_help"))

        async def uploaded(event: events.UploadEventArguments) -> None:
            content = await event.file.read() if hasattr(event, "file") else event.content.read()
            name = event.file.name if hasattr(event, "file") else event.name
            try:
                async with act() as acting:
                    fresh = await outbound_service.get(acting.session, acting.caller, send.id)
                    self.report = await outbound_service.upload_audience(acting.session, fresh, filename=name,
                                                                         content=content)
            except AtiendeError as exc:
                self.fail(exc)
                return
            await self.refresh()

        testid(ui.upload(auto_upload=True, on_upload=uploaded, label=t("outbound.upload"))
               .props('accept=".csv,.xlsx" flat bordered'), "send-upload")
        self.directory_picker(send, agents)
        report = self.report
        if send.columns:
            ui.label(t("outbound.columns", columns=", ".join(send.columns))).classes("text-body2")
        if report is not None:
            testid(ui.label(t("outbound.audience_counts", valid=report.valid, invalid=report.invalid,
                              duplicates=report.duplicates)).classes("text-body2 text-weight-medium"),
                   "send-audience-counts")
            if report.no_conversation:
                testid(ui.label(t("outbound.audience_no_conversation", count=report.no_conversation))
                       .classes("text-body2"), "send-audience-no-conversation")
            if report.preview:
                columns = list(report.preview[0])
                ui.table(columns=[{"name": c, "label": c, "field": c, "align": "left"} for c in columns],
                         rows=report.preview).props('dense flat bordered data-testid="send-preview"').classes("w-full")
            if report.errors:
                ui.table(columns=[{"name": "row", "label": t("outbound.row"), "field": "row"},
                                  {"name": "value", "label": t("outbound.value"), "field": "value"},
                                  {"name": "reason", "label": t("outbound.reason"), "field": "reason"}],
                         rows=[{"row": e.row, "value": e.value, "reason": t(f"outbound.skip.{e.reason}")}
                               for e in report.errors]).props('dense flat bordered data-testid="send-row-errors"') \
                    .classes("w-full")

    def directory_picker(self, send: OutboundSend, agents: dict[int, str]) -> None:
        """Or the audience from Contactos: its search and an agent's cartera, as the directory filters."""
        help_text(t("outbound.directory_help"))
        with ui.row().classes("w-full items-end gap-2"):
            search = testid(ui.input(t("outbound.directory_search"), value=self.directory[0])
                            .props("dense outlined clearable").classes("min-w-[14rem]"), "send-directory-q")
            chosen = self.directory[1] if self.directory[1] in agents else 0
            cartera = testid(ui.select({0: t("outbound.directory_any_agent"), **agents}, value=chosen,
                                       label=t("outbound.directory_agent")).props("dense outlined")
                             .classes("min-w-[14rem]"), "send-directory-agent")

            async def use() -> None:
                self.directory = ((search.value or "").strip(), int(cartera.value or 0))
                filters = ContactFilters(q=self.directory[0] or None, exclusive_agent_id=self.directory[1] or None)
                try:
                    async with act() as acting:
                        fresh = await outbound_service.get(acting.session, acting.caller, send.id)
                        self.report = await outbound_service.audience_from_directory(
                            acting.session, acting.caller, fresh, filters)
                except AtiendeError as exc:
                    self.fail(exc)
                    return
                await self.refresh()

            testid(ui.button(t("outbound.directory_use"), on_click=use).props("outline no-caps"),
                   "send-directory-use")

    def message_step(self, send: OutboundSend, templates: list[Template], first: dict[str, str]) -> None:
        ui.label(t("outbound.step.message")).classes("text-subtitle1 text-weight-medium")
        if not templates:
            help_text(t("outbound.no_templates"))
            return
        options = {f"{tp.name}|{tp.language}": f"{tp.name} ({tp.language})" for tp in templates}
        current = f"{send.template_name}|{send.template_language}" if send.template_name else next(iter(options))
        chosen = {"key": current if current in options else next(iter(options))}
        sources = {c: c for c in send.columns} | {FIXED: t("outbound.fixed")}

        def pick_template(event: events.ValueChangeEventArguments) -> None:
            chosen["key"] = event.value
            draw()

        testid(ui.select(options, value=chosen["key"], label=t("outbound.template"), on_change=pick_template)
               .props("outlined dense").style("min-width: 18rem"), "send-template")
        host = ui.column().classes("w-full gap-2")

        def template() -> Template:
            return next(tp for tp in templates if f"{tp.name}|{tp.language}" == chosen["key"])

        def draw() -> None:
            host.clear()
            tp = template()
            parts = {"header": len(tp.header_parameters), "body": len(tp.body_parameters),
                     "buttons": len(tp.url_buttons)}
            saved = send.mapping if chosen["key"] == current else {}
            inputs: dict[str, list[tuple[ui.select, ui.input]]] = {}
            with host:
                bubble = ui.label().classes("q-pa-sm rounded-borders bg-green-1 text-body2").style(
                    "white-space: pre-wrap; max-width: 28rem").props('data-testid="send-bubble"')

                def mapping() -> dict[str, list[dict[str, str]]]:
                    return {part: [{"value": text.value or ""} if pick.value == FIXED else {"column": pick.value}
                                   for pick, text in rows] for part, rows in inputs.items()}

                def update_preview() -> None:
                    try:
                        _, text = render(tp, mapping(), first)
                    except TemplateParameterError:
                        text = tp.body_text
                    bubble.set_text(text)

                for part, count in parts.items():
                    inputs[part] = []
                    for index in range(count):
                        old = (saved.get(part) or [{}] * count)[index] if len(saved.get(part) or []) == count else {}
                        with ui.row().classes("items-center gap-2"):
                            ui.label(t(f"outbound.part.{part}", n=index + 1)).style("min-width: 7rem")
                            pick = testid(ui.select(sources, value=old.get("column") or (
                                FIXED if old.get("value") else next(iter(sources)))).props("outlined dense"),
                                f"send-map-{part}-{index}")
                            text = testid(ui.input(t("outbound.fixed_value"), value=old.get("value", ""))
                                          .props("outlined dense"), f"send-fixed-{part}-{index}")
                            text.bind_visibility_from(pick, "value", backward=lambda v: v == FIXED)
                            pick.on_value_change(update_preview)
                            text.on_value_change(update_preview)
                            inputs[part].append((pick, text))
                update_preview()

                async def save() -> None:
                    try:
                        async with act() as acting:
                            fresh = await outbound_service.get(acting.session, acting.caller, send.id)
                            await outbound_service.set_message(acting.session, fresh, template_name=tp.name,
                                                               language=tp.language, mapping=mapping())
                    except AtiendeError as exc:
                        self.fail(exc)
                        return
                    ui.notify(t("outbound.saved"), type="positive")

                async def test_send() -> None:
                    try:
                        async with act() as acting:
                            fresh = await outbound_service.get(acting.session, acting.caller, send.id)
                            await send_test(acting.session, engine(), fresh, test_phone.value or "")
                    except AtiendeError as exc:
                        self.fail(exc)
                        return
                    ui.notify(t("outbound.test_sent"), type="positive")

                with ui.row().classes("items-center gap-2"):
                    testid(ui.button(t("outbound.save_message"), on_click=save).props("outline no-caps"),
                           "send-save-message")
                    test_phone = testid(ui.input(t("outbound.test_phone"), placeholder="+573001234567")
                                        .props("outlined dense"), "send-test-phone")
                    testid(ui.button(t("outbound.test_send"), icon="send", on_click=test_send)
                           .props("flat no-caps"), "send-test")

        draw()

    def programme_step(self, send: OutboundSend, zone: str) -> None:
        ui.label(t("outbound.step.programme")).classes("text-subtitle1 text-weight-medium")
        local = send.start_at.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M") if send.start_at else ""
        with ui.row().classes("items-center gap-3 wrap"):
            start = testid(ui.input(t("outbound.start_at", zone=zone), value=local, placeholder="AAAA-MM-DD HH:MM")
                           .props("outlined dense"), "send-start")
            rate = testid(ui.number(t("outbound.rate"), value=send.rate_per_second, min=1, max=1000, format="%d")
                          .props("outlined dense").style("width: 10rem"), "send-rate")
            window = testid(ui.switch(t("outbound.respect_schedule"), value=send.respect_schedule), "send-window")

        async def save() -> None:
            try:
                when = None
                if (start.value or "").strip():
                    try:
                        when = datetime.strptime(start.value.strip(), "%Y-%m-%d %H:%M").replace(tzinfo=ZoneInfo(zone))
                    except ValueError:
                        from atiende.outbound.errors import SendInvalid

                        raise SendInvalid("Write the start as YYYY-MM-DD HH:MM", field="start_at") from None
                async with act() as acting:
                    fresh = await outbound_service.get(acting.session, acting.caller, send.id)
                    await outbound_service.set_programme(acting.session, fresh, start_at=when,
                                                         rate_per_second=int(rate.value or 80),
                                                         respect_schedule=bool(window.value),
                                                         max_consecutive_failures=fresh.max_consecutive_failures,
                                                         now=acting.clock.now())
            except AtiendeError as exc:
                self.fail(exc)
                return
            ui.notify(t("outbound.saved"), type="positive")

        testid(ui.button(t("outbound.save_programme"), on_click=save).props("outline no-caps"), "send-save-programme")

    def review_step(self, counts: dict[str, int]) -> None:
        ui.label(t("outbound.step.review")).classes("text-subtitle1 text-weight-medium")
        items = [("review_will_send", "outbound.review.will_send"),
                 ("skipped_invalid_phone", "outbound.skip.invalid_phone"),
                 ("skipped_duplicate", "outbound.skip.duplicate"), ("review_opted_out", "outbound.skip.opted_out"),
                 ("review_deferred", "outbound.review.deferred")]
        if counts.get("skipped_no_conversation"):  # Telegram and API sends: contacts who never wrote there
            items.append(("skipped_no_conversation", "outbound.skip.no_conversation"))
        with ui.row().classes("gap-4 wrap").props('data-testid="send-review"'):
            for key, label in items:
                with ui.column().classes("gap-0 items-center"):
                    ui.label(str(counts.get(key, 0))).classes("text-h6").props(f'data-testid="review-{key.removeprefix("review_")}"')
                    ui.label(t(label)).classes("text-caption text-grey-7")
        testid(ui.button(t("outbound.launch"), icon="schedule_send", on_click=self.launch)
               .props("unelevated no-caps"), "send-launch")

    async def _act_on(self, action: str) -> None:
        try:
            async with act() as acting:
                send = await outbound_service.get(acting.session, acting.caller, self.send_id or 0, lock=True)
                now = acting.clock.now()
                if action == "launch":
                    await outbound_service.launch(acting.session, send, now=now)
                elif action == "pause":
                    await outbound_service.pause(acting.session, send)
                elif action == "resume":
                    await outbound_service.resume(acting.session, send, now=now)
                else:
                    await outbound_service.cancel(acting.session, send, now=now)
        except AtiendeError as exc:
            self.fail(exc)
            return
        await self.refresh()

    async def launch(self) -> None:
        await self._act_on("launch")

    def progress(self, send: OutboundSend, counts: dict[str, int]) -> None:
        done = sum(counts[k] for k in PROGRESSED)
        testid(ui.linear_progress(value=(done / counts["total"]) if counts["total"] else 0, show_value=False)
               .props("rounded size=12px"), "send-progress")
        with ui.row().classes("gap-4 wrap").props('data-testid="send-counters"'):
            for key in ("pending", "sent", "delivered", "read", "replied", "failed", "skipped", "uncertain"):
                with ui.column().classes("gap-0 items-center"):
                    ui.label(str(counts.get(key, 0))).classes("text-h6").props(f'data-testid="count-{key}"')
                    ui.label(t(f"outbound.state.{key}")).classes("text-caption text-grey-7")
        with ui.row().classes("gap-2"):
            if send.status in (SendStatus.scheduled, SendStatus.sending):
                testid(ui.button(t("outbound.pause"), icon="pause", on_click=lambda: self._act_on("pause"))
                       .props("outline no-caps"), "send-pause")
            if send.status == SendStatus.paused:
                testid(ui.button(t("outbound.resume"), icon="play_arrow", on_click=lambda: self._act_on("resume"))
                       .props("outline no-caps"), "send-resume")
            if send.status not in (SendStatus.completed, SendStatus.cancelled):
                testid(ui.button(t("outbound.cancel"), icon="cancel", on_click=lambda: self._act_on("cancel"))
                       .props("outline no-caps color=negative"), "send-cancel")
            testid(ui.button(t("outbound.download"), icon="download", on_click=self.download)
                   .props("outline no-caps"), "send-download")

    async def download(self) -> None:
        async with act() as acting:
            send = await outbound_service.get(acting.session, acting.caller, self.send_id or 0)
            content = await outbound_service.results_csv(acting.session, send)
        ui.download.content(content, f"envio-{send.id}-resultados.csv")

    def recipient_table(self, recipients: list[OutboundRecipient], total: int) -> None:
        rows = [{"row": r.row_number, "phone": r.phone, "name": r.name, "state": t(f"outbound.state.{r.state.value}"),
                 "error": (f"{r.error_code or ''} {r.error_title or ''}".strip()
                           or (t(f"outbound.skip.{r.skip_reason.value}") if r.skip_reason else "")),
                 "replied": "✓" if r.replied_at else ""} for r in recipients]
        columns = [{"name": k, "label": t(f"outbound.col.{k}"), "field": k, "align": "left", "sortable": True}
                   for k in ("row", "phone", "name", "state", "error", "replied")]
        table = ui.table(columns=columns, rows=rows, row_key="row", pagination=10) \
            .props('dense flat bordered data-testid="send-recipients"').classes("w-full")
        search = ui.input(t("outbound.search")).props("outlined dense clearable").classes("w-64")
        search.bind_value(table, "filter")
        if total > len(rows):
            help_text(t("outbound.more", shown=len(rows), total=total))


@console_page("sends")
async def sends_page(context: PageContext) -> None:
    await SendsScreen(context).mount()
