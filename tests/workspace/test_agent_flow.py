"""A day in Conversaciones, in the browser: the agent goes online, a customer writes through the
API channel and the conversation appears in the inbox at once; the agent answers, fills the
campaign's required fields, typifies and closes it. And what a campaign's permissions hide."""

import re

import pytest
from playwright.async_api import Page, expect

from tests.workspace import seed
from tests.workspace.harness import TABLET, Center, Customers, Login, choose, click_until_shown, go_online

pytestmark = pytest.mark.browser


async def open_conversation(page: Page, conversation_id: int) -> None:
    # The inbox redraws live (going online, a new message); a click on a row being replaced is lost.
    await click_until_shown(page.get_by_test_id(f"inbox-item-{conversation_id}"), page.get_by_test_id("thread"))
    await expect(page.get_by_test_id("thread")).to_be_visible()


async def test_a_customer_message_appears_live_and_the_agent_answers_fills_typifies_and_closes(
        login: Login, customer: Customers, center: Center) -> None:
    andrea = await login(seed.ANDREA)
    await go_online(andrea)
    await customer.set_presence(seed.BRUNO, "offline")

    sent = await customer.write("Hola, quiero comprar el plan premium", name="Laura Gómez", phone="+573001112233")
    item = andrea.get_by_test_id(f"inbox-item-{sent['conversation_id']}")
    await expect(item).to_contain_text("Laura Gómez")
    await expect(item).to_contain_text("Ventas")
    await expect(item).to_contain_text("Hola, quiero comprar el plan premium")
    await expect(item.get_by_test_id("unread")).to_have_text("1")
    await expect(andrea).to_have_title(re.compile(r"^\(1\) Conversaciones"))

    await open_conversation(andrea, sent["conversation_id"])
    await expect(andrea.get_by_test_id("thread")).to_contain_text("Hola, quiero comprar el plan premium")
    await expect(andrea.get_by_test_id("contact-phone")).to_have_text("+573001112233")
    await expect(item.get_by_test_id("unread")).to_have_count(0)
    await expect(andrea).to_have_title(re.compile(r"^Conversaciones"))
    # Not answered yet: Finalizar waits, and says why.
    await expect(andrea.get_by_test_id("close")).to_be_disabled()
    await expect(andrea.get_by_test_id("block-reply")).to_be_visible()

    await andrea.get_by_test_id("message-input").fill("¡Hola Laura! Con gusto te ayudo.")
    await andrea.get_by_test_id("message-input").press("Enter")
    mine = andrea.locator('[data-direction="out"]', has_text="¡Hola Laura! Con gusto te ayudo.")
    await expect(mine).to_be_visible()
    await expect(andrea.get_by_test_id("message-input")).to_have_value("")
    await expect(mine.get_by_test_id("tick")).to_have_attribute("data-status", re.compile("sent|delivered|read"))
    await expect(andrea.get_by_test_id("block-reply")).to_have_count(0)
    await expect(andrea.get_by_test_id("block-fields")).to_contain_text("Número de documento, Motivo")

    # The customer answers while the conversation is open: it appears in the thread at once.
    await customer.write("Mi documento es 1020304050", name="Laura Gómez")
    await expect(andrea.get_by_test_id("thread")).to_contain_text("Mi documento es 1020304050")

    await andrea.get_by_test_id("field-documento").fill("1020304050")
    await choose(andrea, "field-motivo", "Compra")
    await choose(andrea, "typification", "Resultado › Venta realizada")
    await expect(andrea.get_by_test_id("close")).to_be_enabled()
    await andrea.get_by_test_id("close").click()
    await andrea.get_by_test_id("confirm-yes").click()

    await expect(item).to_have_count(0)
    await expect(andrea.get_by_test_id("nothing-open")).to_be_visible()
    closed = await customer.conversation(sent["conversation_id"])
    assert closed["status"] == "closed"
    assert closed["typification_id"] == center.data.typifications["venta"]
    assert closed["field_values"] == {"documento": "1020304050", "motivo": "Compra"}
    assert [m["text"] for m in closed["messages"]][:2] == ["Hola, quiero comprar el plan premium",
                                                           "¡Hola Laura! Con gusto te ayudo."]
    assert any(body.get("text") == "¡Hola Laura! Con gusto te ayudo." for body in center.receiver.bodies)


async def test_a_field_with_a_wrong_value_is_refused_next_to_the_field(login: Login, customer: Customers) -> None:
    andrea = await login(seed.ANDREA)
    await go_online(andrea)
    sent = await customer.write("Necesito ayuda con mi pedido", name="Mario Ruiz")
    await open_conversation(andrea, sent["conversation_id"])
    await andrea.get_by_test_id("message-input").fill("Claro, ¿me das tu documento?")
    await andrea.get_by_test_id("send").click()
    await expect(andrea.locator('[data-direction="out"]')).to_have_count(1)

    await andrea.get_by_test_id("field-documento").fill("12")
    await choose(andrea, "field-motivo", "Consulta")
    await andrea.get_by_test_id("close").click()
    await andrea.get_by_test_id("confirm-yes").click()
    field = andrea.locator("label.q-field", has=andrea.get_by_test_id("field-documento"))
    await expect(field).to_contain_text("Número de documento: mínimo 5 caracteres.")
    await expect(andrea.get_by_test_id(f"inbox-item-{sent['conversation_id']}")).to_be_visible()
    assert (await customer.conversation(sent["conversation_id"]))["status"] == "assigned"

    await andrea.get_by_test_id("field-documento").fill("99887766")
    await andrea.get_by_test_id("close").click()
    await andrea.get_by_test_id("confirm-yes").click()
    await expect(andrea.get_by_test_id(f"inbox-item-{sent['conversation_id']}")).to_have_count(0)
    closed = await customer.conversation(sent["conversation_id"])
    assert closed["status"] == "closed"
    assert closed["field_values"]["documento"] == "99887766"


async def test_quick_replies_and_emoji_fill_the_typing_area(login: Login, customer: Customers) -> None:
    andrea = await login(seed.ANDREA)
    await go_online(andrea)
    sent = await customer.write("Buenas tardes", name="Elena Paz")
    await open_conversation(andrea, sent["conversation_id"])
    box = andrea.get_by_test_id("message-input")
    await box.fill("/sal")
    await expect(andrea.get_by_test_id("canned")).to_contain_text("/saludo · Saludo")
    await box.press("Enter")
    await expect(box).to_have_value("¡Hola Elena Paz! Soy Andrea Agente, ¿en qué te puedo ayudar?")
    await andrea.get_by_test_id("emoji-button").click()
    await andrea.get_by_test_id("emoji-menu").get_by_role("button", name="👋").click()
    await expect(box).to_have_value("¡Hola Elena Paz! Soy Andrea Agente, ¿en qué te puedo ayudar?👋")
    await box.press("Enter")
    await expect(andrea.get_by_test_id("thread")).to_contain_text("¿en qué te puedo ayudar?👋")


async def test_shift_enter_breaks_the_line_and_alt_arrows_move_between_conversations(
        login: Login, customer: Customers) -> None:
    andrea = await login(seed.ANDREA)
    await go_online(andrea)
    first = await customer.write("Primera consulta", name="Rosa Díaz")
    second = await customer.write("Segunda consulta", name="Pedro Gil")
    await expect(andrea.get_by_test_id(f"inbox-item-{second['conversation_id']}")).to_be_visible()
    await open_conversation(andrea, first["conversation_id"])
    box = andrea.get_by_test_id("message-input")
    await box.press_sequentially("Línea uno")
    await box.press("Shift+Enter")
    await box.press_sequentially("Línea dos")
    await expect(box).to_have_value("Línea uno\nLínea dos")
    # Both wait for an answer; Rosa has waited longer, so she comes first and Pedro next.
    await andrea.keyboard.press("Alt+ArrowDown")
    await expect(andrea.get_by_role("heading", level=1)).to_have_text("Pedro Gil")
    await expect(box).to_have_value("")
    await andrea.keyboard.press("Alt+ArrowUp")
    await expect(andrea.get_by_role("heading", level=1)).to_have_text("Rosa Díaz")
    await expect(box).to_have_value("Línea uno\nLínea dos")  # the draft waited for her


async def test_without_the_permissions_there_is_no_attachment_button_no_number_and_no_emoji(
        login: Login, customer: Customers) -> None:
    carla = await login(seed.CARLA)
    await go_online(carla)
    sent = await customer.write("Quiero un acuerdo de pago", name="Julián Mora", phone="+573004445566",
                                campaign="collections")
    item = carla.get_by_test_id(f"inbox-item-{sent['conversation_id']}")
    await expect(item).to_contain_text("Cobranza")
    await open_conversation(carla, sent["conversation_id"])
    await expect(carla.get_by_test_id("composer")).to_be_visible()
    await expect(carla.get_by_test_id("attach-button")).to_have_count(0)
    await expect(carla.get_by_test_id("voice-button")).to_have_count(0)
    await expect(carla.get_by_test_id("emoji-button")).to_have_count(0)
    await expect(carla.get_by_test_id("transfer")).to_have_count(0)
    await expect(carla.get_by_test_id("phone-hidden")).to_be_visible()
    await expect(carla.get_by_text("+573004445566")).to_have_count(0)
    # Closing before answering is refused, with the reason.
    await expect(carla.get_by_test_id("close")).to_be_disabled()
    await expect(carla.get_by_test_id("block-reply")).to_contain_text("Responde al contacto antes de finalizar")
    await carla.keyboard.press("Alt+Shift+F")
    await expect(carla.get_by_test_id("confirm-dialog")).to_have_count(0)
    assert (await customer.conversation(sent["conversation_id"]))["status"] == "assigned"
    # Emoji typed by hand are refused by the engine, with a clear message.
    await carla.get_by_test_id("message-input").fill("Claro 😀")
    await carla.get_by_test_id("message-input").press("Enter")
    await expect(carla.get_by_text("Esta campaña no permite emoticones")).to_be_visible()
    await expect(carla.locator('[data-direction="out"]')).to_have_count(0)


async def test_with_the_permission_the_agent_attaches_a_file_and_records_a_voice_note(
        login: Login, customer: Customers, center: Center, tmp_path) -> None:
    andrea = await login(seed.ANDREA)
    await go_online(andrea)
    sent = await customer.write("¿Me envías la cotización?", name="Sara León")
    await open_conversation(andrea, sent["conversation_id"])
    document = tmp_path / "cotizacion.pdf"
    document.write_bytes(b"%PDF-1.4\n% cotizacion\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n")
    async with andrea.expect_file_chooser() as chooser:
        await andrea.get_by_test_id("attach-button").click()
    await (await chooser.value).set_files(str(document))
    await expect(andrea.get_by_test_id("staged-attachment")).to_contain_text("cotizacion.pdf")
    await andrea.get_by_test_id("message-input").fill("Aquí está")
    await andrea.get_by_test_id("message-input").press("Enter")
    await expect(andrea.get_by_test_id("thread").get_by_test_id("attachment-file")).to_contain_text("cotizacion.pdf")

    await andrea.get_by_test_id("voice-button").click()
    await andrea.get_by_test_id("voice-stop").click()
    await expect(andrea.get_by_test_id("staged-attachment")).to_contain_text("Nota de voz")
    await andrea.get_by_test_id("send").click()
    await expect(andrea.get_by_test_id("thread").get_by_test_id("attachment-audio")).to_have_count(1)
    detail = await customer.conversation(sent["conversation_id"])
    kinds = [a["kind"] for m in detail["messages"] for a in m["attachments"]]
    assert kinds == ["document", "voice"]


async def test_logging_out_sets_the_agent_desconectado(login: Login, customer: Customers, center: Center) -> None:
    andrea = await login(seed.ANDREA)
    await go_online(andrea)
    sent = await customer.write("¿Siguen ahí?", name="Tomás Vega")
    await expect(andrea.get_by_test_id(f"inbox-item-{sent['conversation_id']}")).to_be_visible()
    await andrea.get_by_test_id("user-menu").click()
    await andrea.get_by_test_id("logout").click()
    await expect(andrea).to_have_url(re.compile(r"/login$"))
    agents = await customer.api("GET", f"/api/v1/campaigns/{center.data.sales_campaign_id}/agents", seed.SUPERVISOR)
    presence = {a["membership_id"]: a["presence"] for a in agents.json()}
    assert presence[center.data.memberships[seed.ANDREA]] == "offline"
    # The campaign reassigns when an agent goes offline: the conversation waits in the queue again.
    assert (await customer.conversation(sent["conversation_id"]))["status"] == "queued"


async def test_an_agent_transfers_a_conversation_and_it_moves_live(login: Login, customer: Customers) -> None:
    andrea = await login(seed.ANDREA)
    bruno = await login(seed.BRUNO)
    await go_online(andrea)
    sent = await customer.write("Quiero hablar con ventas corporativas", name="Nora Sáenz")
    await go_online(bruno)
    await open_conversation(andrea, sent["conversation_id"])
    await andrea.get_by_test_id("transfer").click()
    await andrea.get_by_test_id("agent-options").get_by_text(re.compile("^Bruno Agente")).click()
    await andrea.get_by_test_id("confirm-transfer").click()
    await expect(andrea.get_by_text("Conversación transferida a Bruno Agente.")).to_be_visible()
    await expect(andrea.get_by_test_id(f"inbox-item-{sent['conversation_id']}")).to_have_count(0)
    await expect(bruno.get_by_test_id(f"inbox-item-{sent['conversation_id']}")).to_contain_text("Nora Sáenz")
    detail = await customer.conversation(sent["conversation_id"])
    assert [a["end_reason"] for a in detail["assignments"]] == ["transferred", None]


async def test_a_closed_whatsapp_window_offers_only_approved_templates(
        login: Login, customer: Customers, center: Center) -> None:
    conversation_id = await seed.whatsapp_conversation(center.server.database_url, center.data, seed.ANDREA,
                                                       contact_name="Ulises Paredes", hours_ago=30)
    andrea = await login(seed.ANDREA)
    await go_online(andrea)
    await open_conversation(andrea, conversation_id)
    picker = andrea.get_by_test_id("template-picker")
    await expect(picker).to_contain_text("WhatsApp solo permite enviar una plantilla aprobada")
    await expect(andrea.get_by_test_id("message-input")).to_have_count(0)
    await choose(andrea, "template-select", "seguimiento (es)")
    await expect(andrea.get_by_test_id("send-template")).to_be_disabled()
    await picker.get_by_label("Parámetro 1").fill("Ulises")
    await expect(picker).to_contain_text("Hola Ulises, ¿pudiste revisar la propuesta?")
    await andrea.get_by_test_id("send-template").click()
    await expect(andrea.get_by_test_id("thread")).to_contain_text("Hola Ulises, ¿pudiste revisar la propuesta?")
    detail = await customer.conversation(conversation_id)
    assert detail["messages"][-1]["sender"] == "agent"


async def test_read_receipts_arrive_live_and_earlier_conversations_show_as_history(
        login: Login, customer: Customers, center: Center) -> None:
    andrea = await login(seed.ANDREA)
    await go_online(andrea)
    before = await customer.write("Hola, ¿tienen envíos?", name="Gloria Ibáñez")
    await open_conversation(andrea, before["conversation_id"])
    await andrea.get_by_test_id("message-input").fill("Sí, a todo el país.")
    await andrea.get_by_test_id("message-input").press("Enter")
    mine = andrea.locator('[data-direction="out"]', has_text="Sí, a todo el país.")
    await expect(mine.get_by_test_id("tick")).to_have_attribute("data-status", "sent")
    message_id = (await customer.conversation(before["conversation_id"]))["messages"][-1]["id"]
    raw, headers = seed.signed(seed.SALES_SECRET, {"message_id": message_id, "status": "read"})
    response = await customer.http.post(f"/api/v1/channels/{center.data.sales_channel_id}/status", content=raw,
                                        headers=headers)
    assert response.status_code == 200, response.text
    await expect(mine.get_by_test_id("tick")).to_have_attribute("data-status", "read")

    await andrea.get_by_test_id("field-documento").fill("44556677")
    await choose(andrea, "field-motivo", "Consulta")
    await andrea.get_by_test_id("close").click()
    await andrea.get_by_test_id("confirm-yes").click()
    await expect(andrea.get_by_test_id(f"inbox-item-{before['conversation_id']}")).to_have_count(0)

    again = await customer.write("Hola otra vez, ¿cuánto cuesta el envío?", name="Gloria Ibáñez")
    await open_conversation(andrea, again["conversation_id"])
    history = andrea.get_by_test_id(f"history-{before['conversation_id']}")
    await expect(history).to_contain_text("2 mensajes")
    await history.click()
    await expect(history).to_contain_text("Sí, a todo el país.")


async def test_on_a_tablet_the_panel_opens_over_the_conversation(login: Login, customer: Customers) -> None:
    andrea = await login(seed.ANDREA, viewport=TABLET)
    await go_online(andrea)
    sent = await customer.write("Hola desde la tableta", name="Hugo Lara")
    await open_conversation(andrea, sent["conversation_id"])
    await expect(andrea.get_by_test_id("message-input")).to_be_visible()
    await expect(andrea.get_by_test_id("side-panel")).to_be_hidden()
    await andrea.get_by_test_id("details-toggle").click()
    await expect(andrea.get_by_test_id("side-panel")).to_be_visible()
    await expect(andrea.get_by_test_id("close")).to_be_visible()
