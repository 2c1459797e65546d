"""Typed dependencies shared by every router: the session, the clock, the caller."""

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession

from atiende.auth.caller import Caller, LicenseInactive, RoleRequired, SuperuserRequired
from atiende.auth.models import Role
from atiende.auth.service import InvalidToken, auth_service
from atiende.bus import EventBus
from atiende.clock import Clock
from atiende.db import Database
from atiende.jobs import JobContext, Worker
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


def engine_of(app: Any) -> JobContext:
    """The engine's runtime for web code and pages: the worker's job context (database, clock, bus,
    settings, http), with the worker's wake-up so work enqueued by a request starts after commit."""
    worker = app.state.worker
    context: JobContext = worker.context
    context.extras.setdefault("wake", worker.wake)
    return context


def engine_context(request: Request) -> JobContext:
    return engine_of(request.app)


async def _engine(request: Request) -> JobContext:  # async: a sync dependency costs a thread hop
    return engine_of(request.app)


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
EngineDep = Annotated[JobContext, Depends(_engine)]

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


async def get_caller(session: DbSession, clock: ClockDep,
                     token: Annotated[str | None, Depends(oauth2_scheme)]) -> Caller:
    if not token:
        raise InvalidToken()
    return await auth_service.caller_for_token(session, token, clock=clock)


CurrentCaller = Annotated[Caller, Depends(get_caller)]
BearerToken = Annotated[str | None, Depends(oauth2_scheme)]


WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def writes_by(*roles: Role) -> Any:
    """Authorization before validation: a dependency of a router (or of one write route) that lets
    a write (POST, PUT, PATCH, DELETE) through only for a caller holding one of ``roles`` in some
    active seat (no ``roles``: the platform superuser only; the superuser always passes). FastAPI
    runs router dependencies before it reads the path, query and body, so an agent's write to an
    admins' resource is a 403 whatever the body holds. The service still checks the role in the
    very client written to; this check only keeps the answer from depending on the body."""

    async def check(request: Request, caller: CurrentCaller) -> None:
        if request.method not in WRITE_METHODS or caller.user.is_superuser:
            return
        if not roles:
            raise SuperuserRequired()
        seats = [m for m in caller.memberships.values() if m.role in roles]
        if not any(m.active for m in seats):
            raise LicenseInactive() if seats else RoleRequired(roles)

    return Depends(check)


AdminsWrite = writes_by(Role.admin)
SupervisorsWrite = writes_by(Role.admin, Role.supervisor)
SuperuserWrites = writes_by()
