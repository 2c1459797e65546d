"""Browser tests of the agent workspace run against a live server (see ``harness.py``)."""

from tests.workspace.harness import browser, center, customer, login  # noqa: F401  (fixtures)
