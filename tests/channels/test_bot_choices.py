"""A bot's menu as buttons where the channel has them: WhatsApp reply buttons or a list within
Meta's limits, a Telegram reply keyboard, tappable options in the web chat, and ``choices`` in
the API channel's callback; tapping sends the label back, which the bot reads like the number.
Options that do not fit a channel's limits go as the numbered text every channel shows."""

import json
from typing import Any

import httpx
import pytest

from atiende.channels.choices import lead_text, telegram_keyboard, whatsapp_interactive
from atiende.jobs import Worker
from atiende.settings import Settings
from tests.bots.helpers import make_bot, set_menu
from tests.channels.fakes.data import load
from tests.channels.fakes.fixtures import _fresh_media, _graph_server, _telegram_server, graph, telegram  # noqa: F401
from tests.channels.fakes.meta import FakeGraph
from tests.channels.fakes.setup import telegram_center, webchat_center, whatsapp_center
from tests.channels.fakes.telegram import FakeTelegram
from tests.channels.telegram.test_bot import deliver as deliver_telegram
from tests.channels.webchat.test_widget_api import Visitor
from tests.channels.whatsapp.test_sending import from_customer
from tests.channels.whatsapp.test_webhook import deliver as deliver_whatsapp
from tests.conversations.scenario import Scenario
from tests.factories import Factory

WELCOME = "¡Hola! Soy Tina, la asistente."
MENU = ["Pagos", "Horario", "Hablar con un asesor"]


async def with_bot(http: httpx.AsyncClient, scenario: Scenario) -> None:
    bot = await make_bot(http, scenario.admin, scenario.client_id, welcome_message=WELCOME)
    await set_menu(http, scenario.admin, bot)
    await scenario.update_campaign(attention_bot_id=bot["id"])


def tapped(scenario: Scenario, reply_type: str, title: str, row_id: str) -> dict[str, Any]:
    """Meta's webhook for a tap on a reply button (``button_reply``) or a list row (``list_reply``)."""
    body = from_customer(scenario)
    message = body["entry"][0]["changes"][0]["value"]["messages"][0]
    message.pop("text")
    message.update(type="interactive", interactive={"type": reply_type, reply_type: {"id": row_id, "title": title}})
    return body


async def test_whatsapp_shows_the_menu_as_reply_buttons_and_a_tap_chooses(
        http: httpx.AsyncClient, factory: Factory, graph: FakeGraph, worker: Worker) -> None:
    scenario, channel_id = await whatsapp_center(http, factory)
    await with_bot(http, scenario)
    assert (await deliver_whatsapp(http, channel_id, from_customer(scenario, "Hola"))).status_code == 200
    await worker.run_due()
    assert graph.problems == []
    welcome = graph.sent()[-1]
    assert welcome["type"] == "interactive"
    assert welcome["interactive"] == {
        "type": "button", "body": {"text": WELCOME},
        "action": {"buttons": [{"type": "reply", "reply": {"id": f"choice-{n}", "title": label}}
                               for n, label in enumerate(MENU, 1)]}}

    assert (await deliver_whatsapp(http, channel_id, tapped(scenario, "button_reply", "Horario",
                                                            "choice-2"))).status_code == 200
    await worker.run_due()
    answer = graph.sent()[-1]
    assert answer["type"] == "text" and answer["text"]["body"].startswith("Atendemos de lunes a viernes")


async def test_whatsapp_sends_a_list_for_more_than_three_options_and_a_tap_on_a_row_chooses(
        http: httpx.AsyncClient, factory: Factory, graph: FakeGraph, worker: Worker) -> None:
    scenario, channel_id = await whatsapp_center(http, factory)
    bot = await make_bot(http, scenario.admin, scenario.client_id, welcome_message=WELCOME)
    ids = bot["entry_ids"]
    menu = [{"label": "Cómo pagar", "kind": "answer", "entry_id": ids[0]},
            {"label": "Pago con tarjeta", "kind": "answer", "entry_id": ids[1]},
            {"label": "Horario", "kind": "answer", "entry_id": ids[2]},
            {"label": "Acuerdos de pago", "kind": "answer", "entry_id": ids[3]},
            {"label": "Hablar con un asesor", "kind": "handoff"}]
    assert (await http.patch(f"/api/v1/attention-bots/{bot['id']}", json={"menu": menu},
                             headers=scenario.admin.headers)).status_code == 200
    await scenario.update_campaign(attention_bot_id=bot["id"])
    await deliver_whatsapp(http, channel_id, from_customer(scenario, "Buenas"))
    await worker.run_due()
    welcome = graph.sent()[-1]
    assert graph.problems == [] and welcome["interactive"]["type"] == "list"
    rows = welcome["interactive"]["action"]["sections"][0]["rows"]
    assert [row["title"] for row in rows] == [option["label"] for option in menu]
    await deliver_whatsapp(http, channel_id, tapped(scenario, "list_reply", "Acuerdos de pago", rows[3]["id"]))
    await worker.run_due()
    assert graph.sent()[-1]["text"]["body"].startswith("Sí, hasta 12 cuotas sin interés.")


async def test_telegram_shows_the_menu_as_a_reply_keyboard_and_the_label_sent_back_chooses(
        http: httpx.AsyncClient, factory: Factory, telegram: FakeTelegram, worker: Worker,
        settings: Settings) -> None:
    scenario, channel_id = await telegram_center(http, factory)
    await with_bot(http, scenario)
    update = load("telegram_text.json")
    update["message"]["text"] = "Hola"
    assert (await deliver_telegram(http, settings, channel_id, update)).status_code == 200
    await worker.run_due()
    assert telegram.problems == []
    welcome = telegram.of("sendMessage")[-1].params
    assert welcome["text"] == WELCOME
    assert welcome["reply_markup"] == {"keyboard": [[{"text": label}] for label in MENU],
                                       "one_time_keyboard": True, "resize_keyboard": True}
    update = load("telegram_text.json")
    update["update_id"] += 1
    update["message"]["message_id"] += 1
    update["message"]["text"] = "Horario"
    await deliver_telegram(http, settings, channel_id, update)
    await worker.run_due()
    answer = telegram.of("sendMessage")[-1].params
    assert answer["text"].startswith("Atendemos de lunes a viernes") and "reply_markup" not in answer


async def test_the_web_chat_gets_the_options_to_tap_and_the_text_without_their_numbered_lines(
        http: httpx.AsyncClient, factory: Factory) -> None:
    scenario, channel_id = await webchat_center(http, factory, welcome=None)
    await with_bot(http, scenario)
    visitor = Visitor(http, channel_id)
    assert (await visitor.start()).status_code == 200
    assert (await visitor.write("Hola")).status_code in (200, 201)
    bot = [m for m in (await visitor.read())["messages"] if m["sender"] == "bot"]
    assert [(m["text"], m["choices"]) for m in bot] == [(WELCOME, MENU)]
    assert (await visitor.write("Horario")).status_code in (200, 201)  # what a tap sends
    answer = [m for m in (await visitor.read())["messages"] if m["sender"] == "bot"][-1]
    assert answer["text"].startswith("Atendemos de lunes a viernes") and answer["choices"] == []


@pytest.mark.parametrize("labels", [["Sí", "No"], ["Uno", "Dos", "Tres", "Cuatro"]])
def test_the_numbered_lines_are_what_buttons_replace(labels: list[str]) -> None:
    numbered = "Elige una opción:\n" + "\n".join(f"{n}. {label}" for n, label in enumerate(labels, 1))
    assert lead_text(numbered + "\n\n¿Resolví tu duda?", labels) == "Elige una opción:\n\n¿Resolví tu duda?"


def test_options_that_do_not_fit_a_channels_limits_stay_numbered_text() -> None:
    long_label = "Quiero saber cuánto debo exactamente"  # 36 > 24 characters of a list row
    assert whatsapp_interactive("Menú\n1. Pagos\n2. " + long_label, ["Pagos", long_label]) is None
    assert whatsapp_interactive("Menú", [f"Opción {n}" for n in range(11)]) is None  # more than 10 rows
    assert whatsapp_interactive("1. Pagos", ["Pagos"]) is None  # nothing left to say above the buttons
    assert telegram_keyboard(["x" * 65]) is None
    assert json.dumps(whatsapp_interactive("Menú\n1. Pagos", ["Pagos"]).content)  # type: ignore[union-attr]
