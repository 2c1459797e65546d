"""Async factories and ready-made people: ``create_*`` helpers write straight to the database
(fast set-up), while tests exercise behaviour through HTTP."""

import itertools
from dataclasses import dataclass
from datetime import time
from typing import Any

import pytest

from atiende.auth.models import Membership, Role, User
from atiende.auth.passwords import hash_password
from atiende.auth.service import auth_service
from atiende.clock import FakeClock
from atiende.db import Database
from atiende.settings import Settings
from atiende.tenancy.models import Client, Project

PASSWORD = "correct-horse-9"
_PASSWORD_HASH = hash_password(PASSWORD)
_seq = itertools.count(1)


@dataclass
class Person:
    """A user acting in one client, with the bearer header to act as them over HTTP."""

    user_id: int
    email: str
    client_id: int
    membership_id: int
    role: Role
    headers: dict[str, str]


class Factory:
    def __init__(self, database: Database, clock: FakeClock, settings: Settings) -> None:
        self.database = database
        self.clock = clock
        self.settings = settings

    async def client(self, **overrides: Any) -> Client:
        values: dict[str, Any] = {"name": f"Cliente {next(_seq)}", "plan_seats": 10, "plan_max_history_hours": 72}
        values.update(overrides)
        async with self.database.session() as session:
            client = Client(**values)
            session.add(client)
        return client

    async def project(self, client_id: int, **overrides: Any) -> Project:
        async with self.database.session() as session:
            project = Project(client_id=client_id, name=overrides.pop("name", f"Proyecto {next(_seq)}"), **overrides)
            session.add(project)
        return project

    async def person(self, client_id: int, role: Role = Role.admin, *, active: bool = True,
                     superuser: bool = False, email: str | None = None) -> Person:
        email = email or f"{role.value}{next(_seq)}@example.com"
        async with self.database.session() as session:
            user = User(email=email, full_name=email.split("@")[0], password_hash=_PASSWORD_HASH,
                        is_superuser=superuser)
            session.add(user)
            await session.flush()
            membership = Membership(user_id=user.id, client_id=client_id, role=role, active=active)
            session.add(membership)
            await session.flush()
            token = await auth_service.issue_token(session, user, clock=self.clock, settings=self.settings)
        return Person(user_id=user.id, email=email, client_id=client_id, membership_id=membership.id, role=role,
                      headers={"Authorization": f"Bearer {token}"})

    async def join(self, person: Person, client_id: int, role: Role = Role.admin) -> None:
        """Give an existing person a seat in another client too."""
        async with self.database.session() as session:
            session.add(Membership(user_id=person.user_id, client_id=client_id, role=role, active=True))

    async def schedule(self, client_id: int, *, name: str | None = None, timezone: str = "America/Bogota",
                       bands: list[tuple[int, time, time]] | None = None) -> Any:
        from atiende.catalog.models import Schedule, TimeBand

        if bands is None:
            bands = [(d, time(8), time(17)) for d in range(5)]
        async with self.database.session() as session:
            schedule = Schedule(client_id=client_id, name=name or f"Horario {next(_seq)}", timezone=timezone,
                                bands=[TimeBand(weekday=d, start=s, end=e) for d, s, e in bands])
            session.add(schedule)
        return schedule


@pytest.fixture
def factory(database: Database, clock: FakeClock, settings: Settings) -> Factory:
    return Factory(database, clock, settings)


@dataclass
class Tenant:
    client: Client
    admin: Person
    supervisor: Person
    agent: Person


async def make_tenant(factory: Factory, **client_overrides: Any) -> Tenant:
    client = await factory.client(**client_overrides)
    return Tenant(client=client, admin=await factory.person(client.id, Role.admin),
                  supervisor=await factory.person(client.id, Role.supervisor),
                  agent=await factory.person(client.id, Role.agent))


@pytest.fixture
async def tenant(factory: Factory) -> Tenant:
    return await make_tenant(factory)


@pytest.fixture
async def other_tenant(factory: Factory) -> Tenant:
    """A second client, to prove nothing of it leaks to ``tenant``."""
    return await make_tenant(factory)


# --- campaigns -------------------------------------------------------------------------------

@dataclass
class CampaignSetup:
    """Everything a campaign references, created in one client, and the form body using it."""

    client_id: int
    project_id: int
    schedule_id: int
    typification_ids: dict[str, int]
    channel_id: int
    field_definition_id: int
    survey_bot_id: int
    funnel_id: int

    def body(self, **overrides: Any) -> dict[str, Any]:
        """A valid campaign form (every tab filled) over these ids; ``overrides`` replace top-level keys."""
        body: dict[str, Any] = {
            "client_id": self.client_id, "project_id": self.project_id, "name": f"Campaña {next(_seq)}",
            "survey": {"enabled": True, "survey_bot_id": self.survey_bot_id},
            "funnel_id": self.funnel_id,
            "channels": {"configure_later": False, "channel_ids": [self.channel_id]},
            "schedule": {"schedule_id": self.schedule_id, "out_of_hours_action": "close", "apply_to_queued": True,
                         "out_of_hours_message": "Nuestro horario es de lunes a viernes de 8 a 17.",
                         "send_out_of_hours_message": True},
            "typifications": dict(self.typification_ids),
            "inactivity_timeout_minutes": 30,
            "permissions": {"external_resources": True, "transfer_between_agents": True,
                            "show_contact_number": False, "history_enabled": True, "history_hours": 48,
                            "reassign_when_exclusive_offline": True, "close_without_reply": False,
                            "emojis": True, "voice_notes": False},
            "fields": [{"field_definition_id": self.field_definition_id, "required": True}],
            "assignment_method": "smart", "active": True,
        }
        body.update(overrides)
        return body


async def create_campaign_setup(self: Factory, client_id: int) -> CampaignSetup:
    """A project, a schedule, the four typifications, a channel, a field, a survey bot and a funnel."""
    from atiende.catalog.models import FieldDefinition, FieldType, Funnel, FunnelStage, SurveyBot, SurveyQuestion
    from atiende.catalog.models import QuestionKind, Typification
    from atiende.channels.models import Channel, ChannelKind

    n = next(_seq)
    project = await self.project(client_id)
    schedule = await self.schedule(client_id)
    async with self.database.session() as session:
        typifications = {slot: Typification(client_id=client_id, name=f"{slot} {n}", code=f"{slot}-{n}")
                         for slot in ("inactivity", "transferred", "agent_closed", "mass_transfer")}
        channel = Channel(client_id=client_id, kind=ChannelKind.whatsapp, name=f"WhatsApp {n}",
                          credentials={"token": "secret"}, settings={"phone": "+573001234567"})
        field = FieldDefinition(client_id=client_id, key=f"cedula_{n}", label="Cédula", type=FieldType.text)
        bot = SurveyBot(client_id=client_id, name=f"Encuesta {n}", closing_message="¡Gracias!",
                        questions=[SurveyQuestion(position=0, kind=QuestionKind.rating, text="¿Cómo te atendimos?")])
        funnel = Funnel(client_id=client_id, name=f"Embudo {n}",
                        stages=[FunnelStage(position=0, name="Contacto"), FunnelStage(position=1, name="Pago")])
        session.add_all([*typifications.values(), channel, field, bot, funnel])
        await session.flush()
        return CampaignSetup(client_id=client_id, project_id=project.id, schedule_id=schedule.id,
                             typification_ids={slot: t.id for slot, t in typifications.items()},
                             channel_id=channel.id, field_definition_id=field.id, survey_bot_id=bot.id,
                             funnel_id=funnel.id)


async def create_channel(self: Factory, client_id: int, *, name: str | None = None, active: bool = True) -> int:
    from atiende.channels.models import Channel, ChannelKind

    async with self.database.session() as session:
        channel = Channel(client_id=client_id, kind=ChannelKind.webchat, name=name or f"Web {next(_seq)}",
                          active=active)
        session.add(channel)
        await session.flush()
        return channel.id


Factory.campaign_setup = create_campaign_setup  # type: ignore[attr-defined]  # factory.campaign_setup(id)
Factory.campaign_channel = create_channel  # type: ignore[attr-defined]  # factory.campaign_channel(id)


# --- setup catalog: a campaign that uses given catalog items ----------------------------------

async def create_campaign_using(self: Factory, client_id: int, *, name: str | None = None, active: bool = True,
                                schedule_id: int | None = None, typification_ids: dict[str, int] | None = None,
                                channel_ids: tuple[int, ...] = (), field_definition_ids: tuple[int, ...] = (),
                                funnel_id: int | None = None, survey_bot_id: int | None = None) -> int:
    """A campaign row referencing the given items (what it must have and is not given is created)."""
    from atiende.campaigns.models import AssignmentMethod, Campaign, CampaignChannel, CampaignField
    from atiende.campaigns.models import OutOfHoursAction
    from atiende.catalog.models import Typification

    n = next(_seq)
    project = await self.project(client_id)
    schedule_id = schedule_id or (await self.schedule(client_id)).id
    slots = dict(typification_ids or {})
    async with self.database.session() as session:
        for slot in ("inactivity", "transferred", "agent_closed", "mass_transfer"):
            if slot not in slots:
                row = Typification(client_id=client_id, name=f"{slot} {n}", code=f"auto-{slot}-{n}")
                session.add(row)
                await session.flush()
                slots[slot] = row.id
        campaign = Campaign(
            client_id=client_id, project_id=project.id, name=name or f"Campaña {n}", schedule_id=schedule_id,
            out_of_hours_action=OutOfHoursAction.queue, assignment_method=AssignmentMethod.smart, active=active,
            survey_enabled=survey_bot_id is not None, survey_bot_id=survey_bot_id, funnel_id=funnel_id,
            typification_inactivity_id=slots["inactivity"], typification_transferred_id=slots["transferred"],
            typification_agent_closed_id=slots["agent_closed"], typification_mass_transfer_id=slots["mass_transfer"],
            channel_links=[CampaignChannel(channel_id=cid) for cid in channel_ids],
            field_links=[CampaignField(field_definition_id=fid, position=i)
                         for i, fid in enumerate(field_definition_ids)])
        session.add(campaign)
        await session.flush()
        return campaign.id


Factory.campaign_using = create_campaign_using  # type: ignore[attr-defined]  # factory.campaign_using(client_id, ...)
