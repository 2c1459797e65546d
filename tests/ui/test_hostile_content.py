"""Hostile text is shown as text everywhere (issues 19.5 and 20).

Given a contact center whose customers write HTML, script tags, an attribute break-out and template
syntax on every channel (WhatsApp and Telegram webhooks, the web chat widget, the API channel), in
their names and messages, and whose staff put the same in an uploaded file's name, a dynamic field
(label, option and value), a typification, a quick reply (title, text and shortcut), a campaign and a
project: when the agent, the supervisor, the admin and the visitor open their screens (and hover and
click the attachments and the contact's name), then no dialog opens, no element of the payloads is
created (``img[src=x]``, ``on…`` attributes, a ``<script>``), the ``window.__xss`` marker stays unset,
and each payload is on the screen as the literal text it was.

One server for the module (the 24/7 center of ``tests/workspace/harness.py``), seeded once."""

import asyncio
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Locator, Page, expect
from sqlalchemy import select, update

from atiende.auth.models import User
from atiende.campaigns.models import Campaign, CampaignChannel, CampaignField
from atiende.channels.models import Channel, ChannelKind
from atiende.channels.telegram.secret import webhook_secret
from atiende.channels.whatsapp.signature import sign
from atiende.catalog.models import FieldDefinition, FieldType, Typification
from atiende.conversations.canned import CannedReply
from atiende.conversations.models import CampaignAgent
from atiende.db import Database
from atiende.tenancy.models import Project
from tests.channels.fakes.data import load
from tests.channels.fakes.setup import WHATSAPP_CREDENTIALS, WHATSAPP_SETTINGS
from tests.channels.fakes.telegram import BOT_TOKEN
from tests.live import TEST_SECRET_KEY
from tests.media import JPEG
from tests.workspace import seed
from tests.workspace.harness import LAPTOP, Center, Login, center, login  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser

ATTRIBUTE = 'foto" onmouseover="alert(document.domain)" x="'
IMG = "<img src=x onerror=alert(1)>"
SCRIPT = "<script>alert(2)</script>"
TEMPLATE = "{{ 7*7 }} ${alert(3)}"
MARKER = '<img src=x onerror="window.__xss=1">'
PAYLOADS = (ATTRIBUTE, IMG, SCRIPT, TEMPLATE, MARKER)
TEXT = " ".join(PAYLOADS)  # message texts, the quick replies' text, a field's value
A = f"{ATTRIBUTE} {IMG}"  # names hold at most 120 characters: each gets one of two halves
B = f"{SCRIPT} {TEMPLATE} {MARKER}"
CAMPAIGN, OTHER_CAMPAIGN, PROJECT = f"Ventas {A}", f"Cobranza {B}", f"Comercial {B}"
TYPIFICATIONS = (f"Venta {A}", f"Reclamo {B}")
NOTES_LABEL, CHOICE_LABEL = f"Notas {B}", f"Preferencia {A}"
# The API takes shortcuts of a-z, 0-9, - and _ only; these are stored behind its back, to show
# that the screens do not rely on that.
CANNED = ((f"Saludo {A}", 'hola" onmouseover="alert(4)" x="'), (f"Cierre {B}", IMG))
PHOTO, NOTE_FILE = ATTRIBUTE, f"{MARKER}.txt"
OUTSIDE_URL = "https://files.example.invalid/foto.jpg"
WELCOME = f"Hola {A}"  # the web chat's greeting, written by an admin
AGENT_NAME = f"Bruno {B}"  # a person's own name is theirs to write (PATCH /api/v1/me)
NAMES = {"whatsapp": f"Wendy {A}", "telegram": f"Tomás {SCRIPT} {TEMPLATE}", "webchat": f"Vera {B}",
         "api": f"Pía {A}", "closed": f"Quique {B}"}

FIND_PAYLOAD_ELEMENTS = """() => {
  const roots = [document], found = [];
  for (let i = 0; i < roots.length; i++) {
    roots[i].querySelectorAll('*').forEach(el => {
      if (el.shadowRoot) roots.push(el.shadowRoot);
      if (el.matches('img[src=x]')) found.push('img[src=x]' + (el.hasAttribute('onerror') ? ' with onerror' : ''));
      for (const a of el.attributes) if (/^on/i.test(a.name)) found.push(`${el.tagName} ${a.name}=${a.value}`);
      if (el.tagName === 'SCRIPT' && /^\\s*alert\\(\\d\\)\\s*$/.test(el.textContent)) found.push('script');
    });
  }
  return {found, xss: window.__xss === undefined ? null : String(window.__xss)};
}"""


@dataclass
class Hostile:
    conversations: dict[str, int]  # channel (or "closed") → conversation id
    channels: dict[str, int]
    visitor_token: str


class Guard:
    """Fails the test on any dialog (alert, confirm, prompt) the page opens."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.dialogs: list[str] = []
        page.on("dialog", self._seen)
        self.refused: list[str] = []  # what the Content-Security-Policy blocked (the pages must need nothing blocked)
        page.on("console", lambda m: self.refused.append(m.text) if "Content Security Policy" in m.text else None)

    def _seen(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        asyncio.ensure_future(dialog.dismiss())

    async def check(self, where: str) -> None:
        await self.page.wait_for_timeout(300)  # an onerror or a hover handler has run by now
        state = await self.page.evaluate(FIND_PAYLOAD_ELEMENTS)
        assert self.dialogs == [], f"{where}: a dialog opened: {self.dialogs}"
        assert self.refused == [], f"{where}: the page needed something its CSP refuses: {self.refused}"
        assert state == {"found": [], "xss": None}, f"{where}: {state}"


async def shows_literally(area: Locator, *texts: str) -> None:
    for text in texts:
        await expect(area).to_contain_text(text)
    await expect(area).not_to_contain_text("49 ${alert(3)}")  # {{ 7*7 }} was not evaluated (Vue would give 49)


def multipart(name: str, data: bytes, mime: str) -> tuple[bytes, str]:
    """A form with one file whose name keeps its quotes (escaped the RFC 7578 way, as curl sends
    them; httpx and browsers would percent-encode them)."""
    boundary = "hostile-content-boundary"
    quoted = name.replace("\\", "\\\\").replace('"', '\\"')
    head = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{quoted}"\r\n'
            f"Content-Type: {mime}\r\n\r\n")
    return head.encode() + data + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


async def _configure(url: str, data: seed.Center, base_url: str) -> tuple[dict[str, int], tuple[int, int]]:
    """The staff's hostile names (campaigns, project, typifications, fields, quick replies) and a
    WhatsApp, Telegram and web chat channel for Ventas; Andrea may hold all its conversations."""
    database = Database(url)
    try:
        async with database.session() as session:
            sales = await session.get(Campaign, data.sales_campaign_id)
            collections = await session.get(Campaign, data.collections_campaign_id)
            assert sales is not None and collections is not None
            sales.name, collections.name = CAMPAIGN, OTHER_CAMPAIGN
            project = await session.get(Project, sales.project_id)
            assert project is not None
            project.name = PROJECT
            parent = await session.scalar(select(Typification.parent_id)
                                          .where(Typification.id == data.typifications["venta"]))
            typifications = [Typification(client_id=data.client_id, name=name, code=f"hostil_{i}", parent_id=parent)
                             for i, name in enumerate(TYPIFICATIONS)]
            notes = FieldDefinition(client_id=data.client_id, key="notas", label=NOTES_LABEL, type=FieldType.text,
                                    validation={"max_length": 500})
            choice = FieldDefinition(client_id=data.client_id, key="preferencia", label=CHOICE_LABEL,
                                     type=FieldType.select, options=[A, B])
            session.add_all([*typifications, notes, choice,
                             *[CannedReply(client_id=data.client_id, title=title, shortcut=shortcut, text=TEXT)
                               for title, shortcut in CANNED]])
            channels = {
                "whatsapp": Channel(client_id=data.client_id, kind=ChannelKind.whatsapp, name="WhatsApp",
                                    credentials=WHATSAPP_CREDENTIALS, settings=WHATSAPP_SETTINGS),
                "telegram": Channel(client_id=data.client_id, kind=ChannelKind.telegram, name="Telegram",
                                    credentials={"bot_token": BOT_TOKEN}),
                "webchat": Channel(client_id=data.client_id, kind=ChannelKind.webchat, name="Web", settings={
                    "allowed_origins": [base_url], "prechat_form": False, "welcome_message": WELCOME})}
            session.add_all(channels.values())
            await session.flush()
            session.add_all([CampaignChannel(campaign_id=sales.id, channel_id=c.id) for c in channels.values()])
            session.add_all([CampaignField(campaign_id=sales.id, field_definition_id=notes.id, required=False,
                                           position=3),
                             CampaignField(campaign_id=sales.id, field_definition_id=choice.id, required=False,
                                           position=4)])
            await session.execute(update(User).where(User.email == seed.BRUNO).values(full_name=AGENT_NAME))
            await session.execute(update(CampaignAgent).where(
                CampaignAgent.campaign_id == sales.id, CampaignAgent.membership_id == data.memberships[seed.ANDREA])
                .values(capacity=8))
            return {kind: c.id for kind, c in channels.items()}, (typifications[0].id, typifications[1].id)
    finally:
        await database.dispose()


async def _whatsapp_writes(http: httpx.AsyncClient, channel_id: int) -> None:
    body = load("whatsapp_text.json")
    value = body["entry"][0]["changes"][0]["value"]
    value["contacts"][0]["profile"]["name"] = NAMES["whatsapp"]
    value["messages"][0]["text"]["body"] = TEXT
    raw = httpx.Request("POST", "/", json=body).read()
    response = await http.post(f"/webhooks/whatsapp/{channel_id}", content=raw, headers={
        "Content-Type": "application/json", "X-Hub-Signature-256": sign(raw, WHATSAPP_CREDENTIALS["app_secret"])})
    assert response.status_code == 200, response.text


async def _telegram_writes(http: httpx.AsyncClient, channel_id: int) -> None:
    body = load("telegram_text.json")
    first, last = NAMES["telegram"].split(" ", 1)
    body["message"]["from"].update(first_name=first, last_name=last)
    body["message"]["text"] = TEXT
    response = await http.post(f"/webhooks/telegram/{channel_id}", json=body, headers={
        "X-Telegram-Bot-Api-Secret-Token": webhook_secret(TEST_SECRET_KEY, channel_id, BOT_TOKEN)})
    assert response.status_code == 200, response.text


async def _visitor_writes(http: httpx.AsyncClient, channel_id: int, origin: str) -> str:
    started = await http.post(f"/api/v1/widget/{channel_id}/session", json={"name": NAMES["webchat"]},
                              headers={"Origin": origin})
    assert started.status_code == 200, started.text
    token = str(started.json()["visitor_token"])
    sent = await http.post(f"/api/v1/widget/{channel_id}/messages", json={"client_message_id": "hostil-1",
                           "text": TEXT}, headers={"Origin": origin, "Authorization": f"Bearer {token}"})
    assert sent.status_code in (200, 201), sent.text
    return token


async def _system_writes(http: httpx.AsyncClient, data: seed.Center, who: str) -> int:
    """A message of the API channel (a customer system), with an attachment of its own: an outside
    address, named with the attribute break-out of issue 20."""
    raw, headers = seed.signed(seed.SALES_SECRET, {
        "external_id": f"hostil-{who}", "contact": {"external_id": f"contacto-{who}", "name": NAMES[who]},
        "text": TEXT, "attachments": [{"kind": "image", "url": OUTSIDE_URL, "name": ATTRIBUTE}]})
    answer = await seed.deliver_until_routed(http, f"/api/v1/channels/{data.sales_channel_id}/inbound", raw, headers)
    return int(answer["conversation_id"])


async def _assigned(http: httpx.AsyncClient, supervisor: dict[str, str], channel_ids: dict[str, int],
                    andrea: int) -> dict[str, int]:
    """Each channel's conversation, once routed and assigned to Andrea."""
    wanted = {v: k for k, v in channel_ids.items()}
    for _ in range(300):
        listed = await http.get("/api/v1/conversations", params={"status": "assigned", "limit": 100},
                                headers=supervisor)
        found = {wanted[i["channel_id"]]: i for i in listed.json()["items"] if i["channel_id"] in wanted}
        if len(found) == len(wanted):
            assert {i["assigned_membership_id"] for i in found.values()} == {andrea}
            return {kind: int(item["id"]) for kind, item in found.items()}
        await asyncio.sleep(0.1)
    raise AssertionError(f"not all routed: {listed.json()}")


async def _upload(http: httpx.AsyncClient, agent: dict[str, str], conversation_id: int, name: str, data: bytes,
                  mime: str) -> dict[str, Any]:
    body, content_type = multipart(name, data, mime)
    response = await http.post(f"/api/v1/conversations/{conversation_id}/attachments", content=body,
                               headers={**agent, "Content-Type": content_type})
    assert response.status_code == 201, response.text
    attachment: dict[str, Any] = response.json()
    assert attachment["name"] == name  # the quotes and brackets arrived as they were
    return attachment


@pytest.fixture(scope="module")
async def hostile(center: Center) -> Hostile:  # noqa: F811
    data = center.data
    channels, typifications = await _configure(center.server.database_url, data, center.base_url)
    andrea, sofia = center.headers(seed.ANDREA), center.headers(seed.SUPERVISOR)
    async with httpx.AsyncClient(base_url=center.base_url, timeout=15) as http:
        online = await http.put("/api/v1/agents/me/status", headers=andrea, json={"presence": "online"})
        assert online.status_code == 200, online.text
        await _whatsapp_writes(http, channels["whatsapp"])
        await _telegram_writes(http, channels["telegram"])
        token = await _visitor_writes(http, channels["webchat"], center.base_url)
        api_conversation = await _system_writes(http, data, "api")
        conversations = await _assigned(http, sofia, {**channels, "api": data.sales_channel_id},
                                        data.memberships[seed.ANDREA])
        assert conversations["api"] == api_conversation
        for kind, conversation_id in conversations.items():
            detail = await http.get(f"/api/v1/conversations/{conversation_id}", headers=sofia)
            assert detail.json()["contact"]["name"] == NAMES[kind], detail.text
        for kind in ("api", "webchat"):
            photo = await _upload(http, andrea, conversations[kind], PHOTO, JPEG, "image/jpeg")
            note = await _upload(http, andrea, conversations[kind], NOTE_FILE, b"nota de texto", "text/plain")
            sent = await http.post(f"/api/v1/conversations/{conversations[kind]}/messages", headers=andrea,
                                   json={"text": TEXT, "attachments": [photo, note]})
            assert sent.status_code == 201, sent.text
        filled = await http.patch(f"/api/v1/conversations/{api_conversation}/fields", headers=andrea,
                                  json={"fields": {"notas": TEXT, "preferencia": A}})
        assert filled.status_code == 200, filled.text
        closed = await _system_writes(http, data, "closed")
        await http.post(f"/api/v1/conversations/{closed}/messages", headers=andrea, json={"text": "Listo"})
        done = await http.post(f"/api/v1/conversations/{closed}/close", headers=sofia, json={
            "typification_id": typifications[1], "fields": {"documento": "00000", "motivo": "Consulta"}})
        assert done.status_code == 200, done.text
    return Hostile(conversations={**conversations, "closed": closed}, channels=channels, visitor_token=token)


async def hover_and_click(page: Page, target: Locator) -> None:
    """Hover, then click: a file link downloads, another link opens a tab (closed again)."""
    await target.hover()
    if await target.get_attribute("download") is not None:
        async with page.expect_download():
            await target.click()
        return
    async with page.context.expect_page() as opened:
        await target.click()
    await (await opened.value).close()


async def test_the_agent_sees_hostile_names_messages_files_and_fields_as_text(
        login: Login, hostile: Hostile) -> None:
    andrea = await login(seed.ANDREA)
    guard = Guard(andrea)
    await andrea.goto("/workspace")
    inbox = andrea.get_by_test_id("inbox")
    for kind in ("whatsapp", "telegram", "webchat", "api"):
        await expect(inbox.get_by_test_id(f"inbox-item-{hostile.conversations[kind]}")).to_contain_text(NAMES[kind])
    await guard.check("inbox")
    for kind in ("whatsapp", "telegram", "webchat", "api"):
        await inbox.get_by_test_id(f"inbox-item-{hostile.conversations[kind]}").click()
        thread = andrea.get_by_test_id("thread")
        await shows_literally(thread, *PAYLOADS)
        name = andrea.get_by_test_id("contact-name")
        await expect(name).to_have_text(NAMES[kind])
        await name.hover()
        await name.click()
        await guard.check(f"conversation {kind}")
    # The API conversation: the customer system's outside file is a link only, the agent's upload an image.
    thread = andrea.get_by_test_id("thread")
    await expect(thread.get_by_test_id("attachment-image")).to_have_count(1)
    await expect(thread.get_by_test_id("attachment-image")).to_have_attribute("aria-label", PHOTO)
    await hover_and_click(andrea, thread.get_by_test_id("attachment-image"))
    files = thread.get_by_test_id("attachment-file")
    await expect(files).to_have_count(2)
    await expect(files.first).to_contain_text(ATTRIBUTE)
    await expect(files.last).to_contain_text(NOTE_FILE)
    await files.first.hover()
    await hover_and_click(andrea, files.last)
    side = andrea.get_by_test_id("side-panel")
    await shows_literally(side, NOTES_LABEL, CHOICE_LABEL, A)
    await expect(side.get_by_test_id("field-notas")).to_have_value(TEXT)
    await guard.check("attachments and details")
    typing = andrea.get_by_test_id("message-input")
    await typing.fill("/")
    for title, shortcut in CANNED:
        await shows_literally(andrea.get_by_test_id("canned").filter(has_text=title), f"/{shortcut}", title)
    await guard.check("quick replies")


async def test_the_supervisor_sees_hostile_content_as_text_on_the_board_the_reader_and_the_lists(
        login: Login, center: Center, hostile: Hostile) -> None:  # noqa: F811
    sofia = await login(seed.SUPERVISOR)
    guard = Guard(sofia)
    await sofia.goto(f"/supervisor?campaign={center.data.sales_campaign_id}")
    await shows_literally(sofia.get_by_test_id("campaign-cards"), CAMPAIGN, OTHER_CAMPAIGN)
    for kind in ("whatsapp", "telegram", "webchat", "api"):
        await expect(sofia.get_by_test_id(f"active-{hostile.conversations[kind]}")).to_contain_text(NAMES[kind])
    await shows_literally(sofia.get_by_test_id(f"agent-{center.data.memberships[seed.BRUNO]}"), AGENT_NAME)
    await guard.check("board")
    api = hostile.conversations["api"]
    reader = sofia.get_by_test_id("reader")
    await sofia.get_by_test_id(f"read-{api}").click()
    await shows_literally(reader, *PAYLOADS, NAMES["api"])
    await hover_and_click(sofia, reader.get_by_test_id("attachment-image"))
    await reader.get_by_test_id("attachment-file").first.hover()
    await guard.check("reader")
    await reader.get_by_role("button", name="Cerrar").click()

    await sofia.get_by_test_id(f"close-{api}").click()
    await sofia.get_by_test_id("close-typification").click()
    for name in TYPIFICATIONS:
        await expect(sofia.get_by_role("option").filter(has_text=name)).to_be_visible()
    await guard.check("typifications to close with")
    await sofia.keyboard.press("Escape")
    await sofia.get_by_test_id("close-dialog").get_by_role("button", name="Cancelar").click()

    await sofia.get_by_test_id("tab-search").click()
    await sofia.get_by_test_id("search-input").fill("Quique")
    await sofia.get_by_test_id("search-button").click()
    closed = hostile.conversations["closed"]
    found = sofia.get_by_test_id(f"found-{closed}")
    await shows_literally(found, NAMES["closed"], CAMPAIGN)
    await found.get_by_test_id(f"read-{closed}").click()
    await shows_literally(reader, *PAYLOADS)
    await reader.get_by_test_id("attachment-file").first.hover()
    await guard.check("Conversaciones")
    await reader.get_by_role("button", name="Cerrar").click()

    await sofia.get_by_test_id("tab-canned").click()
    canned = sofia.get_by_test_id("canned-table")
    for title, shortcut in CANNED:
        await shows_literally(canned, title, shortcut)
    await guard.check("Respuestas rápidas")


async def test_the_admins_lists_and_the_reports_show_hostile_names_as_text(login: Login, hostile: Hostile) -> None:
    admin = await login(seed.ADMIN)
    guard = Guard(admin)
    screens = {"/console/campaigns": (CAMPAIGN, OTHER_CAMPAIGN, PROJECT), "/console/projects": (PROJECT,),
               "/console/typifications": TYPIFICATIONS, "/console/fields": (NOTES_LABEL, CHOICE_LABEL),
               "/console/admin/campaigns": (CAMPAIGN, OTHER_CAMPAIGN), "/reports": (CAMPAIGN, AGENT_NAME)}
    for path, names in screens.items():
        await admin.goto(path)
        await shows_literally(admin.locator("main, .q-page").first, *names)
        await guard.check(path)
    await admin.get_by_test_id("kpi-closed-value").click()  # the conversations behind Cerradas
    listed = admin.get_by_test_id(f"listed-{hostile.conversations['closed']}")
    await shows_literally(listed, NAMES["closed"], CAMPAIGN, TYPIFICATIONS[1])
    await guard.check("the report's conversations")


async def test_the_visitor_sees_the_agents_hostile_reply_and_file_as_text(
        browser: Browser, center: Center, hostile: Hostile) -> None:  # noqa: F811
    context = await browser.new_context(viewport=LAPTOP, base_url=center.base_url, locale="es-CO")
    channel = hostile.channels["webchat"]
    key, token = f"atiende:{center.base_url}:{channel}", hostile.visitor_token  # the widget's own storage
    await context.add_init_script(f"localStorage.setItem('{key}', JSON.stringify({{token: '{token}'}}))")
    page = await context.new_page()
    guard = Guard(page)
    # A shop's page on an origin the channel allows, with the one <script> tag of the widget (the demo
    # site serves only the demo client's chat).
    shop = f"{center.base_url}/shop-of-the-test"
    html = f'<!doctype html><html><body><p>Tienda</p><script src="/widget.js" data-channel="{channel}"></script></body></html>'
    await page.route(shop, lambda route: route.fulfill(body=html, content_type="text/html"))
    await page.goto(shop)
    await page.get_by_role("button", name="Abrir el chat").click()
    panel = page.get_by_role("dialog", name="Chatea con nosotros")
    await shows_literally(panel.locator(".welcome"), WELCOME)
    await shows_literally(panel.locator(".msg.visitor"), *PAYLOADS)
    reply = panel.locator(".msg.agent")
    await shows_literally(reply, *PAYLOADS, NOTE_FILE)
    await expect(reply.locator("img")).to_have_attribute("alt", PHOTO)
    await guard.check("widget")
    await reply.locator("img").hover()
    await reply.locator("img").click()
    await hover_and_click(page, reply.locator("a.file"))
    await guard.check("widget files")
    await context.close()


def test_the_pages_are_served_under_a_nonce_policy_even_compressed(center: Center) -> None:  # noqa: F811
    """The console's pages carry the CSP, its nonce on every script NiceGUI wrote, and no framing;
    compressed (as browsers ask) or not. The browser tests above fail on any CSP refusal."""
    for encoding in ("gzip", "identity"):
        page = httpx.get(f"{center.base_url}/login", headers={"Accept-Encoding": encoding})
        assert page.status_code == 200
        assert page.headers.get("content-encoding", "identity") == encoding
        policy = page.headers["content-security-policy"]
        nonce = policy.split("'nonce-")[1].split("'")[0]
        tags = [tag for tag in page.text.split("<script")[1:]]
        assert len(tags) >= 3 and all(tag.split(">")[0].count(f'nonce="{nonce}"') == 1 for tag in tags)
        assert "frame-ancestors 'none'" in policy and page.headers["x-frame-options"] == "DENY"
        assert page.headers["x-content-type-options"] == "nosniff"
