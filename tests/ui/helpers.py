"""Steps a person takes in the console, written once for the browser tests."""

import re

from playwright.async_api import Locator, Page, expect

from tests.ui.seed import EMPTY_CLIENT, PASSWORD


async def log_in(page: Page, email: str, password: str = PASSWORD, *, next_path: str | None = None) -> None:
    await page.goto(f"/login?next={next_path}" if next_path else "/login")
    await page.get_by_test_id("login-email").fill(email)
    await page.get_by_test_id("login-password").fill(password)
    await page.get_by_test_id("login-submit").click()
    await expect(page).not_to_have_url(re.compile(r"/login"))


async def choose_client(page: Page, name: str = EMPTY_CLIENT) -> None:
    """Picks the client in the header switcher (the admin of the tests has two)."""
    switcher = page.get_by_test_id("client-switcher")
    if (await switcher.inner_text()).strip() == name:
        return
    await switcher.click()
    await page.get_by_role("option", name=name, exact=True).click()
    await expect(page.get_by_test_id("client-switcher")).to_have_text(name)


async def open_screen(page: Page, entry: str, client: str = EMPTY_CLIENT) -> None:
    """Goes to a sidebar entry in ``client``."""
    await choose_client(page, client)
    await page.get_by_test_id(f"nav-{entry}").click()
    await expect(page.get_by_test_id(f"nav-{entry}")).to_have_class(re.compile(r"q-item--active"))


def field_of(page: Page, testid: str) -> Locator:
    """The whole Quasar field (label, control, error) around the element carrying ``testid``."""
    return page.locator("label.q-field", has=page.get_by_test_id(testid))


async def pick(page: Page, testid: str, option: str, *, search: str | None = None) -> None:
    """Chooses ``option`` in the Quasar select carrying ``testid`` (typing ``search`` to filter long lists)."""
    await page.get_by_test_id(testid).click()
    if search:
        await page.get_by_test_id(testid).fill(search)
    await page.get_by_role("option", name=option, exact=True).click()
    await expect(page.get_by_role("listbox")).to_have_count(0)


async def pick_many(page: Page, testid: str, *options: str) -> None:
    """Chooses several options of a multiple select, then closes its menu."""
    await page.get_by_test_id(testid).click()
    for option in options:
        await page.get_by_role("option", name=option).click()
    await page.keyboard.press("Escape")
    await expect(page.get_by_role("listbox")).to_have_count(0)


async def save_dialog(page: Page, dialog_testid: str) -> None:
    await page.get_by_test_id("save").click()
    await expect(page.get_by_test_id(dialog_testid)).to_have_count(0)
