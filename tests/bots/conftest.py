"""The bots' flow tests run jobs with a worker whose HTTP client talks to a fake receiver (the
system behind the API channel's callback URL), as the engine's tests do."""

from tests.conversations.conftest import receiver, worker  # noqa: F401
