"""A search means what it says (issue 13.7): "_" finds names with an underscore and "%" names with
a percent sign, not everything, in every list that searches (one helper, ``kit.search``)."""

import httpx

from atiende.auth.models import Role
from tests.factories import Factory, Tenant


async def names(http: httpx.AsyncClient, tenant: Tenant, path: str, q: str, key: str = "name") -> list[str]:
    answer = await http.get(path, headers=tenant.admin.headers, params={"q": q})
    assert answer.status_code == 200, answer.text
    return sorted(item[key] for item in answer.json()["items"])


async def test_projects_and_campaigns_find_wildcards_literally(http: httpx.AsyncClient, factory: Factory,
                                                               tenant: Tenant) -> None:
    for name in ("Cobranza", "Ventas_2026", "100% en línea", "Back\\office"):
        await factory.project(tenant.client.id, name=name)
    path = "/api/v1/projects"
    assert await names(http, tenant, path, "_") == ["Ventas_2026"]
    assert await names(http, tenant, path, "%") == ["100% en línea"]
    assert await names(http, tenant, path, "\\") == ["Back\\office"]
    assert await names(http, tenant, path, "COBRANZA") == ["Cobranza"]  # still ignores case
    await factory.campaign_using(tenant.client.id, name="Mora_30")  # type: ignore[attr-defined]
    await factory.campaign_using(tenant.client.id, name="Mora 60")  # type: ignore[attr-defined]
    assert await names(http, tenant, "/api/v1/campaigns", "a_3") == ["Mora_30"]


async def test_typifications_find_wildcards_literally_in_name_and_code(http: httpx.AsyncClient,
                                                                       tenant: Tenant) -> None:
    for name, code in (("Venta", "VENTA"), ("Venta cerrada", "VENTA_OK"), ("Sin interés 100%", "NO-INTERES")):
        created = await http.post("/api/v1/typifications", headers=tenant.admin.headers,
                                  json={"client_id": tenant.client.id, "name": name, "code": code})
        assert created.status_code == 201, created.text
    path = "/api/v1/typifications"
    assert await names(http, tenant, path, "_", key="code") == ["VENTA_OK"]
    assert await names(http, tenant, path, "%") == ["Sin interés 100%"]
    assert await names(http, tenant, path, "a c") == ["Venta cerrada"]


async def test_users_and_licenses_find_wildcards_literally(http: httpx.AsyncClient, factory: Factory,
                                                           tenant: Tenant) -> None:
    await factory.person(tenant.client.id, Role.agent, email="ana_lopez@example.com")
    await factory.person(tenant.client.id, Role.agent, email="anamaria@example.com")
    answer = await http.get("/api/v1/memberships", headers=tenant.admin.headers, params={"q": "ana_"})
    assert [m["user"]["email"] for m in answer.json()["items"]] == ["ana_lopez@example.com"]
    everyone = await http.get("/api/v1/memberships", headers=tenant.admin.headers, params={"q": "_"})
    assert [m["user"]["email"] for m in everyone.json()["items"]] == ["ana_lopez@example.com"]
