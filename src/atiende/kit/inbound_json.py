"""Reading a channel's raw webhook body: bounded nesting, text that can be stored.

The API channel, WhatsApp and Telegram read their bodies raw (the signature covers the exact
bytes), so FastAPI's own body parsing does not guard them. ``read_json`` is the one reader:
- nesting deeper than ``MAX_DEPTH`` is refused (400) before ``json.loads`` runs, which would
  otherwise recurse until ``RecursionError`` (a 500) on a body of 100,000 ``[``;
- every string is made storable (``clean``): a lone surrogate (``"\\ud800"``, valid JSON but not
  valid Unicode) and a NUL character become U+FFFD, since PostgreSQL refuses both.
  A provider resends whatever it did not get a 2xx for, for days, so the message is cleaned and
  kept rather than refused.
"""

import json
import re
from typing import Any

from atiende.errors import AtiendeError

MAX_DEPTH = 64  # Meta's deepest payload nests 7 levels, Telegram's 6
_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(rb"[\[\]{}]")


class UnreadableBody(AtiendeError):
    code = "inbound.unreadable_body"
    status_code = 400

    def __init__(self, reason: str) -> None:
        super().__init__(f"The body is not valid JSON: {reason}", field="body")


def too_deep(raw: bytes, limit: int = MAX_DEPTH) -> bool:
    """Whether the JSON text nests arrays and objects deeper than ``limit`` (brackets inside
    strings do not count)."""
    if raw.count(b"[") + raw.count(b"{") <= limit:  # every ordinary body: no scan
        return False
    depth = 0
    for bracket in _BRACKETS.finditer(_STRINGS.sub(b'""', raw)):
        if bracket.group() in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def clean(value: str) -> str:
    """``value`` as text PostgreSQL stores: lone surrogates and NUL replaced by U+FFFD (so an id
    that carried one stays distinct from the id without it)."""
    if "\x00" in value:
        value = value.replace("\x00", "\ufffd")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return value


def _cleaned(node: Any) -> Any:
    if isinstance(node, str):
        return clean(node)
    if isinstance(node, dict):
        return {clean(key): _cleaned(item) for key, item in node.items()}
    if isinstance(node, list):
        return [_cleaned(item) for item in node]
    return node


def read_json(raw: bytes) -> Any:
    """The body as JSON, or ``UnreadableBody`` (400)."""
    if too_deep(raw):
        raise UnreadableBody(f"nested deeper than {MAX_DEPTH} levels")
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise UnreadableBody(str(exc)[:200]) from exc
    # Lone surrogates and NUL only reach a string through a \u escape (raw ones are not valid JSON
    # or UTF-8), so a body without escapes is returned as parsed.
    return _cleaned(data) if b"\\u" in raw else data
