"""Which knowledge base entry a customer's message asks for, and how sure we are.

Everything runs offline from installed packages: text is normalised for Spanish chat (case, accents,
punctuation, chat spellings such as "q", "xq", "porfa"), stop words are dropped and the rest stemmed
with Snowball, then every phrasing of every entry is scored against the message with rapidfuzz. An
entry scores as its best phrasing. ``Matcher`` is the one small interface the flow and the *Probar
bot* panel use, so a better matcher (BM25, embeddings) can replace this one.
"""

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Protocol

import snowballstemmer
from rapidfuzz import fuzz, process

ANSWER_SCORE = 72.0  # at or above: answer at once
CLARIFY_SCORE = 56.0  # at or above (and below ANSWER_SCORE): "¿Te refieres a…?"
CLEAR_MARGIN = 6.0  # the best must lead the runner-up by this much to be answered at once
LEAD_SCORE, LEAD_MARGIN = 64.0, 20.0  # or, a little less sure, lead everything else by far

CHAT_SPELLINGS = {
    "q": "que", "k": "que", "ke": "que", "xq": "porque", "pq": "porque", "porq": "porque", "xk": "porque",
    "x": "por", "xfa": "por favor", "porfa": "por favor", "porfis": "por favor", "plis": "por favor",
    "pls": "por favor", "tb": "tambien", "tmb": "tambien", "tbn": "tambien", "d": "de", "dnd": "donde",
    "msj": "mensaje", "info": "informacion", "tel": "telefono", "cel": "celular", "grax": "gracias",
    "grx": "gracias", "grs": "gracias", "ola": "hola", "bn": "bien", "kiero": "quiero", "aki": "aqui",
    "kuanto": "cuanto", "cuant": "cuanto", "ps": "pues", "hr": "hora", "hrs": "horas", "min": "minutos",
    "nro": "numero", "num": "numero", "no.": "numero", "sr": "senor", "sra": "senora", "vdd": "verdad",
    "tmpc": "tampoco", "sip": "si", "sep": "si", "nop": "no", "nel": "no", "oki": "ok", "okey": "ok",
}
STOP_WORDS = frozenset("""
a al algo algun alguna algunas alguno algunos ante antes aqui asi aun con como contra cual cuales de del
desde dos e el ella ellas ello ellos en entre era eran eres es esa esas ese eso esos esta estaba estado
estan estar estas este esto estos estoy fue fueron ha hace hacer han hasta hay he la las le les lo los mas me mi
mis mucho muy nada ni nos nosotros o os otra otro para pero poco por porque pues que quien se sea ser si sin
sobre son soy su sus tambien te tener tengo ti tiene tienen toda todas todo todos tu tus un una uno unos usted
ustedes vez vosotros y ya yo favor tienes tenemos hago haces puedes hacen hola buenas buenos dias dia tardes
noches quiero quisiera queria necesito
puedo puede podria podrian saber ayuda ayudar ayudame info informacion gracias ok senor senora please
the an of to is are i my me you your do does how what can for and or in on it please hi hello
""".split())
GREETINGS = frozenset("hola buenas buenos dias dia buen tardes noches hey hi hello saludos que tal holi oli "
                      "good morning afternoon evening alo".split())
THANKS = frozenset("gracias muchas mil thanks thank you thx genial excelente perfecto listo chevere buenisimo "
                   "super ok vale dale".split())
YES = frozenset("si claro correcto exacto eso yes yep ok listo perfecto dale vale afirmativo".split())
NO = frozenset("no tampoco nada negativo nope para".split())


class Intent(StrEnum):
    """What a message is, besides a question."""

    greeting = "greeting"
    thanks = "thanks"
    yes = "yes"
    no = "no"
    question = "question"
    empty = "empty"


@dataclass(frozen=True)
class Phrased:
    """An entry as the matcher sees it."""

    entry_id: int
    question: str
    phrasings: Sequence[str] = ()


@dataclass(frozen=True)
class Candidate:
    entry_id: int
    question: str
    score: float
    phrasing: str  # the phrasing that scored best


@dataclass(frozen=True)
class Match:
    intent: Intent
    candidates: tuple[Candidate, ...]  # best first, one per entry

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None

    @property
    def runner_up(self) -> Candidate | None:
        return self.candidates[1] if len(self.candidates) > 1 else None

    @property
    def confident(self) -> bool:
        """Sure enough to answer at once."""
        best, second = self.best, self.runner_up
        if best is None:
            return False
        margin = best.score - second.score if second is not None else best.score
        if best.score >= LEAD_SCORE and margin >= LEAD_MARGIN:
            return True
        return best.score >= ANSWER_SCORE and (margin >= CLEAR_MARGIN or best.score >= 95)

    @property
    def plausible(self) -> bool:
        """Worth asking "¿Te refieres a…?"."""
        return self.best is not None and self.best.score >= CLARIFY_SCORE


class Matcher(Protocol):
    def match(self, text: str, *, limit: int = 3) -> Match: ...


_stemmer = snowballstemmer.stemmer("spanish")
_WORD = re.compile(r"[a-z0-9ñ]+")


def fold(text: str) -> str:
    """Lowercase, without accents (ñ kept), punctuation as spaces."""
    text = text.lower().replace("ñ", "\x00")
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return text.replace("\x00", "ñ")


def words(text: str) -> list[str]:
    """The message's words, folded, chat spellings expanded, letters repeated for emphasis cut
    ("holaaa" → "hola")."""
    out: list[str] = []
    for word in _WORD.findall(fold(text)):
        word = re.sub(r"([a-z])\1{2,}", r"\1", word)
        out.extend(CHAT_SPELLINGS.get(word, word).split())
    return out


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    return _stemmer.stemWord(word)


def key_terms(text: str) -> list[str]:
    """The stems the matcher compares: content words only."""
    return [stem(w) for w in words(text) if w not in STOP_WORDS]


def normalise(text: str) -> str:
    return " ".join(key_terms(text))


def intent_of(text: str) -> Intent:
    """A greeting, thanks, yes or no said alone; else a question (or nothing at all)."""
    found = words(text)
    if not found:
        return Intent.empty
    present = set(found)
    if present <= NO:
        return Intent.no
    if present <= YES | {"por", "favor"}:
        return Intent.yes
    if present & {"gracias", "thanks", "thank", "thx"} and present <= THANKS | GREETINGS | YES | STOP_WORDS:
        return Intent.thanks
    if present <= GREETINGS | {"como", "esta", "estas", "estan", "todo", "bien"}:
        return Intent.greeting
    return Intent.question


def mentions(text: str, keywords: Iterable[str]) -> bool:
    """Whether the message names one of ``keywords`` (as a word, any accent or plural)."""
    stems = {stem(w) for w in words(text)}
    return any(stem(w) in stems for keyword in keywords for w in words(keyword))


class FuzzyMatcher:
    """rapidfuzz over stemmed content words; build once per knowledge base revision."""

    def __init__(self, entries: Sequence[Phrased]) -> None:
        self._choices: list[str] = []
        self._owners: list[int] = []
        self._questions = {entry.entry_id: entry.question for entry in entries}
        self._raw: list[str] = []
        for entry in entries:
            for phrasing in (entry.question, *entry.phrasings):
                normalised = normalise(phrasing)
                if normalised:
                    self._choices.append(normalised)
                    self._owners.append(entry.entry_id)
                    self._raw.append(phrasing)

    def match(self, text: str, *, limit: int = 3) -> Match:
        intent = intent_of(text)
        query = normalise(text)
        if intent != Intent.question or not query or not self._choices:
            return Match(intent if intent != Intent.question else Intent.question, ())
        # rapidfuzz's own scorer (native code) picks the few phrasings worth weighing; the blended
        # score is then computed for those only, so the cost grows slowly with the knowledge base.
        shortlist = process.extract(query, self._choices, scorer=fuzz.token_set_ratio, limit=max(limit * 16, 48))
        best: dict[int, Candidate] = {}
        for choice, _rough, index in shortlist:
            score = _score(query, choice)
            owner = self._owners[index]
            if owner not in best or score > best[owner].score:
                best[owner] = Candidate(owner, self._questions[owner], round(float(score), 1), self._raw[index])
        ranked = sorted(best.values(), key=lambda c: (-c.score, c.entry_id))
        return Match(Intent.question, tuple(ranked[:limit]))


def _score(query: str, choice: str, **_: object) -> float:
    """How well the stems of ``query`` cover ``choice``'s: mostly the shared words (typos forgiven),
    partly the whole, so a one-word message does not match every phrasing containing that word."""
    return 0.6 * fuzz.token_set_ratio(query, choice) + 0.4 * fuzz.token_sort_ratio(query, choice)
