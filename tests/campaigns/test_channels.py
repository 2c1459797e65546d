"""A channel serves at most one active campaign: messages arriving on it must have one home."""

import asyncio

import httpx

from tests.campaigns.conftest import CreateCampaign
from tests.factories import CampaignSetup, Factory, Tenant

URL = "/api/v1/campaigns"


async def test_a_channel_of_an_active_campaign_cannot_serve_another_active_one(
        http: httpx.AsyncClient, tenant: Tenant, setup: CampaignSetup, create_campaign: CreateCampaign) -> None:
    first = await create_campaign(name="Cobranza")
    second = await http.post(URL, headers=tenant.admin.headers, json=setup.body(name="Ventas"))
    assert second.status_code == 409 and second.json()["field"] == "channels.channel_ids"
    assert '"Cobranza"' in second.json()["detail"] and second.json()["campaign_id"] == first["id"]
    names = [c["name"] for c in (await http.get(URL, headers=tenant.admin.headers)).json()["items"]]
    assert names == ["Cobranza"]


async def test_an_inactive_campaign_may_share_the_channel_until_it_is_reactivated(
        http: httpx.AsyncClient, tenant: Tenant, setup: CampaignSetup, create_campaign: CreateCampaign) -> None:
    first = await create_campaign(name="Cobranza")
    waiting = await create_campaign(name="Ventas", active=False)
    assert waiting["channels"]["channel_ids"] == [setup.channel_id]
    reactivate = await http.patch(f"{URL}/{waiting['id']}", headers=tenant.admin.headers, json={"active": True})
    assert reactivate.status_code == 409 and reactivate.json()["field"] == "channels.channel_ids"
    assert "Cobranza" in reactivate.json()["detail"]
    assert (await http.get(f"{URL}/{waiting['id']}", headers=tenant.admin.headers)).json()["active"] is False
    # once the first campaign is switched off, the other one takes the channel
    off = await http.patch(f"{URL}/{first['id']}", headers=tenant.admin.headers, json={"active": False})
    assert off.status_code == 200
    on = await http.patch(f"{URL}/{waiting['id']}", headers=tenant.admin.headers, json={"active": True})
    assert on.status_code == 200 and on.json()["active"] is True
    back = await http.patch(f"{URL}/{first['id']}", headers=tenant.admin.headers, json={"active": True})
    assert back.status_code == 409 and "Ventas" in back.json()["detail"]


async def test_adding_a_taken_channel_to_an_active_campaign_is_refused(
        http: httpx.AsyncClient, tenant: Tenant, setup: CampaignSetup, factory: Factory,
        create_campaign: CreateCampaign) -> None:
    await create_campaign(name="Cobranza")
    web = await factory.campaign_channel(tenant.client.id)  # type: ignore[attr-defined]
    ventas = await create_campaign(name="Ventas", channels={"channel_ids": [web]})
    url = f"{URL}/{ventas['id']}"
    taken = await http.patch(url, headers=tenant.admin.headers,
                             json={"channels": {"channel_ids": [web, setup.channel_id]}})
    assert taken.status_code == 409 and "Cobranza" in taken.json()["detail"]
    # an active campaign keeps its own channels when other settings change
    renamed = await http.patch(url, headers=tenant.admin.headers, json={"name": "Ventas web"})
    assert renamed.status_code == 200 and renamed.json()["channels"]["channel_ids"] == [web]
    assert renamed.json()["channel_summaries"][0]["kind"] == "webchat"


async def test_one_campaign_may_use_several_channels(http: httpx.AsyncClient, tenant: Tenant,
                                                     setup: CampaignSetup, factory: Factory,
                                                     create_campaign: CreateCampaign) -> None:
    web = await factory.campaign_channel(tenant.client.id, name="Chat web")  # type: ignore[attr-defined]
    campaign = await create_campaign(channels={"channel_ids": [web, setup.channel_id]})
    assert campaign["channels"]["channel_ids"] == sorted([web, setup.channel_id])  # a set, read back in id order
    assert {c["name"] for c in campaign["channel_summaries"]} >= {"Chat web"}
    fewer = await http.patch(f"{URL}/{campaign['id']}", headers=tenant.admin.headers,
                             json={"channels": {"channel_ids": [setup.channel_id]}})
    assert fewer.json()["channels"]["channel_ids"] == [setup.channel_id]
    # the freed channel can now serve another active campaign
    await create_campaign(channels={"channel_ids": [web]})


async def test_two_admins_racing_for_one_channel_get_one_campaign(http: httpx.AsyncClient, tenant: Tenant,
                                                                  setup: CampaignSetup) -> None:
    bodies = [setup.body(name=f"Carrera {n}") for n in range(4)]
    responses = await asyncio.gather(*(http.post(URL, headers=tenant.admin.headers, json=b) for b in bodies))
    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409], [r.text for r in responses]
    active = (await http.get(URL, headers=tenant.admin.headers, params={"active": "true"})).json()
    assert active["total"] == 1


async def test_reactivations_racing_for_one_channel_leave_one_active(http: httpx.AsyncClient, tenant: Tenant,
                                                                     create_campaign: CreateCampaign) -> None:
    waiting = [await create_campaign(name=f"Espera {n}", active=False) for n in range(3)]
    responses = await asyncio.gather(*(http.patch(f"{URL}/{c['id']}", headers=tenant.admin.headers,
                                                  json={"active": True}) for c in waiting))
    assert sorted(r.status_code for r in responses) == [200, 409, 409], [r.text for r in responses]
    active = (await http.get(URL, headers=tenant.admin.headers, params={"active": "true"})).json()
    assert active["total"] == 1


async def test_two_admins_racing_for_one_name_get_one_campaign(http: httpx.AsyncClient, tenant: Tenant,
                                                               setup: CampaignSetup) -> None:
    later = {"configure_later": True, "channel_ids": []}
    bodies = [setup.body(name=name, channels=later) for name in ("Cobranza", "COBRANZA", "cobranza")]
    responses = await asyncio.gather(*(http.post(URL, headers=tenant.admin.headers, json=b) for b in bodies))
    assert sorted(r.status_code for r in responses) == [201, 409, 409], [r.text for r in responses]
