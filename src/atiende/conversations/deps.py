"""The engine's runtime for web code: the worker's job context (database, clock, bus, settings,
http), with the worker's wake-up so work enqueued by a request starts right after commit."""

from typing import Annotated

from fastapi import Depends, Request

from atiende.conversations.intake import InboundRouter
from atiende.jobs import JobContext


def engine_context(request: Request) -> JobContext:
    worker = request.app.state.worker
    context: JobContext = worker.context
    context.extras.setdefault("wake", worker.wake)
    return context


EngineDep = Annotated[JobContext, Depends(engine_context)]


def inbound_router(request: Request) -> InboundRouter:
    router: InboundRouter = request.app.state.inbound_router
    return router


RouterDep = Annotated[InboundRouter, Depends(inbound_router)]
