"""Sends on Telegram and API channels over HTTP, on a fake clock, against the fake Telegram Bot API
and a fake system behind the API channel's callback: no templates there, so the message is plain
text with the send's variables, and it reaches only the contacts who already wrote on the channel,
each once; a reply lands in the campaign with the sent text as its first outbound message."""

import copy
import itertools
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from atiende.channels.api_channel import sign
from atiende.channels.models import ChannelKind
from atiende.clock import FakeClock
from atiende.contacts.consent import opt_out
from atiende.conversations.models import Contact, Direction
from atiende.jobs import JobContext, Worker
from atiende.settings import Settings
from tests.channels.fakes.data import load
from tests.channels.fakes.fixtures import _telegram_server, telegram  # noqa: F401
from tests.channels.fakes.meta import FakeGraph
from tests.channels.fakes.setup import add_channel, telegram_center
from tests.channels.fakes.telegram import FakeTelegram
from tests.channels.telegram.test_bot import deliver as deliver_update
from tests.conversations.scenario import SECRET, Receiver, Scenario, build
from tests.factories import Factory
from tests.outbound.helpers import collections_center, fake_sleep

CLOSE_FREELY = {"close_without_reply": True}  # the agents finish old conversations without answering
REMINDER = "Hola {nombre}, tu cuota de {monto} vence el {fecha_vencimiento}"
_update_ids = itertools.count(727160001)


async def create(scenario: Scenario, **body: Any) -> httpx.Response:
    return await scenario.http.post(f"/api/v1/campaigns/{scenario.campaign_id}/sends",
                                    json={"name": "Recordatorio de cuota", **body}, headers=scenario.supervisor.headers)


async def put_text(scenario: Scenario, send_id: int, body: dict[str, Any]) -> httpx.Response:
    return await scenario.http.put(f"/api/v1/sends/{send_id}/message", json=body, headers=scenario.supervisor.headers)


async def action(scenario: Scenario, send_id: int, name: str) -> httpx.Response:
    return await scenario.http.post(f"/api/v1/sends/{send_id}/{name}", headers=scenario.supervisor.headers)


async def read(scenario: Scenario, send_id: int) -> dict[str, Any]:
    response = await scenario.http.get(f"/api/v1/sends/{send_id}", headers=scenario.supervisor.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def recipients(scenario: Scenario, send_id: int) -> dict[str, dict[str, Any]]:
    """By name."""
    response = await scenario.http.get(f"/api/v1/sends/{send_id}/recipients", params={"limit": 100},
                                       headers=scenario.supervisor.headers)
    assert response.status_code == 200, response.text
    return {r["name"]: r for r in response.json()["items"]}


def update_from(chat_id: int, first_name: str, last_name: str, text: str) -> dict[str, Any]:
    """A Telegram update: ``text`` from a private chat."""
    body = copy.deepcopy(load("telegram_text.json"))
    body["update_id"] = next(_update_ids)
    message = body["message"]
    message["message_id"] = body["update_id"] % 100000
    for who in (message["from"], message["chat"]):
        who.update(id=chat_id, first_name=first_name, last_name=last_name, username=first_name.lower())
    message["text"] = text
    return body


async def close_all(scenario: Scenario) -> None:
    """The agent finished every conversation: the contacts wrote some days ago."""
    for conversation in await scenario.conversations():
        if conversation.status != "closed":
            closed = await scenario.close(scenario.agents[0], conversation.id)
            assert closed.status_code == 200, (conversation.status, closed.text)


async def give_debts(scenario: Scenario, debts: dict[str, tuple[str, str]]) -> None:
    """The directory's attributes the reminder uses, by contact name."""
    async with scenario.database.session() as session:
        for contact in (await session.scalars(select(Contact).where(Contact.client_id == scenario.client_id))).all():
            if contact.name in debts:
                amount, due = debts[contact.name]
                contact.attributes = {**(contact.attributes or {}), "monto": amount, "fecha_vencimiento": due}


# --- Telegram -------------------------------------------------------------------------------------
async def test_a_telegram_send_reaches_once_each_contact_who_wrote_to_the_bot_with_their_values(
        http: httpx.AsyncClient, factory: Factory, telegram: FakeTelegram, worker: Worker, clock: FakeClock,  # noqa: F811
        settings: Settings) -> None:
    scenario, bot = await telegram_center(http, factory, permissions=CLOSE_FREELY)
    await scenario.hire(1, capacity=10)
    for chat_id, first, last in ((5123456789, "Lucía", "Gómez"), (5123456790, "Mateo", "Ríos")):
        assert (await deliver_update(http, settings, bot, update_from(chat_id, first, last, "Hola"))).status_code == 200
    await scenario.write("Hola", contact="crm-beto", name="Beto Páez")  # wrote on the API channel only
    async with scenario.database.session() as session:  # in the directory, never wrote
        session.add(Contact(client_id=scenario.client_id, name="Carla Mora", phone="+573005550001", attributes={},
                            created_at=clock.now()))
    await give_debts(scenario, {"Lucía Gómez": ("$ 120.000", "15 dic 2026"), "Mateo Ríos": ("$ 80.500", "20 dic 2026"),
                                "Beto Páez": ("$ 1", "1 ene 2027"), "Carla Mora": ("$ 2", "2 ene 2027")})
    await close_all(scenario)
    telegram.calls.clear()

    created = await create(scenario, channel_id=bot)
    assert created.status_code == 201, created.text
    send = created.json()
    assert send["channel_id"] == bot and send["rate_per_second"] == 30  # a bot's broadcast pace
    audience = await http.post(f"/api/v1/sends/{send['id']}/audience/directory", headers=scenario.supervisor.headers)
    assert audience.status_code == 200, audience.text
    report = audience.json()
    assert (report["total"], report["valid"], report["no_conversation"]) == (4, 2, 2)
    assert sorted(e["reason"] for e in report["errors"]) == ["no_conversation", "no_conversation"]
    assert {row["nombre"] for row in report["preview"]} == {"Lucía Gómez", "Mateo Ríos"}

    saved = await put_text(scenario, send["id"], {"text": REMINDER})
    assert saved.status_code == 200, saved.text
    assert saved.json()["text"] == REMINDER and saved.json()["template_name"] is None
    assert saved.json()["counts"]["skipped_no_conversation"] == 2
    assert (await action(scenario, send["id"], "launch")).status_code == 200
    with fake_sleep(worker, clock):
        await worker.run_due()
        await worker.run_due()  # nothing is sent twice by another run

    assert telegram.problems == []
    assert sorted((c.params["chat_id"], c.params["text"]) for c in telegram.of("sendMessage")) == [
        ("5123456789", "Hola Lucía Gómez, tu cuota de $ 120.000 vence el 15 dic 2026"),
        ("5123456790", "Hola Mateo Ríos, tu cuota de $ 80.500 vence el 20 dic 2026")]
    done = await read(scenario, send["id"])
    assert done["status"] == "completed"
    assert (done["counts"]["sent"], done["counts"]["skipped_no_conversation"]) == (2, 2)
    rows = await recipients(scenario, send["id"])
    assert rows["Lucía Gómez"]["state"] == "sent" and rows["Lucía Gómez"]["wamid"].startswith("5123456789:")
    assert rows["Beto Páez"]["skip_reason"] == rows["Carla Mora"]["skip_reason"] == "no_conversation"

    clock.advance(minutes=10)
    reply = update_from(5123456789, "Lucía", "Gómez", "¿Puedo pagar la mitad?")
    assert (await deliver_update(http, settings, bot, reply)).status_code == 200
    conversation = next(c for c in await scenario.conversations() if c.status != "closed")
    assert conversation.campaign_id == scenario.campaign_id and conversation.channel_id == bot
    messages = await scenario.messages(conversation.id)
    outbound = [m for m in messages if m.direction == Direction.outbound]
    assert outbound[0].text == "Hola Lucía Gómez, tu cuota de $ 120.000 vence el 15 dic 2026"
    assert outbound[0].created_at <= min(m.created_at for m in messages)
    context = await http.get(f"/api/v1/conversations/{conversation.id}/send", headers=scenario.supervisor.headers)
    assert context.json()["send_name"] == "Recordatorio de cuota"
    assert context.json()["variables"]["monto"] == "$ 120.000"
    assert (await read(scenario, send["id"]))["counts"]["replied"] == 1


async def test_a_telegram_send_refuses_templates_bad_placeholders_and_texts_telegram_cannot_take(
        http: httpx.AsyncClient, factory: Factory, telegram: FakeTelegram, settings: Settings) -> None:  # noqa: F811
    scenario, bot = await telegram_center(http, factory)
    send = (await create(scenario, channel_id=bot)).json()
    assert (await deliver_update(http, settings, bot, update_from(5123456789, "Lucía", "Gómez", "Hola"))
            ).status_code == 200
    await give_debts(scenario, {"Lucía Gómez": ("$ 120.000", "15 dic 2026")})
    assert (await http.post(f"/api/v1/sends/{send['id']}/audience/directory",
                            headers=scenario.supervisor.headers)).status_code == 200
    cases = [
        ({"template_name": "recordatorio_pago", "language": "es"}, "template_name"),
        ({"text": "Hola {nombre}, tu saldo de {saldo} vence hoy"}, "text"),  # the audience has no saldo
        ({"text": "   "}, "text"),
        ({}, "text"),
        ({"text": "x" * 4097}, "text"),  # Telegram takes 4096 characters
    ]
    for body, field in cases:
        refused = await put_text(scenario, send["id"], body)
        assert refused.status_code == 422, (body, refused.text)
        assert (refused.json()["field"], refused.json()["code"]) == (field, "outbound.invalid"), body
    not_ready = await action(scenario, send["id"], "launch")
    assert (not_ready.status_code, not_ready.json()["field"]) == (422, "text")
    assert (await put_text(scenario, send["id"], {"text": "x" * 4096})).status_code == 200
    test = await http.post(f"/api/v1/sends/{send['id']}/test", json={"phone": "+573001234567"},
                           headers=scenario.supervisor.headers)
    assert (test.status_code, test.json()["field"]) == (422, "phone")
    assert telegram.of("sendMessage") == []


async def test_telegram_refusals_fail_the_recipient_and_its_flood_limit_holds_the_send(
        http: httpx.AsyncClient, factory: Factory, telegram: FakeTelegram, worker: Worker, clock: FakeClock,  # noqa: F811
        settings: Settings) -> None:
    scenario, bot = await telegram_center(http, factory, permissions=CLOSE_FREELY)
    await scenario.hire(1, capacity=10)
    for chat_id, first in ((5123456781, "Ana"), (5123456782, "Beto")):
        await deliver_update(http, settings, bot, update_from(chat_id, first, "Díaz", "Hola"))
    await close_all(scenario)
    telegram.calls.clear()
    send = (await create(scenario, channel_id=bot)).json()
    await http.post(f"/api/v1/sends/{send['id']}/audience/directory", headers=scenario.supervisor.headers)
    assert (await put_text(scenario, send["id"], {"text": "Hola {nombre}"})).status_code == 200
    assert (await action(scenario, send["id"], "launch")).status_code == 200
    telegram.fail_next(403, "Forbidden: bot was blocked by the user")
    telegram.fail_next(429, "Too Many Requests: retry after 30", retry_after=30)
    with fake_sleep(worker, clock):
        worker.context.extras["outbound_concurrency"] = 1  # one call at a time: the failures land in order
        await worker.run_due()
        rows = await recipients(scenario, send["id"])
        assert rows["Ana Díaz"]["state"] == "failed"
        assert rows["Ana Díaz"]["error_title"] == "Telegram 403: Forbidden: bot was blocked by the user"
        assert rows["Beto Díaz"]["state"] == "pending"  # Telegram asked to wait: nothing reached Beto
        assert (await read(scenario, send["id"]))["status"] == "sending"
        clock.advance(seconds=31)
        await worker.run_due()
    rows = await recipients(scenario, send["id"])
    assert rows["Beto Díaz"]["state"] == "sent"
    assert Counter(c.params["chat_id"] for c in telegram.of("sendMessage")) == {"5123456781": 1, "5123456782": 2}
    assert (await read(scenario, send["id"]))["status"] == "completed"


# --- the API channel ------------------------------------------------------------------------------
class System(Receiver):
    """The system behind the callback URL; ``refuse`` connections first (nothing reaches it)."""

    def __init__(self) -> None:
        super().__init__()
        self.refuse = 0

    def handle(self, request: httpx.Request) -> httpx.Response:
        if self.refuse:
            self.refuse -= 1
            raise httpx.ConnectError("Connection refused", request=request)
        return super().handle(request)


@pytest.fixture
async def system_worker(app: Any) -> AsyncIterator[tuple[Worker, System]]:
    system = System()
    async with httpx.AsyncClient(transport=httpx.MockTransport(system.handle)) as client:
        yield Worker(JobContext(database=app.state.database, clock=app.state.clock, bus=app.state.bus,
                                settings=app.state.settings, http=client)), system


def debtors(*rows: tuple[str, str, str, str]) -> bytes:
    return "\n".join(["nombre,telefono,monto,fecha_vencimiento", *(",".join(r) for r in rows)]).encode() + b"\n"


async def test_an_api_channel_send_reaches_the_contacts_who_wrote_once_each_through_the_callback(
        http: httpx.AsyncClient, factory: Factory, system_worker: tuple[Worker, System], clock: FakeClock) -> None:
    worker, system = system_worker
    scenario = await build(http, factory, permissions=CLOSE_FREELY)  # a campaign with its API channel only
    await scenario.hire(1, capacity=10)
    for contact, name, phone in (("crm-ana", "Ana Ruiz", "+573001110001"), ("crm-beto", "Beto Páez", "+573001110002"),
                                 ("crm-elena", "Elena Vidal", "+573001110003"),
                                 ("crm-dario", "Darío Paz", "+573001110004")):
        await scenario.write("Hola", contact=contact, name=name, phone=phone)
    async with scenario.database.session() as session:
        dario = await session.scalar(select(Contact.id).where(Contact.name == "Darío Paz"))
        assert dario is not None
        await opt_out(session, dario, ChannelKind.api.value, source="api")
    await close_all(scenario)

    created = await create(scenario)
    assert created.status_code == 201 and created.json()["channel_id"] == scenario.channel_id  # the only channel
    send_id = created.json()["id"]
    content = debtors(("Ana Ruiz", "+573001110001", "$ 120.000", "15 dic 2026"),
                      ("Beto Páez", "+57 300 111 0002", "$ 80.500", "20 dic 2026"),
                      ("Elena Vidal", "+573001110003", "$ 5.000", "1 ene 2027"),
                      ("Darío Paz", "+573001110004", "$ 9.000", "1 ene 2027"),
                      ("Carla Mora", "+573001110005", "$ 7.000", "1 ene 2027"),  # never wrote
                      ("Sin número", "12345", "$ 1", "1 ene 2027"))
    uploaded = await http.post(f"/api/v1/sends/{send_id}/audience", files={"file": ("cuotas.csv", content)},
                               headers=scenario.supervisor.headers)
    assert uploaded.status_code == 200, uploaded.text
    report = uploaded.json()
    assert (report["valid"], report["invalid"], report["no_conversation"]) == (4, 1, 1)
    assert [(e["row"], e["reason"]) for e in report["errors"]] == [(6, "no_conversation"), (7, "invalid_phone")]
    template = await put_text(scenario, send_id, {"template_name": "recordatorio_pago", "language": "es"})
    assert (template.status_code, template.json()["field"]) == (422, "template_name")
    assert (await put_text(scenario, send_id, {"text": REMINDER})).status_code == 200
    assert (await action(scenario, send_id, "launch")).status_code == 200

    system.refuse = 1  # the first call never leaves: Ana goes back to pending, and is sent later
    system.answers = [200, 403]  # Beto's call is taken, Elena's refused for good
    with fake_sleep(worker, clock):
        worker.context.extras["outbound_concurrency"] = 1
        await worker.run_due()
        await worker.run_due()
    calls = [b for b in system.bodies if b.get("send")]
    assert Counter(b["contact"]["external_id"] for b in calls) == {"crm-beto": 1, "crm-elena": 1, "crm-ana": 1}
    ana = next(b for b in calls if b["contact"]["external_id"] == "crm-ana")
    rows = await recipients(scenario, send_id)
    assert ana == {"message_id": None, "conversation_id": None,
                   "send": {"id": send_id, "recipient_id": rows["Ana Ruiz"]["id"]},
                   "contact": {"external_id": "crm-ana", "name": "Ana Ruiz"}, "sender": "system",
                   "text": "Hola Ana Ruiz, tu cuota de $ 120.000 vence el 15 dic 2026", "attachments": [],
                   "choices": [], "created_at": ana["created_at"]}
    request = next(r for r in system.requests if b'"crm-ana"' in r.content)
    assert request.headers["X-Atiende-Signature"] == sign(SECRET, request.content)
    assert {name: (r["state"], r["skip_reason"]) for name, r in rows.items()} == {
        "Ana Ruiz": ("sent", None), "Beto Páez": ("sent", None), "Elena Vidal": ("failed", None),
        "Darío Paz": ("skipped", "opted_out"), "Carla Mora": ("skipped", "no_conversation"),
        "Sin número": ("skipped", "invalid_phone")}
    assert rows["Elena Vidal"]["error_title"].startswith("callback answered 403")
    assert rows["Beto Páez"]["wamid"] == "crm-1"  # the system's own id for it (the first call it got)
    assert (await read(scenario, send_id))["status"] == "completed"

    clock.advance(minutes=5)
    await scenario.write("Ya pagué", contact="crm-beto", name="Beto Páez")
    conversation = next(c for c in await scenario.conversations() if c.status != "closed")
    outbound = [m for m in await scenario.messages(conversation.id) if m.direction == Direction.outbound]
    assert outbound[0].text == "Hola Beto Páez, tu cuota de $ 80.500 vence el 20 dic 2026"
    assert (await recipients(scenario, send_id))["Beto Páez"]["conversation_id"] == conversation.id


# --- the channel of a send ------------------------------------------------------------------------
async def test_a_send_takes_the_campaigns_whatsapp_by_default_or_a_chosen_channel_of_the_campaign(
        http: httpx.AsyncClient, factory: Factory, graph: FakeGraph) -> None:
    center = await collections_center(http, factory)  # WhatsApp and the scenario's API channel
    scenario = center.scenario
    default = await create(scenario)
    assert default.status_code == 201 and default.json()["channel_id"] == center.channel_id
    on_whatsapp = await put_text(scenario, default.json()["id"], {"text": "Hola {nombre}"})
    assert (on_whatsapp.status_code, on_whatsapp.json()["field"]) == (422, "text")  # WhatsApp takes templates
    on_api = await create(scenario, channel_id=scenario.channel_id)
    assert on_api.status_code == 201 and on_api.json()["channel_id"] == scenario.channel_id

    unlinked = await add_channel(scenario, ChannelKind.telegram, linked=False)  # another campaign's bot
    stranger = await build(http, factory)  # another client's channel
    for channel_id in (unlinked, stranger.channel_id, 10**9):
        refused = await create(scenario, channel_id=channel_id)
        assert refused.status_code == 422, refused.text
        assert (refused.json()["field"], refused.json()["code"]) == ("channel_id", "outbound.invalid")
    assert (await create(scenario, channel_id=0)).json()["field"] == "channel_id"
