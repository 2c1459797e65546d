"""Duplicar: a copy with every setting, inactive and without channels, so it never steals them."""

import httpx

from atiende.catalog.models import Typification
from tests.campaigns.conftest import CreateCampaign, Deactivate
from tests.factories import CampaignSetup, Tenant

URL = "/api/v1/campaigns"
SETTINGS = ("project_id", "survey", "funnel_id", "schedule", "typifications", "inactivity_timeout_minutes",
            "permissions", "fields", "assignment_method", "client_id")


async def test_a_duplicate_is_an_inactive_copy_without_channels(http: httpx.AsyncClient, tenant: Tenant,
                                                                create_campaign: CreateCampaign) -> None:
    original = await create_campaign(name="Recordatorios de pago")
    response = await http.post(f"{URL}/{original['id']}/duplicate", headers=tenant.admin.headers)
    assert response.status_code == 201, response.text
    copy = response.json()
    assert copy["id"] != original["id"] and copy["name"] == "Recordatorios de pago (copia)"
    assert copy["active"] is False
    assert copy["channels"] == {"configure_later": True, "channel_ids": []} and copy["channel_summaries"] == []
    for key in SETTINGS:
        assert copy[key] == original[key], key
    # the original keeps its channel and stays active
    again = (await http.get(f"{URL}/{original['id']}", headers=tenant.admin.headers)).json()
    assert again["active"] is True and again["channels"] == original["channels"]


async def test_copies_get_numbered_names_until_unique(http: httpx.AsyncClient, tenant: Tenant,
                                                      create_campaign: CreateCampaign) -> None:
    original = await create_campaign(name="Ventas")
    url = f"{URL}/{original['id']}/duplicate"
    names = [(await http.post(url, headers=tenant.admin.headers)).json()["name"] for _ in range(3)]
    assert names == ["Ventas (copia)", "Ventas (copia 2)", "Ventas (copia 3)"]


async def test_a_copy_of_a_long_name_still_fits(http: httpx.AsyncClient, tenant: Tenant,
                                                create_campaign: CreateCampaign) -> None:
    original = await create_campaign(name="C" * 120)
    copy = await http.post(f"{URL}/{original['id']}/duplicate", headers=tenant.admin.headers)
    assert copy.status_code == 201 and copy.json()["name"] == "C" * 112 + " (copia)"


async def test_the_copy_may_be_named_but_the_name_must_be_free(http: httpx.AsyncClient, tenant: Tenant,
                                                               create_campaign: CreateCampaign) -> None:
    original = await create_campaign(name="Ventas")
    url = f"{URL}/{original['id']}/duplicate"
    named = await http.post(url, headers=tenant.admin.headers, json={"name": "Ventas Q3"})
    assert named.status_code == 201 and named.json()["name"] == "Ventas Q3"
    clash = await http.post(url, headers=tenant.admin.headers, json={"name": "ventas"})
    assert clash.status_code == 409 and clash.json()["field"] == "name"
    for bad in ({"name": ""}, {"name": "x" * 121}, {"name": "a\x00b"}, {"nombre": "X"}):
        response = await http.post(url, headers=tenant.admin.headers, json=bad)
        assert response.status_code == 422, (bad, response.text)
    assert (await http.get(URL, headers=tenant.admin.headers)).json()["total"] == 2


async def test_a_campaign_using_an_item_deactivated_since_can_still_be_duplicated(
        http: httpx.AsyncClient, tenant: Tenant, setup: CampaignSetup, deactivate: Deactivate,
        create_campaign: CreateCampaign) -> None:
    original = await create_campaign()
    await deactivate(Typification, setup.typification_ids["inactivity"])
    copy = await http.post(f"{URL}/{original['id']}/duplicate", headers=tenant.admin.headers)
    assert copy.status_code == 201, copy.text
    assert copy.json()["typifications"] == original["typifications"]
