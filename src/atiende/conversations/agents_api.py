"""REST for presence, the agents of a campaign, its queue and mass transfers."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path

from atiende.auth.models import Membership
from atiende.campaigns.models import Campaign
from atiende.conversations.models import CampaignAgent
from atiende.conversations.schemas import (
    AgentCampaignOut, AgentCampaignsIn, CampaignAgentOut, CampaignAgentsIn, MassTransferIn, MassTransferOut, PresenceIn, PresenceOut, QueueItemOut,
)
from atiende.conversations.staffing import AgentLoad, staffing_service
from atiende.deps import CurrentCaller, DbSession, EngineDep, SupervisorsWrite
from atiende.kit.pagination import Page, PageDep
from atiende.kit.schemas import MAX_ID

agents = APIRouter(prefix="/api/v1/agents", tags=["agents"])
campaign_staff = APIRouter(prefix="/api/v1/campaigns", tags=["campaign agents and queue"],
                           dependencies=[SupervisorsWrite])


@agents.put("/me/status", response_model=PresenceOut,
            summary="My presence: online receives conversations; away keeps mine; offline may hand them back")
async def set_my_status(body: PresenceIn, session: DbSession, caller: CurrentCaller, engine: EngineDep) -> Any:
    return _presence_out(await staffing_service.set_my_presence(session, engine, caller, body.presence,
                                                                 body.client_id))


@agents.put("/{membership_id}/status", response_model=PresenceOut, dependencies=[SupervisorsWrite],
            summary="Set an agent's presence (supervisors and admins)")
async def set_agent_status(membership_id: Annotated[int, Path(ge=1, le=MAX_ID)], body: PresenceIn,
                           session: DbSession, caller: CurrentCaller, engine: EngineDep) -> Any:
    return _presence_out(await staffing_service.set_presence_of(session, engine, caller, membership_id,
                                                                 body.presence))


@agents.get("/{membership_id}/campaigns", response_model=list[AgentCampaignOut],
            summary="The client's campaigns, and which of them the agent works with what capacity")
async def agent_campaigns(membership_id: Annotated[int, Path(ge=1, le=MAX_ID)], session: DbSession,
                          caller: CurrentCaller) -> Any:
    membership = await staffing_service.get_membership(session, caller, membership_id)
    return _campaigns_out(await staffing_service.campaigns_of(session, caller, membership))


@agents.put("/{membership_id}/campaigns", response_model=list[AgentCampaignOut], dependencies=[SupervisorsWrite],
            summary="Set the campaigns an agent works and the capacity in each (left campaigns get their work back)")
async def replace_agent_campaigns(membership_id: Annotated[int, Path(ge=1, le=MAX_ID)], body: AgentCampaignsIn,
                                  session: DbSession, caller: CurrentCaller, engine: EngineDep) -> Any:
    membership = await staffing_service.get_membership(session, caller, membership_id)
    return _campaigns_out(await staffing_service.replace_campaigns_of(session, engine, caller, membership,
                                                                      body.campaigns))


def _campaigns_out(rows: list[tuple[Campaign, CampaignAgent | None]]) -> list[AgentCampaignOut]:
    return [AgentCampaignOut(campaign_id=campaign.id, name=campaign.name, active=campaign.active,
                             member=seat is not None, capacity=seat.capacity if seat else None)
            for campaign, seat in rows]


def _presence_out(membership: Membership) -> PresenceOut:
    return PresenceOut(membership_id=membership.id, client_id=membership.client_id, presence=membership.presence,
                       presence_changed_at=membership.presence_changed_at)


async def campaign_path(campaign_id: Annotated[int, Path(ge=1, le=MAX_ID)], session: DbSession,
                        caller: CurrentCaller) -> Campaign:
    return await staffing_service.get_campaign(session, caller, campaign_id)


CampaignPath = Annotated[Campaign, Depends(campaign_path)]


def _agent_out(row: AgentLoad) -> CampaignAgentOut:
    m = row.membership
    return CampaignAgentOut(membership_id=m.id, full_name=m.user.full_name, email=m.user.email,
                            capacity=row.capacity, capacity_is_default=row.capacity_is_default, load=row.load,
                            presence=m.presence, presence_changed_at=m.presence_changed_at,
                            last_assigned_at=row.last_assigned_at)


@campaign_staff.get("/{campaign_id}/agents", response_model=list[CampaignAgentOut],
                    summary="The campaign's agents with presence, load and capacity")
async def list_campaign_agents(campaign: CampaignPath, session: DbSession, caller: CurrentCaller) -> Any:
    return [_agent_out(row) for row in await staffing_service.agents(session, caller, campaign)]


@campaign_staff.put("/{campaign_id}/agents", response_model=list[CampaignAgentOut],
                    summary="Set who works the campaign and their capacity (removed agents hand back their work)")
async def replace_campaign_agents(campaign: CampaignPath, body: CampaignAgentsIn, session: DbSession,
                                  caller: CurrentCaller, engine: EngineDep) -> Any:
    rows = await staffing_service.replace_agents(session, engine, caller, campaign, body.agents)
    return [_agent_out(row) for row in rows]


@campaign_staff.get("/{campaign_id}/queue", response_model=Page[QueueItemOut],
                    summary="Conversations waiting for an agent, in arrival order")
async def campaign_queue(campaign: CampaignPath, session: DbSession, caller: CurrentCaller, page: PageDep,
                         engine: EngineDep) -> Any:
    items, total = await staffing_service.queue(session, caller, campaign, page)
    now = engine.clock.now()
    return {"items": [QueueItemOut(conversation_id=c.id, contact_name=c.contact.name, channel_id=c.channel_id,
                                   queued_at=c.queued_at or c.opened_at,
                                   waiting_seconds=max(0, int((now - (c.queued_at or c.opened_at)).total_seconds())))
                      for c in items],
            "total": total, "page": page.page, "limit": page.limit}


@campaign_staff.post("/{campaign_id}/mass-transfer", response_model=MassTransferOut,
                     summary="Move all of an agent's conversations to another agent or back to the queue")
async def mass_transfer(campaign: CampaignPath, body: MassTransferIn, session: DbSession, caller: CurrentCaller,
                        engine: EngineDep) -> Any:
    result = await staffing_service.mass_transfer(session, engine, caller, campaign,
                                                  from_membership_id=body.from_membership_id,
                                                  to_membership_id=body.to_membership_id)
    return MassTransferOut(transferred=result.transferred, queued=result.queued)
