from tests.channels.fakes.fixtures import _fresh_media, _telegram_server, telegram  # noqa: F401
