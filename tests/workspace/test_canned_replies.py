"""Respuestas rápidas: an admin writes the client's quick replies once; every agent of the client
uses them by shortcut ("/saludo"); nobody else sees them."""

import pytest

from atiende.auth.caller import Caller
from atiende.auth.service import auth_service
from atiende.conversations.canned import canned_reply_service
from tests.factories import Tenant

URL = "/api/v1/canned-replies"


def reply(client_id: int, **overrides: object) -> dict[str, object]:
    body: dict[str, object] = {"client_id": client_id, "shortcut": "saludo", "title": "Saludo",
                               "text": "¡Hola {contacto}! ¿En qué te ayudo?"}
    body.update(overrides)
    return body


async def test_an_admin_creates_a_quick_reply_and_agents_of_the_client_read_it(http, tenant: Tenant) -> None:
    created = await http.post(URL, json=reply(tenant.client.id), headers=tenant.admin.headers)
    assert created.status_code == 201, created.text
    assert created.json()["shortcut"] == "saludo"
    listed = await http.get(URL, headers=tenant.agent.headers)
    assert [r["title"] for r in listed.json()["items"]] == ["Saludo"]


async def test_the_shortcut_is_lowercased_and_unique_per_client(http, tenant: Tenant, other_tenant: Tenant) -> None:
    first = await http.post(URL, json=reply(tenant.client.id, shortcut="Despedida"), headers=tenant.admin.headers)
    assert first.json()["shortcut"] == "despedida"
    again = await http.post(URL, json=reply(tenant.client.id, shortcut="despedida"), headers=tenant.admin.headers)
    assert again.status_code == 409
    assert again.json()["field"] == "shortcut"
    elsewhere = await http.post(URL, json=reply(other_tenant.client.id, shortcut="despedida"),
                                headers=other_tenant.admin.headers)
    assert elsewhere.status_code == 201


@pytest.mark.parametrize("shortcut", ["", "con espacio", "/saludo", "x" * 41, "ñandú"])
async def test_a_shortcut_is_letters_digits_dash_or_underscore(http, tenant: Tenant, shortcut: str) -> None:
    response = await http.post(URL, json=reply(tenant.client.id, shortcut=shortcut), headers=tenant.admin.headers)
    assert response.status_code == 422
    assert "shortcut" in response.json()["field"]


async def test_an_empty_text_is_refused(http, tenant: Tenant) -> None:
    response = await http.post(URL, json=reply(tenant.client.id, text="   "), headers=tenant.admin.headers)
    assert response.status_code == 422
    assert "text" in response.json()["field"]


async def test_agents_and_supervisors_cannot_change_quick_replies(http, tenant: Tenant) -> None:
    for person in (tenant.agent, tenant.supervisor):
        response = await http.post(URL, json=reply(tenant.client.id), headers=person.headers)
        assert response.status_code == 403
    created = (await http.post(URL, json=reply(tenant.client.id), headers=tenant.admin.headers)).json()
    refused = await http.patch(f"{URL}/{created['id']}", json={"text": "Otro"}, headers=tenant.agent.headers)
    assert refused.status_code == 403


async def test_another_clients_quick_replies_are_not_found(http, tenant: Tenant, other_tenant: Tenant) -> None:
    created = (await http.post(URL, json=reply(tenant.client.id), headers=tenant.admin.headers)).json()
    assert (await http.get(f"{URL}/{created['id']}", headers=other_tenant.admin.headers)).status_code == 404
    assert (await http.get(URL, headers=other_tenant.agent.headers)).json()["items"] == []


async def test_an_admin_edits_deactivates_and_deletes_a_quick_reply(http, tenant: Tenant) -> None:
    created = (await http.post(URL, json=reply(tenant.client.id), headers=tenant.admin.headers)).json()
    edited = await http.patch(f"{URL}/{created['id']}", json={"text": "Buenos días", "active": False},
                              headers=tenant.admin.headers)
    assert edited.json()["text"] == "Buenos días" and edited.json()["active"] is False
    deleted = await http.delete(f"{URL}/{created['id']}", headers=tenant.admin.headers)
    assert deleted.status_code == 204
    assert (await http.get(f"{URL}/{created['id']}", headers=tenant.admin.headers)).status_code == 404


async def test_typing_a_slash_suggests_the_active_replies_by_shortcut(http, database, clock, settings,
                                                                    tenant: Tenant) -> None:
    for shortcut, active in [("saludo", True), ("saludo_tarde", True), ("salida", False), ("pago", True)]:
        body = reply(tenant.client.id, shortcut=shortcut, title=shortcut, active=active)
        assert (await http.post(URL, json=body, headers=tenant.admin.headers)).status_code == 201
    async with database.session() as session:
        token = tenant.agent.headers["Authorization"].removeprefix("Bearer ")
        caller: Caller = await auth_service.caller_for_token(session, token, clock=clock)
        found = await canned_reply_service.suggestions(session, caller, tenant.client.id, "/sal")
        assert [r.shortcut for r in found] == ["saludo", "saludo_tarde"]
        exact = await canned_reply_service.by_shortcut(session, caller, tenant.client.id, "/PAGO")
        assert exact is not None and exact.shortcut == "pago"
