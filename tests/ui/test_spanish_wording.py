"""The Spanish a new team reads: plurals from Babel's plural rules ("Falta 1 dato", "Faltan 3
datos"), the product's presence words (Desconectado, never "Offline o Logged Out"), refusals of a
duplicate that name the object («Cobranza»), and a survey question asked with one hint only."""

import ast
from pathlib import Path

import httpx

from atiende import i18n
from atiende.catalog.models import QuestionKind
from atiende.errors import Conflict
from atiende.i18n import translate, translate_count
from atiende.ui.errors import describe
from tests.conversations.scenario import build
from tests.factories import Factory, Tenant

UI = Path(i18n.__file__).resolve().parents[1] / "ui"


def test_counts_take_the_plural_form_of_the_language() -> None:
    assert translate_count("es", "campaign.missing", 1).startswith("Falta 1 dato obligatorio;")
    assert translate_count("es", "campaign.missing", 3).startswith("Faltan 3 datos obligatorios;")
    assert translate_count("en", "campaign.missing", 1).startswith("1 required value is missing;")
    done = translate("es", "supervisor.mass_transfer_done",
                     transferred=translate_count("es", "supervisor.transferred_count", 1),
                     queued=translate_count("es", "supervisor.queued_count", 2))
    assert done == "Transferencia masiva hecha: 1 transferida, 2 a la cola."
    assert translate_count("es", "workspace.history_item", 1, date="3 dic") == "Conversación del 3 dic · 1 mensaje"
    assert translate_count("es", "attention_bots.unanswered_count", 1) == "1 vez"
    assert translate_count("es", "attention_bots.options", 1_000_000) == "1000000 opciones"  # CLDR "many"


def test_every_counted_text_has_its_plural_forms_in_both_catalogs() -> None:
    keys = set()
    for path in UI.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "tn"
                    and node.args and isinstance(node.args[0], ast.Constant)):
                keys.add(node.args[0].value)
    assert len(keys) >= 6
    for locale in i18n.LOCALES:
        assert sorted(k for k in keys if f"{k}.one" not in i18n.catalog(locale)
                      or f"{k}.other" not in i18n.catalog(locale)) == [], locale


def test_the_ui_says_desconectado_where_the_product_does() -> None:
    spanish = i18n.catalog("es")
    assert "Desconectado" in spanish["permission.reassign_when_exclusive_offline"]
    assert [k for k, text in spanish.items() if "Logged Out" in text or "Offline" in text] == []


async def test_a_duplicate_is_refused_naming_the_object(http: httpx.AsyncClient, tenant: Tenant,
                                                          factory: Factory) -> None:
    body = {"client_id": tenant.client.id, "name": "Cobranza"}
    assert (await http.post("/api/v1/projects", json=body, headers=tenant.admin.headers)).status_code == 201
    again = await http.post("/api/v1/projects", json=body, headers=tenant.admin.headers)
    assert again.status_code == 409
    answer = again.json()
    assert (answer["code"], answer["field"], answer["value"]) == ("project.name_taken", "name", "Cobranza")
    refusal = Conflict(answer["detail"], field="name", code=answer["code"], extra={"value": answer["value"]})
    assert describe(refusal) == [("name", "Ya existe un proyecto «Cobranza».")]

    setup = await factory.campaign_setup(tenant.client.id)  # type: ignore[attr-defined]
    first = await http.post("/api/v1/campaigns", json=setup.body(name="Soporte VIP"), headers=tenant.admin.headers)
    assert first.status_code == 201, first.text
    clash = await http.post("/api/v1/campaigns", json=setup.body(name="soporte vip", channels={
        "configure_later": True, "channel_ids": []}), headers=tenant.admin.headers)
    assert clash.status_code == 409 and clash.json()["code"] == "campaign.name_taken"
    named = Conflict(clash.json()["detail"], field="name", code="campaign.name_taken",
                     extra={"value": clash.json()["value"]})
    assert describe(named) == [("name", "Ya existe una campaña «Soporte VIP» en este proyecto.")]


async def test_a_question_that_states_its_answers_gets_no_second_hint(http: httpx.AsyncClient,
                                                                      factory: Factory) -> None:
    sc = await build(http, factory, survey=[(QuestionKind.yes_no, "¿Resolvimos tu consulta? (sí/no)"),
                                            (QuestionKind.rating, "Del 1 al 5, ¿cómo calificas la atención?"),
                                            (QuestionKind.yes_no, "¿Nos recomendarías?")])
    [ana] = await sc.hire(1)
    conversation_id = (await sc.write("Hola"))["conversation_id"]
    await sc.reply(ana, conversation_id)
    assert (await sc.close(ana, conversation_id)).status_code == 200
    await sc.write("sí")
    await sc.write("5")
    asked = [m.text for m in await sc.messages(conversation_id) if m.sender == "bot"]
    assert asked == ["¿Resolvimos tu consulta? (sí/no)", "Del 1 al 5, ¿cómo calificas la atención?",
                     "¿Nos recomendarías? (responde sí o no)"]
