"""The demo's payment reminders without Meta: a WhatsApp channel whose Graph API is served by
``atiende demo`` itself (``/demo/graph``), a collections campaign (Cobranza → "Recordatorios de
pago") with an approved template, and a stand-in for Meta that answers each send with a wamid,
then posts signed *delivered* and *read* statuses to the channel's webhook, and a reply from the first
of every three recipients — so a newcomer sees statuses and replies arrive in the inbox."""

import asyncio
import itertools
import json
import logging
import time as clock_time
from datetime import datetime
from typing import Any

import httpx
from fastapi import APIRouter, Request
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from atiende.auth.models import Membership, Role
from atiende.campaigns.models import AssignmentMethod, Campaign, CampaignChannel, OutOfHoursAction
from atiende.campaigns.permissions import CampaignPermissions
from atiende.catalog.models import Schedule, Typification
from atiende.channels.models import Channel, ChannelKind
from atiende.channels.whatsapp.models import WhatsAppTemplate
from atiende.channels.whatsapp.signature import sign
from atiende.conversations.models import CampaignAgent
from atiende.tenancy.models import Project

log = logging.getLogger(__name__)
DEMO_PHONE_NUMBER_ID = "100000000000001"
DEMO_WABA = "200000000000002"
DEMO_TOKEN = "demo-whatsapp-token"
DEMO_APP_SECRET = "demo-whatsapp-app-secret-0001"
CAMPAIGN_NAME = "Recordatorios de pago"
TEMPLATE_NAME = "recordatorio_pago"
TEMPLATE_COMPONENTS: list[dict[str, Any]] = [
    {"type": "HEADER", "format": "TEXT", "text": "Hola {{1}}"},
    {"type": "BODY", "text": "Te recordamos que tu saldo de {{1}} vence el {{2}}. Si necesitas un acuerdo de pago, "
                             "responde este mensaje y un asesor te atiende."},
    {"type": "FOOTER", "text": "Responde BAJA para no recibir más recordatorios"},
    {"type": "BUTTONS", "buttons": [{"type": "URL", "text": "Pagar ahora", "url": "https://pagos.example.com/{{1}}"}]},
]
DEMO_LIST = ("nombre,telefono,monto,fecha_vencimiento,referencia\n"
             "Laura Gómez,+573001112233,$ 1.871.000,15 dic 2026,F-1001\n"
             "Pedro Ruiz,+573004445566,$ 420.500,18 dic 2026,F-1002\n"
             "Marta Díaz,+573007778899,$ 96.000,20 dic 2026,F-1003\n"
             "Sin teléfono,12345,$ 1,1 ene 2027,F-1004\n")


async def seed_outbound(session: AsyncSession, client_id: int, *, now: datetime) -> None:
    """Add the demo's WhatsApp channel, collections campaign and template once."""
    exists = await session.scalar(select(Channel.id).where(Channel.client_id == client_id,
                                                           Channel.kind == ChannelKind.whatsapp))
    if exists is not None:
        return
    project = await session.scalar(select(Project).where(Project.client_id == client_id, Project.name == "Cobranza"))
    schedule = await session.scalar(select(Schedule).where(Schedule.client_id == client_id,
                                                           Schedule.name == "Siempre abierto"))
    typifications = {t.code: t.id for t in (await session.scalars(select(Typification).where(
        Typification.client_id == client_id))).all()}
    if project is None or schedule is None:
        return
    channel = Channel(client_id=client_id, kind=ChannelKind.whatsapp, name="WhatsApp demo", active=True,
                      credentials={"access_token": DEMO_TOKEN, "app_secret": DEMO_APP_SECRET,
                                   "verify_token": "demo-verify"},
                      settings={"phone_number_id": DEMO_PHONE_NUMBER_ID, "business_account_id": DEMO_WABA,
                                "api_version": "v21.0", "max_messages_per_second": 80})
    session.add(channel)
    await session.flush()
    session.add(WhatsAppTemplate(channel_id=channel.id, name=TEMPLATE_NAME, language="es", status="APPROVED",
                                 category="UTILITY", components=TEMPLATE_COMPONENTS, provider_id="demo-1",
                                 synced_at=now))
    campaign = Campaign(
        client_id=client_id, project_id=project.id, name=CAMPAIGN_NAME, schedule_id=schedule.id,
        out_of_hours_action=OutOfHoursAction.queue, assignment_method=AssignmentMethod.smart, active=True,
        typification_inactivity_id=typifications["inactividad"], typification_transferred_id=typifications["transferida"],
        typification_agent_closed_id=typifications["finalizada_agente"],
        typification_mass_transfer_id=typifications["transferencia_masiva"], inactivity_timeout_minutes=60,
        permissions=CampaignPermissions(transfer_between_agents=True, history_enabled=True, history_hours=72),
        channel_links=[CampaignChannel(channel_id=channel.id)], field_links=[])
    session.add(campaign)
    await session.flush()
    agents = (await session.scalars(select(Membership).where(
        Membership.client_id == client_id, Membership.role == Role.agent))).all()
    session.add_all([CampaignAgent(campaign_id=campaign.id, membership_id=m.id) for m in agents])
    await session.flush()


demo_graph = APIRouter(prefix="/demo/graph", tags=["demo"], include_in_schema=False)
_ids = itertools.count(int(clock_time.time()))
_sends = itertools.count(0)
_tasks: set[asyncio.Task[None]] = set()
REPLY_EVERY = 3
STATUS_DELAY_SECONDS = 1.0


@demo_graph.post("/{version}/{node}/messages")
async def messages(version: str, node: str, request: Request) -> dict[str, Any]:
    """Meta's answer to a send; the statuses (and some replies) follow, like Meta's webhooks."""
    body = await request.json()
    to = str(body.get("to") or body.get("recipient") or "")
    number = next(_ids)
    wamid = f"wamid.DEMO{number}"
    base = str(request.base_url).rstrip("/")
    task = asyncio.create_task(_follow_up(request, base, node, to, wamid, reply=next(_sends) % REPLY_EVERY == 0))
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)
    return {"messaging_product": "whatsapp", "contacts": [{"input": to, "wa_id": to}], "messages": [{"id": wamid}]}


@demo_graph.get("/{version}/{node}/message_templates")
async def message_templates(version: str, node: str) -> dict[str, Any]:
    return {"data": [{"name": TEMPLATE_NAME, "language": "es", "status": "APPROVED", "category": "UTILITY",
                      "components": TEMPLATE_COMPONENTS, "id": "demo-1"}], "paging": {"cursors": {}}}


async def _follow_up(request: Request, base: str, phone_number_id: str, to: str, wamid: str, *, reply: bool) -> None:
    database = request.app.state.database
    async with database.session() as session:
        channel = await session.scalar(select(Channel).where(Channel.kind == ChannelKind.whatsapp, Channel.active,
                                                             Channel.settings["phone_number_id"].as_string()
                                                             == phone_number_id))
    if channel is None:
        return
    secret = str((channel.credentials or {}).get("app_secret", ""))
    url = f"{base}/webhooks/whatsapp/{channel.id}"
    try:
        async with httpx.AsyncClient(timeout=10) as http:
            for status in ("delivered", "read"):
                await asyncio.sleep(STATUS_DELAY_SECONDS)
                await _post(http, url, secret, phone_number_id, {"statuses": [{
                    "id": wamid, "status": status, "timestamp": str(int(clock_time.time())), "recipient_id": to}]})
            if reply:
                await asyncio.sleep(STATUS_DELAY_SECONDS)
                await _post(http, url, secret, phone_number_id, {
                    "contacts": [{"profile": {"name": "Cliente demo"}, "wa_id": to}],
                    "messages": [{"from": to, "id": f"wamid.DEMOIN{next(_ids)}", "type": "text",
                                  "timestamp": str(int(clock_time.time())),
                                  "text": {"body": "Hola, ¿puedo pagar en dos cuotas?"}}]})
    except Exception:  # the demo's stand-in must never break the demo
        log.exception("demo Graph API follow-up failed")


async def _post(http: httpx.AsyncClient, url: str, secret: str, phone_number_id: str, value: dict[str, Any]) -> None:
    payload = {"object": "whatsapp_business_account", "entry": [{"id": DEMO_WABA, "changes": [{
        "field": "messages", "value": {"messaging_product": "whatsapp",
                                       "metadata": {"display_phone_number": "15550000001",
                                                    "phone_number_id": phone_number_id}, **value}}]}]}
    raw = json.dumps(payload).encode()
    await http.post(url, content=raw, headers={"Content-Type": "application/json",
                                               "X-Hub-Signature-256": sign(raw, secret)})


