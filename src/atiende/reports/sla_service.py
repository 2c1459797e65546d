"""SLA policies as admins set them: the client's default and per campaign."""

from pydantic import BaseModel, Field, model_validator
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from atiende.auth.caller import Caller
from atiende.auth.models import Role
from atiende.campaigns.models import Campaign
from atiende.errors import NotFound
from atiende.kit.schemas import Id, InSchema
from atiende.reports.filters import client_of
from atiende.reports.models import SlaPolicy

SECONDS = Field(ge=1, le=30 * 86400)


class SlaPolicyIn(InSchema):
    client_id: Id | None = None
    campaign_id: Id | None = Field(None, description="None: the client's default")
    queue_optimal_seconds: int = SECONDS
    queue_low_seconds: int = SECONDS
    first_response_optimal_seconds: int = SECONDS
    first_response_low_seconds: int = SECONDS
    resolution_hours: int = Field(ge=1, le=24 * 90)
    business_hours: bool = False

    @model_validator(mode="after")
    def _low_after_optimal(self) -> "SlaPolicyIn":
        if self.queue_low_seconds < self.queue_optimal_seconds:
            raise ValueError("queue_low_seconds must be at least queue_optimal_seconds")
        if self.first_response_low_seconds < self.first_response_optimal_seconds:
            raise ValueError("first_response_low_seconds must be at least first_response_optimal_seconds")
        return self


class SlaPolicyOut(BaseModel):
    model_config = {"from_attributes": True}

    id: int
    client_id: int
    campaign_id: int | None
    queue_optimal_seconds: int
    queue_low_seconds: int
    first_response_optimal_seconds: int
    first_response_low_seconds: int
    resolution_hours: int
    business_hours: bool


class CampaignNotFound(NotFound):
    code = "reports.campaign_not_found"

    def __init__(self) -> None:
        super().__init__("Campaign not found", field="campaign_id")


class SlaPolicyService:
    async def list(self, session: AsyncSession, caller: Caller, client_id: int) -> list[SlaPolicyOut]:
        caller.require(client_id, Role.admin, Role.supervisor)
        rows = (await session.scalars(select(SlaPolicy).where(SlaPolicy.client_id == client_id)
                                      .order_by(SlaPolicy.campaign_id.is_not(None), SlaPolicy.campaign_id))).all()
        return [SlaPolicyOut.model_validate(r) for r in rows]

    async def put(self, session: AsyncSession, caller: Caller, data: SlaPolicyIn) -> SlaPolicyOut:
        client_id = data.client_id
        if data.campaign_id is not None:
            campaign = await session.get(Campaign, data.campaign_id)
            if campaign is None or campaign.client_id not in caller.client_ids:
                raise CampaignNotFound()
            if client_id is not None and client_id != campaign.client_id:
                raise CampaignNotFound()
            client_id = campaign.client_id
        client_id = client_of(caller, client_id)
        caller.require_admin(client_id)
        row = await session.scalar(select(SlaPolicy).where(
            SlaPolicy.client_id == client_id,
            SlaPolicy.campaign_id.is_(None) if data.campaign_id is None else SlaPolicy.campaign_id == data.campaign_id))
        if row is None:
            row = SlaPolicy(client_id=client_id, campaign_id=data.campaign_id)
            session.add(row)
        for key in ("queue_optimal_seconds", "queue_low_seconds", "first_response_optimal_seconds",
                    "first_response_low_seconds", "resolution_hours", "business_hours"):
            setattr(row, key, getattr(data, key))
        await session.flush()
        return SlaPolicyOut.model_validate(row)


sla_policy_service = SlaPolicyService()
