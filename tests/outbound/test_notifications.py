"""The notification API over HTTP, against the local fake Graph API, on a fake clock: a billing system
sends one payment reminder at a time to one contact of the collections campaign, with an
Idempotency-Key, and follows its status."""

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from atiende.auth.models import Role
from atiende.bus import InProcessBus
from atiende.clock import FakeClock
from atiende.contacts.consent import opt_out
from atiende.conversations.models import Contact, Conversation, ConversationStatus, Direction, Message
from atiende.jobs import JobContext, Worker
from atiende.outbound.models import NotificationKey
from tests.channels.fakes.meta import FakeGraph
from tests.channels.whatsapp.test_sending import from_customer, status
from tests.channels.whatsapp.test_webhook import deliver
from tests.conversations.scenario import Receiver
from tests.factories import Factory, Tenant
from tests.outbound.helpers import Center, collections_center

ANA = "+573001234567"
PARAMETERS = {"header": ["Ana"], "body": ["$ 1.871.000", "15 dic 2026"], "buttons": ["REF-77"]}


def reminder(to: Any = ANA, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"to": to, "template": {"name": "recordatorio_pago", "language": "es",
                                                   "parameters": PARAMETERS}}
    body.update(changes)
    return body


@pytest.fixture
async def center(http: httpx.AsyncClient, factory: Factory, graph: FakeGraph) -> Center:
    return await collections_center(http, factory)


async def notify(center: Center, body: dict[str, Any], key: str | None = "factura-2026-0001",
                 headers: dict[str, str] | None = None, campaign_id: int | None = None) -> httpx.Response:
    sent = dict(headers or center.headers)
    if key is not None:
        sent["Idempotency-Key"] = key
    return await center.http.post(f"/api/v1/campaigns/{campaign_id or center.scenario.campaign_id}/outbound",
                                  json=body, headers=sent)


async def test_a_payment_reminder_goes_out_as_the_template_and_its_status_url_follows_it(
        center: Center, graph: FakeGraph, worker: Worker, clock: FakeClock, bus: InProcessBus) -> None:
    answer = await notify(center, reminder(to="300 123 4567"))  # national: read in the client's region (CO)
    assert answer.status_code == 201, answer.text
    out = answer.json()
    assert out["status"] == "queued" and out["channel_id"] == center.channel_id
    assert out["status_url"] == f"/api/v1/outbound/messages/{out['message_id']}"

    await worker.run_due()
    assert graph.problems == []
    assert graph.sent() == [{
        "messaging_product": "whatsapp", "recipient_type": "individual", "to": ANA.lstrip("+"),
        "type": "template",
        "template": {"name": "recordatorio_pago", "language": {"code": "es"}, "components": [
            {"type": "header", "parameters": [{"type": "text", "text": "Ana"}]},
            {"type": "body", "parameters": [{"type": "text", "text": "$ 1.871.000"},
                                            {"type": "text", "text": "15 dic 2026"}]},
            {"type": "button", "sub_type": "url", "index": "0", "parameters": [{"type": "text", "text": "REF-77"}]},
        ]}}]
    sent = (await center.http.get(out["status_url"], headers=center.headers)).json()
    assert sent["status"] == "sent" and sent["external_id"].startswith("wamid.")
    assert sent["text"] == "Tu saldo de $ 1.871.000 vence el 15 dic 2026. Responde este mensaje si necesitas un acuerdo."

    async with center.scenario.database.session() as session:
        contact = await session.get(Contact, out["contact_id"])
        conversation = await session.get(Conversation, out["conversation_id"])
    assert contact is not None and contact.phone == ANA  # the directory gained the contact
    assert conversation is not None and conversation.campaign_id == center.scenario.campaign_id
    assert conversation.status == ConversationStatus.queued and conversation.last_inbound_at is None

    events = bus.subscribe(frozenset({"message.status"}))  # what integrations relay
    try:
        at = int(clock.now().timestamp())
        assert (await deliver(center.http, center.channel_id, status(sent["external_id"], "delivered", at))
                ).status_code == 200
        assert (await center.http.get(out["status_url"], headers=center.headers)).json()["status"] == "delivered"
        event = await events.get(timeout=1)
        assert (event.kind, event.message_id, event.delivery_status) == ("message.status", out["message_id"],
                                                                          "delivered")
    finally:
        events.close()


async def test_the_same_idempotency_key_twice_sends_once_and_answers_the_first_result(
        center: Center, graph: FakeGraph, worker: Worker) -> None:
    first = await notify(center, reminder())
    again = await notify(center, reminder())
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    await worker.run_due()
    assert len(graph.sent()) == 1
    assert await center.scenario.count(Message, Message.direction == Direction.outbound) == 1


async def test_two_concurrent_requests_with_one_key_send_once(
        center: Center, graph: FakeGraph, worker: Worker) -> None:
    answers = await asyncio.gather(*(notify(center, reminder(), key="factura-concurrente") for _ in range(3)))
    assert [a.status_code for a in answers] == [201, 201, 201], [a.text for a in answers]
    assert len({a.json()["message_id"] for a in answers}) == 1
    assert sorted(a.headers.get("Idempotent-Replayed", "") for a in answers) == ["", "true", "true"]
    await worker.run_due()
    assert len(graph.sent()) == 1
    assert await center.scenario.count(NotificationKey) == 1


async def test_a_key_used_again_with_another_body_is_refused(center: Center, graph: FakeGraph,
                                                             worker: Worker) -> None:
    assert (await notify(center, reminder())).status_code == 201
    other = await notify(center, reminder(to="+573009998877"))
    assert other.status_code == 422
    assert other.json()["code"] == "notification.idempotency_key_reused"
    assert other.json()["field"] == "Idempotency-Key"
    await worker.run_due()
    assert [b["to"] for b in graph.sent()] == [ANA.lstrip("+")]


async def test_a_failed_first_request_leaves_its_key_free(center: Center) -> None:
    bad = await notify(center, reminder(to="12345"), key="factura-9")
    assert bad.status_code == 422 and bad.json()["field"] == "to"
    assert bad.json()["code"] == "notification.phone_invalid"
    empty = await notify(center, reminder(to=""), key="factura-9")
    assert (empty.status_code, empty.json()["field"]) == (422, "to")
    assert (await notify(center, reminder(), key="factura-9")).status_code == 201


async def test_the_idempotency_key_is_required(center: Center) -> None:
    missing = await notify(center, reminder(), key=None)
    assert missing.status_code == 422 and missing.json()["field"] == "Idempotency-Key"


async def test_an_opted_out_contact_is_never_sent_to(center: Center, graph: FakeGraph, worker: Worker) -> None:
    first = await notify(center, reminder(), key="k-1")
    async with center.scenario.database.session() as session:
        await opt_out(session, first.json()["contact_id"], "whatsapp", source="api")
    refused = await notify(center, reminder(), key="k-2")
    assert refused.status_code == 409, refused.text
    assert (refused.json()["code"], refused.json()["field"]) == ("notification.opted_out", "to")
    refused_by_id = await notify(center, reminder(to=first.json()["contact_id"]), key="k-3")
    assert refused_by_id.json()["code"] == "notification.opted_out"
    await worker.run_due()
    assert len(graph.sent()) == 1  # only the one sent before the opt-out


async def test_free_text_on_whatsapp_needs_the_24_hour_window(
        center: Center, graph: FakeGraph, worker: Worker, clock: FakeClock) -> None:
    closed = await notify(center, {"to": ANA, "text": "Su pago fue recibido"}, key="t-1")
    assert closed.status_code == 422
    assert (closed.json()["code"], closed.json()["field"]) == ("notification.window_closed", "text")

    assert (await deliver(center.http, center.channel_id,
                          from_customer(center.scenario, "Hola", wa_id=ANA.lstrip("+")))).status_code == 200
    await worker.run_due()
    inside = await notify(center, {"to": ANA, "text": "Su pago fue recibido"}, key="t-2")
    assert inside.status_code == 201, inside.text
    await worker.run_due()
    assert graph.sent()[-1]["type"] == "text" and graph.sent()[-1]["text"]["body"] == "Su pago fue recibido"
    async with center.scenario.database.session() as session:
        conversations = (await session.scalars(select(Conversation))).all()
    assert len(conversations) == 1  # joined the conversation the customer opened

    clock.advance(hours=25)
    fresh = await center.scenario.factory.person(center.scenario.client_id, Role.supervisor)  # tokens last 12 h
    late = await notify(center, {"to": ANA, "text": "¿Sigue ahí?"}, key="t-3", headers=fresh.headers)
    assert late.json()["code"] == "notification.window_closed"


async def test_template_refusals_name_the_field(center: Center) -> None:
    await center.template("borrador", status="PENDING")
    pending = await notify(center, reminder(template={"name": "borrador", "language": "es"}), key="r-1")
    assert (pending.status_code, pending.json()["field"]) == (422, "template.name")
    assert pending.json()["code"] == "outbound.template_unusable"
    unknown = await notify(center, reminder(template={"name": "no_existe", "language": "es"}), key="r-2")
    assert unknown.json()["field"] == "template.name"
    short = await notify(center, reminder(template={"name": "recordatorio_pago", "language": "es", "parameters": {
        "header": ["Ana"], "body": ["$ 1"], "buttons": ["R"]}}), key="r-3")
    assert (short.status_code, short.json()["field"]) == (422, "template.parameters.body")
    both = await notify(center, reminder(text="Hola"), key="r-4")
    assert both.status_code == 422


async def test_text_on_the_api_channel_reaches_only_contacts_who_wrote_to_it(
        center: Center, app: Any, receiver_worker: tuple[Worker, Receiver]) -> None:
    scenario = center.scenario
    api_channel = scenario.channel_id  # the scenario's campaign also has its API channel
    never = await notify(center, {"to": ANA, "text": "Hola", "channel_id": api_channel}, key="a-1")
    assert (never.status_code, never.json()["code"]) == (422, "notification.contact_never_wrote")
    template = await notify(center, reminder(channel_id=api_channel), key="a-2")
    assert template.json()["code"] == "notification.template_needs_whatsapp"

    await scenario.write("Hola", contact="crm-ana", name="Ana")
    async with scenario.database.session() as session:
        contact_id = (await session.scalars(select(Contact.id))).one()
    sent = await notify(center, {"to": contact_id, "text": "Su factura está lista", "channel_id": api_channel},
                        key="a-3")
    assert sent.status_code == 201, sent.text
    worker, receiver = receiver_worker
    await worker.run_due()
    bodies = [b for b in receiver.bodies if b["message_id"] == sent.json()["message_id"]]
    assert [(b["text"], b["contact"]["external_id"], b["sender"]) for b in bodies] == [
        ("Su factura está lista", "crm-ana", "system")]


async def test_a_campaign_without_a_whatsapp_channel_cannot_send_templates(
        http: httpx.AsyncClient, factory: Factory) -> None:
    from tests.conversations.scenario import build

    scenario = await build(http, factory)  # only an API channel
    answer = await http.post(f"/api/v1/campaigns/{scenario.campaign_id}/outbound", json=reminder(),
                             headers={**scenario.supervisor.headers, "Idempotency-Key": "x-1"})
    assert (answer.status_code, answer.json()["code"]) == (422, "notification.no_channel")
    assert answer.json()["field"] == "channel_id"


async def test_who_may_send_and_where(center: Center, other_tenant: Tenant, factory: Factory) -> None:
    agents = await center.scenario.hire(1)
    refused = await notify(center, reminder(), headers=agents[0].headers)
    assert (refused.status_code, refused.json()["code"]) == (403, "auth.role_required")
    admin = await notify(center, reminder(), headers=center.scenario.admin.headers, key="admin-1")
    assert admin.status_code == 201
    stranger = await notify(center, reminder(), headers=other_tenant.admin.headers, key="stranger-1")
    assert (stranger.status_code, stranger.json()["field"]) == (404, "campaign_id")
    foreign = await center.http.get(admin.json()["status_url"], headers=other_tenant.admin.headers)
    assert (foreign.status_code, foreign.json()["code"]) == (404, "notification.message_not_found")
    other_contact = await notify(center, reminder(to=await _contact_of(factory, other_tenant)), key="c-1")
    assert (other_contact.status_code, other_contact.json()["field"]) == (404, "to")


async def _contact_of(factory: Factory, tenant: Tenant) -> int:
    async with factory.database.session() as session:
        contact = Contact(client_id=tenant.client.id, name="Otra", phone="+573005550000", attributes={},
                          created_at=factory.clock.now() - timedelta(days=1))
        session.add(contact)
        await session.flush()
        return contact.id


@pytest.fixture
async def receiver_worker(app: Any) -> Any:
    """A worker whose HTTP client is the system behind the API channel's callback URL."""
    receiver = Receiver()
    async with httpx.AsyncClient(transport=httpx.MockTransport(receiver.handle)) as client:
        yield Worker(JobContext(database=app.state.database, clock=app.state.clock, bus=app.state.bus,
                                settings=app.state.settings, http=client)), receiver

