"""Demo data for ``atiende demo``: one client with everything a campaign needs, ready to chat.

Idempotent: if the demo client exists it is reused, so restarting the demo keeps your changes.
"""

import hmac
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from importlib import resources
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from atiende.auth.models import Membership, Role, User
from atiende.auth.passwords import hash_password
from atiende.bots.demo import create_demo_bot
from atiende.campaigns.models import AssignmentMethod, Campaign, CampaignChannel, CampaignField, OutOfHoursAction
from atiende.campaigns.permissions import CampaignPermissions
from atiende.catalog.models import (
    FieldDefinition, FieldType, Funnel, FunnelStage, Holiday, QuestionKind, Schedule, SurveyBot, SurveyQuestion,
    TimeBand, Typification,
)
from atiende.channels.api_channel import sign
from atiende.channels.models import Channel, ChannelKind
from atiende.contacts.demo import seed_directory
from atiende.conversations.canned import CannedReply
from atiende.conversations.models import CampaignAgent
from atiende.db import Database
from atiende.deps import DatabaseDep
from atiende.errors import NotFound, Unauthorized
from atiende.kit.schemas import MAX_ID
from atiende.outbound.demo import seed_outbound
from atiende.reports.demo_history import seed_history
from atiende.tenancy.models import Client, Project

DEMO_CLIENT = "Demo S.A."
DEMO_PASSWORD = "atiende-demo"
DEMO_API_SECRET = "demo-api-channel-secret-0001"
DEMO_USERS: list[tuple[str, str, Role]] = [
    ("admin@demo.atiende.app", "Ana Administradora", Role.admin),
    ("supervisor@demo.atiende.app", "Sergio Supervisor", Role.supervisor),
    ("agente1@demo.atiende.app", "Andrea Agente", Role.agent),
    ("agente2@demo.atiende.app", "Bruno Agente", Role.agent),
    ("agente3@demo.atiende.app", "Carla Agente", Role.agent),
]


FREE_CHANNEL = "API libre"
DEMO_FREE_SECRET = "demo-free-channel-secret-0002"
DEMO_QUICK_REPLIES: list[tuple[str, str, str]] = [
    ("saludo", "Saludo", "¡Hola! Soy {agente}, de Demo S.A. ¿En qué te puedo ayudar?"),
    ("espera", "Un momento", "Dame un momento, por favor, mientras reviso tu caso."),
    ("documento", "Pedir documento", "Para ayudarte, ¿me confirmas tu número de documento?"),
    ("despedida", "Despedida", "Gracias por escribirnos. ¡Que tengas un buen día!"),
]


@dataclass
class DemoData:
    client_id: int
    created: bool
    logins: list[tuple[str, str, Role]]
    api_channel_id: int
    webchat_channel_id: int


async def seed_demo(database: Database, base_url: str | None = None) -> DemoData:
    """Create the demo client once; with ``base_url`` (where the demo serves), point the demo API
    channel's callback at this server's stand-in receiver, so agents' replies are delivered."""
    async with database.session() as session:
        client = await session.scalar(select(Client).where(Client.name == DEMO_CLIENT))
        created = client is None
        if client is None:
            client = await _create(session)
        await seed_outbound(session, client.id, now=datetime.now(UTC))  # the payment reminders (envíos)
        found = (await session.scalars(select(Channel).where(Channel.client_id == client.id))).all()
        channels = {c.kind: c.id for c in found}
        for channel in found:
            if base_url and channel.kind == ChannelKind.api and channel.name in ("API demo", FREE_CHANNEL):
                channel.settings = {**channel.settings, "callback_url": f"{base_url}/demo/callback"}
        return DemoData(client_id=client.id, created=created,
                        logins=[(email, DEMO_PASSWORD, role) for email, _, role in DEMO_USERS],
                        api_channel_id=next((c.id for c in found if c.name == "API demo"), 0),
                        webchat_channel_id=channels.get(ChannelKind.webchat, 0))


async def _create(session: AsyncSession) -> Client:
    client = Client(name=DEMO_CLIENT, plan_name="Profesional", plan_seats=15, plan_max_history_hours=168,
                    default_agent_capacity=4, phone_region="CO")
    session.add(client)
    await session.flush()
    password_hash = hash_password(DEMO_PASSWORD)
    for email, name, role in DEMO_USERS:
        user = await session.scalar(select(User).where(User.email == email))
        if user is None:
            user = User(email=email, full_name=name, password_hash=password_hash,
                        is_superuser=role == Role.admin)
            session.add(user)
            await session.flush()
        session.add(Membership(user_id=user.id, client_id=client.id, role=role, active=True))

    service = Project(client_id=client.id, name="Atención al cliente",
                      description="Consultas, reclamos y solicitudes de los clientes")
    collections = Project(client_id=client.id, name="Cobranza", description="Recordatorios y acuerdos de pago")
    office = Schedule(client_id=client.id, name="Oficina Bogotá", timezone="America/Bogota",
                      bands=[TimeBand(weekday=d, start=time(8), end=time(17)) for d in range(5)],
                      holidays=[Holiday(day=date(2026, 12, 25), name="Navidad")])
    # The demo campaign answers at any hour so whoever tries the demo can chat right away;
    # switch it to "Oficina Bogotá" to see the out-of-hours message and queue at work.
    always = Schedule(client_id=client.id, name="Siempre abierto", timezone="America/Bogota",
                      bands=[TimeBand(weekday=d, start=time(0), end=time(0)) for d in range(7)])
    session.add_all([service, collections, office, always])
    await session.flush()

    root = Typification(client_id=client.id, name="Gestión", code="gestion")
    session.add(root)
    await session.flush()
    typifications = {code: Typification(client_id=client.id, name=name, code=code, parent_id=root.id)
                     for code, name in [("inactividad", "Finalizada por inactividad"),
                                        ("transferida", "Transferida"),
                                        ("finalizada_agente", "Finalizada por el agente"),
                                        ("transferencia_masiva", "Transferencia masiva"),
                                        ("venta", "Venta realizada"),
                                        ("acuerdo_pago", "Acuerdo de pago"),
                                        ("resuelta_bot", "Resuelta por el asistente")]}
    session.add_all(typifications.values())

    document = FieldDefinition(client_id=client.id, key="documento", label="Número de documento",
                               type=FieldType.text, validation={"min_length": 5, "max_length": 15})
    reason = FieldDefinition(client_id=client.id, key="motivo", label="Motivo de contacto", type=FieldType.select,
                             options=["Consulta", "Reclamo", "Pago", "Otro"])
    email = FieldDefinition(client_id=client.id, key="correo", label="Correo electrónico", type=FieldType.email)
    city = FieldDefinition(client_id=client.id, key="ciudad", label="Ciudad", type=FieldType.text)  # a contact attribute
    funnel = Funnel(client_id=client.id, name="Embudo de ventas",
                    stages=[FunnelStage(position=i, name=n) for i, n in
                            enumerate(["Nuevo", "Interesado", "Propuesta", "Cerrado"])])
    survey = SurveyBot(client_id=client.id, name="Encuesta de satisfacción",
                       closing_message="¡Gracias por tus respuestas! Que tengas un buen día.",
                       questions=[SurveyQuestion(position=0, kind=QuestionKind.rating,
                                                 text="Del 1 al 5, ¿cómo calificas la atención?"),
                                  SurveyQuestion(position=1, kind=QuestionKind.yes_no,
                                                 text="¿Resolvimos tu consulta? (sí/no)"),
                                  SurveyQuestion(position=2, kind=QuestionKind.text,
                                                 text="¿Algo más que quieras contarnos?")])
    api_channel = Channel(client_id=client.id, kind=ChannelKind.api, name="API demo",
                          credentials={"secret": DEMO_API_SECRET},
                          settings={"callback_url": "http://127.0.0.1:8000/demo/callback"})  # re-pointed at each start
    webchat = Channel(client_id=client.id, kind=ChannelKind.webchat, name="Chat web demo",
                      settings={"allowed_origins": ["http://127.0.0.1:8000", "http://localhost:8000"],
                                "prechat_form": True, "welcome_message": "¡Hola! ¿En qué te ayudamos?"})
    # No campaign uses it: a campaign created in the console can take it (a channel serves one
    # active campaign at a time).
    free = Channel(client_id=client.id, kind=ChannelKind.api, name=FREE_CHANNEL,
                   credentials={"secret": DEMO_FREE_SECRET},
                   settings={"callback_url": "http://127.0.0.1:8000/demo/callback"})
    session.add_all([document, reason, email, city, funnel, survey, api_channel, webchat, free])
    session.add_all([CannedReply(client_id=client.id, shortcut=shortcut, title=title, text=text)
                     for shortcut, title, text in DEMO_QUICK_REPLIES])
    await session.flush()
    # The web chat's customers meet the FAQ bot first; "asesor" (or two misunderstandings) brings an agent.
    assistant = await create_demo_bot(session, client.id)

    campaign = Campaign(
        client_id=client.id, project_id=service.id, name="Soporte general", survey_enabled=True,
        survey_bot_id=survey.id, funnel_id=funnel.id, schedule_id=always.id,
        attention_bot_id=assistant.id, bot_handoff_keywords=["asesor", "agente", "humano", "persona"],
        bot_max_misunderstandings=2, bot_answers_out_of_hours=True,
        bot_resolved_typification_id=typifications["resuelta_bot"].id,
        out_of_hours_action=OutOfHoursAction.queue, apply_to_queued=True,
        out_of_hours_message="Nuestro horario es de lunes a viernes de 8:00 a 17:00. Te responderemos apenas abramos.",
        send_out_of_hours_message=True,
        typification_inactivity_id=typifications["inactividad"].id,
        typification_transferred_id=typifications["transferida"].id,
        typification_agent_closed_id=typifications["finalizada_agente"].id,
        typification_mass_transfer_id=typifications["transferencia_masiva"].id,
        inactivity_timeout_minutes=30,
        permissions=CampaignPermissions(external_resources=True, transfer_between_agents=True,
                                        show_contact_number=False, history_enabled=True, history_hours=72,
                                        reassign_when_exclusive_offline=True, close_without_reply=False,
                                        emojis=True, voice_notes=True),
        assignment_method=AssignmentMethod.smart, active=True,
        channel_links=[CampaignChannel(channel_id=api_channel.id), CampaignChannel(channel_id=webchat.id)],
        field_links=[CampaignField(field_definition_id=document.id, required=True, position=0),
                     CampaignField(field_definition_id=reason.id, required=True, position=1)],
    )
    session.add(campaign)
    await session.flush()
    agents = (await session.scalars(select(Membership).where(
        Membership.client_id == client.id, Membership.role == Role.agent))).all()
    session.add_all([CampaignAgent(campaign_id=campaign.id, membership_id=m.id) for m in agents])
    await session.flush()
    await seed_history(session, campaign, datetime.now(UTC))  # closed conversations for Reportes
    await seed_directory(session, client.id, [m.id for m in sorted(agents, key=lambda m: m.id)], datetime.now(UTC))
    return client


demo_router = APIRouter(prefix="/demo", tags=["demo"], include_in_schema=False)
"""Mounted only by ``atiende demo`` (``create_app(demo=True)``): no other process answers /demo/."""


@demo_router.get("/site", response_class=HTMLResponse)
async def demo_site(database: DatabaseDep, channel: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
                    lang: Annotated[Literal["es", "en"], Query()] = "es") -> HTMLResponse:
    """A customer's web page with the chat embedded: the demo client's first active web chat
    channel (or ?channel=, one of the demo client's), in Spanish or (?lang=en) English."""
    async with database.session() as session:
        stmt = (select(Channel.id).join(Client, Client.id == Channel.client_id)
                .where(Client.name == DEMO_CLIENT, Channel.kind == ChannelKind.webchat, Channel.active)
                .order_by(Channel.id))
        if channel is not None:
            stmt = stmt.where(Channel.id == channel)
        channel_id = await session.scalar(stmt.limit(1))
    if channel_id is None:
        raise NotFound("No active web chat channel of the demo to show", field="channel")
    html = resources.files("atiende.channels.webchat").joinpath("static/demo.html").read_text(encoding="utf-8")
    return HTMLResponse(html.replace("{{CHANNEL_ID}}", str(channel_id)).replace("{{LANG}}", lang))


@demo_router.post("/callback")
async def demo_callback(request: Request) -> dict[str, str]:
    """Stands in for the customer's system behind the demo API channel: accepts what agents send
    (checking the signature) so the demo's outbound messages end as delivered, not failed."""
    raw = await request.body()
    if not hmac.compare_digest(request.headers.get("X-Atiende-Signature", ""), sign(DEMO_API_SECRET, raw)):
        raise Unauthorized("Bad signature")
    return {"external_id": f"demo-{uuid.uuid4().hex[:12]}"}
