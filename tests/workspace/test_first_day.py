"""A team's first day, in the browser: the admin staffs campaigns from the console (the campaign's
*Agentes* and the user's *Campañas*, with capacity), the supervisor staffs and hands out queued work
from the board, and the workspace works on a phone (390 × 844)."""

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
