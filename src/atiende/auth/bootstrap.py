"""First users, from the command line: the platform superuser and each client's first admin."""

from pydantic import EmailStr, TypeAdapter, ValidationError
from sqlalchemy import select

from atiende.auth.models import Membership, Role, User
from atiende.auth.passwords import hash_password
from atiende.auth.service import normalize_email
from atiende.db import Database
from atiende.tenancy.models import Client


class BootstrapError(Exception):
    pass


async def create_admin(database_url: str, *, email: str, password: str, client_name: str | None,
                       full_name: str = "", superuser: bool = False, seats: int = 10) -> str:
    try:
        email = normalize_email(str(TypeAdapter(EmailStr).validate_python(email)))
    except ValidationError:
        raise BootstrapError(f"not a valid email address: {email!r}") from None
    if len(password) < 8:
        raise BootstrapError("the password needs at least 8 characters")
    database = Database(database_url)
    try:
        async with database.session() as session:
            user = await session.scalar(select(User).where(User.email == email))
            if user is None:
                user = User(email=email, full_name=full_name or email.split("@")[0],
                            password_hash=hash_password(password), is_superuser=superuser)
                session.add(user)
                await session.flush()
                action = "created"
            else:
                user.password_hash = hash_password(password)
                user.is_superuser = user.is_superuser or superuser
                action = "updated"
            if client_name is None:
                return f"superuser {email} {action}"
            client = await session.scalar(select(Client).where(Client.name == client_name.strip()))
            if client is None:
                client = Client(name=client_name.strip(), plan_seats=seats)
                session.add(client)
                await session.flush()
            membership = await session.scalar(select(Membership).where(
                Membership.user_id == user.id, Membership.client_id == client.id))
            if membership is None:
                used = len((await session.scalars(select(Membership.id).where(
                    Membership.client_id == client.id, Membership.active.is_(True)))).all())
                if used >= client.plan_seats:
                    raise BootstrapError(f"client {client.name!r} has no free license ({client.plan_seats} in use)")
                session.add(Membership(user_id=user.id, client_id=client.id, role=Role.admin, active=True))
            else:
                membership.role, membership.active = Role.admin, True
            return f"admin {email} {action} for client {client.name!r} (id {client.id})"
    finally:
        await database.dispose()
