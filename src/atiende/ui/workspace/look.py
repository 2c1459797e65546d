"""How conversations look everywhere: channel icons, presence colours, delivery ticks, and times
in the campaign's zone in the viewer's language."""

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time
from nicegui import ui

from atiende.auth.models import Presence
from atiende.conversations.models import DeliveryStatus
from atiende.i18n import current_locale, t

CHANNEL_ICONS: dict[str, tuple[str, str]] = {
    "whatsapp": ("chat", "green-7"),
    "webchat": ("language", "blue-7"),
    "telegram": ("send", "light-blue-7"),
    "api": ("api", "deep-purple-5"),
}
PRESENCE_COLORS = {Presence.online: "positive", Presence.away: "warning", Presence.offline: "grey-6"}
TICKS: dict[DeliveryStatus, tuple[str, str]] = {
    DeliveryStatus.queued: ("schedule", "grey-6"),
    DeliveryStatus.sent: ("done", "grey-7"),
    DeliveryStatus.delivered: ("done_all", "grey-7"),
    DeliveryStatus.read: ("done_all", "light-blue-7"),
    DeliveryStatus.failed: ("error_outline", "negative"),
}


def channel_icon(kind: str, *, size: str = "1.25rem") -> ui.icon:
    name, color = CHANNEL_ICONS.get(kind, ("forum", "grey-7"))
    icon = ui.icon(name, color=color, size=size)
    label = t(f"channel_kind.{kind}")
    icon.props(f'aria-label="{label}" role="img"').tooltip(label)
    return icon


def presence_dot(presence: Presence) -> ui.icon:
    return ui.icon("circle", color=PRESENCE_COLORS.get(presence, "grey-6"), size="0.75rem") \
        .props(f'aria-label="{t("workspace.presence." + presence.value)}" role="img"')


def tick(status: DeliveryStatus | None, reason: str | None = None) -> None:
    if status is None:
        return
    name, color = TICKS[status]
    label = t(f"workspace.delivery.{status.value}")
    icon = ui.icon(name, color=color, size="1rem").props(f'aria-label="{label}" role="img"')
    icon.props(f'data-status="{status.value}" data-testid="tick"')
    icon.tooltip(f"{label}: {reason}" if reason else label)


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ValueError, KeyError):
        return ZoneInfo("UTC")


def clock_time(at: datetime, timezone: str | None) -> str:
    return format_time(at.astimezone(zone(timezone)), format="short", locale=current_locale())


def day(at: datetime, timezone: str | None) -> str:
    return format_date(at.astimezone(zone(timezone)).date(), format="medium", locale=current_locale())


def moment(at: datetime, timezone: str | None, now: datetime) -> str:
    """The time alone for today, else the date and time."""
    local, today = at.astimezone(zone(timezone)), now.astimezone(zone(timezone))
    if local.date() == today.date():
        return clock_time(at, timezone)
    return f"{day(at, timezone)} {clock_time(at, timezone)}"
