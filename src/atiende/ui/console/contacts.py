"""Contactos: the directory (search, filters, pages), a contact's page (data, exclusive agent,
consent per channel, conversations opening the read-only transcript, merge, erasure) and the
import (``contacts_import.py``). Everything goes through the contacts services."""

import csv
import io
from datetime import date
from typing import Any

from nicegui import ui

from atiende.auth.models import Membership, Role, User
from atiende.channels.models import ChannelKind
from atiende.contacts import consent, merge, views
from atiende.contacts.models import ConsentSource
from atiende.contacts.schemas import ContactDetailOut, ContactOut
from atiende.contacts.service import ContactFilters, contact_service
from atiende.conversations.workview import work_view
from atiende.errors import AtiendeError
from atiende.i18n import t
from atiende.kit.pagination import PageParams
from atiende.ui.components import confirm, empty_state, markup_table, page_heading, testid
from atiende.ui.context import PageContext, act
from atiende.ui.layout import console_page
from atiende.ui.runtime import runtime
from atiende.ui.supervisor import reader
from atiende.ui.workspace import errors as toast_errors
from atiende.ui.workspace import look

PAGE_SIZE = 20
ANY = ""


async def agent_choices(session: Any, client_id: int) -> dict[int, str]:
    rows = (await session.execute(
        Membership.__table__.select().with_only_columns(Membership.id, User.full_name, User.email)
        .join_from(Membership, User, User.id == Membership.user_id)
        .where(Membership.client_id == client_id, Membership.role == Role.agent, Membership.active.is_(True))
        .order_by(User.full_name))).all()
    return {mid: name or email for mid, name, email in rows}


class ContactsList:
    def __init__(self, context: PageContext) -> None:
        self.context = context
        self.filters = ContactFilters()
        self.page = 1
        self.items: list[ContactOut] = []
        self.total = 0
        self.agents: dict[int, str] = {}
        self.managing = context.role in (Role.admin, Role.supervisor)

    async def mount(self) -> None:
        page_heading(t("contacts.title"), subtitle=t("contacts.subtitle"))
        async with act() as acting:
            self.agents = await agent_choices(acting.session, self.context.client_id)
        with ui.row().classes("w-full gap-2 items-center wrap"):
            search = testid(ui.input(t("contacts.search")).props("outlined dense clearable debounce=300 type=search")
                            .classes("w-72"), "contacts-search")
            search.on_value_change(lambda e: self.set(q=(e.value or "").strip()[:120] or None))
            kinds = {ANY: t("contacts.any_channel"), **{k.value: t(f"contacts.kind.{k.value}") for k in ChannelKind}}
            kind = testid(ui.select(kinds, value=ANY, label=t("contacts.channel")).props("outlined dense")
                          .classes("w-40"), "contacts-channel")
            kind.on_value_change(lambda e: self.set(channel_kind=ChannelKind(e.value) if e.value else None))
            agents = {0: t("contacts.any_agent"), -1: t("contacts.no_agent"), **self.agents}
            agent = testid(ui.select(agents, value=0, label=t("contacts.exclusive_agent")).props("outlined dense")
                           .classes("w-48"), "contacts-agent")
            agent.on_value_change(lambda e: self.set_agent(int(e.value or 0)))
            opted = {ANY: t("contacts.consent_any"), "yes": t("contacts.opted_out_yes"), "no": t("contacts.opted_out_no")}
            optout = testid(ui.select(opted, value=ANY, label=t("contacts.consent")).props("outlined dense")
                            .classes("w-40"), "contacts-optout")
            optout.on_value_change(lambda e: self.set(opted_out=None if not e.value else e.value == "yes"))
            since = testid(ui.input(t("contacts.created_from")).props("outlined dense type=date").classes("w-40"),
                           "contacts-from")
            since.on_value_change(lambda e: self.set(created_from=_day(e.value)))
            until = testid(ui.input(t("contacts.created_to")).props("outlined dense type=date").classes("w-40"),
                           "contacts-to")
            until.on_value_change(lambda e: self.set(created_to=_day(e.value)))
            ui.space()
            if self.managing:
                testid(ui.button(t("contacts.import"), icon="upload",
                                 on_click=lambda: ui.navigate.to("/contacts?import=new")).props("outline no-caps"),
                       "contacts-import")
            testid(ui.button(t("contacts.export"), icon="download", on_click=self.export).props("outline no-caps"),
                   "contacts-export")
        await self.reload(refresh=False)
        self.body()

    async def set(self, **changes: Any) -> None:
        for key, value in changes.items():
            setattr(self.filters, key, value)
        self.page = 1
        await self.reload()

    async def set_agent(self, value: int) -> None:
        self.filters.exclusive_agent_id = value if value > 0 else None
        self.filters.has_exclusive_agent = False if value == -1 else None
        self.page = 1
        await self.reload()

    async def reload(self, *, refresh: bool = True) -> None:
        try:
            async with act() as acting:
                items, self.total, shown = await contact_service.page(
                    acting.session, acting.caller, self.context.client_id, self.filters,
                    page=PageParams(page=self.page, limit=PAGE_SIZE))
                self.items = await views.summaries(acting.session, self.context.client_id, items, shown)
        except AtiendeError as exc:
            toast_errors.show(exc)
            return
        if refresh:
            self.body.refresh()

    @ui.refreshable_method
    def body(self) -> None:
        if not self.items:
            empty_state(t("contacts.empty"), icon="contacts")
            return
        headers = [t("contacts.name"), t("contacts.phone"), t("contacts.email"), t("contacts.document"),
                   t("contacts.exclusive_agent"), t("contacts.consent"), t("contacts.created")]
        with ui.element("div").classes("w-full overflow-x-auto"), markup_table(headers, testid_value="contacts-table"):
            for item in self.items:
                with ui.element("tr").classes("cursor-pointer").props(f'data-testid="contact-row-{item.id}"') \
                        .on("click", lambda i=item.id: ui.navigate.to(f"/contacts?id={i}")):
                    cells = [item.name or t("workspace.unnamed"), item.phone_display, item.email or "",
                             item.document_id or "", self.agents.get(item.exclusive_agent_id or 0, ""),
                             ", ".join(t(f"contacts.kind.{k.value}") for k in item.opted_out),
                             look.day(item.created_at, None)]
                    for text in cells:
                        with ui.element("td"):
                            ui.label(text)
        pages = max(1, -(-self.total // PAGE_SIZE))
        with ui.row().classes("w-full items-center gap-2"):
            ui.label(t("contacts.count", n=self.total)).classes("text-caption text-grey-7") \
                .props('data-testid="contacts-count"')
            if pages > 1:
                ui.pagination(1, pages, direction_links=True, value=self.page,
                              on_change=lambda e: self.go(int(e.value))).props("dense")

    async def go(self, page: int) -> None:
        self.page = page
        await self.reload()

    async def export(self) -> None:
        from atiende.contacts.api import EXPORT_HEADER, _export_lines

        async with act() as acting:
            chunks = [c async for c in _export_lines(acting.session, acting.caller, self.context.client_id,
                                                      self.filters)]
        assert EXPORT_HEADER
        ui.download.content(b"".join(chunks), "contactos.csv", "text/csv")


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


class ContactPage:
    def __init__(self, context: PageContext, contact_id: int) -> None:
        self.context = context
        self.contact_id = contact_id
        self.detail: ContactDetailOut | None = None
        self.agents: dict[int, str] = {}
        self.managing = context.role in (Role.admin, Role.supervisor)

    async def mount(self) -> None:
        testid(ui.button(t("contacts.back"), icon="arrow_back", on_click=lambda: ui.navigate.to("/contacts"))
               .props("flat no-caps"), "contact-back")
        if not await self.load():
            empty_state(t("contacts.not_found"), icon="person_off")
            return
        self.body()

    async def load(self) -> bool:
        try:
            async with act() as acting:
                contact = await contact_service.get(acting.session, acting.caller, self.contact_id)
                self.detail = await views.detail(acting.session, acting.caller, contact)
                self.agents = await agent_choices(acting.session, contact.client_id)
                self.labels = await _field_labels(acting.session, contact.client_id)
        except AtiendeError:
            return False
        return True

    async def refresh(self) -> None:
        await self.load()
        self.body.refresh()

    @ui.refreshable_method
    def body(self) -> None:
        detail = self.detail
        assert detail is not None
        page_heading(detail.name or t("workspace.unnamed"), subtitle=t("contacts.contact_subtitle", id=detail.id))
        with ui.row().classes("w-full items-start gap-4 wrap"):
            with ui.card().classes("gap-1").style("flex: 1 1 320px").props('data-testid="contact-data"'):
                self._data(detail)
            with ui.card().classes("gap-2").style("flex: 1 1 320px").props('data-testid="contact-cartera"'):
                self._cartera(detail)
                self._consent(detail)
        with ui.card().classes("w-full gap-2").props('data-testid="contact-conversations"'):
            ui.label(t("contacts.conversations")).classes("text-subtitle1 text-weight-medium")
            self._conversations(detail)
        if self.managing:
            self._danger_zone(detail)

    def _data(self, detail: ContactDetailOut) -> None:
        rows = [(t("contacts.phone"), detail.phone_display or "—"), (t("contacts.email"), detail.email or "—"),
                (t("contacts.document"), detail.document_id or "—")]
        rows += [(self.labels.get(key, key), _shown(value)) for key, value in detail.attributes.items()]
        for label, value in rows:
            with ui.row().classes("w-full gap-2 no-wrap"):
                ui.label(label).classes("text-caption text-grey-7").style("min-width: 8rem")
                ui.label(value).classes("text-body2")
        if detail.identities:
            ui.label(t("contacts.identities")).classes("text-overline text-grey-7 q-mt-sm")
            for identity in detail.identities:
                with ui.row().classes("items-center gap-2"):
                    look.channel_icon(identity.channel_kind.value)
                    ui.label(f"{identity.channel_name}: {identity.external_id or '•••'}").classes("text-body2")

    def _cartera(self, detail: ContactDetailOut) -> None:
        ui.label(t("contacts.exclusive_agent")).classes("text-overline text-grey-7")
        if not self.managing:
            ui.label(detail.exclusive_agent_name or t("contacts.no_agent")).props('data-testid="contact-agent-name"')
            return
        options = {0: t("contacts.no_agent"), **self.agents}
        select = testid(ui.select(options, value=detail.exclusive_agent_id or 0, label=t("contacts.cartera_help"))
                        .props("outlined dense").classes("w-full"), "contact-agent")
        select.on_value_change(lambda e: self.set_agent(int(e.value or 0)))

    async def set_agent(self, membership_id: int) -> None:
        try:
            async with act() as acting:
                contact = await contact_service.get(acting.session, acting.caller, self.contact_id)
                await contact_service.update(acting.session, acting.caller, contact,
                                             {"exclusive_agent_id": membership_id or None}, now=acting.clock.now())
        except AtiendeError as exc:
            toast_errors.show(exc)
            return
        ui.notify(t("contacts.saved"), type="positive")
        await self.refresh()

    def _consent(self, detail: ContactDetailOut) -> None:
        ui.label(t("contacts.consent_title")).classes("text-overline text-grey-7 q-mt-sm")
        for state in detail.consents:
            with ui.row().classes("w-full items-center gap-2 no-wrap"):
                look.channel_icon(state.channel_kind.value)
                toggle = testid(ui.switch(t(f"contacts.kind.{state.channel_kind.value}"), value=not state.opted_out),
                                f"consent-{state.channel_kind.value}")
                toggle.on_value_change(lambda e, k=state.channel_kind: self.set_consent(k, not e.value))
                if state.opted_out:
                    ui.badge(t("contacts.opted_out_badge"), color="negative").props("outline")
        for change in detail.consent_history[:5]:
            ui.label(t("contacts.consent_change", kind=t(f"contacts.kind.{change.channel_kind.value}"),
                       state=t("contacts.opted_out_badge") if change.opted_out else t("contacts.opted_in_badge"),
                       source=t(f"contacts.source.{change.source.value}"), at=look.day(change.at, None))) \
                .classes("text-caption text-grey-7")

    async def set_consent(self, kind: ChannelKind, opted_out: bool) -> None:
        try:
            async with act() as acting:
                await contact_service.get(acting.session, acting.caller, self.contact_id)
                await consent.set_consent(acting.session, self.contact_id, kind.value, opted_out=opted_out,
                                          source=ConsentSource.agent.value,
                                          membership_id=acting.caller.membership(self.context.client_id).id,
                                          bus=runtime().app.state.bus, clock=acting.clock)
        except AtiendeError as exc:
            toast_errors.show(exc)
        await self.refresh()

    def _conversations(self, detail: ContactDetailOut) -> None:
        if not detail.conversations:
            ui.label(t("contacts.no_conversations")).classes("text-body2 text-grey-7")
            return
        headers = ["#", t("workspace.campaign"), t("supervisor.state"), t("contacts.typification"),
                   t("supervisor.agent"), "CSAT", t("supervisor.opened"), ""]
        now = runtime().clock.now()
        with ui.element("div").classes("w-full overflow-x-auto"), \
                markup_table(headers, testid_value="contact-conversations-table"):
            for row in detail.conversations:
                with ui.element("tr").props(f'data-testid="contact-conversation-{row.id}"'):
                    for text in (str(row.id), row.campaign_name, t(f"supervisor.status.{row.status}"),
                                 row.typification_name or "", row.agent_name or "",
                                 "" if row.csat is None else str(row.csat), look.moment(row.opened_at, None, now)):
                        with ui.element("td"):
                            ui.label(text)
                    with ui.element("td"):
                        testid(ui.button(icon="visibility", on_click=lambda c=row.id: self.read(c))
                               .props(f'flat round dense aria-label="{t("supervisor.read")}"'), f"read-{row.id}")

    async def read(self, conversation_id: int) -> None:
        try:
            async with act() as acting:
                found = await work_view(acting.session, acting.caller, conversation_id, now=acting.clock.now())
        except AtiendeError as exc:
            toast_errors.show(exc)
            return
        reader.show_conversation(found, runtime().clock.now())

    def _danger_zone(self, detail: ContactDetailOut) -> None:
        with ui.row().classes("w-full items-center gap-2 wrap"):
            other = testid(ui.number(t("contacts.merge_with"), min=1, precision=0).props("outlined dense")
                           .classes("w-56"), "merge-other")
            testid(ui.button(t("contacts.merge"), icon="merge",
                             on_click=lambda: self.merge(int(other.value or 0))).props("outline no-caps"),
                   "merge-button")
            if self.context.role == Role.admin:
                ui.space()
                testid(ui.button(t("contacts.erase"), icon="delete_forever", on_click=self.erase)
                       .props("outline no-caps color=negative"), "erase-button")

    async def merge(self, other_id: int) -> None:
        if other_id <= 0 or not await confirm(t("contacts.merge_confirm", id=other_id), danger=False):
            return
        try:
            async with act() as acting:
                keep = await contact_service.get(acting.session, acting.caller, self.contact_id)
                other = await contact_service.get(acting.session, acting.caller, other_id)
                await merge.merge(acting.session, acting.caller, keep, other, now=acting.clock.now())
        except AtiendeError as exc:
            toast_errors.show(exc)
            return
        ui.notify(t("contacts.merged"), type="positive")
        await self.refresh()

    async def erase(self) -> None:
        if not await confirm(t("contacts.erase_confirm")):
            return
        try:
            async with act() as acting:
                contact = await contact_service.get(acting.session, acting.caller, self.contact_id)
                await merge.erase(acting.session, acting.caller, contact, confirm=contact.id, now=acting.clock.now(),
                                  settings=runtime().settings)
        except AtiendeError as exc:
            toast_errors.show(exc)
            return
        ui.navigate.to("/contacts")


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return t("contacts.yes") if value else t("contacts.no")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


async def _field_labels(session: Any, client_id: int) -> dict[str, str]:
    from sqlalchemy import select

    from atiende.catalog.models import FieldDefinition

    return dict((await session.execute(select(FieldDefinition.key, FieldDefinition.label).where(
        FieldDefinition.client_id == client_id))).all())


def report_bytes(lines: list[list[Any]], header: list[str]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(lines)
    return ("\ufeff" + buffer.getvalue()).encode()


@console_page("contacts")
async def contacts_page(context: PageContext) -> None:
    if context.query.get("import") and context.role in (Role.admin, Role.supervisor):
        from atiende.ui.console.contacts_import import ImportScreen

        await ImportScreen(context).mount()
        return
    contact_id = context.query.get("id", "")
    if contact_id.isdigit() and 0 < int(contact_id) < 2**31:
        await ContactPage(context, int(contact_id)).mount()
        return
    await ContactsList(context).mount()
