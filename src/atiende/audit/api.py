from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query

from atiende.audit.models import AuditAction
from atiende.audit.service import audit_service
from atiende.deps import CurrentCaller, DbSession
from atiende.kit.pagination import Page, PageDep
from atiende.kit.schemas import MAX_ID, OutSchema

router = APIRouter(prefix="/api/v1/audit-events", tags=["audit"])


class AuditEventOut(OutSchema):
    id: int
    client_id: int | None
    user_id: int | None
    action: AuditAction
    entity_type: str
    entity_id: int
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    at: datetime


@router.get("", response_model=Page[AuditEventOut], summary="Configuration changes (admins)")
async def list_audit_events(session: DbSession, caller: CurrentCaller, page: PageDep,
                            client_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
                            entity_type: Annotated[str | None, Query(max_length=40, pattern=r"^[a-z_]+$")] = None,
                            entity_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None) -> Any:
    items, total = await audit_service.list(session, caller, client_id=client_id, page=page,
                                            entity_type=entity_type, entity_id=entity_id)
    return {"items": items, "total": total, "page": page.page, "limit": page.limit}
