"""The benchmarks make their own scratch PostgreSQL databases and servers: they need none of the
suite's per-test database state, so the autouse reset is replaced by a no-op here."""

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _fresh_state() -> Iterator[None]:
    yield
