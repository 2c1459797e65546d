"""Subscriptions and their delivery log, for a client's admins only (a subscription's secret
and the payloads it received are the client's data)."""

import secrets
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from atiende.audit.models import AuditAction
from atiende.audit.service import audit_service
from atiende.auth.caller import Caller
from atiende.auth.models import Role
from atiende.clock import Clock
from atiende.errors import Invalid, NotFound
from atiende.integrations import capture
from atiende.integrations.addresses import AddressRefused, checked_address
from atiende.integrations.catalog import PING, envelope
from atiende.integrations.models import DeliveryState, WebhookDelivery, WebhookSubscription
from atiende.integrations.schemas import SubscriptionCreate, SubscriptionUpdate
from atiende.integrations.sender import attempt
from atiende.kit.pagination import PageParams, paginate

ENTITY = "webhook_subscription"


class SubscriptionNotFound(NotFound):
    code = "webhook.subscription_not_found"

    def __init__(self, field: str = "subscription_id") -> None:
        super().__init__("Webhook subscription not found", field=field)


class AddressNotAllowed(Invalid):
    code = "webhook.address_refused"

    def __init__(self, reason: str) -> None:
        super().__init__(f"This URL cannot receive webhooks: {reason}", field="url")


def _snapshot(sub: WebhookSubscription) -> dict[str, Any]:
    return {"name": sub.name, "url": sub.url, "event_types": list(sub.event_types), "active": sub.active}


class WebhookService:
    def _admin_clients(self, caller: Caller, client_id: int | None) -> list[int]:
        if client_id is not None:
            caller.require_admin(client_id)
            return [client_id]
        return [c for c in caller.client_ids if caller.role_in(c) == Role.admin]

    async def subscriptions(self, session: AsyncSession, caller: Caller, *, client_id: int | None,
                   page: PageParams) -> tuple[list[WebhookSubscription], int]:
        stmt = (select(WebhookSubscription)
                .where(WebhookSubscription.client_id.in_(self._admin_clients(caller, client_id)))
                .order_by(WebhookSubscription.id))
        return await paginate(session, stmt, page)

    async def get(self, session: AsyncSession, caller: Caller, subscription_id: int) -> WebhookSubscription:
        sub = await session.get(WebhookSubscription, subscription_id, populate_existing=True)
        if sub is None or sub.client_id not in caller.client_ids:
            raise SubscriptionNotFound()
        caller.require_admin(sub.client_id)
        return sub

    async def _check_url(self, url: str, allow_private: bool) -> None:
        try:
            await checked_address(httpx.URL(url), allow_private=allow_private)
        except (AddressRefused, httpx.InvalidURL) as exc:
            raise AddressNotAllowed(str(exc)) from exc

    async def create(self, session: AsyncSession, caller: Caller, data: SubscriptionCreate, *, clock: Clock,
                     allow_private: bool) -> WebhookSubscription:
        caller.require_admin(data.client_id)
        await self._check_url(data.url, allow_private)
        sub = WebhookSubscription(client_id=data.client_id, name=data.name, url=data.url,
                                  secret=data.secret or secrets.token_urlsafe(32), event_types=data.event_types,
                                  active=data.active)
        session.add(sub)
        await session.flush()
        await audit_service.record(session, caller=caller, action=AuditAction.create, entity_type=ENTITY,
                                   entity_id=sub.id, client_id=sub.client_id, at=clock.now(), after=_snapshot(sub))
        capture.subscriptions.forget(sub.client_id)
        return sub

    async def update(self, session: AsyncSession, caller: Caller, sub: WebhookSubscription,
                     data: SubscriptionUpdate, *, clock: Clock, allow_private: bool) -> WebhookSubscription:
        caller.require_admin(sub.client_id)
        before = _snapshot(sub)
        changes = data.model_dump(exclude_unset=True, exclude_none=True)
        if "url" in changes:
            await self._check_url(changes["url"], allow_private)
        for key, value in changes.items():
            setattr(sub, key, value)
        await session.flush()
        await audit_service.record(session, caller=caller, action=AuditAction.update, entity_type=ENTITY,
                                   entity_id=sub.id, client_id=sub.client_id, at=clock.now(), before=before,
                                   after=_snapshot(sub))
        capture.subscriptions.forget(sub.client_id)
        return sub

    async def rotate_secret(self, session: AsyncSession, caller: Caller, sub: WebhookSubscription, *,
                            clock: Clock) -> WebhookSubscription:
        """A new secret at once; receivers must switch (the old one stops verifying)."""
        caller.require_admin(sub.client_id)
        sub.secret = secrets.token_urlsafe(32)
        await session.flush()
        await audit_service.record(session, caller=caller, action=AuditAction.update, entity_type=ENTITY,
                                   entity_id=sub.id, client_id=sub.client_id, at=clock.now(),
                                   after={"secret": "rotated"})
        return sub

    async def delete(self, session: AsyncSession, caller: Caller, sub: WebhookSubscription, *, clock: Clock) -> None:
        caller.require_admin(sub.client_id)
        await audit_service.record(session, caller=caller, action=AuditAction.delete, entity_type=ENTITY,
                                   entity_id=sub.id, client_id=sub.client_id, at=clock.now(), before=_snapshot(sub))
        await session.delete(sub)
        await session.flush()
        capture.subscriptions.forget(sub.client_id)

    # --- the log ---------------------------------------------------------------------------
    async def deliveries(self, session: AsyncSession, caller: Caller, sub: WebhookSubscription, *,
                         page: PageParams, state: DeliveryState | None = None) -> tuple[list[WebhookDelivery], int]:
        caller.require_admin(sub.client_id)
        stmt = select(WebhookDelivery).where(WebhookDelivery.subscription_id == sub.id)
        if state is not None:
            stmt = stmt.where(WebhookDelivery.state == state)
        return await paginate(session, stmt.order_by(WebhookDelivery.id.desc()), page)

    async def resend(self, session: AsyncSession, caller: Caller, delivery_id: int, *,
                     clock: Clock) -> WebhookDelivery:
        """Send the same event (same id, so a receiver can dedupe) again, as soon as its turn comes."""
        delivery = await session.get(WebhookDelivery, delivery_id, with_for_update=True, populate_existing=True)
        if delivery is None or delivery.client_id not in caller.client_ids:
            raise NotFound("Webhook delivery not found", field="delivery_id",
                           code="webhook.delivery_not_found")
        caller.require_admin(delivery.client_id)
        if delivery.state == DeliveryState.sending:
            return delivery
        now = clock.now()
        delivery.state = DeliveryState.pending
        delivery.next_attempt_at = now
        delivery.first_attempt_at = None  # a fresh retry window
        delivery.locked_until = None
        await session.flush()
        return delivery

    async def ping(self, session: AsyncSession, caller: Caller, sub: WebhookSubscription, *, http: httpx.AsyncClient,
                   clock: Clock, allow_private: bool) -> WebhookDelivery:
        """Probar: one signed ``ping`` sent now; its outcome is logged like any delivery (not retried)."""
        caller.require_admin(sub.client_id)
        now = clock.now()
        payload = envelope(PING, sub.client_id, {"subscription_id": sub.id, "message": "Hola desde Atiende"}, now)
        outcome = await attempt(http, url=sub.url, secret=sub.secret, payload=payload,
                                unix_now=int(now.timestamp()), allow_private=allow_private)
        delivery = WebhookDelivery(
            subscription_id=sub.id, client_id=sub.client_id, event_id=payload["id"], event_type=PING,
            ordering_key=None, payload=payload, created_at=now, next_attempt_at=now, attempts=1,
            state=DeliveryState.delivered if outcome.ok else DeliveryState.failed,
            delivered_at=now if outcome.ok else None, response_status=outcome.status,
            duration_ms=outcome.duration_ms, response_excerpt=outcome.excerpt, last_error=outcome.error)
        session.add(delivery)
        await session.flush()
        return delivery


webhook_service = WebhookService()
