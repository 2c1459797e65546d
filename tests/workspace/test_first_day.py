"""A team's first day, in the browser: the admin staffs campaigns from the console (the campaign's
*Agentes* and the user's *Campañas*, with capacity), the supervisor staffs and hands out queued work
from the board (*Asignar a…* on a queued conversation), and the workspace works on a phone (390 × 844)."""

import pytest
from playwright.async_api import Page, expect

from tests.workspace import seed
from tests.workspace.harness import Center, Customers, Login

pytestmark = pytest.mark.browser


async def campaign_agents(customer: Customers, campaign_id: int) -> dict[int, int]:
    response = await customer.api("GET", f"/api/v1/campaigns/{campaign_id}/agents", seed.SUPERVISOR)
    assert response.status_code == 200, response.text
    return {a["membership_id"]: a["capacity"] for a in response.json()}


async def restore_staff(customer: Customers, center: Center) -> None:
    m = center.data.memberships
    for campaign_id, agents in ((center.data.sales_campaign_id, [(m[seed.ANDREA], 2), (m[seed.BRUNO], 3)]),
                                (center.data.collections_campaign_id, [(m[seed.CARLA], 2)])):
        response = await customer.api("PUT", f"/api/v1/campaigns/{campaign_id}/agents", seed.SUPERVISOR,
                                      json={"agents": [{"membership_id": a, "capacity": c} for a, c in agents]})
        assert response.status_code == 200, response.text


async def tick(page: Page, dialog: str, key: int, capacity: str | None = None) -> None:
    row = page.get_by_test_id(dialog).get_by_test_id(f"seat-{key}")
    await row.get_by_test_id(f"seat-member-{key}").click()
    if capacity is not None:
        await row.get_by_test_id(f"seat-capacity-{key}").fill(capacity)


async def test_the_admin_staffs_a_campaign_and_a_user_from_the_console(
        login: Login, customer: Customers, center: Center) -> None:
    carla = center.data.memberships[seed.CARLA]
    sales = center.data.sales_campaign_id
    try:
        admin = await login(seed.ADMIN)
        await admin.goto("/console/campaigns")
        await admin.get_by_test_id(f"agents-{sales}").click()
        dialog = admin.get_by_test_id("campaign-agents-dialog")
        await expect(dialog).to_contain_text("Agentes de «Ventas»")
        await tick(admin, "campaign-agents-dialog", carla, "0")
        await dialog.get_by_test_id("save").click()
        await expect(dialog).to_contain_text("Entre 1 y 1000")  # refused next to the field, not changed
        assert carla not in await campaign_agents(customer, sales)
        await dialog.get_by_test_id(f"seat-capacity-{carla}").fill("1")
        await dialog.get_by_test_id("save").click()
        await expect(dialog).to_have_count(0)
        assert (await campaign_agents(customer, sales))[carla] == 1

        await admin.goto("/console/users")
        await expect(admin.get_by_test_id(f"user-campaigns-{carla}")).to_contain_text("Ventas")
        await admin.get_by_test_id(f"campaigns-{carla}").click()
        mine = admin.get_by_test_id("user-campaigns-dialog")
        await expect(mine.get_by_test_id(f"seat-capacity-{sales}")).to_have_value("1")
        await tick(admin, "user-campaigns-dialog", sales)  # leaves Ventas
        await mine.get_by_test_id("save").click()
        await expect(mine).to_have_count(0)
        await expect(admin.get_by_test_id(f"user-campaigns-{carla}")).not_to_contain_text("Ventas")
        assert carla not in await campaign_agents(customer, sales)
    finally:
        await restore_staff(customer, center)


async def test_the_supervisor_staffs_the_campaign_from_the_board(
        login: Login, customer: Customers, center: Center) -> None:
    bruno = center.data.memberships[seed.BRUNO]
    collections = center.data.collections_campaign_id
    try:
        sofia = await login(seed.SUPERVISOR)
        await sofia.goto(f"/supervisor?campaign={collections}")
        await expect(sofia.get_by_test_id("board")).to_contain_text("Cobranza")
        await expect(sofia.get_by_test_id(f"agent-{bruno}")).to_have_count(0)
        await sofia.get_by_test_id("staff-campaign").click()
        await tick(sofia, "campaign-agents-dialog", bruno)
        await sofia.get_by_test_id("campaign-agents-dialog").get_by_test_id("save").click()
        await expect(sofia.get_by_test_id(f"agent-{bruno}").get_by_test_id("load")).to_have_text("0/3")
        assert bruno in await campaign_agents(customer, collections)
    finally:
        await restore_staff(customer, center)


async def test_the_supervisor_assigns_a_queued_conversation_to_a_chosen_agent(
        login: Login, customer: Customers, center: Center) -> None:
    carla = center.data.memberships[seed.CARLA]
    collections = center.data.collections_campaign_id
    original = (await customer.api("GET", f"/api/v1/campaigns/{collections}", seed.ADMIN)).json()["schedule"]
    closed = await customer.api("POST", "/api/v1/schedules", seed.ADMIN,
                                json={"client_id": center.data.client_id, "name": "Cerrado (prueba)",
                                      "timezone": "America/Bogota", "bands": []})
    assert closed.status_code == 201, closed.text
    moved = await customer.api("PATCH", f"/api/v1/campaigns/{collections}", seed.ADMIN,
                               json={"schedule": {**original, "schedule_id": closed.json()["id"]}})
    assert moved.status_code == 200, moved.text
    try:  # closed hours: the queue waits, so an online agent with room and a queued conversation coexist
        await customer.set_presence(seed.CARLA, "online")
        waiting = (await customer.write("Hola, ¿me atienden?", name="Cliente Espera",
                                        campaign="collections"))["conversation_id"]
        assert (await customer.conversation(waiting))["status"] == "queued"
        sofia = await login(seed.SUPERVISOR)
        await sofia.goto(f"/supervisor?campaign={collections}")
        await expect(sofia.get_by_test_id(f"queued-{waiting}")).to_contain_text("Cliente Espera")
        await sofia.get_by_test_id(f"assign-{waiting}").click()
        await sofia.get_by_test_id("agent-options").get_by_text("Carla", exact=False).click()
        await sofia.get_by_test_id("confirm-transfer").click()
        await expect(sofia.get_by_text("Conversación asignada.")).to_be_visible()
        await expect(sofia.get_by_test_id(f"queued-{waiting}")).to_have_count(0)
        detail = await customer.conversation(waiting)
        assert (detail["status"], detail["assigned_membership_id"]) == ("assigned", carla)

        # Supervisión → Conversaciones: the same Asignar a… on a queued conversation found by the search
        second = (await customer.write("¿Siguen ahí?", name="Cliente Busca", campaign="collections"))["conversation_id"]
        await sofia.get_by_test_id("tab-search").click()
        await sofia.get_by_test_id("search-input").fill("Cliente Busca")
        await sofia.get_by_test_id("search-button").click()
        found = sofia.get_by_test_id(f"found-{second}")
        await expect(found).to_contain_text("En cola")
        await found.get_by_test_id(f"assign-{second}").click()
        await sofia.get_by_test_id("agent-options").get_by_text("Carla", exact=False).click()
        await sofia.get_by_test_id("confirm-transfer").click()
        await expect(sofia.get_by_text("Conversación asignada.")).to_be_visible()
        await expect(found).to_contain_text("Carla Agente")
        await expect(found.get_by_test_id(f"assign-{second}")).to_have_count(0)
        assert (await customer.conversation(second))["assigned_membership_id"] == carla
    finally:
        back = await customer.api("PATCH", f"/api/v1/campaigns/{collections}", seed.ADMIN, json={"schedule": original})
        assert back.status_code == 200, back.text
        await customer.clean_slate()


async def test_a_finished_conversation_tells_its_agent_outcome_and_survey_to_supervisor_and_agent(
        login: Login, customer: Customers, center: Center) -> None:
    sales = center.data.sales_campaign_id
    bot = await customer.api("POST", "/api/v1/survey-bots", seed.ADMIN, json={
        "client_id": center.data.client_id, "name": "Encuesta primer día", "closing_message": "¡Gracias!",
        "questions": [{"kind": "rating", "text": "Del 1 al 5, ¿cómo te atendimos?"}]})
    assert bot.status_code == 201, bot.text
    on = await customer.api("PATCH", f"/api/v1/campaigns/{sales}", seed.ADMIN,
                            json={"survey": {"enabled": True, "survey_bot_id": bot.json()["id"]}})
    assert on.status_code == 200, on.text
    try:
        await customer.set_presence(seed.ANDREA, "online")
        conversation_id = (await customer.write("Quiero comprar", name="Laura Final"))["conversation_id"]
        assert (await customer.conversation(conversation_id))["status"] == "assigned"
        stages = (await customer.api("GET", f"/api/v1/campaigns/{sales}", seed.ADMIN)).json()
        assert stages["funnel_id"]
        funnel = (await customer.api("GET", f"/api/v1/funnels/{stages['funnel_id']}", seed.ADMIN)).json()
        interested = next(s["id"] for s in funnel["stages"] if s["name"] == "Interesado")
        for method, path, body in (("POST", "messages", {"text": "Con gusto"}), ("POST", "stage", {"stage_id": interested}),
                                   ("POST", "close", {"typification_id": center.data.typifications["venta"],
                                                      "fields": {"documento": "12345678", "motivo": "Compra"}})):
            response = await customer.api(method, f"/api/v1/conversations/{conversation_id}/{path}", seed.ANDREA,
                                          json=body)
            assert response.status_code in (200, 201), response.text
        await customer.write("5", name="Laura Final")
        assert (await customer.conversation(conversation_id))["status"] == "closed"

        sofia = await login(seed.SUPERVISOR)
        await sofia.goto("/supervisor")
        await sofia.get_by_test_id("tab-search").click()
        await sofia.get_by_test_id("search-input").fill("Laura Final")
        await sofia.get_by_test_id("search-button").click()
        found = sofia.get_by_test_id(f"found-{conversation_id}")
        await expect(found).to_contain_text("Andrea Agente")  # who attended it, though it is finished
        await found.get_by_test_id(f"read-{conversation_id}").click()
        reader = sofia.get_by_test_id("reader")
        await expect(reader.get_by_test_id("reader-typification")).to_have_text("Resultado › Venta realizada")
        await expect(reader.get_by_test_id("reader-stage")).to_have_text("Interesado")
        await expect(reader.get_by_test_id("reader-field-documento")).to_contain_text("12345678")
        await expect(reader.get_by_test_id("reader-field-motivo")).to_contain_text("Compra")
        await expect(reader.get_by_test_id("survey-answers")).to_contain_text("Del 1 al 5, ¿cómo te atendimos?5")
        await sofia.wait_for_function("document.getAnimations().every(a => a.playState !== 'running')")
        await sofia.screenshot(path="docs/firstday-reader-outcome.png")

        andrea = await login(seed.ANDREA)
        await andrea.goto(f"/workspace?c={conversation_id}")  # after closing, read-only
        panel = andrea.get_by_test_id("side-panel")
        await expect(panel.get_by_test_id("not-yours")).to_be_visible()
        await expect(panel.get_by_test_id("survey-answers")).to_contain_text("5")
        await expect(panel.get_by_test_id("reader-typification")).to_have_text("Resultado › Venta realizada")
        await andrea.screenshot(path="docs/firstday-workspace-closed.png")
        phone = await login(seed.SUPERVISOR, {"width": 390, "height": 844})
        await phone.goto("/supervisor")
        await phone.get_by_test_id("tab-search").click()
        await phone.get_by_test_id("search-input").fill("Laura Final")
        await phone.get_by_test_id("search-button").click()
        await phone.get_by_test_id(f"read-{conversation_id}").click()
        await expect(phone.get_by_test_id("reader").get_by_test_id("survey-answers")).to_be_visible()
        await phone.get_by_test_id("reader").get_by_test_id("survey-answers").scroll_into_view_if_needed()
        await phone.wait_for_function("document.getAnimations().every(a => a.playState !== 'running')")
        await phone.screenshot(path="docs/firstday-reader-390.png")
    finally:
        off = await customer.api("PATCH", f"/api/v1/campaigns/{sales}", seed.ADMIN,
                                 json={"survey": {"enabled": False, "survey_bot_id": None}})
        assert off.status_code == 200, off.text


async def test_the_campaign_form_keeps_numbers_sets_channels_aside_and_asks_before_cancelling(
        login: Login, customer: Customers, center: Center) -> None:
    collections = center.data.collections_campaign_id
    before = (await customer.api("GET", f"/api/v1/campaigns/{collections}", seed.ADMIN)).json()["channels"]
    admin = await login(seed.ADMIN)
    try:
        await admin.goto("/console/campaigns")
        await admin.get_by_test_id(f"edit-{collections}").click()
        modal = admin.get_by_test_id("campaign-modal")
        await admin.get_by_test_id("tab-permissions").click()
        await admin.get_by_test_id("permission-history_enabled").click()
        hours = admin.get_by_test_id("permission-history_hours")
        await expect(modal).to_contain_text("Entre 1 y 168")  # the limit, shown under the field
        over, under = "No puede superar el máximo de tu plan: 168 horas.", "Escribe cuántas horas de histórico ve el agente."
        for typed, refusal, stale in (("200", over, under), ("-5", under, over)):
            await hours.fill(typed)
            await hours.press("Tab")  # blur: nothing is clamped, it is refused next to the field
            await expect(hours).to_have_value(typed)
            await expect(modal.get_by_role("alert").filter(has_text=refusal)).to_have_count(1)
            await expect(modal.get_by_role("alert").filter(has_text=stale)).to_have_count(0)
            await expect(modal.get_by_test_id("save")).to_be_disabled()
        await admin.wait_for_function("document.getAnimations().every(a => a.playState !== 'running')")
        await admin.screenshot(path="docs/firstday-number-limits.png")
        await hours.fill("48")
        await hours.press("Tab")
        await expect(hours).to_have_value("48")

        await modal.get_by_test_id("cancel").click()  # something changed: it asks
        await expect(admin.get_by_test_id("confirm-dialog")).to_contain_text("cambios sin guardar")
        await admin.wait_for_function("document.getAnimations().every(a => a.playState !== 'running')")
        await admin.screenshot(path="docs/firstday-cancel-confirm.png")
        await admin.get_by_test_id("confirm-dialog").get_by_role("button", name="Cancelar").click()
        await expect(modal).to_be_visible()  # kept, with what was typed
        await expect(hours).to_have_value("48")

        await admin.get_by_test_id("tab-channels").click()
        await admin.get_by_test_id("campaign-channels").click()
        await admin.get_by_role("option", name="API · API Ventas — en uso por Ventas").click()
        await admin.keyboard.press("Escape")
        await expect(admin.get_by_role("listbox")).to_have_count(0)
        await admin.get_by_test_id("campaign-configure-later").click()
        await expect(admin.locator(".q-field--disabled").get_by_test_id("campaign-channels")).to_have_count(1)
        await modal.get_by_test_id("save").click()
        await expect(modal).to_have_count(0)  # saved: the channels were set aside
        saved = (await customer.api("GET", f"/api/v1/campaigns/{collections}", seed.ADMIN)).json()
        assert saved["channels"] == {"configure_later": True, "channel_ids": []}
        assert saved["permissions"]["history_hours"] == 48

        await admin.get_by_test_id(f"edit-{collections}").click()  # nothing changed: Cancelar just closes
        await admin.get_by_test_id("campaign-modal").get_by_test_id("cancel").click()
        await expect(admin.get_by_test_id("campaign-modal")).to_have_count(0)
        await expect(admin.get_by_test_id("confirm-dialog")).to_have_count(0)
    finally:
        back = await customer.api("PATCH", f"/api/v1/campaigns/{collections}", seed.ADMIN, json={
            "channels": before, "permissions": {**saved_permissions(), "history_enabled": False, "history_hours": None}})
        assert back.status_code == 200, back.text


def saved_permissions() -> dict[str, bool]:
    return {"external_resources": False, "transfer_between_agents": False, "show_contact_number": False,
            "history_enabled": False, "reassign_when_exclusive_offline": True, "close_without_reply": False,
            "emojis": False, "voice_notes": False}
