"""Outgoing webhooks through the real app: subscriptions over HTTP, events written with the
change they report, delivered signed and in order to a real local HTTP receiver, retried, logged,
resent, and never sent to an inside address."""

import time
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from atiende.clock import FakeClock
from atiende.integrations.dispatcher import RETRY_HOURS, WebhookDispatcher
from atiende.integrations.models import DeliveryState, WebhookDelivery
from atiende.integrations.signing import verify
from atiende.jobs import Worker
from tests.conversations.scenario import Scenario, build
from tests.factories import Factory, Tenant
from tests.integrations.receiver import LocalReceiver

ALL_TYPES = ["conversation.created", "conversation.queued", "conversation.assigned", "conversation.transferred",
             "conversation.closed", "message.created", "message.status", "contact.opted_out"]
SECRET = "a-receiver-secret-0123456789"


async def subscribe(http: httpx.AsyncClient, admin_headers: dict[str, str], client_id: int, url: str,
                    types: list[str] | None = None, **extra: Any) -> httpx.Response:
    return await http.post("/api/v1/webhook-subscriptions", headers=admin_headers,
                           json={"client_id": client_id, "name": "CRM", "url": url,
                                 "event_types": types or ALL_TYPES, **extra})


async def staffed(http: httpx.AsyncClient, factory: Factory, url: str) -> tuple[Scenario, int]:
    sc = await build(http, factory)
    await sc.hire(2)
    created = await subscribe(http, sc.admin.headers, sc.client_id, url, secret=SECRET)
    assert created.status_code == 201, created.text
    return sc, created.json()["id"]


async def deliveries(sc: Scenario) -> list[WebhookDelivery]:
    async with sc.database.session() as session:
        return list((await session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id))).all())


def allow_localhost(app) -> None:  # type: ignore[no-untyped-def]
    app.state.settings = app.state.settings.model_copy(update={"webhooks_allow_private_addresses": True})


@pytest.fixture
def private_allowed(app):  # type: ignore[no-untyped-def]
    original = app.state.settings
    allow_localhost(app)
    yield
    app.state.settings = original


async def test_every_event_type_reaches_the_receiver_signed_and_in_order(
        http: httpx.AsyncClient, factory: Factory, crm: LocalReceiver, dispatcher: WebhookDispatcher,
        worker: Worker, private_allowed: None) -> None:
    sc, _ = await staffed(http, factory, crm.url)
    conversation_id = (await sc.write("Quiero pagar mi cuota", contact="c-9"))["conversation_id"]
    holder = (await sc.detail(conversation_id))["assigned_membership_id"]
    agent, other = sorted(sc.agents, key=lambda a: a.membership_id != holder)
    assert (await sc.reply(agent, conversation_id, "Claro, le ayudo")).status_code == 201
    await worker.run_due()  # the reply leaves through the channel: message.status "sent"
    await sc.update_campaign(permissions={"transfer_between_agents": True})
    moved = await http.post(f"/api/v1/conversations/{conversation_id}/transfer",
                            json={"membership_id": other.membership_id}, headers=agent.headers)
    assert moved.status_code == 200, moved.text
    assert (await sc.reply(other, conversation_id, "Listo")).status_code == 201
    closed = await sc.close(other, conversation_id, typification_id=sc.typifications["sale"])
    assert closed.status_code == 200, closed.text

    assert await dispatcher.run_due() > 0
    types = crm.types()
    assert set(types) == set(ALL_TYPES) - {"contact.opted_out"}, types
    of_conversation = [p for p in crm.payloads if p["data"].get("conversation_id") == conversation_id]
    assert [p["type"] for p in of_conversation][:2] == ["conversation.created", "message.created"]
    assert of_conversation[-1]["type"] == "conversation.closed"
    assert types.index("conversation.assigned") < types.index("conversation.transferred")
    closing = of_conversation[-1]
    assert closing["version"] == 1 and closing["client_id"] == sc.client_id
    assert closing["data"]["typification_name"] == "Venta" and closing["data"]["fields"] == {}
    inbound = next(p for p in crm.payloads if p["type"] == "message.created")
    assert inbound["data"]["direction"] == "inbound" and inbound["data"]["text"] == "Quiero pagar mi cuota"
    assert "membership_ids" not in inbound["data"]
    outbound = [p for p in crm.payloads if p["type"] == "message.created" and p["data"]["direction"] == "outbound"]
    assert [p["data"]["text"] for p in outbound] == ["Claro, le ayudo", "Listo"]
    for request in crm.requests:
        assert verify(SECRET, request.headers["X-Atiende-Timestamp"], request.body,
                      request.headers["X-Atiende-Signature"], now=sc.factory.clock.now().timestamp())
        assert request.headers["X-Atiende-Delivery"] == request.payload["id"]
    tampered = crm.requests[0]
    assert not verify(SECRET, tampered.headers["X-Atiende-Timestamp"], tampered.body + b" ",
                      tampered.headers["X-Atiende-Signature"], now=sc.factory.clock.now().timestamp())
    assert not verify(SECRET, tampered.headers["X-Atiende-Timestamp"], tampered.body,
                      tampered.headers["X-Atiende-Signature"], now=sc.factory.clock.now().timestamp() + 3600)
    assert {d.state for d in await deliveries(sc)} == {DeliveryState.delivered}
    assert await dispatcher.run_due() == 0  # nothing is ever sent twice


async def test_a_failing_delivery_holds_back_its_conversation_then_retries_with_backoff_until_it_fails(
        http: httpx.AsyncClient, factory: Factory, crm: LocalReceiver, dispatcher: WebhookDispatcher,
        clock: FakeClock, private_allowed: None) -> None:
    sc, sub_id = await staffed(http, factory, crm.url)
    first = (await sc.write("uno", contact="a"))["conversation_id"]
    await sc.write("dos", contact="a")
    crm.answers = [500]
    await dispatcher.run_due()
    # The first event of the conversation failed: nothing later of it was sent.
    assert crm.types() == ["conversation.created"]
    log = (await http.get(f"/api/v1/webhook-subscriptions/{sub_id}/deliveries",
                          headers=sc.admin.headers)).json()["items"]
    failing = next(d for d in log if d["attempts"] == 1 and d["response_status"] == 500)
    assert failing["state"] == "pending" and failing["last_error"] == "HTTP 500"
    assert len(failing["response_excerpt"]) == 2048  # the answer is capped
    retry_in = (failing["next_attempt_at"], failing["created_at"])
    assert retry_in[0] > retry_in[1]
    await dispatcher.run_due()
    assert len(crm.requests) == 1  # not yet due
    clock.advance(seconds=11)
    await dispatcher.run_due()
    sent = [p for p in crm.payloads if p["data"].get("conversation_id") == first]
    assert [p["type"] for p in sent] == ["conversation.created", "conversation.created", "message.created",
                                         "conversation.queued", "conversation.assigned", "message.created"]
    assert sent[0]["id"] == sent[1]["id"]  # the same event, so the receiver can dedupe

    # A receiver that never answers in time: retried with growing delays for 24 h, then failed.
    third = (await sc.write("tres", contact="b"))["conversation_id"]
    crm.requests.clear()
    crm.answers = [1.5, 1.5] + [503] * 100
    await dispatcher.run_due()
    stalled = min((d for d in await deliveries(sc) if d.payload["data"].get("conversation_id") == third),
                  key=lambda d: d.id)
    assert stalled.last_error == "timeout after 0.5 s" and stalled.response_status is None
    delays = []
    for _ in range(40):
        stuck = [d for d in await deliveries(sc) if d.payload["data"].get("conversation_id") == third
                 and d.state != DeliveryState.delivered]
        head = min(stuck, key=lambda d: d.id)
        if head.state == DeliveryState.failed:
            break
        delays.append(head.next_attempt_at - clock.now())
        clock.set(head.next_attempt_at)
        await dispatcher.run_due()
    assert head.state == DeliveryState.failed and head.last_error == "HTTP 503"
    assert delays[0] < delays[1] < delays[2] and max(delays) == timedelta(hours=1)
    assert head.first_attempt_at + timedelta(hours=RETRY_HOURS) <= clock.now()
    # Once the head failed for good, the rest of that conversation goes on, each with its own window.
    crm.answers = []
    clock.advance(seconds=11)
    await dispatcher.run_due()
    assert {d.state for d in await deliveries(sc) if d.id != head.id} == {DeliveryState.delivered}

    await sc.travel(clock.now())  # a day later: log in again
    resent = await http.post(f"/api/v1/webhook-deliveries/{head.id}/resend", headers=sc.admin.headers)
    assert resent.status_code == 200 and resent.json()["state"] == "pending"
    crm.requests.clear()
    await dispatcher.run_due()
    assert [r.payload["id"] for r in crm.requests] == [head.event_id]
    assert (await http.get(f"/api/v1/webhook-subscriptions/{sub_id}/deliveries?state=failed",
                           headers=sc.admin.headers)).json()["total"] == 0


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/x", "http://10.1.2.3/x", "http://169.254.169.254/latest",
                                 "http://[::1]:8080/x", "http://localhost/x", "http://192.168.0.10/x",
                                 "ftp://example.com/x", "http://[fe80::1]/x"])
async def test_inside_addresses_are_refused(http: httpx.AsyncClient, tenant: Tenant, url: str) -> None:
    refused = await subscribe(http, tenant.admin.headers, tenant.client.id, url)
    assert refused.status_code == 422, refused.text
    assert refused.json()["field"] == "url" and refused.json()["code"] == "webhook.address_refused"


async def test_an_address_refused_at_delivery_time_is_logged_not_sent(
        http: httpx.AsyncClient, factory: Factory, crm: LocalReceiver, app, private_allowed: None) -> None:  # type: ignore[no-untyped-def]
    """The check runs again at each attempt: a name that resolves inside later is still refused."""
    sc, sub_id = await staffed(http, factory, crm.url)
    await sc.write("hola")
    strict = WebhookDispatcher(app.state.worker.context)  # the default: private addresses refused
    await strict.run_due()
    assert crm.requests == []
    [head, *_] = await deliveries(sc)
    assert head.state == DeliveryState.pending and head.last_error.startswith("address refused")


async def test_redirects_are_not_followed(http: httpx.AsyncClient, factory: Factory, crm: LocalReceiver,
                                          dispatcher: WebhookDispatcher, private_allowed: None) -> None:
    sc, _ = await staffed(http, factory, crm.url)
    crm.redirect_to = "http://169.254.169.254/latest/meta-data"
    await sc.write("hola")
    await dispatcher.run_due()
    head = (await deliveries(sc))[0]
    assert head.response_status == 302 and head.state == DeliveryState.pending
    assert len(crm.requests) == 1


async def test_probar_sends_a_signed_ping_and_logs_it(http: httpx.AsyncClient, tenant: Tenant, crm: LocalReceiver,
                                                      clock: FakeClock, private_allowed: None) -> None:
    created = (await subscribe(http, tenant.admin.headers, tenant.client.id, crm.url, ["message.created"])).json()
    ping = await http.post(f"/api/v1/webhook-subscriptions/{created['id']}/ping", headers=tenant.admin.headers)
    assert ping.status_code == 200 and ping.json()["state"] == "delivered" and ping.json()["response_status"] == 200
    [request] = crm.requests
    assert request.payload["type"] == "ping"
    assert verify(created["secret"], request.headers["X-Atiende-Timestamp"], request.body,
                  request.headers["X-Atiende-Signature"], now=clock.now().timestamp())
    assert not verify(created["secret"], request.headers["X-Atiende-Timestamp"], request.body,
                      request.headers["X-Atiende-Signature"], now=time.time() + 10**9)  # a replay, much later
    log = await http.get(f"/api/v1/webhook-subscriptions/{created['id']}/deliveries", headers=tenant.admin.headers)
    assert [d["event_type"] for d in log.json()["items"]] == ["ping"]
    rotated = await http.post(f"/api/v1/webhook-subscriptions/{created['id']}/rotate-secret",
                              headers=tenant.admin.headers)
    assert rotated.json()["secret"] != created["secret"]


async def test_only_the_clients_admins_see_its_subscriptions(http: httpx.AsyncClient, tenant: Tenant,
                                                             other_tenant: Tenant, crm: LocalReceiver,
                                                             private_allowed: None) -> None:
    created = (await subscribe(http, tenant.admin.headers, tenant.client.id, crm.url)).json()
    url = f"/api/v1/webhook-subscriptions/{created['id']}"
    for path, method in [(url, "GET"), (url, "PATCH"), (url, "DELETE"), (f"{url}/deliveries", "GET"),
                         (f"{url}/ping", "POST"), (f"{url}/rotate-secret", "POST")]:
        answer = await http.request(method, path, headers=other_tenant.admin.headers,
                                    json={"name": "x"} if method == "PATCH" else None)
        assert answer.status_code == 404, (method, path, answer.text)
    assert (await http.get(url, headers=tenant.supervisor.headers)).status_code == 403
    assert (await http.get(url, headers=tenant.agent.headers)).status_code == 403
    listing = await http.get("/api/v1/webhook-subscriptions", headers=other_tenant.admin.headers)
    assert listing.json()["total"] == 0
    mine = await http.get("/api/v1/webhook-subscriptions", headers=tenant.admin.headers)
    assert [s["id"] for s in mine.json()["items"]] == [created["id"]]
    foreign = await subscribe(http, other_tenant.admin.headers, tenant.client.id, crm.url)
    assert foreign.status_code == 404


async def test_bad_subscriptions_name_the_field(http: httpx.AsyncClient, tenant: Tenant, crm: LocalReceiver,
                                                private_allowed: None) -> None:
    for body, field in [({"event_types": ["conversation.exploded"]}, "event_types"), ({"event_types": []},
                        "event_types"), ({"url": "no es una url"}, "url"), ({"secret": "short"}, "secret")]:
        answer = await subscribe(http, tenant.admin.headers, tenant.client.id, body.pop("url", crm.url), **body)
        assert answer.status_code == 422 and answer.json()["field"] == field, (body, answer.text)
    surrogate = (b'{"client_id": %d, "name": "CRM", "url": "http://ok.example/\\ud800", "event_types": '
                 b'["message.created"]}' % tenant.client.id)
    answer = await http.post("/api/v1/webhook-subscriptions", content=surrogate,
                             headers={**tenant.admin.headers, "Content-Type": "application/json"})
    assert answer.status_code == 422 and answer.json()["field"] == "url", answer.text


async def test_a_client_without_subscriptions_gets_no_deliveries_and_disabled_ones_stop(
        http: httpx.AsyncClient, factory: Factory, crm: LocalReceiver, dispatcher: WebhookDispatcher,
        private_allowed: None) -> None:
    sc, sub_id = await staffed(http, factory, crm.url)
    lonely = await build(http, factory)
    await lonely.hire(1)
    await lonely.write("hola")
    assert await deliveries(sc) == []
    off = await http.patch(f"/api/v1/webhook-subscriptions/{sub_id}", json={"active": False},
                           headers=sc.admin.headers)
    assert off.status_code == 200 and off.json()["active"] is False
    await sc.write("hola")
    assert await deliveries(sc) == []
    await http.patch(f"/api/v1/webhook-subscriptions/{sub_id}", json={"event_types": ["conversation.closed"],
                                                                      "active": True}, headers=sc.admin.headers)
    await sc.write("otra vez", contact="c-2")
    assert await deliveries(sc) == []


async def test_two_dispatchers_with_their_own_connections_send_each_event_once(
        http: httpx.AsyncClient, factory: Factory, crm: LocalReceiver, app, private_allowed: None) -> None:  # type: ignore[no-untyped-def]
    """As two processes would: each has its own engine; row locks (SKIP LOCKED on PostgreSQL)
    and the per-conversation turn keep every event single and in order."""
    import asyncio

    from atiende.db import Database
    from atiende.jobs import JobContext

    sc, _ = await staffed(http, factory, crm.url)
    for n in range(6):
        await sc.write(f"hola {n}", contact=f"c-{n % 3}")
    settings = app.state.settings
    databases = [Database(settings.database_url), Database(settings.database_url)]
    try:
        async with httpx.AsyncClient() as client:
            dispatchers = [WebhookDispatcher(JobContext(database=db, clock=app.state.clock, bus=app.state.bus,
                                                        settings=settings, http=client)) for db in databases]
            await asyncio.gather(*(d.run_due() for d in dispatchers))
    finally:
        for db in databases:
            await db.dispose()
    ids = [p["id"] for p in crm.payloads]
    assert len(ids) == len(set(ids)) == len(await deliveries(sc))
    by_id = {d.event_id: d.id for d in await deliveries(sc)}
    for conversation_id in {p["data"]["conversation_id"] for p in crm.payloads}:
        sent = [by_id[p["id"]] for p in crm.payloads if p["data"]["conversation_id"] == conversation_id]
        assert sent == sorted(sent)


async def test_a_subscription_deleted_elsewhere_never_breaks_the_inbound_path(
        http: httpx.AsyncClient, factory: Factory, crm: LocalReceiver, private_allowed: None) -> None:
    """Another process deleted it: this process's cache still names it for a few seconds."""
    from sqlalchemy import delete

    from atiende.integrations.models import WebhookSubscription

    sc, _ = await staffed(http, factory, crm.url)
    await sc.write("hola", contact="first")  # the cache now holds the subscription
    async with sc.database.session() as session:
        await session.execute(delete(WebhookSubscription))
    answer = await sc.write("sigo aquí", contact="second")
    assert answer["conversation_id"] is not None
