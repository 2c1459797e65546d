"""Presence history: each change of an agent's presence closes the stretch of the previous state."""

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from atiende.auth.models import Membership
from atiende.reports.models import PresenceSpan


def record_presence_span(session: AsyncSession, membership: Membership, now: datetime) -> None:
    """Call before changing ``membership.presence``: stores the stretch that ends now."""
    started = membership.presence_changed_at
    if started is not None and started < now:
        session.add(PresenceSpan(client_id=membership.client_id, membership_id=membership.id,
                                 presence=membership.presence, started_at=started, ended_at=now))
