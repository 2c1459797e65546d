"""While a web chat visitor waits in the queue the widget tells them so: their place in the queue
("Estás en el puesto 2 de la cola…") or only "un asesor te atenderá en breve", as the channel is set."""

import httpx

from tests.channels.fakes.setup import webchat_center
from tests.channels.webchat.test_widget_api import Visitor
from tests.factories import Factory


async def test_a_queued_visitor_learns_their_place_and_it_ends_when_an_agent_takes_them(
        http: httpx.AsyncClient, factory: Factory) -> None:
    scenario, channel_id = await webchat_center(http, factory)
    [ana] = await scenario.hire(1, capacity=1, online=False)  # nobody online: the visitors queue
    first, second = Visitor(http, channel_id), Visitor(http, channel_id)
    for visitor, text in ((first, "Hola"), (second, "Buenas tardes")):
        await visitor.start()
        assert (await visitor.write(text)).status_code == 201
    assert [(s["status"], s["queue_position"]) for s in (await first.read(), await second.read())] == [
        ("queued", 1), ("queued", 2)]
    resumed = await second.start()  # what the widget gets when the page reloads
    assert resumed.json()["queue_position"] == 2

    await scenario.presence(ana, "online")  # Ana takes the first; the second moves up
    assert ((await first.read())["status"], (await first.read())["queue_position"]) == ("assigned", None)
    assert (await second.read())["queue_position"] == 1


async def test_the_channel_may_tell_only_that_an_agent_will_answer_or_nothing(
        http: httpx.AsyncClient, factory: Factory) -> None:
    scenario, channel_id = await webchat_center(http, factory)
    await scenario.hire(1, online=False)
    visitor = Visitor(http, channel_id)
    await visitor.start()
    await visitor.write("Hola")
    for settings, expected in (({"queue_position": False}, 0), ({"queue_notice": False}, None)):
        changed = await http.patch(f"/api/v1/channels/{channel_id}", headers=scenario.admin.headers,
                                   json={"kind": "webchat", "settings": {
                                         "allowed_origins": ["https://tienda.example.com"], **settings}})
        assert changed.status_code == 200, changed.text
        seen = await visitor.read()
        assert (seen["status"], seen["queue_position"]) == ("queued", expected)
