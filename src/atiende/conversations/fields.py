"""Typed values of a campaign's dynamic fields (tab *Campos*), checked when an agent fills them.

``validate_field_value`` takes a ``FieldDefinition`` and what the agent sent (JSON types taken at
their word: a number is a JSON number, a boolean a JSON boolean) and returns the value to store,
or raises ``ValueError`` saying what is wrong. Validation settings: text ``min_length``,
``max_length``, ``pattern`` (whole value); number ``min``, ``max``; date ``min``, ``max``.
"""

import math
import re
from datetime import date
from functools import lru_cache
from typing import Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from atiende.catalog.models import FieldDefinition, FieldType

MAX_TEXT = 4096


def validate_field_value(definition: FieldDefinition, value: Any) -> Any:
    check = _CHECKS[definition.type]
    return check(value, definition.validation or {}, definition.options or [])


def _text(value: Any, rules: dict[str, Any], _options: list[Any]) -> str:
    if not isinstance(value, str):
        raise ValueError("must be text")
    value = value.strip()
    if "\x00" in value or len(value) > MAX_TEXT:
        raise ValueError(f"must be text of at most {MAX_TEXT} characters")
    if rules.get("min_length") is not None and len(value) < rules["min_length"]:
        raise ValueError(f"must have at least {rules['min_length']} characters")
    if rules.get("max_length") is not None and len(value) > rules["max_length"]:
        raise ValueError(f"must have at most {rules['max_length']} characters")
    if rules.get("pattern") and re.fullmatch(rules["pattern"], value) is None:
        raise ValueError("does not have the expected format")
    return value


def _number(value: Any, rules: dict[str, Any], _options: list[Any]) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError("must be a number")
    if rules.get("min") is not None and value < rules["min"]:
        raise ValueError(f"must be at least {rules['min']}")
    if rules.get("max") is not None and value > rules["max"]:
        raise ValueError(f"must be at most {rules['max']}")
    return value


def _date(value: Any, rules: dict[str, Any], _options: list[Any]) -> str:
    try:
        day = date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else None
    except ValueError:
        day = None
    if day is None:
        raise ValueError("must be a date as YYYY-MM-DD")
    if rules.get("min") and day < date.fromisoformat(str(rules["min"])):
        raise ValueError(f"must be on or after {rules['min']}")
    if rules.get("max") and day > date.fromisoformat(str(rules["max"])):
        raise ValueError(f"must be on or before {rules['max']}")
    return day.isoformat()


def _boolean(value: Any, _rules: dict[str, Any], _options: list[Any]) -> bool:
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


def _select(value: Any, _rules: dict[str, Any], options: list[Any]) -> str:
    if not isinstance(value, str) or value not in options:
        raise ValueError("must be one of: " + ", ".join(str(o) for o in options))
    return value


def _email(value: Any, _rules: dict[str, Any], _options: list[Any]) -> str:
    if not isinstance(value, str) or len(value) > 254:
        raise ValueError("must be an email address")
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValueError("must be an email address") from exc


def _phone(value: Any, _rules: dict[str, Any], _options: list[Any]) -> str:
    return normalise_phone(value)


def normalise_phone(value: Any) -> str:
    """E.164 (``+573001234567``) from any international format; ``ValueError`` otherwise."""
    if not isinstance(value, str) or len(value) > 32:
        raise ValueError("must be a phone number in international format, e.g. +573001234567")
    return _e164(value)


@lru_cache(maxsize=50_000)
def _e164(value: str) -> str:
    """Cached: every inbound message carries its contact's number, and parsing it is the costliest
    step of accepting a message (a ValueError is not cached; bad numbers are rare)."""
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException as exc:
        raise ValueError("must be a phone number in international format, e.g. +573001234567") from exc
    if not phonenumbers.is_possible_number(number) or not phonenumbers.is_valid_number(number):
        raise ValueError("is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


_CHECKS = {FieldType.text: _text, FieldType.number: _number, FieldType.date: _date, FieldType.boolean: _boolean,
           FieldType.select: _select, FieldType.email: _email, FieldType.phone: _phone}
