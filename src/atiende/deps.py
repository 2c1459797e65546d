"""Typed dependencies shared by every router: the session, the clock, the caller."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession

from atiende.auth.caller import Caller
from atiende.auth.service import InvalidToken, auth_service
from atiende.bus import EventBus
from atiende.clock import Clock
from atiende.db import Database
from atiende.jobs import Worker
from atiende.settings import Settings


def get_database(request: Request) -> Database:
    return request.app.state.database


def get_clock(request: Request) -> Clock:
    return request.app.state.clock


def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


def get_bus(request: Request) -> EventBus:
    return request.app.state.bus


def get_worker(request: Request) -> Worker:
    return request.app.state.worker


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request: committed when the endpoint returns, rolled back on error.

    Runs with ``scope="function"`` so the commit happens before the response is sent: a client
    that gets 201 can read what it created, and a failing commit still becomes an error response.
    """
    database: Database = request.app.state.database
    async with database.session() as session:
        yield session


DbSession = Annotated[AsyncSession, Depends(get_session, scope="function")]
ClockDep = Annotated[Clock, Depends(get_clock)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
DatabaseDep = Annotated[Database, Depends(get_database)]
BusDep = Annotated[EventBus, Depends(get_bus)]
WorkerDep = Annotated[Worker, Depends(get_worker)]

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


async def get_caller(session: DbSession, clock: ClockDep,
                     token: Annotated[str | None, Depends(oauth2_scheme)]) -> Caller:
    if not token:
        raise InvalidToken()
    return await auth_service.caller_for_token(session, token, clock=clock)


CurrentCaller = Annotated[Caller, Depends(get_caller)]
BearerToken = Annotated[str | None, Depends(oauth2_scheme)]
