"""Builds the ASGI app: REST routers, error handlers, UI, and the background services."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from sqlalchemy import text

from atiende import __version__
from atiende.api_docs import install_api_docs
from atiende.kit.http import new_client
from atiende.bus import EventBus, make_bus
from atiende.clock import Clock, SystemClock
from atiende.db import Database
from atiende.jobs import JobContext, Worker
from atiende.settings import Settings, get_settings
from atiende.web import ERROR_RESPONSES, BodyLimitMiddleware, install_error_handlers
from atiende.web_security import SecurityHeadersMiddleware


def api_routers() -> list[APIRouter]:
    """Every REST router, one line per domain."""
    from atiende.audit.api import router as audit
    from atiende.auth.api import memberships
    from atiende.auth.api import router as auth
    from atiende.bots.api import router as attention_bots
    from atiende.campaigns.api import router as campaigns
    from atiende.catalog.api import routers as catalog
    from atiende.channels.api import channels
    from atiende.channels.api_channel import router as api_channel
    from atiende.channels.webhooks import router as channel_webhooks
    from atiende.contacts.api import router as contacts
    from atiende.contacts.imports_api import router as contact_imports
    from atiende.conversations.agents_api import agents, campaign_staff
    from atiende.conversations.api import router as conversations
    from atiende.conversations.attachments import router as conversation_files
    from atiende.conversations.canned import router as canned_replies
    from atiende.conversations.ws import router as conversation_events
    from atiende.integrations.api import router as integrations
    from atiende.outbound.api import router as outbound
    from atiende.outbound.notifications_api import router as notifications
    from atiende.reports.api import router as reports
    from atiende.tenancy.api import clients, projects

    # Webhooks first: a request is matched against the routes in order, and they carry the volume.
    return [api_channel, channel_webhooks, auth, memberships, clients, projects, audit, campaigns, *catalog,
            attention_bots, channels, conversations, conversation_files, agents, campaign_staff, conversation_events,
            canned_replies, integrations, outbound, notifications, reports, contact_imports, contacts]


def create_app(settings: Settings | None = None, *, clock: Clock | None = None,
               database: Database | None = None, bus: EventBus | None = None,
               with_ui: bool | None = None, demo: bool = False) -> FastAPI:
    """The whole product as one ASGI app. Tests pass their own clock, database and bus; the
    background services (bus reader, jobs worker) start in the lifespan. ``demo`` (only
    ``atiende demo``) adds the demo's customer page and stand-in receiver under /demo/."""
    settings = settings or get_settings()
    database = database or Database(settings.database_url, echo=settings.sql_echo)
    bus = bus or make_bus(settings.redis_url, settings.redis_channel)
    clock = clock or SystemClock()
    http_client = new_client()
    worker = Worker(JobContext(database=database, clock=clock, bus=bus, settings=settings, http=http_client))
    from atiende.conversations.intake import InboundRouter

    from atiende.contacts import runtime as contacts_runtime
    from atiende.integrations import capture
    from atiende.integrations.dispatcher import WebhookDispatcher

    from atiende.reports.rollups import RollupRefresher

    inbound_router = InboundRouter(worker.context)
    worker.passes.append(inbound_router.worker_pass)
    worker.passes.append(RollupRefresher(worker.context).worker_pass)
    capture.use_clock(clock)
    contacts_runtime.install(bus, clock)
    webhook_dispatcher = WebhookDispatcher(worker.context)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await bus.start()
        if settings.worker_enabled:
            worker.start()
            if settings.webhooks_dispatch:
                webhook_dispatcher.start()
            inbound_router.listen()  # web processes in ATIENDE_INBOUND_ROUTING=worker mode announce deliveries
        try:
            yield
        finally:
            await inbound_router.stop()
            await webhook_dispatcher.stop()
            await worker.stop()
            await bus.stop()
            await http_client.aclose()
            await database.dispose()

    app = FastAPI(title="Atiende", version=__version__, lifespan=lifespan, docs_url=None,
                  redoc_url=None, openapi_url="/api/openapi.json",
                  description="Omnichannel contact center API. Errors are JSON `{detail, field}`.")
    app.state.settings = settings
    app.state.database = database
    app.state.clock = clock
    app.state.bus = bus
    app.state.worker = worker
    app.state.inbound_router = inbound_router
    app.state.webhook_dispatcher = webhook_dispatcher
    app.state.http = http_client
    install_error_handlers(app)
    install_api_docs(app)
    for router in api_routers():
        app.include_router(router, responses=ERROR_RESPONSES)
    if demo:
        from atiende.demo import demo_router
        from atiende.outbound.demo import demo_graph

        app.include_router(demo_router, responses=ERROR_RESPONSES)
        app.include_router(demo_graph, responses=ERROR_RESPONSES)

    @app.get("/healthz", tags=["ops"], summary="Liveness and database check")
    async def healthz() -> dict[str, str]:
        async with database.session() as session:
            await session.execute(text("SELECT 1"))
        return {"status": "ok"}

    app.add_middleware(SecurityHeadersMiddleware, hsts=settings.public_url.startswith("https://"))
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes,
                       larger=(("/api/v1/contacts/imports", settings.contacts_import_max_bytes + 65536),))
    if with_ui if with_ui is not None else settings.ui_enabled:
        from atiende.ui import mount_ui

        mount_ui(app)
    return app
