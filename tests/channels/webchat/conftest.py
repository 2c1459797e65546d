from collections.abc import Iterator

import pytest

from atiende.channels.webchat.service import limits
from tests.channels.fakes.fixtures import _fresh_media  # noqa: F401


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> Iterator[None]:
    """Every test's visitors start with full buckets (the limits are per process), and time stands
    still for them, so a slow machine never refills a bucket mid-test."""
    limits.reset(monotonic=lambda: 0.0)
    yield
    limits.reset()
