"""Data the browser tests add to the demo: an empty client ("Cliente Nuevo S.A.") where the demo
admin is admin too, so the tests create every prerequisite through the console (and the header
shows the client switcher). Its plan is small, to reach the license and history limits."""

from sqlalchemy import select

from atiende.auth.models import Membership, Role, User
from atiende.auth.passwords import hash_password
from atiende.db import Database
from atiende.demo import DEMO_PASSWORD
from atiende.tenancy.models import Client

PASSWORD = DEMO_PASSWORD
ADMIN = "admin@demo.atiende.app"
AGENT = "agente.ui@example.com"
SUPERVISOR = "supervisor.ui@example.com"
DEMO_SUPERVISOR = "supervisor@demo.atiende.app"
EMPTY_CLIENT = "Cliente Nuevo S.A."
DEMO_CLIENT = "Demo S.A."
EMPTY_CLIENT_SEATS = 4
EMPTY_CLIENT_HISTORY_HOURS = 48


async def seed_empty_client(url: str) -> None:
    database = Database(url)
    try:
        async with database.session() as session:
            client = Client(name=EMPTY_CLIENT, plan_seats=EMPTY_CLIENT_SEATS,
                            plan_max_history_hours=EMPTY_CLIENT_HISTORY_HOURS)
            session.add(client)
            await session.flush()
            for email, role in ((ADMIN, Role.admin), (AGENT, Role.agent), (SUPERVISOR, Role.supervisor)):
                user = await session.scalar(select(User).where(User.email == email))
                if user is None:
                    user = User(email=email, full_name=email.split("@")[0].replace(".", " ").title(),
                                password_hash=hash_password(PASSWORD))
                    session.add(user)
                    await session.flush()
                session.add(Membership(user_id=user.id, client_id=client.id, role=role, active=True))
    finally:
        await database.dispose()
