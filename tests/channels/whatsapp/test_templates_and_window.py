"""Which parameters a template takes, building its components, and the 24-hour window."""

from datetime import UTC, datetime, timedelta

import pytest

from atiende.channels.whatsapp.templates import (
    TemplateParameterError, TemplateValues, build_components, parse_templates, preview,
)
from atiende.channels.whatsapp.window import window_closes_at, window_is_open
from tests.channels.fakes.data import load

TEMPLATES = {t.name: t for t in parse_templates(load("whatsapp_templates.json"))}


def test_the_template_list_tells_header_body_and_button_parameters() -> None:
    order = TEMPLATES["order_update"]
    assert (order.approved, order.header_format, order.body_parameters) == (True, "IMAGE", ("1", "2"))
    assert [(b.index, b.parameters) for b in order.url_buttons] == [(1, ("1",))]
    hello = TEMPLATES["hello_world"]
    assert (hello.header_format, hello.header_parameters, hello.body_parameters, hello.url_buttons) == (
        "TEXT", (), (), ())
    assert TEMPLATES["retomar_conversacion"].body_parameters == ("nombre", "caso")
    assert not TEMPLATES["promo_rechazada"].approved


def test_named_parameters_are_sent_with_their_names() -> None:
    components = build_components(TEMPLATES["retomar_conversacion"], TemplateValues(body=["Ana", "8812"]))
    assert components == [{"type": "body", "parameters": [
        {"type": "text", "parameter_name": "nombre", "text": "Ana"},
        {"type": "text", "parameter_name": "caso", "text": "8812"}]}]


def test_a_template_without_parameters_has_no_components() -> None:
    assert build_components(TEMPLATES["hello_world"], TemplateValues()) == []


def test_a_document_header_can_carry_the_file_name() -> None:
    template = TEMPLATES["order_update"]
    doc = type(template)(name="factura", language="es", status="APPROVED", category="UTILITY",
                         components=({"type": "HEADER", "format": "DOCUMENT"}, {"type": "BODY", "text": "Tu factura"}))
    assert build_components(doc, TemplateValues(header_media_id="77", header_filename="f.pdf")) == [
        {"type": "header", "parameters": [{"type": "document", "document": {"id": "77", "filename": "f.pdf"}}]}]
    assert template.name == "order_update"


@pytest.mark.parametrize(("values", "field"), [
    (TemplateValues(body=["Ana"], header_media_url="https://x.example/a.jpg", buttons=["1"]), "body"),
    (TemplateValues(body=["Ana", " "], header_media_url="https://x.example/a.jpg", buttons=["1"]), "body"),
    (TemplateValues(body=["Ana", "A-1"], buttons=["1"]), "header_media_url"),
    (TemplateValues(body=["Ana", "A-1"], header_media_url="https://x.example/a.jpg"), "buttons"),
    (TemplateValues(body=["Ana", "A-1"], header_media_url="https://x.example/a.jpg", buttons=[""]), "buttons"),
])
def test_missing_or_extra_parameters_name_the_field(values: TemplateValues, field: str) -> None:
    with pytest.raises(TemplateParameterError) as raised:
        build_components(TEMPLATES["order_update"], values)
    assert raised.value.field == field


def test_the_preview_is_the_body_the_customer_reads() -> None:
    assert preview(TEMPLATES["order_update"], TemplateValues(body=["Ana", "A-1234"])) == \
        "Hola Ana, tu pedido A-1234 va en camino."


def test_free_form_messages_only_within_24_hours_of_the_customers_last_message() -> None:
    last = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
    assert window_is_open(last, last + timedelta(hours=23, minutes=59))
    assert not window_is_open(last, last + timedelta(hours=24))
    assert not window_is_open(None, last)
    assert window_closes_at(last) == datetime(2026, 1, 6, 10, 0, tzinfo=UTC)
