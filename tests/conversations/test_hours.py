"""Business hours (tab Horario). The schedule is Mon–Fri 08:00–17:00 in Bogotá (UTC−5) unless a
test says otherwise; times below are local."""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import select

from atiende.campaigns.models import OutOfHoursAction
from atiende.conversations.models import Message
from atiende.jobs import ScheduledJob, Worker
from tests.conversations.scenario import OFFICE, Receiver, Scenario, build
from tests.factories import Factory

BOGOTA = ZoneInfo("America/Bogota")
MESSAGE = "Nuestro horario es de lunes a viernes de 8 a 17."


def at(day: int, hour: int, minute: int = 0, month: int = 1, zone: ZoneInfo = BOGOTA) -> datetime:
    """2026-<month>-<day> hour:minute local time, as UTC."""
    return datetime(2026, month, day, hour, minute, tzinfo=zone).astimezone(UTC)


async def system_messages(sc: Scenario, conversation_id: int) -> list[str]:
    return [m.text for m in await sc.messages(conversation_id) if m.sender == "system"]


async def test_cerrar_closes_at_once_and_sends_the_message_when_enabled(
        http: httpx.AsyncClient, factory: Factory, clock, worker: Worker, receiver: Receiver) -> None:  # type: ignore[no-untyped-def]
    sc = await build(http, factory, bands=OFFICE, action=OutOfHoursAction.close, send_message=True)
    await sc.hire(1)
    await sc.travel(at(10, 10))  # Saturday 10:00
    conversation_id = (await sc.write("¿Están atendiendo?"))["conversation_id"]
    detail = await sc.detail(conversation_id)
    assert (detail["status"], detail["close_reason"], detail["assigned_membership_id"]) == (
        "closed", "out_of_hours", None)
    assert await system_messages(sc, conversation_id) == [MESSAGE]
    await worker.run_due()
    assert [b["text"] for b in receiver.bodies] == [MESSAGE]
    # Writing again starts a new conversation, which is closed (and told) again.
    again = (await sc.write("¿Hola?"))["conversation_id"]
    assert again != conversation_id
    assert (await sc.detail(again))["status"] == "closed"


async def test_no_message_when_enviar_mensaje_is_off(http: httpx.AsyncClient, factory: Factory, clock) -> None:  # type: ignore[no-untyped-def]
    sc = await build(http, factory, bands=OFFICE, action=OutOfHoursAction.close, send_message=False)
    await sc.travel(at(10, 10))
    conversation_id = (await sc.write())["conversation_id"]
    assert (await sc.detail(conversation_id))["status"] == "closed"
    assert await system_messages(sc, conversation_id) == []


async def test_encolar_waits_and_tells_once_then_assigns_in_arrival_order_when_the_schedule_opens(
        http: httpx.AsyncClient, factory: Factory, clock, worker: Worker) -> None:  # type: ignore[no-untyped-def]
    sc = await build(http, factory, bands=OFFICE, action=OutOfHoursAction.queue)
    [ana] = await sc.hire(1, capacity=1)
    await sc.travel(at(5, 6))  # Monday 06:00
    first = (await sc.write("Hola", contact="c-1"))["conversation_id"]
    await sc.travel(at(5, 6, 30))
    await sc.write("¿Hay alguien?", contact="c-1")
    second = (await sc.write("Buenas", contact="c-2"))["conversation_id"]
    assert [c.status for c in await sc.conversations()] == ["queued", "queued"]
    assert await system_messages(sc, first) == [MESSAGE]  # once per conversation, not per message
    assert await system_messages(sc, second) == [MESSAGE]
    await sc.travel(at(5, 7, 59))
    await worker.run_due()
    assert [c.status for c in await sc.conversations()] == ["queued", "queued"]
    await sc.travel(at(5, 8))
    await worker.run_due()
    conversations = await sc.conversations()
    assert [(c.id, c.status, c.assigned_membership_id) for c in conversations] == [
        (first, "assigned", ana.membership_id), (second, "queued", None)]


async def test_at_closing_time_the_queue_gets_the_action_when_aplicar_is_on(
        http: httpx.AsyncClient, factory: Factory, clock, worker: Worker) -> None:  # type: ignore[no-untyped-def]
    sc = await build(http, factory, bands=OFFICE, action=OutOfHoursAction.close, apply_to_queued=True)
    await sc.hire(1, capacity=1)
    await sc.travel(at(5, 16, 50))
    served = (await sc.write(contact="c-1"))["conversation_id"]
    waiting = (await sc.write(contact="c-2"))["conversation_id"]
    await sc.travel(at(5, 17))
    await worker.run_due()
    assert (await sc.detail(waiting))["status"] == "closed"
    assert (await sc.detail(waiting))["close_reason"] == "out_of_hours"
    assert await system_messages(sc, waiting) == [MESSAGE]
    assert (await sc.detail(served))["status"] == "assigned"  # the agent finishes what they serve
    assert await system_messages(sc, served) == []


async def test_encolar_with_aplicar_tells_the_waiting_ones_once_and_keeps_them(
        http: httpx.AsyncClient, factory: Factory, clock, worker: Worker) -> None:  # type: ignore[no-untyped-def]
    sc = await build(http, factory, bands=OFFICE, action=OutOfHoursAction.queue, apply_to_queued=True)
    [ana] = await sc.hire(1, capacity=1)
    await sc.travel(at(5, 16, 50))
    await sc.write(contact="c-1")
    waiting = (await sc.write(contact="c-2"))["conversation_id"]
    await sc.travel(at(5, 17))
    await worker.run_due()
    await sc.travel(at(5, 20))
    await sc.write("¿Siguen ahí?", contact="c-2")  # already told: not again
    assert (await sc.detail(waiting))["status"] == "queued"
    assert await system_messages(sc, waiting) == [MESSAGE]
    await sc.travel(at(6, 8))  # Tuesday opening: still waiting (Ana is full), not told again
    await worker.run_due()
    assert (await sc.detail(waiting))["status"] == "queued"


async def test_without_aplicar_the_queue_is_left_alone_at_closing_and_served_at_opening(
        http: httpx.AsyncClient, factory: Factory, clock, worker: Worker) -> None:  # type: ignore[no-untyped-def]
    sc = await build(http, factory, bands=OFFICE, action=OutOfHoursAction.close, apply_to_queued=False,
                     permissions={"close_without_reply": True})
    [ana] = await sc.hire(1, capacity=1)
    await sc.travel(at(5, 16, 50))
    served = (await sc.write(contact="c-1"))["conversation_id"]
    waiting = (await sc.write(contact="c-2"))["conversation_id"]
    await sc.travel(at(5, 17))
    await worker.run_due()
    assert (await sc.detail(waiting))["status"] == "queued"
    assert await system_messages(sc, waiting) == []
    await sc.travel(at(5, 18))
    assert (await sc.close(ana, served)).status_code == 200  # capacity frees, but the schedule is closed
    assert (await sc.detail(waiting))["status"] == "queued"
    await sc.travel(at(6, 8))
    await worker.run_due()
    assert (await sc.detail(waiting))["assigned_membership_id"] == ana.membership_id


async def test_a_holiday_is_closed_all_day(http: httpx.AsyncClient, factory: Factory, clock) -> None:  # type: ignore[no-untyped-def]
    sc = await build(http, factory, bands=OFFICE, action=OutOfHoursAction.close, holidays=(date(2026, 1, 12),))
    await sc.hire(1)
    await sc.travel(at(12, 10))  # Monday 12 January, a holiday
    assert (await sc.detail((await sc.write(contact="c-1"))["conversation_id"]))["status"] == "closed"
    await sc.travel(at(13, 10))  # the day after: open
    assert (await sc.detail((await sc.write(contact="c-2"))["conversation_id"]))["status"] == "assigned"


async def test_a_band_crossing_midnight_is_open_after_midnight(http: httpx.AsyncClient, factory: Factory,
                                                              clock, worker: Worker) -> None:  # type: ignore[no-untyped-def]
    sc = await build(http, factory, bands=OFFICE, overnight=(4, time(22), time(6)), action=OutOfHoursAction.queue)
    [ana] = await sc.hire(1, capacity=5)
    await sc.travel(at(10, 2))  # Saturday 02:00, inside Friday's 22:00–06:00 band
    open_ = (await sc.write(contact="c-1"))["conversation_id"]
    assert (await sc.detail(open_))["assigned_membership_id"] == ana.membership_id
    await sc.travel(at(10, 6, 30))  # after the band: waits until Monday 08:00
    later = (await sc.write(contact="c-2"))["conversation_id"]
    assert (await sc.detail(later))["status"] == "queued"
    async with sc.database.session() as session:
        job = await session.scalar(select(ScheduledJob).where(ScheduledJob.key == f"hours:campaign:{sc.campaign_id}"))
        assert job is not None and job.due_at == at(12, 8)


async def test_daylight_saving_time_moves_the_utc_instant_of_the_opening(
        http: httpx.AsyncClient, factory: Factory, clock, worker: Worker) -> None:  # type: ignore[no-untyped-def]
    new_york = ZoneInfo("America/New_York")  # clocks go forward on Sunday 8 March 2026
    sc = await build(http, factory, bands=OFFICE, timezone="America/New_York", action=OutOfHoursAction.queue)
    await sc.hire(1)
    await sc.travel(at(6, 18, month=3, zone=new_york))  # Friday 18:00 EST
    waiting = (await sc.write())["conversation_id"]
    await sc.travel(datetime(2026, 3, 9, 11, 59, tzinfo=UTC))  # 07:59 EDT (12:59 would be 08:59 EDT)
    await worker.run_due()
    assert (await sc.detail(waiting))["status"] == "queued"
    await sc.travel(datetime(2026, 3, 9, 12, 0, tzinfo=UTC))  # 08:00 EDT
    await worker.run_due()
    assert (await sc.detail(waiting))["status"] == "assigned"


async def test_a_conversation_being_served_is_not_touched_out_of_hours(http: httpx.AsyncClient, factory: Factory,
                                                                      clock) -> None:  # type: ignore[no-untyped-def]
    sc = await build(http, factory, bands=OFFICE, action=OutOfHoursAction.close)
    [ana] = await sc.hire(1)
    await sc.travel(at(5, 16, 55))
    conversation_id = (await sc.write())["conversation_id"]
    await sc.travel(at(5, 17, 30))
    await sc.write("una cosa más")
    detail = await sc.detail(conversation_id)
    assert (detail["status"], detail["assigned_membership_id"]) == ("assigned", ana.membership_id)
    assert await system_messages(sc, conversation_id) == []
    assert await sc.count(Message, Message.sender == "system") == 0
