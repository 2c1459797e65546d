"""The engine's runtime for web code: the worker's job context (database, clock, bus, settings,
http), with the worker's wake-up so work enqueued by a request starts right after commit."""

from typing import Annotated

from fastapi import Depends, Request

from atiende.jobs import JobContext


def engine_context(request: Request) -> JobContext:
    worker = request.app.state.worker
    context: JobContext = worker.context
    context.extras.setdefault("wake", worker.wake)
    return context


async def _engine(request: Request) -> JobContext:  # async: a sync dependency costs a thread hop
    return engine_context(request)


EngineDep = Annotated[JobContext, Depends(_engine)]

