"""Demo data for ``atiende demo``: one client with everything a campaign needs, ready to chat.

Idempotent: if the demo client exists it is reused, so restarting the demo keeps your changes.
"""

import hmac
import uuid
from dataclasses import dataclass
from datetime import date, time

from fastapi import APIRouter, Request
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
from atiende.conversations.models import CampaignAgent
from atiende.db import Database
from atiende.errors import Unauthorized
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
        found = (await session.scalars(select(Channel).where(Channel.client_id == client.id))).all()
        channels = {c.kind: c.id for c in found}
        for channel in found:
            if base_url and channel.kind == ChannelKind.api and channel.name == "API demo":
                channel.settings = {**channel.settings, "callback_url": f"{base_url}/demo/callback"}
        return DemoData(client_id=client.id, created=created,
                        logins=[(email, DEMO_PASSWORD, role) for email, _, role in DEMO_USERS],
                        api_channel_id=channels.get(ChannelKind.api, 0),
                        webchat_channel_id=channels.get(ChannelKind.webchat, 0))


async def _create(session: AsyncSession) -> Client:
    client = Client(name=DEMO_CLIENT, plan_name="Profesional", plan_seats=15, plan_max_history_hours=168,
                    default_agent_capacity=4)
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
    session.add_all([document, reason, email, funnel, survey, api_channel, webchat])
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
    return client


demo_router = APIRouter(prefix="/demo", tags=["demo"], include_in_schema=False)


@demo_router.post("/callback")
async def demo_callback(request: Request) -> dict[str, str]:
    """Stands in for the customer's system behind the demo API channel: accepts what agents send
    (checking the signature) so the demo's outbound messages end as delivered, not failed."""
    raw = await request.body()
    if not hmac.compare_digest(request.headers.get("X-Atiende-Signature", ""), sign(DEMO_API_SECRET, raw)):
        raise Unauthorized("Bad signature")
    return {"external_id": f"demo-{uuid.uuid4().hex[:12]}"}
