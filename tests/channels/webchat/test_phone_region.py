"""Phones in the widget's pre-chat form are read in the client's phone region: a client in Bogotá
(region CO) takes ``300 123 4567``; without a region only the international form is understood.
A refusal carries a code the widget words in its own language, never pydantic's English."""

import httpx

from atiende.tenancy.models import Client
from tests.channels.fakes.setup import webchat_center
from tests.channels.webchat.test_widget_api import Visitor
from tests.factories import Factory


async def test_a_national_number_is_read_in_the_clients_region(http: httpx.AsyncClient, factory: Factory) -> None:
    scenario, channel_id = await webchat_center(http, factory, prechat=True)
    refused = await Visitor(http, channel_id).start(name="Ana", phone="3001234567")
    assert refused.status_code == 422
    assert (refused.json()["code"], refused.json()["field"]) == ("phone.invalid", "phone")
    assert "Value error" not in refused.text

    admin_sets = await http.patch(f"/api/v1/clients/{scenario.client_id}", json={"phone_region": "co"},
                                  headers=scenario.admin.headers)  # the client's own setting: its admin sets it
    assert admin_sets.status_code == 200, admin_sets.text
    assert admin_sets.json()["phone_region"] == "CO"
    plan = await http.patch(f"/api/v1/clients/{scenario.client_id}", json={"plan_seats": 99},
                            headers=scenario.admin.headers)
    assert plan.status_code == 403  # the plan stays the platform's
    agent = (await scenario.hire(1))[0]
    assert (await http.patch(f"/api/v1/clients/{scenario.client_id}", json={"phone_region": "MX"},
                             headers=agent.headers)).status_code in (403, 404)
    wrong = await http.patch(f"/api/v1/clients/{scenario.client_id}", json={"phone_region": "XX"},
                             headers=scenario.admin.headers)
    assert wrong.status_code == 422 and wrong.json()["field"] == "phone_region"

    visitor = Visitor(http, channel_id)
    assert (await visitor.start(name="Ana", phone="300 123 4567")).status_code == 200
    assert (await visitor.write("Hola")).status_code == 201
    (conversation,) = await scenario.conversations()
    assert conversation.contact.phone == "+573001234567"
    international = await Visitor(http, channel_id).start(name="Beto", phone="+52 55 1234 5678")
    assert international.status_code == 200  # another country's number, written with its code
    bad = await Visitor(http, channel_id).start(name="Carla", phone="123")
    assert bad.status_code == 422 and bad.json()["code"] == "phone.invalid"
    async with factory.database.session() as session:
        assert (await session.get(Client, scenario.client_id)).phone_region == "CO"
