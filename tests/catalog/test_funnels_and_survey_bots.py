"""Embudos (ordered stages) and bots de encuesta (ordered questions), through HTTP."""

from typing import Any

import httpx

from tests.factories import Factory, Tenant, create_campaign_using

QUESTIONS = [{"kind": "rating", "text": "Del 1 al 5, ¿cómo te atendimos?"},
             {"kind": "yes_no", "text": "¿Resolvimos tu consulta?"},
             {"kind": "text", "text": "¿Qué podemos mejorar?"}]


async def post(http: httpx.AsyncClient, tenant: Tenant, path: str, **fields: Any) -> dict[str, Any]:
    response = await http.post(path, headers=tenant.admin.headers, json={"client_id": tenant.client.id, **fields})
    assert response.status_code == 201, response.text
    return response.json()


async def test_stages_keep_the_order_they_are_given(http: httpx.AsyncClient, tenant: Tenant) -> None:
    funnel = await post(http, tenant, "/api/v1/funnels", name="Ventas",
                        stages=[{"name": "Nuevo"}, {"name": "Interesado"}, {"name": "Cerrado"}])
    assert [(s["position"], s["name"]) for s in funnel["stages"]] == [(0, "Nuevo"), (1, "Interesado"), (2, "Cerrado")]
    new, interested, closed = (s["id"] for s in funnel["stages"])
    # Reorder, rename one, add one and drop one: stages sent with their id keep it.
    url = f"/api/v1/funnels/{funnel['id']}"
    patched = await http.patch(url, headers=tenant.admin.headers, json={"stages": [
        {"id": interested, "name": "Interesada"}, {"id": new, "name": "Nuevo"}, {"name": "Propuesta"}]})
    assert patched.status_code == 200, patched.text
    stages = patched.json()["stages"]
    assert [(s["id"], s["position"], s["name"]) for s in stages[:2]] == [(interested, 0, "Interesada"),
                                                                          (new, 1, "Nuevo")]
    assert stages[2]["name"] == "Propuesta" and stages[2]["id"] not in (new, interested, closed)
    assert (await http.get(url, headers=tenant.agent.headers)).json()["stages"] == stages


async def test_a_funnel_needs_distinct_stages(http: httpx.AsyncClient, tenant: Tenant) -> None:
    other = await post(http, tenant, "/api/v1/funnels", name="Otro", stages=[{"name": "Único"}])
    cases: list[tuple[dict[str, Any], str]] = [
        ({"stages": []}, "stages"),
        ({}, "stages"),
        ({"stages": [{"name": "Nuevo"}, {"name": "nuevo"}]}, "stages.1.name"),
        ({"stages": [{"name": ""}]}, "stages.0.name"),
        ({"stages": [{"name": "x"}] * 51}, "stages"),
        ({"stages": ["Nuevo"]}, "stages.0"),
        ({"stages": [{"name": "Nuevo", "id": other["stages"][0]["id"]}]}, "stages.0.id"),
        ({"stages": [{"name": "Nuevo"}], "name": "Otro"}, "name"),
    ]
    for change, field in cases:
        body = {"client_id": tenant.client.id, "name": "Ventas", **change}
        response = await http.post("/api/v1/funnels", headers=tenant.admin.headers, json=body)
        assert response.status_code in (409, 422), (change, response.text)
        assert response.json()["field"] == field, (change, response.json())
    stage_id = other["stages"][0]["id"]
    twice = await http.patch(f"/api/v1/funnels/{other['id']}", headers=tenant.admin.headers, json={
        "stages": [{"id": stage_id, "name": "A"}, {"id": stage_id, "name": "B"}]})
    assert twice.status_code == 422 and twice.json()["field"] == "stages.1.id"
    assert (await http.get("/api/v1/funnels", headers=tenant.admin.headers)).json()["total"] == 1


async def test_a_survey_asks_its_questions_in_order_and_closes_with_a_message(http: httpx.AsyncClient,
                                                                             tenant: Tenant) -> None:
    bot = await post(http, tenant, "/api/v1/survey-bots", name="Satisfacción", questions=QUESTIONS,
                     closing_message="¡Gracias por tu tiempo!", timeout_minutes=60)
    assert [(q["position"], q["kind"]) for q in bot["questions"]] == [(0, "rating"), (1, "yes_no"), (2, "text")]
    assert bot["closing_message"] == "¡Gracias por tu tiempo!" and bot["timeout_minutes"] == 60
    url = f"/api/v1/survey-bots/{bot['id']}"
    rating = bot["questions"][0]
    patched = await http.patch(url, headers=tenant.admin.headers, json={
        "questions": [{"id": rating["id"], "kind": "rating", "text": "¿Cómo calificas la atención?"}],
        "timeout_minutes": 10080})
    assert patched.status_code == 200, patched.text
    assert patched.json()["questions"] == [{"id": rating["id"], "position": 0, "kind": "rating",
                                            "text": "¿Cómo calificas la atención?"}]
    assert patched.json()["closing_message"] == "¡Gracias por tu tiempo!"


async def test_bad_surveys_are_refused_naming_the_field(http: httpx.AsyncClient, tenant: Tenant) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"questions": []}, "questions"),
        ({"questions": [{"kind": "stars", "text": "¿?"}]}, "questions.0.kind"),
        ({"questions": [{"kind": "rating", "text": ""}]}, "questions.0.text"),
        ({"questions": [{"kind": "rating", "text": "x" * 1001}]}, "questions.0.text"),
        ({"questions": [{"kind": "rating", "text": "¿?", "id": 123}]}, "questions.0.id"),
        ({"timeout_minutes": 0}, "timeout_minutes"),
        ({"timeout_minutes": 10081}, "timeout_minutes"),
        ({"timeout_minutes": "30"}, "timeout_minutes"),
        ({"closing_message": "x" * 5000}, "closing_message"),
        ({"closing_message": "Gracias\u0000"}, "closing_message"),
    ]
    for change, field in cases:
        body = {"client_id": tenant.client.id, "name": "Encuesta", "questions": QUESTIONS, **change}
        response = await http.post("/api/v1/survey-bots", headers=tenant.admin.headers, json=body)
        assert response.status_code == 422, (change, response.text)
        assert response.json()["field"] == field, (change, response.json())
    assert (await http.get("/api/v1/survey-bots", headers=tenant.admin.headers)).json()["total"] == 0


async def test_funnels_and_surveys_of_a_campaign_are_not_deleted(http: httpx.AsyncClient, tenant: Tenant,
                                                                 factory: Factory) -> None:
    funnel = await post(http, tenant, "/api/v1/funnels", name="Ventas", stages=[{"name": "Nuevo"}])
    bot = await post(http, tenant, "/api/v1/survey-bots", name="CSAT", questions=QUESTIONS[:1])
    await create_campaign_using(factory, tenant.client.id, name="Ventas hogar", funnel_id=funnel["id"],
                                survey_bot_id=bot["id"], active=False)
    for path in (f"/api/v1/funnels/{funnel['id']}", f"/api/v1/survey-bots/{bot['id']}"):
        refused = await http.delete(path, headers=tenant.admin.headers)
        assert refused.status_code == 409 and refused.json()["campaigns"] == ["Ventas hogar"], refused.text
