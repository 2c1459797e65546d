"""Phone numbers as the engine stores them (E.164), read once per inbound message.

Dynamic fields are checked by ``catalog.fields.validate_field_value``, the one validator.
"""

from functools import lru_cache
from typing import Any

import phonenumbers


def normalise_phone(value: Any, region: str | None = None) -> str:
    """E.164 (``+573001234567``) from any international format, or from a national one
    (``300 123 4567``) when ``region`` (the client's country, "CO") is given; ``ValueError`` otherwise."""
    if not isinstance(value, str) or len(value) > 32:
        raise ValueError("must be a phone number in international format, e.g. +573001234567")
    return _e164(value, region)


@lru_cache(maxsize=50_000)
def _e164(value: str, region: str | None = None) -> str:
    """Cached: every inbound message carries its contact's number, and parsing it is the costliest
    step of accepting a message (a ValueError is not cached; bad numbers are rare)."""
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError("must be a phone number in international format, e.g. +573001234567") from exc
    if not phonenumbers.is_possible_number(number) or not phonenumbers.is_valid_number(number):
        raise ValueError("is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
