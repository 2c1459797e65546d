"""Contact centers for the channel tests: the engine's scenario (a client, staff, a campaign open
24/7) with a WhatsApp, Telegram or web chat channel added to its campaign."""

from typing import Any

import httpx

from atiende.campaigns.models import CampaignChannel
from atiende.channels.models import Channel, ChannelKind
from tests.channels.fakes.meta import ACCESS_TOKEN, API_VERSION, BUSINESS_ACCOUNT_ID, PHONE_NUMBER_ID
from tests.channels.fakes.telegram import BOT_TOKEN
from tests.conversations.scenario import Scenario, build
from tests.factories import Factory

APP_SECRET = "d1b3a7c9e5f2468a0b1c2d3e4f5a6b7c"
VERIFY_TOKEN = "atiende-verify-7f3a"
WHATSAPP_CREDENTIALS = {"access_token": ACCESS_TOKEN, "app_secret": APP_SECRET, "verify_token": VERIFY_TOKEN}
WHATSAPP_SETTINGS = {"phone_number_id": PHONE_NUMBER_ID, "business_account_id": BUSINESS_ACCOUNT_ID,
                     "api_version": API_VERSION}


async def add_channel(scenario: Scenario, kind: ChannelKind, *, credentials: dict[str, Any] | None = None,
                      settings: dict[str, Any] | None = None, linked: bool = True, name: str | None = None) -> int:
    async with scenario.database.session() as session:
        channel = Channel(client_id=scenario.client_id, kind=kind, name=name or f"{kind.value} {scenario.channel_id}",
                          credentials=credentials or {}, settings=settings or {}, active=True)
        session.add(channel)
        await session.flush()
        if linked:
            session.add(CampaignChannel(campaign_id=scenario.campaign_id, channel_id=channel.id))
        return channel.id


async def whatsapp_center(http: httpx.AsyncClient, factory: Factory, **options: Any) -> tuple[Scenario, int]:
    scenario = await build(http, factory, **options)
    return scenario, await add_channel(scenario, ChannelKind.whatsapp, credentials=WHATSAPP_CREDENTIALS,
                                       settings=WHATSAPP_SETTINGS)


async def telegram_center(http: httpx.AsyncClient, factory: Factory, **options: Any) -> tuple[Scenario, int]:
    scenario = await build(http, factory, **options)
    return scenario, await add_channel(scenario, ChannelKind.telegram, credentials={"bot_token": BOT_TOKEN})


async def webchat_center(http: httpx.AsyncClient, factory: Factory, *, origins: list[str] | None = None,
                         prechat: bool = False, welcome: str | None = "¡Hola! ¿En qué te ayudamos?",
                         **options: Any) -> tuple[Scenario, int]:
    scenario = await build(http, factory, **options)
    settings = {"allowed_origins": origins if origins is not None else ["https://tienda.example.com"],
                "prechat_form": prechat, "welcome_message": welcome}
    return scenario, await add_channel(scenario, ChannelKind.webchat, settings=settings)
