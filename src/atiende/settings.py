"""Process settings, read once from ``ATIENDE_*`` environment variables.

Every knob an operator may need lives here so the README can list them in one table.
"""

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


INSECURE_SECRET_KEY = "change-me-in-production"  # public: only tests and library use may run on it
MIN_SECRET_KEY_LENGTH = 32


def secret_key_problem(secret_key: str) -> str | None:
    """Why this secret may not sign production sessions, or None when it may."""
    if not secret_key or secret_key == INSECURE_SECRET_KEY:
        return ("ATIENDE_SECRET_KEY is not set; set it to a random value of at least "
                f"{MIN_SECRET_KEY_LENGTH} characters, e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))'")
    if len(secret_key) < MIN_SECRET_KEY_LENGTH:
        return f"ATIENDE_SECRET_KEY is too short ({len(secret_key)} characters; at least {MIN_SECRET_KEY_LENGTH})"
    return None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ATIENDE_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite+aiosqlite:///./atiende.db",
        description="SQLAlchemy async URL; PostgreSQL: postgresql+asyncpg://user@host/db",
    )
    redis_url: str | None = Field(default=None, description="Redis URL for the event bus across processes")
    redis_channel: str = Field(default="atiende:events", max_length=200,
                               description="Redis pub/sub channel; separate deployments sharing a Redis use their own")
    secret_key: str = Field(default=INSECURE_SECRET_KEY, description="Signs the console's session cookies, the "
                            "web chat's visitor tokens and Telegram webhook secrets; `atiende serve` refuses to "
                            "start without a real one (32+ characters)")
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str = Field(default="", description="Public base URL used in webhook URLs shown to admins")
    token_ttl_minutes: int = Field(default=12 * 60, ge=1, description="Lifetime of API bearer tokens")
    login_max_failures: int = Field(default=5, ge=1, description="Failed logins per email before a pause")
    login_max_failures_per_address: int = Field(
        default=20, ge=1, description="Failed logins (any email) from one source address before it is paused")
    login_failure_window_minutes: int = Field(default=15, ge=1)
    webhook_refusals_per_minute: int = Field(
        default=30, ge=1, description="Refused (unsigned or wrongly signed) webhook calls per source address and "
                                      "minute before the address gets 429")
    max_body_bytes: int = Field(default=1_048_576, ge=1024, description="Largest request body accepted")
    contacts_import_max_bytes: int = Field(default=20 * 1024 * 1024, ge=1024,
                                           description="Largest CSV/XLSX file a contacts import accepts")
    media_dir: Path = Field(default=Path("./media"), description="Where received attachments are stored")
    default_locale: str = "es"
    ui_enabled: bool = Field(default=True, description="Mount the NiceGUI console and workspace")
    worker_enabled: bool = Field(default=True, description="Run the scheduled-jobs worker inside the app")
    inbound_routing: Literal["local", "worker"] = Field(
        default="local", description="Who routes accepted inbound messages: the process that accepted them "
        "(local), or only processes running the worker, woken over the bus (worker)")
    inbound_synchronous_commit: bool = Field(
        default=True, description="Answer a webhook only once PostgreSQL has flushed its messages to disk "
        "(true, the default), or once they are committed (false, opt-in: a PostgreSQL or machine crash in the "
        "next ~0.6 s can lose messages already answered; an Atiende crash cannot)")
    inbound_retention_days: int = Field(default=30, ge=1, le=3650,
                                        description="Days a routed inbound delivery is kept (its message stays)")
    sql_echo: bool = False
    # Channels (issue 5): base URLs are settings so tests and the demo point them at local fakes.
    whatsapp_graph_url: str = Field(default="https://graph.facebook.com",
                                    description="Meta Graph API base URL (WhatsApp Cloud API)")
    whatsapp_messages_per_second: int = Field(default=80, ge=1, le=10_000,
                                              description="Outbound WhatsApp messages per second per number")
    telegram_api_url: str = Field(default="https://api.telegram.org", description="Telegram Bot API base URL")
    media_max_bytes: int = Field(default=25 * 1024 * 1024, ge=1024,
                                 description="Largest attachment downloaded from a channel or uploaded")
    widget_messages_per_minute: int = Field(default=20, ge=1, description="Per web-chat visitor")
    widget_poll_seconds: int = Field(default=25, ge=1, le=60, description="Long-poll wait of the chat widget")
    webhooks_dispatch: bool = Field(
        default=True, description="Send outgoing webhook deliveries from this process's worker; set false in "
        "app and worker processes when an `atiende webhooks` process sends them (deliveries are written by "
        "whichever process makes the change either way)")
    webhooks_allow_private_addresses: bool = Field(
        default=False, description="Let outgoing webhooks reach private, loopback and link-local addresses "
        "(only for a receiver on your own network; off, such URLs are refused: SSRF)")


@lru_cache
def get_settings() -> Settings:
    return Settings()
