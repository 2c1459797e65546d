"""A collections campaign on WhatsApp, ready for sends: the engine's scenario with a WhatsApp
channel, an approved payment-reminder template, and helpers to walk the wizard over HTTP."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from atiende.channels.whatsapp.models import WhatsAppTemplate
from atiende.clock import FakeClock
from atiende.jobs import Worker
from tests.channels.fakes.setup import whatsapp_center
from tests.conversations.scenario import Scenario
from tests.factories import Factory

REMINDER = [
    {"type": "HEADER", "format": "TEXT", "text": "Hola {{1}}"},
    {"type": "BODY", "text": "Tu saldo de {{1}} vence el {{2}}. Responde este mensaje si necesitas un acuerdo."},
    {"type": "BUTTONS", "buttons": [{"type": "URL", "text": "Pagar", "url": "https://pagos.example.com/{{1}}"}]},
]
MAPPING = {"header": [{"column": "nombre"}], "body": [{"column": "monto"}, {"column": "vence"}],
           "buttons": [{"column": "referencia"}]}


def phone(i: int) -> str:
    return f"+57300{1000000 + i:07d}"


def debtors_csv(count: int, *, extra_rows: str = "") -> bytes:
    lines = ["nombre,telefono,monto,vence,referencia"]
    lines += [f"Cliente {i},{phone(i)},$ {1000 + i}.000,15 dic 2026,REF-{i}" for i in range(count)]
    return ("\n".join(lines) + "\n" + extra_rows).encode()


@dataclass
class Center:
    scenario: Scenario
    channel_id: int
    http: httpx.AsyncClient

    @property
    def headers(self) -> dict[str, str]:
        return self.scenario.supervisor.headers

    async def template(self, name: str = "recordatorio_pago", status: str = "APPROVED",
                       components: list[dict[str, Any]] | None = None, channel_id: int | None = None) -> None:
        async with self.scenario.database.session() as session:
            session.add(WhatsAppTemplate(channel_id=channel_id or self.channel_id, name=name, language="es",
                                         status=status, category="UTILITY", components=components or REMINDER,
                                         provider_id="1", synced_at=datetime(2026, 1, 1, tzinfo=UTC)))

    async def create(self, name: str = "Recordatorio diciembre") -> dict[str, Any]:
        response = await self.http.post(f"/api/v1/campaigns/{self.scenario.campaign_id}/sends",
                                        json={"name": name}, headers=self.headers)
        assert response.status_code == 201, response.text
        return response.json()

    async def upload(self, send_id: int, content: bytes, filename: str = "deudores.csv",
                     **form: str) -> httpx.Response:
        return await self.http.post(f"/api/v1/sends/{send_id}/audience", files={"file": (filename, content)},
                                    data=form, headers=self.headers)

    async def put(self, send_id: int, part: str, body: dict[str, Any]) -> httpx.Response:
        return await self.http.put(f"/api/v1/sends/{send_id}/{part}", json=body, headers=self.headers)

    async def action(self, send_id: int, action: str) -> httpx.Response:
        return await self.http.post(f"/api/v1/sends/{send_id}/{action}", headers=self.headers)

    async def read(self, send_id: int) -> dict[str, Any]:
        response = await self.http.get(f"/api/v1/sends/{send_id}", headers=self.headers)
        assert response.status_code == 200, response.text
        return response.json()

    async def ready(self, count: int, *, rate: int = 80, csv: bytes | None = None, **programme: Any) -> int:
        """A send of ``count`` debtors, message mapped, programmed and launched."""
        send = await self.create()
        assert (await self.upload(send["id"], csv or debtors_csv(count))).status_code == 200
        response = await self.put(send["id"], "message", {"template_name": "recordatorio_pago", "language": "es",
                                                          "mapping": MAPPING})
        assert response.status_code == 200, response.text
        response = await self.put(send["id"], "programme", {"rate_per_second": rate, **programme})
        assert response.status_code == 200, response.text
        response = await self.action(send["id"], "launch")
        assert response.status_code == 200, response.text
        return int(send["id"])

    async def recipients(self, send_id: int, **params: Any) -> list[dict[str, Any]]:
        response = await self.http.get(f"/api/v1/sends/{send_id}/recipients", params={"limit": 100, **params},
                                       headers=self.headers)
        assert response.status_code == 200, response.text
        return list(response.json()["items"])


async def collections_center(http: httpx.AsyncClient, factory: Factory, **options: Any) -> Center:
    scenario, channel_id = await whatsapp_center(http, factory, **options)
    center = Center(scenario, channel_id, http)
    await center.template()
    return center


@contextmanager
def fake_sleep(worker: Worker, clock: FakeClock) -> Iterator[list[float]]:
    """The engine's waits move the fake clock instead of sleeping; yields the waits asked for."""
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        clock.advance(seconds=seconds)

    worker.context.extras["sleep"] = sleep
    try:
        yield waits
    finally:
        worker.context.extras.pop("sleep", None)
        worker.context.extras.pop("outbound_after_call", None)
        worker.context.extras.pop("outbound_concurrency", None)
