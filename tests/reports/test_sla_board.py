"""The board's SLA marks: a queued conversation turns amber at 80 % of the low threshold and red
past it; in business hours the clock stops while the schedule is closed."""

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import httpx

from atiende.auth.service import auth_service
from atiende.conversations.supervision import supervision_service
from atiende.reports.sla import SlaState
from atiende.reports.sla_live import board_marks
from tests.conversations.scenario import Scenario, build
from tests.factories import Factory

BOGOTA = ZoneInfo("America/Bogota")
NINE_TO_FIVE = [(d, time(9), time(17)) for d in range(5)]


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 1, day, hour, minute, second, tzinfo=BOGOTA).astimezone(UTC)


async def marks(sc: Scenario) -> dict[int, SlaState]:
    async with sc.database.session() as session:
        token = sc.supervisor.headers["Authorization"].split()[1]
        caller = await auth_service.caller_for_token(session, token, clock=sc.factory.clock)
        now = sc.factory.clock.now()
        board = await supervision_service.board(session, caller, sc.campaign_id, now)
        return {cid: m.state for cid, m in (await board_marks(session, board, now)).items()}


async def test_queued_conversation_goes_amber_then_red(http: httpx.AsyncClient, factory: Factory) -> None:
    sc = await build(http, factory)
    policy = {"campaign_id": sc.campaign_id, "queue_optimal_seconds": 50, "queue_low_seconds": 100,
              "first_response_optimal_seconds": 50, "first_response_low_seconds": 100, "resolution_hours": 4}
    assert (await http.put("/api/v1/reports/sla-policies", json=policy, headers=sc.admin.headers)).status_code == 200
    await sc.travel(at(5, 10))
    conversation_id = (await sc.write("Hola"))["conversation_id"]  # nobody works the campaign: queued
    await sc.travel(at(5, 10, 1, 19))
    assert await marks(sc) == {conversation_id: SlaState.ok}
    await sc.travel(at(5, 10, 1, 20))
    assert await marks(sc) == {conversation_id: SlaState.warning}
    await sc.travel(at(5, 10, 1, 41))
    assert await marks(sc) == {conversation_id: SlaState.breached}


async def test_in_business_hours_friday_evening_waits_until_monday(http: httpx.AsyncClient, factory: Factory) -> None:
    sc = await build(http, factory, bands=NINE_TO_FIVE)
    policy = {"campaign_id": sc.campaign_id, "queue_optimal_seconds": 1800, "queue_low_seconds": 3600,
              "first_response_optimal_seconds": 60, "first_response_low_seconds": 120, "resolution_hours": 4,
              "business_hours": True}
    assert (await http.put("/api/v1/reports/sla-policies", json=policy, headers=sc.admin.headers)).status_code == 200
    await sc.travel(at(9, 16, 30))  # Friday
    conversation_id = (await sc.write("Hola"))["conversation_id"]
    await sc.travel(at(12, 9, 17, 59))  # Monday: 30 min Friday + 17:59 → under 80 % of one hour
    assert await marks(sc) == {conversation_id: SlaState.ok}
    await sc.travel(at(12, 9, 18))
    assert await marks(sc) == {conversation_id: SlaState.warning}
    await sc.travel(at(12, 9, 30, 1))  # due Monday 09:30
    assert await marks(sc) == {conversation_id: SlaState.breached}


async def test_a_queue_breach_is_stored_once_and_announced_on_the_bus(
        http: httpx.AsyncClient, factory: Factory, bus, worker) -> None:  # type: ignore[no-untyped-def]

    from atiende.reports.models import SlaBreach
    from tests.conversations.scenario import drain

    sc = await build(http, factory)
    policy = {"campaign_id": sc.campaign_id, "queue_optimal_seconds": 50, "queue_low_seconds": 100,
              "first_response_optimal_seconds": 50, "first_response_low_seconds": 100, "resolution_hours": 4}
    assert (await http.put("/api/v1/reports/sla-policies", json=policy, headers=sc.admin.headers)).status_code == 200
    await sc.travel(at(5, 10))
    with bus.subscribe(frozenset({"conversation.sla_breached"})) as subscription:
        first = (await sc.write("Hola", contact="c-1"))["conversation_id"]
        await sc.travel(at(5, 10, 0, 30))
        second = (await sc.write("Hola", contact="c-2"))["conversation_id"]
        await sc.travel(at(5, 10, 1, 39))
        await worker.run_due()
        assert drain(subscription) == []
        await sc.travel(at(5, 10, 1, 40))
        await worker.run_due()
        [event] = drain(subscription)
        assert (event.conversation_id, event.target, event.due_at) == (first, "queue", at(5, 10, 1, 40))
        await sc.travel(at(5, 10, 2, 10))
        await worker.run_due()
        await worker.run_due()
        assert [e.conversation_id for e in drain(subscription)] == [second]
    assert await sc.count(SlaBreach) == 2
