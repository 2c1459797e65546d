"""Which knowledge base entry a customer's message asks for, and how sure we are.

Everything runs offline from installed packages: text is normalised for Spanish chat (case, accents,
punctuation, chat spellings such as "q", "xq", "porfa"), stop words are dropped, a few synonyms of
customer service Spanish are folded into one word, and the rest is stemmed with Snowball.

Scoring has two stages so that its cost barely grows with the knowledge base:
1. **Retrieve** through an inverted index of stems: each of the message's stems (a typo is mapped
   to the nearest known stem with rapidfuzz) adds its IDF weight to the entries that use it, in the
   question, a phrasing or, at half weight, the answer. Rare stems are looked up first; common ones
   only add to entries already found, so a stem used by half the base costs nothing extra.
2. **Rank** the best few entries by their best phrasing: how much of the message's weight and of
   the phrasing's weight they share (an F1), blended with rapidfuzz's word-set similarity, plus
   how much of the message the whole entry covers.
An entry scores as its best phrasing, 0–100. ``Matcher`` is the one small interface the flow and
the *Probar bot* panel use, so a better matcher (embeddings) can replace this one.
"""

import math
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
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
# Words customers use for one idea, folded into one before stemming (customer-service Spanish, not a
# domain's jargon; a knowledge base adds its own words as phrasings).
SYNONYMS = {
    **dict.fromkeys("costo costos precio precios cuesta cuestan vale valen tarifa tarifas".split(), "costo"),
    **dict.fromkeys("extravie extravio extraviado extraviada perdi perdio perdida perdido".split(), "perder"),
    **dict.fromkeys("exterior extranjero extranjera extranjeros".split(), "exterior"),
    **dict.fromkeys("impuestos impuesto renta tributario tributaria dian".split(), "tributario"),
    **dict.fromkeys("empresa empresas negocio negocios compania companias juridica pyme".split(), "empresa"),
    **dict.fromkeys("correo email mail gmail hotmail".split(), "correo"),
    **dict.fromkeys("clave claves contrasena contrasenas password".split(), "clave"),
    **dict.fromkeys("celular movil telefono".split(), "telefono"),
    **dict.fromkeys("plata dinero".split(), "dinero"),
    **dict.fromkeys("cuota cuotas partes".split(), "cuotas"),
    **dict.fromkeys("reconectar reconexion reconecten reconectan reconecto reactivar reactivo".split(), "reconectar"),
    **dict.fromkeys("notificaciones notificacion mensajes envios".split(), "mensajes"),
    **dict.fromkeys("recibo recibos factura facturas".split(), "factura"),
}


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
    """The stems the matcher compares: content words only, synonyms folded into one."""
    return [stem(SYNONYMS.get(w, w)) for w in words(text) if w not in STOP_WORDS]


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


ANSWER_WEIGHT = 0.5  # a stem found only in an entry's answer counts half
TYPO_SCORE, TYPO_WEIGHT = 80.0, 0.85  # how close a misspelt stem must be to a known one, and its weight
RANKED = 30  # entries ranked in full after retrieval
COMMON_SHARE = 0.2  # a stem used by more entries than this share only adds to entries already found


class KnowledgeMatcher:
    """Retrieval by an inverted index of weighted stems, then ranking of the best few entries by
    their best phrasing; build once per knowledge base revision."""

    def __init__(self, entries: Sequence[Phrased], answers: Mapping[int, str] | None = None) -> None:
        self._questions = {entry.entry_id: entry.question for entry in entries}
        self._phrasings: dict[int, list[tuple[frozenset[str], str, str]]] = defaultdict(list)
        documents: dict[int, dict[str, float]] = defaultdict(dict)
        for entry in entries:
            for phrasing in (entry.question, *entry.phrasings):
                terms = frozenset(key_terms(phrasing))
                if terms:
                    self._phrasings[entry.entry_id].append((terms, " ".join(sorted(terms)), phrasing))
                    documents[entry.entry_id].update(dict.fromkeys(terms, 1.0))
            for term in key_terms((answers or {}).get(entry.entry_id, "")):
                documents[entry.entry_id].setdefault(term, ANSWER_WEIGHT)
        self._postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for owner, document in documents.items():
            for term, weight in document.items():
                self._postings[term].append((owner, weight))
        count = len(documents) or 1
        self._idf = {term: math.log(1 + count / len(posting)) for term, posting in self._postings.items()}
        self._unknown_idf = math.log(1 + count)  # a word the base never uses weighs as the rarest
        self._vocabulary = list(self._idf)
        self._common = max(8, int(count * COMMON_SHARE))
        self._typos: dict[str, str | None] = {}

    def match(self, text: str, *, limit: int = 3) -> Match:
        intent = intent_of(text)
        terms = list(dict.fromkeys(key_terms(text)))
        if intent != Intent.question or not terms or not self._postings:
            return Match(intent, ())
        known: list[tuple[str, float]] = []  # (stem in the base, weight in the message)
        message_weight = 0.0
        for term in terms:
            found, factor = self._known(term)
            weight = self._idf[found] if found is not None else self._unknown_idf
            message_weight += weight
            if found is not None:
                known.append((found, weight * factor))
        coverage = self._retrieve(known)
        top = sorted(coverage, key=lambda owner: (-coverage[owner], owner))[:RANKED]
        query = " ".join(sorted(set(terms)))
        ranked = [self._rank(owner, known, message_weight, coverage[owner], query) for owner in top]
        ranked.sort(key=lambda c: (-c.score, c.entry_id))
        return Match(Intent.question, tuple(ranked[:limit]))

    def _known(self, term: str) -> tuple[str | None, float]:
        """The stem as the base knows it: itself, or the nearest known stem for a typo."""
        if term in self._idf:
            return term, 1.0
        if term not in self._typos:
            if len(self._typos) > 4096:
                self._typos.clear()
            near = process.extractOne(term, self._vocabulary, scorer=fuzz.ratio, score_cutoff=TYPO_SCORE) \
                if len(term) >= 4 else None
            self._typos[term] = near[0] if near else None
        found = self._typos[term]
        return (found, TYPO_WEIGHT) if found is not None else (None, 0.0)

    def _retrieve(self, known: Sequence[tuple[str, float]]) -> dict[int, float]:
        """Entries sharing stems with the message, each with the message weight it shares."""
        coverage: dict[int, float] = defaultdict(float)
        for term, weight in sorted(known, key=lambda k: len(self._postings[k[0]])):
            posting = self._postings[term]
            if len(posting) > self._common and coverage:
                for owner, share in posting:
                    if owner in coverage:
                        coverage[owner] += weight * share
                continue
            for owner, share in posting:
                coverage[owner] += weight * share
        return coverage

    def _rank(self, owner: int, known: Sequence[tuple[str, float]], message_weight: float, covered: float,
              query: str) -> Candidate:
        best, best_phrasing = 0.0, ""
        for terms, joined, phrasing in self._phrasings[owner]:
            shared = sum(weight for term, weight in known if term in terms)
            overlap = 0.0
            if shared:
                of_message = shared / message_weight
                of_phrasing = shared / sum(self._idf[term] for term in terms)
                overlap = 2 * of_message * of_phrasing / (of_message + of_phrasing)
            score = 0.6 * overlap + 0.4 * _score(query, joined) / 100
            if score > best:
                best, best_phrasing = score, phrasing
        total = 100 * (0.6 * best + 0.4 * min(1.0, covered / message_weight))
        return Candidate(owner, self._questions[owner], round(total, 1), best_phrasing)


def _score(query: str, choice: str, **_: object) -> float:
    """How well the stems of ``query`` cover ``choice``'s: mostly the shared words (typos forgiven),
    partly the whole, so a one-word message does not match every phrasing containing that word."""
    return 0.6 * fuzz.token_set_ratio(query, choice) + 0.4 * fuzz.token_sort_ratio(query, choice)
