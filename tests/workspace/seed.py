"""A contact center open 24/7 for the workspace and supervisor tests (and the screenshots): one
client with a supervisor and three agents, two API channels and two campaigns —

- **Ventas** allows everything (files, voice notes, emoji, transfers, the contact's number, 72 h of
  history) but not closing without a reply; agents Andrea (two conversations at most) and Bruno (three);
  required fields *Número de documento* (text, 5–15) and *Motivo* (list);
- **Cobranza** allows nothing: no files, no number, no emoji, no transfers; agent Carla.

Messages we send are delivered to ``callback_url`` (a receiver the tests run)."""

import asyncio
import hashlib
import hmac
import json
import zlib
from dataclasses import dataclass
from datetime import time
from typing import Any

import httpx
from sqlalchemy import select

from atiende.auth.models import Membership, Presence, Role, User
from atiende.auth.passwords import hash_password
from atiende.campaigns.models import AssignmentMethod, Campaign, CampaignChannel, CampaignField, OutOfHoursAction
from atiende.campaigns.permissions import CampaignPermissions
from atiende.catalog.models import FieldDefinition, FieldType, Funnel, FunnelStage, Schedule, TimeBand, Typification
from atiende.channels.models import Channel, ChannelKind
from atiende.conversations.canned import CannedReply
from atiende.conversations.models import CampaignAgent
from atiende.db import Database
from atiende.tenancy.models import Client

PASSWORD = "clave-del-equipo-1"
CLIENT = "Contact Center 24/7"
SUPERVISOR = "sofia.supervisora@cc247.example"
ANDREA = "andrea.agente@cc247.example"
BRUNO = "bruno.agente@cc247.example"
CARLA = "carla.agente@cc247.example"
ADMIN = "admin@cc247.example"
PEOPLE = [(ADMIN, "Ana Admin", Role.admin), (SUPERVISOR, "Sofía Supervisora", Role.supervisor),
          (ANDREA, "Andrea Agente", Role.agent), (BRUNO, "Bruno Agente", Role.agent),
          (CARLA, "Carla Agente", Role.agent)]
SALES_SECRET = "secreto-canal-ventas"
COLLECTIONS_SECRET = "secreto-canal-cobranza"


@dataclass
class Center:
    client_id: int
    sales_campaign_id: int
    collections_campaign_id: int
    sales_channel_id: int
    collections_channel_id: int
    memberships: dict[str, int]  # email → membership id
    typifications: dict[str, int]


async def seed_center(url: str, callback_url: str) -> Center:
    database = Database(url)
    try:
        async with database.session() as session:
            client = Client(name=CLIENT, plan_seats=20, plan_max_history_hours=168, default_agent_capacity=3)
            session.add(client)
            await session.flush()
            memberships = {}
            for email, name, role in PEOPLE:
                user = await session.scalar(select(User).where(User.email == email))
                if user is None:
                    user = User(email=email, full_name=name, password_hash=hash_password(PASSWORD))
                    session.add(user)
                    await session.flush()
                membership = Membership(user_id=user.id, client_id=client.id, role=role, active=True,
                                        presence=Presence.offline)
                session.add(membership)
                await session.flush()
                memberships[email] = membership.id
            always = Schedule(client_id=client.id, name="Siempre abierto", timezone="America/Bogota",
                              bands=[TimeBand(weekday=d, start=time(0), end=time(0)) for d in range(7)])
            session.add(always)
            results = Typification(client_id=client.id, name="Resultado", code="resultado")
            system = Typification(client_id=client.id, name="Sistema", code="sistema")
            session.add_all([results, system])
            await session.flush()
            typifications = {}
            for code, name, parent in [("venta", "Venta realizada", results),
                                       ("resuelta", "Consulta resuelta", results),
                                       ("reclamo", "Reclamo registrado", results),
                                       ("inactividad", "Finalizada por inactividad", system),
                                       ("transferida", "Transferida", system),
                                       ("finalizada_agente", "Finalizada por el agente", system),
                                       ("masiva", "Transferencia masiva", system)]:
                row = Typification(client_id=client.id, name=name, code=code, parent_id=parent.id)
                session.add(row)
                await session.flush()
                typifications[code] = row.id
            document = FieldDefinition(client_id=client.id, key="documento", label="Número de documento",
                                       type=FieldType.text, validation={"min_length": 5, "max_length": 15})
            reason = FieldDefinition(client_id=client.id, key="motivo", label="Motivo", type=FieldType.select,
                                     options=["Compra", "Consulta", "Reclamo"])
            email = FieldDefinition(client_id=client.id, key="correo", label="Correo electrónico",
                                    type=FieldType.email)
            funnel = Funnel(client_id=client.id, name="Ventas", stages=[
                FunnelStage(position=i, name=n) for i, n in enumerate(["Nuevo", "Interesado", "Cerrado"])])
            sales_channel = Channel(client_id=client.id, kind=ChannelKind.api, name="API Ventas",
                                    credentials={"secret": SALES_SECRET}, settings={"callback_url": callback_url})
            collections_channel = Channel(client_id=client.id, kind=ChannelKind.api, name="API Cobranza",
                                          credentials={"secret": COLLECTIONS_SECRET},
                                          settings={"callback_url": callback_url})
            session.add_all([document, reason, email, funnel, sales_channel, collections_channel])
            await session.flush()
            project_id = await _project(session, client.id)
            common = dict(client_id=client.id, project_id=project_id, schedule_id=always.id,
                          out_of_hours_action=OutOfHoursAction.queue, assignment_method=AssignmentMethod.smart,
                          typification_inactivity_id=typifications["inactividad"],
                          typification_transferred_id=typifications["transferida"],
                          typification_agent_closed_id=typifications["finalizada_agente"],
                          typification_mass_transfer_id=typifications["masiva"], inactivity_timeout_minutes=240,
                          active=True)
            sales = Campaign(
                name="Ventas", funnel_id=funnel.id, **common,
                permissions=CampaignPermissions(external_resources=True, transfer_between_agents=True,
                                                show_contact_number=True, history_enabled=True, history_hours=72,
                                                reassign_when_exclusive_offline=True, close_without_reply=False,
                                                emojis=True, voice_notes=True),
                channel_links=[CampaignChannel(channel_id=sales_channel.id)],
                field_links=[CampaignField(field_definition_id=document.id, required=True, position=0),
                             CampaignField(field_definition_id=reason.id, required=True, position=1),
                             CampaignField(field_definition_id=email.id, required=False, position=2)])
            collections = Campaign(
                name="Cobranza", **common,
                permissions=CampaignPermissions(external_resources=False, transfer_between_agents=False,
                                                show_contact_number=False, history_enabled=False,
                                                reassign_when_exclusive_offline=True, close_without_reply=False,
                                                emojis=False, voice_notes=False),
                channel_links=[CampaignChannel(channel_id=collections_channel.id)])
            session.add_all([sales, collections])
            await session.flush()
            session.add_all([CampaignAgent(campaign_id=sales.id, membership_id=memberships[ANDREA], capacity=2),
                             CampaignAgent(campaign_id=sales.id, membership_id=memberships[BRUNO], capacity=3),
                             CampaignAgent(campaign_id=collections.id, membership_id=memberships[CARLA], capacity=3)])
            session.add_all([
                CannedReply(client_id=client.id, shortcut="saludo", title="Saludo",
                            text="¡Hola {contacto}! Soy {agente}, ¿en qué te puedo ayudar?"),
                CannedReply(client_id=client.id, shortcut="despedida", title="Despedida",
                            text="Gracias por escribirnos. ¡Que tengas un excelente día!")])
            return Center(client_id=client.id, sales_campaign_id=sales.id, collections_campaign_id=collections.id,
                          sales_channel_id=sales_channel.id, collections_channel_id=collections_channel.id,
                          memberships=memberships, typifications=typifications)
    finally:
        await database.dispose()


async def _project(session: Any, client_id: int) -> int:
    from atiende.tenancy.models import Project

    project = Project(client_id=client_id, name="Comercial")
    session.add(project)
    await session.flush()
    return project.id


def signed(secret: str, payload: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(payload).encode()
    signature = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return raw, {"Content-Type": "application/json", "X-Atiende-Signature": signature}


async def customer_writes(http: httpx.AsyncClient, channel_id: int, secret: str, *, contact: str, name: str,
                          text: str, message_id: str, phone: str | None = None) -> dict[str, Any]:
    """A customer's message through the API channel, signed like the real integration. The answer
    comes before routing; like an integration that needs the conversation id, we deliver the same
    message again until the answer (a duplicate's) names it."""
    who: dict[str, Any] = {"external_id": contact, "name": name}
    if phone:
        who["phone"] = phone
    raw, headers = signed(secret, {"external_id": message_id, "contact": who, "text": text})
    return await deliver_until_routed(http, f"/api/v1/channels/{channel_id}/inbound", raw, headers)


async def deliver_until_routed(http: httpx.AsyncClient, url: str, raw: bytes, headers: dict[str, str],
                               timeout: float = 15) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        response = await http.post(url, content=raw, headers=headers)
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        if answer["state"] == "routed":
            return answer
        assert answer["state"] == "pending", answer
        assert asyncio.get_running_loop().time() < deadline, f"not routed within {timeout}s: {answer}"
        await asyncio.sleep(0.05)


async def whatsapp_conversation(url: str, center: Center, agent_email: str, *, contact_name: str,
                                hours_ago: float) -> int:
    """A WhatsApp conversation the agent already serves, whose customer wrote ``hours_ago`` hours ago
    (more than 24: only a template may go out), on a WhatsApp channel with one approved template."""
    from datetime import UTC, datetime, timedelta

    from atiende.channels.whatsapp.models import WhatsAppTemplate
    from atiende.conversations.models import (
        Assignment, Contact, ContactIdentity, Conversation, ConversationStatus, Direction, Message, SenderKind,
    )

    now = datetime.now(UTC)
    wrote = now - timedelta(hours=hours_ago)
    membership_id = center.memberships[agent_email]
    database = Database(url)
    try:
        async with database.session() as session:
            channel = await session.scalar(select(Channel).where(Channel.client_id == center.client_id,
                                                                 Channel.kind == ChannelKind.whatsapp))
            if channel is None:
                channel = Channel(client_id=center.client_id, kind=ChannelKind.whatsapp, name="WhatsApp Ventas",
                                  credentials={"access_token": "token", "app_secret": "secreto"},
                                  settings={"phone_number_id": "1000", "business_account_id": "2000"})
                session.add(channel)
                await session.flush()
                session.add(WhatsAppTemplate(
                    channel_id=channel.id, name="seguimiento", language="es", status="APPROVED",
                    category="UTILITY", synced_at=now,
                    components=[{"type": "BODY", "text": "Hola {{1}}, ¿pudiste revisar la propuesta?"}]))
            phone = f"+57300{zlib.crc32(contact_name.encode()) % 10_000_000:07d}"
            contact = Contact(client_id=center.client_id, name=contact_name, phone=phone, created_at=wrote,
                              identities=[ContactIdentity(channel_id=channel.id, external_id=phone[1:])])
            session.add(contact)
            await session.flush()
            conversation = Conversation(
                client_id=center.client_id, campaign_id=center.sales_campaign_id, channel_id=channel.id,
                contact_id=contact.id, status=ConversationStatus.assigned, opened_at=wrote, queued_at=wrote,
                assigned_membership_id=membership_id, assigned_at=wrote, last_inbound_at=wrote,
                agent_replied=False, out_of_hours_notified=False, survey_reasked=False, field_values={})
            session.add(conversation)
            await session.flush()
            session.add_all([
                Assignment(conversation_id=conversation.id, campaign_id=center.sales_campaign_id,
                           contact_id=contact.id, membership_id=membership_id, started_at=wrote),
                Message(conversation_id=conversation.id, channel_id=channel.id, direction=Direction.inbound,
                        sender=SenderKind.contact, text="Quedo atento a la propuesta", attachments=[],
                        external_id=f"wamid.{conversation.id}", created_at=wrote, provider_at=wrote)])
            return conversation.id
    finally:
        await database.dispose()
