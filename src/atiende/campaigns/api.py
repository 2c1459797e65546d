"""Campaigns over REST: the seven tabs of the console's form, one JSON object per tab."""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, status

from atiende.campaigns.models import Campaign
from atiende.campaigns.schemas import CampaignCreate, CampaignOut, CampaignUpdate, DuplicateIn
from atiende.campaigns.service import campaign_service
from atiende.deps import AdminsWrite, ClockDep, CurrentCaller, DbSession
from atiende.errors import NotFound
from atiende.kit.pagination import Page, PageDep, SearchParam
from atiende.kit.schemas import MAX_ID

router = APIRouter(prefix="/api/v1/campaigns", tags=["campaigns"], dependencies=[AdminsWrite])


async def campaign_path(campaign_id: Annotated[int, Path(ge=1, le=MAX_ID)], session: DbSession,
                        caller: CurrentCaller) -> Campaign:
    campaign = await campaign_service.get(session, caller, campaign_id)
    if campaign is None:
        raise NotFound("Campaign not found", field="campaign_id")
    return campaign


CampaignPath = Annotated[Campaign, Depends(campaign_path)]


@router.get("", response_model=Page[CampaignOut], summary="List campaigns, sorted by name")
async def list_campaigns(session: DbSession, caller: CurrentCaller, page: PageDep,
                         client_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
                         project_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
                         active: bool | None = None, q: SearchParam = None) -> Any:
    items, total = await campaign_service.list(session, caller, client_id=client_id, page=page, q=q,
                                               active=active, project_id=project_id)
    return {"items": await campaign_service.describe(session, items), "total": total, "page": page.page,
            "limit": page.limit}


@router.post("", response_model=CampaignOut, status_code=status.HTTP_201_CREATED,
             summary="Create a campaign (admins of the client)")
async def create_campaign(body: CampaignCreate, session: DbSession, caller: CurrentCaller, clock: ClockDep) -> Any:
    """Mandatory: client, project, name, schedule (with its out-of-hours action), the four
    typifications and the assignment method; at least one channel unless
    `channels.configure_later`. A channel serves at most one active campaign (409)."""
    campaign = await campaign_service.create(session, caller, body, clock=clock)
    return (await campaign_service.describe(session, [campaign]))[0]


@router.get("/{campaign_id}", response_model=CampaignOut, summary="Read a campaign")
async def read_campaign(campaign: CampaignPath, session: DbSession) -> Any:
    return (await campaign_service.describe(session, [campaign]))[0]


@router.patch("/{campaign_id}", response_model=CampaignOut, summary="Change a campaign (admins of the client)")
async def update_campaign(campaign: CampaignPath, body: CampaignUpdate, session: DbSession, caller: CurrentCaller,
                          clock: ClockDep) -> Any:
    """Send any subset of the top-level keys. A tab object (`survey`, `channels`, `schedule`,
    `typifications`, `permissions`, `fields`) replaces that whole tab: keys left out of it take
    their defaults, they are not kept from before. The combined campaign is then validated with
    the same rules as a new one. `client_id` never changes."""
    campaign = await campaign_service.update(session, caller, campaign, body, clock=clock)
    return (await campaign_service.describe(session, [campaign]))[0]


@router.delete("/{campaign_id}", status_code=status.HTTP_204_NO_CONTENT,
               summary="Delete a campaign (admins of the client)")
async def delete_campaign(campaign: CampaignPath, session: DbSession, caller: CurrentCaller, clock: ClockDep) -> None:
    await campaign_service.delete(session, caller, campaign, clock=clock)


@router.post("/{campaign_id}/duplicate", response_model=CampaignOut, status_code=status.HTTP_201_CREATED,
             summary="Duplicate a campaign as an inactive copy without channels")
async def duplicate_campaign(campaign: CampaignPath, session: DbSession, caller: CurrentCaller, clock: ClockDep,
                             body: Annotated[DuplicateIn | None, Body()] = None) -> Any:
    """The copy keeps every setting except the channels (`configure_later` is on, so it never
    takes the original's channels) and starts inactive. Its name is `body.name`, or
    "<name> (copia)", numbered until it is unique in the project."""
    copy = await campaign_service.duplicate(session, caller, campaign, body.name if body else None, clock=clock)
    return (await campaign_service.describe(session, [copy]))[0]
