"""Contactos in the browser: an admin imports a CSV with bad rows, watches the progress, downloads
the row report, opens a contact and sets its exclusive agent; that contact's next conversation goes
to that agent, who sees "Cartera" in the workspace. Screenshots for the docs at desktop and 390 px."""

from pathlib import Path

from playwright.async_api import expect

from tests.workspace import seed
from tests.workspace.harness import LAPTOP, Center, Customers, Login, choose

DOCS = Path(__file__).resolve().parents[2] / "docs"
PHONE = {"width": 390, "height": 844}
CSV = ("nombre;telefono;correo;asesor\n"
       "Lucía Gómez;300 111 2233;lucia@example.com;\n"
       "Mario Díaz;12;;\n"
       "Nora Paz;3015550000;;nadie@example.com\n"
       "Lucía Gómez;+57 300-111-2233;;\n"
       "Óscar Ruiz;3025550000;;bruno.agente@cc247.example\n").encode("utf-8")


async def test_import_then_cartera_sends_the_next_conversation_to_the_exclusive_agent(
        login: Login, center: Center, customer: Customers, tmp_path: Path) -> None:
    page = await login(seed.ADMIN)
    await page.get_by_test_id("nav-contacts").click()
    await expect(page.get_by_role("heading", name="Contactos")).to_be_visible()
    await page.get_by_test_id("contacts-import").click()
    source = tmp_path / "clientes.csv"
    source.write_bytes(CSV)
    await page.locator('[data-testid="import-upload"] input[type=file]').set_input_files(str(source))
    preview = page.get_by_test_id("import-preview")
    await expect(preview).to_contain_text("Lucía Gómez")
    await expect(preview).to_contain_text("Teléfono")  # the suggested mapping of "telefono"
    await page.get_by_test_id("import-start").click()
    await expect(page.get_by_test_id("import-bar")).to_be_visible()
    counts = page.get_by_test_id("import-counts")
    await expect(counts).to_have_text("Creados: 2 · Actualizados: 0 · Duplicados: 1 · Rechazados: 2")
    await expect(page.get_by_test_id("import-status")).to_have_text("Importación terminada: 5 filas")
    async with page.expect_download() as download_info:
        await page.get_by_test_id("import-report").click()
    report = Path(await (await download_info.value).path()).read_text(encoding="utf-8-sig")
    assert "3,rechazado,,telefono,teléfono inválido" in report
    assert "4,rechazado,,asesor,agente desconocido" in report
    assert "5,omitido por duplicado" in report

    await page.get_by_test_id("import-back").click()
    await page.get_by_test_id("contacts-search").fill("300 111 2233")
    rows = page.locator('[data-testid^="contact-row-"]')
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("Lucía Gómez")
    await page.get_by_test_id("contacts-search").fill("")
    await expect(page.get_by_test_id("contacts-table")).to_contain_text("Óscar Ruiz")
    await page.screenshot(path=str(DOCS / "contacts-list-desktop.png"), full_page=True)
    await page.set_viewport_size(PHONE)
    await page.evaluate("window.scrollTo(0, 0)")
    await page.screenshot(path=str(DOCS / "contacts-list-390.png"), full_page=True)
    await page.set_viewport_size(LAPTOP)

    await page.get_by_test_id("contacts-search").fill("Lucía")
    await expect(rows).to_have_count(1)
    await rows.first.click()
    await expect(page.get_by_role("heading", name="Lucía Gómez")).to_be_visible()
    await expect(page.get_by_test_id("contact-data")).to_contain_text("300 1112233")
    await choose(page, "contact-agent", "Bruno Agente")
    await expect(page.get_by_text("Guardado")).to_be_visible()

    await customer.set_presence(seed.ANDREA, "online")
    await customer.set_presence(seed.BRUNO, "online")
    written = await customer.write("Hola, soy Lucía", name="Lucía G", contact="lucia-wa", phone="+573001112233")
    conversation = await customer.conversation(written["conversation_id"])
    assert conversation["assigned_membership_id"] == center.data.memberships[seed.BRUNO]

    await page.reload()
    await expect(page.get_by_test_id(f"contact-conversation-{written['conversation_id']}")).to_be_visible()
    await page.screenshot(path=str(DOCS / "contact-page-desktop.png"), full_page=True)
    await page.get_by_test_id(f"read-{written['conversation_id']}").click()
    await expect(page.get_by_test_id("reader")).to_contain_text("Hola, soy Lucía")
    await page.keyboard.press("Escape")
    await page.set_viewport_size(PHONE)
    await page.reload()  # laid out for the phone from the start: the sidebar folded away
    await expect(page.get_by_test_id("contact-cartera")).to_be_visible()
    await page.evaluate("window.scrollTo(0, 0)")
    await page.wait_for_timeout(500)
    await page.screenshot(path=str(DOCS / "contact-page-390.png"), full_page=True)

    bruno = await login(seed.BRUNO)
    await bruno.goto("/workspace")
    await bruno.get_by_test_id(f"inbox-item-{written['conversation_id']}").click()
    await expect(bruno.get_by_test_id("header-cartera")).to_be_visible()
