"""A known week of a contact center, played through the real engine with a fake clock.

Client zone and schedule: Bogotá (UTC−5), Mon–Fri 08:00–17:00, Encolar. Agents Ana and Beto
(capacity 2). Times below are local; January 2026 (the 5th is a Monday).

A  Mon 5  09:00:00 writes, queued (nobody online); Ana online 09:00:40 → assigned; replies
          09:01:10; closes 09:05:10 as *Venta*; survey: 5, "Muy amable"; stage Venta.
B  Mon 5  16:50:00 writes → Ana at once; replies 16:52:00; Beto online 16:54:00; Ana transfers
          to Beto 16:55:00; Beto replies 16:56:00; closes Tue 6 08:30:00; survey: 2.
C  Fri 9  16:30:00 writes (Ana away, Beto offline since 16:00) → waits over the weekend; Ana
          online Mon 12 08:00:00 → assigned; replies 08:00:30; closes 08:10:00; stage Contacto.
D  Sun 11 23:59:30 writes (closed: queued) → the supervisor closes it Mon 12 00:10:00 (abandoned).
E  Mon 12 00:00:10 writes → queued until Ana at 08:00:00; replies 08:01:00; closes 08:20:00 as
          *Venta > Contado*; stage Oferta.
New conversations start at the funnel's first stage (Contacto). The clock ends at Mon 12 09:00:00.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import httpx

from atiende.catalog.models import QuestionKind, Typification
from atiende.jobs import Worker
from tests.conversations.scenario import OFFICE, Scenario, build
from tests.factories import Factory, Person

BOGOTA = ZoneInfo("America/Bogota")


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 1, day, hour, minute, second, tzinfo=BOGOTA).astimezone(UTC)


@dataclass
class World:
    sc: Scenario
    ana: Person
    beto: Person
    ids: dict[str, int]
    contado_id: int
    stages: dict[str, int]


async def build_world(http: httpx.AsyncClient, factory: Factory, worker: Worker) -> World:
    sc = await build(http, factory, bands=OFFICE, inactivity_minutes=100_000,
                     permissions={"transfer_between_agents": True},
                     survey=[(QuestionKind.rating, "¿Cómo calificas la atención?"),
                             (QuestionKind.text, "¿Qué podemos mejorar?")],
                     funnel=["Contacto", "Oferta", "Venta"])
    async with sc.database.session() as session:
        contado = Typification(client_id=sc.client_id, name="Contado", code="venta-contado",
                               parent_id=sc.typifications["sale"])
        session.add(contado)
        await session.flush()
        contado_id = contado.id
    detail = await sc.http.get(f"/api/v1/campaigns/{sc.campaign_id}", headers=sc.admin.headers)
    stages = {s["name"]: s["id"] for s in await _stages(sc)}
    assert detail.status_code == 200
    ana, beto = await sc.hire(2, capacity=2, online=False)
    ids: dict[str, int] = {}

    async def step(when: datetime) -> None:
        await sc.travel(when)

    async def ok(response: httpx.Response) -> None:
        assert response.status_code in (200, 201), response.text

    await step(at(5, 8))
    await sc.presence(ana, "away")
    await sc.presence(beto, "offline")
    # A
    await step(at(5, 9))
    ids["A"] = (await sc.write("Hola", contact="c-a", name="Ana Cliente", phone="+573001112233"))["conversation_id"]
    await step(at(5, 9, 0, 40))
    await sc.presence(ana, "online")
    await step(at(5, 9, 1, 10))
    await ok(await sc.reply(ana, ids["A"]))
    await ok(await sc.http.post(f"/api/v1/conversations/{ids['A']}/stage", json={"stage_id": stages["Venta"]},
                                headers=ana.headers))
    await step(at(5, 9, 5, 10))
    await ok(await sc.close(ana, ids["A"], typification_id=sc.typifications["sale"]))
    await step(at(5, 9, 6))
    await sc.write("5", contact="c-a")
    await step(at(5, 9, 6, 30))
    await sc.write("Muy amable", contact="c-a")
    # B
    await step(at(5, 16, 50))
    ids["B"] = (await sc.write("Buenas", contact="c-b", name="Bruno"))["conversation_id"]
    await step(at(5, 16, 52))
    await ok(await sc.reply(ana, ids["B"]))
    await step(at(5, 16, 54))
    await sc.presence(beto, "online")
    await step(at(5, 16, 55))
    await ok(await sc.http.post(f"/api/v1/conversations/{ids['B']}/transfer",
                                json={"membership_id": beto.membership_id}, headers=ana.headers))
    await step(at(5, 16, 56))
    await ok(await sc.reply(beto, ids["B"]))
    await step(at(6, 8, 30))
    await ok(await sc.close(beto, ids["B"]))
    await step(at(6, 8, 31))
    await sc.write("2", contact="c-b")
    # C
    await step(at(9, 16))
    await sc.presence(ana, "away")
    await sc.presence(beto, "offline")
    await step(at(9, 16, 30))
    ids["C"] = (await sc.write("¿Siguen ahí?", contact="c-c", name="Carla"))["conversation_id"]
    # D
    await step(at(11, 23, 59, 30))
    ids["D"] = (await sc.write("Hola de noche", contact="c-d", name="Diego"))["conversation_id"]
    # E
    await step(at(12, 0, 0, 10))
    ids["E"] = (await sc.write("Madrugada", contact="c-e", name="Elena"))["conversation_id"]
    await step(at(12, 0, 10))
    await ok(await sc.close(sc.supervisor, ids["D"]))
    await step(at(12, 8))
    await sc.presence(ana, "online")
    await worker.run_due()
    await step(at(12, 8, 0, 30))
    await ok(await sc.reply(ana, ids["C"]))
    await ok(await sc.http.post(f"/api/v1/conversations/{ids['C']}/stage", json={"stage_id": stages["Contacto"]},
                                headers=ana.headers))
    await step(at(12, 8, 1))
    await ok(await sc.reply(ana, ids["E"]))
    await ok(await sc.http.post(f"/api/v1/conversations/{ids['E']}/stage", json={"stage_id": stages["Oferta"]},
                                headers=ana.headers))
    await step(at(12, 8, 10))
    await ok(await sc.close(ana, ids["C"]))
    await step(at(12, 8, 20))
    await ok(await sc.close(ana, ids["E"], typification_id=contado_id))
    await step(at(12, 9))
    return World(sc=sc, ana=ana, beto=beto, ids=ids, contado_id=contado_id, stages=stages)


async def _stages(sc: Scenario) -> list[dict[str, object]]:
    from sqlalchemy import select

    from atiende.campaigns.models import Campaign
    from atiende.catalog.models import FunnelStage

    async with sc.database.session() as session:
        campaign = await session.get(Campaign, sc.campaign_id)
        rows = (await session.scalars(select(FunnelStage).where(FunnelStage.funnel_id == campaign.funnel_id))).all()
        return [{"name": r.name, "id": r.id} for r in rows]
