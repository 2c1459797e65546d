"""The survey bot: after the agent closes, questions in order, answers validated (re-asked once),
the closing message, and a timeout for surveys nobody answers."""

import httpx

from atiende.catalog.models import QuestionKind
from atiende.jobs import Worker
from tests.conversations.scenario import Scenario, build
from tests.factories import Factory

QUESTIONS = [(QuestionKind.rating, "¿Cómo calificas la atención?"),
             (QuestionKind.yes_no, "¿Resolvimos tu solicitud?"),
             (QuestionKind.text, "¿Qué podemos mejorar?")]


async def bot_lines(sc: Scenario, conversation_id: int) -> list[str]:
    return [m.text for m in await sc.messages(conversation_id) if m.sender == "bot"]


async def closed_by_agent(sc: Scenario) -> int:
    [ana] = sc.agents or await sc.hire(1)
    conversation_id = (await sc.write("Hola"))["conversation_id"]
    await sc.reply(ana, conversation_id)
    closed = await sc.close(ana, conversation_id)
    assert closed.status_code == 200, closed.text
    return conversation_id


async def test_the_survey_asks_in_order_validates_and_thanks(http: httpx.AsyncClient, factory: Factory) -> None:
    sc = await build(http, factory, survey=QUESTIONS, closing_message="¡Gracias por tu tiempo!")
    conversation_id = await closed_by_agent(sc)
    detail = await sc.detail(conversation_id)
    assert detail["status"] == "survey"
    assert detail["assigned_membership_id"] is None  # the agent's seat is free during the survey
    assert await bot_lines(sc, conversation_id) == ["¿Cómo calificas la atención? (responde con un número del 1 al 5)"]
    for answer in ["7", "4", "tal vez", "quizás", "Más rapidez"]:
        assert (await sc.write(answer))["conversation_id"] == conversation_id
    assert await bot_lines(sc, conversation_id) == [
        "¿Cómo calificas la atención? (responde con un número del 1 al 5)",
        "No entendí tu respuesta. ¿Cómo calificas la atención? (responde con un número del 1 al 5)",
        "¿Resolvimos tu solicitud? (responde sí o no)",
        "No entendí tu respuesta. ¿Resolvimos tu solicitud? (responde sí o no)",
        "¿Qué podemos mejorar?",
        "¡Gracias por tu tiempo!"]
    detail = await sc.detail(conversation_id)
    assert (detail["status"], detail["survey_outcome"]) == ("closed", "completed")
    assert [(a["kind"], a["answer"], a["value"], a["valid"]) for a in detail["survey"]] == [
        ("rating", "4", 4, True), ("yes_no", "quizás", None, False), ("text", "Más rapidez", "Más rapidez", True)]
    assert (await sc.write("Hola otra vez"))["conversation_id"] != conversation_id  # a new conversation


async def test_yes_no_answers_in_spanish_and_english(http: httpx.AsyncClient, factory: Factory) -> None:
    sc = await build(http, factory, survey=[(QuestionKind.yes_no, "¿Todo bien?")] * 3)
    conversation_id = await closed_by_agent(sc)
    for answer in ["Sí", "no.", "yes"]:
        await sc.write(answer)
    detail = await sc.detail(conversation_id)
    assert [a["value"] for a in detail["survey"]] == [True, False, True]


async def test_an_unanswered_survey_times_out_and_closes(http: httpx.AsyncClient, factory: Factory, clock,
                                                         worker: Worker) -> None:  # type: ignore[no-untyped-def]
    sc = await build(http, factory, survey=QUESTIONS, survey_timeout_minutes=60)
    conversation_id = await closed_by_agent(sc)
    clock.advance(minutes=50)
    await sc.write("5")  # answering the first question restarts the timer for the second
    clock.advance(minutes=59)
    await worker.run_due()
    assert (await sc.detail(conversation_id))["status"] == "survey"
    clock.advance(minutes=1)
    await worker.run_due()
    detail = await sc.detail(conversation_id)
    assert (detail["status"], detail["survey_outcome"]) == ("closed", "timed_out")
    assert len(detail["survey"]) == 1
    assert "¡Gracias" not in " ".join(await bot_lines(sc, conversation_id))


async def test_without_a_survey_closing_closes(http: httpx.AsyncClient, factory: Factory) -> None:
    sc = await build(http, factory)
    conversation_id = await closed_by_agent(sc)
    assert (await sc.detail(conversation_id))["status"] == "closed"
    assert await bot_lines(sc, conversation_id) == []
