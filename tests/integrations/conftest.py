"""Webhook tests send over real HTTP to a local receiver; the dispatcher here may reach
127.0.0.1 (as ATIENDE_WEBHOOKS_ALLOW_PRIVATE_ADDRESSES=true would allow) and times out fast."""

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from atiende.integrations.dispatcher import WebhookDispatcher
from atiende.jobs import JobContext, Worker
from tests.conversations.scenario import Receiver
from tests.integrations.receiver import LocalReceiver, local_receiver


@pytest.fixture
def crm() -> Iterator[LocalReceiver]:
    with local_receiver() as receiver:
        yield receiver


@pytest.fixture
async def dispatcher(app) -> AsyncIterator[WebhookDispatcher]:  # type: ignore[no-untyped-def]
    settings = app.state.settings.model_copy(update={"webhooks_allow_private_addresses": True})
    async with httpx.AsyncClient() as http:
        yield WebhookDispatcher(JobContext(database=app.state.database, clock=app.state.clock, bus=app.state.bus,
                                           settings=settings, http=http), timeout_seconds=0.5)


@pytest.fixture
async def worker(app) -> AsyncIterator[Worker]:  # type: ignore[no-untyped-def]
    """The jobs worker, sending agents' replies to a fake API-channel receiver."""
    async with httpx.AsyncClient(transport=httpx.MockTransport(Receiver().handle)) as http:
        yield Worker(JobContext(database=app.state.database, clock=app.state.clock, bus=app.state.bus,
                                settings=app.state.settings, http=http))
