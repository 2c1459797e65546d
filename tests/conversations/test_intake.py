"""The inbound intake: the webhook stores a delivery and answers; the router routes what waits, many
deliveries in one transaction, with the same rules as one at a time; failures are kept, retried
with backoff, or failed for good with their payload; a restart routes what a crash left.

Here the app runs as a web process that leaves routing to workers (``inbound_routing=worker``), so
deliveries wait until the test runs the router: that is how a batch forms."""

import asyncio
from datetime import datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, event, select, text

from atiende.bus import BusEvent, InProcessBus
from atiende.campaigns.models import CampaignChannel, OutOfHoursAction
from atiende.conversations import intake
from atiende.conversations.intake import InboundRouter
from atiende.conversations.models import (
    Contact, ContactIdentity, Conversation, DeliveryState, InboundDelivery, Message,
)
from atiende.db import Database
from atiende.jobs import JobContext, ScheduledJob, Worker
from atiende.settings import Settings
from tests.conversations.scenario import OFFICE, Scenario, build
from tests.factories import Factory

MONDAY_NIGHT = datetime.fromisoformat("2026-03-02T23:30:00-05:00")


@pytest.fixture
async def accept_only(app, monkeypatch: pytest.MonkeyPatch) -> InboundRouter:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(app.state.settings, "inbound_routing", "worker")
    return app.state.inbound_router


async def accept(sc: Scenario, text: str, *, contact: str, external_id: str, **who: Any) -> dict[str, Any]:
    response = await sc.post_inbound({"external_id": external_id, "contact": {"external_id": contact, **who},
                                      "text": text})
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    assert answer["state"] == "pending" and answer["conversation_id"] is None
    return answer


async def delivery(sc: Scenario, delivery_id: int) -> InboundDelivery:
    async with sc.database.session() as session:
        row = await session.get(InboundDelivery, delivery_id)
        assert row is not None
        return row


async def test_a_batch_routes_every_kind_of_message_in_one_pass(http: httpx.AsyncClient, factory: Factory,
                                                                 accept_only: InboundRouter) -> None:
    sc = await build(http, factory)
    [ana, beto] = await sc.hire(2, capacity=3)
    # Before the batch: Ana serves Carla, and has answered (so Carla's inactivity timer runs).
    accept_only.ctx.settings.inbound_routing = "local"
    carla = await sc.write("Hola", contact="carla", name="Carla", phone="+573001110000")
    holder_id = (await sc.detail(carla["conversation_id"]))["assigned_membership_id"]
    holder = next(a for a in (ana, beto) if a.membership_id == holder_id)
    assert (await sc.reply(holder, carla["conversation_id"])).status_code == 201
    assert await sc.count(ScheduledJob, ScheduledJob.key == f"inactivity:{carla['conversation_id']}") == 1
    accept_only.ctx.settings.inbound_routing = "worker"

    waiting = [
        await accept(sc, "Sigo aquí", contact="carla", external_id="b-1"),  # joins her assigned conversation
        await accept(sc, "Buenas", contact="dario", external_id="b-2", name="Darío"),  # new contact
        await accept(sc, "¿Me ayudan?", contact="dario", external_id="b-3"),  # the same new contact again
        # Carla again, from another system of the client: recognised by her phone.
        await accept(sc, "Soy Carla", contact="crm-carla", external_id="b-4", phone="+57 300 111 0000"),
    ]
    assert await sc.count(Message) == 2  # nothing routed yet: Carla's first message and Ana's reply
    await accept_only.route_pending()

    rows = [await delivery(sc, answer["delivery_id"]) for answer in waiting]
    assert [row.state for row in rows] == [DeliveryState.routed] * 4
    assert rows[0].conversation_id == rows[3].conversation_id == carla["conversation_id"]
    assert rows[1].conversation_id == rows[2].conversation_id != carla["conversation_id"]
    assert await sc.count(ScheduledJob, ScheduledJob.key == f"inactivity:{carla['conversation_id']}") == 0
    assert [m.text for m in await sc.messages(carla["conversation_id"])] == [
        "Hola", "Con gusto le ayudo", "Sigo aquí", "Soy Carla"]
    dario = await sc.detail(rows[1].conversation_id)
    assert [m["text"] for m in dario["messages"]] == ["Buenas", "¿Me ayudan?"]
    assert dario["status"] == "assigned"  # assigned in the pass that followed the batch
    async with sc.database.session() as session:
        carlas = (await session.scalars(select(Contact).where(Contact.phone == "+573001110000"))).all()
        identities = (await session.scalars(select(ContactIdentity.external_id).where(
            ContactIdentity.contact_id == carlas[0].id).order_by(ContactIdentity.external_id))).all()
    assert len(carlas) == 1 and list(identities) == ["carla", "crm-carla"]
    # A redelivery now answers with what the message became.
    again = await sc.post_inbound({"external_id": "b-2", "contact": {"external_id": "dario"}, "text": "Buenas"})
    assert again.json() == {"delivery_id": waiting[1]["delivery_id"], "duplicate": True, "state": "routed",
                            "message_id": rows[1].message_id, "conversation_id": rows[1].conversation_id}


async def test_out_of_hours_messages_in_a_batch_follow_the_schedule_one_by_one(
        http: httpx.AsyncClient, factory: Factory, clock, accept_only: InboundRouter) -> None:  # type: ignore[no-untyped-def]
    sc = await build(http, factory, bands=OFFICE, action=OutOfHoursAction.close)
    await sc.travel(MONDAY_NIGHT)
    first = await accept(sc, "Hola", contact="eva", external_id="n-1")
    second = await accept(sc, "¿Hay alguien?", contact="eva", external_id="n-2")
    await accept_only.route_pending()

    one, two = await delivery(sc, first["delivery_id"]), await delivery(sc, second["delivery_id"])
    assert one.state == two.state == DeliveryState.routed
    # The first message's conversation was closed at once (Cerrar), so the second opened another.
    assert one.conversation_id != two.conversation_id
    for conversation_id in (one.conversation_id, two.conversation_id):
        detail = await sc.detail(conversation_id)
        assert (detail["status"], detail["close_reason"]) == ("closed", "out_of_hours")
        assert [m["sender"] for m in detail["messages"]] == ["contact", "system"]  # told once each


async def test_a_channel_without_a_campaign_refuses_and_a_lost_campaign_fails_the_delivery(
        http: httpx.AsyncClient, factory: Factory, accept_only: InboundRouter) -> None:
    sc = await build(http, factory)
    waiting = await accept(sc, "Hola", contact="fabio", external_id="x-1")
    async with sc.database.session() as session:
        await session.execute(delete(CampaignChannel).where(CampaignChannel.channel_id == sc.channel_id))
    refused = await sc.post_inbound({"external_id": "x-2", "contact": {"external_id": "fabio"}, "text": "Hola"})
    assert refused.status_code == 409 and refused.json()["field"] == "channel_id"
    assert await sc.count(InboundDelivery) == 1

    await accept_only.route_pending()
    row = await delivery(sc, waiting["delivery_id"])
    assert row.state == DeliveryState.failed and "no active campaign" in (row.last_error or "")
    assert row.payload["text"] == "Hola" and row.payload["contact"]["external_id"] == "fabio"  # kept
    assert await sc.count(Message) == 0


async def test_a_transient_failure_is_retried_with_backoff(http: httpx.AsyncClient, factory: Factory, clock,  # type: ignore[no-untyped-def]
                                                           accept_only: InboundRouter,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    sc = await build(http, factory)
    waiting = await accept(sc, "Hola", contact="gina", external_id="t-1")
    real = intake.route_many
    failures = iter([ConnectionResetError("database went away")] * 2)  # the batch, then its immediate retry

    async def flaky(*args: Any, **kwargs: Any) -> Any:
        error = next(failures, None)
        if error is not None:
            raise error
        return await real(*args, **kwargs)

    monkeypatch.setattr(intake, "route_many", flaky)
    await accept_only.route_pending()
    row = await delivery(sc, waiting["delivery_id"])
    assert (row.state, row.attempts) == (DeliveryState.pending, 1)
    assert "database went away" in (row.last_error or "") and row.due_at > clock.now()

    await accept_only.route_pending()  # not due yet
    assert (await delivery(sc, waiting["delivery_id"])).state == DeliveryState.pending
    clock.advance(minutes=5)
    await accept_only.route_pending()
    row = await delivery(sc, waiting["delivery_id"])
    assert (row.state, row.attempts, row.last_error) == (DeliveryState.routed, 2, None)


async def test_what_a_crash_left_pending_is_routed_by_the_next_worker_pass(
        http: httpx.AsyncClient, factory: Factory, clock, app, accept_only: InboundRouter) -> None:  # type: ignore[no-untyped-def]
    sc = await build(http, factory)
    await sc.hire(1)
    waiting = await accept(sc, "Hola", contact="hugo", external_id="r-1")
    # The process that accepted it is gone; a new worker process starts with its own connections.
    database = Database(app.state.database.url)
    try:
        async with httpx.AsyncClient() as http_client:
            context = JobContext(database=database, clock=clock, bus=app.state.bus, settings=app.state.settings,
                                 http=http_client)
            worker = Worker(context)
            worker.passes.append(InboundRouter(context).route_pending)
            await worker.run_due()
    finally:
        await database.dispose()
    row = await delivery(sc, waiting["delivery_id"])
    assert row.state == DeliveryState.routed
    assert (await sc.detail(row.conversation_id))["status"] == "assigned"
    async with sc.database.session() as session:
        assert (await session.get(Conversation, row.conversation_id)) is not None


async def test_old_routed_deliveries_are_pruned_and_a_late_redelivery_finds_its_message(
        http: httpx.AsyncClient, factory: Factory, clock, app) -> None:  # type: ignore[no-untyped-def]
    sc = await build(http, factory)
    router: InboundRouter = app.state.inbound_router
    old = await sc.write("Hola", contact="ivan", external_id="old-1")
    clock.advance(days=app.state.settings.inbound_retention_days + 1)
    await sc.travel(clock.now())
    recent = await sc.write("Sigo esperando", contact="ivan", external_id="new-1")

    assert await router.prune() == 1
    async with sc.database.session() as session:
        assert await session.get(InboundDelivery, old["delivery_id"]) is None
        assert await session.get(InboundDelivery, recent["delivery_id"]) is not None
    assert len(await sc.messages(old["conversation_id"])) == 2  # the messages stay

    # The provider delivers the first message once more, long after: nothing new is stored.
    again = await sc.write("Hola", contact="ivan", external_id="old-1")
    assert again["duplicate"] is False  # its delivery was forgotten...
    assert (again["message_id"], again["conversation_id"]) == (old["message_id"], old["conversation_id"])
    assert len(await sc.messages(old["conversation_id"])) == 2  # ...but its message was not


async def test_intake_waits_for_the_disk_unless_told_not_to(
        http: httpx.AsyncClient, factory: Factory, app, database: Database, monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    """PostgreSQL: the webhook's insert is durable by default (``ATIENDE_INBOUND_SYNCHRONOUS_COMMIT``
    defaults to true); with ``false`` it uses the connections that commit with
    ``synchronous_commit = off``, as the router's batches always do. SQLite has one engine for both."""
    assert Settings().inbound_synchronous_commit is True
    if database.dialect == "sqlite":
        assert database.relaxed_engine is database.engine
    else:
        for engine, expected in ((database.engine, "on"), (database.relaxed_engine, "off")):
            async with engine.connect() as connection:
                assert (await connection.execute(text("SHOW synchronous_commit"))).scalar() == expected
    writers: list[tuple[str, str]] = []

    def watch(name: str) -> Any:
        def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            for table in ("inbound_deliveries", "messages"):
                if statement.startswith(f"INSERT INTO {table}"):
                    writers.append((table, name))
        return record

    listeners = [(database.engine.sync_engine, watch("durable"))]
    if database.relaxed_engine is not database.engine:
        listeners.append((database.relaxed_engine.sync_engine, watch("relaxed")))
    for engine, listener in listeners:
        event.listen(engine, "before_cursor_execute", listener)
    try:
        sc = await build(http, factory)
        await sc.hire(1)
        await sc.write("Hola", contact="rosa")
        monkeypatch.setattr(app.state.settings, "inbound_synchronous_commit", False)
        await sc.write("Sigo aquí", contact="rosa")
    finally:
        for engine, listener in listeners:
            event.remove(engine, "before_cursor_execute", listener)
    relaxed = "durable" if database.relaxed_engine is database.engine else "relaxed"
    assert writers == [("inbound_deliveries", "durable"), ("messages", relaxed),
                       ("inbound_deliveries", relaxed), ("messages", relaxed)]


async def test_a_burst_of_accepted_messages_wakes_the_workers_twice_not_once_each(
        accept_only: InboundRouter, bus: InProcessBus, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first accept announces at once; those accepted while that announcement is on its way
    share one more (it covers everything committed before it is sent)."""
    sent: list[str] = []
    publish = bus.publish

    async def slow_publish(event: BusEvent) -> None:
        sent.append(event.kind)
        await asyncio.sleep(0.01)  # a round trip to Redis, long enough for the burst to arrive
        await publish(event)

    monkeypatch.setattr(bus, "publish", slow_publish)
    await asyncio.gather(*(accept_only.after_accept() for _ in range(20)))
    assert sent == ["engine.inbound_pending"] * 2
    await accept_only.after_accept()  # a lone message later: announced at once, on its own
    assert len(sent) == 3
