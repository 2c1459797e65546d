from tests.channels.fakes.fixtures import _fresh_media  # noqa: F401
