from tests.channels.fakes.fixtures import _fresh_media, _graph_server, graph  # noqa: F401
