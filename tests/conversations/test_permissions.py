"""Tab Permisos enforced by the server, who sees what, the contact's history and the funnel."""

import httpx

from atiende.auth.models import Role
from atiende.conversations.models import Message
from tests.conversations.scenario import build
from tests.factories import Factory
from tests.media import upload

OGG = b"OggS\x00\x02" + b"\x01" * 300


async def test_attachments_need_external_resources_and_voice_notes_their_own_permission(
        http: httpx.AsyncClient, factory: Factory) -> None:
    sc = await build(http, factory, permissions={"external_resources": False, "voice_notes": False})
    [ana] = await sc.hire(1)
    conversation_id = (await sc.write())["conversation_id"]
    await sc.update_campaign(permissions={"external_resources": True, "voice_notes": True})
    PHOTO = await upload(http, ana.headers, conversation_id, "p.jpg")
    VOICE = {**await upload(http, ana.headers, conversation_id, "v.ogg", OGG, "audio/ogg"), "kind": "voice"}
    await sc.update_campaign(permissions={"external_resources": False, "voice_notes": False})
    refused = await sc.reply(ana, conversation_id, "Le envío el extracto", attachments=[PHOTO])
    assert refused.status_code == 403 and refused.json()["field"] == "attachments"
    await sc.update_campaign(permissions={"external_resources": True})
    assert (await sc.reply(ana, conversation_id, "Le envío el extracto", attachments=[PHOTO])).status_code == 201
    voice = await sc.reply(ana, conversation_id, "", attachments=[VOICE])
    assert voice.status_code == 403 and "voice notes" in voice.json()["detail"]
    await sc.update_campaign(permissions={"voice_notes": True})
    assert (await sc.reply(ana, conversation_id, "", attachments=[VOICE])).status_code == 201
    await sc.update_campaign(permissions={"external_resources": False})
    assert (await sc.reply(ana, conversation_id, "", attachments=[VOICE])).status_code == 201  # voice alone is enough
    files = await sc.reply(ana, conversation_id, "Otro archivo", attachments=[PHOTO])
    assert files.status_code == 403 and "external resources" in files.json()["detail"]
    assert await sc.count(Message, Message.sender == "agent") == 3


async def test_emojis_are_refused_without_emoticones(http: httpx.AsyncClient, factory: Factory) -> None:
    sc = await build(http, factory, permissions={"emojis": False})
    [ana] = await sc.hire(1)
    conversation_id = (await sc.write())["conversation_id"]
    for text in ["Gracias 😊", "Listo 👍🏽", "❤️", "Bandera 🇨🇴"]:
        response = await sc.reply(ana, conversation_id, text)
        assert response.status_code == 422 and response.json()["field"] == "text", text
    assert (await sc.reply(ana, conversation_id, "Gracias: ¿algo más? (sí/no) — ñandú 100%")).status_code == 201
    await sc.update_campaign(permissions={"emojis": True})
    assert (await sc.reply(ana, conversation_id, "Gracias 😊")).status_code == 201


async def test_the_phone_is_hidden_from_agents_unless_the_campaign_shows_it(http: httpx.AsyncClient,
                                                                           factory: Factory) -> None:
    sc = await build(http, factory, permissions={"show_contact_number": False})
    [ana] = await sc.hire(1)
    conversation_id = (await sc.write(phone="+573001112233"))["conversation_id"]
    as_agent = await sc.detail(conversation_id, ana)
    listed = (await http.get("/api/v1/conversations", headers=ana.headers)).json()["items"]
    assert as_agent["contact"]["phone"] is None and listed[0]["contact"]["phone"] is None
    assert "+573001112233" not in (await http.get(f"/api/v1/conversations/{conversation_id}",
                                                  headers=ana.headers)).text
    assert (await sc.detail(conversation_id, sc.supervisor))["contact"]["phone"] == "+573001112233"
    await sc.update_campaign(permissions={"show_contact_number": True})
    assert (await sc.detail(conversation_id, ana))["contact"]["phone"] == "+573001112233"


async def test_agents_see_only_their_conversations_supervisors_all_other_clients_none(
        http: httpx.AsyncClient, factory: Factory, other_tenant) -> None:  # type: ignore[no-untyped-def]
    sc = await build(http, factory)
    ana, beto = await sc.hire(2)
    first = (await sc.write(contact="c-1"))["conversation_id"]  # Ana
    second = (await sc.write(contact="c-2"))["conversation_id"]  # Beto
    mine = (await http.get("/api/v1/conversations", headers=ana.headers)).json()
    assert [c["id"] for c in mine["items"]] == [first]
    assert (await http.get(f"/api/v1/conversations/{second}", headers=ana.headers)).status_code == 404
    everything = (await http.get("/api/v1/conversations", headers=sc.supervisor.headers)).json()
    assert [c["id"] for c in everything["items"]] == [second, first]
    by_agent = (await http.get(f"/api/v1/conversations?membership_id={beto.membership_id}",
                               headers=sc.supervisor.headers)).json()
    assert [c["id"] for c in by_agent["items"]] == [second]
    queued = (await http.get("/api/v1/conversations?status=queued", headers=sc.supervisor.headers)).json()
    assert queued["total"] == 0
    assert (await http.get(f"/api/v1/conversations/{first}", headers=other_tenant.admin.headers)).status_code == 404
    assert (await http.get("/api/v1/conversations", headers=other_tenant.admin.headers)).json()["total"] == 0
    foreign_filter = await http.get(f"/api/v1/conversations?client_id={sc.client_id}",
                                    headers=other_tenant.admin.headers)
    assert foreign_filter.status_code == 404
    assert (await http.get(f"/api/v1/campaigns/{sc.campaign_id}/queue",
                           headers=other_tenant.admin.headers)).status_code == 404
    assert (await http.get(f"/api/v1/campaigns/{sc.campaign_id}/queue", headers=ana.headers)).status_code == 403


async def test_only_the_assigned_agent_writes_to_the_contact(http: httpx.AsyncClient, factory: Factory,
                                                             other_tenant) -> None:  # type: ignore[no-untyped-def]
    sc = await build(http, factory, permissions={"transfer_between_agents": True})
    ana, beto = await sc.hire(2)
    conversation_id = (await sc.write())["conversation_id"]
    assert (await sc.reply(sc.supervisor, conversation_id)).status_code == 403
    assert (await sc.reply(beto, conversation_id)).status_code == 404
    assert (await sc.reply(other_tenant.agent, conversation_id)).status_code == 404
    moved = await http.post(f"/api/v1/conversations/{conversation_id}/transfer",
                            json={"membership_id": beto.membership_id}, headers=ana.headers)
    assert moved.status_code == 200
    assert (await sc.reply(ana, conversation_id)).status_code == 403  # she can still read it, not write
    assert (await sc.reply(beto, conversation_id)).status_code == 201
    assert (await sc.detail(conversation_id, ana))["id"] == conversation_id


async def test_history_shows_earlier_conversations_within_the_history_hours(http: httpx.AsyncClient,
                                                                           factory: Factory, clock) -> None:  # type: ignore[no-untyped-def]
    sc = await build(http, factory, permissions={"history_enabled": True, "history_hours": 24,
                                                 "close_without_reply": True})
    [ana] = await sc.hire(1)
    old = (await sc.write("Primera vez", contact="c-1"))["conversation_id"]
    await sc.close(ana, old)
    await sc.travel(clock.now().replace(hour=20))
    recent = (await sc.write("Segunda vez", contact="c-1"))["conversation_id"]
    await sc.close(ana, recent)
    await sc.travel(clock.now().replace(day=clock.now().day + 1, hour=16))  # old closed 28 h ago, recent 20 h
    current = (await sc.write("Tercera vez", contact="c-1"))["conversation_id"]
    await sc.write("Otra persona", contact="c-2")
    history = (await sc.detail(current, ana))["history"]
    assert [(h["id"], [m["text"] for m in h["messages"]]) for h in history] == [(recent, ["Segunda vez"])]
    await sc.update_campaign(permissions={"history_enabled": False})
    assert (await sc.detail(current, ana))["history"] == []


async def test_a_conversation_starts_at_the_first_stage_and_agents_move_it(http: httpx.AsyncClient,
                                                                         factory: Factory) -> None:
    sc = await build(http, factory, funnel=["Contacto", "Propuesta", "Pago"])
    other = await build(http, factory, funnel=["Otro"])
    [ana] = await sc.hire(1)
    conversation_id = (await sc.write())["conversation_id"]
    detail = await sc.detail(conversation_id, ana)
    first_stage = detail["funnel_stage_id"]
    assert first_stage is not None
    moved = await http.post(f"/api/v1/conversations/{conversation_id}/stage", json={"stage_id": first_stage + 2},
                            headers=ana.headers)
    assert moved.status_code == 200 and moved.json()["funnel_stage_id"] == first_stage + 2
    foreign_stage = (await other.detail((await other.write())["conversation_id"]))["funnel_stage_id"]
    refused = await http.post(f"/api/v1/conversations/{conversation_id}/stage", json={"stage_id": foreign_stage},
                              headers=ana.headers)
    assert refused.status_code == 422 and refused.json()["field"] == "stage_id"


async def test_presence_is_per_client_and_validated(http: httpx.AsyncClient, factory: Factory,
                                                    other_tenant) -> None:  # type: ignore[no-untyped-def]
    sc = await build(http, factory)
    [ana] = await sc.hire(1, online=False)
    await factory.join(ana, other_tenant.client.id, role=Role.agent)
    ambiguous = await http.put("/api/v1/agents/me/status", json={"presence": "online"}, headers=ana.headers)
    assert ambiguous.status_code == 422 and ambiguous.json()["field"] == "client_id"
    ok = await http.put("/api/v1/agents/me/status", json={"presence": "online", "client_id": sc.client_id},
                        headers=ana.headers)
    assert ok.status_code == 200 and ok.json()["presence"] == "online"
    bad = await http.put("/api/v1/agents/me/status", json={"presence": "busy", "client_id": sc.client_id},
                         headers=ana.headers)
    assert bad.status_code == 422 and bad.json()["field"] == "presence"
    by_supervisor = await http.put(f"/api/v1/agents/{ana.membership_id}/status", json={"presence": "offline"},
                                   headers=sc.supervisor.headers)
    assert by_supervisor.status_code == 200 and by_supervisor.json()["presence"] == "offline"
    assert (await http.put(f"/api/v1/agents/{ana.membership_id}/status", json={"presence": "online"},
                           headers=other_tenant.supervisor.headers)).status_code == 404
