"""Supervisión, in the browser: the supervisor watches the queue and the agents live, moves all of an
agent's conversations to a colleague (who sees them arrive at once), changes an agent's presence,
transfers and closes single conversations, and reads any conversation without changing it."""

import re

import pytest
from playwright.async_api import Page, expect

from tests.workspace import seed
from tests.workspace.harness import Center, Customers, Login, choose, click_until_shown, go_online

pytestmark = pytest.mark.browser


async def open_board(page: Page, center: Center) -> None:
    await page.goto(f"/supervisor?campaign={center.data.sales_campaign_id}")
    await expect(page.get_by_test_id("board")).to_contain_text("Ventas")


async def test_the_supervisor_sees_the_queue_and_a_mass_transfer_reaches_the_other_agent_live(
        login: Login, customer: Customers, center: Center) -> None:
    andrea_id, bruno_id = center.data.memberships[seed.ANDREA], center.data.memberships[seed.BRUNO]
    await customer.set_presence(seed.ANDREA, "online")
    first = await customer.write("Hola, primera consulta", name="Cliente Uno")
    second = await customer.write("Hola, segunda consulta", name="Cliente Dos")
    waiting = await customer.write("Hola, ¿alguien me atiende?", name="Cliente Tres")

    sofia = await login(seed.SUPERVISOR)
    await open_board(sofia, center)
    queue = sofia.get_by_test_id("queue")
    await expect(queue.get_by_test_id(f"queued-{waiting['conversation_id']}")).to_contain_text("Cliente Tres")
    await expect(queue.get_by_test_id("queue-count")).to_have_text("1")
    await expect(sofia.get_by_test_id(f"agent-{andrea_id}").get_by_test_id("load")).to_have_text("2/2")
    await expect(sofia.get_by_test_id(f"agent-{andrea_id}")).to_contain_text("En línea")
    for sent in (first, second):
        await expect(sofia.get_by_test_id(f"active-{sent['conversation_id']}")).to_contain_text("Andrea Agente")

    # Bruno comes online: the waiting customer goes to him at once, and leaves the queue.
    bruno = await login(seed.BRUNO)
    await go_online(bruno)
    await expect(bruno.get_by_test_id(f"inbox-item-{waiting['conversation_id']}")).to_contain_text("Cliente Tres")
    await expect(queue.get_by_test_id("queue-count")).to_have_text("0")
    await expect(sofia.get_by_test_id(f"agent-{bruno_id}")).to_contain_text("En línea")
    await expect(sofia.get_by_test_id(f"agent-{bruno_id}").get_by_test_id("load")).to_have_text("1/3")

    await sofia.get_by_test_id(f"mass-transfer-{andrea_id}").click()
    await sofia.get_by_test_id("agent-options").get_by_text(re.compile("^Bruno Agente")).click()
    await sofia.get_by_test_id("confirm-transfer").click()
    await expect(sofia.get_by_text("Transferencia masiva hecha: 2 transferidas, 0 a la cola.")).to_be_visible()

    for sent, name in ((first, "Cliente Uno"), (second, "Cliente Dos")):
        await expect(bruno.get_by_test_id(f"inbox-item-{sent['conversation_id']}")).to_contain_text(name)
        await expect(sofia.get_by_test_id(f"active-{sent['conversation_id']}")).to_contain_text("Bruno Agente")
    await expect(sofia.get_by_test_id(f"agent-{andrea_id}").get_by_test_id("load")).to_have_text("0/2")
    await expect(sofia.get_by_test_id(f"agent-{bruno_id}").get_by_test_id("load")).to_have_text("3/3")
    detail = await customer.conversation(first["conversation_id"])
    assert [a["end_reason"] for a in detail["assignments"]] == ["mass_transfer", None]
    assert detail["assignments"][0]["typification_id"] == center.data.typifications["masiva"]


async def test_a_mass_transfer_back_to_the_queue(login: Login, customer: Customers, center: Center) -> None:
    andrea_id = center.data.memberships[seed.ANDREA]
    await customer.set_presence(seed.ANDREA, "online")
    sent = await customer.write("Necesito ayuda", name="Cliente Cuatro")
    sofia = await login(seed.SUPERVISOR)
    await open_board(sofia, center)
    await expect(sofia.get_by_test_id(f"active-{sent['conversation_id']}")).to_be_visible()
    await sofia.get_by_test_id(f"mass-transfer-{andrea_id}").click()
    await sofia.get_by_test_id("agent-options").get_by_text("De vuelta a la cola").click()
    await sofia.get_by_test_id("confirm-transfer").click()
    await expect(sofia.get_by_text("1 a la cola")).to_be_visible()
    await expect(sofia.get_by_test_id("queue").get_by_test_id(f"queued-{sent['conversation_id']}")).to_be_visible()
    assert (await customer.conversation(sent["conversation_id"]))["status"] == "queued"


async def test_the_supervisor_changes_an_agents_presence_and_the_agent_sees_it(
        login: Login, customer: Customers, center: Center) -> None:
    bruno_id = center.data.memberships[seed.BRUNO]
    bruno = await login(seed.BRUNO)
    await go_online(bruno)
    sofia = await login(seed.SUPERVISOR)
    await open_board(sofia, center)
    await choose(sofia, f"presence-{bruno_id}", "Ausente")
    await expect(sofia.get_by_test_id(f"agent-{bruno_id}")).to_contain_text("Ausente")
    await expect(bruno.get_by_test_id("presence").get_by_role("button", name="Ausente")) \
        .to_have_attribute("aria-pressed", "true")


async def test_the_supervisor_transfers_closes_and_reads_conversations(
        login: Login, customer: Customers, center: Center) -> None:
    await customer.set_presence(seed.ANDREA, "online")
    await customer.set_presence(seed.BRUNO, "online")
    sent = await customer.write("Quiero cambiar mi plan", name="Cliente Cinco", phone="+573007778899")

    sofia = await login(seed.SUPERVISOR)
    await open_board(sofia, center)
    row = sofia.get_by_test_id(f"active-{sent['conversation_id']}")
    # Who holds it comes from the server; the board must show exactly that agent.
    names = {center.data.memberships[seed.ANDREA]: "Andrea Agente", center.data.memberships[seed.BRUNO]: "Bruno Agente"}
    holder = names[(await customer.conversation(sent["conversation_id"]))["assigned_membership_id"]]
    await expect(row.get_by_test_id("active-agent")).to_have_text(holder)
    other = "Bruno Agente" if holder == "Andrea Agente" else "Andrea Agente"
    await row.get_by_test_id(f"transfer-{sent['conversation_id']}").click()
    await sofia.get_by_test_id("agent-options").get_by_text(re.compile(f"^{other}")).click()
    await sofia.get_by_test_id("confirm-transfer").click()
    await expect(row.get_by_test_id("active-agent")).to_have_text(other)

    reader = sofia.get_by_test_id("reader")
    await click_until_shown(row.get_by_test_id(f"read-{sent['conversation_id']}"), reader)
    await expect(reader).to_contain_text("Quiero cambiar mi plan")
    await expect(reader).to_contain_text("Solo lectura")
    await expect(reader).to_contain_text("+573007778899")
    await expect(reader.get_by_test_id("message-input")).to_have_count(0)
    await reader.get_by_role("button", name="Cerrar").click()

    await row.get_by_test_id(f"close-{sent['conversation_id']}").click()
    dialog = sofia.get_by_test_id("close-dialog")
    await dialog.get_by_test_id("confirm-close").click()
    await expect(dialog).to_contain_text("Número de documento es obligatorio para finalizar.")
    await dialog.get_by_test_id("field-documento").fill("55667788")
    await choose(sofia, "field-motivo", "Consulta")
    await choose(sofia, "close-typification", "Resultado › Consulta resuelta")
    await dialog.get_by_test_id("confirm-close").click()
    await expect(row).to_have_count(0)
    closed = await customer.conversation(sent["conversation_id"])
    assert closed["status"] == "closed" and closed["close_reason"] == "supervisor"
    assert closed["typification_id"] == center.data.typifications["resuelta"]

    await sofia.get_by_test_id("tab-search").click()
    await sofia.get_by_test_id("search-input").fill("Cinco")
    await sofia.get_by_test_id("search-button").click()
    found = sofia.get_by_test_id(f"found-{sent['conversation_id']}")
    await expect(found).to_contain_text("Finalizada")
    await found.get_by_test_id(f"read-{sent['conversation_id']}").click()
    await expect(sofia.get_by_test_id("reader")).to_contain_text("(transferida)")


async def test_an_agent_cannot_open_the_supervisor_console(login: Login) -> None:
    andrea = await login(seed.ANDREA)
    response = await andrea.goto("/supervisor")
    assert response is not None and response.status == 403
    await expect(andrea.get_by_test_id("board")).to_have_count(0)


async def test_an_admin_manages_quick_replies_and_a_supervisor_only_reads_them(login: Login) -> None:
    admin = await login(seed.ADMIN)
    await admin.goto("/supervisor")
    await admin.get_by_test_id("tab-canned").click()
    await expect(admin.get_by_test_id("canned-saludo")).to_be_visible()
    await admin.get_by_test_id("canned-create").click()
    await admin.get_by_test_id("canned-shortcut").fill("horario")
    await admin.get_by_test_id("canned-name").fill("Horario")
    await admin.get_by_test_id("canned-text").fill("Atendemos las 24 horas, todos los días.")
    await admin.get_by_test_id("save").click()
    await expect(admin.get_by_test_id("canned-horario")).to_contain_text("Atendemos las 24 horas")
    await admin.get_by_test_id("canned-create").click()
    await admin.get_by_test_id("canned-shortcut").fill("saludo")
    await admin.get_by_test_id("canned-name").fill("Otro saludo")
    await admin.get_by_test_id("canned-text").fill("Hola")
    await admin.get_by_test_id("save").click()
    await expect(admin.get_by_test_id("canned-dialog")).to_contain_text("Ya existe una respuesta rápida con el atajo «/saludo».")

    sofia = await login(seed.SUPERVISOR)
    await sofia.goto("/supervisor")
    await sofia.get_by_test_id("tab-canned").click()
    await expect(sofia.get_by_test_id("canned-horario")).to_be_visible()
    await expect(sofia.get_by_test_id("canned-create")).to_have_count(0)
