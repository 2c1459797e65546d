"""A worker process on its own: the same jobs loop the app runs, without HTTP."""

import asyncio


from atiende.bus import make_bus
from atiende.clock import SystemClock
from atiende.db import Database
from atiende.jobs import JobContext, Worker
from atiende.kit.collector import settle_long_lived
from atiende.kit.http import new_client
from atiende.settings import Settings


async def run_worker_forever(settings: Settings) -> None:
    import atiende.models  # noqa: F401  (job functions register on import of their domains)
    from atiende.app import api_routers
    from atiende.conversations.intake import InboundRouter
    from atiende.integrations.dispatcher import WebhookDispatcher
    from atiende.reports.rollups import RollupRefresher

    api_routers()  # importing the routers imports every domain, and so every @job
    database = Database(settings.database_url)
    bus = make_bus(settings.redis_url, settings.redis_channel)
    await bus.start()
    async with new_client() as http:
        worker = Worker(JobContext(database=database, clock=SystemClock(), bus=bus, settings=settings, http=http))
        router = InboundRouter(worker.context)
        worker.passes.append(router.worker_pass)
        worker.passes.append(RollupRefresher(worker.context).worker_pass)
        webhooks = WebhookDispatcher(worker.context)
        worker.start()
        if settings.webhooks_dispatch:
            webhooks.start()
        router.listen()  # web processes in ATIENDE_INBOUND_ROUTING=worker mode announce deliveries
        settle_long_lived()
        try:
            await asyncio.Event().wait()
        finally:
            await router.stop()
            await webhooks.stop()
            await worker.stop()
            await bus.stop()
            await database.dispose()


async def run_webhooks_forever(settings: Settings, *, poll_seconds: float) -> None:
    """Only the webhook dispatcher: deliveries leave from a process of their own, so a slow receiver
    or a burst of 800 deliveries a second never takes the event loop that routes and assigns
    (``atiende webhooks`` can also lower its own CPU priority). It polls the table, since the
    commits that write deliveries happen in other processes."""
    import atiende.models  # noqa: F401
    from atiende.integrations.dispatcher import WebhookDispatcher

    database = Database(settings.database_url)
    async with new_client() as http:
        context = JobContext(database=database, clock=SystemClock(), bus=make_bus(None, settings.redis_channel),
                             settings=settings, http=http)
        dispatcher = WebhookDispatcher(context, poll_seconds=poll_seconds)
        dispatcher.start()
        settle_long_lived()
        try:
            await asyncio.Event().wait()
        finally:
            await dispatcher.stop()
            await database.dispose()
