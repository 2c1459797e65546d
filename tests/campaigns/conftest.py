"""Shared set-up for campaign tests: a tenant with everything a campaign references."""

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from atiende.db import Base, Database
from tests.factories import CampaignSetup, Factory, Tenant

Deactivate = Callable[[type[Base], int], Awaitable[None]]
CreateCampaign = Callable[..., Awaitable[dict[str, Any]]]


@pytest.fixture
async def setup(factory: Factory, tenant: Tenant) -> CampaignSetup:
    return await factory.campaign_setup(tenant.client.id)  # type: ignore[attr-defined,no-any-return]


@pytest.fixture
async def other_setup(factory: Factory, other_tenant: Tenant) -> CampaignSetup:
    return await factory.campaign_setup(other_tenant.client.id)  # type: ignore[attr-defined,no-any-return]


@pytest.fixture
def deactivate(database: Database) -> Deactivate:
    """Switch a catalog row off directly in the database (as if an admin did it elsewhere)."""

    async def _deactivate(model: type[Base], item_id: int) -> None:
        async with database.session() as session:
            row_id = model.id  # type: ignore[attr-defined]
            await session.execute(update(model).where(row_id == item_id).values(active=False))

    return _deactivate


@pytest.fixture
def create_campaign(http: httpx.AsyncClient, tenant: Tenant, setup: CampaignSetup) -> CreateCampaign:
    """POST a valid campaign as the tenant's admin (overrides replace top-level keys)."""

    async def _create(**overrides: Any) -> dict[str, Any]:
        response = await http.post("/api/v1/campaigns", headers=tenant.admin.headers, json=setup.body(**overrides))
        assert response.status_code == 201, response.text
        return response.json()  # type: ignore[no-any-return]

    return _create
