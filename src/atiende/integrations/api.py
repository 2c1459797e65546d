"""REST for outgoing webhooks: ``/api/v1/webhook-subscriptions`` (admins of the client)."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, status

from atiende.deps import AdminsWrite, ClockDep, CurrentCaller, DbSession, SettingsDep
from atiende.i18n import t
from atiende.integrations.catalog import EVENT_TYPES
from atiende.integrations.models import DeliveryState, WebhookSubscription
from atiende.integrations.schemas import (
    DeliveryOut, EventTypeOut, SubscriptionCreate, SubscriptionOut, SubscriptionUpdate,
)
from atiende.integrations.service import webhook_service
from atiende.kit.pagination import Page, PageDep
from atiende.kit.schemas import MAX_ID

router = APIRouter(prefix="/api/v1", tags=["webhooks (outgoing)"], dependencies=[AdminsWrite])


async def subscription_path(subscription_id: Annotated[int, Path(ge=1, le=MAX_ID)], session: DbSession,
                            caller: CurrentCaller) -> WebhookSubscription:
    return await webhook_service.get(session, caller, subscription_id)


SubscriptionPath = Annotated[WebhookSubscription, Depends(subscription_path)]


@router.get("/webhook-event-types", response_model=list[EventTypeOut], summary="Event types a subscription can ask for")
async def event_types(_caller: CurrentCaller) -> Any:
    return [{"type": name, "label": t(f"integrations.event.{name}")} for name in EVENT_TYPES]


@router.get("/webhook-subscriptions", response_model=Page[SubscriptionOut], summary="Subscriptions (admins)")
async def list_subscriptions(session: DbSession, caller: CurrentCaller, page: PageDep,
                             client_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None) -> Any:
    items, total = await webhook_service.subscriptions(session, caller, client_id=client_id, page=page)
    return {"items": items, "total": total, "page": page.page, "limit": page.limit}


@router.post("/webhook-subscriptions", response_model=SubscriptionOut, status_code=status.HTTP_201_CREATED,
             summary="Subscribe a URL to event types")
async def create_subscription(body: SubscriptionCreate, session: DbSession, caller: CurrentCaller,
                              clock: ClockDep, settings: SettingsDep) -> Any:
    return await webhook_service.create(session, caller, body, clock=clock,
                                        allow_private=settings.webhooks_allow_private_addresses)


@router.get("/webhook-subscriptions/{subscription_id}", response_model=SubscriptionOut, summary="A subscription")
async def read_subscription(sub: SubscriptionPath) -> Any:
    return sub


@router.patch("/webhook-subscriptions/{subscription_id}", response_model=SubscriptionOut,
              summary="Change a subscription")
async def update_subscription(sub: SubscriptionPath, body: SubscriptionUpdate, session: DbSession,
                              caller: CurrentCaller, clock: ClockDep, settings: SettingsDep) -> Any:
    return await webhook_service.update(session, caller, sub, body, clock=clock,
                                        allow_private=settings.webhooks_allow_private_addresses)


@router.post("/webhook-subscriptions/{subscription_id}/rotate-secret", response_model=SubscriptionOut,
             summary="Replace the signing secret")
async def rotate_secret(sub: SubscriptionPath, session: DbSession, caller: CurrentCaller, clock: ClockDep) -> Any:
    return await webhook_service.rotate_secret(session, caller, sub, clock=clock)


@router.delete("/webhook-subscriptions/{subscription_id}", status_code=status.HTTP_204_NO_CONTENT,
               summary="Delete a subscription and its log")
async def delete_subscription(sub: SubscriptionPath, session: DbSession, caller: CurrentCaller,
                              clock: ClockDep) -> None:
    await webhook_service.delete(session, caller, sub, clock=clock)


@router.get("/webhook-subscriptions/{subscription_id}/deliveries", response_model=Page[DeliveryOut],
            summary="The delivery log, newest first")
async def list_deliveries(sub: SubscriptionPath, session: DbSession, caller: CurrentCaller, page: PageDep,
                          state: DeliveryState | None = None) -> Any:
    items, total = await webhook_service.deliveries(session, caller, sub, page=page, state=state)
    return {"items": items, "total": total, "page": page.page, "limit": page.limit}


@router.post("/webhook-subscriptions/{subscription_id}/ping", response_model=DeliveryOut,
             summary="Probar: send a signed ping now and log it")
async def ping(sub: SubscriptionPath, request: Request, session: DbSession, caller: CurrentCaller,
               clock: ClockDep, settings: SettingsDep) -> Any:
    return await webhook_service.ping(session, caller, sub, http=request.app.state.http, clock=clock,
                                      allow_private=settings.webhooks_allow_private_addresses)


@router.post("/webhook-deliveries/{delivery_id}/resend", response_model=DeliveryOut,
             summary="Reenviar: deliver the same event again")
async def resend(delivery_id: Annotated[int, Path(ge=1, le=MAX_ID)], request: Request, session: DbSession,
                 caller: CurrentCaller, clock: ClockDep) -> Any:
    delivery = await webhook_service.resend(session, caller, delivery_id, clock=clock)
    dispatcher = getattr(request.app.state, "webhook_dispatcher", None)
    if dispatcher is not None:
        from atiende.db import on_commit

        async def wake() -> None:
            dispatcher.wake()

        on_commit(session, wake)
    return delivery
