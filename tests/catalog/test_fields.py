"""What an agent may type into a dynamic field, and how it is stored (``validate_field_value``)."""

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest

from atiende.catalog.fields import validate_field_value
from atiende.catalog.models import FieldType
from atiende.errors import Invalid


@dataclass
class Definition:
    type: FieldType
    key: str = "campo"
    options: list[Any] = field(default_factory=list)
    validation: dict[str, Any] = field(default_factory=dict)


def refused(definition: Definition, value: Any, **kwargs: Any) -> str:
    with pytest.raises(Invalid) as caught:
        validate_field_value(definition, value, **kwargs)
    assert caught.value.field == definition.key and caught.value.status_code == 422
    return caught.value.message


def test_text_is_stripped_and_checked_against_length_and_format() -> None:
    document = Definition(FieldType.text, key="documento",
                          validation={"min_length": 5, "max_length": 10, "pattern": r"[0-9]+"})
    assert validate_field_value(document, "  1020304 ") == "1020304"
    assert "At least 5" in refused(document, "123")
    assert "At most 10" in refused(document, "12345678901")
    assert "format" in refused(document, "12a45")  # the whole value must match
    assert refused(document, 1020304) == "Must be text"
    assert "NUL" in refused(document, "12\x0045")
    assert "At most 4096" in refused(Definition(FieldType.text), "x" * 5000)


def test_blank_is_empty_and_only_refused_when_required() -> None:
    for kind in FieldType:
        assert validate_field_value(Definition(kind), None) is None
        assert validate_field_value(Definition(kind), "   ") is None
        assert refused(Definition(kind), "", required=True) == "This field is required"


def test_numbers_accept_a_decimal_comma_and_respect_min_and_max() -> None:
    amount = Definition(FieldType.number, key="monto", validation={"min": 0, "max": 1000.5})
    assert validate_field_value(amount, 12) == 12 and isinstance(validate_field_value(amount, "12"), int)
    assert validate_field_value(amount, "12,5") == 12.5
    assert validate_field_value(amount, " 1e2 ") == 100
    assert validate_field_value(amount, 1000.5) == 1000.5
    assert refused(amount, -1) == "Must be at least 0"
    assert refused(amount, "1000.51") == "Must be at most 1000.5"
    for bad in ("doce", "1.234,5", "NaN", "inf", True, [1], float("nan"), 10**400, "1" * 100):
        assert refused(Definition(FieldType.number), bad) == "Must be a number", bad


def test_dates_are_iso_and_within_the_range() -> None:
    due = Definition(FieldType.date, key="vence", validation={"min": "2026-01-01", "max": "2026-12-31"})
    assert validate_field_value(due, "2026-02-28") == "2026-02-28"
    assert validate_field_value(due, date(2026, 5, 1)) == "2026-05-01"
    assert refused(due, "2025-12-31") == "Must be on or after 2026-01-01"
    assert refused(due, "2027-01-01") == "Must be on or before 2026-12-31"
    for bad in ("2026-02-30", "28/02/2026", "20260228", "2026-02-28T10:00"):
        assert refused(due, bad) == "Must be a date as YYYY-MM-DD", bad
    assert refused(due, 20260228) == "Must be text"


def test_booleans_take_yes_and_no_in_spanish_and_english() -> None:
    accepted = Definition(FieldType.boolean, key="acepta")
    assert [validate_field_value(accepted, v) for v in (True, "sí", "Si", "true", "1")] == [True] * 5
    assert [validate_field_value(accepted, v) for v in (False, "no", "FALSE", "0")] == [False] * 4
    assert refused(accepted, "quizás") == "Must be yes or no"
    assert refused(accepted, 1) == "Must be yes or no"


def test_select_values_must_be_an_option_and_keep_its_spelling() -> None:
    reason = Definition(FieldType.select, key="motivo", options=["Consulta", "Reclamo", "Pago"])
    assert validate_field_value(reason, "Reclamo") == "Reclamo"
    assert validate_field_value(reason, " reclamo ") == "Reclamo"
    assert refused(reason, "Otro") == "Must be one of the options: Consulta, Reclamo, Pago"
    assert refused(reason, ["Pago"]) == "Must be text"


def test_emails_are_normalized_and_checked_without_network() -> None:
    email = Definition(FieldType.email, key="correo")
    assert validate_field_value(email, " Ana.Gomez@Example.COM ") == "Ana.Gomez@example.com"
    for bad in ("ana", "ana@", "@example.com", "ana@exa mple.com", "a" * 250 + "@example.com"):
        assert refused(email, bad) == "Not a valid e-mail address", bad


def test_phones_are_stored_in_e164() -> None:
    phone = Definition(FieldType.phone, key="celular")
    assert validate_field_value(phone, "+57 300 123 4567") == "+573001234567"
    assert validate_field_value(phone, "300 123 4567", default_region="CO") == "+573001234567"
    assert validate_field_value(phone, "(212) 555-0123", default_region="US") == "+12125550123"
    assert "country code" in refused(phone, "300 123 4567")
    for bad in ("+57 123", "hola", "+" + "9" * 50):
        assert refused(phone, bad, default_region="CO").startswith("Not a valid phone number"), bad
