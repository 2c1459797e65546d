"""API shapes of the setup catalog: schedules, typifications, field definitions, funnels, survey bots.

The schemas check form (types, lengths, formats); rules that need the database or compare items
of a list with each other (overlapping bands, duplicate holidays, cycles) live in the services.
"""

import re
from datetime import date, datetime, time
from typing import Annotated, Any

from pydantic import (AfterValidator, AwareDatetime, BeforeValidator, Field, Strict, StringConstraints,
                      ValidationInfo, WithJsonSchema, field_validator)

from atiende.catalog.models import FieldType, QuestionKind
from atiende.catalog.patterns import pattern_problem
from atiende.catalog.schedule_rules import is_valid_timezone
from atiende.kit.schemas import Code, Id, InSchema, LongText, Name, OutSchema, storable

# --- schedules ---------------------------------------------------------------------------------

CLOCK_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


def _clock_time(value: Any) -> Any:
    if isinstance(value, time) and not (value.second or value.microsecond or value.tzinfo):
        return value
    if isinstance(value, str) and re.fullmatch(CLOCK_PATTERN, value):
        return time(int(value[:2]), int(value[3:]))
    raise ValueError('use "HH:MM" on a 24-hour clock, from 00:00 to 23:59')


def _clock_text(value: Any) -> Any:
    return value.strftime("%H:%M") if isinstance(value, time) else value


def _iso_date(value: Any) -> Any:
    """A JSON date is a "YYYY-MM-DD" string (not a number of seconds since 1970)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        return value
    raise ValueError('use a date as "YYYY-MM-DD"')


def _timezone(value: str) -> str:
    if not is_valid_timezone(value):
        raise ValueError("unknown time zone; use an IANA name such as America/Bogota")
    return value


ClockTime = Annotated[time, BeforeValidator(_clock_time),
                      WithJsonSchema({"type": "string", "pattern": CLOCK_PATTERN, "examples": ["08:00"]})]
ClockText = Annotated[str, BeforeValidator(_clock_text)]
IsoDate = Annotated[date, BeforeValidator(_iso_date)]
TimeZoneName = Annotated[str, StringConstraints(min_length=1, max_length=64), AfterValidator(storable),
                         AfterValidator(_timezone),
                         Field(description="IANA time zone", examples=["America/Bogota"])]
Label = Annotated[str, StringConstraints(strip_whitespace=True, max_length=120), AfterValidator(storable)]


class BandIn(InSchema):
    weekday: int = Field(ge=0, le=6, description="0 = Monday … 6 = Sunday")
    start: ClockTime
    end: ClockTime = Field(description='"00:00" is midnight, the end of the day')
    overnight: bool = Field(False, description="Runs past midnight and ends at `end` the next day")


class HolidayIn(InSchema):
    day: IsoDate
    name: Label = ""


class ScheduleCreate(InSchema):
    client_id: Id
    name: Name
    timezone: TimeZoneName
    bands: list[BandIn] = Field(default_factory=list, max_length=200)
    holidays: list[HolidayIn] = Field(default_factory=list, max_length=1000)
    active: bool = True


class ScheduleUpdate(InSchema):
    """Only what is sent changes; ``bands`` and ``holidays`` replace the whole list."""

    name: Name | None = None
    timezone: TimeZoneName | None = None
    bands: list[BandIn] | None = Field(None, max_length=200)
    holidays: list[HolidayIn] | None = Field(None, max_length=1000)
    active: bool | None = None


class BandOut(OutSchema):
    weekday: int
    start: ClockText
    end: ClockText
    overnight: bool


class HolidayOut(OutSchema):
    day: date
    name: str


class ScheduleOut(OutSchema):
    id: int
    client_id: int
    name: str
    timezone: str
    active: bool
    bands: list[BandOut]
    holidays: list[HolidayOut]


class ScheduleStatusOut(OutSchema):
    open: bool
    next_change: AwareDatetime | None = Field(
        description="When `open` flips next, in the schedule's time zone; null if it never does")


# --- typifications -----------------------------------------------------------------------------

class TypificationCreate(InSchema):
    client_id: Id
    name: Name
    code: Code
    parent_id: Id | None = None
    active: bool = True


class TypificationUpdate(InSchema):
    """``parent_id: null`` moves the typification to the top of the tree."""

    name: Name | None = None
    code: Code | None = None
    parent_id: Id | None = None
    active: bool | None = None


class TypificationOut(OutSchema):
    id: int
    client_id: int
    parent_id: int | None
    name: str
    code: str
    active: bool


# --- field definitions -------------------------------------------------------------------------

MAX_TEXT_LENGTH = 4096
MAX_NUMBER = 1e15
JsonNumber = Annotated[float, Strict(), Field(ge=-MAX_NUMBER, le=MAX_NUMBER, allow_inf_nan=False)]


def _regex(value: str | None) -> str | None:
    problem = None if value is None else pattern_problem(value)
    if problem:
        raise ValueError(problem)
    return value


class _Rules(InSchema):
    def stored(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


class TextRules(_Rules):
    min_length: int | None = Field(None, ge=0, le=MAX_TEXT_LENGTH)
    max_length: int | None = Field(None, ge=1, le=MAX_TEXT_LENGTH)
    pattern: Annotated[str | None, StringConstraints(min_length=1, max_length=200), AfterValidator(storable),
                       AfterValidator(_regex),
                       Field(description="Regular expression the whole value must match")] = None

    @field_validator("max_length")
    @classmethod
    def _max_not_below_min(cls, value: int | None, info: ValidationInfo) -> int | None:
        low = info.data.get("min_length")
        if value is not None and low is not None and value < low:
            raise ValueError("max_length must not be below min_length")
        return value


class NumberRules(_Rules):
    min: JsonNumber | None = None
    max: JsonNumber | None = None

    @field_validator("max")
    @classmethod
    def _max_not_below_min(cls, value: float | None, info: ValidationInfo) -> float | None:
        low = info.data.get("min")
        if value is not None and low is not None and value < low:
            raise ValueError("max must not be below min")
        return value


class DateRules(_Rules):
    min: IsoDate | None = None
    max: IsoDate | None = None

    @field_validator("max")
    @classmethod
    def _max_not_before_min(cls, value: date | None, info: ValidationInfo) -> date | None:
        low = info.data.get("min")
        if value is not None and low is not None and value < low:
            raise ValueError("max must not be before min")
        return value


class NoRules(_Rules):
    """Boolean, select, email and phone fields take no validation settings."""


RULES_BY_TYPE: dict[FieldType, type[_Rules]] = {
    FieldType.text: TextRules, FieldType.number: NumberRules, FieldType.date: DateRules,
    FieldType.boolean: NoRules, FieldType.select: NoRules, FieldType.email: NoRules, FieldType.phone: NoRules,
}
FieldRules = TextRules | NumberRules | DateRules | NoRules
OptionText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120),
                       AfterValidator(storable)]


def rules_for(field_type: FieldType | None, value: Any) -> Any:
    """Validate ``validation`` with the model of the sibling ``type`` (errors keep their place)."""
    if value is None or isinstance(value, _Rules):
        return value
    if field_type is None:
        raise ValueError("send the field's type together with its validation")
    return RULES_BY_TYPE[field_type].model_validate(value)


class FieldDefinitionCreate(InSchema):
    client_id: Id
    key: Code
    label: Name
    type: FieldType
    options: list[OptionText] = Field(default_factory=list, max_length=200,
                                      description="The choices of a `select` field (required there only)")
    validation: FieldRules | None = Field(None, description="text: min_length, max_length, pattern; "
                                                            "number: min, max; date: min, max; others: none")
    active: bool = True

    @field_validator("validation", mode="before")
    @classmethod
    def _rules_of_type(cls, value: Any, info: ValidationInfo) -> Any:
        return rules_for(info.data.get("type"), value)


class FieldDefinitionUpdate(InSchema):
    """The type of a field never changes (values already filled in depend on it); send it along
    with ``validation`` so the validation can be read for that type."""

    key: Code | None = None
    label: Name | None = None
    type: FieldType | None = None
    options: list[OptionText] | None = Field(None, max_length=200)
    validation: FieldRules | None = None
    active: bool | None = None

    @field_validator("validation", mode="before")
    @classmethod
    def _rules_of_type(cls, value: Any, info: ValidationInfo) -> Any:
        return rules_for(info.data.get("type"), value)


class FieldDefinitionOut(OutSchema):
    id: int
    client_id: int
    key: str
    label: str
    type: FieldType
    options: list[str]
    validation: dict[str, Any]
    active: bool


# --- funnels -----------------------------------------------------------------------------------

class StageIn(InSchema):
    id: Id | None = Field(None, description="An existing stage of this funnel to keep (renamed or moved)")
    name: Name


class FunnelCreate(InSchema):
    client_id: Id
    name: Name
    stages: list[StageIn] = Field(min_length=1, max_length=50, description="In pipeline order")
    active: bool = True


class FunnelUpdate(InSchema):
    """``stages`` replaces the whole ordered list; stages sent with their ``id`` keep it."""

    name: Name | None = None
    stages: list[StageIn] | None = Field(None, min_length=1, max_length=50)
    active: bool | None = None


class StageOut(OutSchema):
    id: int
    position: int
    name: str


class FunnelOut(OutSchema):
    id: int
    client_id: int
    name: str
    active: bool
    stages: list[StageOut]


# --- survey bots -------------------------------------------------------------------------------

QuestionText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000),
                         AfterValidator(storable)]
TimeoutMinutes = Annotated[int, Field(ge=1, le=10080, description="Minutes to wait for each answer (≤ 7 days)")]


class QuestionIn(InSchema):
    id: Id | None = Field(None, description="An existing question of this bot to keep")
    kind: QuestionKind = Field(description="rating (1–5), yes_no or text")
    text: QuestionText


class SurveyBotCreate(InSchema):
    client_id: Id
    name: Name
    questions: list[QuestionIn] = Field(min_length=1, max_length=20, description="Asked in this order")
    closing_message: LongText = ""
    timeout_minutes: TimeoutMinutes = 30
    active: bool = True


class SurveyBotUpdate(InSchema):
    name: Name | None = None
    questions: list[QuestionIn] | None = Field(None, min_length=1, max_length=20)
    closing_message: LongText | None = None
    timeout_minutes: TimeoutMinutes | None = None
    active: bool | None = None


class QuestionOut(OutSchema):
    id: int
    position: int
    kind: QuestionKind
    text: str


class SurveyBotOut(OutSchema):
    id: int
    client_id: int
    name: str
    closing_message: str
    timeout_minutes: int
    active: bool
    questions: list[QuestionOut]
