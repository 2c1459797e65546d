from collections.abc import Iterator

import pytest

from atiende.channels.webchat.service import limits
from tests.channels.fakes.fixtures import _fresh_media  # noqa: F401


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> Iterator[None]:
    """Every test's visitors start with full buckets (the limits are per process)."""
    limits.reset()
    yield
