"""Checking the value an agent, a bot or an import fills into a dynamic field: the one validator
(the close, ``PATCH …/fields``, the console and imports all call it).

``validate_field_value`` is pure: it takes the definition and the raw value (JSON-ish: what a form
or an API body carries) and returns the value normalized for storage — text stripped, numbers as
int or float (also written the Spanish way, "12,5"), yes/no also as "sí"/"no", dates as ISO
strings, e-mails normalized, phones in E.164, select values as the option's exact spelling — or
raises ``FieldValueInvalid`` naming the field, with a code per rule (``field.min_length``…) and
the field's ``label`` and the rule's bound ``n`` in ``extra``, so every screen words it alike.
"""

import math
import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from atiende.catalog.models import FieldType
from atiende.catalog.schemas import MAX_NUMBER, MAX_TEXT_LENGTH, DateRules, NumberRules, TextRules
from atiende.errors import Invalid
from atiende.kit.schemas import storable

FieldValue = str | int | float | bool | None
TRUE_WORDS = {"true", "1", "si", "sí", "yes", "verdadero"}
FALSE_WORDS = {"false", "0", "no", "falso"}


class FieldDefinitionLike(Protocol):
    key: str
    type: FieldType
    options: list[Any]
    validation: dict[str, Any]


class FieldValueInvalid(Invalid):
    code = "field.invalid"


def validate_field_value(definition: FieldDefinitionLike, value: Any, *, required: bool = False,
                         default_region: str | None = None, field: str | None = None) -> FieldValue:
    """The normalized value, or ``FieldValueInvalid`` naming ``field`` (default: the field's key).
    Blank means None (allowed unless ``required``). ``default_region`` (e.g. "CO") reads phone
    numbers written without "+"."""
    name = field or definition.key
    label = getattr(definition, "label", None)
    shown = {"label": label or definition.key}
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise FieldValueInvalid(f"{label}: this field is required" if label else "This field is required",
                                    field=name, code="field.required", extra={**shown, "n": ""})
        return None
    check = _CHECKS[FieldType(definition.type)]
    try:
        return check(definition, value, default_region)
    except _Refused as refused:
        raise FieldValueInvalid(f"{label}: {refused}" if label else str(refused), field=name,
                                code=f"field.{refused.rule}", extra={**shown, "n": refused.n}) from None


class _Refused(Exception):
    def __init__(self, message: str, rule: str, n: object = "") -> None:
        super().__init__(message)
        self.rule = rule
        self.n = str(n)


def _text_of(value: Any) -> str:
    if not isinstance(value, str):
        raise _Refused("Must be text", "text")
    try:
        storable(value)
    except ValueError as exc:
        raise _Refused(f"Must be text that {exc}", "text") from None
    return value.strip()


def _text(definition: FieldDefinitionLike, value: Any, _region: str | None) -> str:
    text = _text_of(value)
    rules = TextRules.model_validate(definition.validation or {})
    if len(text) > (rules.max_length or MAX_TEXT_LENGTH):
        raise _Refused(f"At most {rules.max_length or MAX_TEXT_LENGTH} characters", "max_length",
                       rules.max_length or MAX_TEXT_LENGTH)
    if rules.min_length is not None and len(text) < rules.min_length:
        raise _Refused(f"At least {rules.min_length} characters", "min_length", rules.min_length)
    if rules.pattern is not None and re.fullmatch(rules.pattern, text) is None:
        raise _Refused("Does not have the expected format", "pattern")
    return text


def _number(definition: FieldDefinitionLike, value: Any, _region: str | None) -> int | float:
    if isinstance(value, bool):
        raise _Refused("Must be a number", "number")
    if isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(str(value)) if math.isfinite(value) else None
    elif isinstance(value, str):
        number = _parse_decimal(_text_of(value)[:64])
    else:
        number = None
    if number is None or not number.is_finite() or abs(number) > MAX_NUMBER:
        raise _Refused("Must be a number", "number")
    rules = NumberRules.model_validate(definition.validation or {})
    if rules.min is not None and number < Decimal(str(rules.min)):
        raise _Refused(f"Must be at least {_show(rules.min)}", "min", _show(rules.min))
    if rules.max is not None and number > Decimal(str(rules.max)):
        raise _Refused(f"Must be at most {_show(rules.max)}", "max", _show(rules.max))
    return int(number) if number == number.to_integral_value() else float(number)


def _parse_decimal(text: str) -> Decimal | None:
    """``12.5``, and Spanish ``12,5``; thousands separators are not guessed."""
    if "," in text and "." not in text and text.count(",") == 1:
        text = text.replace(",", ".")
    if not re.fullmatch(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]{1,3})?", text):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def _show(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


def _date(definition: FieldDefinitionLike, value: Any, _region: str | None) -> str:
    if isinstance(value, date) and not isinstance(value, datetime):
        day = value
    else:
        text = _text_of(value)
        try:
            day = date.fromisoformat(text) if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text) else None
        except ValueError:
            day = None
    if day is None:
        raise _Refused("Must be a date as YYYY-MM-DD", "date")
    rules = DateRules.model_validate(definition.validation or {})
    if rules.min is not None and day < rules.min:
        raise _Refused(f"Must be on or after {rules.min.isoformat()}", "after", rules.min.isoformat())
    if rules.max is not None and day > rules.max:
        raise _Refused(f"Must be on or before {rules.max.isoformat()}", "before", rules.max.isoformat())
    return day.isoformat()


def _boolean(_definition: FieldDefinitionLike, value: Any, _region: str | None) -> bool:
    if isinstance(value, bool):
        return value
    word = value.strip().lower() if isinstance(value, str) else None
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise _Refused("Must be yes or no", "boolean")


def _select(definition: FieldDefinitionLike, value: Any, _region: str | None) -> str:
    text = _text_of(value)
    for option in definition.options:
        if option == text:
            return option
    for option in definition.options:
        if str(option).casefold() == text.casefold():
            return str(option)
    shown = ", ".join(str(o) for o in definition.options[:20])
    raise _Refused("Must be one of the options: " + shown, "select", shown)


def _email(_definition: FieldDefinitionLike, value: Any, _region: str | None) -> str:
    text = _text_of(value)
    if len(text) > 254:
        raise _Refused("Not a valid e-mail address", "email")
    try:
        return validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError:
        raise _Refused("Not a valid e-mail address", "email") from None


def _phone(_definition: FieldDefinitionLike, value: Any, region: str | None) -> str:
    text = _text_of(value)
    if len(text) > 40:
        raise _Refused("Not a valid phone number", "phone")
    try:
        number = phonenumbers.parse(text, None if text.startswith("+") else region)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        hint = "" if region or text.startswith("+") else " (write it with its country code, e.g. +57…)"
        raise _Refused("Not a valid phone number" + hint, "phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


_CHECKS = {FieldType.text: _text, FieldType.number: _number, FieldType.date: _date, FieldType.boolean: _boolean,
           FieldType.select: _select, FieldType.email: _email, FieldType.phone: _phone}
