"""The send's chart over time over HTTP: given recipients that were sent, delivered, read, failed
and replied at known times, each milestone is counted in its bucket (seconds, minutes, local
days of the client's zone), empty buckets in between are zeros, and the route keeps to the
send's client and to admins and supervisors."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from atiende.outbound.models import OutboundRecipient
from atiende.tenancy.models import Client
from tests.channels.fakes.meta import FakeGraph
from tests.factories import Factory
from tests.outbound.helpers import Center, collections_center, debtors_csv

T0 = datetime(2026, 12, 1, 14, 0, 0, tzinfo=UTC)  # 09:00 in Bogotá


@pytest.fixture
async def center(http: httpx.AsyncClient, factory: Factory, graph: FakeGraph) -> Center:
    return await collections_center(http, factory)


async def a_send_with(center: Center, times: dict[int, dict[str, datetime]], count: int = 6) -> int:
    """A send of ``count`` debtors; ``times`` sets, per list row (0-based), its milestone times."""
    send = await center.create()
    assert (await center.upload(send["id"], debtors_csv(count))).status_code == 200
    async with center.scenario.database.session() as session:
        rows = (await session.scalars(select(OutboundRecipient).where(OutboundRecipient.send_id == send["id"])
                                      .order_by(OutboundRecipient.row_number))).all()
        for index, milestones in times.items():
            for name, at in milestones.items():
                setattr(rows[index], f"{name}_at", at)
    return int(send["id"])


async def timeline(center: Center, send_id: int, headers: dict[str, str] | None = None) -> httpx.Response:
    return await center.http.get(f"/api/v1/sends/{send_id}/timeline", headers=headers or center.headers)


def counts(point: dict[str, Any]) -> tuple[int, int, int, int, int]:
    return point["sent"], point["delivered"], point["read"], point["failed"], point["replied"]


async def test_a_short_send_is_counted_second_by_second_with_zeros_in_the_gaps(center: Center) -> None:
    s = timedelta(seconds=1)
    send_id = await a_send_with(center, {
        0: {"sent": T0 + 0.2 * s, "delivered": T0 + 1.1 * s, "read": T0 + 4.9 * s},
        1: {"sent": T0 + 0.7 * s, "delivered": T0 + 1.5 * s, "replied": T0 + 40 * s},
        2: {"sent": T0 + 3.5 * s},
        3: {"failed": T0 + 2 * s},
    })
    response = await timeline(center, send_id)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["bucket_seconds"], body["timezone"]) == (1, "America/Bogota")
    points = body["points"]
    assert len(points) == 41  # 09:00:00 … 09:00:40, every second
    assert points[0]["start"] == "2026-12-01T09:00:00-05:00"
    assert points[-1]["start"] == "2026-12-01T09:00:40-05:00"
    assert counts(points[0]) == (2, 0, 0, 0, 0)
    assert counts(points[1]) == (0, 2, 0, 0, 0)
    assert counts(points[2]) == (0, 0, 0, 1, 0)
    assert counts(points[3]) == (1, 0, 0, 0, 0)
    assert counts(points[4]) == (0, 0, 1, 0, 0)
    assert counts(points[40]) == (0, 0, 0, 0, 1)
    assert all(counts(p) == (0, 0, 0, 0, 0) for p in points[5:40])


async def test_a_send_over_hours_is_counted_in_five_minute_buckets(center: Center) -> None:
    m = timedelta(minutes=1)
    send_id = await a_send_with(center, {
        0: {"sent": T0, "delivered": T0 + 2 * m, "read": T0 + 4 * m + timedelta(seconds=59)},
        1: {"sent": T0 + 1 * m, "delivered": T0 + 5 * m, "read": T0 + 3 * 60 * m},
        2: {"sent": T0 + 2 * m, "failed": T0 + 12 * m},
    })
    body = (await timeline(center, send_id)).json()
    assert body["bucket_seconds"] == 300
    points = body["points"]
    assert len(points) == 37  # 09:00 … 12:00
    assert [p["start"][11:16] for p in points[:3]] == ["09:00", "09:05", "09:10"]
    assert counts(points[0]) == (3, 1, 1, 0, 0)
    assert counts(points[1]) == (0, 1, 0, 0, 0)
    assert counts(points[2]) == (0, 0, 0, 1, 0)
    assert counts(points[36]) == (0, 0, 1, 0, 0)
    assert sum(p["sent"] + p["delivered"] + p["read"] + p["failed"] for p in points[3:36]) == 0


async def test_days_are_the_clients_local_days_across_a_clock_change(center: Center) -> None:
    """Madrid moves to summer time on 29 March 2026: 23:30 on the 20th (+01:00) and 00:30 on the
    31st (+02:00) are 22:30 UTC of the 20th and of the 30th, yet fall on the 20th and the 31st."""
    async with center.scenario.database.session() as session:
        client = await session.get(Client, center.scenario.client_id)
        assert client is not None
        client.timezone = "Europe/Madrid"
    send_id = await a_send_with(center, {
        0: {"sent": datetime(2026, 3, 20, 22, 30, tzinfo=UTC)},
        1: {"sent": datetime(2026, 3, 20, 23, 10, tzinfo=UTC), "replied": datetime(2026, 3, 30, 22, 30, tzinfo=UTC)},
    })
    body = (await timeline(center, send_id)).json()
    assert (body["bucket_seconds"], body["timezone"]) == (86_400, "Europe/Madrid")
    points = body["points"]
    assert [p["start"] for p in (points[0], points[8], points[9], points[-1])] == [
        "2026-03-20T00:00:00+01:00", "2026-03-28T00:00:00+01:00", "2026-03-29T00:00:00+01:00",
        "2026-03-31T00:00:00+02:00"]
    assert len(points) == 12
    assert counts(points[0]) == (1, 0, 0, 0, 0)  # 23:30 on the 20th
    assert counts(points[1]) == (1, 0, 0, 0, 0)  # 00:10 on the 21st
    assert counts(points[-1]) == (0, 0, 0, 0, 1)
    assert all(counts(p) == (0, 0, 0, 0, 0) for p in points[2:-1])


async def test_the_timeline_is_the_sends_clients_and_not_an_agents(
        center: Center, http: httpx.AsyncClient, factory: Factory) -> None:
    send_id = await a_send_with(center, {})
    empty = await timeline(center, send_id)
    assert empty.status_code == 200 and empty.json()["points"] == []  # nothing sent yet

    other = await collections_center(http, factory)
    response = await timeline(center, send_id, headers=other.headers)
    assert response.status_code == 404 and response.json()["code"]
    agent = (await center.scenario.hire(1))[0]
    assert (await timeline(center, send_id, headers=agent.headers)).status_code == 403
    assert (await http.get("/api/v1/sends/0/timeline", headers=center.headers)).status_code == 422
