"""The message of a send on a Telegram or API channel: plain text whose ``{column}`` placeholders
take each recipient's values (``Hola {nombre}, tu cuota de {monto} vence el {fecha_vencimiento}``).
Those channels take no templates; they reach only contacts who already wrote to them."""

import re

from atiende.channels.models import ChannelKind
from atiende.outbound.errors import SendInvalid
from atiende.outbound.reach import TEXT_LIMITS

PLACEHOLDER = re.compile(r"\{([^{}\n]{1,120})\}")
_NAMES = {ChannelKind.telegram: "Telegram", ChannelKind.api: "API channel"}


def placeholders(text: str) -> list[str]:
    """The columns the text names, in order, once each."""
    return list(dict.fromkeys(m.group(1).strip() for m in PLACEHOLDER.finditer(text)))


def render_text(text: str, variables: dict[str, str]) -> str:
    return PLACEHOLDER.sub(lambda m: variables.get(m.group(1).strip(), ""), text)


def limit_of(kind: ChannelKind) -> int:
    return TEXT_LIMITS[kind]


def check_text(text: str | None, columns: set[str], kind: ChannelKind) -> str:
    """The text as it will be kept; refused (``field="text"``) when empty, longer than the channel
    takes, or naming a column the audience lacks."""
    if text is None or not text.strip():
        raise SendInvalid("Write the text of the message", field="text")
    limit = limit_of(kind)
    if len(text) > limit:
        raise SendInvalid(f"The text has {len(text)} characters; a {_NAMES.get(kind, kind.value)} message takes "
                          f"at most {limit}", field="text")
    missing = [name for name in placeholders(text) if name not in columns]
    if missing:
        raise SendInvalid(f"The audience has no column {missing[0]!r}", field="text")
    return text
