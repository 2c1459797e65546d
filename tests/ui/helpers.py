"""Steps a person takes in the console, written once for the browser tests."""

from playwright.async_api import Page, expect

from tests.ui.seed import EMPTY_CLIENT, PASSWORD


async def log_in(page: Page, email: str, password: str = PASSWORD, *, next_path: str | None = None) -> None:
    await page.goto(f"/login?next={next_path}" if next_path else "/login")
    await page.get_by_test_id("login-email").fill(email)
    await page.get_by_test_id("login-password").fill(password)
    await page.get_by_test_id("login-submit").click()
    await expect(page.get_by_test_id("user-menu")).to_be_visible()


async def choose_client(page: Page, name: str = EMPTY_CLIENT) -> None:
    """Picks the client in the header switcher (the admin of the tests has two)."""
    switcher = page.get_by_test_id("client-switcher")
    if (await switcher.inner_text()).strip() == name:
        return
    await switcher.click()
    await page.get_by_role("option", name=name).click()
    await expect(page.get_by_test_id("client-switcher")).to_have_text(name)


async def pick(page: Page, testid: str, option: str) -> None:
    """Chooses ``option`` in the Quasar select carrying ``testid``."""
    await page.get_by_test_id(testid).click()
    await page.get_by_role("option", name=option, exact=True).click()
