"""The engine's tests run jobs with a worker whose HTTP client talks to a fake receiver (the
system behind the API channel's callback URL), injected through the job context."""

from collections.abc import AsyncIterator

import httpx
import pytest

from atiende.jobs import JobContext, Worker
from tests.conversations.scenario import Receiver


@pytest.fixture
def receiver() -> Receiver:
    return Receiver()


@pytest.fixture
async def worker(app, receiver: Receiver) -> AsyncIterator[Worker]:  # type: ignore[no-untyped-def]
    async with httpx.AsyncClient(transport=httpx.MockTransport(receiver.handle)) as http:
        yield Worker(JobContext(database=app.state.database, clock=app.state.clock, bus=app.state.bus,
                                settings=app.state.settings, http=http))
