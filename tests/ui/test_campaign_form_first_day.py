"""The seven-tab form's first-day traps, through the draft the modal sends and the service that
saves it: *Configurar canales después* sends no channel (so a channel another campaign holds
cannot stop the save), and a number out of its range is refused — never changed — next to the
field, with the limit shown."""

import httpx

from atiende.campaigns.models import AssignmentMethod, OutOfHoursAction
from atiende.i18n import set_default_locale
from atiende.ui.console.campaign_form import CampaignDraft
from atiende.ui.numbers import out_of_range
from tests.factories import Factory, Tenant


def draft_over(setup, **values) -> CampaignDraft:  # type: ignore[no-untyped-def]
    body = setup.body()
    return CampaignDraft(client_id=body["client_id"], project_id=body["project_id"], schedule_id=setup.schedule_id,
                         out_of_hours_action=OutOfHoursAction.close, typifications=dict(setup.typification_ids),
                         assignment_method=AssignmentMethod.smart, **values)


async def test_configure_channels_later_saves_although_the_ticked_channel_serves_another_campaign(
        http: httpx.AsyncClient, tenant: Tenant, factory: Factory) -> None:
    setup = await factory.campaign_setup(tenant.client.id)  # type: ignore[attr-defined]
    holder = await http.post("/api/v1/campaigns", json=setup.body(name="Soporte"), headers=tenant.admin.headers)
    assert holder.status_code == 201, holder.text  # it holds setup.channel_id
    draft = draft_over(setup, name="Cobranza", configure_later=True, channel_ids=[setup.channel_id])
    assert draft.payload()["channels"] == {"configure_later": True, "channel_ids": []}
    saved = await http.post("/api/v1/campaigns", json=draft.payload(), headers=tenant.admin.headers)
    assert saved.status_code == 201, saved.text
    assert saved.json()["channels"] == {"configure_later": True, "channel_ids": []}
    draft.configure_later = False  # switched off again: the ticked channel is sent, and refused by name
    refused = await http.post("/api/v1/campaigns", json={**draft.payload(), "name": "Otra"},
                              headers=tenant.admin.headers)
    assert refused.status_code == 409 and refused.json()["code"] == "campaign.channel_in_use"


def test_a_number_out_of_range_is_refused_with_its_limits_not_changed() -> None:
    set_default_locale("es")
    assert out_of_range(200, 1, 168) == "Escribe un número entero entre 1 y 168"
    assert out_of_range(-5, 1, 168) == "Escribe un número entero entre 1 y 168"
    assert out_of_range(12.5, 1, 168) == "Escribe un número entero entre 1 y 168"
    assert out_of_range(168, 1, 168) is None and out_of_range(None, 1, 168) is None
    draft = CampaignDraft(client_id=1, project_id=2, name="X", channel_ids=[4], schedule_id=5,
                          out_of_hours_action=OutOfHoursAction.close, assignment_method=AssignmentMethod.smart,
                          typifications={"inactivity": 6, "transferred": 7, "agent_closed": 8, "mass_transfer": 9},
                          inactivity_timeout_minutes=20000)
    draft.bot["misunderstandings_before_handoff"] = 0
    gaps = {tab: fields for tab, fields in draft.missing(168).items() if fields}
    assert gaps == {"detail": ["bot.misunderstandings_before_handoff"],
                    "typifications": ["inactivity_timeout_minutes"]}  # Guardar stays off; nothing was changed
    assert draft.inactivity_timeout_minutes == 20000
