"""Every metric of the known week (tests/reports/world.py), to the second, through the API.

Hand-computed from the world's timeline; "business" counts only Mon–Fri 08:00–17:00 Bogotá."""

from typing import Any

import httpx
import pytest

from atiende.jobs import Worker
from tests.factories import Factory
from tests.reports.world import World, build_world


@pytest.fixture
async def world(http: httpx.AsyncClient, factory: Factory, worker: Worker) -> World:
    return await build_world(http, factory, worker)


async def get(world: World, what: str, **params: Any) -> Any:
    response = await world.sc.http.get(f"/api/v1/reports/{what}", params=params,
                                       headers=world.sc.supervisor.headers)
    assert response.status_code == 200, response.text
    return response.json()


WEEK = {"date_from": "2026-01-05", "date_to": "2026-01-12"}


def s(count: int, avg: float | None, median: float | None, p90: float | None) -> dict[str, Any]:
    return {"count": count, "avg": avg, "median": median, "p90": p90}


async def test_volume_times_service_level_and_abandonment_to_the_second(world: World) -> None:
    summary = (await get(world, "summary", **WEEK))["current"]
    assert (summary["received"], summary["answered"], summary["closed"], summary["offered"],
            summary["abandoned"]) == (5, 4, 5, 5, 1)
    assert summary["abandon_rate"] == 0.2
    assert summary["service_level"] == 0.4  # A (40 s) and B (0 s) within the default 60 s
    # queue: A 40, B 0, C Fri 16:30→Mon 08:00 = 228600 (business 1800), E 00:00:10→08:00 = 28790 (business 0)
    assert summary["queue_wait"] == {"clock": s(4, 64357.5, 14415.0, 228600.0), "business": s(4, 460.0, 20.0, 1800.0)}
    # first response: A 70, B 120, C 228630 (business 1830), E 28850 (business 60)
    assert summary["first_response"] == {"clock": s(4, 64417.5, 14485.0, 228630.0),
                                         "business": s(4, 520.0, 95.0, 1830.0)}
    # assignments: A/Ana 270, B/Ana 300, B/Beto Mon 16:55→Tue 08:30 = 56100 (business 300+1800), C 600, E 1200
    assert summary["handle_time"] == {"clock": s(5, 11694.0, 600.0, 56100.0), "business": s(5, 894.0, 600.0, 2100.0)}
    # resolution: A 310, B 56400 (business 600+1800), C 229200 (business 2400), D 630 (business 0), E 29990 (1200)
    assert summary["resolution"] == {"clock": s(5, 63306.0, 29990.0, 229200.0),
                                     "business": s(5, 1262.0, 1200.0, 2400.0)}
    assert (summary["csat_average"], summary["csat_response_rate"]) == (3.5, 0.4)
    assert [(r["received"], r["answered"], r["closed"], r["abandoned"]) for r in summary["by_campaign"]] == [
        (5, 4, 5, 1)]


async def test_midnight_in_the_clients_zone_splits_the_days(world: World) -> None:
    """D opened Sunday 23:59:30 Bogotá (Monday 04:59:30 UTC): it belongs to Sunday."""
    sunday = (await get(world, "summary", date_from="2026-01-11", date_to="2026-01-11"))
    assert (sunday["current"]["received"], sunday["current"]["abandoned"]) == (1, 1)
    monday = await get(world, "summary", preset="today")  # the clock is Monday 12 09:00
    assert (monday["current"]["date_from"], monday["current"]["received"]) == ("2026-01-12", 1)
    assert monday["previous"]["date_from"] == "2026-01-11" and monday["previous"]["received"] == 1
    assert (await get(world, "summary", preset="yesterday"))["current"]["received"] == 1
    assert (await get(world, "summary", preset="last_7_days"))["current"]["received"] == 3  # Jan 6–12: C, D, E


async def test_timeseries_and_heatmap_in_the_clients_zone(world: World) -> None:
    week = await get(world, "timeseries", date_from="2026-01-05", date_to="2026-01-11")
    assert week["granularity"] == "day"
    assert [(b["label"], b["received"], b["answered"], b["closed"], b["abandoned"]) for b in week["buckets"]] == [
        ("2026-01-05", 2, 2, 2, 0), ("2026-01-06", 0, 0, 0, 0), ("2026-01-07", 0, 0, 0, 0),
        ("2026-01-08", 0, 0, 0, 0), ("2026-01-09", 1, 1, 1, 0), ("2026-01-10", 0, 0, 0, 0),
        ("2026-01-11", 1, 0, 1, 1)]
    cells = {(d, h): n for d, row in enumerate(week["heatmap"]) for h, n in enumerate(row) if n}
    assert cells == {(0, 9): 1, (0, 16): 1, (4, 16): 1, (6, 23): 1}
    day = await get(world, "timeseries", date_from="2026-01-12", date_to="2026-01-12")
    assert day["granularity"] == "hour" and len(day["buckets"]) == 24
    assert [b["label"] for b in day["buckets"] if b["received"]] == ["00:00"]


async def test_agents_handled_times_transfers_csat_presence_and_occupancy(world: World) -> None:
    rows = {r["name"]: r for r in await get(world, "agents", **WEEK)}
    ana, beto = rows[world.ana.email.split("@")[0]], rows[world.beto.email.split("@")[0]]
    assert (ana["handled"], ana["transfers_in"], ana["transfers_out"], ana["csat_average"]) == (4, 0, 1, 5.0)
    assert ana["handle_time"] == s(4, 592.5, 450.0, 1200.0)
    assert ana["first_response"] == s(4, 64417.5, 14485.0, 228630.0)
    # away Mon 08:00→09:00:40 and Fri 16:00→Mon 08:00; online Mon 09:00:40→Fri 16:00 and Mon 08:00→09:00
    assert (ana["online_seconds"], ana["away_seconds"]) == (370760 + 3600, 3640 + 230400)
    assert ana["busy_seconds"] == 270 + 300 + 1200  # C and E overlap 08:00–08:10
    assert ana["occupancy"] == round(1770 / 374360, 6)
    assert (beto["handled"], beto["transfers_in"], beto["transfers_out"], beto["csat_average"]) == (1, 1, 0, 2.0)
    assert beto["handle_time"] == s(1, 56100.0, 56100.0, 56100.0) and beto["first_response"]["count"] == 0
    # offline Mon 08:00→16:54 and Fri 16:00→Mon 09:00 (the range ends now); online Mon 16:54→Fri 16:00
    assert (beto["online_seconds"], beto["offline_seconds"]) == (342360, 32040 + 234000)
    assert beto["occupancy"] == round(56100 / 342360, 6)
    only_beto = await get(world, "agents", agent_id=world.beto.membership_id, **WEEK)
    assert [r["membership_id"] for r in only_beto] == [world.beto.membership_id]


async def test_endings_by_typification_tree_and_close_reason(world: World) -> None:
    endings = await get(world, "typifications", **WEEK)
    assert endings["closed"] == 5 and endings["untyped"] == 0
    assert endings["by_close_reason"] == {"agent": 4, "supervisor": 1}
    tree = {n["name"]: n for n in endings["tree"]}
    assert (tree["Finalizada por el agente"]["count"], tree["Finalizada por el agente"]["total"]) == (3, 3)
    assert (tree["Venta"]["count"], tree["Venta"]["total"]) == (1, 2)
    assert [(c["name"], c["count"], c["total"]) for c in tree["Venta"]["children"]] == [("Contado", 1, 1)]
    only_sale = await get(world, "summary", typification_id=world.contado_id, **WEEK)
    assert only_sale["current"]["received"] == 1


async def test_csat_rates_distribution_and_text_answers(world: World) -> None:
    csat = await get(world, "csat", **WEEK)
    assert (csat["surveyed"], csat["responded"], csat["response_rate"]) == (5, 2, 0.4)
    assert (csat["average"], csat["satisfied_rate"]) == (3.5, 0.5)
    rating, text = csat["questions"]
    assert rating["distribution"] == {"1": 0, "2": 1, "3": 0, "4": 0, "5": 1} and rating["average"] == 3.5
    assert text["responses"] == 1
    assert [(a["conversation_id"], a["answer"]) for a in csat["text_answers"]] == [(world.ids["A"], "Muy amable")]


async def test_funnel_per_stage_and_conversion(world: World) -> None:
    [funnel] = await get(world, "funnel", **WEEK)
    assert funnel["without_stage"] == 0  # a new conversation starts at the first stage (B and D stay there)
    assert [(r["name"], r["current"], r["reached"], r["conversion"]) for r in funnel["stages"]] == [
        ("Contacto", 3, 5, None), ("Oferta", 1, 2, 0.4), ("Venta", 1, 1, 0.5)]


async def test_sla_in_business_hours_per_campaign(world: World) -> None:
    policy = {"campaign_id": world.sc.campaign_id, "queue_optimal_seconds": 60, "queue_low_seconds": 1800,
              "first_response_optimal_seconds": 60, "first_response_low_seconds": 600, "resolution_hours": 1,
              "business_hours": True}
    put = await world.sc.http.put("/api/v1/reports/sla-policies", json=policy, headers=world.sc.admin.headers)
    assert put.status_code == 200, put.text
    denied = await world.sc.http.put("/api/v1/reports/sla-policies", json=policy, headers=world.sc.supervisor.headers)
    assert denied.status_code == 403
    [row] = await get(world, "sla", **WEEK)
    # queue (business): A 40, B 0, E 0 met; C 1800 low (at the low threshold, not past it)
    assert (row["queue"]["met"], row["queue"]["low"], row["queue"]["breached"]) == (3, 1, 0)
    # first response (business): E 60 met; A 70, B 120 low; C 1830 breached
    assert (row["first_response"]["met"], row["first_response"]["low"], row["first_response"]["breached"]) == (1, 2, 1)
    # resolution within 1 business hour: every one (B and C took 2400 business seconds)
    assert (row["resolution"]["met"], row["resolution"]["breached"]) == (5, 0)
    summary = (await get(world, "summary", **WEEK))["current"]
    assert summary["service_level"] == 0.6  # A, B and E within 60 business seconds; C and D not
    on_the_clock = await world.sc.http.put("/api/v1/reports/sla-policies", json={**policy, "business_hours": False},
                                           headers=world.sc.admin.headers)
    assert on_the_clock.json()["id"] == put.json()["id"]  # one policy per campaign, updated
    [row] = await get(world, "sla", **WEEK)
    # resolution within 1 clock hour: A 310, D 630; B 56400, C 229200, E 29990 breached
    assert (row["resolution"]["met"], row["resolution"]["breached"]) == (2, 3)
    assert (row["queue"]["met"], row["queue"]["low"], row["queue"]["breached"]) == (2, 0, 2)


async def test_the_csv_export_has_one_row_per_conversation_with_every_time(world: World) -> None:
    import csv
    import io

    response = await world.sc.http.get("/api/v1/reports/conversations.csv", params=WEEK,
                                       headers=world.sc.supervisor.headers)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert 'filename="conversaciones_2026-01-05_2026-01-12.csv"' in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text.lstrip("\ufeff"))))
    by_id = {int(r["conversation_id"]): r for r in rows}
    assert sorted(by_id) == sorted(world.ids.values())
    a, b, c = by_id[world.ids["A"]], by_id[world.ids["B"]], by_id[world.ids["C"]]
    assert (a["opened_at"], a["queue_wait_s"], a["first_response_s"], a["handle_time_s"], a["resolution_s"]) == (
        "2026-01-05 09:00:00", "40.0", "70.0", "270.0", "310.0")
    assert (a["typification"], a["funnel_stage"], a["survey:¿Cómo calificas la atención?"],
            a["survey:¿Qué podemos mejorar?"]) == ("Venta", "Venta", "5", "Muy amable")
    assert a["contact_phone"] == "+573001112233"  # supervisors see numbers
    assert (b["agents"].count(">"), b["transfers"], b["resolution_business_s"]) == (1, "1", "2400.0")
    assert (c["queue_wait_s"], c["queue_wait_business_s"]) == ("228600.0", "1800.0")
    assert by_id[world.ids["E"]]["typification"] == "Venta > Contado"
    only_c = await world.sc.http.get("/api/v1/reports/conversations.xlsx", headers=world.sc.admin.headers,
                                     params={**WEEK, "agent_id": world.ana.membership_id})
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(only_c.content), read_only=True).active
    ids = sorted(r[0] for r in list(sheet.iter_rows(values_only=True))[1:])
    assert ids == sorted([world.ids["A"], world.ids["B"], world.ids["C"], world.ids["E"]])


def test_masking_keeps_only_the_last_four_digits() -> None:
    from atiende.reports.exports import mask

    assert mask("+573001112233") == "•••••••••2233" and mask(None) == ""


async def test_per_agent_and_per_typification_exports(world: World) -> None:
    import csv
    import io

    agents = await world.sc.http.get("/api/v1/reports/agents.csv", params=WEEK, headers=world.sc.supervisor.headers)
    rows = {int(r["membership_id"]): r for r in csv.DictReader(io.StringIO(agents.text.lstrip("\ufeff")))}
    assert (rows[world.ana.membership_id]["handled"], rows[world.ana.membership_id]["aht_avg_s"]) == ("4", "592.5")
    assert rows[world.beto.membership_id]["transfers_in"] == "1"
    tree = await world.sc.http.get("/api/v1/reports/typifications.csv", params=WEEK, headers=world.sc.admin.headers)
    lines = [(r["path"], r["count"], r["total"]) for r in csv.DictReader(io.StringIO(tree.text.lstrip("\ufeff")))]
    assert ("Venta", "1", "2") in lines and ("Venta > Contado", "1", "1") in lines


def test_exports_write_formula_text_as_text_and_keep_numbers() -> None:
    """A customer named ``=HYPERLINK(…)`` or a survey answer ``@SUM(…)`` must not run in Excel."""
    from atiende.reports.exports import _csv_line, _guarded

    line = _csv_line(["=HYPERLINK(\"http://x\")", "@SUM(A1)", "-2+3", "+573001112233", "-5", 7, None]).decode()
    assert line.startswith("\"'=HYPERLINK(\"\"http://x\"\")\",'@SUM(A1),'-2+3,+573001112233,-5,7,")
    assert _guarded(["=1+1", 3.5]) == ["'=1+1", 3.5]  # the XLSX rows go through the same guard
