"""Who is looking at a page: the login kept in the browser's user storage, the Caller rebuilt from
it for every action, the chosen client and the locale.

Pages never keep ORM objects between actions: each action opens its own session through ``act()``,
which re-checks the token, so a revoked token or a removed license takes effect at once.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field

from nicegui import app
from sqlalchemy.ext.asyncio import AsyncSession

from atiende.auth.caller import Caller
from atiende.auth.models import Role
from atiende.auth.service import InvalidToken, TooManyLoginAttempts, auth_service
from atiende.clock import Clock
from atiende.i18n import LOCALES
from atiende.ui.runtime import runtime

TOKEN = "token"
CLIENT = "client_id"
LOCALE = "locale"
MAX_EMAIL = 254
MAX_PASSWORD = 128


class SessionExpired(Exception):
    """The stored token no longer opens a session; the page sends the person to /login."""


@dataclass
class Acting:
    """One unit of work on behalf of the logged-in person: a session that commits at the end."""

    session: AsyncSession
    caller: Caller
    clock: Clock


@dataclass(frozen=True)
class ClientChoice:
    id: int
    name: str
    role: Role
    plan_max_history_hours: int
    plan_seats: int


@dataclass
class PageContext:
    """Plain data about the viewer, safe to keep for the life of a page."""

    user_id: int
    email: str
    full_name: str
    locale: str
    is_superuser: bool
    clients: list[ClientChoice]
    client: ClientChoice | None
    query: dict[str, str] = field(default_factory=dict)
    invitations: int = 0

    @property
    def client_id(self) -> int:
        if self.client is None:
            raise LookupError("No client chosen")
        return self.client.id

    @property
    def role(self) -> Role | None:
        return self.client.role if self.client else None

    @property
    def is_admin(self) -> bool:
        return self.role == Role.admin


def user_storage() -> dict:  # type: ignore[type-arg]
    storage: dict = app.storage.user  # type: ignore[type-arg]
    return storage


def stored_locale() -> str | None:
    """The viewer's locale, for ``atiende.i18n``; None outside a page."""
    with suppress(RuntimeError, AssertionError, KeyError):
        value = user_storage().get(LOCALE)
        return value if value in LOCALES else None
    return None


@asynccontextmanager
async def act() -> AsyncIterator[Acting]:
    """A committed-on-success session with the caller behind the stored token."""
    rt = runtime()
    token = user_storage().get(TOKEN)
    if not token:
        raise SessionExpired()
    async with rt.database.session() as session:
        try:
            caller = await auth_service.caller_for_token(session, str(token), clock=rt.clock)
        except InvalidToken as exc:
            raise SessionExpired() from exc
        yield Acting(session=session, caller=caller, clock=rt.clock)


async def log_in(email: str, password: str, address: str | None = None) -> str | None:
    """Opens a session for these credentials (``address``: the browser's, for the login limits);
    returns an i18n key describing a failure, or None."""
    if not email.strip() or not password:
        return "login.error.missing"
    if len(email) > MAX_EMAIL or len(password) > MAX_PASSWORD:
        return "login.error.invalid"
    rt = runtime()
    try:
        async with rt.database.session() as session:
            user = await auth_service.authenticate(session, email, password, clock=rt.clock, settings=rt.settings,
                                                   address=address)
            token = None if user is None else await auth_service.issue_token(
                session, user, clock=rt.clock, settings=rt.settings)
            locale = user.locale if user else None
    except TooManyLoginAttempts:
        return "login.error.too_many"
    if token is None:
        return "login.error.invalid"
    storage = user_storage()
    storage.clear()
    storage.update({TOKEN: token, LOCALE: locale if locale in LOCALES else rt.settings.default_locale})
    return None


async def log_out() -> None:
    """Ends the session; logged out means Desconectado (presence offline in every client)."""
    from atiende.conversations.signoff import sign_off
    from atiende.ui.workspace.live import engine

    storage = user_storage()
    token = storage.get(TOKEN)
    if token:
        async with runtime().database.session() as session:
            with suppress(InvalidToken):
                await sign_off(session, engine(), await auth_service.caller_for_token(
                    session, str(token), clock=runtime().clock))
            await auth_service.revoke_token(session, str(token), bus=runtime().app.state.bus)
    storage.clear()


async def load_context(query: dict[str, str] | None = None) -> PageContext | None:
    """The viewer of this page, or None when nobody (valid) is logged in."""
    from atiende.auth.invitations import invitation_service

    try:
        async with act() as acting:
            caller = acting.caller
            invitations = len(await invitation_service.pending(acting.session, caller.user))
            clients = sorted(
                (ClientChoice(id=m.client_id, name=m.client.name, role=m.role,
                              plan_max_history_hours=m.client.plan_max_history_hours, plan_seats=m.client.plan_seats)
                 for m in caller.memberships.values() if m.active),
                key=lambda c: c.name.lower())
            user = caller.user
            context = PageContext(user_id=user.id, email=user.email, full_name=user.full_name or user.email,
                                  locale=user.locale if user.locale in LOCALES else runtime().settings.default_locale,
                                  is_superuser=user.is_superuser, clients=clients, client=None,
                                  query=dict(query or {}), invitations=invitations)
    except SessionExpired:
        user_storage().pop(TOKEN, None)
        return None
    storage = user_storage()
    chosen = storage.get(CLIENT)
    context.client = next((c for c in clients if c.id == chosen), clients[0] if clients else None)
    storage[CLIENT] = context.client.id if context.client else None
    storage[LOCALE] = context.locale
    return context


def choose_client(client_id: int) -> None:
    user_storage()[CLIENT] = client_id


async def save_locale(locale: str) -> None:
    """The viewer's language, kept on their user so it follows them to any browser."""
    from atiende.auth.schemas import MeUpdate

    chosen = MeUpdate(locale=locale).locale
    async with act() as acting:
        acting.caller.user.locale = chosen or acting.caller.user.locale
        await acting.session.flush()
    user_storage()[LOCALE] = chosen

