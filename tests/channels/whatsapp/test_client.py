"""The Graph API client against the local fake: the exact requests, Meta's answers and errors."""

from collections.abc import AsyncIterator

import httpx
import pytest

from atiende.channels.whatsapp.client import Recipient, TooLarge, WhatsAppClient, split_text
from atiende.channels.whatsapp.errors import WINDOW_CLOSED_REASON, ErrorKind, GraphError
from atiende.channels.whatsapp.ratelimit import RateLimiter
from atiende.channels.whatsapp.templates import TemplateValues, build_components, parse_templates
from tests.channels.fakes.data import load
from tests.channels.fakes.meta import ACCESS_TOKEN, API_VERSION, BUSINESS_ACCOUNT_ID, PHONE_NUMBER_ID, FakeGraph

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF" + b"\x00" * 200
ANA = Recipient(external_id="573001234567", phone="+573001234567")


@pytest.fixture
async def client(graph: FakeGraph) -> AsyncIterator[WhatsAppClient]:
    async with httpx.AsyncClient() as http:
        yield WhatsAppClient(http, graph_url=graph.base_url, api_version=API_VERSION,  # type: ignore[attr-defined]
                             phone_number_id=PHONE_NUMBER_ID, access_token=ACCESS_TOKEN)


async def test_a_text_goes_to_the_numbers_messages_endpoint_with_the_bearer_token(
        client: WhatsAppClient, graph: FakeGraph) -> None:
    ids = await client.send_text(ANA, "Hola Ana, ¿en qué te ayudo?")
    (request,) = graph.requests
    assert request.method == "POST"
    assert request.path == f"/{API_VERSION}/{PHONE_NUMBER_ID}/messages"
    assert request.headers["authorization"] == f"Bearer {ACCESS_TOKEN}"
    assert request.headers["content-type"] == "application/json"
    assert request.json == {"messaging_product": "whatsapp", "recipient_type": "individual", "to": "573001234567",
                            "type": "text", "text": {"preview_url": False, "body": "Hola Ana, ¿en qué te ayudo?"}}
    assert len(ids) == 1 and ids[0].startswith("wamid.")
    assert graph.problems == []


async def test_a_reply_quotes_the_customers_message(client: WhatsAppClient, graph: FakeGraph) -> None:
    await client.send_text(ANA, "Sí, en azul", reply_to="wamid.IN1")
    assert graph.sent()[0]["context"] == {"message_id": "wamid.IN1"}


async def test_a_user_without_shared_phone_is_written_to_by_business_scoped_id(
        client: WhatsAppClient, graph: FakeGraph) -> None:
    await client.send_text(Recipient(external_id="US.13491208655302741918"), "Hola")
    body = graph.sent()[0]
    assert body["recipient"] == "US.13491208655302741918" and "to" not in body


async def test_text_over_4096_characters_is_sent_in_parts_cut_at_spaces(
        client: WhatsAppClient, graph: FakeGraph) -> None:
    text = ("palabra " * 1100).strip()  # 8799 characters
    ids = await client.send_text(ANA, text, reply_to="wamid.IN1")
    bodies = [b["text"]["body"] for b in graph.sent()]
    assert len(ids) == len(bodies) == 3
    assert all(len(b) <= 4096 for b in bodies)
    assert " ".join(bodies) == text
    assert "context" in graph.sent()[0] and "context" not in graph.sent()[1]
    assert graph.problems == []


def test_splitting_prefers_paragraphs_and_keeps_short_text_whole() -> None:
    assert split_text("corto") == ["corto"]
    assert split_text("a" * 10 + "\n\n" + "b" * 5, limit=12) == ["a" * 10, "b" * 5]
    assert split_text("x" * 25, limit=10) == ["x" * 10, "x" * 10, "x" * 5]


@pytest.mark.parametrize(("media_type", "kwargs", "expected"), [
    ("image", {"link": "https://cdn.example.com/a.jpg", "caption": "Tu factura"},
     {"link": "https://cdn.example.com/a.jpg", "caption": "Tu factura"}),
    ("document", {"media_id": "1013859600285441", "filename": "factura.pdf", "caption": "Adjunto"},
     {"id": "1013859600285441", "filename": "factura.pdf", "caption": "Adjunto"}),
    ("audio", {"link": "https://cdn.example.com/nota.ogg", "caption": "ignored for audio"},
     {"link": "https://cdn.example.com/nota.ogg"}),
])
async def test_media_go_by_link_or_uploaded_id_with_only_the_fields_meta_takes(
        client: WhatsAppClient, graph: FakeGraph, media_type: str, kwargs: dict, expected: dict) -> None:
    await client.send_media(ANA, media_type, **kwargs)
    body = graph.sent()[0]
    assert body["type"] == media_type and body[media_type] == expected
    assert graph.problems == []


async def test_an_upload_is_multipart_and_returns_the_media_id(client: WhatsAppClient, graph: FakeGraph) -> None:
    media_id = await client.upload_media(JPEG, "image/jpeg", "foto.jpg")
    request = graph.requests[-1]
    assert request.path == f"/{API_VERSION}/{PHONE_NUMBER_ID}/media"
    assert request.form == {"messaging_product": "whatsapp", "type": "image/jpeg"}
    assert request.file == ("foto.jpg", JPEG, "image/jpeg")
    assert graph.media[media_id].data == JPEG


async def test_a_template_with_an_image_header_body_and_url_button(client: WhatsAppClient, graph: FakeGraph) -> None:
    template = next(t for t in parse_templates(load("whatsapp_templates.json")) if t.name == "order_update")
    components = build_components(template, TemplateValues(
        body=["Ana", "A-1234"], header_media_url="https://cdn.example.com/pedido.jpg", buttons=["A-1234"]))
    await client.send_template(ANA, template.name, template.language, components)
    assert graph.sent()[0] == {
        "messaging_product": "whatsapp", "recipient_type": "individual", "to": "573001234567", "type": "template",
        "template": {"name": "order_update", "language": {"code": "es"}, "components": [
            {"type": "header", "parameters": [{"type": "image", "image": {"link": "https://cdn.example.com/pedido.jpg"}}]},
            {"type": "body", "parameters": [{"type": "text", "text": "Ana"}, {"type": "text", "text": "A-1234"}]},
            {"type": "button", "sub_type": "url", "index": "1", "parameters": [{"type": "text", "text": "A-1234"}]}]}}
    assert graph.problems == []


@pytest.mark.parametrize(("code", "message", "status", "kind"), [
    (131047, "Re-engagement message", 400, ErrorKind.window_closed),
    (130429, "Rate limit hit", 400, ErrorKind.rate_limited),
    (131056, "(Business Account, Consumer Account) pair rate limit hit", 400, ErrorKind.rate_limited),
    (131000, "Something went wrong", 500, ErrorKind.transient),
    (131026, "Message Undeliverable", 400, ErrorKind.permanent),
    (100, "(#100) Invalid parameter", 400, ErrorKind.permanent),
])
async def test_graph_errors_are_classified(client: WhatsAppClient, graph: FakeGraph, code: int, message: str,
                                           status: int, kind: ErrorKind) -> None:
    graph.fail_next(code, message, "details from Meta", status=status)
    with pytest.raises(GraphError) as raised:
        await client.send_text(ANA, "Hola")
    assert raised.value.code == code and raised.value.kind == kind
    if kind == ErrorKind.window_closed:
        assert raised.value.reason.startswith(WINDOW_CLOSED_REASON)
    else:
        assert raised.value.reason == f"WhatsApp {code}: {message} — details from Meta"


async def test_a_wrong_token_is_a_permanent_error_with_metas_words(graph: FakeGraph) -> None:
    async with httpx.AsyncClient() as http:
        client = WhatsAppClient(http, graph_url=graph.base_url, api_version=API_VERSION,  # type: ignore[attr-defined]
                                phone_number_id=PHONE_NUMBER_ID, access_token="wrong")
        with pytest.raises(GraphError) as raised:
            await client.send_text(ANA, "Hola")
    assert (raised.value.code, raised.value.http_status, raised.value.kind) == (190, 401, ErrorKind.permanent)
    assert "Invalid OAuth access token" in raised.value.reason


async def test_an_unreachable_api_is_transient() -> None:
    async with httpx.AsyncClient() as http:
        client = WhatsAppClient(http, graph_url="http://127.0.0.1:9", api_version=API_VERSION,
                                phone_number_id=PHONE_NUMBER_ID, access_token=ACCESS_TOKEN)
        with pytest.raises(GraphError) as raised:
            await client.send_text(ANA, "Hola")
    assert raised.value.kind == ErrorKind.transient


async def test_received_media_is_fetched_by_id_then_downloaded_with_the_token(
        client: WhatsAppClient, graph: FakeGraph) -> None:
    graph.add_media("2754859441498128", JPEG, "image/jpeg")
    info = await client.media_info("2754859441498128")
    assert (info.mime_type, info.file_size) == ("image/jpeg", len(JPEG))
    data, content_type = await client.download(info.url, max_bytes=10_000)
    assert data == JPEG and content_type == "image/jpeg"
    assert [r.headers["authorization"] for r in graph.requests] == [f"Bearer {ACCESS_TOKEN}"] * 2
    assert graph.requests[0].path == f"/{API_VERSION}/2754859441498128"


async def test_a_download_over_the_limit_is_refused(client: WhatsAppClient, graph: FakeGraph) -> None:
    graph.add_media("1", JPEG, "image/jpeg")
    info = await client.media_info("1")
    with pytest.raises(TooLarge):
        await client.download(info.url, max_bytes=100)


async def test_an_expired_media_id_is_a_permanent_error(client: WhatsAppClient, graph: FakeGraph) -> None:
    with pytest.raises(GraphError) as raised:
        await client.media_info("999")
    assert raised.value.kind == ErrorKind.permanent


async def test_the_template_list_is_read_page_by_page(client: WhatsAppClient, graph: FakeGraph) -> None:
    graph.templates = load("whatsapp_templates.json")["data"] * 30  # 120 templates: two pages of 100
    templates = await client.list_templates(BUSINESS_ACCOUNT_ID)
    assert len(templates) == 120
    pages = [r for r in graph.requests if r.path.endswith("/message_templates")]
    assert [r.query.get("after") for r in pages] == [None, "100"]
    assert pages[0].path == f"/{API_VERSION}/{BUSINESS_ACCOUNT_ID}/message_templates"
    assert pages[0].query["fields"] == "name,status,language,category,components"


async def test_the_rate_limiter_spaces_sends_per_number(graph: FakeGraph) -> None:
    now = [0.0]
    waits: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    limiter = RateLimiter(2, monotonic=lambda: now[0], sleep=fake_sleep)
    async with httpx.AsyncClient() as http:
        client = WhatsAppClient(http, graph_url=graph.base_url, api_version=API_VERSION,  # type: ignore[attr-defined]
                                phone_number_id=PHONE_NUMBER_ID, access_token=ACCESS_TOKEN, limiter=limiter)
        for _ in range(4):
            await client.send_text(ANA, "hola")
    assert waits == [0.5, 0.5]  # a burst of 2, then one every half second
    assert limiter.reserve("another-number") == 0.0
