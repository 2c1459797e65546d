"""Unsigned calls to the public webhooks are refused cheaply (issue 19.7): without a well-formed
signature header the answer comes before the body is read, and an address that keeps sending
refused calls gets 429 until its minute ends, while the provider's signed calls go on."""

import httpx
import pytest

from atiende.channels import webhook_guard
from atiende.settings import Settings
from tests.channels.test_pipeline import Api, Channel, Telegram, WhatsApp
from tests.channels.test_pipeline import channel as channel  # noqa: F401  (fixture)

SIGNED = {"api": Api, "whatsapp": WhatsApp, "telegram": Telegram}
HEADER = {"api": "X-Atiende-Signature", "whatsapp": "X-Hub-Signature-256",
          "telegram": "X-Telegram-Bot-Api-Secret-Token"}


# The web chat is called by browsers with a visitor token, not signed by a provider.
signed_kinds = pytest.mark.parametrize("channel", list(SIGNED), indirect=True)


@pytest.fixture
def clock_of_refusals() -> list[float]:
    now = [1000.0]
    webhook_guard.budget.reset(monotonic=lambda: now[0])
    return now


def path_of(channel: Channel) -> str:  # noqa: F811
    return {"api": f"/api/v1/channels/{channel.channel_id}/inbound",
            "whatsapp": f"/webhooks/whatsapp/{channel.channel_id}",
            "telegram": f"/webhooks/telegram/{channel.channel_id}"}[str(channel.kind)]


class NeverRead(httpx.AsyncByteStream):
    """A body that fails the test if the server reads it."""

    read = False

    async def __aiter__(self):  # type: ignore[no-untyped-def]
        NeverRead.read = True
        yield b"{}"


@signed_kinds
async def test_an_unsigned_call_is_refused_before_its_body_is_read(channel: Channel) -> None:  # noqa: F811
    NeverRead.read = False
    for headers in ({}, {HEADER[str(channel.kind)]: "sha256=not-hex"} if channel.kind != "telegram" else {}):
        response = await channel.http.post(path_of(channel), content=NeverRead(),
                                           headers={"Content-Type": "application/json", **headers})
        assert response.status_code in (401, 403), response.text
        assert response.json()["field"] == HEADER[str(channel.kind)]
    assert NeverRead.read is False


@signed_kinds
async def test_an_address_that_keeps_failing_gets_429_until_its_minute_ends(
        channel: Channel, settings: Settings, clock_of_refusals: list[float],  # noqa: F811
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(channel.http._transport.app.state.settings, "webhook_refusals_per_minute", 3)  # type: ignore[attr-defined]
    header = HEADER[str(channel.kind)]
    wrong = "sha256=" + "0" * 64 if channel.kind != "telegram" else "not-the-secret"
    statuses = [(await channel.http.post(path_of(channel), content=b'{"x": 1}', headers={header: wrong})).status_code
                for _ in range(3)]
    assert set(statuses) <= {401, 403}
    refused = await channel.http.post(path_of(channel), content=b"{}", headers={header: wrong})
    assert refused.status_code == 429 and 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.json()["code"] == "too_many_requests"
    blocked_signed = await channel.write("Hola")  # the same address is paused, signed or not
    assert blocked_signed.status_code == 429
    clock_of_refusals[0] += 61
    assert (await channel.write("Hola de nuevo")).status_code == 200


@signed_kinds
async def test_signed_calls_never_count_against_the_budget(
        channel: Channel, clock_of_refusals: list[float], monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    monkeypatch.setattr(channel.http._transport.app.state.settings, "webhook_refusals_per_minute", 2)  # type: ignore[attr-defined]
    for i in range(5):
        assert (await channel.write(f"mensaje {i}")).status_code == 200

