"""Authorization before validation (issue 21.8): every write route of the OpenAPI, called by a role
that may not write there, answers 403 whatever the body holds (nothing, `{}`, half a form), never
a 422 that would tell the body's shape to someone who may not use it. A new write route must be
placed in one of the tables below, or this test fails for it."""

import re
from typing import Any

import httpx
import pytest

from atiende.auth.models import Role
from tests.factories import Factory, Person, Tenant

# No caller at all: signed by the channel, a visitor's session, or the login itself.
PUBLIC = {
    ("POST", "/api/v1/channels/{channel_id}/inbound"), ("POST", "/api/v1/channels/{channel_id}/status"),
    ("POST", "/webhooks/whatsapp/{channel_id}"), ("POST", "/webhooks/telegram/{channel_id}"),
    ("POST", "/api/v1/widget/{channel_id}/session"), ("POST", "/api/v1/widget/{channel_id}/messages"),
    ("POST", "/api/v1/widget/{channel_id}/attachments"), ("POST", "/api/v1/widget/{channel_id}/read"),
    ("POST", "/api/v1/auth/token"),
}
# What an agent's workspace writes.
AGENT_WRITES = {
    ("POST", "/api/v1/auth/logout"), ("PATCH", "/api/v1/me"),
    ("POST", "/api/v1/me/invitations/{membership_id}/accept"), ("DELETE", "/api/v1/me/invitations/{membership_id}"),
    ("POST", "/api/v1/conversations/{conversation_id}/messages"),
    ("POST", "/api/v1/conversations/{conversation_id}/transfer"),
    ("POST", "/api/v1/conversations/{conversation_id}/close"),
    ("PATCH", "/api/v1/conversations/{conversation_id}/fields"),
    ("POST", "/api/v1/conversations/{conversation_id}/stage"),
    ("POST", "/api/v1/conversations/{conversation_id}/attachments"),
    ("POST", "/api/v1/conversations/{conversation_id}/whatsapp/template"),
    ("PUT", "/api/v1/agents/me/status"),
    ("PUT", "/api/v1/contacts/{contact_id}/consent/{channel_kind}"),  # a customer asks their agent to stop
}
# What supervisors write besides: staffing, the queue, presence, taking a conversation over.
SUPERVISOR_WRITES = AGENT_WRITES | {
    ("POST", "/api/v1/conversations/{conversation_id}/assign"),
    ("POST", "/api/v1/conversations/{conversation_id}/take-over"),
    ("PUT", "/api/v1/agents/{membership_id}/status"), ("PUT", "/api/v1/agents/{membership_id}/campaigns"),
    ("PUT", "/api/v1/campaigns/{campaign_id}/agents"), ("POST", "/api/v1/campaigns/{campaign_id}/mass-transfer"),
    ("POST", "/api/v1/channels/{channel_id}/whatsapp/templates/sync"),
    ("PATCH", "/api/v1/contacts/{contact_id}"), ("POST", "/api/v1/contacts/{contact_id}/merge"),
    ("POST", "/api/v1/contacts/imports"), ("POST", "/api/v1/contacts/imports/{import_id}/start"),
    # Envíos: the collections team's supervisors run their sends.
    ("POST", "/api/v1/campaigns/{campaign_id}/sends"), ("POST", "/api/v1/sends/{send_id}/audience"),
    ("POST", "/api/v1/sends/{send_id}/audience/directory"),
    ("PUT", "/api/v1/sends/{send_id}/message"), ("POST", "/api/v1/sends/{send_id}/test"),
    ("PUT", "/api/v1/sends/{send_id}/programme"), ("POST", "/api/v1/sends/{send_id}/launch"),
    ("POST", "/api/v1/sends/{send_id}/pause"), ("POST", "/api/v1/sends/{send_id}/resume"),
    ("POST", "/api/v1/sends/{send_id}/cancel"),
    # The notification API: a billing system calls it as a supervisor user of its own.
    ("POST", "/api/v1/campaigns/{campaign_id}/outbound"),
}
# The platform's own: only the superuser creates clients. PATCH /clients/{id} is an admin's route for
# the client's own settings (phone_region); its plan stays the superuser's (tests/channels/webchat/test_phone_region.py).
SUPERUSER_WRITES = {("POST", "/api/v1/clients")}


def write_routes(app: Any) -> list[tuple[str, str]]:
    return sorted((method.upper(), path) for path, operations in app.openapi()["paths"].items()
                  for method in operations if method in ("post", "put", "patch", "delete"))


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


BODIES: list[dict[str, Any]] = [{"content": b""}, {"json": {}}, {"json": {"name": "Cobranza"}}]


async def refusals(http: httpx.AsyncClient, person: Person, routes: list[tuple[str, str]],
                   allowed: set[tuple[str, str]]) -> list[tuple[str, str, int, str]]:
    wrong = []
    for method, path in routes:
        if (method, path) in PUBLIC or (method, path) in allowed:
            continue
        for body in BODIES:
            answer = await http.request(method, concrete(path), headers=person.headers, **body)
            if answer.status_code != 403:
                wrong.append((method, path, answer.status_code, answer.text[:120]))
    return wrong


async def test_every_write_route_is_classified(app: Any) -> None:
    known = PUBLIC | SUPERVISOR_WRITES | SUPERUSER_WRITES
    assert len(write_routes(app)) > 60
    assert known - set(write_routes(app)) == set()  # the tables name only routes that exist


@pytest.mark.parametrize("role", ["agent", "supervisor", "admin"])
async def test_a_role_that_may_not_write_gets_403_whatever_the_body(
        app: Any, http: httpx.AsyncClient, tenant: Tenant, role: str) -> None:
    person = getattr(tenant, role)
    allowed = {"agent": AGENT_WRITES, "supervisor": SUPERVISOR_WRITES}.get(role)
    routes = write_routes(app)
    if allowed is None:  # an admin may write everything of their client, but not the platform's clients
        routes, allowed = sorted(SUPERUSER_WRITES), set()
    assert await refusals(http, person, routes, allowed) == []


async def test_an_agents_half_campaign_is_refused_for_the_role_not_for_the_form(
        http: httpx.AsyncClient, factory: Factory, tenant: Tenant) -> None:
    setup = await factory.campaign_setup(tenant.client.id)  # type: ignore[attr-defined]
    half = {"client_id": tenant.client.id, "name": "Cobranza"}
    refused = await http.post("/api/v1/campaigns", headers=tenant.agent.headers, json=half)
    assert refused.status_code == 403 and refused.json()["code"] == "auth.role_required"
    whole = await http.post("/api/v1/campaigns", headers=tenant.agent.headers, json=setup.body())
    assert whole.status_code == 403  # the same answer for a complete one
    told = await http.post("/api/v1/campaigns", headers=tenant.admin.headers, json=half)
    assert told.status_code == 422  # the admin is told what is missing


async def test_an_agents_write_to_an_allowed_route_is_still_validated(http: httpx.AsyncClient,
                                                                      tenant: Tenant) -> None:
    answer = await http.put("/api/v1/agents/me/status", headers=tenant.agent.headers, json={})
    assert answer.status_code == 422 and answer.json()["field"] == "presence"


async def test_an_admin_somewhere_is_still_refused_in_the_client_where_they_are_an_agent(
        http: httpx.AsyncClient, factory: Factory, tenant: Tenant, other_tenant: Tenant) -> None:
    await factory.join(tenant.agent, other_tenant.client.id, role=Role.admin)
    project = await http.post("/api/v1/projects", headers=tenant.agent.headers,
                              json={"client_id": tenant.client.id, "name": "Cobranza"})
    assert project.status_code == 403  # the service checks the role in the client written to
    own = await http.post("/api/v1/projects", headers=tenant.agent.headers,
                          json={"client_id": other_tenant.client.id, "name": "Cobranza"})
    assert own.status_code == 201
