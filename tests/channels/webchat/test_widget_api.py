"""The public widget API: sessions that survive reloads, allowed origins, sending once, live
replies by long poll, attachments when the campaign allows them, the survey and out-of-hours."""

import asyncio
from datetime import datetime
from typing import Any

import httpx
import pytest

from atiende.catalog.models import QuestionKind
from atiende.jobs import Worker
from atiende.settings import Settings
from tests.channels.fakes.setup import webchat_center
from tests.conversations.scenario import OFFICE, Scenario
from tests.factories import Factory
from tests.media import download

SITE = "https://tienda.example.com"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x11" * 300


class Visitor:
    """A browser on the customer's site talking to the widget API."""

    def __init__(self, http: httpx.AsyncClient, channel_id: int, origin: str = SITE) -> None:
        self.http, self.channel_id, self.origin = http, channel_id, origin
        self.token: str | None = None
        self.sent = 0

    @property
    def headers(self) -> dict[str, str]:
        headers = {"Origin": self.origin}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    def url(self, path: str) -> str:
        return f"/api/v1/widget/{self.channel_id}{path}"

    async def start(self, **body: Any) -> httpx.Response:
        if self.token and "visitor_token" not in body:
            body["visitor_token"] = self.token
        response = await self.http.post(self.url("/session"), json=body, headers={"Origin": self.origin})
        if response.status_code == 200:
            self.token = response.json()["visitor_token"]
        return response

    async def write(self, text: str, *, client_message_id: str | None = None, **extra: Any) -> httpx.Response:
        self.sent += 1
        return await self.http.post(self.url("/messages"), headers=self.headers, json={
            "client_message_id": client_message_id or f"msg-{self.sent:08d}", "text": text, **extra})

    async def read(self, after: int = 0, wait: int = 0) -> dict[str, Any]:
        response = await self.http.get(self.url("/messages"), params={"after": after, "wait": wait},
                                       headers=self.headers)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
async def center(http: httpx.AsyncClient, factory: Factory) -> tuple[Scenario, int]:
    scenario, channel_id = await webchat_center(http, factory, permissions={"external_resources": True})
    await scenario.hire(1)
    return scenario, channel_id


async def test_a_new_visitor_gets_a_token_and_the_chats_settings(
        http: httpx.AsyncClient, center: tuple[Scenario, int]) -> None:
    _, channel_id = center
    visitor = Visitor(http, channel_id)
    response = await visitor.start()
    assert response.status_code == 200
    body = response.json()
    assert body["config"] == {"welcome_message": "¡Hola! ¿En qué te ayudamos?", "prechat_form": False,
                              "available": True, "attachments": True, "voice_notes": False, "open_now": True,
                              "out_of_hours_message": "Nuestro horario es de lunes a viernes de 8 a 17."}
    assert body["messages"] == [] and body["status"] is None
    assert response.headers["access-control-allow-origin"] == SITE


async def test_the_visitor_writes_and_the_agent_answers(
        http: httpx.AsyncClient, center: tuple[Scenario, int], worker: Worker) -> None:
    scenario, channel_id = center
    visitor = Visitor(http, channel_id)
    await visitor.start()
    sent = await visitor.write("Hola, quiero saber el estado de mi pedido")
    assert sent.status_code == 201, sent.text
    assert sent.json()["message"]["sender"] == "visitor" and sent.json()["duplicate"] is False
    (conversation,) = await scenario.conversations()
    assert conversation.status == "assigned"
    await scenario.reply(scenario.agents[0], conversation.id, "Hola, ¿me das el número del pedido?")
    await worker.run_due()
    seen = await visitor.read()
    assert [(m["sender"], m["text"]) for m in seen["messages"]] == [
        ("visitor", "Hola, quiero saber el estado de mi pedido"), ("agent", "Hola, ¿me das el número del pedido?")]
    assert seen["status"] == "assigned"


async def test_the_conversation_survives_a_reload(http: httpx.AsyncClient, center: tuple[Scenario, int]) -> None:
    _, channel_id = center
    visitor = Visitor(http, channel_id)
    await visitor.start()
    await visitor.write("Primer mensaje")
    reloaded = Visitor(http, channel_id)
    reloaded.token = visitor.token  # kept in local storage
    resumed = await reloaded.start()
    assert resumed.json()["visitor_token"] == visitor.token
    assert [m["text"] for m in resumed.json()["messages"]] == ["Primer mensaje"]


async def test_a_forged_or_foreign_token_starts_a_new_visitor_and_reads_nothing(
        http: httpx.AsyncClient, center: tuple[Scenario, int]) -> None:
    _, channel_id = center
    visitor = Visitor(http, channel_id)
    await visitor.start()
    await visitor.write("Mi dirección es Calle 1")
    assert visitor.token is not None
    forged = visitor.token[:-4] + "AAAA"
    intruder = Visitor(http, channel_id)
    started = await intruder.start(visitor_token=forged)
    assert started.json()["visitor_token"] != visitor.token and started.json()["messages"] == []
    intruder.token = forged
    response = await http.get(intruder.url("/messages"), headers=intruder.headers)
    assert response.status_code == 401 and response.json()["field"] == "Authorization"
    assert response.headers["access-control-allow-origin"] == SITE  # the widget can read the error


async def test_a_retried_send_is_stored_once(http: httpx.AsyncClient, center: tuple[Scenario, int]) -> None:
    scenario, channel_id = center
    visitor = Visitor(http, channel_id)
    await visitor.start()
    first = await visitor.write("Hola", client_message_id="abcdef123456")
    again = await visitor.write("Hola", client_message_id="abcdef123456")
    assert again.json()["duplicate"] is True and again.json()["message"]["id"] == first.json()["message"]["id"]
    (conversation,) = await scenario.conversations()
    assert len(await scenario.messages(conversation.id)) == 1


async def test_pre_chat_answers_are_the_contacts_data_never_a_message_an_agent_could_read(
        http: httpx.AsyncClient, factory: Factory) -> None:
    scenario, channel_id = await webchat_center(http, factory, prechat=True)  # Mostrar número: off
    [ana] = await scenario.hire(1)
    visitor = Visitor(http, channel_id)
    response = await visitor.start(name="Ana Pérez", email="ana@example.com", phone="+57 300 123 4567")
    assert response.json()["config"]["prechat_form"] is True
    assert response.json()["messages"] == []  # the form is no message
    assert await scenario.conversations() == []
    assert (await visitor.write("Hola, quiero saber de mi pedido")).status_code == 201
    (conversation,) = await scenario.conversations()
    assert (conversation.contact.name, conversation.contact.phone) == ("Ana Pérez", "+573001234567")
    assert [m.text for m in await scenario.messages(conversation.id)] == ["Hola, quiero saber de mi pedido"]
    as_agent = await http.get(f"/api/v1/conversations/{conversation.id}", headers=ana.headers)
    assert as_agent.status_code == 200 and "3001234567" not in as_agent.text.replace(" ", "")
    listed = await http.get("/api/v1/conversations", headers=ana.headers)
    assert "3001234567" not in listed.text.replace(" ", "")
    again = await visitor.start(name="Ana Pérez")
    assert [m["text"] for m in again.json()["messages"]] == ["Hola, quiero saber de mi pedido"]


@pytest.mark.parametrize(("body", "field"), [({"email": "no-es-correo"}, "email"), ({"phone": "123"}, "phone"),
                                             ({"name": "x" * 200}, "name"), ({"color": "red"}, "color")])
async def test_a_wrong_pre_chat_answer_names_the_field(http: httpx.AsyncClient, center: tuple[Scenario, int],
                                                       body: dict, field: str) -> None:
    _, channel_id = center
    response = await Visitor(http, channel_id).start(**body)
    assert response.status_code == 422 and response.json()["field"] == field


@pytest.mark.parametrize("origin", ["https://evil.example.com", "http://tienda.example.com", "null", None])
async def test_sites_not_listed_on_the_channel_are_refused(http: httpx.AsyncClient, center: tuple[Scenario, int],
                                                           origin: str | None) -> None:
    scenario, channel_id = center
    headers = {"Origin": origin} if origin else {}
    response = await http.post(f"/api/v1/widget/{channel_id}/session", json={}, headers=headers)
    assert response.status_code == 403 and response.json()["field"] == "Origin"
    assert await scenario.conversations() == []


async def test_the_referer_names_the_site_when_a_browser_omits_the_origin(
        http: httpx.AsyncClient, center: tuple[Scenario, int]) -> None:
    _, channel_id = center
    response = await http.post(f"/api/v1/widget/{channel_id}/session", json={},
                               headers={"Referer": f"{SITE}/productos/audifonos?x=1"})
    assert response.status_code == 200


async def test_the_atiende_server_itself_may_embed_the_chat(http: httpx.AsyncClient, center: tuple[Scenario, int]) -> None:
    _, channel_id = center
    response = await http.post(f"/api/v1/widget/{channel_id}/session", json={}, headers={"Origin": "http://testserver"})
    assert response.status_code == 200


async def test_browsers_preflight_is_answered_for_the_calling_site(
        http: httpx.AsyncClient, center: tuple[Scenario, int]) -> None:
    _, channel_id = center
    response = await http.options(f"/api/v1/widget/{channel_id}/messages", headers={
        "Origin": SITE, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type"})
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == SITE
    assert "Authorization" in response.headers["access-control-allow-headers"]


async def test_unknown_inactive_or_other_kinds_of_channels_are_not_found(
        http: httpx.AsyncClient, center: tuple[Scenario, int]) -> None:
    scenario, channel_id = center
    for other in (channel_id + 999, scenario.channel_id):
        response = await http.post(f"/api/v1/widget/{other}/session", json={}, headers={"Origin": SITE})
        assert response.status_code == 404
    assert (await http.post("/api/v1/widget/0/session", json={}, headers={"Origin": SITE})).status_code == 422


@pytest.mark.parametrize(("body", "status", "field"), [
    ({"client_message_id": "abcdefgh", "text": "   "}, 422, "text"),
    ({"client_message_id": "bad id!", "text": "hola"}, 422, "client_message_id"),
    ({"client_message_id": "abcdefgh", "text": "x" * 5000}, 422, "text"),
    ({"client_message_id": "abcdefgh", "text": "mira", "attachments": ["https://evil.example.com/x.jpg"]},
     422, "attachments"),
])
async def test_bad_messages_are_refused(http: httpx.AsyncClient, center: tuple[Scenario, int], body: dict,
                                        status: int, field: str) -> None:
    scenario, channel_id = center
    visitor = Visitor(http, channel_id)
    await visitor.start()
    response = await http.post(visitor.url("/messages"), json=body, headers=visitor.headers)
    assert response.status_code == status and response.json()["field"] == field
    assert await scenario.conversations() == []


async def test_a_visitor_writing_too_fast_is_slowed_down(http: httpx.AsyncClient, center: tuple[Scenario, int]) -> None:
    """20 messages a minute per visitor (ATIENDE_WIDGET_MESSAGES_PER_MINUTE), bursts of up to 10."""
    _, channel_id = center
    visitor = Visitor(http, channel_id)
    await visitor.start()
    statuses = [(await visitor.write(f"mensaje {i}")).status_code for i in range(12)]
    assert statuses[:10] == [201] * 10
    refused = await visitor.write("otro más")
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
    other = Visitor(http, channel_id)  # another visitor is not affected
    await other.start()
    assert (await other.write("hola")).status_code == 201


async def test_long_polling_answers_as_soon_as_the_agent_writes(
        http: httpx.AsyncClient, center: tuple[Scenario, int]) -> None:
    scenario, channel_id = center
    visitor = Visitor(http, channel_id)
    await visitor.start()
    mine = (await visitor.write("¿Hay alguien?")).json()["message"]["id"]
    (conversation,) = await scenario.conversations()
    waiting = asyncio.create_task(visitor.read(after=mine, wait=25))  # whichever runs first, nothing is missed
    reply = await scenario.reply(scenario.agents[0], conversation.id, "¡Sí! Aquí estoy.")
    assert reply.status_code == 201
    answered = await waiting
    assert [m["text"] for m in answered["messages"]] == ["¡Sí! Aquí estoy."]


async def test_an_empty_long_poll_ends_and_says_nothing_new(http: httpx.AsyncClient, center: tuple[Scenario, int],
                                                           settings: Settings) -> None:
    _, channel_id = center
    visitor = Visitor(http, channel_id)
    await visitor.start()
    await visitor.write("Hola")
    previous, settings.widget_poll_seconds = settings.widget_poll_seconds, 1
    try:
        answer = await visitor.read(after=10**6, wait=30)
    finally:
        settings.widget_poll_seconds = previous
    assert answer["messages"] == []


async def test_files_are_uploaded_then_attached(http: httpx.AsyncClient, center: tuple[Scenario, int]) -> None:
    scenario, channel_id = center
    visitor = Visitor(http, channel_id)
    await visitor.start()
    uploaded = await http.post(visitor.url("/attachments"), headers=visitor.headers,
                               files={"file": ("comprobante.jpg", JPEG, "image/jpeg")})
    assert uploaded.status_code == 201, uploaded.text
    attachment = uploaded.json()
    assert (attachment["kind"], attachment["mime_type"], attachment["size"]) == ("image", "image/jpeg", len(JPEG))
    sent = await visitor.write("", attachments=[attachment["url"]])
    assert sent.status_code == 201
    (conversation,) = await scenario.conversations()
    (message,) = await scenario.messages(conversation.id)
    assert message.attachments[0]["url"] == attachment["url"]
    served = await download(http, scenario.supervisor.headers, conversation.id, attachment["url"])
    assert served.content == JPEG
    (shown,) = (await visitor.read())["messages"][0]["attachments"]  # the visitor's copy carries a grant
    assert (await http.get(shown["url"].removeprefix("http://127.0.0.1:8000"))).content == JPEG


@pytest.mark.parametrize(("file", "field"), [
    (("virus.exe", b"MZ\x90\x00" * 10, "application/x-msdownload"), "file"),
    (("foto.jpg", b"<html>not an image</html>", "image/jpeg"), "file"),
])
async def test_files_of_other_types_are_refused(http: httpx.AsyncClient, center: tuple[Scenario, int],
                                                file: tuple[str, bytes, str], field: str) -> None:
    _, channel_id = center
    visitor = Visitor(http, channel_id)
    await visitor.start()
    response = await http.post(visitor.url("/attachments"), headers=visitor.headers, files={"file": file})
    assert response.status_code == 422 and response.json()["field"] == field


async def test_without_external_resources_the_chat_takes_no_files(http: httpx.AsyncClient, factory: Factory) -> None:
    _, channel_id = await webchat_center(http, factory)
    visitor = Visitor(http, channel_id)
    started = await visitor.start()
    assert started.json()["config"]["attachments"] is False
    response = await http.post(visitor.url("/attachments"), headers=visitor.headers,
                               files={"file": ("a.jpg", JPEG, "image/jpeg")})
    assert response.status_code == 403 and response.json()["field"] == "attachments"


async def test_out_of_hours_the_widget_knows_and_the_visitor_gets_the_message(
        http: httpx.AsyncClient, factory: Factory, worker: Worker) -> None:
    scenario, channel_id = await webchat_center(http, factory, bands=OFFICE)
    await scenario.travel(datetime(2026, 1, 10, 15, 0, tzinfo=factory.clock.now().tzinfo))  # a Saturday
    visitor = Visitor(http, channel_id)
    started = await visitor.start()
    assert started.json()["config"]["open_now"] is False
    await visitor.write("¿Atienden hoy?")
    await worker.run_due()
    texts = [m["text"] for m in (await visitor.read())["messages"]]
    assert texts == ["¿Atienden hoy?", "Nuestro horario es de lunes a viernes de 8 a 17."]


async def test_the_survey_question_tells_the_widget_which_answers_to_offer(
        http: httpx.AsyncClient, factory: Factory, worker: Worker) -> None:
    scenario, channel_id = await webchat_center(http, factory, survey=[
        (QuestionKind.rating, "Del 1 al 5, ¿cómo te atendimos?"), (QuestionKind.yes_no, "¿Resolvimos tu duda?")])
    await scenario.hire(1)
    visitor = Visitor(http, channel_id)
    await visitor.start()
    await visitor.write("Hola")
    (conversation,) = await scenario.conversations()
    await scenario.reply(scenario.agents[0], conversation.id, "Listo, quedó resuelto")
    assert (await scenario.close(scenario.agents[0], conversation.id)).status_code == 200
    seen = await visitor.read()
    assert seen["status"] == "survey" and seen["survey_kind"] == "rating"
    await visitor.write("5")
    assert (await visitor.read())["survey_kind"] == "yes_no"
    await visitor.write("sí")
    final = await visitor.read()
    assert final["status"] == "closed" and final["survey_kind"] is None
    assert final["messages"][-1]["text"] == "¡Gracias por responder!"


async def test_the_visitor_seeing_our_messages_marks_them_read(
        http: httpx.AsyncClient, center: tuple[Scenario, int], worker: Worker) -> None:
    scenario, channel_id = center
    visitor = Visitor(http, channel_id)
    await visitor.start()
    await visitor.write("Hola")
    (conversation,) = await scenario.conversations()
    reply = (await scenario.reply(scenario.agents[0], conversation.id, "Hola, te leo")).json()
    await worker.run_due()
    response = await http.post(visitor.url("/read"), json={"up_to": reply["id"]}, headers=visitor.headers)
    assert response.json() == {"read": 1}
    detail = await scenario.detail(conversation.id)
    assert next(m for m in detail["messages"] if m["id"] == reply["id"])["status"] == "read"
    assert (await visitor.read())["messages"][-1]["read"] is True


async def test_the_widget_script_is_served(http: httpx.AsyncClient) -> None:
    script = await http.get("/widget.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("application/javascript")
    assert "data-channel" in script.text and len(script.content) < 30_000


async def test_one_address_opening_visitor_after_visitor_is_slowed_down(
        http: httpx.AsyncClient, center: tuple[Scenario, int]) -> None:
    _, channel_id = center
    statuses = [(await Visitor(http, channel_id).start()).status_code for _ in range(61)]
    assert statuses[:60] == [200] * 60 and statuses[60] == 429
