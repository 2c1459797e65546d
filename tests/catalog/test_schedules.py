"""Horarios: weekly bands in a time zone, minus holidays, and "is it open now?" — through HTTP."""

from datetime import UTC, datetime
from typing import Any

import httpx

from atiende.clock import FakeClock
from tests.factories import Factory, Tenant, create_campaign_using

WEEKDAYS_8_TO_17 = [{"weekday": d, "start": "08:00", "end": "17:00"} for d in range(5)]


async def create_schedule(http: httpx.AsyncClient, tenant: Tenant, **fields: Any) -> dict[str, Any]:
    body = {"client_id": tenant.client.id, "name": "Oficina", "timezone": "America/Bogota",
            "bands": WEEKDAYS_8_TO_17, **fields}
    response = await http.post("/api/v1/schedules", headers=tenant.admin.headers, json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def status(http: httpx.AsyncClient, tenant: Tenant, schedule_id: int, at: str | None = None) -> dict[str, Any]:
    params = {"at": at} if at else {}
    response = await http.get(f"/api/v1/schedules/{schedule_id}/status", params=params, headers=tenant.agent.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_an_admin_creates_office_hours_with_lunch_break_and_holidays(http: httpx.AsyncClient,
                                                                          tenant: Tenant) -> None:
    bands = [{"weekday": d, "start": s, "end": e} for d in range(5) for s, e in (("08:00", "12:00"),
                                                                                  ("13:00", "17:00"))]
    created = await create_schedule(http, tenant, bands=bands,
                                    holidays=[{"day": "2026-12-25", "name": "Navidad"}, {"day": "2026-01-01"}])
    assert created["timezone"] == "America/Bogota" and created["active"] is True
    assert created["bands"][:2] == [{"weekday": 0, "start": "08:00", "end": "12:00", "overnight": False},
                                    {"weekday": 0, "start": "13:00", "end": "17:00", "overnight": False}]
    assert len(created["bands"]) == 10
    assert created["holidays"] == [{"day": "2026-01-01", "name": ""}, {"day": "2026-12-25", "name": "Navidad"}]
    read = await http.get(f"/api/v1/schedules/{created['id']}", headers=tenant.supervisor.headers)
    assert read.json() == created
    listing = await http.get(f"/api/v1/schedules?client_id={tenant.client.id}&q=ofi", headers=tenant.agent.headers)
    assert [s["id"] for s in listing.json()["items"]] == [created["id"]]


async def test_a_night_shift_crosses_midnight(http: httpx.AsyncClient, tenant: Tenant) -> None:
    created = await create_schedule(http, tenant, bands=[
        {"weekday": 4, "start": "22:00", "end": "06:00", "overnight": True},
        {"weekday": 5, "start": "06:00", "end": "00:00"},  # then all Saturday, until midnight
    ])
    assert created["bands"][0] == {"weekday": 4, "start": "22:00", "end": "06:00", "overnight": True}


async def test_schedule_names_are_unique_per_client(http: httpx.AsyncClient, tenant: Tenant,
                                                    other_tenant: Tenant) -> None:
    await create_schedule(http, tenant)
    again = await http.post("/api/v1/schedules", headers=tenant.admin.headers,
                            json={"client_id": tenant.client.id, "name": "Oficina", "timezone": "UTC"})
    assert again.status_code == 409 and again.json()["field"] == "name"
    await create_schedule(http, other_tenant)


async def test_wrong_bands_time_zones_and_holidays_are_refused_naming_the_field(http: httpx.AsyncClient,
                                                                               tenant: Tenant) -> None:
    base = {"client_id": tenant.client.id, "name": "Horario", "timezone": "America/Bogota"}
    cases: list[tuple[dict[str, Any], str]] = [
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"timezone": "America/Bogota\u0000"}, "timezone"),
        ({"timezone": "x" * 5000}, "timezone"),
        ({"timezone": 5}, "timezone"),
        ({"bands": [{"weekday": 7, "start": "08:00", "end": "17:00"}]}, "bands.0.weekday"),
        ({"bands": [{"weekday": -1, "start": "08:00", "end": "17:00"}]}, "bands.0.weekday"),
        ({"bands": [{"weekday": "1", "start": "08:00", "end": "17:00"}]}, "bands.0.weekday"),
        ({"bands": [{"weekday": 1, "start": "25:00", "end": "26:00"}]}, "bands.0.start"),
        ({"bands": [{"weekday": 1, "start": "8:00", "end": "17:00"}]}, "bands.0.start"),
        ({"bands": [{"weekday": 1, "start": "08:00:30", "end": "17:00"}]}, "bands.0.start"),
        ({"bands": [{"weekday": 1, "start": "08:00", "end": 1700}]}, "bands.0.end"),
        ({"bands": [{"weekday": 1, "start": "08:00"}]}, "bands.0.end"),
        ({"bands": [{"weekday": 1, "start": "08:00", "end": "17:00", "color": "red"}]}, "bands.0.color"),
        ({"bands": [{"weekday": 1, "start": "17:00", "end": "08:00"}]}, "bands.0"),
        ({"bands": [{"weekday": 1, "start": "08:00", "end": "08:00"}]}, "bands.0"),
        ({"bands": [{"weekday": 1, "start": "08:00", "end": "17:00", "overnight": True}]}, "bands.0"),
        ({"bands": [{"weekday": 1, "start": "08:00", "end": "12:00"},
                    {"weekday": 2, "start": "08:00", "end": "12:00"},
                    {"weekday": 1, "start": "11:00", "end": "14:00"}]}, "bands.2"),
        ({"bands": "every day"}, "bands"),
        ({"bands": [{"weekday": 1, "start": "08:00", "end": "09:00"}] * 201}, "bands"),
        ({"holidays": [{"day": "2026-12-25"}, {"day": "2026-12-25", "name": "Otra vez"}]}, "holidays.1.day"),
        ({"holidays": [{"day": "2026-02-30"}]}, "holidays.0.day"),
        ({"holidays": [{"day": 0}]}, "holidays.0.day"),  # not seconds since 1970
        ({"holidays": [{"day": "2026-12-25T00:00:00"}]}, "holidays.0.day"),
        ({"holidays": [{"day": "2026-12-24", "name": "x" * 121}]}, "holidays.0.name"),
        ({"name": "Nul\u0000"}, "name"),
        ({"name": "x" * 100_000}, "name"),
        ({"active": "yes"}, "active"),
    ]
    for change, field in cases:
        response = await http.post("/api/v1/schedules", headers=tenant.admin.headers, json={**base, **change})
        assert response.status_code == 422, (change, response.text)
        assert response.json()["field"] == field, (change, response.json())
    listing = await http.get("/api/v1/schedules", headers=tenant.admin.headers)
    assert listing.json()["total"] == 0


async def test_an_overlap_names_both_bands(http: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await http.post("/api/v1/schedules", headers=tenant.admin.headers, json={
        "client_id": tenant.client.id, "name": "Doble", "timezone": "America/Bogota",
        "bands": [{"weekday": 6, "start": "22:00", "end": "02:00", "overnight": True},
                  {"weekday": 0, "start": "01:00", "end": "05:00"}]})
    assert response.status_code == 422
    error = response.json()
    assert error["field"] == "bands.1" and error["overlapping"] == ["bands.0", "bands.1"]
    assert "Band 1 (Sunday 22:00–02:00, overnight) overlaps band 2 (Monday 01:00–05:00)" == error["detail"]


async def test_editing_replaces_bands_and_holidays_and_bad_edits_change_nothing(http: httpx.AsyncClient,
                                                                                tenant: Tenant) -> None:
    created = await create_schedule(http, tenant, holidays=[{"day": "2026-12-25", "name": "Navidad"}])
    url = f"/api/v1/schedules/{created['id']}"
    saturday = [{"weekday": 5, "start": "09:00", "end": "13:00"}]
    patched = await http.patch(url, headers=tenant.admin.headers, json={
        "bands": saturday, "holidays": [{"day": "2026-12-25", "name": "Nochebuena y Navidad"}],
        "timezone": "America/Lima"})
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert body["bands"] == [{**saturday[0], "overnight": False}] and body["timezone"] == "America/Lima"
    assert body["holidays"] == [{"day": "2026-12-25", "name": "Nochebuena y Navidad"}]
    renamed = await http.patch(url, headers=tenant.admin.headers, json={"name": "Sábados"})
    assert renamed.json()["bands"] == body["bands"]  # bands not sent: kept
    for change in ({"bands": [{"weekday": 1, "start": "17:00", "end": "08:00"}]}, {"timezone": "Mars/Olympus"},
                   {"holidays": [{"day": "2027-01-01"}, {"day": "2027-01-01"}]}, {"name": ""}):
        refused = await http.patch(url, headers=tenant.admin.headers, json=change)
        assert refused.status_code == 422, (change, refused.text)
    assert (await http.get(url, headers=tenant.admin.headers)).json() == renamed.json()
    emptied = await http.patch(url, headers=tenant.admin.headers, json={"bands": [], "holidays": []})
    assert emptied.json()["bands"] == [] and emptied.json()["holidays"] == []


async def test_a_schedule_used_by_campaigns_is_not_deleted(http: httpx.AsyncClient, tenant: Tenant,
                                                          factory: Factory) -> None:
    schedule = await create_schedule(http, tenant)
    for name in ("Recordatorios de pago", "Cobranza temprana"):
        await create_campaign_using(factory, tenant.client.id, name=name, schedule_id=schedule["id"])
    refused = await http.delete(f"/api/v1/schedules/{schedule['id']}", headers=tenant.admin.headers)
    assert refused.status_code == 409
    assert refused.json()["campaigns"] == ["Cobranza temprana", "Recordatorios de pago"]
    assert refused.json()["detail"] == ('The schedule "Oficina" is used by the campaign(s) "Cobranza temprana", '
                                        '"Recordatorios de pago"; change or delete them first')
    assert (await http.get(f"/api/v1/schedules/{schedule['id']}", headers=tenant.admin.headers)).status_code == 200


# --- Is it open? --------------------------------------------------------------------------------

async def test_office_hours_in_bogota_on_a_saturday_morning(http: httpx.AsyncClient, tenant: Tenant) -> None:
    """Given Mon–Fri 08:00–17:00 America/Bogota, at Saturday 10:00 it is closed, and it opens
    again on Monday at 08:00, which is 13:00 UTC."""
    schedule = await create_schedule(http, tenant)
    answer = await status(http, tenant, schedule["id"], "2026-01-10T10:00:00-05:00")
    assert answer == {"open": False, "next_change": "2026-01-12T08:00:00-05:00"}
    assert datetime.fromisoformat(answer["next_change"]).astimezone(UTC) == datetime(2026, 1, 12, 13, 0, tzinfo=UTC)


async def test_during_office_hours_it_is_open_until_17(http: httpx.AsyncClient, tenant: Tenant) -> None:
    schedule = await create_schedule(http, tenant)
    # Wednesday 15:30 in Bogota, asked in UTC: same instant, same answer.
    assert await status(http, tenant, schedule["id"], "2026-01-07T20:30:00Z") == {
        "open": True, "next_change": "2026-01-07T17:00:00-05:00"}
    # 17:00 itself is already closed (a band ends before its end time); it opens Thursday 08:00.
    assert await status(http, tenant, schedule["id"], "2026-01-07T17:00:00-05:00") == {
        "open": False, "next_change": "2026-01-08T08:00:00-05:00"}


async def test_without_at_the_answer_is_for_now(http: httpx.AsyncClient, tenant: Tenant, clock: FakeClock) -> None:
    schedule = await create_schedule(http, tenant)
    clock.set(datetime(2026, 1, 5, 14, 0, tzinfo=UTC))  # Monday 09:00 in Bogota
    assert await status(http, tenant, schedule["id"]) == {"open": True, "next_change": "2026-01-05T17:00:00-05:00"}
    clock.set(datetime(2026, 1, 5, 23, 0, tzinfo=UTC))  # Monday 18:00 in Bogota
    assert await status(http, tenant, schedule["id"]) == {"open": False, "next_change": "2026-01-06T08:00:00-05:00"}


async def test_a_holiday_closes_the_whole_day(http: httpx.AsyncClient, tenant: Tenant) -> None:
    """Monday 12 January 2026 is a holiday in Colombia (Reyes): at 10:00 the office is closed and
    opens on Tuesday at 08:00; on the Friday before, it closes at 17:00 until Tuesday."""
    schedule = await create_schedule(http, tenant, holidays=[{"day": "2026-01-12", "name": "Reyes Magos"}])
    assert await status(http, tenant, schedule["id"], "2026-01-12T10:00:00-05:00") == {
        "open": False, "next_change": "2026-01-13T08:00:00-05:00"}
    assert await status(http, tenant, schedule["id"], "2026-01-09T18:00:00-05:00") == {
        "open": False, "next_change": "2026-01-13T08:00:00-05:00"}


async def test_a_night_band_stays_open_past_midnight(http: httpx.AsyncClient, tenant: Tenant) -> None:
    """Friday 22:00 to 06:00: at Saturday 03:00 it is still open, and it closes at 06:00."""
    schedule = await create_schedule(http, tenant, bands=[
        {"weekday": 4, "start": "22:00", "end": "06:00", "overnight": True}])
    assert await status(http, tenant, schedule["id"], "2026-01-10T03:00:00-05:00") == {
        "open": True, "next_change": "2026-01-10T06:00:00-05:00"}
    assert await status(http, tenant, schedule["id"], "2026-01-09T21:59:00-05:00") == {
        "open": False, "next_change": "2026-01-09T22:00:00-05:00"}


async def test_sunday_night_wraps_into_monday(http: httpx.AsyncClient, tenant: Tenant) -> None:
    """Sunday 20:00 to Monday 02:00: Monday 01:00 is open (the band began the day before, at the
    end of the week), and it closes at 02:00."""
    schedule = await create_schedule(http, tenant, bands=[
        {"weekday": 6, "start": "20:00", "end": "02:00", "overnight": True}])
    assert await status(http, tenant, schedule["id"], "2026-01-12T01:00:00-05:00") == {
        "open": True, "next_change": "2026-01-12T02:00:00-05:00"}
    assert await status(http, tenant, schedule["id"], "2026-01-12T02:00:00-05:00") == {
        "open": False, "next_change": "2026-01-18T20:00:00-05:00"}


async def test_opening_hours_follow_the_clocks_when_madrid_moves_to_summer_time(http: httpx.AsyncClient,
                                                                               tenant: Tenant) -> None:
    """Madrid, Mon–Fri 09:00–18:00. The clocks go forward on Sunday 29 March 2026. Closed on
    Friday evening, it opens on Monday at 09:00 local time: 07:00 UTC, no longer 08:00 UTC."""
    schedule = await create_schedule(http, tenant, timezone="Europe/Madrid",
                                     bands=[{"weekday": d, "start": "09:00", "end": "18:00"} for d in range(5)])
    answer = await status(http, tenant, schedule["id"], "2026-03-27T18:30:00+01:00")
    assert answer == {"open": False, "next_change": "2026-03-30T09:00:00+02:00"}
    assert datetime.fromisoformat(answer["next_change"]).astimezone(UTC).hour == 7


async def test_a_band_starting_in_the_skipped_hour_opens_when_the_clocks_jump(http: httpx.AsyncClient,
                                                                             tenant: Tenant) -> None:
    """New York skips 02:00–03:00 on 8 March 2026. A Sunday band from 02:30 opens at the jump:
    03:00 EDT (07:00 UTC)."""
    schedule = await create_schedule(http, tenant, timezone="America/New_York",
                                     bands=[{"weekday": 6, "start": "02:30", "end": "10:00"}])
    assert await status(http, tenant, schedule["id"], "2026-03-08T00:00:00-05:00") == {
        "open": False, "next_change": "2026-03-08T03:00:00-04:00"}


async def test_a_schedule_without_bands_never_opens(http: httpx.AsyncClient, tenant: Tenant) -> None:
    schedule = await create_schedule(http, tenant, bands=[])
    assert await status(http, tenant, schedule["id"], "2026-01-07T12:00:00Z") == {"open": False, "next_change": None}


async def test_the_instant_asked_must_carry_its_offset(http: httpx.AsyncClient, tenant: Tenant,
                                                       other_tenant: Tenant) -> None:
    schedule = await create_schedule(http, tenant)
    url = f"/api/v1/schedules/{schedule['id']}/status"
    for at in ("2026-01-10T10:00:00", "mañana", "2026-13-01T00:00:00Z", "9999-12-31T23:59:00-05:00",
               "0001-01-01T00:00:00+05:00", "x" * 5000, "2026-01-10T10:00:00\u0000Z"):
        response = await http.get(url, params={"at": at}, headers=tenant.agent.headers)
        assert response.status_code == 422, (at, response.text)
        assert response.json()["field"] == "at"
    theirs = await http.get(url, params={"at": "2026-01-10T10:00:00Z"}, headers=other_tenant.admin.headers)
    assert theirs.status_code == 404
