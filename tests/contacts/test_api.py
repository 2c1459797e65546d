"""The directory over HTTP: search in every form, filters, the contact page, edits with the
exclusive agent honoured by assignment, consent, merge, erasure, export; tenants and agents
see only what they may."""

import csv
import io

import httpx
from sqlalchemy import select

from atiende.audit.models import AuditEvent
from atiende.catalog.models import FieldType
from atiende.conversations.models import Contact, Conversation, Message
from tests.conversations.scenario import Scenario, build
from tests.factories import Factory


async def contact_of(sc: Scenario, conversation_id: int) -> int:
    async with sc.database.session() as session:
        conversation = await session.get(Conversation, conversation_id)
        assert conversation is not None
        return conversation.contact_id


async def directory(sc: Scenario, headers: dict[str, str] | None = None, **params: object) -> dict:
    response = await sc.http.get("/api/v1/contacts", params={k: v for k, v in params.items() if v is not None},
                                 headers=headers or sc.supervisor.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def populated(http: httpx.AsyncClient, factory: Factory, **options: object) -> tuple[Scenario, dict[str, int]]:
    sc = await build(http, factory, fields=[("ciudad", FieldType.text, False, {})], **options)  # type: ignore[arg-type]
    ana = await sc.write("Hola", contact="wa-ana", name="Ana Pérez", phone="+573001234567")
    beto = await sc.write("Buenas", contact="wa-beto", name="Beto Ruiz", phone="+573109998877")
    ids = {"ana": await contact_of(sc, ana["conversation_id"]), "beto": await contact_of(sc, beto["conversation_id"]),
           "ana_conversation": ana["conversation_id"], "beto_conversation": beto["conversation_id"]}
    return sc, ids


async def test_search_by_name_phone_in_any_format_email_document_and_attribute(http: httpx.AsyncClient,
                                                                              factory: Factory) -> None:
    sc, ids = await populated(http, factory)
    patched = await http.patch(f"/api/v1/contacts/{ids['ana']}", headers=sc.supervisor.headers,
                               json={"email": "Ana@Example.com", "document_id": "CC 1020", "attributes": {"ciudad": "Cali"}})
    assert patched.status_code == 200, patched.text
    assert patched.json()["email"] == "ana@example.com" and patched.json()["phone_display"] == "300 1234567"
    for q in ("ana pé", "300 123 4567", "(300) 1234567", "+57 300-123-4567", "ana@example", "cc 1020", "cali"):
        found = await directory(sc, q=q)
        assert [c["id"] for c in found["items"]] == [ids["ana"]], q
    assert (await directory(sc, q="nadie"))["total"] == 0
    # What a person types means itself: "_" and "%" are not wildcards.
    await http.patch(f"/api/v1/contacts/{ids['beto']}", headers=sc.supervisor.headers, json={"name": "Beto 50%_off"})
    for q in ("_", "%", "50%_"):
        assert [c["id"] for c in (await directory(sc, q=q))["items"]] == [ids["beto"]], q
    assert (await directory(sc, q="5_%"))["total"] == 0
    everyone = await directory(sc, limit=1)
    assert everyone["total"] == 2 and len(everyone["items"]) == 1 and everyone["items"][0]["id"] == ids["beto"]


async def test_filters_channel_exclusive_agent_opted_out_and_created_between(http: httpx.AsyncClient,
                                                                            factory: Factory) -> None:
    sc, ids = await populated(http, factory)
    [agent] = await sc.hire(1)
    await http.patch(f"/api/v1/contacts/{ids['beto']}", json={"exclusive_agent_id": agent.membership_id},
                     headers=sc.supervisor.headers)
    out = await http.put(f"/api/v1/contacts/{ids['ana']}/consent/api", json={"opted_out": True},
                         headers=sc.supervisor.headers)
    assert out.status_code == 200 and out.json()["opted_out"] == ["api"]
    assert [c["id"] for c in (await directory(sc, exclusive_agent_id=agent.membership_id))["items"]] == [ids["beto"]]
    assert [c["id"] for c in (await directory(sc, has_exclusive_agent="false"))["items"]] == [ids["ana"]]
    assert [c["id"] for c in (await directory(sc, opted_out="true"))["items"]] == [ids["ana"]]
    assert [c["id"] for c in (await directory(sc, opted_out="true", channel_kind="whatsapp"))["items"]] == []
    assert (await directory(sc, channel_id=sc.channel_id))["total"] == 2
    assert (await directory(sc, channel_kind="whatsapp"))["total"] == 0
    today = sc.factory.clock.now().date().isoformat()
    assert (await directory(sc, created_from=today, created_to=today))["total"] == 2
    assert (await directory(sc, created_from="2001-01-01", created_to="2001-01-02"))["total"] == 0
    history = (await http.get(f"/api/v1/contacts/{ids['ana']}", headers=sc.supervisor.headers)).json()
    assert [(h["channel_kind"], h["opted_out"], h["source"], h["membership_id"]) for h in history["consent_history"]] \
        == [("api", True, "api", sc.supervisor.membership_id)]


async def test_the_exclusive_agent_set_over_the_api_receives_the_next_conversation(http: httpx.AsyncClient,
                                                                                  factory: Factory) -> None:
    sc = await build(http, factory)
    await sc.hire(2, capacity=5)
    first = await sc.write("Hola", contact="wa-ana", name="Ana Pérez", phone="+573001234567")
    second = await sc.write("Hola", contact="wa-beto", name="Beto", phone="+573109998877")
    x = (await sc.detail(first["conversation_id"]))["assigned_membership_id"]
    y = (await sc.detail(second["conversation_id"]))["assigned_membership_id"]
    assert x and y and x != y
    holder = next(a for a in sc.agents if a.membership_id == x)
    assert (await sc.reply(holder, first["conversation_id"])).status_code == 201
    closed = await sc.close(holder, first["conversation_id"], typification_id=sc.typifications["sale"])
    assert closed.status_code == 200, closed.text
    ids = {"ana": await contact_of(sc, first["conversation_id"])}
    # Inteligente alone would now pick x (no open conversation) over y (one): the cartera decides.
    set_it = await http.patch(f"/api/v1/contacts/{ids['ana']}", json={"exclusive_agent_id": y},
                              headers=sc.admin.headers)
    assert set_it.status_code == 200, set_it.text
    assert set_it.json()["exclusive_agent_id"] == y and set_it.json()["exclusive_agent_name"]
    again = await sc.write("Otra vez yo", contact="wa-ana", name="Ana Pérez", phone="+573001234567")
    assert (await sc.detail(again["conversation_id"]))["assigned_membership_id"] == y
    cleared = await http.patch(f"/api/v1/contacts/{ids['ana']}", json={"exclusive_agent_id": None},
                               headers=sc.admin.headers)
    assert cleared.json()["exclusive_agent_id"] is None
    bad = await http.patch(f"/api/v1/contacts/{ids['ana']}", json={"exclusive_agent_id": sc.supervisor.membership_id},
                           headers=sc.admin.headers)
    assert bad.status_code == 422 and bad.json()["code"] == "contact.exclusive_agent_invalid"
    assert bad.json()["field"] == "exclusive_agent_id"
    async with sc.database.session() as session:
        audited = (await session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "contact"))).all()
        assert [e.after["exclusive_agent_id"] for e in audited] == [y, None]


async def test_agents_see_only_contacts_of_their_conversations_and_never_a_hidden_phone(
        http: httpx.AsyncClient, factory: Factory) -> None:
    sc, ids = await populated(http, factory, permissions={"show_contact_number": False})
    [agent] = await sc.hire(1, capacity=5)
    await sc.write("Sigo aquí", contact="wa-ana", name="Ana Pérez", phone="+573001234567")  # assigned now
    listing = await directory(sc, headers=agent.headers)
    assert {c["id"] for c in listing["items"]} <= {ids["ana"], ids["beto"]}
    mine = {c["id"] for c in listing["items"]}
    assert mine and all(c["phone"] is None and c["phone_display"] == "" for c in listing["items"])
    assert (await directory(sc, headers=agent.headers, q="3001234567"))["total"] == 0  # no search by a hidden phone
    some = next(iter(mine))
    page = (await http.get(f"/api/v1/contacts/{some}", headers=agent.headers)).json()
    assert page["phone"] is None and all(i["external_id"] != "+573001234567" for i in page["identities"])
    edit = await http.patch(f"/api/v1/contacts/{some}", json={"name": "X"}, headers=agent.headers)
    assert edit.status_code == 403
    exported = (await http.get("/api/v1/contacts/export.csv", headers=agent.headers)).text
    assert "3001234567" not in exported and "+57" not in exported
    await sc.update_campaign(permissions={"show_contact_number": True})
    shown = await directory(sc, headers=agent.headers, q="300 123 4567")
    assert [c["phone"] for c in shown["items"]] in ([], ["+573001234567"])
    if some == ids["ana"]:
        assert shown["items"][0]["phone"] == "+573001234567"
    stranger = await factory.person(sc.client_id, role=agent.role)
    assert (await directory(sc, headers=stranger.headers))["total"] == 0
    assert (await http.get(f"/api/v1/contacts/{ids['ana']}", headers=stranger.headers)).status_code == 404


async def test_another_clients_contact_is_404_everywhere(http: httpx.AsyncClient, factory: Factory) -> None:
    sc, ids = await populated(http, factory)
    other, _ = await populated(http, factory)
    cid = ids["ana"]
    for method, url, body in (("GET", f"/api/v1/contacts/{cid}", None), ("PATCH", f"/api/v1/contacts/{cid}", {"name": "x"}),
                              ("PUT", f"/api/v1/contacts/{cid}/consent/whatsapp", {"opted_out": True}),
                              ("POST", f"/api/v1/contacts/{cid}/merge", {"other_contact_id": ids["beto"]}),
                              ("POST", f"/api/v1/contacts/{cid}/erase", {"confirm": cid})):
        response = await http.request(method, url, json=body, headers=other.admin.headers)
        assert response.status_code == 404, (method, url, response.text)
        assert response.json()["code"] == "contact.not_found"
    merged_foreign = await http.post(f"/api/v1/contacts/{ids['beto']}/merge", json={"other_contact_id": _["ana"]},
                                     headers=sc.admin.headers)
    assert merged_foreign.status_code == 404
    assert (await http.get("/api/v1/contacts", params={"client_id": sc.client_id},
                           headers=other.admin.headers)).status_code == 404
    assert (await directory(other, headers=other.admin.headers))["total"] == 2


async def test_merge_moves_identities_conversations_and_keeps_the_opt_out(http: httpx.AsyncClient,
                                                                         factory: Factory) -> None:
    sc, ids = await populated(http, factory)
    web = await sc.write("Hola desde la web", contact="web-visitor-1", name="")
    web_contact = await contact_of(sc, web["conversation_id"])
    for conversation in (ids["ana_conversation"],):
        await sc.close(sc.supervisor, conversation, typification_id=sc.typifications["sale"])
    await http.patch(f"/api/v1/contacts/{web_contact}", json={"email": "ana@example.com"}, headers=sc.admin.headers)
    await http.put(f"/api/v1/contacts/{web_contact}/consent/webchat", json={"opted_out": True},
                   headers=sc.admin.headers)
    same = await http.post(f"/api/v1/contacts/{ids['ana']}/merge", json={"other_contact_id": ids["ana"]},
                           headers=sc.admin.headers)
    assert same.status_code == 422 and same.json()["code"] == "contact.merge_same"
    merged = await http.post(f"/api/v1/contacts/{ids['ana']}/merge", json={"other_contact_id": web_contact},
                             headers=sc.admin.headers)
    assert merged.status_code == 200, merged.text
    body = merged.json()
    assert body["email"] == "ana@example.com" and body["name"] == "Ana Pérez" and body["opted_out"] == ["webchat"]
    assert {i["external_id"] for i in body["identities"]} == {"wa-ana", "web-visitor-1"}
    assert {c["id"] for c in body["conversations"]} == {ids["ana_conversation"], web["conversation_id"]}
    assert (await http.get(f"/api/v1/contacts/{web_contact}", headers=sc.admin.headers)).status_code == 404
    again = await sc.write("Sigo en la web", contact="web-visitor-1")
    assert await contact_of(sc, again["conversation_id"]) == ids["ana"]
    async with sc.database.session() as session:
        actions = [(e.action, e.entity_id) for e in (await session.scalars(select(AuditEvent).where(
            AuditEvent.entity_type == "contact").order_by(AuditEvent.id))).all()]
        assert ("delete", web_contact) in actions and actions[-1] == ("update", ids["ana"])


async def test_merging_two_open_conversations_of_one_campaign_is_refused(http: httpx.AsyncClient,
                                                                         factory: Factory) -> None:
    sc, ids = await populated(http, factory)
    refused = await http.post(f"/api/v1/contacts/{ids['ana']}/merge", json={"other_contact_id": ids["beto"]},
                              headers=sc.supervisor.headers)
    assert refused.status_code == 409 and refused.json()["code"] == "contact.merge_open_conflict"


async def test_erasure_removes_personal_data_and_texts_and_keeps_the_counts(http: httpx.AsyncClient,
                                                                           factory: Factory) -> None:
    sc, ids = await populated(http, factory)
    by_supervisor = await http.post(f"/api/v1/contacts/{ids['ana']}/erase", json={"confirm": ids["ana"]},
                                    headers=sc.supervisor.headers)
    assert by_supervisor.status_code == 403
    unconfirmed = await http.post(f"/api/v1/contacts/{ids['ana']}/erase", json={"confirm": ids["beto"]},
                                  headers=sc.admin.headers)
    assert unconfirmed.status_code == 422 and unconfirmed.json()["field"] == "confirm"
    erased = await http.post(f"/api/v1/contacts/{ids['ana']}/erase", json={"confirm": ids["ana"]},
                             headers=sc.admin.headers)
    assert erased.status_code == 200, erased.text
    async with sc.database.session() as session:
        contact = await session.get(Contact, ids["ana"])
        assert contact is not None and contact.erased_at is not None
        assert (contact.name, contact.phone, contact.email) == ("", None, None)
        texts = (await session.scalars(select(Message.text).where(
            Message.conversation_id == ids["ana_conversation"]))).all()
        assert texts and all(t == "" for t in texts)
        assert await session.get(Conversation, ids["ana_conversation"]) is not None
        beto_texts = (await session.scalars(select(Message.text).where(
            Message.conversation_id == ids["beto_conversation"]))).all()
        assert beto_texts == ["Buenas"]
    assert (await directory(sc, q="Ana"))["total"] == 0
    assert (await directory(sc))["total"] == 1


async def test_export_neutralises_formulas_and_bad_input_names_the_field(http: httpx.AsyncClient,
                                                                         factory: Factory) -> None:
    sc, ids = await populated(http, factory)
    await http.patch(f"/api/v1/contacts/{ids['beto']}", json={"name": "=HYPERLINK(\"x\")"}, headers=sc.admin.headers)
    exported = await http.get("/api/v1/contacts/export.csv", headers=sc.admin.headers)
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["id", "nombre", "telefono"] and len(rows) == 3
    beto = next(r for r in rows if r[0] == str(ids["beto"]))
    assert beto[1].startswith("'=") and beto[2] == "'+573109998877"  # a leading + is neutralised too
    for body, field, code in (({"phone": "12"}, "phone", "contact.phone_invalid"),
                              ({"phone": "+573001234567"}, "phone", "contact.phone_taken"),
                              ({"attributes": {"nope": "x"}}, "attributes.nope", "contact.attribute_unknown"),
                              ({"email": "not-an-email"}, "email", None), ({"color": "red"}, "color", None)):
        response = await http.patch(f"/api/v1/contacts/{ids['beto']}", json=body, headers=sc.admin.headers)
        assert 400 <= response.status_code < 500, response.text
        assert response.json()["field"] == field, response.text
        if code:
            assert response.json()["code"] == code
    assert (await http.put(f"/api/v1/contacts/{ids['beto']}/consent/fax", json={"opted_out": True},
                           headers=sc.admin.headers)).status_code == 422
    assert (await http.get("/api/v1/contacts/0", headers=sc.admin.headers)).status_code == 422


async def test_settings_default_region_reads_local_numbers(http: httpx.AsyncClient, factory: Factory) -> None:
    sc, ids = await populated(http, factory)
    assert (await http.get("/api/v1/contacts/settings", headers=sc.admin.headers)).json()["default_region"] == "CO"
    saved = await http.put("/api/v1/contacts/settings", json={"default_region": "mx", "opt_out_keywords": ["BASTA"]},
                           headers=sc.admin.headers)
    assert saved.status_code == 200 and saved.json()["default_region"] == "MX"
    assert saved.json()["opt_out_keywords"] == ["BASTA"]
    phone = await http.patch(f"/api/v1/contacts/{ids['beto']}", json={"phone": "55 1234 5678"}, headers=sc.admin.headers)
    assert phone.json()["phone"] == "+525512345678"
    bad = await http.put("/api/v1/contacts/settings", json={"default_region": "XX"}, headers=sc.admin.headers)
    assert bad.status_code == 422 and bad.json()["field"] == "default_region"
    assert (await http.put("/api/v1/contacts/settings", json={"default_region": "CO"},
                           headers=sc.supervisor.headers)).status_code == 403


async def test_the_widgets_pre_chat_reads_a_local_phone_with_the_clients_region(http: httpx.AsyncClient,
                                                                               factory: Factory) -> None:
    from tests.channels.fakes.setup import webchat_center
    from tests.channels.webchat.test_widget_api import Visitor

    scenario, channel_id = await webchat_center(http, factory, prechat=True)
    region = await http.put("/api/v1/contacts/settings", json={"default_region": "CO"}, headers=scenario.admin.headers)
    assert region.status_code == 200, region.text  # the client's phone region (Client.phone_region)
    visitor = Visitor(http, channel_id)
    started = await visitor.start(name="Ana Pérez", email="Ana@Example.com", phone="3001234567")
    assert started.status_code == 200, started.text
    assert (await visitor.write("Hola")).status_code == 201
    (conversation,) = await scenario.conversations()
    assert (conversation.contact.phone, conversation.contact.email) == ("+573001234567", "ana@example.com")
    refused = await Visitor(http, channel_id).start(name="Beto", phone="300")
    assert refused.status_code == 422 and refused.json()["field"] == "phone"
    assert refused.json()["code"] == "phone.invalid"
