"""Phones as the directory stores them (E.164), read with the client's default region so a
Colombian ``3001234567`` is ``+573001234567``; shown back in the region's national format."""

from functools import lru_cache

import phonenumbers

DEFAULT_REGION = "CO"


def to_e164(value: str, region: str | None = DEFAULT_REGION) -> str:
    """``ValueError`` for anything that is not a valid number (with the region's country code
    assumed when the number has none)."""
    if not isinstance(value, str) or not value.strip() or len(value) > 32:
        raise ValueError("invalid phone")
    return _e164(value.strip(), (region or DEFAULT_REGION).upper())


@lru_cache(maxsize=50_000)
def _e164(value: str, region: str) -> str:
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError("invalid phone") from exc
    if not phonenumbers.is_valid_number(number):
        raise ValueError("invalid phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def maybe_e164(value: str, region: str | None) -> str | None:
    try:
        return to_e164(value, region)
    except ValueError:
        return None


def display(e164: str | None, region: str | None = DEFAULT_REGION) -> str:
    """National format for numbers of the client's region, international for the others."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    region = (region or DEFAULT_REGION).upper()
    if phonenumbers.region_code_for_number(number) == region:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def is_region(code: str) -> bool:
    return code.upper() in phonenumbers.SUPPORTED_REGIONS
