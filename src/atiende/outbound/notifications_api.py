"""The notification API over REST: one message to one contact of a campaign, and its status."""

from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Response, status

from atiende.campaigns.api import CampaignPath
from atiende.deps import CurrentCaller, DbSession, EngineDep, SupervisorsWrite
from atiende.kit.schemas import MAX_ID
from atiende.outbound.notifications import notification_service
from atiende.outbound.schemas import NotificationIn, NotificationOut, OutboundMessageOut

REPLAYED_HEADER = "Idempotent-Replayed"

# Written by admins and supervisors (a billing system logs in as a supervisor of its own): the role
# is checked before the path, the header or the body.
router = APIRouter(prefix="/api/v1", tags=["notifications"], dependencies=[SupervisorsWrite])


@router.post("/campaigns/{campaign_id}/outbound", response_model=NotificationOut,
             status_code=status.HTTP_201_CREATED,
             summary="Send one notification (a WhatsApp template, or text) to one contact, once per Idempotency-Key")
async def notify(campaign: CampaignPath, body: NotificationIn, session: DbSession, caller: CurrentCaller,
                 engine: EngineDep, response: Response,
                 idempotency_key: Annotated[str, Header(alias="Idempotency-Key", min_length=1, max_length=200,
                                                        pattern=r"^[\x21-\x7e]+$")]) -> Any:
    """`to` is a phone (a string: `+573001234567`, or national in the client's region) or a contact
    id (a number). Give `template` (name, language, parameters) or `text`. The same
    `Idempotency-Key` again answers the first result (with `Idempotent-Replayed: true`) and sends
    nothing; with another body it is refused (`notification.idempotency_key_reused`)."""
    done = await notification_service.notify(session, engine, caller, campaign, body, key=idempotency_key)
    if done.replayed:
        response.headers[REPLAYED_HEADER] = "true"
    return done.response


@router.get("/outbound/messages/{message_id}", response_model=OutboundMessageOut,
            summary="A sent message's status: queued, sent, delivered, read or failed (with the reason)")
async def message_status(message_id: Annotated[int, Path(ge=1, le=MAX_ID)], session: DbSession,
                         caller: CurrentCaller) -> Any:
    return await notification_service.message(session, caller, message_id)
