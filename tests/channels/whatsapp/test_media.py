"""Media sent by customers: downloaded at once by id with the bearer token, kept under the media
folder, shown in the conversation; too large or mistyped files are refused with a note."""

import httpx
import pytest

from atiende.channels.protocol import AttachmentKind
from atiende.jobs import Worker
from tests.channels.fakes.data import load, raw
from tests.channels.fakes.meta import ACCESS_TOKEN, API_VERSION, FakeGraph
from tests.channels.fakes.setup import whatsapp_center
from tests.channels.whatsapp.test_webhook import deliver, stored
from tests.conversations.scenario import Scenario
from tests.factories import Factory
from tests.media import download

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 4
OGG = b"OggS\x00\x02" + b"\x01" * 500


@pytest.fixture
async def center(http: httpx.AsyncClient, factory: Factory, graph: FakeGraph) -> tuple[Scenario, int]:
    scenario, channel_id = await whatsapp_center(http, factory)
    await scenario.hire(1)
    return scenario, channel_id


async def test_a_photo_is_downloaded_and_shown_in_the_conversation(
        http: httpx.AsyncClient, center: tuple[Scenario, int], graph: FakeGraph, worker: Worker) -> None:
    scenario, channel_id = center
    graph.add_media("2754859441498128", JPEG, "image/jpeg")
    assert (await deliver(http, channel_id, raw("whatsapp_image.json"))).status_code == 200
    (message,) = await stored(scenario)
    (attachment,) = message.attachments
    assert attachment["kind"] == "image" and attachment["mime_type"] == "image/jpeg"
    assert message.text == "This is a caption"
    before = await download(http, scenario.supervisor.headers, message.conversation_id, attachment["url"])
    assert before.status_code == 404  # not downloaded yet: the answer to Meta did not wait for it
    await worker.run_due()
    paths = [r.path for r in graph.requests]
    assert paths == [f"/{API_VERSION}/2754859441498128", "/whatsapp_business/attachments/"]
    assert all(r.headers["authorization"] == f"Bearer {ACCESS_TOKEN}" for r in graph.requests)
    served = await download(http, scenario.supervisor.headers, message.conversation_id, attachment["url"])
    assert served.status_code == 200 and served.content == JPEG
    assert served.headers["content-type"] == "image/jpeg"
    assert served.headers["x-content-type-options"] == "nosniff"
    detail = await scenario.detail(message.conversation_id)
    assert detail["messages"][0]["attachments"] == [attachment]


async def test_a_voice_note_is_kept_as_a_voice_note(
        http: httpx.AsyncClient, center: tuple[Scenario, int], graph: FakeGraph, worker: Worker) -> None:
    scenario, channel_id = center
    graph.add_media("1003383421387256", OGG, "audio/ogg; codecs=opus")
    await deliver(http, channel_id, raw("whatsapp_voice.json"))
    await worker.run_due()
    (message,) = await stored(scenario)
    (attachment,) = message.attachments
    assert attachment["kind"] == AttachmentKind.voice and attachment["url"].endswith(".ogg")
    assert (await download(http, scenario.supervisor.headers, message.conversation_id, attachment["url"])).content == OGG


async def test_receiving_the_same_media_twice_downloads_it_once(
        http: httpx.AsyncClient, center: tuple[Scenario, int], graph: FakeGraph, worker: Worker) -> None:
    _, channel_id = center
    graph.add_media("2754859441498128", JPEG, "image/jpeg")
    await deliver(http, channel_id, raw("whatsapp_image.json"))
    await worker.run_due()
    await deliver(http, channel_id, raw("whatsapp_image.json"))
    await worker.run_due()
    assert len([r for r in graph.requests if r.path.endswith("2754859441498128")]) == 1


@pytest.mark.parametrize(("stored_as", "reason"), [
    ((b"MZ\x90\x00" + b"\x00" * 100, "image/jpeg", None), "does not look like image/jpeg"),
    ((b"%PDF-1.7" + b"\x00" * 100, "image/jpeg", None), "does not match"),
    ((JPEG, "application/x-msdownload", None), "not accepted"),
])
async def test_a_file_that_is_not_what_it_claims_is_dropped_with_a_note(
        http: httpx.AsyncClient, center: tuple[Scenario, int], graph: FakeGraph, worker: Worker,
        stored_as: tuple[bytes, str, None], reason: str) -> None:
    scenario, channel_id = center
    graph.add_media("2754859441498128", *stored_as)
    await deliver(http, channel_id, raw("whatsapp_image.json"))
    await worker.run_due()
    (message,) = await stored(scenario)
    assert message.attachments == []
    assert message.text.startswith("This is a caption\n[adjunto no disponible: ") and reason in message.text


async def test_a_file_over_the_size_limit_is_not_downloaded(
        http: httpx.AsyncClient, center: tuple[Scenario, int], graph: FakeGraph, worker: Worker, settings) -> None:  # type: ignore[no-untyped-def]
    scenario, channel_id = center
    graph.add_media("2754859441498128", JPEG + b"\x00" * (2 * 1024 * 1024), "image/jpeg")
    previous, settings.media_max_bytes = settings.media_max_bytes, 1024 * 1024
    try:
        await deliver(http, channel_id, raw("whatsapp_image.json"))
        await worker.run_due()
    finally:
        settings.media_max_bytes = previous
    (message,) = await stored(scenario)
    assert message.attachments == [] and "supera 1 MB" in message.text
    assert [r.path for r in graph.requests] == [f"/{API_VERSION}/2754859441498128"]  # refused by its declared size


async def test_an_expired_media_id_is_noted_not_retried_forever(
        http: httpx.AsyncClient, center: tuple[Scenario, int], graph: FakeGraph, worker: Worker) -> None:
    scenario, channel_id = center
    await deliver(http, channel_id, raw("whatsapp_document.json"))
    await worker.run_due()
    (message,) = await stored(scenario)
    assert message.attachments == [] and "Media not found or expired" in message.text
    assert await worker.run_due() == 0


async def test_meta_being_down_retries_the_download_later(
        http: httpx.AsyncClient, center: tuple[Scenario, int], graph: FakeGraph, worker: Worker) -> None:
    scenario, channel_id = center
    graph.add_media("2754859441498128", JPEG, "image/jpeg")
    graph.fail_next(131000, "Something went wrong", status=500)
    graph.failures_apply_to_media = True  # type: ignore[attr-defined]
    await deliver(http, channel_id, raw("whatsapp_image.json"))
    await worker.run_due()
    (message,) = await stored(scenario)
    assert len(message.attachments) == 1  # still expected
    scenario.factory.clock.advance(minutes=5)
    await worker.run_due()
    url = message.attachments[0]["url"]
    assert (await download(http, scenario.supervisor.headers, message.conversation_id, url)).content == JPEG


async def test_locations_need_no_download(http: httpx.AsyncClient, center: tuple[Scenario, int], graph: FakeGraph,
                                          worker: Worker) -> None:
    scenario, channel_id = center
    await deliver(http, channel_id, load("whatsapp_location.json"))
    await worker.run_due()
    (message,) = await stored(scenario)
    assert message.attachments[0]["kind"] == "location" and graph.requests == []
