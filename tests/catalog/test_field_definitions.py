"""Campos dinámicos: the extra data agents fill in, with a type and type-specific validation."""

from typing import Any

import httpx

from tests.factories import Factory, Tenant, create_campaign_using


async def define(http: httpx.AsyncClient, tenant: Tenant, **fields: Any) -> dict[str, Any]:
    response = await http.post("/api/v1/field-definitions", headers=tenant.admin.headers,
                               json={"client_id": tenant.client.id, **fields})
    assert response.status_code == 201, response.text
    return response.json()


async def test_an_admin_defines_fields_of_every_type(http: httpx.AsyncClient, tenant: Tenant) -> None:
    document = await define(http, tenant, key="documento", label="Número de documento", type="text",
                            validation={"min_length": 5, "max_length": 15, "pattern": "[0-9]+"})
    assert document == {"id": document["id"], "client_id": tenant.client.id, "key": "documento",
                        "label": "Número de documento", "type": "text", "options": [],
                        "validation": {"min_length": 5, "max_length": 15, "pattern": "[0-9]+"}, "active": True}
    amount = await define(http, tenant, key="monto", label="Monto", type="number", validation={"min": 0})
    assert amount["validation"] == {"min": 0}
    due = await define(http, tenant, key="vence", label="Vence", type="date",
                       validation={"min": "2026-01-01", "max": "2026-12-31"})
    assert due["validation"] == {"min": "2026-01-01", "max": "2026-12-31"}
    reason = await define(http, tenant, key="motivo", label="Motivo", type="select",
                          options=["Consulta", " Reclamo ", "Pago"])
    assert reason["options"] == ["Consulta", "Reclamo", "Pago"] and reason["validation"] == {}
    for kind in ("boolean", "email", "phone"):
        plain = await define(http, tenant, key=f"campo_{kind}", label=kind, type=kind)
        assert plain["validation"] == {} and plain["options"] == []
    listing = await http.get("/api/v1/field-definitions?q=mot", headers=tenant.agent.headers)
    assert [f["key"] for f in listing.json()["items"]] == ["motivo"]


async def test_keys_are_unique_within_a_client(http: httpx.AsyncClient, tenant: Tenant,
                                               other_tenant: Tenant) -> None:
    await define(http, tenant, key="cedula", label="Cédula", type="text")
    again = await http.post("/api/v1/field-definitions", headers=tenant.admin.headers,
                            json={"client_id": tenant.client.id, "key": "cedula", "label": "Otra", "type": "text"})
    assert again.status_code == 409 and again.json()["field"] == "key"
    await define(http, other_tenant, key="cedula", label="Cédula", type="text")


async def test_validation_and_options_must_fit_the_type(http: httpx.AsyncClient, tenant: Tenant) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"type": "select"}, "options"),
        ({"type": "select", "options": []}, "options"),
        ({"type": "select", "options": ["Sí", "No", "sí"]}, "options.2"),
        ({"type": "select", "options": ["Sí", ""]}, "options.1"),
        ({"type": "select", "options": ["x" * 121]}, "options.0"),
        ({"type": "select", "options": ["ok"] * 201}, "options"),
        ({"type": "text", "options": ["a"]}, "options"),
        ({"type": "text", "validation": {"min": 1}}, "validation.min"),
        ({"type": "text", "validation": {"min_length": 10, "max_length": 5}}, "validation.max_length"),
        ({"type": "text", "validation": {"min_length": -1}}, "validation.min_length"),
        ({"type": "text", "validation": {"max_length": "5"}}, "validation.max_length"),
        ({"type": "text", "validation": {"pattern": "[0-9"}}, "validation.pattern"),
        ({"type": "text", "validation": {"pattern": "(a+)+$"}}, "validation.pattern"),
        ({"type": "text", "validation": {"pattern": "(a)\\1"}}, "validation.pattern"),
        ({"type": "text", "validation": {"pattern": "a\u0000"}}, "validation.pattern"),
        ({"type": "number", "validation": {"min": 10, "max": 1}}, "validation.max"),
        ({"type": "number", "validation": {"min": "diez"}}, "validation.min"),
        ({"type": "number", "validation": {"min": "10"}}, "validation.min"),
        ({"type": "number", "validation": {"min": True}}, "validation.min"),
        ({"type": "date", "validation": {"min": 0}}, "validation.min"),
        ({"type": "number", "validation": {"max": 1e300}}, "validation.max"),
        ({"type": "number", "validation": {"min_length": 1}}, "validation.min_length"),
        ({"type": "date", "validation": {"min": "2026-12-31", "max": "2026-01-01"}}, "validation.max"),
        ({"type": "date", "validation": {"min": "mañana"}}, "validation.min"),
        ({"type": "boolean", "validation": {"min": 1}}, "validation.min"),
        ({"type": "email", "validation": {"pattern": ".*"}}, "validation.pattern"),
        ({"type": "phone", "validation": "strict"}, "validation"),
        ({"type": "color"}, "type"),
        ({"type": "text", "key": "con espacio"}, "key"),
        ({"type": "text", "label": ""}, "label"),
        ({"type": "text", "label": "x" * 10_000}, "label"),
    ]
    for change, field in cases:
        body = {"client_id": tenant.client.id, "key": "campo", "label": "Campo", **change}
        response = await http.post("/api/v1/field-definitions", headers=tenant.admin.headers, json=body)
        assert response.status_code == 422, (change, response.text)
        assert response.json()["field"] == field, (change, response.json())
    assert (await http.get("/api/v1/field-definitions", headers=tenant.admin.headers)).json()["total"] == 0


async def test_editing_a_field_keeps_its_type(http: httpx.AsyncClient, tenant: Tenant) -> None:
    reason = await define(http, tenant, key="motivo", label="Motivo", type="select", options=["Consulta", "Pago"])
    url = f"/api/v1/field-definitions/{reason['id']}"
    more = await http.patch(url, headers=tenant.admin.headers, json={"options": ["Consulta", "Pago", "Reclamo"]})
    assert more.status_code == 200 and more.json()["options"] == ["Consulta", "Pago", "Reclamo"]
    assert (await http.patch(url, headers=tenant.admin.headers, json={"options": []})).json()["field"] == "options"
    retype = await http.patch(url, headers=tenant.admin.headers, json={"type": "text"})
    assert retype.status_code == 422 and retype.json()["field"] == "type"

    document = await define(http, tenant, key="documento", label="Documento", type="text")
    url = f"/api/v1/field-definitions/{document['id']}"
    alone = await http.patch(url, headers=tenant.admin.headers, json={"validation": {"max_length": 12}})
    assert alone.status_code == 422 and alone.json()["field"] == "validation"
    assert "type" in alone.json()["detail"]
    ruled = await http.patch(url, headers=tenant.admin.headers,
                             json={"type": "text", "validation": {"max_length": 12}, "label": "Cédula"})
    assert ruled.status_code == 200, ruled.text
    assert ruled.json()["validation"] == {"max_length": 12} and ruled.json()["label"] == "Cédula"
    wrong = await http.patch(url, headers=tenant.admin.headers, json={"type": "text", "validation": {"max": 3}})
    assert wrong.status_code == 422 and wrong.json()["field"] == "validation.max"
    options = await http.patch(url, headers=tenant.admin.headers, json={"options": ["a"]})
    assert options.status_code == 422 and options.json()["field"] == "options"
    cleared = await http.patch(url, headers=tenant.admin.headers, json={"validation": None})
    assert cleared.json()["validation"] == {}
    assert (await http.get(url, headers=tenant.admin.headers)).json()["label"] == "Cédula"


async def test_a_field_used_by_a_campaign_is_not_deleted(http: httpx.AsyncClient, tenant: Tenant,
                                                         factory: Factory) -> None:
    field = await define(http, tenant, key="documento", label="Documento", type="text")
    spare = await define(http, tenant, key="sobrante", label="Sobrante", type="text")
    await create_campaign_using(factory, tenant.client.id, name="Recordatorios de pago",
                                field_definition_ids=(field["id"],))
    refused = await http.delete(f"/api/v1/field-definitions/{field['id']}", headers=tenant.admin.headers)
    assert refused.status_code == 409 and refused.json()["campaigns"] == ["Recordatorios de pago"]
    assert (await http.delete(f"/api/v1/field-definitions/{spare['id']}",
                              headers=tenant.admin.headers)).status_code == 204
