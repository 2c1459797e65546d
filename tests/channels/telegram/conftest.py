from tests.channels.fakes.fixtures import _telegram_server, telegram  # noqa: F401
