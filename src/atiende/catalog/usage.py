"""Which campaigns use a setup item: what stands between an admin and deleting it."""

from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from atiende.campaigns.models import Campaign
from atiende.errors import Conflict

MAX_NAMED = 10


class InUse(Conflict):
    code = "catalog.in_use"

    def __init__(self, what: str, campaigns: list[str]) -> None:
        shown = ", ".join(f'"{name}"' for name in campaigns[:MAX_NAMED])
        more = f" and {len(campaigns) - MAX_NAMED} more" if len(campaigns) > MAX_NAMED else ""
        super().__init__(f"{what} is used by the campaign(s) {shown}{more}; change or delete them first",
                         field="item_id", extra={"campaigns": campaigns})


async def refuse_if_campaigns_use(session: AsyncSession, what: str, condition: ColumnElement[Any]) -> None:
    """Raise ``InUse`` naming every campaign (of any state) matching ``condition``."""
    names = (await session.scalars(select(Campaign.name).where(condition).order_by(Campaign.name, Campaign.id))).all()
    if names:
        raise InUse(what, list(names))
