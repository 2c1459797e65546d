"""The workspace and the board on a phone (390 × 844) and a tablet, the inbox list's layout with
long previews, and what reaches an agent live without reloading the page (quick replies), in the
browser. Screenshots: docs/workspace-390.png, docs/widget12-*.png (SQLite run)."""

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Locator, Page, expect

from tests.workspace import seed
from tests.workspace.harness import LAPTOP, TABLET, Center, Customers, Login, click_until_shown, go_online

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
DOCS = Path(__file__).resolve().parents[2] / "docs"


async def box(locator: Locator) -> dict[str, float]:
    found = await locator.bounding_box()
    assert found is not None, "not laid out"
    return found


async def sideways_scroll(page: Page, selector: str = "html") -> int:
    """How many pixels the element can scroll sideways (0: nothing is cut or hidden to the right)."""
    return int(await page.eval_on_selector(selector, "el => el.scrollWidth - el.clientWidth"))


async def open_conversation(page: Page, conversation_id: int) -> None:
    await click_until_shown(page.get_by_test_id(f"inbox-item-{conversation_id}"), page.get_by_test_id("thread"))


async def shoot(page: Page, name: str, db_kind: str) -> None:
    if db_kind == "sqlite":
        await page.screenshot(path=str(DOCS / name))


async def test_on_a_phone_the_workspace_is_one_column_with_a_way_back_to_the_inbox(
        login: Login, customer: Customers, db_kind: str) -> None:
    andrea = await login(seed.ANDREA, viewport=PHONE)
    await go_online(andrea)
    for name in ("En línea", "Ausente", "Desconectado"):  # the whole presence switch fits on the screen
        button = await box(andrea.get_by_test_id("presence").get_by_role("button", name=name))
        assert button["x"] >= 0 and button["x"] + button["width"] <= PHONE["width"], name
    await customer.set_presence(seed.BRUNO, "offline")
    sent = await customer.write("Hola, ¿tienen envíos a Medellín? Necesito el pedido antes del viernes",
                                name="Valentina Ríos", phone="+573005556677")
    item = andrea.get_by_test_id(f"inbox-item-{sent['conversation_id']}")
    await expect(item).to_be_visible()
    assert (await box(andrea.get_by_test_id("inbox")))["width"] >= 370
    assert await sideways_scroll(andrea) == 0

    await open_conversation(andrea, sent["conversation_id"])
    await expect(andrea.get_by_test_id("inbox")).to_be_hidden()
    thread = await box(andrea.get_by_test_id("thread"))
    assert thread["width"] >= 370, thread  # the chat column takes the whole phone
    await expect(andrea.get_by_test_id("message-input")).to_be_visible()
    composer = await box(andrea.get_by_test_id("composer"))
    assert composer["y"] + composer["height"] <= PHONE["height"]
    await andrea.get_by_test_id("message-input").fill("¡Hola Valentina! Sí, enviamos a Medellín.")
    await andrea.get_by_test_id("message-input").press("Enter")
    await expect(andrea.locator('[data-direction="out"]')).to_have_count(1)
    assert await sideways_scroll(andrea) == 0
    await shoot(andrea, "workspace-390.png", db_kind)

    await andrea.get_by_test_id("details-toggle").click()
    panel = andrea.get_by_test_id("side-panel")
    await expect(panel).to_be_visible()
    assert (await box(panel))["width"] >= 350
    await expect(andrea.get_by_test_id("contact-phone")).to_have_text("+573005556677")
    await shoot(andrea, "widget12-workspace-390-details.png", db_kind)
    await andrea.get_by_test_id("details-close").click()
    await expect(panel).to_be_hidden()

    await andrea.get_by_test_id("message-input").fill("Un borrador")
    await andrea.get_by_test_id("back-to-inbox").click()
    await expect(andrea.get_by_test_id("thread")).to_be_hidden()
    await expect(item).to_be_visible()
    await expect(andrea.get_by_test_id("back-to-inbox")).to_have_count(0)
    await open_conversation(andrea, sent["conversation_id"])
    await expect(andrea.get_by_test_id("message-input")).to_have_value("Un borrador")  # the draft waited


async def test_on_a_tablet_and_a_laptop_the_inbox_and_the_conversation_stand_side_by_side(
        login: Login, customer: Customers, db_kind: str) -> None:
    await customer.set_presence(seed.BRUNO, "offline")
    for viewport in (TABLET, LAPTOP):
        andrea = await login(seed.ANDREA, viewport=viewport)
        await go_online(andrea)
        sent = await customer.write(f"Consulta desde {viewport['width']} px", name=f"Cliente {viewport['width']}")
        await open_conversation(andrea, sent["conversation_id"])
        await expect(andrea.get_by_test_id("inbox")).to_be_visible()
        await expect(andrea.get_by_test_id("back-to-inbox")).to_be_hidden()
        assert (await box(andrea.get_by_test_id("thread")))["width"] >= 450
        assert await sideways_scroll(andrea) == 0
        if viewport == LAPTOP:
            await shoot(andrea, "widget12-workspace-desktop.png", db_kind)


async def test_on_a_phone_the_board_is_one_column_and_nothing_is_cut(
        login: Login, customer: Customers, center: Center, db_kind: str) -> None:
    await customer.set_presence(seed.ANDREA, "online")
    await customer.set_presence(seed.BRUNO, "offline")
    served = await customer.write("Quiero cambiar mi plan", name="Tomás Herrera")
    sofia = await login(seed.SUPERVISOR, viewport=PHONE)
    await sofia.goto(f"/supervisor?campaign={center.data.sales_campaign_id}")
    active = sofia.get_by_test_id(f"active-{served['conversation_id']}")
    await expect(active).to_be_visible()
    assert await sideways_scroll(sofia) == 0
    queue, agents = await box(sofia.get_by_test_id("queue")), await box(sofia.get_by_test_id("agents"))
    assert agents["y"] >= queue["y"] + queue["height"]  # stacked, not side by side
    andrea = center.data.memberships[seed.ANDREA]
    for control in (sofia.get_by_test_id(f"presence-{andrea}"), sofia.get_by_test_id(f"mass-transfer-{andrea}"),
                    active.get_by_test_id(f"close-{served['conversation_id']}")):
        found = await box(control)
        assert found["x"] + found["width"] <= PHONE["width"]
    await shoot(sofia, "widget12-board-390.png", db_kind)

    await active.get_by_test_id(f"read-{served['conversation_id']}").click()
    reader = sofia.get_by_test_id("reader")
    await expect(reader).to_contain_text("Quiero cambiar mi plan")
    # the dialog grows as it opens: wait for the thread to take (nearly) the phone's width
    await sofia.wait_for_function(
        """() => (document.querySelector('[data-testid=reader-thread]')?.getBoundingClientRect().width || 0) >= 320""")
    await reader.get_by_role("button", name="Cerrar").click()
    await expect(reader).to_have_count(0)


async def test_a_long_preview_ends_in_an_ellipsis_and_selecting_a_row_moves_nothing(
        login: Login, customer: Customers) -> None:
    await customer.set_presence(seed.BRUNO, "offline")
    andrea = await login(seed.ANDREA)
    await go_online(andrea)
    long_text = ("Buenas tardes, les escribo porque el pedido número 4589-2231-XZ que hice hace dos semanas "
                 "todavía no llega y nadie me responde en la línea telefónica") * 2
    sent = await customer.write(long_text, name="Gabriela Montoya Restrepo de la Cruz")
    other = await customer.write("Hola", name="Iván")
    item = andrea.get_by_test_id(f"inbox-item-{sent['conversation_id']}")
    await expect(item).to_be_visible()
    await expect(andrea.get_by_test_id(f"inbox-item-{other['conversation_id']}")).to_be_visible()
    assert await sideways_scroll(andrea, '[data-testid="inbox"]') == 0
    preview = item.get_by_test_id("inbox-preview")
    assert await preview.evaluate("el => getComputedStyle(el).textOverflow") == "ellipsis"
    assert await preview.evaluate("el => el.scrollWidth > el.clientWidth")  # cut, with "…"
    preview_box = await box(preview)
    assert preview_box["x"] + preview_box["width"] <= (await box(andrea.get_by_test_id("inbox")))["x"] + 310

    before = await box(item.get_by_test_id("inbox-contact"))
    await open_conversation(andrea, sent["conversation_id"])
    await expect(item).to_have_class(re.compile("bg-teal-1"))
    after = await box(andrea.get_by_test_id(f"inbox-item-{sent['conversation_id']}").get_by_test_id("inbox-contact"))
    assert (round(after["x"]), round(after["y"]), round(after["width"])) == \
        (round(before["x"]), round(before["y"]), round(before["width"]))
    assert await sideways_scroll(andrea, '[data-testid="inbox"]') == 0


async def test_the_tab_icon_is_a_drawing_not_an_emoji(center: Center) -> None:
    import httpx

    icon = httpx.get(f"{center.base_url}/favicon.ico")
    assert icon.status_code == 200
    assert icon.headers["content-type"].startswith("image/svg+xml")
    assert "<path" in icon.text


async def test_a_new_quick_reply_reaches_an_agent_without_reloading_the_page(
        login: Login, customer: Customers, center: Center) -> None:
    await customer.set_presence(seed.BRUNO, "offline")
    andrea = await login(seed.ANDREA)
    await go_online(andrea)
    sent = await customer.write("¿Hacen envíos?", name="Paula Niño")
    await open_conversation(andrea, sent["conversation_id"])
    box_ = andrea.get_by_test_id("message-input")
    await box_.fill("/envi")
    await expect(andrea.get_by_test_id("canned")).to_have_count(0)
    created = await customer.api("POST", "/api/v1/canned-replies", seed.ADMIN, json={
        "client_id": center.data.client_id, "shortcut": "envios", "title": "Envíos",
        "text": "Enviamos a todo el país, {contacto}."})
    assert created.status_code == 201, created.text
    try:
        await box_.fill("")
        await box_.press_sequentially("/envi")
        # The list narrows as each key arrives: wait for it to settle on the one match before Enter.
        await expect(andrea.get_by_test_id("canned").filter(has_text="/envios · Envíos")).to_have_count(1)
        await expect(andrea.get_by_test_id("canned")).to_have_count(1)
        await box_.press("Enter")
        await expect(box_).to_have_value("Enviamos a todo el país, Paula Niño.")
    finally:
        deleted = await customer.api("DELETE", f"/api/v1/canned-replies/{created.json()['id']}", seed.ADMIN)
        assert deleted.status_code in (200, 204), deleted.text
