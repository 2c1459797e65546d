"""Sends of a campaign over HTTP, against the local fake Graph API, on a fake clock: the list,
the template mapping, the exact requests Meta gets, at most once across a crash, the pace,
statuses, replies in the campaign and the results file."""

import csv
import io
from collections import Counter
from datetime import UTC, datetime, time, timedelta

import httpx
import pytest
from sqlalchemy import select

from atiende.channels.models import Channel
from atiende.clock import FakeClock
from atiende.conversations.models import Direction
from atiende.jobs import Worker
from atiende.outbound.models import OutboundRecipient
from tests.channels.fakes.meta import FakeGraph
from tests.channels.whatsapp.test_sending import from_customer, status
from tests.channels.whatsapp.test_webhook import deliver
from tests.factories import Factory
from tests.outbound.helpers import Center, collections_center, debtors_csv, fake_sleep, phone


@pytest.fixture
async def center(http: httpx.AsyncClient, factory: Factory, graph: FakeGraph) -> Center:
    return await collections_center(http, factory)


def sent_to(graph: FakeGraph) -> list[str]:
    return [body["to"] for body in graph.sent()]


async def test_a_payment_reminder_reaches_each_debtor_once_with_their_own_values(
        center: Center, graph: FakeGraph, worker: Worker, clock: FakeClock) -> None:
    send_id = await center.ready(3)
    with fake_sleep(worker, clock):
        await worker.run_due()
    assert graph.problems == []
    # Calls run concurrently over several connections: they may arrive in any order.
    first = next(body for body in graph.sent() if body["to"] == phone(0).lstrip("+"))
    assert first == {
        "messaging_product": "whatsapp", "recipient_type": "individual", "to": phone(0).lstrip("+"),
        "type": "template",
        "template": {"name": "recordatorio_pago", "language": {"code": "es"}, "components": [
            {"type": "header", "parameters": [{"type": "text", "text": "Cliente 0"}]},
            {"type": "body", "parameters": [{"type": "text", "text": "$ 1000.000"},
                                            {"type": "text", "text": "15 dic 2026"}]},
            {"type": "button", "sub_type": "url", "index": "0", "parameters": [{"type": "text", "text": "REF-0"}]},
        ]}}
    assert sorted(sent_to(graph)) == sorted(phone(i).lstrip("+") for i in range(3))
    send = await center.read(send_id)
    assert send["status"] == "completed"
    assert send["counts"]["sent"] == 3 and send["counts"]["pending"] == 0
    recipients = await center.recipients(send_id)
    assert all(r["wamid"].startswith("wamid.") for r in recipients)


async def test_bad_rows_are_reported_with_their_row_and_kept_out_of_the_send(
        center: Center, graph: FakeGraph, worker: Worker, clock: FakeClock) -> None:
    send = await center.create()
    content = debtors_csv(2, extra_rows=f"Sin número,12345,$ 5,1 ene,R\nRepetido,{phone(0)},$ 9,1 ene,R2\n")
    response = await center.upload(send["id"], content)
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["total"], report["valid"], report["invalid"], report["duplicates"]) == (4, 2, 1, 1)
    assert report["errors"] == [{"row": 4, "column": "telefono", "value": "12345", "reason": "invalid_phone"},
                                {"row": 5, "column": "telefono", "value": phone(0), "reason": "duplicate"}]
    assert report["columns"] == ["nombre", "monto", "vence", "referencia"]
    assert report["preview"][0]["monto"] == "$ 1000.000"
    assert (await center.upload(send["id"], b"", filename="vacio.csv")).json()["code"] == "list.invalid_file"
    bad = await center.upload(send["id"], b"nombre\nAna\n")
    assert bad.status_code == 422 and bad.json()["field"] == "phone_column"

    await center.put(send["id"], "message", {"template_name": "recordatorio_pago", "language": "es",
                                             "mapping": {"header": [{"column": "nombre"}],
                                                         "body": [{"column": "monto"}, {"column": "vence"}],
                                                         "buttons": [{"column": "referencia"}]}})
    await center.action(send["id"], "launch")
    with fake_sleep(worker, clock):
        await worker.run_due()
    assert len(graph.sent()) == 2
    counts = (await center.read(send["id"]))["counts"]
    assert counts["skipped_invalid_phone"] == 1 and counts["skipped_duplicate"] == 1 and counts["sent"] == 2


async def test_the_wizard_refuses_what_cannot_be_sent_naming_the_field(
        center: Center, http: httpx.AsyncClient, factory: Factory, clock: FakeClock) -> None:
    send = await center.create()
    await center.upload(send["id"], debtors_csv(1))
    await center.template("borrador_pendiente", status="PENDING")
    cases = [
        ({"template_name": "no_existe", "language": "es"}, "template_name", "outbound.template_unusable"),
        ({"template_name": "borrador_pendiente", "language": "es"}, "template_name", "outbound.template_unusable"),
        ({"template_name": "recordatorio_pago", "language": "es",
          "mapping": {"header": [{"column": "nombre"}], "body": [{"column": "monto"}],
                      "buttons": [{"column": "referencia"}]}}, "mapping.body", "outbound.invalid"),
        ({"template_name": "recordatorio_pago", "language": "es",
          "mapping": {"header": [{"column": "nombre"}], "body": [{"column": "saldo"}, {"value": "hoy"}],
                      "buttons": [{"value": "X"}]}}, "mapping.body.0", "outbound.invalid"),
    ]
    for body, field, code in cases:
        response = await center.put(send["id"], "message", body)
        assert response.status_code == 422, response.text
        assert (response.json()["field"], response.json()["code"]) == (field, code)
    too_fast = await center.put(send["id"], "programme", {"rate_per_second": 500})
    assert too_fast.status_code == 422 and too_fast.json()["field"] == "rate_per_second"
    past = await center.put(send["id"], "programme", {"start_at": (clock.now() - timedelta(hours=1)).isoformat()})
    assert past.status_code == 422 and past.json()["field"] == "start_at"
    not_ready = await center.action(send["id"], "launch")
    assert not_ready.status_code == 422 and not_ready.json()["field"] == "template_name"

    agent = (await center.scenario.hire(1))[0]
    forbidden = await http.post(f"/api/v1/campaigns/{center.scenario.campaign_id}/sends", json={"name": "x"},
                                headers=agent.headers)
    assert forbidden.status_code == 403
    other = await collections_center(http, factory)
    assert (await http.get(f"/api/v1/sends/{send['id']}", headers=other.headers)).status_code == 404
    assert (await http.post(f"/api/v1/sends/{send['id']}/launch", headers=other.headers)).status_code == 404


async def test_a_campaign_without_a_whatsapp_telegram_or_api_channel_cannot_have_sends(
        center: Center, http: httpx.AsyncClient) -> None:
    async with center.scenario.database.session() as session:
        for channel_id in (center.channel_id, center.scenario.channel_id):  # WhatsApp, and the scenario's API channel
            channel = await session.get(Channel, channel_id)
            assert channel is not None
            channel.active = False
    response = await http.post(f"/api/v1/campaigns/{center.scenario.campaign_id}/sends", json={"name": "x"},
                               headers=center.headers)
    assert response.status_code == 422 and response.json()["code"] == "outbound.no_whatsapp_channel"


class Crash(BaseException):
    """The process dies: nothing after the call runs, not even the job's bookkeeping."""


async def test_a_crash_between_the_call_and_the_commit_never_sends_twice(
        center: Center, graph: FakeGraph, worker: Worker, clock: FakeClock) -> None:
    send_id = await center.ready(6, rate=1)
    recipients = await center.recipients(send_id)
    doomed = recipients[2]["id"]

    def crash_after(recipient_id: int) -> None:
        if recipient_id == doomed:
            raise Crash()

    with fake_sleep(worker, clock):
        worker.context.extras["outbound_after_call"] = crash_after
        worker.context.extras["outbound_concurrency"] = 1  # nothing else is mid-query when it dies
        with pytest.raises(BaseException) as died:
            await worker.run_due()
        assert died.group_contains(Crash) if isinstance(died.value, BaseExceptionGroup) else died.type is Crash
        reached_before_restart = Counter(sent_to(graph))
        assert reached_before_restart[phone(2).lstrip("+")] == 1  # Meta sent it; we never recorded it
        worker.context.extras.pop("outbound_after_call")

        clock.advance(minutes=11)  # the restarted worker takes the dead run's job over
        await worker.run_due()
    reached = Counter(sent_to(graph))
    assert set(reached.values()) == {1}
    states = {r["id"]: r["state"] for r in await center.recipients(send_id)}
    assert states[doomed] == "uncertain"
    assert all(state in ("sent", "uncertain") for state in states.values())
    assert sum(state == "sent" for state in states.values()) + sum(
        state == "uncertain" for state in states.values()) == 6
    assert len(reached) == 6 or all(  # an uncertain row that never reached Meta is not retried either
        states[r["id"]] == "uncertain" for r in recipients if reached[r["phone"].lstrip("+")] == 0)
    assert (await center.read(send_id))["status"] == "completed"


async def test_the_rate_is_never_exceeded_in_any_one_second_window(
        center: Center, graph: FakeGraph, worker: Worker, clock: FakeClock) -> None:
    async with center.scenario.database.session() as session:
        channel = await session.get(Channel, center.channel_id)
        assert channel is not None
        channel.settings = {**channel.settings, "max_messages_per_second": 3}
    send_id = await center.ready(37, rate=3)  # a run claims 30 (10 s): the second run keeps the pace
    with fake_sleep(worker, clock) as waits:
        await worker.run_due()
    assert len(graph.sent()) == 37 and waits
    async with center.scenario.database.session() as session:
        times = sorted((await session.scalars(select(OutboundRecipient.attempted_at).where(
            OutboundRecipient.send_id == send_id))).all())
    assert (times[-1] - times[0]).total_seconds() == pytest.approx(36 / 3, abs=0.01)
    for start in times:
        in_window = [t for t in times if start <= t < start + timedelta(seconds=1)]
        assert len(in_window) <= 3


async def test_statuses_move_each_recipient_forward_and_failures_keep_metas_code(
        center: Center, graph: FakeGraph, worker: Worker, clock: FakeClock, http: httpx.AsyncClient) -> None:
    send_id = await center.ready(3)
    with fake_sleep(worker, clock):
        await worker.run_due()
    first, second, third = await center.recipients(send_id)
    at = int(clock.now().timestamp())
    for wamid, name in ((first["wamid"], "delivered"), (first["wamid"], "read"), (second["wamid"], "delivered"),
                        (first["wamid"], "delivered")):
        assert (await deliver(http, center.channel_id, status(wamid, name, at))).status_code == 200
    failure = status(third["wamid"], "failed", at, errors=[{"code": 131026, "title": "Message undeliverable"}])
    assert (await deliver(http, center.channel_id, failure)).status_code == 200
    first, second, third = await center.recipients(send_id)
    assert (first["state"], second["state"], third["state"]) == ("read", "delivered", "failed")
    assert first["read_at"] and first["delivered_at"]
    assert third["error_code"] == 131026 and "undeliverable" in third["error_title"]
    counts = (await center.read(send_id))["counts"]
    assert (counts["read"], counts["delivered"], counts["failed"]) == (1, 1, 1)


async def test_a_reply_lands_in_the_campaign_with_the_send_visible_to_the_agent(
        center: Center, graph: FakeGraph, worker: Worker, clock: FakeClock, http: httpx.AsyncClient) -> None:
    agent = (await center.scenario.hire(1))[0]
    send_id = await center.ready(2)
    with fake_sleep(worker, clock):
        await worker.run_due()
    clock.advance(minutes=5)
    reply = from_customer(center.scenario, "Hola, ¿puedo pagar la mitad?", wa_id=phone(1).lstrip("+"))
    assert (await deliver(http, center.channel_id, reply)).status_code == 200
    conversation = (await center.scenario.conversations())[-1]
    assert conversation.campaign_id == center.scenario.campaign_id
    assert conversation.assigned_membership_id == agent.membership_id
    messages = await center.scenario.messages(conversation.id)
    template = [m for m in messages if m.direction == Direction.outbound]
    assert len(template) == 1 and "Tu saldo de $ 1001.000 vence el 15 dic 2026" in template[0].text
    assert template[0].created_at <= min(m.created_at for m in messages)
    context = await http.get(f"/api/v1/conversations/{conversation.id}/send", headers=agent.headers)
    assert context.status_code == 200, context.text
    assert context.json()["send_name"] == "Recordatorio diciembre"
    assert context.json()["variables"] == {"nombre": "Cliente 1", "monto": "$ 1001.000", "vence": "15 dic 2026",
                                           "referencia": "REF-1"}
    replied = [r for r in await center.recipients(send_id) if r["replied_at"]]
    assert [r["phone"] for r in replied] == [phone(1)] and replied[0]["conversation_id"] == conversation.id
    assert (await center.read(send_id))["counts"]["replied"] == 1


async def test_an_opt_out_keyword_stops_the_contacts_pending_message(
        center: Center, graph: FakeGraph, worker: Worker, clock: FakeClock, http: httpx.AsyncClient) -> None:
    send_id = await center.ready(2, start_at=(clock.now() + timedelta(hours=1)).isoformat())
    reply = from_customer(center.scenario, "BAJA", wa_id=phone(0).lstrip("+"))
    assert (await deliver(http, center.channel_id, reply)).status_code == 200
    clock.advance(hours=2)
    with fake_sleep(worker, clock):
        await worker.run_due()
    # The contacts directory answers the keyword with its confirmation (a text in the open window);
    # the send's template reaches only the contact who did not opt out.
    sent = [(body["to"], body["type"]) for body in graph.sent()]
    assert sent == [(phone(0).lstrip("+"), "text"), (phone(1).lstrip("+"), "template")]
    assert graph.sent()[0]["text"]["body"].startswith("Listo, no te enviaremos más mensajes")
    states = {r["phone"]: (r["state"], r["skip_reason"]) for r in await center.recipients(send_id)}
    assert states[phone(0)] == ("skipped", "opted_out")


async def test_a_send_programmed_after_hours_waits_for_the_window_and_resumes_by_itself(
        http: httpx.AsyncClient, factory: Factory, graph: FakeGraph, worker: Worker, clock: FakeClock) -> None:
    # Mon–Fri 08:00–17:00 Bogotá; the test clock starts Monday 5 Jan 2026 12:00 UTC (07:00 Bogotá).
    center = await collections_center(http, factory, bands=[(d, time(8), time(17)) for d in range(5)])
    await center.ready(2)
    with fake_sleep(worker, clock):
        await worker.run_due()
        assert graph.sent() == []
        clock.set(datetime(2026, 1, 5, 13, 0, 1, tzinfo=UTC))  # 08:00:01 Bogotá
        await worker.run_due()
    assert len(graph.sent()) == 2


async def test_meta_errors_retry_pause_or_fail_as_documented(
        center: Center, graph: FakeGraph, worker: Worker, clock: FakeClock) -> None:
    graph.fail_next(131056, "(#131056) (Business Account, Consumer Account) pair rate limit hit")
    graph.fail_next(131049, "This message was not delivered to maintain healthy ecosystem engagement.")
    graph.fail_next(132001, "Template name does not exist in the translation")
    send_id = await center.ready(4, rate=1)
    with fake_sleep(worker, clock):
        await worker.run_due()
        by_phone = {r["phone"]: r for r in await center.recipients(send_id)}
        assert by_phone[phone(0)]["state"] == "pending"  # pair rate limit: tried again a minute later
        assert by_phone[phone(1)]["state"] == "failed" and by_phone[phone(1)]["error_code"] == 131049
        assert "24 h" in by_phone[phone(1)]["error_title"]
        assert by_phone[phone(2)]["error_code"] == 132001
        assert by_phone[phone(3)]["state"] == "sent"
        clock.advance(minutes=2)
        await worker.run_due()
    assert {r["phone"]: r["state"] for r in await center.recipients(send_id)}[phone(0)] == "sent"
    assert Counter(sent_to(graph))[phone(0).lstrip("+")] == 2  # refused once, then delivered
    assert (await center.read(send_id))["status"] == "completed"


async def test_metas_spam_limit_pauses_the_send_and_resume_finishes_it(
        center: Center, graph: FakeGraph, worker: Worker, clock: FakeClock) -> None:
    graph.fail_next(131048, "Spam rate limit hit")
    send_id = await center.ready(3, rate=1)
    with fake_sleep(worker, clock):
        await worker.run_due()
        send = await center.read(send_id)
        assert send["status"] == "paused" and "131048" in send["note"]
        assert send["counts"]["pending"] >= 1  # the refused one (calls already in flight may have gone out)
        assert (await center.action(send_id, "resume")).status_code == 200
        await worker.run_due()
    assert (await center.read(send_id))["counts"]["sent"] == 3
    assert len(graph.sent()) == 4 and set(Counter(sent_to(graph)).values()) <= {1, 2}


async def test_pause_resume_and_cancel(center: Center, graph: FakeGraph, worker: Worker, clock: FakeClock) -> None:
    send_id = await center.ready(3, start_at=(clock.now() + timedelta(hours=1)).isoformat())
    assert (await center.action(send_id, "pause")).json()["status"] == "paused"
    assert (await center.action(send_id, "pause")).status_code == 409
    clock.advance(hours=2)
    with fake_sleep(worker, clock):
        await worker.run_due()
        assert graph.sent() == []
        assert (await center.action(send_id, "cancel")).json()["status"] == "cancelled"
        await worker.run_due()
    assert graph.sent() == []
    assert (await center.read(send_id))["counts"]["skipped_cancelled"] == 3
    assert (await center.action(send_id, "resume")).status_code == 409


async def test_the_daily_limit_defers_the_rest_to_the_next_window(
        center: Center, graph: FakeGraph, worker: Worker, clock: FakeClock) -> None:
    async with center.scenario.database.session() as session:
        channel = await session.get(Channel, center.channel_id)
        assert channel is not None
        channel.settings = {**channel.settings, "daily_recipient_limit": 2}
    send_id = await center.ready(3)
    with fake_sleep(worker, clock):
        await worker.run_due()
        assert len(graph.sent()) == 2
        send = await center.read(send_id)
        assert send["status"] == "sending" and "Límite diario" in send["note"]
        await center.scenario.travel(clock.now() + timedelta(hours=24, seconds=1))
        await worker.run_due()
    assert len(graph.sent()) == 3 and (await center.read(send_id))["status"] == "completed"


async def test_results_download_one_row_per_recipient_without_formulas(
        center: Center, graph: FakeGraph, worker: Worker, clock: FakeClock) -> None:
    content = debtors_csv(1, extra_rows=f"=HYPERLINK(\"http://x\"),{phone(5)},$ 1,1 ene,R\n")
    send_id = await center.ready(0, csv=content)
    with fake_sleep(worker, clock):
        await worker.run_due()
    response = await center.http.get(f"/api/v1/sends/{send_id}/results.csv", headers=center.headers)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [r["telefono"] for r in rows] == [phone(0), phone(5)]
    assert rows[1]["nombre"].startswith("'=")
    assert rows[0]["estado"] == "sent" and rows[0]["wamid"].startswith("wamid.") and rows[0]["enviado"]


async def test_a_test_message_goes_to_one_phone_with_the_first_rows_values_outside_the_ledger(
        center: Center, graph: FakeGraph) -> None:
    send = await center.create()
    await center.upload(send["id"], debtors_csv(2))
    await center.put(send["id"], "message", {"template_name": "recordatorio_pago", "language": "es",
                                             "mapping": {"header": [{"column": "nombre"}],
                                                         "body": [{"column": "monto"}, {"value": "mañana"}],
                                                         "buttons": [{"column": "referencia"}]}})
    for _ in range(2):  # a test may be repeated
        response = await center.http.post(f"/api/v1/sends/{send['id']}/test", json={"phone": "+57 300 999 8877"},
                                          headers=center.headers)
        assert response.status_code == 200, response.text
    assert [b["to"] for b in graph.sent()] == ["573009998877", "573009998877"]
    body = graph.sent()[0]["template"]["components"][1]["parameters"]
    assert [p["text"] for p in body] == ["$ 1000.000", "mañana"]
    assert (await center.read(send["id"]))["counts"]["pending"] == 2
    bad = await center.http.post(f"/api/v1/sends/{send['id']}/test", json={"phone": "12345"}, headers=center.headers)
    assert bad.status_code == 422 and bad.json()["field"] == "phone"


async def test_an_audience_from_a_directory_filter_takes_each_contacts_fields_as_variables(
        center: Center, graph: FakeGraph, worker: Worker, clock: FakeClock, http: httpx.AsyncClient,
        factory: Factory) -> None:
    """Audiencia from Contactos: the cartera of one agent; a contact without a phone is omitted
    with the reason, an opted-out one is never sent to, another agent's contacts stay out."""
    from atiende.contacts.consent import opt_out
    from atiende.conversations.models import Contact

    ana, beto = await center.scenario.hire(2)
    async with center.scenario.database.session() as session:
        def contact(name: str, phone_number: str | None, agent: int, plan: str) -> Contact:
            row = Contact(client_id=center.scenario.client_id, name=name, phone=phone_number, document_id=f"CC-{name}",
                          attributes={"plan": plan}, exclusive_agent_id=agent, created_at=clock.now())
            session.add(row)
            return row

        carla = contact("Carla", phone(1), ana.membership_id, "Oro")
        contact("Sin teléfono", None, ana.membership_id, "Plata")
        dario = contact("Darío", phone(2), ana.membership_id, "Plata")
        contact("De Beto", phone(3), beto.membership_id, "Oro")
        await session.flush()
        await opt_out(session, dario.id, "whatsapp", source="api")
        carla_id = carla.id
    send = await center.create()
    url = f"/api/v1/sends/{send['id']}/audience/directory"
    response = await http.post(url, params={"exclusive_agent_id": ana.membership_id}, headers=center.headers)
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["total"], report["valid"], report["invalid"]) == (3, 2, 1)
    assert report["columns"] == ["nombre", "correo", "documento", "plan"]
    assert [e["reason"] for e in report["errors"]] == ["invalid_phone"]
    assert report["preview"][0] == {"telefono": phone(1), "nombre": "Carla", "correo": "", "documento": "CC-Carla",
                                    "plan": "Oro"}
    mapping = {"header": [{"column": "nombre"}], "body": [{"column": "plan"}, {"value": "hoy"}],
               "buttons": [{"column": "documento"}]}
    saved = await center.put(send["id"], "message", {"template_name": "recordatorio_pago", "language": "es",
                                                     "mapping": mapping})
    assert saved.status_code == 200, saved.text
    assert (await center.put(send["id"], "programme", {"rate_per_second": 80})).status_code == 200
    assert (await center.action(send["id"], "launch")).status_code == 200
    with fake_sleep(worker, clock):
        await worker.run_due()
    [body] = graph.sent()  # Carla only: Darío opted out, the other had no phone, Beto's is not Ana's
    assert body["to"] == phone(1).lstrip("+")
    assert body["template"]["components"][0]["parameters"][0]["text"] == "Carla"
    assert [p["text"] for p in body["template"]["components"][1]["parameters"]] == ["Oro", "hoy"]
    recipients = await center.recipients(send["id"])
    assert {r["contact_id"] for r in recipients if r["state"] == "sent"} == {carla_id}

    other = await collections_center(http, factory)
    assert (await http.post(url, headers=other.headers)).status_code == 404
    agent = await http.post(url, headers=ana.headers)
    assert agent.status_code == 403
