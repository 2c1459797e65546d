"""The benchmarks' world: scratch PostgreSQL databases and a contact center seeded straight through
the models (fast), shaped like a real one: a client with a 24/7 campaign on an API channel, agents
attached with a capacity (online or not, with bearer tokens when a benchmark logs them in), and,
when asked, thousands of known contacts or waiting conversations."""

import asyncio
import hashlib
import os
import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from atiende import migrate
from atiende.auth.models import AccessToken, Membership, Presence, Role, User
from atiende.auth.passwords import hash_password
from atiende.campaigns.models import AssignmentMethod, Campaign, CampaignChannel, OutOfHoursAction
from atiende.campaigns.permissions import CampaignPermissions
from atiende.catalog.models import Schedule, TimeBand, Typification
from atiende.channels.models import Channel, ChannelKind
from atiende.conversations.models import CampaignAgent, Contact, ContactIdentity, Conversation, ConversationStatus
from atiende.db import Database
from atiende.tenancy.models import Client, Project

BASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
SECRET = "bench-api-channel-secret-0001"
WHATSAPP_SECRET = "bench-whatsapp-app-secret-0001"
WHATSAPP_NUMBER = "100200300400"
TOKEN_TTL = timedelta(days=1)
CHUNK = 2000  # rows per bulk INSERT


def loopback_only(url: str) -> str:
    host = make_url(url).host or ""
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit(f"benchmarks only talk to loopback addresses, not {host!r}")
    return url


async def _admin(statement: str) -> None:
    engine = create_async_engine(loopback_only(BASE_URL), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


@contextmanager
def scratch_database(*, migrated: bool = True) -> Iterator[str]:
    """A new PostgreSQL database (migrated to head unless told otherwise), dropped afterwards."""
    name = f"atiende_bench_{uuid.uuid4().hex[:10]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    url = make_url(BASE_URL).set(database=name).render_as_string(hide_password=False)
    try:
        if migrated:
            migrate.upgrade(url)
        yield url
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@dataclass
class Agent:
    membership_id: int
    user_id: int
    token: str | None = None


@dataclass
class World:
    client_id: int
    channel_id: int
    campaign_id: int
    supervisor_user_id: int
    agents: list[Agent] = field(default_factory=list)
    known_contacts: int = 0  # contacts "known-<i>" already on the API channel
    whatsapp_channel_id: int = 0  # a WhatsApp channel of the same campaign (app secret WHATSAPP_SECRET)

    @property
    def inbound_path(self) -> str:
        return f"/api/v1/channels/{self.channel_id}/inbound"


async def seed(url: str, *, agents: int, capacity: int, online: bool, tokens: bool = False,
               known_contacts: int = 0) -> World:
    """One client with a round-the-clock campaign (assignment *Inteligente*) on an API channel
    signed with ``SECRET``, a supervisor, and ``agents`` agents attached with ``capacity``."""
    database = Database(url)
    try:
        async with database.session() as session:
            client = Client(name="Bench S.A.", plan_seats=agents + 10, default_agent_capacity=capacity)
            session.add(client)
            await session.flush()
            project = Project(client_id=client.id, name="Atención")
            schedule = Schedule(client_id=client.id, name="24/7", timezone="UTC",
                                bands=[TimeBand(weekday=d, start=time(0), end=time(0)) for d in range(7)])
            root = Typification(client_id=client.id, name="Gestión", code="gestion")
            channel = Channel(client_id=client.id, kind=ChannelKind.api, name="API bench",
                              credentials={"secret": SECRET},
                              settings={"callback_url": "http://127.0.0.1:9/unused"})
            whatsapp = Channel(client_id=client.id, kind=ChannelKind.whatsapp, name="WhatsApp bench",
                               credentials={"app_secret": WHATSAPP_SECRET, "access_token": "unused",
                                            "verify_token": "unused"},
                               settings={"phone_number_id": WHATSAPP_NUMBER})
            session.add_all([project, schedule, root, channel, whatsapp])
            await session.flush()
            codes = ["inactividad", "transferida", "finalizada_agente", "transferencia_masiva"]
            typ = {code: Typification(client_id=client.id, name=code, code=code, parent_id=root.id) for code in codes}
            session.add_all(typ.values())
            await session.flush()
            campaign = Campaign(
                client_id=client.id, project_id=project.id, name="Soporte", schedule_id=schedule.id,
                out_of_hours_action=OutOfHoursAction.queue, typification_inactivity_id=typ["inactividad"].id,
                typification_transferred_id=typ["transferida"].id,
                typification_agent_closed_id=typ["finalizada_agente"].id,
                typification_mass_transfer_id=typ["transferencia_masiva"].id, inactivity_timeout_minutes=30,
                permissions=CampaignPermissions(close_without_reply=True, transfer_between_agents=True),
                assignment_method=AssignmentMethod.smart, active=True,
                channel_links=[CampaignChannel(channel_id=channel.id), CampaignChannel(channel_id=whatsapp.id)])
            session.add(campaign)
            await session.flush()
            supervisor_user_id, _ = (await _people(session, client.id, 1, Role.supervisor, Presence.offline))[0]
            people = await _people(session, client.id, agents, Role.agent,
                                   Presence.online if online else Presence.offline)
            if people:
                await session.execute(insert(CampaignAgent), [
                    {"campaign_id": campaign.id, "membership_id": m, "capacity": capacity} for _, m in people])
            world = World(client.id, channel.id, campaign.id, supervisor_user_id,
                          [Agent(membership_id=m, user_id=u) for u, m in people], whatsapp_channel_id=whatsapp.id)
            if tokens:
                await _issue_tokens(session, world.agents)
        if known_contacts:
            await _known_contacts(database, world, known_contacts)
        return world
    finally:
        await database.dispose()


async def _insert_ids(session: AsyncSession, model: type[Any], rows: list[dict[str, Any]]) -> list[int]:
    """Bulk INSERT through the model (its column defaults apply); the new ids in ``rows`` order."""
    stmt = insert(model).returning(model.id, sort_by_parameter_order=True)
    return list((await session.scalars(stmt, rows)).all())


async def _people(session: AsyncSession, client_id: int, count: int, role: Role,
                  presence: Presence) -> list[tuple[int, int]]:
    """``count`` users with a seat in the client: [(user_id, membership_id)] in creation order."""
    if count == 0:
        return []
    password_hash = hash_password(secrets.token_urlsafe(16))  # nobody logs in with a password here
    tag = uuid.uuid4().hex[:6]
    user_ids = await _insert_ids(session, User, [
        {"email": f"{role.value}{i}-{tag}@bench.atiende.app", "full_name": f"{role.value.title()} {i}",
         "password_hash": password_hash} for i in range(count)])
    membership_ids = await _insert_ids(session, Membership, [
        {"user_id": u, "client_id": client_id, "role": role, "active": True, "presence": presence}
        for u in user_ids])
    return list(zip(user_ids, membership_ids, strict=True))


async def _issue_tokens(session: AsyncSession, agents: list[Agent]) -> None:
    """Bearer tokens as ``auth_service.issue_token`` makes them (only the SHA-256 is stored), in bulk."""
    now = datetime.now(UTC)
    rows = []
    for agent in agents:
        agent.token = secrets.token_urlsafe(32)
        rows.append({"user_id": agent.user_id, "token_hash": hashlib.sha256(agent.token.encode()).hexdigest(),
                     "created_at": now, "expires_at": now + TOKEN_TTL})
    await session.execute(insert(AccessToken), rows)


def known_contact(i: int) -> tuple[str, str]:
    """External id and phone of pre-seeded contact ``i`` (Colombian mobiles, valid E.164)."""
    return f"known-{i}", f"+57300{i:07d}"


async def _known_contacts(database: Database, world: World, count: int) -> None:
    now = datetime.now(UTC)
    for start in range(0, count, CHUNK):
        stop = min(count, start + CHUNK)
        async with database.session() as session:
            ids = await _insert_ids(session, Contact, [
                {"client_id": world.client_id, "name": f"Cliente {i}", "phone": known_contact(i)[1], "created_at": now}
                for i in range(start, stop)])
            await session.execute(insert(ContactIdentity), [
                {"contact_id": contact_id, "channel_id": world.channel_id, "external_id": known_contact(i)[0]}
                for i, contact_id in zip(range(start, stop), ids, strict=True)])
    world.known_contacts = count


async def queue_conversations(url: str, world: World, count: int) -> None:
    """``count`` conversations waiting in the campaign's queue, oldest first, one contact each."""
    database = Database(url)
    start_at = datetime.now(UTC) - timedelta(hours=1)
    try:
        for start in range(0, count, CHUNK):
            stop = min(count, start + CHUNK)
            async with database.session() as session:
                ids = await _insert_ids(session, Contact, [
                    {"client_id": world.client_id, "name": f"Esperando {i}", "phone": None, "created_at": start_at}
                    for i in range(start, stop)])
                await session.execute(insert(Conversation), [
                    {"client_id": world.client_id, "campaign_id": world.campaign_id, "channel_id": world.channel_id,
                     "contact_id": contact_id, "status": ConversationStatus.queued,
                     "opened_at": start_at + timedelta(milliseconds=i),
                     "queued_at": start_at + timedelta(milliseconds=i), "field_values": {}}
                    for i, contact_id in zip(range(start, stop), ids, strict=True)])
        await vacuum_analyze(database)
    finally:
        await database.dispose()


async def vacuum_analyze(database: Database) -> None:
    """What autovacuum does soon after a bulk load: fresh planner statistics and visibility map."""
    async with database.engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("VACUUM ANALYZE"))
