"""Pytest fixtures serving the fakes (imported by the channel test folders' conftest files).

Each fake runs once per test session on a free port; every test starts with it reset and with
the app's settings pointing the provider's base URL at it.
"""

from collections.abc import Iterator

import pytest

from atiende.settings import Settings
from tests.channels.fakes.meta import FakeGraph
from tests.channels.fakes.server import serve
from tests.channels.fakes.telegram import FakeTelegram


@pytest.fixture(scope="session")
def _graph_server() -> Iterator[tuple[FakeGraph, str]]:
    fake = FakeGraph()
    with serve(fake.app) as url:
        yield fake, url


@pytest.fixture
def graph(_graph_server: tuple[FakeGraph, str], settings: Settings) -> Iterator[FakeGraph]:
    fake, url = _graph_server
    fake.reset()
    fake.base_url = url  # type: ignore[attr-defined]
    previous = settings.whatsapp_graph_url
    settings.whatsapp_graph_url = url
    yield fake
    settings.whatsapp_graph_url = previous


@pytest.fixture(scope="session")
def _telegram_server() -> Iterator[tuple[FakeTelegram, str]]:
    fake = FakeTelegram()
    with serve(fake.app) as url:
        yield fake, url


@pytest.fixture
def telegram(_telegram_server: tuple[FakeTelegram, str], settings: Settings) -> Iterator[FakeTelegram]:
    fake, url = _telegram_server
    fake.reset()
    fake.base_url = url  # type: ignore[attr-defined]
    previous = settings.telegram_api_url
    settings.telegram_api_url = url
    yield fake
    settings.telegram_api_url = previous


@pytest.fixture(autouse=True)
def _fresh_media(settings: Settings) -> Iterator[None]:
    """Each test starts with an empty media folder (names derive from ids the database reuses)."""
    import shutil

    shutil.rmtree(settings.media_dir, ignore_errors=True)
    settings.media_dir.mkdir(parents=True, exist_ok=True)
    yield
