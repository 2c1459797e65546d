"""Schemathesis over the whole OpenAPI spec, against a real server with the demo data, as the demo
admin: no 5xx, and every answer matches the documented schema. Bounded so it stays quick."""

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings

from tests.live import LiveServer, live_server

SERVER: dict[str, LiveServer] = {}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, db_base: str) -> Iterator[LiveServer]:
    unlimited = {"ATIENDE_LOGIN_MAX_FAILURES": "1000000", "ATIENDE_WEBHOOK_REFUSALS_PER_MINUTE": "1000000"}
    with live_server(tmp_path_factory.mktemp("fuzz"), db_base, extra_env={**unlimited, "ATIENDE_UI_ENABLED": "false"}) as s:
        SERVER["live"] = s
        yield s


def _schema() -> schemathesis.BaseSchema:
    # Loaded lazily from the live server, which exists only once the fixture ran.
    return schemathesis.openapi.from_url(f"{SERVER['live'].base_url}/api/openapi.json")


schema = schemathesis.pytest.from_fixture("openapi_schema")


@pytest.fixture(scope="module")
def openapi_schema(server: LiveServer) -> schemathesis.BaseSchema:
    return _schema().exclude(path_regex=r"^/api/v1/auth/logout$")


@pytest.fixture(scope="module")
def admin_headers(server: LiveServer) -> dict[str, str]:
    return server.headers()


@schema.parametrize()
@settings(max_examples=6, deadline=None, derandomize=True, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=list(HealthCheck))
def test_api_never_fails_and_answers_as_documented(case: schemathesis.Case, server: LiveServer,
                                                   admin_headers: dict[str, str]) -> None:
    # positive_data_acceptance is left out on purpose: business rules (an id of nothing, a name
    # already taken, a channel already in use) rightly refuse many schema-valid bodies with 4xx.
    headers = {} if case.path.startswith("/api/v1/auth") else admin_headers
    case.call_and_validate(base_url=server.base_url, headers=headers,
                           excluded_checks=[schemathesis.checks.positive_data_acceptance])


def test_the_webhooks_bodies_are_described_so_the_fuzzing_reaches_them(openapi_schema: schemathesis.BaseSchema) -> None:
    """WhatsApp's and Telegram's webhooks read their bodies raw (the signature covers the bytes);
    their bodies are documented from the channels' models, so the run above sends them bodies."""
    raw = openapi_schema.raw_schema
    for path, required in (("/webhooks/whatsapp/{channel_id}", ["entry", "object"]),
                           ("/webhooks/telegram/{channel_id}", ["update_id"]),
                           ("/api/v1/channels/{channel_id}/inbound", ["contact", "external_id"])):
        body = raw["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
        assert sorted(body["required"]) == required, path
