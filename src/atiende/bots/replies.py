"""What the attention bot answers to one message, decided without the database: the live flow
(``bots.flow``) and the console's *Probar bot* panel both call ``decide``, so they never disagree.

The bot's memory between messages (``Conversation.bot_state``) is a small dict:
``options`` (what a number or a label chooses now), ``awaiting_resolved`` (it asked "¿Resolví tu
duda?"), ``misses`` (misunderstandings so far) and ``answered`` (answers given).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from atiende.bots.matcher import Intent, Match, Matcher, fold, mentions
from atiende.bots.models import AttentionBot, KnowledgeEntry
from atiende.bots.schemas import MenuKind
from atiende.campaigns.models import BOT_HANDOFF_KEYWORDS
from atiende.conversations.models import BotHandoffReason

FOLLOW_UP = "followup"  # an option under an answer: its label is asked as a new question
ASK_RESOLVED = "¿Resolví tu duda? Responde «sí», o escribe otra pregunta."
CLARIFY = "¿Te refieres a…?"
NONE_OF_THESE = "Ninguna, hablar con un asesor"
RESOLVED = "¡Con gusto! Que tengas un excelente día."
ANYTHING_ELSE = "¡Con gusto! ¿Hay algo más en lo que te pueda ayudar?"
SORRY = "Lo siento. Escribe tu pregunta de otra forma, o escribe «asesor» para hablar con una persona."


class Decision(StrEnum):
    answer = "answer"
    clarify = "clarify"
    menu = "menu"  # a greeting or a sub-menu: the options are shown
    misunderstood = "misunderstood"
    resolved = "resolved"
    handoff = "handoff"


@dataclass
class Reply:
    decision: Decision
    text: str
    state: dict[str, Any]
    match: Match | None = None
    entry_id: int | None = None
    handoff: BotHandoffReason | None = None
    options: list[dict[str, Any]] = field(default_factory=list)


def fresh_state() -> dict[str, Any]:
    return {"options": [], "awaiting_resolved": False, "misses": 0, "answered": 0}


def menu_options(menu: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """A menu level as choosable options (a sub-menu keeps its own options to open later)."""
    return [{"label": item["label"], "kind": item["kind"], "entry_id": item.get("entry_id"),
             "options": item.get("options") or []} for item in menu]


def numbered(text: str, options: Sequence[Mapping[str, Any]]) -> str:
    """The options as numbered lines under ``text``: what every channel can show (and a reply of
    the number, or the label, chooses)."""
    lines = [f"{number}. {option['label']}" for number, option in enumerate(options, 1)]
    return "\n".join(part for part in (text.strip(), "\n".join(lines)) if part)


def welcome(bot: AttentionBot) -> Reply:
    options = menu_options(bot.menu)
    state = fresh_state() | {"options": options}
    return Reply(Decision.menu, numbered(bot.welcome_message, options), state, options=options)


def decide(bot: AttentionBot, matcher: Matcher, entries: Mapping[int, KnowledgeEntry], state: Mapping[str, Any],
           text: str, *, keywords: Sequence[str] = BOT_HANDOFF_KEYWORDS, max_misses: int = 2) -> Reply:
    """The bot's reply to ``text`` given what it remembers (``state``)."""
    memory = fresh_state() | dict(state)
    chosen = _chosen(memory["options"], text)  # a tapped option ("Hablar con un asesor") is a menu choice
    if chosen is not None and chosen["kind"] != FOLLOW_UP:
        return _choose(bot, entries, memory, chosen, max_misses)
    if mentions(text, keywords):
        return _handoff(bot, memory, BotHandoffReason.keyword)
    if chosen is not None:  # a follow-up button asks the question on its label
        text = str(chosen["label"])
    match = matcher.match(text)
    if match.intent in (Intent.yes, Intent.thanks) and (memory["awaiting_resolved"] or memory["answered"]):
        return Reply(Decision.resolved, RESOLVED, memory | {"options": [], "awaiting_resolved": False}, match)
    if match.intent == Intent.no and memory["awaiting_resolved"]:
        return _miss(bot, memory, max_misses, match, text=SORRY)
    if match.intent in (Intent.greeting, Intent.yes, Intent.thanks):
        options = menu_options(bot.menu)
        lead = bot.welcome_message if match.intent == Intent.greeting else ANYTHING_ELSE
        return Reply(Decision.menu, numbered(lead, options), memory | {"options": options}, match, options=options)
    if match.confident and match.best is not None and match.best.entry_id in entries:
        return _answer(memory, entries[match.best.entry_id], match)
    known = [c for c in match.candidates if c.entry_id in entries]
    if match.plausible and known:
        options = [{"label": entries[c.entry_id].question[:60], "kind": MenuKind.answer.value,
                    "entry_id": c.entry_id, "options": []} for c in known[:3]]
        options.append({"label": NONE_OF_THESE, "kind": MenuKind.handoff.value, "entry_id": None, "options": []})
        return Reply(Decision.clarify, numbered(CLARIFY, options),
                     memory | {"options": options, "awaiting_resolved": False}, match, options=options)
    return _miss(bot, memory, max_misses, match)


def _chosen(options: Sequence[Mapping[str, Any]], text: str) -> Mapping[str, Any] | None:
    said = fold(text).strip(" .!¡?¿)")
    if said.isdigit() and 1 <= int(said) <= len(options):
        return options[int(said) - 1]
    return next((option for option in options if fold(option["label"]).strip(" .!¡?¿") == said), None)


def _choose(bot: AttentionBot, entries: Mapping[int, KnowledgeEntry], memory: dict[str, Any],
            option: Mapping[str, Any], max_misses: int) -> Reply:
    kind = option["kind"]
    if kind == MenuKind.handoff:
        return _handoff(bot, memory, BotHandoffReason.menu)
    if kind == MenuKind.submenu:
        options = menu_options(option["options"])
        return Reply(Decision.menu, numbered(option["label"], options),
                     memory | {"options": options, "awaiting_resolved": False}, options=options)
    entry = entries.get(option.get("entry_id") or 0)
    if entry is None:  # the entry was deactivated since the menu was shown
        return _miss(bot, memory, max_misses, None)
    return _answer(memory, entry, None)


def _answer(memory: dict[str, Any], entry: KnowledgeEntry, match: Match | None) -> Reply:
    options = [{"label": label, "kind": FOLLOW_UP, "entry_id": None, "options": []} for label in entry.buttons]
    body = entry.answer + (f"\n{entry.link}" if entry.link else "")
    text = numbered(body, options) + "\n\n" + ASK_RESOLVED
    return Reply(Decision.answer, text, memory | {"options": options, "awaiting_resolved": True, "misses": 0,
                                                  "answered": memory["answered"] + 1},
                 match, entry_id=entry.id, options=options)


def _miss(bot: AttentionBot, memory: dict[str, Any], max_misses: int, match: Match | None, *,
          text: str | None = None) -> Reply:
    misses = memory["misses"] + 1
    if misses >= max_misses:
        return _handoff(bot, memory | {"misses": misses}, BotHandoffReason.misunderstood, match)
    options = menu_options(bot.menu)
    return Reply(Decision.misunderstood, numbered(text or bot.fallback_message, options),
                 memory | {"options": options, "awaiting_resolved": False, "misses": misses}, match, options=options)


def _handoff(bot: AttentionBot, memory: dict[str, Any], reason: BotHandoffReason,
             match: Match | None = None) -> Reply:
    return Reply(Decision.handoff, bot.handoff_message.strip(), memory | {"options": []}, match, handoff=reason)
