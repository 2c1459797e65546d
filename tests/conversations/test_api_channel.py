"""The API channel: signed inbound messages stored once, signed outbound delivery with retries and
delivery statuses, and bad input refused before anything is stored."""

import hashlib
import hmac
import json

import httpx
from sqlalchemy import event, select

from atiende.catalog.models import Schedule
from atiende.channels.models import Channel, ChannelKind
from atiende.conversations.models import Contact, Conversation, Message
from atiende.jobs import ScheduledJob, Worker
from tests.conversations.scenario import CALLBACK, SECRET, Receiver, Scenario, build
from tests.factories import Factory


async def test_a_signed_message_opens_a_conversation_and_is_answered_200(http: httpx.AsyncClient,
                                                                        factory: Factory) -> None:
    sc = await build(http, factory)
    answer = await sc.write("Hola, necesito ayuda", contact="crm-77", name="Ana Pérez", phone="+57 300 123 4567",
                            external_id="msg-1")
    assert answer["duplicate"] is False
    conversation = (await sc.conversations())[0]
    assert answer["conversation_id"] == conversation.id
    assert conversation.status == "queued"  # nobody is online yet
    assert conversation.contact.name == "Ana Pérez"
    assert conversation.contact.phone == "+573001234567"
    [message] = await sc.messages(conversation.id)
    assert (message.direction, message.sender, message.text, message.external_id) == (
        "in", "contact", "Hola, necesito ayuda", "msg-1")


async def test_the_same_external_id_twice_is_stored_once_and_answered_200_both_times(http: httpx.AsyncClient,
                                                                                   factory: Factory) -> None:
    sc = await build(http, factory)
    first = await sc.write("Hola", external_id="dup-1")
    again = await sc.write("Hola", external_id="dup-1")
    assert first["state"] == "pending"  # answered before routing; routed right after
    assert again == {**first, "duplicate": True, "state": "routed"}  # the redelivery's answer names what was made
    assert await sc.count(Message) == 1


async def test_bad_or_missing_signature_is_401_and_stores_nothing(http: httpx.AsyncClient, factory: Factory) -> None:
    sc = await build(http, factory)
    payload = {"external_id": "x-1", "contact": {"external_id": "c-1"}, "text": "Hola"}
    wrong_secret = await sc.post_inbound(payload, secret="not-the-secret")
    missing = await sc.post_inbound(payload, signature="")
    garbage = await sc.post_inbound(payload, signature="sha256=zz")
    assert wrong_secret.status_code == missing.status_code == garbage.status_code == 401
    assert wrong_secret.json()["field"] == "X-Atiende-Signature"
    assert await sc.count(Message) == await sc.count(Contact) == await sc.count(Conversation) == 0


async def test_the_signature_covers_the_exact_bytes(http: httpx.AsyncClient, factory: Factory) -> None:
    sc = await build(http, factory)
    raw = json.dumps({"external_id": "x-1", "contact": {"external_id": "c-1"}, "text": "Hola"}).encode()
    signature = "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
    tampered = raw.replace(b"Hola", b"Hol4")
    assert (await sc.post_inbound(tampered, signature=signature)).status_code == 401
    assert (await sc.post_inbound(raw, signature=signature)).status_code == 200


async def test_unknown_inactive_or_non_api_channels_are_404(http: httpx.AsyncClient, factory: Factory) -> None:
    sc = await build(http, factory)
    payload = {"external_id": "x-1", "contact": {"external_id": "c-1"}, "text": "Hola"}
    assert (await sc.post_inbound(payload, channel_id=999_999)).status_code == 404
    async with sc.database.session() as session:
        whatsapp = Channel(client_id=sc.client_id, kind=ChannelKind.whatsapp, name="WA",
                           credentials={"secret": SECRET})
        session.add(whatsapp)
        await session.flush()
        whatsapp_id = whatsapp.id
    assert (await sc.post_inbound(payload, channel_id=whatsapp_id)).status_code == 404
    async with sc.database.session() as session:
        (await session.get(Channel, sc.channel_id)).active = False  # type: ignore[union-attr]
    response = await sc.post_inbound(payload)
    assert response.status_code == 404
    assert response.json()["field"] == "channel_id"
    assert await sc.count(Message) == 0


async def test_malformed_json_is_400_and_invalid_bodies_are_422_naming_the_field(http: httpx.AsyncClient,
                                                                                 factory: Factory) -> None:
    sc = await build(http, factory)
    broken = await sc.post_inbound(b'{"external_id": "x-1", "contact": ')
    assert broken.status_code == 400 and broken.json()["field"] == "body"
    assert broken.json()["code"] == "inbound.unreadable_body"
    no_contact = await sc.post_inbound({"external_id": "x-1", "text": "Hola"})
    assert no_contact.status_code == 422 and no_contact.json()["field"] == "contact"
    empty = await sc.post_inbound({"external_id": "x-1", "contact": {"external_id": "c"}, "text": "  "})
    assert empty.status_code == 422
    bad_phone = await sc.post_inbound({"external_id": "x-1", "contact": {"external_id": "c", "phone": "12"},
                                       "text": "Hola"})
    assert bad_phone.status_code == 422 and bad_phone.json()["field"] == "contact.phone"
    not_an_object = await sc.post_inbound(b"[1, 2]")
    assert not_an_object.status_code == 422
    assert await sc.count(Message) == await sc.count(Contact) == 0


async def test_a_10_mb_body_is_413_and_stores_nothing(http: httpx.AsyncClient, factory: Factory) -> None:
    sc = await build(http, factory)
    huge = json.dumps({"external_id": "x-1", "contact": {"external_id": "c"}, "text": "a" * 10_000_000}).encode()
    response = await sc.post_inbound(huge)
    assert response.status_code == 413
    assert await sc.count(Message) == 0


async def test_a_channel_without_an_active_campaign_is_409(http: httpx.AsyncClient, factory: Factory) -> None:
    sc = await build(http, factory)
    await sc.update_campaign(active=False)
    response = await sc.post_inbound({"external_id": "x-1", "contact": {"external_id": "c"}, "text": "Hola"})
    assert response.status_code == 409
    assert await sc.count(Message) == 0


# --- outbound ---------------------------------------------------------------------------------

async def _assigned_conversation(sc: Scenario) -> int:
    await sc.hire(1)
    return (await sc.write("Hola", contact="crm-9"))["conversation_id"]


async def test_an_agent_reply_is_posted_signed_to_the_callback_and_marked_sent(
        http: httpx.AsyncClient, factory: Factory, worker: Worker, receiver: Receiver) -> None:
    sc = await build(http, factory)
    conversation_id = await _assigned_conversation(sc)
    response = await sc.reply(sc.agents[0], conversation_id, "Hola Ana, ¿en qué le ayudo?")
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "queued"
    await worker.run_due()
    [request] = receiver.requests
    assert str(request.url) == CALLBACK
    assert request.headers["X-Atiende-Signature"] == "sha256=" + hmac.new(
        SECRET.encode(), request.content, hashlib.sha256).hexdigest()
    body = receiver.bodies[0]
    assert body["message_id"] == response.json()["id"]
    assert body["contact"] == {"external_id": "crm-9", "name": "Ana"}
    assert (body["sender"], body["text"]) == ("agent", "Hola Ana, ¿en qué le ayudo?")
    [_, sent] = await sc.messages(conversation_id)
    assert (sent.status, sent.external_id, sent.delivery_attempts) == ("sent", "crm-1", 1)


async def test_a_failing_callback_is_retried_with_backoff_until_it_answers(
        http: httpx.AsyncClient, factory: Factory, worker: Worker, receiver: Receiver, clock) -> None:  # type: ignore[no-untyped-def]
    sc = await build(http, factory)
    conversation_id = await _assigned_conversation(sc)
    receiver.answers = [503, 500]
    await sc.reply(sc.agents[0], conversation_id)
    await worker.run_due()
    [_, message] = await sc.messages(conversation_id)
    assert message.status == "queued" and message.failure_reason == "RetryableSendError: callback answered 503"
    clock.advance(seconds=7)  # first backoff ≈ 5 s
    await worker.run_due()
    clock.advance(seconds=13)  # second ≈ 10 s
    await worker.run_due()
    [_, message] = await sc.messages(conversation_id)
    assert [r.url for r in receiver.requests] == [httpx.URL(CALLBACK)] * 3
    assert (message.status, message.delivery_attempts, message.failure_reason) == ("sent", 3, None)


async def test_a_refused_message_fails_at_once_and_an_unreachable_one_after_the_last_attempt(
        http: httpx.AsyncClient, factory: Factory, worker: Worker, receiver: Receiver, clock) -> None:  # type: ignore[no-untyped-def]
    sc = await build(http, factory)
    conversation_id = await _assigned_conversation(sc)
    receiver.answers = [400]
    await sc.reply(sc.agents[0], conversation_id, "uno")
    await worker.run_due()
    receiver.answers = [500] * 10
    await sc.reply(sc.agents[0], conversation_id, "dos")
    for _ in range(8):
        await worker.run_due()
        clock.advance(hours=2)
    [_, refused, unreachable] = await sc.messages(conversation_id)
    assert refused.status == "failed" and refused.failure_reason.startswith("callback answered 400")
    assert (unreachable.status, unreachable.delivery_attempts) == ("failed", 6)
    assert unreachable.failure_reason == "RetryableSendError: callback answered 500"
    assert len(receiver.requests) == 7
    async with sc.database.session() as session:
        assert (await session.scalars(select(ScheduledJob))).all() == []  # nothing left to retry


async def test_status_callbacks_move_forward_only(http: httpx.AsyncClient, factory: Factory, worker: Worker) -> None:
    sc = await build(http, factory)
    conversation_id = await _assigned_conversation(sc)
    message_id = (await sc.reply(sc.agents[0], conversation_id)).json()["id"]
    await worker.run_due()
    read = await sc.post_status({"message_id": message_id, "status": "read", "timestamp": "2026-01-05T12:01:00Z"})
    assert read.status_code == 200 and read.json() == {"message_id": message_id, "status": "read", "changed": True}
    late_delivered = await sc.post_status({"external_id": "crm-1", "status": "delivered"})
    assert late_delivered.json() == {"message_id": message_id, "status": "read", "changed": False}
    too_late_failure = await sc.post_status({"message_id": message_id, "status": "failed", "reason": "x"})
    assert too_late_failure.json()["status"] == "read"
    detail = await sc.detail(conversation_id)
    sent = detail["messages"][-1]
    assert sent["status"] == "read"
    assert sent["delivered_at"] == sent["read_at"] == "2026-01-05T12:01:00Z"


async def test_status_callbacks_are_signed_and_name_a_message_of_the_channel(
        http: httpx.AsyncClient, factory: Factory, worker: Worker) -> None:
    sc = await build(http, factory)
    conversation_id = await _assigned_conversation(sc)
    message_id = (await sc.reply(sc.agents[0], conversation_id)).json()["id"]
    unsigned = await http.post(f"/api/v1/channels/{sc.channel_id}/status",
                               json={"message_id": message_id, "status": "delivered"})
    assert unsigned.status_code == 401
    unknown = await sc.post_status({"message_id": 999_999, "status": "delivered"})
    assert unknown.status_code == 404 and unknown.json()["field"] == "message_id"
    inbound_id = (await sc.messages(conversation_id))[0].id
    assert (await sc.post_status({"message_id": inbound_id, "status": "read"})).status_code == 404
    nameless = await sc.post_status({"status": "read"})
    assert nameless.status_code == 422


async def test_the_schedule_is_not_needed_to_answer(http: httpx.AsyncClient, factory: Factory) -> None:
    """Sanity: the scenario's default schedule is open around the clock."""
    sc = await build(http, factory)
    async with sc.database.session() as session:
        schedule = await session.get(Schedule, sc.schedule_id)
        assert schedule is not None and len(schedule.bands) == 7


async def test_claimed_deliveries_go_out_together_in_order_per_conversation_in_a_fixed_number_of_statements(
        http: httpx.AsyncClient, factory: Factory, worker: Worker, receiver: Receiver) -> None:
    """The worker hands every claimed delivery to one pass: five replies or ten cost the same
    statements, and one conversation's replies reach the system in the order they were written."""
    sc = await build(http, factory)
    await sc.hire(2)
    first = (await sc.write("Hola", contact="crm-1"))["conversation_id"]
    second = (await sc.write("Buenas", contact="crm-2"))["conversation_id"]
    holder = {c: (await sc.detail(c))["assigned_membership_id"] for c in (first, second)}
    agents = {agent.membership_id: agent for agent in sc.agents}
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    engine = sc.database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        costs = []
        for per_conversation in (3, 6):
            for n in range(per_conversation):
                for conversation_id in (first, second):
                    answered = await sc.reply(agents[holder[conversation_id]], conversation_id, f"{conversation_id}:{n}")
                    assert answered.status_code == 201, answered.text
            statements.clear()
            await worker.run_due()
            costs.append(len(statements))
    finally:
        event.remove(engine, "before_cursor_execute", count)
    texts = [body["text"] for body in receiver.bodies]
    assert len(texts) == 18
    for conversation_id in (first, second):
        mine = [t for t in texts if t.startswith(f"{conversation_id}:")]
        assert mine == [f"{conversation_id}:{n}" for n in (0, 1, 2, 0, 1, 2, 3, 4, 5)]
    assert costs[0] == costs[1] and costs[1] <= 20, costs
    assert {m.status for c in (first, second) for m in await sc.messages(c) if m.sender == "agent"} == {"sent"}
