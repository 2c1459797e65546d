"""A bot's options as each channel shows them: the rule in one place.

A message with ``choices`` carries them numbered in its text too ("1. Pagar mi factura"), which
every channel and every reader understands; a channel with buttons shows the lead text and the
options as buttons instead, so long as each fits the channel's limits (otherwise the numbered
text is sent as is). Tapping a button sends its label back, which the bot reads like the number.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

# WhatsApp Cloud API limits for interactive messages (Meta's "Interactive messages" reference).
WHATSAPP_BUTTONS = 3  # reply buttons
WHATSAPP_BUTTON_TITLE = 20
WHATSAPP_LIST_ROWS = 10
WHATSAPP_ROW_TITLE = 24
WHATSAPP_BODY = 1024
WHATSAPP_LIST_BUTTON = "Ver opciones"
# Telegram's reply keyboard has no small limit that matters here; a label is at most this long.
TELEGRAM_LABEL = 64


def lead_text(text: str, choices: Sequence[str]) -> str:
    """``text`` without its numbered option lines (those the buttons replace)."""
    numbered = {f"{number}. {label}" for number, label in enumerate(choices, 1)}
    kept = [line for line in text.split("\n") if line.strip() not in numbered]
    return "\n".join(kept).strip().replace("\n\n\n", "\n\n")


@dataclass(frozen=True)
class WhatsAppInteractive:
    content: dict[str, Any]  # the ``interactive`` object of a Graph API message


def whatsapp_interactive(text: str, choices: Sequence[str]) -> WhatsAppInteractive | None:
    """Reply buttons (up to 3 short labels) or a list (up to 10); None when they do not fit."""
    if not choices:
        return None
    body = lead_text(text, choices)
    if not body or len(body) > WHATSAPP_BODY:
        return None
    if len(choices) <= WHATSAPP_BUTTONS and all(len(c) <= WHATSAPP_BUTTON_TITLE for c in choices):
        buttons = [{"type": "reply", "reply": {"id": f"choice-{n}", "title": label}}
                   for n, label in enumerate(choices, 1)]
        return WhatsAppInteractive({"type": "button", "body": {"text": body}, "action": {"buttons": buttons}})
    if len(choices) <= WHATSAPP_LIST_ROWS and all(len(c) <= WHATSAPP_ROW_TITLE for c in choices):
        rows = [{"id": f"choice-{n}", "title": label} for n, label in enumerate(choices, 1)]
        return WhatsAppInteractive({"type": "list", "body": {"text": body},
                                    "action": {"button": WHATSAPP_LIST_BUTTON,
                                               "sections": [{"title": "Opciones", "rows": rows}]}})
    return None


def telegram_keyboard(choices: Sequence[str]) -> dict[str, Any] | None:
    """A one-time reply keyboard, one option per row; tapping sends the label as a message."""
    if not choices or any(len(c) > TELEGRAM_LABEL for c in choices):
        return None
    return {"keyboard": [[{"text": label}] for label in choices], "one_time_keyboard": True,
            "resize_keyboard": True}
