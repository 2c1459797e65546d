"""API shapes of channels. Each kind has its own credentials (secrets: written, never read back)
and settings (shown to admins); ``credentials`` and ``settings`` are read with the models of the
``kind`` sent next to them, so an error names the exact field (``credentials.access_token``)."""

from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (AfterValidator, Field, HttpUrl, StringConstraints, ValidationInfo, field_validator,
                      model_validator)

from atiende.channels.models import Channel, ChannelKind
from atiende.kit.schemas import Id, InSchema, Name, OutSchema, Secret, ShortText, storable

Digits = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{1,32}$")]
TelegramToken = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{1,20}:[A-Za-z0-9_-]{20,200}$"),
                          Field(description="As given by @BotFather: <bot id>:<secret>")]
ApiSecret = Annotated[str, StringConstraints(min_length=16, max_length=1024), AfterValidator(storable)]


def _origin(value: str) -> str:
    """``scheme://host[:port]`` and nothing else, normalized to lower case."""
    parts = urlsplit(value)
    if (parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/")
            or parts.query or parts.fragment or parts.username or parts.password):
        raise ValueError("an origin is scheme://host[:port], e.g. https://www.example.com")
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    port = f":{parts.port}" if parts.port is not None else ""
    return f"{parts.scheme}://{host}{port}"


Origin = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300),
                   AfterValidator(storable), AfterValidator(_origin)]
CallbackUrl = Annotated[HttpUrl, Field(description="Where Atiende POSTs replies for this API source")]


class _Part(InSchema):
    def stored(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


class WhatsappCredentials(_Part):
    access_token: Secret
    app_secret: Secret = Field(description="Checks the X-Hub-Signature-256 of Meta's webhooks")
    verify_token: Secret = Field(description="What you type in Meta's webhook setup")


class TelegramCredentials(_Part):
    bot_token: TelegramToken


class ApiCredentials(_Part):
    secret: ApiSecret = Field(description="Shared secret that signs inbound and outbound calls (16+ chars)")


class NoCredentials(_Part):
    """A web chat widget is public: it has no secrets."""


# Meta's messaging limits: unique users reached outside a customer-service window in a moving 24 h.
MessagingLimit = Literal[250, 2000, 10000, 100000]


class WhatsappSettings(_Part):
    phone_number_id: Digits
    business_account_id: Digits | None = None
    api_version: Annotated[str, StringConstraints(pattern=r"^v[0-9]{1,3}\.[0-9]{1,2}$")] = "v21.0"
    max_messages_per_second: int | None = Field(
        None, ge=1, le=1000, description="The highest rate a send may choose on this number; left out: 80 "
                                         "(Meta's default throughput)")
    daily_recipient_limit: MessagingLimit | None = Field(
        None, description="Meta's messaging limit (250, 2000, 10000, 100000); left out: unlimited")
    business_portfolio_id: Digits | None = Field(
        None, description="Meta's business portfolio: numbers of one portfolio share the daily limit")


class WebchatSettings(_Part):
    allowed_origins: list[Origin] = Field(default_factory=list, max_length=50,
                                          description="Sites that may embed the widget")
    prechat_form: bool = Field(False, description="Ask name and email/phone before the chat")
    welcome_message: ShortText | None = None
    queue_notice: bool = Field(True, description="Tell a visitor waiting in the queue that an agent will answer soon")
    queue_position: bool = Field(True, description="With the notice, the visitor's place in the queue")

    @field_validator("allowed_origins")
    @classmethod
    def _distinct(cls, origins: list[str]) -> list[str]:
        if len(set(origins)) != len(origins):
            raise ValueError("an origin is listed twice")
        return origins


class TelegramSettings(_Part):
    pass


class ApiSettings(_Part):
    callback_url: CallbackUrl


CREDENTIALS_BY_KIND: dict[ChannelKind, type[_Part]] = {
    ChannelKind.whatsapp: WhatsappCredentials, ChannelKind.telegram: TelegramCredentials,
    ChannelKind.api: ApiCredentials, ChannelKind.webchat: NoCredentials,
}
SETTINGS_BY_KIND: dict[ChannelKind, type[_Part]] = {
    ChannelKind.whatsapp: WhatsappSettings, ChannelKind.telegram: TelegramSettings,
    ChannelKind.api: ApiSettings, ChannelKind.webchat: WebchatSettings,
}
AnyCredentials = WhatsappCredentials | TelegramCredentials | ApiCredentials | NoCredentials
AnySettings = WhatsappSettings | WebchatSettings | ApiSettings | TelegramSettings


def _for_kind(models: dict[ChannelKind, type[_Part]], value: Any, info: ValidationInfo) -> Any:
    if isinstance(value, _Part):
        return value
    kind = info.data.get("kind")
    if kind is None:
        raise ValueError("send the channel's kind together with its credentials and settings")
    return models[kind].model_validate({} if value is None else value)


class ChannelCreate(InSchema):
    """``credentials`` and ``settings`` are read for the ``kind``; left out (or null) they are
    empty, which only a kind without required ones accepts (webchat, telegram settings)."""

    client_id: Id
    kind: ChannelKind
    name: Name
    active: bool = True
    credentials: AnyCredentials | None = Field(
        None, validate_default=True,
        description="whatsapp: access_token, app_secret, verify_token; telegram: bot_token; api: secret; "
                    "webchat: none. Never returned.")
    settings: AnySettings | None = Field(
        None, validate_default=True,
        description="whatsapp: phone_number_id, business_account_id, api_version, max_messages_per_second, "
                    "daily_recipient_limit, business_portfolio_id; api: callback_url; "
                    "webchat: allowed_origins, prechat_form, welcome_message; telegram: none")

    @field_validator("credentials", mode="before")
    @classmethod
    def _credentials_of_kind(cls, value: Any, info: ValidationInfo) -> Any:
        return _for_kind(CREDENTIALS_BY_KIND, value, info)

    @field_validator("settings", mode="before")
    @classmethod
    def _settings_of_kind(cls, value: Any, info: ValidationInfo) -> Any:
        return _for_kind(SETTINGS_BY_KIND, value, info)


class ChannelUpdate(InSchema):
    """Only what is sent changes. ``credentials`` replaces the whole set of secrets and
    ``settings`` all settings; send ``kind`` (which never changes) along with either."""

    name: Name | None = None
    active: bool | None = None
    kind: ChannelKind | None = None
    credentials: AnyCredentials | None = None
    settings: AnySettings | None = None

    @field_validator("credentials", mode="before")
    @classmethod
    def _credentials_of_kind(cls, value: Any, info: ValidationInfo) -> Any:
        return None if value is None else _for_kind(CREDENTIALS_BY_KIND, value, info)

    @field_validator("settings", mode="before")
    @classmethod
    def _settings_of_kind(cls, value: Any, info: ValidationInfo) -> Any:
        return None if value is None else _for_kind(SETTINGS_BY_KIND, value, info)


class CampaignRef(OutSchema):
    id: int
    name: str


def webhook_path(kind: ChannelKind, channel_id: int) -> str | None:
    """Where the provider delivers this channel's messages (None: the web widget talks to the widget API)."""
    return {
        ChannelKind.whatsapp: f"/webhooks/whatsapp/{channel_id}",
        ChannelKind.telegram: f"/webhooks/telegram/{channel_id}",
        ChannelKind.api: f"/api/v1/channels/{channel_id}/inbound",
    }.get(kind)


class ChannelOut(OutSchema):
    id: int
    client_id: int
    kind: ChannelKind
    name: str
    active: bool
    settings: dict[str, Any]
    credential_keys: list[str] = Field(description="Which secrets are set; their values are never returned")
    webhook_path: str | None
    campaign: CampaignRef | None = Field(None, description="The active campaign this channel serves")

    @model_validator(mode="before")
    @classmethod
    def _from_channel(cls, data: Any) -> Any:
        if not isinstance(data, Channel):
            return data
        return {"id": data.id, "client_id": data.client_id, "kind": data.kind, "name": data.name,
                "active": data.active, "settings": data.settings or {},
                "credential_keys": sorted(key for key, value in (data.credentials or {}).items() if value),
                "webhook_path": webhook_path(data.kind, data.id),
                "campaign": getattr(data, "active_campaign", None)}
