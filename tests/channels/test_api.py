"""Canales: WhatsApp numbers, web chat widgets, Telegram bots and API sources, with write-only
secrets, through HTTP."""

from typing import Any

import httpx
import pytest

from tests.factories import Factory, Tenant, create_campaign_using

WHATSAPP_SECRETS = {"access_token": "EAAG-access-token-9f8e7d", "app_secret": "app-secret-5c4b3a",
                    "verify_token": "verify-token-2d1e0f"}
TELEGRAM_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
API_SECRET = "api-shared-secret-0123456789"
ALL_SECRETS = [*WHATSAPP_SECRETS.values(), TELEGRAM_TOKEN, API_SECRET]

BODIES: dict[str, dict[str, Any]] = {
    "whatsapp": {"kind": "whatsapp", "name": "WhatsApp ventas", "credentials": WHATSAPP_SECRETS,
                 "settings": {"phone_number_id": "106540352242922", "business_account_id": "102290129340398"}},
    "telegram": {"kind": "telegram", "name": "Bot de Telegram", "credentials": {"bot_token": TELEGRAM_TOKEN}},
    "api": {"kind": "api", "name": "CRM", "credentials": {"secret": API_SECRET},
            "settings": {"callback_url": "https://crm.example.com/atiende/replies"}},
    "webchat": {"kind": "webchat", "name": "Chat del sitio",
                "settings": {"allowed_origins": ["https://www.Example.com", "http://localhost:8080/"],
                             "prechat_form": True, "welcome_message": "¡Hola! ¿En qué te ayudamos?"}},
}


async def create_channel(http: httpx.AsyncClient, tenant: Tenant, kind: str, **changes: Any) -> httpx.Response:
    response = await http.post("/api/v1/channels", headers=tenant.admin.headers,
                               json={"client_id": tenant.client.id, **BODIES[kind], **changes})
    assert response.status_code == 201, response.text
    return response


def assert_no_secret(response: httpx.Response) -> None:
    for secret in ALL_SECRETS:
        assert secret not in response.text


async def test_an_admin_connects_a_whatsapp_number(http: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await create_channel(http, tenant, "whatsapp")
    assert_no_secret(response)
    channel = response.json()
    assert channel == {
        "id": channel["id"], "client_id": tenant.client.id, "kind": "whatsapp", "name": "WhatsApp ventas",
        "active": True, "credential_keys": ["access_token", "app_secret", "verify_token"],
        "settings": {"phone_number_id": "106540352242922", "business_account_id": "102290129340398",
                     "api_version": "v21.0"},
        "webhook_path": f"/webhooks/whatsapp/{channel['id']}", "campaign": None}


async def test_each_kind_has_its_own_settings_and_webhook(http: httpx.AsyncClient, tenant: Tenant) -> None:
    telegram = (await create_channel(http, tenant, "telegram")).json()
    assert telegram["credential_keys"] == ["bot_token"] and telegram["settings"] == {}
    assert telegram["webhook_path"] == f"/webhooks/telegram/{telegram['id']}"
    api = (await create_channel(http, tenant, "api")).json()
    assert api["credential_keys"] == ["secret"]
    assert api["settings"] == {"callback_url": "https://crm.example.com/atiende/replies"}
    assert api["webhook_path"] == f"/api/v1/channels/{api['id']}/inbound"
    webchat = (await create_channel(http, tenant, "webchat")).json()
    assert webchat["credential_keys"] == [] and webchat["webhook_path"] is None
    assert webchat["settings"] == {"allowed_origins": ["https://www.example.com", "http://localhost:8080"],
                                   "prechat_form": True, "welcome_message": "¡Hola! ¿En qué te ayudamos?",
                                   "queue_notice": True, "queue_position": True}
    listing = await http.get("/api/v1/channels?q=chat", headers=tenant.supervisor.headers)
    assert [c["kind"] for c in listing.json()["items"]] == ["webchat"]


async def test_secrets_never_come_back_from_any_endpoint(http: httpx.AsyncClient, tenant: Tenant) -> None:
    ids = [(await create_channel(http, tenant, kind)).json()["id"] for kind in ("whatsapp", "telegram", "api")]
    rotated = await http.patch(f"/api/v1/channels/{ids[0]}", headers=tenant.admin.headers, json={
        "kind": "whatsapp", "credentials": {**WHATSAPP_SECRETS, "access_token": "EAAG-rotated-token-1a2b3c"}})
    assert rotated.status_code == 200 and "EAAG-rotated-token-1a2b3c" not in rotated.text
    assert_no_secret(rotated)
    responses = [await http.get("/api/v1/channels", headers=tenant.admin.headers),
                 await http.get("/api/v1/audit-events?entity_type=channel&limit=100", headers=tenant.admin.headers)]
    responses += [await http.get(f"/api/v1/channels/{i}", headers=tenant.admin.headers) for i in ids]
    for response in responses:
        assert response.status_code == 200
        assert_no_secret(response)
        assert "EAAG-rotated-token-1a2b3c" not in response.text
    audit = responses[1].json()["items"]
    assert len(audit) == 4 and audit[0]["after"]["credential_keys"] == ["access_token", "app_secret", "verify_token"]


async def test_credentials_and_settings_must_fit_the_kind(http: httpx.AsyncClient, tenant: Tenant) -> None:
    cases: list[tuple[str, dict[str, Any], str]] = [
        ("whatsapp", {"credentials": {"access_token": "a", "app_secret": "b"}}, "credentials.verify_token"),
        ("whatsapp", {"credentials": None}, "credentials.access_token"),
        ("whatsapp", {"credentials": {**WHATSAPP_SECRETS, "bot_token": "x"}}, "credentials.bot_token"),
        ("whatsapp", {"credentials": {**WHATSAPP_SECRETS, "access_token": ""}}, "credentials.access_token"),
        ("whatsapp", {"credentials": {**WHATSAPP_SECRETS, "app_secret": "x" * 2000}}, "credentials.app_secret"),
        ("whatsapp", {"credentials": {**WHATSAPP_SECRETS, "app_secret": "a\u0000b"}}, "credentials.app_secret"),
        ("whatsapp", {"credentials": "EAAG"}, "credentials"),
        ("whatsapp", {"settings": {}}, "settings.phone_number_id"),
        ("whatsapp", {"settings": {"phone_number_id": "+57 300"}}, "settings.phone_number_id"),
        ("whatsapp", {"settings": {"phone_number_id": 106540352242922}}, "settings.phone_number_id"),
        ("whatsapp", {"settings": {"phone_number_id": "1", "api_version": "latest"}}, "settings.api_version"),
        ("telegram", {"credentials": {"bot_token": "not-a-token"}}, "credentials.bot_token"),
        ("telegram", {"credentials": {}}, "credentials.bot_token"),
        ("telegram", {"settings": {"allowed_origins": []}}, "settings.allowed_origins"),
        ("api", {"credentials": {"secret": "short"}}, "credentials.secret"),
        ("api", {"settings": {"callback_url": "ftp://crm.example.com/x"}}, "settings.callback_url"),
        ("api", {"settings": {"callback_url": "no es una url"}}, "settings.callback_url"),
        ("api", {"settings": {}}, "settings.callback_url"),
        ("webchat", {"credentials": {"secret": API_SECRET}}, "credentials.secret"),
        ("webchat", {"settings": {"allowed_origins": ["https://example.com/path"]}}, "settings.allowed_origins.0"),
        ("webchat", {"settings": {"allowed_origins": ["example.com"]}}, "settings.allowed_origins.0"),
        ("webchat", {"settings": {"allowed_origins": ["https://a.com", "https://A.com"]}}, "settings.allowed_origins"),
        ("webchat", {"settings": {"allowed_origins": ["https://a.com"] * 51}}, "settings.allowed_origins"),
        ("webchat", {"settings": {"prechat_form": "yes"}}, "settings.prechat_form"),
        ("webchat", {"kind": "sms"}, "kind"),
        ("webchat", {"name": ""}, "name"),
        ("webchat", {"name": "x" * 121}, "name"),
        ("webchat", {"active": None}, "active"),
    ]
    for kind, change, field in cases:
        body = {"client_id": tenant.client.id, **BODIES[kind], **change}
        response = await http.post("/api/v1/channels", headers=tenant.admin.headers, json=body)
        assert response.status_code == 422, (change, response.text)
        assert response.json()["field"] == field, (change, response.json())
        assert_no_secret(response)
    assert (await http.get("/api/v1/channels", headers=tenant.admin.headers)).json()["total"] == 0


async def test_editing_a_channel_keeps_its_kind(http: httpx.AsyncClient, tenant: Tenant) -> None:
    channel = (await create_channel(http, tenant, "whatsapp")).json()
    url = f"/api/v1/channels/{channel['id']}"
    me = tenant.admin.headers
    settings = {"phone_number_id": "999", "api_version": "v22.0"}
    moved = await http.patch(url, headers=me, json={"kind": "whatsapp", "settings": settings, "active": False})
    assert moved.status_code == 200, moved.text
    assert moved.json()["settings"] == settings and moved.json()["active"] is False
    assert moved.json()["credential_keys"] == ["access_token", "app_secret", "verify_token"]  # untouched
    refusals: list[tuple[dict[str, Any], str]] = [
        ({"kind": "telegram"}, "kind"),
        ({"kind": "telegram", "credentials": {"bot_token": TELEGRAM_TOKEN}}, "kind"),
        ({"credentials": {"access_token": "x"}}, "credentials"),
        ({"settings": {"phone_number_id": "1"}}, "settings"),
        ({"kind": "whatsapp", "credentials": {"access_token": "x"}}, "credentials.app_secret"),
        ({"kind": "whatsapp", "settings": {"callback_url": "https://x.com"}}, "settings.phone_number_id"),
        ({"name": None, "kind": "whatsapp", "credentials": {**WHATSAPP_SECRETS, "x": 1}}, "credentials.x"),
    ]
    for change, field in refusals:
        response = await http.patch(url, headers=me, json=change)
        assert response.status_code == 422, (change, response.text)
        assert response.json()["field"] == field, (change, response.json())
    assert (await http.get(url, headers=me)).json() == moved.json()


async def test_names_are_unique_within_a_client(http: httpx.AsyncClient, tenant: Tenant,
                                                other_tenant: Tenant) -> None:
    first = (await create_channel(http, tenant, "webchat")).json()
    again = await http.post("/api/v1/channels", headers=tenant.admin.headers,
                            json={"client_id": tenant.client.id, **BODIES["telegram"], "name": first["name"]})
    assert again.status_code == 409 and again.json()["field"] == "name"
    second = (await create_channel(http, tenant, "telegram")).json()
    clash = await http.patch(f"/api/v1/channels/{second['id']}", headers=tenant.admin.headers,
                             json={"name": first["name"]})
    assert clash.status_code == 409 and clash.json()["field"] == "name"
    await create_channel(http, other_tenant, "webchat")


async def test_a_channel_shows_the_active_campaign_it_serves(http: httpx.AsyncClient, tenant: Tenant,
                                                             factory: Factory) -> None:
    serving = (await create_channel(http, tenant, "whatsapp")).json()
    idle = (await create_channel(http, tenant, "webchat")).json()
    await create_campaign_using(factory, tenant.client.id, name="Campaña vieja", channel_ids=(idle["id"],),
                                active=False)
    campaign_id = await create_campaign_using(factory, tenant.client.id, name="Recordatorios de pago",
                                              channel_ids=(serving["id"],))
    read = (await http.get(f"/api/v1/channels/{serving['id']}", headers=tenant.admin.headers)).json()
    assert read["campaign"] == {"id": campaign_id, "name": "Recordatorios de pago"}
    listing = (await http.get("/api/v1/channels", headers=tenant.admin.headers)).json()["items"]
    assert {c["id"]: c["campaign"] for c in listing} == {
        serving["id"]: {"id": campaign_id, "name": "Recordatorios de pago"}, idle["id"]: None}
    renamed = await http.patch(f"/api/v1/channels/{serving['id']}", headers=tenant.admin.headers,
                               json={"name": "WhatsApp cobranza"})
    assert renamed.json()["campaign"] == {"id": campaign_id, "name": "Recordatorios de pago"}
    for channel, campaign in ((serving, "Recordatorios de pago"), (idle, "Campaña vieja")):
        refused = await http.delete(f"/api/v1/channels/{channel['id']}", headers=tenant.admin.headers)
        assert refused.status_code == 409 and refused.json()["campaigns"] == [campaign]


@pytest.mark.parametrize("kind", list(BODIES))
async def test_another_clients_channels_are_not_found(http: httpx.AsyncClient, tenant: Tenant,
                                                      other_tenant: Tenant, kind: str) -> None:
    theirs = (await create_channel(http, other_tenant, kind)).json()
    url = f"/api/v1/channels/{theirs['id']}"
    me = tenant.admin.headers
    assert (await http.get(url, headers=me)).status_code == 404
    assert (await http.patch(url, headers=me, json={"name": "Mío"})).status_code == 404
    assert (await http.delete(url, headers=me)).status_code == 404
    assert (await http.get(f"/api/v1/channels?client_id={other_tenant.client.id}", headers=me)).status_code == 404
    intrude = await http.post("/api/v1/channels", headers=me, json={"client_id": other_tenant.client.id,
                                                                   **BODIES[kind]})
    assert intrude.status_code == 404 and intrude.json()["field"] == "client_id"
    assert (await http.get(url, headers=other_tenant.admin.headers)).json() == theirs


async def test_supervisors_see_channels_agents_do_not_and_neither_changes_them(http: httpx.AsyncClient,
                                                                               tenant: Tenant) -> None:
    channel = (await create_channel(http, tenant, "api")).json()
    url = f"/api/v1/channels/{channel['id']}"
    read = await http.get(url, headers=tenant.supervisor.headers)
    assert read.json() == channel
    assert_no_secret(read)
    # An agent's workspace needs no channel's settings or callback URL (issue 21.7).
    for path in (url, "/api/v1/channels", f"/api/v1/channels?client_id={tenant.client.id}"):
        refused = await http.get(path, headers=tenant.agent.headers)
        assert refused.status_code == 403 and refused.json()["code"] == "auth.role_required", path
        assert "crm.example.com" not in refused.text
    for person in (tenant.supervisor, tenant.agent):
        assert (await http.post("/api/v1/channels", headers=person.headers,
                                json={"client_id": tenant.client.id, **BODIES["webchat"]})).status_code == 403
        assert (await http.patch(url, headers=person.headers, json={"active": False})).status_code == 403
        assert (await http.delete(url, headers=person.headers)).status_code == 403
    assert (await http.delete(url, headers=tenant.admin.headers)).status_code == 204
    events = (await http.get(f"/api/v1/audit-events?entity_type=channel&entity_id={channel['id']}",
                             headers=tenant.admin.headers)).json()["items"]
    assert [e["action"] for e in events] == ["delete", "create"]
    assert events[0]["before"]["credential_keys"] == ["secret"]
