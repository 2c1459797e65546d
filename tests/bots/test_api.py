"""Attention bots over REST: the bot and its menu, the knowledge base with its rules, import and
export as CSV/XLSX, *Probar bot*, the campaign's bot settings, and tenant isolation."""

import io

import httpx
from openpyxl import Workbook, load_workbook

from tests.bots.helpers import ENTRIES, make_bot, set_menu
from tests.factories import Factory, Tenant


def base(bot: dict) -> str:
    return f"/api/v1/attention-bots/{bot['id']}"


async def test_a_bot_with_entries_and_a_menu_reads_back(http: httpx.AsyncClient, tenant: Tenant) -> None:
    bot = await make_bot(http, tenant.admin, tenant.client.id)
    await set_menu(http, tenant.admin, bot)
    read = (await http.get(base(bot), headers=tenant.supervisor.headers)).json()
    assert read["name"] == "Asistente" and read["active"] is True
    assert [o["label"] for o in read["menu"]] == ["Pagos", "Horario", "Hablar con un asesor"]
    assert read["menu"][0]["options"][1]["entry_id"] == bot["entry_ids"][3]
    assert read["revision"] > bot["revision"]  # every change tells the live matchers to rebuild
    page = (await http.get(f"{base(bot)}/entries", params={"category": "Pagos"}, headers=tenant.admin.headers)).json()
    assert page["total"] == 2 and [e["question"] for e in page["items"]] == [ENTRIES[0]["question"],
                                                                            ENTRIES[1]["question"]]


async def test_bad_entries_are_refused_naming_the_field(http: httpx.AsyncClient, tenant: Tenant) -> None:
    bot = await make_bot(http, tenant.admin, tenant.client.id)
    h = tenant.admin.headers
    empty = await http.post(f"{base(bot)}/entries", json={"question": "¿Hay parqueadero?", "answer": "  "}, headers=h)
    assert empty.status_code == 422 and "answer" in str(empty.json())
    duplicate = await http.post(f"{base(bot)}/entries", headers=h, json={
        "question": "¿Tienen sede en Medellín?", "phrasings": ["MEDIOS DE PAGO"], "answer": "No."})
    assert duplicate.status_code == 409
    assert duplicate.json()["field"] == "phrasings.0" and duplicate.json()["entry_id"] == bot["entry_ids"][0]
    too_many = await http.post(f"{base(bot)}/entries", headers=h, json={
        "question": "¿Algo más?", "answer": "Sí.", "buttons": ["a", "b", "c", "d"]})
    assert too_many.status_code == 422 and "buttons" in str(too_many.json())
    bad_link = await http.post(f"{base(bot)}/entries", headers=h, json={
        "question": "¿Enlace?", "answer": "Sí.", "link": "javascript:alert(1)"})
    assert bad_link.status_code == 422


async def test_a_menu_option_must_point_to_an_entry_of_this_bot(http: httpx.AsyncClient, tenant: Tenant) -> None:
    bot = await make_bot(http, tenant.admin, tenant.client.id)
    other = await make_bot(http, tenant.admin, tenant.client.id, name="Otro")
    h = tenant.admin.headers
    missing = await http.patch(base(bot), headers=h, json={"menu": [
        {"label": "Horario", "kind": "answer", "entry_id": bot["entry_ids"][2]},
        {"label": "Ajeno", "kind": "answer", "entry_id": other["entry_ids"][0]}]})
    assert missing.status_code == 422 and missing.json()["field"] == "menu.1.entry_id"
    eleven = [{"label": f"Opción {i}", "kind": "handoff"} for i in range(11)]
    assert (await http.patch(base(bot), headers=h, json={"menu": eleven})).status_code == 422
    no_entry = await http.patch(base(bot), headers=h, json={"menu": [{"label": "X", "kind": "answer"}]})
    assert no_entry.status_code == 422
    await set_menu(http, tenant.admin, bot)
    in_menu = await http.delete(f"{base(bot)}/entries/{bot['entry_ids'][2]}", headers=h)
    assert in_menu.status_code == 409 and in_menu.json()["field"] == "menu.1.entry_id"
    assert (await http.delete(f"{base(bot)}/entries/{bot['entry_ids'][1]}", headers=h)).status_code == 204


async def test_import_and_export_as_csv_and_xlsx(http: httpx.AsyncClient, tenant: Tenant) -> None:
    bot = await make_bot(http, tenant.admin, tenant.client.id, entries=ENTRIES[:1])
    h = tenant.admin.headers
    csv_text = ("pregunta;frases;respuesta;enlace;botones;categoria;activa\n"
                "¿Cómo pago mi factura?;medios de pago | pagar en línea;En línea o en bancos.;;;Pagos;sí\n"
                "¿Dónde están las oficinas?;dirección de la sede;Calle 100 # 10-20.;https://example.com/mapa;;"
                "General;no\n")
    imported = await http.post(f"{base(bot)}/entries/import", headers=h,
                               files={"file": ("kb.csv", csv_text.encode("utf-8"), "text/csv")})
    assert imported.status_code == 200, imported.text
    assert imported.json() == {"created": 1, "updated": 1}
    exported = await http.get(f"{base(bot)}/entries/export", params={"format": "xlsx"}, headers=h)
    assert exported.status_code == 200
    sheet = load_workbook(io.BytesIO(exported.content)).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0][:3] == ["pregunta", "frases", "respuesta"]
    assert rows[1][:3] == ["¿Cómo pago mi factura?", "medios de pago | pagar en línea", "En línea o en bancos."]
    assert rows[2][3] == "https://example.com/mapa" and rows[2][6] == "no"
    csv_out = await http.get(f"{base(bot)}/entries/export", headers=h)
    assert csv_out.headers["content-type"].startswith("text/csv")
    assert "¿Dónde están las oficinas?" in csv_out.content.decode("utf-8-sig")
    # the exported workbook imports back into another bot unchanged
    copy = await make_bot(http, tenant.admin, tenant.client.id, name="Copia", entries=[])
    again = await http.post(f"{base(copy)}/entries/import", headers=h, files={"file": ("kb.xlsx", exported.content)})
    assert again.json() == {"created": 2, "updated": 0}


async def test_a_bad_file_is_refused_with_the_row_and_nothing_is_stored(http: httpx.AsyncClient,
                                                                        tenant: Tenant) -> None:
    bot = await make_bot(http, tenant.admin, tenant.client.id, entries=[])
    h = tenant.admin.headers
    book = Workbook()
    book.active.append(["pregunta", "respuesta"])
    book.active.append(["¿Pregunta buena?", "Respuesta buena."])
    book.active.append(["¿Sin respuesta?", None])
    out = io.BytesIO()
    book.save(out)
    refused = await http.post(f"{base(bot)}/entries/import", headers=h, files={"file": ("kb.xlsx", out.getvalue())})
    assert refused.status_code == 422 and refused.json()["field"] == "rows.2.answer"
    garbage = await http.post(f"{base(bot)}/entries/import", headers=h, files={"file": ("kb.xlsx", b"not a zip")})
    assert garbage.status_code == 422 and garbage.json()["field"] == "file"
    wrong_kind = await http.post(f"{base(bot)}/entries/import", headers=h, files={"file": ("kb.pdf", b"%PDF")})
    assert wrong_kind.status_code == 422 and wrong_kind.json()["field"] == "file"
    assert (await http.get(f"{base(bot)}/entries", headers=h)).json()["total"] == 0


async def test_probar_bot_shows_the_matched_entry_the_score_and_the_runner_up(http: httpx.AsyncClient,
                                                                             tenant: Tenant) -> None:
    bot = await make_bot(http, tenant.admin, tenant.client.id)
    tried = (await http.post(f"{base(bot)}/try", json={"text": "q formas d pago tienen?"},
                             headers=tenant.admin.headers)).json()
    assert tried["decision"] == "answer" and tried["best"]["entry_id"] == bot["entry_ids"][0]
    assert tried["best"]["score"] > tried["runner_up"]["score"]
    assert tried["reply"].startswith("Puedes pagar en línea")
    greeting = (await http.post(f"{base(bot)}/try", json={"text": "hola"}, headers=tenant.admin.headers)).json()
    assert greeting["decision"] == "menu" and greeting["best"] is None
    asks = (await http.post(f"{base(bot)}/try", json={"text": "un asesor"}, headers=tenant.admin.headers)).json()
    assert asks["decision"] == "handoff"


async def test_a_campaign_selects_its_bot_and_handoff_settings(http: httpx.AsyncClient, tenant: Tenant,
                                                             other_tenant: Tenant, factory: Factory) -> None:
    setup = await factory.campaign_setup(tenant.client.id)  # type: ignore[attr-defined]
    h = tenant.admin.headers
    bot = await make_bot(http, tenant.admin, tenant.client.id)
    foreign = await make_bot(http, other_tenant.admin, other_tenant.client.id)
    created = await http.post("/api/v1/campaigns", headers=h, json=setup.body())
    assert created.status_code == 201, created.text
    campaign = created.json()
    assert campaign["bot"] == {"attention_bot_id": None, "handoff_keywords": ["asesor", "agente", "humano", "persona"],
                               "misunderstandings_before_handoff": 2, "answers_out_of_hours": True,
                               "resolved_typification_id": None}
    tab = {"attention_bot_id": bot["id"], "handoff_keywords": ["asesor"], "misunderstandings_before_handoff": 3,
           "answers_out_of_hours": False, "resolved_typification_id": setup.typification_ids["agent_closed"]}
    patched = await http.patch(f"/api/v1/campaigns/{campaign['id']}", headers=h, json={"bot": tab})
    assert patched.status_code == 200, patched.text
    assert patched.json()["bot"] == tab
    stolen = await http.patch(f"/api/v1/campaigns/{campaign['id']}", headers=h,
                              json={"bot": {**tab, "attention_bot_id": foreign["id"]}})
    assert stolen.status_code == 422 and stolen.json()["field"] == "bot.attention_bot_id"
    in_use = await http.delete(base(bot), headers=h)
    assert in_use.status_code == 409


async def test_another_clients_bot_is_not_found_and_agents_cannot_edit(http: httpx.AsyncClient, tenant: Tenant,
                                                                      other_tenant: Tenant) -> None:
    bot = await make_bot(http, tenant.admin, tenant.client.id)
    outsider = other_tenant.admin.headers
    assert (await http.get(base(bot), headers=outsider)).status_code == 404
    assert (await http.get(f"{base(bot)}/entries", headers=outsider)).status_code == 404
    assert (await http.post(f"{base(bot)}/try", json={"text": "hola"}, headers=outsider)).status_code == 404
    assert (await http.patch(f"{base(bot)}/entries/{bot['entry_ids'][0]}", json={"answer": "x"},
                             headers=outsider)).status_code == 404
    listed = (await http.get("/api/v1/attention-bots", headers=outsider)).json()
    assert listed["total"] == 0
    agent = await http.post(f"{base(bot)}/entries", json={"question": "¿X?", "answer": "Y."},
                            headers=tenant.agent.headers)
    assert agent.status_code == 403
