"""The attention bot on live conversations, through the API channel's signed inbound: it greets,
answers from the knowledge base, asks when unsure, closes what it resolves and hands off the rest
with the whole transcript. Its replies go out through the channel's sender like an agent's."""

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import select

from atiende.bots.replies import ASK_RESOLVED
from atiende.campaigns.models import OutOfHoursAction
from atiende.conversations.models import Conversation, InboundDelivery, Message
from atiende.jobs import Worker
from tests.bots.helpers import make_bot, set_menu
from tests.conversations.scenario import OFFICE, Receiver, Scenario, build
from tests.factories import Factory


async def with_bot(http: httpx.AsyncClient, factory: Factory, **campaign: object) -> tuple[Scenario, dict]:
    sc = await build(http, factory)
    bot = await make_bot(http, sc.admin, sc.client_id, welcome_message="¡Hola! Soy Tina, la asistente.")
    await set_menu(http, sc.admin, bot)
    await sc.update_campaign(attention_bot_id=bot["id"], bot_resolved_typification_id=sc.typifications["sale"],
                             **campaign)
    return sc, bot


async def lines(sc: Scenario, conversation_id: int) -> list[tuple[str, str]]:
    return [(m.sender, m.text) for m in await sc.messages(conversation_id)]


async def test_the_bot_greets_answers_and_its_replies_go_through_the_channel_sender(
        http: httpx.AsyncClient, factory: Factory, worker: Worker, receiver: Receiver) -> None:
    sc, _bot = await with_bot(http, factory)
    await sc.hire(1)  # an agent is online, yet the bot answers first
    conversation_id = (await sc.write("Hola"))["conversation_id"]
    detail = await sc.detail(conversation_id)
    assert detail["status"] == "bot" and detail["assigned_membership_id"] is None
    welcome = (await lines(sc, conversation_id))[-1]
    assert welcome == ("bot", "¡Hola! Soy Tina, la asistente.\n1. Pagos\n2. Horario\n3. Hablar con un asesor")
    await sc.write("como le pago la factura?")
    answer = (await lines(sc, conversation_id))[-1]
    assert answer[0] == "bot"
    assert answer[1].startswith("Puedes pagar en línea")
    assert "1. ¿Puedo pagar con tarjeta?" in answer[1] and answer[1].endswith(ASK_RESOLVED)
    await sc.write("1")  # the follow-up button under the answer
    assert (await lines(sc, conversation_id))[-1][1].startswith("Sí, aceptamos Visa y Mastercard.")
    await worker.run_due()
    sent = [body["text"] for body in receiver.bodies]
    assert sent[0].startswith("¡Hola! Soy Tina") and sent[1].startswith("Puedes pagar") and len(sent) == 3
    # The menu's options also come as data, for a system that shows buttons.
    assert [body["choices"] for body in receiver.bodies] == [["Pagos", "Horario", "Hablar con un asesor"],
                                                             ["¿Puedo pagar con tarjeta?"], []]
    assert (await sc.detail(conversation_id))["status"] == "bot"  # still the bot's: the agent got nothing
    assert await sc.open_assignments() == {}


async def test_the_menu_opens_a_submenu_and_answers_by_number(http: httpx.AsyncClient, factory: Factory) -> None:
    sc, _bot = await with_bot(http, factory)
    conversation_id = (await sc.write("buenas tardes"))["conversation_id"]
    await sc.write("1")
    assert (await lines(sc, conversation_id))[-1][1] == "Pagos\n1. Cómo pagar\n2. Acuerdos de pago"
    await sc.write("acuerdos de pago")  # the label works as well as the number
    assert (await lines(sc, conversation_id))[-1][1].startswith("Sí, hasta 12 cuotas sin interés.")


async def test_yes_after_an_answer_closes_as_resolved_by_the_bot_with_its_typification(
        http: httpx.AsyncClient, factory: Factory) -> None:
    sc, _bot = await with_bot(http, factory)
    conversation_id = (await sc.write("a que hora atienden?"))["conversation_id"]
    transcript = await lines(sc, conversation_id)
    # A first message that asks gets the welcome line and the answer in one message, no menu first.
    assert [sender for sender, _ in transcript] == ["contact", "bot"]
    assert transcript[1][1].startswith("¡Hola! Soy Tina, la asistente.\n\nAtendemos de lunes a viernes")
    assert "https://example.com/horarios" in transcript[1][1] and "1. Pagos" not in transcript[1][1]
    await sc.write("sí, gracias")
    detail = await sc.detail(conversation_id)
    assert detail["status"] == "closed" and detail["close_reason"] == "bot"
    assert detail["typification_id"] == sc.typifications["sale"]
    assert detail["assignments"] == []


async def test_two_misunderstandings_hand_off_to_an_agent_who_sees_the_whole_transcript(
        http: httpx.AsyncClient, factory: Factory) -> None:
    sc, _bot = await with_bot(http, factory)
    [ana] = await sc.hire(1)
    conversation_id = (await sc.write("Hola"))["conversation_id"]
    await sc.write("quiero pedir una pizza hawaiana grande")
    assert (await sc.detail(conversation_id))["status"] == "bot"
    assert (await lines(sc, conversation_id))[-1][1].startswith("No entendí tu pregunta.")
    await sc.write("el perro se comió mis zapatos")
    detail = await sc.detail(conversation_id, ana)
    assert detail["status"] == "assigned" and detail["assigned_membership_id"] == ana.membership_id
    assert detail["bot_handoff_reason"] == "misunderstood"
    senders = [m["sender"] for m in detail["messages"]]
    assert senders == ["contact", "bot", "contact", "bot", "contact", "bot", "system"]
    assert detail["messages"][-2]["text"] == "Te comunico con un asesor. En un momento te atiende."
    assert detail["messages"][-1]["text"].startswith("Transferida por el asistente")
    await sc.write("hola??")  # now the agent's: the bot says nothing more
    assert [m.sender for m in await sc.messages(conversation_id)][-1] == "contact"


async def test_a_handoff_keyword_hands_off_at_once_and_waits_in_the_queue_without_agents(
        http: httpx.AsyncClient, factory: Factory) -> None:
    sc, _bot = await with_bot(http, factory, bot_handoff_keywords=["asesor", "humano"])
    conversation_id = (await sc.write("Necesito hablar con un ASESOR por favor"))["conversation_id"]
    detail = await sc.detail(conversation_id)
    assert detail["status"] == "queued" and detail["bot_handoff_reason"] == "keyword"
    assert detail["queued_at"] is not None
    assert [m["sender"] for m in detail["messages"]] == ["contact", "bot", "system"]
    assert detail["messages"][1]["text"].startswith("¡Hola! Soy Tina, la asistente.\n\nTe comunico con un asesor")


async def test_the_menu_option_hablar_con_un_asesor_hands_off(http: httpx.AsyncClient, factory: Factory) -> None:
    sc, _bot = await with_bot(http, factory)
    conversation_id = (await sc.write("hola"))["conversation_id"]
    await sc.write("3")
    detail = await sc.detail(conversation_id)
    assert detail["status"] == "queued" and detail["bot_handoff_reason"] == "menu"


async def test_unsure_the_bot_asks_te_refieres_a_and_a_number_picks(http: httpx.AsyncClient,
                                                                   factory: Factory) -> None:
    sc, _bot = await with_bot(http, factory)
    conversation_id = (await sc.write("hola"))["conversation_id"]
    await sc.write("pagar")
    asked = (await lines(sc, conversation_id))[-1][1]
    assert asked.startswith("¿Te refieres a…?\n1. ")
    assert asked.splitlines()[-1].endswith("Ninguna, hablar con un asesor")
    first_label = asked.splitlines()[1][3:]
    await sc.write("1")
    answer = (await lines(sc, conversation_id))[-1][1]
    assert answer.endswith(ASK_RESOLVED) and first_label  # the first suggestion was answered


async def test_a_redelivered_message_is_answered_once(http: httpx.AsyncClient, factory: Factory) -> None:
    sc, _bot = await with_bot(http, factory)
    conversation_id = (await sc.write("hola", external_id="same-1"))["conversation_id"]
    again = await sc.post_inbound({"external_id": "same-1", "contact": {"external_id": "c-1"}, "text": "hola"})
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert [s for s, _ in await lines(sc, conversation_id)] == ["contact", "bot"]


async def test_inactivity_while_the_bot_waits_closes_with_the_inactivity_typification(
        http: httpx.AsyncClient, factory: Factory, worker: Worker) -> None:
    sc, _bot = await with_bot(http, factory)
    conversation_id = (await sc.write("hola"))["conversation_id"]
    await sc.travel(factory.clock.now() + timedelta(minutes=31))
    await worker.run_due()
    detail = await sc.detail(conversation_id)
    assert detail["status"] == "closed" and detail["close_reason"] == "inactivity"
    assert detail["typification_id"] == sc.typifications["inactivity"]


async def test_without_a_bot_nothing_changes(http: httpx.AsyncClient, factory: Factory) -> None:
    sc = await build(http, factory)
    conversation_id = (await sc.write("hola"))["conversation_id"]
    assert (await sc.detail(conversation_id))["status"] == "queued"
    assert [s for s, _ in await lines(sc, conversation_id)] == ["contact"]
    async with sc.database.session() as session:
        assert (await session.get(Conversation, conversation_id)).bot_state is None  # type: ignore[union-attr]
        assert await session.scalar(select(InboundDelivery.state)) == "routed"
        assert len((await session.scalars(select(Message))).all()) == 1


SATURDAY_NOON = datetime(2026, 3, 14, 17, 0, tzinfo=UTC)  # 12:00 in Bogotá, outside Mon–Fri 08–17


async def test_out_of_hours_the_bot_answers_and_cerrar_applies_at_handoff(http: httpx.AsyncClient,
                                                                        factory: Factory) -> None:
    sc = await build(http, factory, bands=OFFICE, action=OutOfHoursAction.close)
    bot = await make_bot(http, sc.admin, sc.client_id)
    await sc.update_campaign(attention_bot_id=bot["id"], bot_answers_out_of_hours=True)
    await sc.travel(SATURDAY_NOON)
    conversation_id = (await sc.write("a que hora atienden?"))["conversation_id"]
    assert (await sc.detail(conversation_id))["status"] == "bot"
    assert "\n\nAtendemos de lunes a viernes" in (await lines(sc, conversation_id))[-1][1]
    await sc.write("quiero hablar con un asesor")
    detail = await sc.detail(conversation_id)
    assert detail["status"] == "closed" and detail["close_reason"] == "out_of_hours"
    assert detail["bot_handoff_reason"] == "keyword"
    assert detail["messages"][-1]["text"] == "Nuestro horario es de lunes a viernes de 8 a 17."


async def test_a_bot_that_does_not_answer_out_of_hours_leaves_the_schedule_rules_alone(
        http: httpx.AsyncClient, factory: Factory) -> None:
    sc = await build(http, factory, bands=OFFICE, action=OutOfHoursAction.queue)
    bot = await make_bot(http, sc.admin, sc.client_id)
    await sc.update_campaign(attention_bot_id=bot["id"], bot_answers_out_of_hours=False)
    await sc.travel(SATURDAY_NOON)
    conversation_id = (await sc.write("como pago mi factura"))["conversation_id"]
    detail = await sc.detail(conversation_id)
    assert detail["status"] == "queued" and detail["bot_handoff_reason"] is None
    assert [m["sender"] for m in detail["messages"]] == ["contact", "system"]  # only the out-of-hours message
