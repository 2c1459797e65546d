"""Records configuration changes; every CRUD service calls ``record`` after it flushes."""

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from atiende.audit.models import AuditAction, AuditEvent
from atiende.auth.caller import Caller
from atiende.auth.models import Role
from atiende.kit.pagination import PageParams, paginate


class AuditService:
    async def record(self, session: AsyncSession, *, caller: Caller | None, action: AuditAction,
                     entity_type: str, entity_id: int, client_id: int | None, at: datetime,
                     before: dict[str, Any] | None = None, after: dict[str, Any] | None = None) -> AuditEvent:
        event = AuditEvent(client_id=client_id, user_id=caller.user.id if caller else None, action=action,
                           entity_type=entity_type, entity_id=entity_id, before=before, after=after, at=at)
        session.add(event)
        await session.flush()
        return event

    async def list(self, session: AsyncSession, caller: Caller, *, client_id: int | None, page: PageParams,
                   entity_type: str | None = None, entity_id: int | None = None) -> tuple[list[AuditEvent], int]:
        """Admins read their clients' audit trail, newest first."""
        client_ids = [cid for cid in caller.scope(client_id) if caller.role_in(cid) == Role.admin]
        if client_id is not None:
            caller.require_admin(client_id)
        stmt = select(AuditEvent).where(AuditEvent.client_id.in_(client_ids))
        if entity_type:
            stmt = stmt.where(AuditEvent.entity_type == entity_type)
        if entity_id is not None:
            stmt = stmt.where(AuditEvent.entity_id == entity_id)
        return await paginate(session, stmt.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()), page)


audit_service = AuditService()
