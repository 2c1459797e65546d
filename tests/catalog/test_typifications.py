"""Tipificaciones: disposition codes arranged in a tree, through HTTP."""

from typing import Any

import httpx

from tests.factories import Factory, Tenant, create_campaign_using


async def typify(http: httpx.AsyncClient, tenant: Tenant, name: str, code: str,
                 parent_id: int | None = None) -> dict[str, Any]:
    response = await http.post("/api/v1/typifications", headers=tenant.admin.headers, json={
        "client_id": tenant.client.id, "name": name, "code": code, "parent_id": parent_id})
    assert response.status_code == 201, response.text
    return response.json()


async def test_an_admin_builds_a_tree_of_typifications(http: httpx.AsyncClient, tenant: Tenant) -> None:
    sale = await typify(http, tenant, "Venta", "VENTA")
    closed = await typify(http, tenant, "Venta cerrada", "VENTA.CERRADA", parent_id=sale["id"])
    lost = await typify(http, tenant, "Venta perdida", "VENTA.PERDIDA", parent_id=sale["id"])
    await typify(http, tenant, "Sin interés", "SIN_INTERES")
    assert closed == {"id": closed["id"], "client_id": tenant.client.id, "parent_id": sale["id"],
                      "name": "Venta cerrada", "code": "VENTA.CERRADA", "active": True}
    children = await http.get(f"/api/v1/typifications?parent_id={sale['id']}", headers=tenant.agent.headers)
    assert [t["id"] for t in children.json()["items"]] == [closed["id"], lost["id"]]
    everything = await http.get("/api/v1/typifications?limit=100", headers=tenant.agent.headers)
    tree = {t["code"]: t["parent_id"] for t in everything.json()["items"]}
    assert tree == {"VENTA": None, "VENTA.CERRADA": sale["id"], "VENTA.PERDIDA": sale["id"], "SIN_INTERES": None}
    found = await http.get("/api/v1/typifications?q=perdida", headers=tenant.agent.headers)
    assert [t["code"] for t in found.json()["items"]] == ["VENTA.PERDIDA"]
    by_code = await http.get("/api/v1/typifications?q=sin_int", headers=tenant.agent.headers)
    assert by_code.json()["total"] == 1


async def test_codes_are_unique_within_a_client(http: httpx.AsyncClient, tenant: Tenant,
                                                other_tenant: Tenant) -> None:
    first = await typify(http, tenant, "Venta", "VENTA")
    again = await http.post("/api/v1/typifications", headers=tenant.admin.headers,
                            json={"client_id": tenant.client.id, "name": "Otra venta", "code": "VENTA"})
    assert again.status_code == 409 and again.json()["field"] == "code"
    other = await typify(http, tenant, "Otra", "OTRA")
    clash = await http.patch(f"/api/v1/typifications/{other['id']}", headers=tenant.admin.headers,
                             json={"code": "VENTA"})
    assert clash.status_code == 409 and clash.json()["field"] == "code"
    same = await http.patch(f"/api/v1/typifications/{first['id']}", headers=tenant.admin.headers,
                            json={"code": "VENTA", "name": "Venta nueva"})
    assert same.status_code == 200 and same.json()["name"] == "Venta nueva"
    await typify(http, other_tenant, "Venta", "VENTA")  # another client may use it


async def test_a_parent_must_be_of_the_same_client(http: httpx.AsyncClient, tenant: Tenant,
                                                   other_tenant: Tenant) -> None:
    theirs = await typify(http, other_tenant, "Ajena", "AJENA")
    for parent_id in (theirs["id"], 999_999):
        response = await http.post("/api/v1/typifications", headers=tenant.admin.headers, json={
            "client_id": tenant.client.id, "name": "Hija", "code": "HIJA", "parent_id": parent_id})
        assert response.status_code == 422 and response.json()["field"] == "parent_id"
    mine = await typify(http, tenant, "Mía", "MIA")
    moved = await http.patch(f"/api/v1/typifications/{mine['id']}", headers=tenant.admin.headers,
                             json={"parent_id": theirs["id"]})
    assert moved.status_code == 422 and moved.json()["field"] == "parent_id"
    assert (await http.get("/api/v1/typifications", headers=tenant.admin.headers)).json()["total"] == 1


async def test_a_typification_cannot_go_under_itself_or_its_descendants(http: httpx.AsyncClient,
                                                                        tenant: Tenant) -> None:
    root = await typify(http, tenant, "Raíz", "R")
    child = await typify(http, tenant, "Hija", "R.H", parent_id=root["id"])
    grandchild = await typify(http, tenant, "Nieta", "R.H.N", parent_id=child["id"])
    url = f"/api/v1/typifications/{root['id']}"
    for parent_id in (root["id"], child["id"], grandchild["id"]):
        response = await http.patch(url, headers=tenant.admin.headers, json={"parent_id": parent_id})
        assert response.status_code == 422, response.text
        assert response.json()["field"] == "parent_id"
    assert (await http.get(url, headers=tenant.admin.headers)).json()["parent_id"] is None
    # Moving a branch elsewhere is fine, and parent_id: null brings it back to the top.
    other = await typify(http, tenant, "Otra", "O")
    moved = await http.patch(f"/api/v1/typifications/{child['id']}", headers=tenant.admin.headers,
                             json={"parent_id": other["id"]})
    assert moved.json()["parent_id"] == other["id"]
    top = await http.patch(f"/api/v1/typifications/{child['id']}", headers=tenant.admin.headers,
                           json={"parent_id": None})
    assert top.json()["parent_id"] is None
    renamed = await http.patch(f"/api/v1/typifications/{grandchild['id']}", headers=tenant.admin.headers,
                               json={"name": "Nieta renombrada"})
    assert renamed.json()["parent_id"] == child["id"]  # parent_id not sent: kept


async def test_a_typification_with_children_or_in_a_campaign_is_not_deleted(
        http: httpx.AsyncClient, tenant: Tenant, factory: Factory) -> None:
    parent = await typify(http, tenant, "Cierre", "CIERRE")
    child = await typify(http, tenant, "Cierre por inactividad", "CIERRE.INACTIVIDAD", parent_id=parent["id"])
    refused = await http.delete(f"/api/v1/typifications/{parent['id']}", headers=tenant.admin.headers)
    assert refused.status_code == 409 and "sub-typification" in refused.json()["detail"]
    await create_campaign_using(factory, tenant.client.id, name="Cobranza temprana",
                                typification_ids={"inactivity": child["id"]})
    in_use = await http.delete(f"/api/v1/typifications/{child['id']}", headers=tenant.admin.headers)
    assert in_use.status_code == 409
    assert in_use.json()["campaigns"] == ["Cobranza temprana"] and "Cobranza temprana" in in_use.json()["detail"]
    assert (await http.get(f"/api/v1/typifications/{child['id']}", headers=tenant.admin.headers)).status_code == 200


async def test_bad_typifications_are_refused_naming_the_field(http: httpx.AsyncClient, tenant: Tenant) -> None:
    base = {"client_id": tenant.client.id, "name": "Venta", "code": "VENTA"}
    cases = [({"code": "con espacios"}, "code"), ({"code": ""}, "code"), ({"code": "x" * 61}, "code"),
             ({"code": "VENTA\u0000"}, "code"), ({"name": "x" * 121}, "name"), ({"parent_id": 0}, "parent_id"),
             ({"parent_id": 2**40}, "parent_id"), ({"parent_id": "1"}, "parent_id"), ({"active": 1}, "active")]
    for change, field in cases:
        response = await http.post("/api/v1/typifications", headers=tenant.admin.headers, json={**base, **change})
        assert response.status_code == 422 and response.json()["field"] == field, (change, response.text)
    for query in ("parent_id=0", "parent_id=abc", "parent_id=99999999999"):
        response = await http.get(f"/api/v1/typifications?{query}", headers=tenant.admin.headers)
        assert response.status_code == 422 and response.json()["field"] == "parent_id"
    assert (await http.get("/api/v1/typifications", headers=tenant.admin.headers)).json()["total"] == 0
