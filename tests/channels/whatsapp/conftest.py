from tests.channels.fakes.fixtures import _graph_server, graph  # noqa: F401
