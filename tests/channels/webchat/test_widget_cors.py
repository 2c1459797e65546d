"""Widget CORS: the browser may read answers only on the sites the channel allows. Another site,
``Origin: null`` (sandboxed frames, files) and unknown channels get no CORS headers, not even on
their 403s, so a script there cannot read the refusal or anything else."""

import httpx
import pytest

from tests.channels.fakes.setup import webchat_center
from tests.channels.webchat.test_widget_api import SITE
from tests.factories import Factory

EVIL = "https://evil.example"


@pytest.fixture
async def channel_id(http: httpx.AsyncClient, factory: Factory) -> int:
    scenario, channel_id = await webchat_center(http, factory)
    await scenario.hire(1)
    return channel_id


def preflight(origin: str) -> dict[str, str]:
    return {"Origin": origin, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type"}


async def test_an_allowed_site_gets_cors_headers_on_the_preflight_and_the_answer(
        http: httpx.AsyncClient, channel_id: int) -> None:
    url = f"/api/v1/widget/{channel_id}/session"
    answer = await http.options(url, headers=preflight(SITE))
    assert answer.status_code == 204 and answer.headers["access-control-allow-origin"] == SITE
    assert "POST" in answer.headers["access-control-allow-methods"]
    started = await http.post(url, json={}, headers={"Origin": SITE})
    assert started.status_code == 200 and started.headers["access-control-allow-origin"] == SITE
    assert "Origin" in started.headers["vary"]


@pytest.mark.parametrize("origin", [EVIL, "null"])
async def test_another_site_gets_a_403_without_cors_headers(
        http: httpx.AsyncClient, channel_id: int, origin: str) -> None:
    url = f"/api/v1/widget/{channel_id}/session"
    answer = await http.options(url, headers=preflight(origin))
    assert answer.status_code == 403
    assert "access-control-allow-origin" not in answer.headers
    refused = await http.post(url, json={}, headers={"Origin": origin})
    assert refused.status_code == 403 and refused.json()["field"] == "Origin"
    assert "access-control-allow-origin" not in refused.headers


async def test_null_origin_with_an_allowed_referer_is_served_but_not_readable_cross_site(
        http: httpx.AsyncClient, channel_id: int) -> None:
    response = await http.post(f"/api/v1/widget/{channel_id}/session", json={},
                               headers={"Origin": "null", "Referer": f"{SITE}/tienda"})
    assert "access-control-allow-origin" not in response.headers


async def test_an_unknown_channel_answers_without_cors_headers(http: httpx.AsyncClient, channel_id: int) -> None:
    answer = await http.options(f"/api/v1/widget/{channel_id + 999}/session", headers=preflight(EVIL))
    assert answer.status_code == 404 and "access-control-allow-origin" not in answer.headers
