"""Attention bots as the API and the console edit them."""

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, Field, StringConstraints, model_validator

from atiende.kit.schemas import Id, InSchema, LongText, Name, OutSchema, storable

MAX_MENU_OPTIONS = 10
MAX_MENU_DEPTH = 3
MAX_BUTTONS = 3  # follow-up buttons under an answer: WhatsApp's reply-button limit
MAX_PHRASINGS = 50
MAX_ENTRIES = 5000

Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60), AfterValidator(storable)]
Phrase = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300),
                   AfterValidator(storable)]
Answer = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4096),
                   AfterValidator(storable)]
Link = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500, pattern=r"^(https?://\S+)?$"),
                 AfterValidator(storable)]
Category = Annotated[str, StringConstraints(strip_whitespace=True, max_length=120), AfterValidator(storable)]


class MenuKind(StrEnum):
    answer = "answer"  # shows one knowledge base entry
    submenu = "submenu"  # opens more options
    handoff = "handoff"  # "hablar con un asesor"


class MenuOption(InSchema):
    label: Label
    kind: MenuKind
    entry_id: Id | None = Field(None, description="The entry an 'answer' option shows")
    options: list["MenuOption"] = Field(default_factory=list, max_length=MAX_MENU_OPTIONS,
                                        description="The options of a 'submenu'")

    @model_validator(mode="after")
    def _shape(self) -> "MenuOption":
        if self.kind == MenuKind.answer and self.entry_id is None:
            raise ValueError("an answer option needs its entry_id")
        if self.kind != MenuKind.answer and self.entry_id is not None:
            raise ValueError("only an answer option points to an entry")
        if self.kind == MenuKind.submenu and not self.options:
            raise ValueError("a sub-menu needs at least one option")
        if self.kind != MenuKind.submenu and self.options:
            raise ValueError("only a sub-menu has options")
        return self


Menu = Annotated[list[MenuOption], Field(max_length=MAX_MENU_OPTIONS)]


class AttentionBotCreate(InSchema):
    client_id: Id
    name: Name
    welcome_message: LongText = "¡Hola! Soy el asistente virtual. ¿En qué te puedo ayudar?"
    fallback_message: LongText = ("No entendí tu pregunta. ¿Puedes escribirla de otra forma? "
                                  "También puedes escribir «asesor» para hablar con una persona.")
    handoff_message: LongText = "Te comunico con un asesor. En un momento te atiende."
    menu: Menu = Field(default_factory=list)
    active: bool = True


class AttentionBotUpdate(InSchema):
    name: Name | None = None
    welcome_message: LongText | None = None
    fallback_message: LongText | None = None
    handoff_message: LongText | None = None
    menu: Menu | None = None
    active: bool | None = None


class AttentionBotOut(OutSchema):
    id: int
    client_id: int
    name: str
    welcome_message: str
    fallback_message: str
    handoff_message: str
    menu: list[dict[str, Any]]
    revision: int
    active: bool


class EntryCreate(InSchema):
    question: Phrase
    phrasings: list[Phrase] = Field(default_factory=list, max_length=MAX_PHRASINGS,
                                    description="Other ways customers ask the same")
    answer: Answer
    link: Link | None = None
    buttons: list[Label] = Field(default_factory=list, max_length=MAX_BUTTONS,
                                 description="Follow-up questions offered under the answer")
    category: Category = ""
    active: bool = True


class EntryUpdate(InSchema):
    question: Phrase | None = None
    phrasings: list[Phrase] | None = Field(None, max_length=MAX_PHRASINGS)
    answer: Answer | None = None
    link: Link | None = None
    buttons: list[Label] | None = Field(None, max_length=MAX_BUTTONS)
    category: Category | None = None
    active: bool | None = None


class EntryOut(OutSchema):
    id: int
    bot_id: int
    question: str
    phrasings: list[str]
    answer: str
    link: str | None
    buttons: list[str]
    category: str
    active: bool


class ImportOut(InSchema):
    created: int
    updated: int


class TryIn(InSchema):
    text: Annotated[str, StringConstraints(min_length=1, max_length=4096), AfterValidator(storable)]


class CandidateOut(OutSchema):
    entry_id: int
    question: str
    score: float
    phrasing: str


class TryOut(OutSchema):
    """What the live bot would do with ``text`` as a fresh question, and why."""

    intent: str
    decision: str = Field(description="answer, clarify, misunderstood, greeting, thanks or handoff")
    reply: str
    best: CandidateOut | None
    runner_up: CandidateOut | None
    candidates: list[CandidateOut]


class UnansweredOut(OutSchema):
    id: int
    bot_id: int
    text: str = Field(description="The latest wording a customer used")
    count: int = Field(description="How many times customers asked it this way")
    first_seen_at: datetime
    last_seen_at: datetime


class LearnIn(InSchema):
    """Teach the bot an unanswered question: as another phrasing of ``entry_id``, or as a new entry
    with ``answer`` (its question is the customer's text unless ``question`` is given)."""

    entry_id: Id | None = None
    question: Phrase | None = None
    answer: Answer | None = None

    @model_validator(mode="after")
    def _one_way(self) -> "LearnIn":
        if (self.entry_id is None) == (self.answer is None):
            raise ValueError("send entry_id (add as a phrasing) or answer (a new entry), not both")
        return self
