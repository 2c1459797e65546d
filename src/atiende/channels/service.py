"""Channel records: kind-specific credentials (write-only) and settings, and which active campaign
each channel serves. Talking to the providers lives in the channel adapters, not here."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from atiende.auth.caller import Caller
from atiende.auth.models import Role
from atiende.campaigns.models import Campaign, CampaignChannel
from atiende.catalog.usage import refuse_if_campaigns_use
from atiende.channels.models import Channel
from atiende.channels.schemas import (CREDENTIALS_BY_KIND, SETTINGS_BY_KIND, CampaignRef, ChannelCreate, ChannelOut,
                                      ChannelUpdate)
from atiende.channels.telegram.connect import register_webhook_later
from atiende.clock import Clock
from atiende.errors import Invalid
from atiende.kit.crud import ScopedCrudService
from atiende.kit.pagination import PageParams


class ChannelService(ScopedCrudService[Channel, ChannelCreate, ChannelUpdate]):
    model = Channel
    out_schema = ChannelOut
    entity = "channel"
    readers = (Role.admin, Role.supervisor)  # settings and callback URLs are not an agent's business

    # --- reads carry the active campaign each channel serves ----------------------------------
    async def list(self, session: AsyncSession, caller: Caller, *, client_id: int | None, page: PageParams,
                   q: str | None = None, active: bool | None = None) -> tuple[list[Channel], int]:
        items, total = await super().list(session, caller, client_id=client_id, page=page, q=q, active=active)
        await self.attach_campaigns(session, items)
        return items, total

    async def get(self, session: AsyncSession, caller: Caller, item_id: int) -> Channel | None:
        channel = await super().get(session, caller, item_id)
        if channel is not None:
            await self.attach_campaigns(session, [channel])
        return channel

    async def create(self, session: AsyncSession, caller: Caller, data: ChannelCreate, *, clock: Clock) -> Channel:
        channel = await super().create(session, caller, data, clock=clock)
        await self.attach_campaigns(session, [channel])
        await register_webhook_later(session, clock, channel)
        return channel

    async def update(self, session: AsyncSession, caller: Caller, obj: Channel, data: ChannelUpdate, *,
                     clock: Clock) -> Channel:
        channel = await super().update(session, caller, obj, data, clock=clock)
        await self.attach_campaigns(session, [channel])
        await register_webhook_later(session, clock, channel)
        return channel

    async def attach_campaigns(self, session: AsyncSession, channels: Sequence[Channel]) -> None:
        """Set ``active_campaign`` (a ``CampaignRef`` or None) on each channel, in one query."""
        if not channels:
            return
        rows = await session.execute(
            select(CampaignChannel.channel_id, Campaign.id, Campaign.name)
            .join(Campaign, Campaign.id == CampaignChannel.campaign_id)
            .where(CampaignChannel.channel_id.in_([c.id for c in channels]), Campaign.active.is_(True))
            .order_by(Campaign.id))
        serving: dict[int, CampaignRef] = {}
        for channel_id, campaign_id, name in rows:
            serving.setdefault(channel_id, CampaignRef(id=campaign_id, name=name))
        for channel in channels:
            channel.active_campaign = serving.get(channel.id)  # type: ignore[attr-defined]

    def snapshot(self, obj: Channel) -> dict[str, Any]:
        """For the audit log: settings and which secrets are set, never their values."""
        return ChannelOut.model_validate(obj).model_dump(mode="json", exclude={"campaign"})

    # --- writes -------------------------------------------------------------------------------
    async def build(self, session: AsyncSession, data: ChannelCreate) -> Channel:
        await self.ensure_unique(session, data.client_id, "name", data.name)
        return Channel(client_id=data.client_id, kind=data.kind, name=data.name, active=data.active,
                       credentials=data.credentials.stored() if data.credentials else {},
                       settings=data.settings.stored() if data.settings else {})

    async def apply(self, session: AsyncSession, obj: Channel, data: ChannelUpdate) -> None:
        if data.kind is not None and data.kind != obj.kind:
            raise Invalid(f"A channel's kind cannot change (this one is {obj.kind.value}); "
                          "create a new channel instead", field="kind")
        if data.name is not None:
            await self.ensure_unique(session, obj.client_id, "name", data.name, exclude_id=obj.id)
            obj.name = data.name
        if data.credentials is not None:
            obj.credentials = self._of_kind(CREDENTIALS_BY_KIND, obj, data.credentials, "credentials")
        if data.settings is not None:
            obj.settings = self._of_kind(SETTINGS_BY_KIND, obj, data.settings, "settings")
        if data.active is not None:
            obj.active = data.active

    def _of_kind(self, models: dict, obj: Channel, part: Any, field: str) -> dict[str, Any]:
        if not isinstance(part, models[obj.kind]):  # the schema read it for the kind that was sent
            raise Invalid(f"These {field} are not those of a {obj.kind.value} channel", field=field)
        return part.stored()

    async def check_delete(self, session: AsyncSession, obj: Channel) -> None:
        used_by = select(CampaignChannel.campaign_id).where(CampaignChannel.channel_id == obj.id)
        await refuse_if_campaigns_use(session, f'The channel "{obj.name}"', Campaign.id.in_(used_by))


channel_service = ChannelService()
