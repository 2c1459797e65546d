"""Answering on WhatsApp: what reaches Meta, delivery statuses, the 24-hour window, Meta's errors
and templates."""

import itertools
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from atiende.channels.whatsapp.errors import WINDOW_CLOSED_REASON
from atiende.conversations.models import Message
from atiende.jobs import Worker
from tests.channels.fakes.data import load
from tests.channels.fakes.meta import FakeGraph
from tests.channels.fakes.setup import whatsapp_center
from tests.channels.whatsapp.test_webhook import deliver
from tests.conversations.scenario import Scenario
from tests.factories import Factory
from tests.media import JPEG, upload

_ids = itertools.count(1)


def from_customer(scenario: Scenario, text: str = "Hola, ¿tienen envíos?", *, wa_id: str = "16505551234",
                  context: str | None = None, name: str = "bsuid") -> dict[str, Any]:
    """Meta's text webhook, sent now (by the test clock)."""
    body = load("whatsapp_bsuid.json" if name == "bsuid" and wa_id == "" else "whatsapp_text.json")
    value = body["entry"][0]["changes"][0]["value"]
    message = value["messages"][0]
    message.update(id=f"wamid.IN{next(_ids)}", timestamp=str(int(scenario.factory.clock.now().timestamp())))
    message["text"] = {"body": text}
    if wa_id and "from" in message:
        message["from"] = value["contacts"][0]["wa_id"] = wa_id
    if context:
        message["context"] = {"from": "15550783881", "id": context}
    return body


def status(wamid: str, name: str, at: int, **extra: Any) -> dict[str, Any]:
    body = load("whatsapp_statuses.json")
    body["entry"][0]["changes"][0]["value"]["statuses"] = [
        {"id": wamid, "status": name, "timestamp": str(at), "recipient_id": "16505551234", **extra}]
    return body


@pytest.fixture
async def center(http: httpx.AsyncClient, factory: Factory, graph: FakeGraph) -> tuple[Scenario, int]:
    scenario, channel_id = await whatsapp_center(http, factory, permissions={"external_resources": True})
    await scenario.hire(1)
    return scenario, channel_id


async def conversation_of(scenario: Scenario, channel_id: int, http: httpx.AsyncClient, **kw: Any) -> int:
    assert (await deliver(http, channel_id, from_customer(scenario, **kw))).status_code == 200
    return (await scenario.conversations())[-1].id


async def message(scenario: Scenario, message_id: int) -> Message:
    async with scenario.database.session() as session:
        found = await session.get(Message, message_id)
        assert found is not None
        return found


async def test_an_agents_reply_goes_to_the_customers_number_and_is_tracked_by_its_wamid(
        http: httpx.AsyncClient, center: tuple[Scenario, int], graph: FakeGraph, worker: Worker) -> None:
    scenario, channel_id = center
    conversation_id = await conversation_of(scenario, channel_id, http)
    reply = await scenario.reply(scenario.agents[0], conversation_id, "¡Hola! Sí, enviamos a todo el país.")
    assert reply.status_code == 201, reply.text
    await worker.run_due()
    assert graph.sent() == [{"messaging_product": "whatsapp", "recipient_type": "individual", "to": "16505551234",
                             "type": "text", "text": {"preview_url": False,
                                                      "body": "¡Hola! Sí, enviamos a todo el país."}}]
    sent = await message(scenario, reply.json()["id"])
    assert sent.status == "sent" and sent.external_id is not None and sent.external_id.startswith("wamid.")


async def test_statuses_move_forward_only_whatever_order_meta_sends_them_in(
        http: httpx.AsyncClient, center: tuple[Scenario, int], worker: Worker) -> None:
    scenario, channel_id = center
    conversation_id = await conversation_of(scenario, channel_id, http)
    reply = await scenario.reply(scenario.agents[0], conversation_id)
    await worker.run_due()
    wamid = (await message(scenario, reply.json()["id"])).external_id
    assert wamid is not None
    now = int(scenario.factory.clock.now().timestamp())
    read = await deliver(http, channel_id, status(wamid, "read", now + 5))
    assert read.json()["statuses"] == 1
    late = await deliver(http, channel_id, status(wamid, "delivered", now + 2))
    assert late.json()["statuses"] == 0  # arrived after read: ignored
    failed = await deliver(http, channel_id, status(wamid, "failed", now + 9))
    assert failed.json()["statuses"] == 0
    final = await message(scenario, reply.json()["id"])
    assert final.status == "read" and final.delivered_at is not None and final.read_at is not None


async def test_a_failed_status_shows_metas_reason_to_the_agent(
        http: httpx.AsyncClient, center: tuple[Scenario, int], worker: Worker) -> None:
    scenario, channel_id = center
    conversation_id = await conversation_of(scenario, channel_id, http)
    reply = await scenario.reply(scenario.agents[0], conversation_id)
    await worker.run_due()
    wamid = (await message(scenario, reply.json()["id"])).external_id
    errors = [{"code": 131026, "title": "Message undeliverable", "message": "Message undeliverable",
               "error_data": {"details": "Unable to deliver message."}}]
    await deliver(http, channel_id, status(wamid or "", "failed", 1767614400, errors=errors))
    detail = await scenario.detail(conversation_id, scenario.agents[0])
    mine = next(m for m in detail["messages"] if m["id"] == reply.json()["id"])
    assert mine["status"] == "failed"
    assert mine["failure_reason"] == "WhatsApp 131026: Message undeliverable — Unable to deliver message."


async def test_statuses_of_messages_sent_elsewhere_are_ignored(
        http: httpx.AsyncClient, center: tuple[Scenario, int]) -> None:
    _, channel_id = center
    response = await deliver(http, channel_id, load("whatsapp_statuses.json"))
    assert response.status_code == 200 and response.json()["statuses"] == 0


async def test_after_24_hours_without_news_from_the_customer_the_agent_is_told_to_use_a_template(
        http: httpx.AsyncClient, center: tuple[Scenario, int], graph: FakeGraph, worker: Worker) -> None:
    scenario, channel_id = center
    conversation_id = await conversation_of(scenario, channel_id, http)
    agent = scenario.agents[0]
    window = await http.get(f"/api/v1/conversations/{conversation_id}/whatsapp/window", headers=agent.headers)
    assert window.json()["open"] is True
    await scenario.travel(scenario.factory.clock.now() + timedelta(hours=24, minutes=1))
    window = await http.get(f"/api/v1/conversations/{conversation_id}/whatsapp/window", headers=agent.headers)
    assert window.json()["open"] is False
    reply = await scenario.reply(agent, conversation_id, "¿Sigues ahí?")
    await worker.run_due()
    failed = await message(scenario, reply.json()["id"])
    assert failed.status == "failed" and failed.failure_reason == WINDOW_CLOSED_REASON
    assert graph.sent() == []  # never sent, never retried


async def test_meta_refusing_for_the_window_is_shown_the_same_way_and_not_retried(
        http: httpx.AsyncClient, center: tuple[Scenario, int], graph: FakeGraph, worker: Worker) -> None:
    scenario, channel_id = center
    conversation_id = await conversation_of(scenario, channel_id, http)
    graph.fail_next(131047, "Re-engagement message", "Message failed to send because more than 24 hours have "
                    "passed since the customer last replied to this number.")
    reply = await scenario.reply(scenario.agents[0], conversation_id)
    await worker.run_due()
    scenario.factory.clock.advance(hours=1)
    await worker.run_due()
    failed = await message(scenario, reply.json()["id"])
    assert failed.status == "failed" and failed.failure_reason is not None
    assert failed.failure_reason.startswith(WINDOW_CLOSED_REASON)
    assert len(graph.requests) == 1


@pytest.mark.parametrize(("code", "title"), [(130429, "Rate limit hit"),
                                             (131056, "(Business Account, Consumer Account) pair rate limit hit")])
async def test_rate_limits_back_off_and_retry(http: httpx.AsyncClient, center: tuple[Scenario, int],
                                              graph: FakeGraph, worker: Worker, code: int, title: str) -> None:
    scenario, channel_id = center
    conversation_id = await conversation_of(scenario, channel_id, http)
    graph.fail_next(code, title)
    reply = await scenario.reply(scenario.agents[0], conversation_id)
    await worker.run_due()
    waiting = await message(scenario, reply.json()["id"])
    assert waiting.status == "queued"  # kept while retrying, with the last error
    assert waiting.failure_reason is not None and waiting.failure_reason.endswith(f"WhatsApp {code}: {title}")
    assert await worker.run_due() == 0  # backing off: nothing due yet
    scenario.factory.clock.advance(seconds=10)
    await worker.run_due()
    assert (await message(scenario, reply.json()["id"])).status == "sent"
    assert len(graph.sent()) == 2


async def test_other_errors_fail_the_message_with_metas_reason(
        http: httpx.AsyncClient, center: tuple[Scenario, int], graph: FakeGraph, worker: Worker) -> None:
    scenario, channel_id = center
    conversation_id = await conversation_of(scenario, channel_id, http)
    graph.fail_next(131026, "Message Undeliverable", "Recipient is not a valid WhatsApp user")
    reply = await scenario.reply(scenario.agents[0], conversation_id)
    await worker.run_due()
    failed = await message(scenario, reply.json()["id"])
    assert failed.status == "failed"
    assert failed.failure_reason == "WhatsApp 131026: Message Undeliverable — Recipient is not a valid WhatsApp user"


async def test_a_customer_without_shared_phone_is_answered_by_business_scoped_id(
        http: httpx.AsyncClient, center: tuple[Scenario, int], graph: FakeGraph, worker: Worker) -> None:
    scenario, channel_id = center
    conversation_id = await conversation_of(scenario, channel_id, http, wa_id="")
    await scenario.reply(scenario.agents[0], conversation_id, "Hola Pablo")
    await worker.run_due()
    (body,) = graph.sent()
    assert body["recipient"] == "US.13491208655302741918" and "to" not in body


async def test_an_image_link_carries_the_text_as_caption(
        http: httpx.AsyncClient, center: tuple[Scenario, int], graph: FakeGraph, worker: Worker) -> None:
    scenario, channel_id = center
    conversation_id = await conversation_of(scenario, channel_id, http)
    photo = await upload(http, scenario.agents[0].headers, conversation_id, "modelo.jpg")
    await scenario.reply(scenario.agents[0], conversation_id, "Este es el modelo", attachments=[photo])
    await worker.run_due()
    (body,) = graph.sent()
    assert body["type"] == "image" and body["image"]["caption"] == "Este es el modelo"
    assert graph.media[body["image"]["id"]].data == JPEG


async def test_a_reply_to_one_of_our_messages_shows_what_it_quotes(
        http: httpx.AsyncClient, center: tuple[Scenario, int], worker: Worker) -> None:
    scenario, channel_id = center
    conversation_id = await conversation_of(scenario, channel_id, http)
    reply = await scenario.reply(scenario.agents[0], conversation_id, "Tenemos azul y rojo")
    await worker.run_due()
    wamid = (await message(scenario, reply.json()["id"])).external_id
    await deliver(http, channel_id, from_customer(scenario, "El azul", context=wamid))
    async with scenario.database.session() as session:
        last = await session.scalar(select(Message).order_by(Message.id.desc()).limit(1))
    assert last is not None and last.text == "> Tenemos azul y rojo\nEl azul"


# --- templates ------------------------------------------------------------------------------------

async def synced(http: httpx.AsyncClient, scenario: Scenario, channel_id: int, graph: FakeGraph) -> list[dict]:
    graph.templates = load("whatsapp_templates.json")["data"]
    response = await http.post(f"/api/v1/channels/{channel_id}/whatsapp/templates/sync",
                               headers=scenario.supervisor.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_templates_are_synced_from_meta_and_listed_for_agents(
        http: httpx.AsyncClient, center: tuple[Scenario, int], graph: FakeGraph) -> None:
    scenario, channel_id = center
    templates = await synced(http, scenario, channel_id, graph)
    assert [t["name"] for t in templates] == ["hello_world", "order_update", "promo_rechazada", "retomar_conversacion"]
    listed = await http.get(f"/api/v1/channels/{channel_id}/whatsapp/templates", headers=scenario.agents[0].headers)
    order = next(t for t in listed.json() if t["name"] == "order_update")
    assert order | {"synced_at": None} == {
        "name": "order_update", "language": "es", "status": "APPROVED", "category": "UTILITY", "approved": True,
        "header_format": "IMAGE", "header_parameters": [], "body_text": "Hola {{1}}, tu pedido {{2}} va en camino.",
        "body_parameters": ["1", "2"], "buttons": [{"index": 1, "parameters": ["1"]}], "synced_at": None}
    graph.templates = graph.templates[:1]  # removed on Meta's side: removed here at the next sync
    again = await http.post(f"/api/v1/channels/{channel_id}/whatsapp/templates/sync", headers=scenario.admin.headers)
    assert [t["name"] for t in again.json()] == ["order_update"]


async def test_only_admins_and_supervisors_of_the_client_sync(
        http: httpx.AsyncClient, center: tuple[Scenario, int], graph: FakeGraph, other_tenant) -> None:  # type: ignore[no-untyped-def]
    scenario, channel_id = center
    url = f"/api/v1/channels/{channel_id}/whatsapp/templates/sync"
    assert (await http.post(url, headers=scenario.agents[0].headers)).status_code == 403
    assert (await http.post(url, headers=other_tenant.admin.headers)).status_code == 404
    assert (await http.get(f"/api/v1/channels/{channel_id}/whatsapp/templates",
                           headers=other_tenant.agent.headers)).status_code == 404
    assert (await http.post(f"/api/v1/channels/{scenario.channel_id}/whatsapp/templates/sync",
                            headers=scenario.admin.headers)).status_code == 404  # an API channel


async def test_a_sync_without_business_account_or_with_meta_down_says_why(
        http: httpx.AsyncClient, center: tuple[Scenario, int], graph: FakeGraph) -> None:
    scenario, channel_id = center
    graph.fail_next(190, "Invalid OAuth access token - Cannot parse access token", status=401)
    graph.failures_apply_to_templates = True  # type: ignore[attr-defined]
    response = await http.post(f"/api/v1/channels/{channel_id}/whatsapp/templates/sync", headers=scenario.admin.headers)
    assert response.status_code == 502 and "Invalid OAuth access token" in response.json()["detail"]


async def test_outside_the_window_the_agent_sends_an_approved_template(
        http: httpx.AsyncClient, center: tuple[Scenario, int], graph: FakeGraph, worker: Worker) -> None:
    scenario, channel_id = center
    conversation_id = await conversation_of(scenario, channel_id, http)
    await synced(http, scenario, channel_id, graph)
    await scenario.travel(scenario.factory.clock.now() + timedelta(hours=30))
    agent = scenario.agents[0]
    response = await http.post(f"/api/v1/conversations/{conversation_id}/whatsapp/template", headers=agent.headers,
                               json={"name": "retomar_conversacion", "language": "es", "body": ["Sheena", "8812"]})
    assert response.status_code == 201, response.text
    assert response.json()["text"] == "Hola Sheena, seguimos atentos a tu caso 8812. ¿Te podemos ayudar en algo más?"
    await worker.run_due()
    (body,) = graph.sent()
    assert body["type"] == "template" and body["to"] == "16505551234"
    assert body["template"] == {"name": "retomar_conversacion", "language": {"code": "es"}, "components": [
        {"type": "body", "parameters": [{"type": "text", "parameter_name": "nombre", "text": "Sheena"},
                                        {"type": "text", "parameter_name": "caso", "text": "8812"}]}]}
    assert (await message(scenario, response.json()["id"])).status == "sent"


@pytest.mark.parametrize(("body", "field"), [
    ({"name": "order_update", "language": "es", "body": ["Ana"], "header_media_url": "https://x.example/a.jpg"},
     "body"),
    ({"name": "order_update", "language": "es", "body": ["Ana", "A-1"], "buttons": ["A-1"]}, "header_media_url"),
    ({"name": "no_existe", "language": "es"}, "name"),
    ({"name": "order_update", "language": "en_US", "body": ["Ana", "A-1"]}, "name"),
    ({"name": "promo_rechazada", "language": "es"}, "name"),
    ({"name": "hello_world", "language": "english"}, "language"),
    ({"name": "hello_world", "language": "en_US", "extra": 1}, "extra"),
])
async def test_a_template_with_wrong_parameters_is_refused_naming_the_field(
        http: httpx.AsyncClient, center: tuple[Scenario, int], graph: FakeGraph, body: dict, field: str) -> None:
    scenario, channel_id = center
    conversation_id = await conversation_of(scenario, channel_id, http)
    await synced(http, scenario, channel_id, graph)
    response = await http.post(f"/api/v1/conversations/{conversation_id}/whatsapp/template", json=body,
                               headers=scenario.agents[0].headers)
    assert response.status_code == 422 and response.json()["field"] == field
    assert len(await scenario.messages(conversation_id)) == 1  # nothing stored


async def test_templates_are_for_whatsapp_conversations_served_by_the_agent(
        http: httpx.AsyncClient, center: tuple[Scenario, int], graph: FakeGraph) -> None:
    scenario, channel_id = center
    conversation_id = await conversation_of(scenario, channel_id, http)
    await synced(http, scenario, channel_id, graph)
    body = {"name": "hello_world", "language": "en_US"}
    assert (await http.post(f"/api/v1/conversations/{conversation_id}/whatsapp/template", json=body,
                            headers=scenario.supervisor.headers)).status_code == 403
    api_conversation = (await scenario.write("Hola por API"))["conversation_id"]
    response = await http.post(f"/api/v1/conversations/{api_conversation}/whatsapp/template", json=body,
                               headers=scenario.supervisor.headers)
    assert response.status_code == 422 and response.json()["field"] == "conversation_id"
