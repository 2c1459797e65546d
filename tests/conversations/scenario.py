"""A ready-to-run contact center for the engine's tests: one client with an admin, a supervisor and
agents, an API channel (signed with a known secret, calling back a fake receiver), a campaign
whose every tab can be set per test, and helpers that act through HTTP like the real actors."""

import itertools
import json
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from atiende.auth.models import Role, User
from atiende.auth.service import auth_service
from atiende.bus import BusEvent, Subscription
from atiende.campaigns.models import AssignmentMethod, Campaign, CampaignChannel, CampaignField, OutOfHoursAction
from atiende.campaigns.permissions import CampaignPermissions
from atiende.catalog.models import (
    FieldDefinition, FieldType, Funnel, FunnelStage, Holiday, QuestionKind, Schedule, SurveyBot, SurveyQuestion,
    TimeBand, Typification,
)
from atiende.channels.api_channel import sign
from atiende.channels.models import Channel, ChannelKind
from atiende.conversations.models import Assignment, Contact, Conversation, DeliveryState, InboundDelivery, Message
from atiende.db import Database
from tests.factories import Factory, Person

SECRET = "s3cret-of-the-api-channel"
CALLBACK = "http://crm.example/atiende/callback"
ALWAYS = [(d, time(0), time(0)) for d in range(7)]
OFFICE = [(d, time(8), time(17)) for d in range(5)]
_seq = itertools.count(1)


class Receiver:
    """The system behind an API channel's callback URL: records what we POST, answers as told."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.answers: list[int] = []  # status codes to answer next, in order; then 200

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        status = self.answers.pop(0) if self.answers else 200
        body = {"external_id": f"crm-{len(self.requests)}"} if status == 200 else {"error": "nope"}
        return httpx.Response(status, json=body)

    @property
    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(r.content) for r in self.requests]


@dataclass
class Scenario:
    http: httpx.AsyncClient
    factory: Factory
    client_id: int
    admin: Person
    supervisor: Person
    channel_id: int
    campaign_id: int
    schedule_id: int
    typifications: dict[str, int]
    agents: list[Person] = field(default_factory=list)
    capacities: dict[int, int | None] = field(default_factory=dict)

    @property
    def database(self) -> Database:
        return self.factory.database

    # --- time ---------------------------------------------------------------------------------
    async def travel(self, when: datetime) -> None:
        """Move the clock (forward or back) and give everyone a fresh login at that time."""
        self.factory.clock.set(when)
        async with self.database.session() as session:
            for person in [self.admin, self.supervisor, *self.agents]:
                user = await session.get(User, person.user_id)
                token = await auth_service.issue_token(session, user, clock=self.factory.clock,
                                                       settings=self.factory.settings)
                person.headers["Authorization"] = f"Bearer {token}"

    # --- the contact --------------------------------------------------------------------------
    async def post_inbound(self, payload: dict[str, Any] | bytes, *, secret: str = SECRET,
                           channel_id: int | None = None, signature: str | None = None) -> httpx.Response:
        raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        headers = {"Content-Type": "application/json",
                   "X-Atiende-Signature": signature if signature is not None else sign(secret, raw)}
        return await self.http.post(f"/api/v1/channels/{channel_id or self.channel_id}/inbound", content=raw,
                                    headers=headers)

    async def write(self, text: str = "Hola", *, contact: str = "c-1", name: str = "Ana", phone: str | None = None,
                    external_id: str | None = None, **extra: Any) -> dict[str, Any]:
        """The contact writes; returns the answer ({delivery_id, duplicate, state, ...}) with the
        message and conversation the router made of it (routing runs right after the answer, and
        the in-process client returns once it is done)."""
        payload: dict[str, Any] = {"external_id": external_id or f"m-{next(_seq)}",
                                   "contact": {"external_id": contact, "name": name}, "text": text, **extra}
        if phone:
            payload["contact"]["phone"] = phone
        response = await self.post_inbound(payload)
        assert response.status_code == 200, response.text
        return {**response.json(), **await self.routed(response.json()["delivery_id"])}

    async def routed(self, delivery_id: int) -> dict[str, Any]:
        async with self.database.session() as session:
            delivery = await session.get(InboundDelivery, delivery_id)
            assert delivery is not None and delivery.state == DeliveryState.routed, delivery and delivery.last_error
            return {"message_id": delivery.message_id, "conversation_id": delivery.conversation_id}

    async def post_status(self, payload: dict[str, Any]) -> httpx.Response:
        raw = json.dumps(payload).encode()
        return await self.http.post(f"/api/v1/channels/{self.channel_id}/status", content=raw,
                                    headers={"X-Atiende-Signature": sign(SECRET, raw)})

    # --- staff ---------------------------------------------------------------------------------
    async def hire(self, count: int = 1, *, capacity: int | None = 2, online: bool = True) -> list[Person]:
        """New agents attached to the campaign (through the API) and, by default, online."""
        hired = [await self.factory.person(self.client_id, Role.agent) for _ in range(count)]
        for person in hired:
            self.agents.append(person)
            self.capacities[person.membership_id] = capacity
        await self.staff()
        for person in hired:
            if online:
                await self.presence(person, "online")
        return hired

    async def staff(self) -> httpx.Response:
        body = {"agents": [{"membership_id": m, "capacity": c} for m, c in self.capacities.items()]}
        response = await self.http.put(f"/api/v1/campaigns/{self.campaign_id}/agents", json=body,
                                       headers=self.supervisor.headers)
        assert response.status_code == 200, response.text
        return response

    async def presence(self, person: Person, presence: str) -> None:
        response = await self.http.put("/api/v1/agents/me/status", json={"presence": presence},
                                       headers=person.headers)
        assert response.status_code == 200, response.text

    async def reply(self, person: Person, conversation_id: int, text: str = "Con gusto le ayudo",
                    **extra: Any) -> httpx.Response:
        return await self.http.post(f"/api/v1/conversations/{conversation_id}/messages",
                                    json={"text": text, **extra}, headers=person.headers)

    async def close(self, person: Person, conversation_id: int, **body: Any) -> httpx.Response:
        return await self.http.post(f"/api/v1/conversations/{conversation_id}/close", json=body,
                                    headers=person.headers)

    async def detail(self, conversation_id: int, person: Person | None = None) -> dict[str, Any]:
        response = await self.http.get(f"/api/v1/conversations/{conversation_id}",
                                       headers=(person or self.supervisor).headers)
        assert response.status_code == 200, response.text
        return response.json()

    # --- the database, for invariants ----------------------------------------------------------
    async def conversations(self) -> list[Conversation]:
        async with self.database.session() as session:
            return list((await session.scalars(select(Conversation).where(
                Conversation.campaign_id == self.campaign_id).order_by(Conversation.id)
                .options(joinedload(Conversation.contact).selectinload(Contact.identities)))).unique().all())

    async def count(self, model: type, *where: Any) -> int:
        async with self.database.session() as session:
            return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)

    async def open_assignments(self) -> dict[int, int]:
        """membership id → conversations it holds now."""
        async with self.database.session() as session:
            rows = await session.execute(select(Assignment.membership_id, func.count())
                                         .where(Assignment.ended_at.is_(None)).group_by(Assignment.membership_id))
            return dict(rows.all())

    async def messages(self, conversation_id: int) -> list[Message]:
        async with self.database.session() as session:
            return list((await session.scalars(select(Message).where(
                Message.conversation_id == conversation_id).order_by(Message.id))).all())

    async def update_campaign(self, **values: Any) -> None:
        async with self.database.session() as session:
            campaign = await session.get(Campaign, self.campaign_id)
            assert campaign is not None
            for key, value in values.items():
                if key == "permissions":
                    value = campaign.permissions.model_copy(update=value)
                setattr(campaign, key, value)


async def build(http: httpx.AsyncClient, factory: Factory, *, bands: list[tuple[int, time, time]] | None = None,
                overnight: tuple[int, time, time] | None = None, timezone: str = "America/Bogota",
                holidays: tuple[date, ...] = (), action: OutOfHoursAction = OutOfHoursAction.queue,
                apply_to_queued: bool = False, send_message: bool = True,
                message: str = "Nuestro horario es de lunes a viernes de 8 a 17.",
                method: AssignmentMethod = AssignmentMethod.smart, permissions: dict[str, Any] | None = None,
                inactivity_minutes: int = 30, survey: list[tuple[QuestionKind, str]] | None = None,
                survey_timeout_minutes: int = 30, closing_message: str = "¡Gracias por responder!",
                funnel: list[str] | None = None, fields: list[tuple[str, FieldType, bool, dict[str, Any]]] = (),
                callback_url: str = CALLBACK, default_capacity: int = 5) -> Scenario:
    """The whole set-up in one client; defaults: open 24/7, Encolar, Inteligente, nothing allowed."""
    n = next(_seq)
    client = await factory.client(default_agent_capacity=default_capacity)
    admin = await factory.person(client.id, Role.admin)
    supervisor = await factory.person(client.id, Role.supervisor)
    project = await factory.project(client.id)
    async with factory.database.session() as session:
        schedule = Schedule(client_id=client.id, name=f"Horario {n}", timezone=timezone,
                            bands=[TimeBand(weekday=d, start=s, end=e) for d, s, e in (bands or ALWAYS)],
                            holidays=[Holiday(day=d, name="Festivo") for d in holidays])
        if overnight:
            schedule.bands.append(TimeBand(weekday=overnight[0], start=overnight[1], end=overnight[2],
                                           overnight=True))
        typifications = {slot: Typification(client_id=client.id, name=label, code=f"{slot}-{n}")
                         for slot, label in (("inactivity", "Inactividad"), ("transferred", "Transferida"),
                                             ("agent_closed", "Finalizada por el agente"),
                                             ("mass_transfer", "Transferencia masiva"), ("sale", "Venta"))}
        channel = Channel(client_id=client.id, kind=ChannelKind.api, name=f"CRM {n}",
                          credentials={"secret": SECRET}, settings={"callback_url": callback_url})
        session.add_all([schedule, *typifications.values(), channel])
        await session.flush()
        bot = None
        if survey:
            bot = SurveyBot(client_id=client.id, name=f"Encuesta {n}", closing_message=closing_message,
                            timeout_minutes=survey_timeout_minutes,
                            questions=[SurveyQuestion(position=i, kind=k, text=t) for i, (k, t) in enumerate(survey)])
            session.add(bot)
        funnel_row = None
        if funnel:
            funnel_row = Funnel(client_id=client.id, name=f"Embudo {n}",
                                stages=[FunnelStage(position=i, name=s) for i, s in enumerate(funnel)])
            session.add(funnel_row)
        definitions = [FieldDefinition(client_id=client.id, key=key, label=key.capitalize(), type=kind,
                                       options=list(extra.get("options", [])),
                                       validation={k: v for k, v in extra.items() if k != "options"})
                       for key, kind, _required, extra in fields]
        session.add_all(definitions)
        await session.flush()
        campaign = Campaign(
            client_id=client.id, project_id=project.id, name=f"Campaña {n}", schedule_id=schedule.id,
            out_of_hours_action=action, apply_to_queued=apply_to_queued, out_of_hours_message=message,
            send_out_of_hours_message=send_message, assignment_method=method,
            inactivity_timeout_minutes=inactivity_minutes, permissions=CampaignPermissions(**(permissions or {})),
            survey_enabled=bot is not None, survey_bot_id=bot.id if bot else None,
            funnel_id=funnel_row.id if funnel_row else None,
            typification_inactivity_id=typifications["inactivity"].id,
            typification_transferred_id=typifications["transferred"].id,
            typification_agent_closed_id=typifications["agent_closed"].id,
            typification_mass_transfer_id=typifications["mass_transfer"].id,
            channel_links=[CampaignChannel(channel_id=channel.id)],
            field_links=[CampaignField(field_definition_id=d.id, required=required, position=i)
                         for i, (d, (_k, _t, required, _e)) in enumerate(zip(definitions, fields, strict=True))])
        session.add(campaign)
        await session.flush()
        ids = {slot: t.id for slot, t in typifications.items()}
        return Scenario(http=http, factory=factory, client_id=client.id, admin=admin, supervisor=supervisor,
                        channel_id=channel.id, campaign_id=campaign.id, schedule_id=schedule.id, typifications=ids)


def drain(subscription: Subscription) -> list[BusEvent]:
    """Every event published so far (nothing waits: publishing happens before the HTTP answer)."""
    events = []
    while not subscription.queue.empty():
        events.append(subscription.queue.get_nowait())
    return events


def kinds(events: list[BusEvent]) -> list[str]:
    return [e.kind for e in events]
