"""Contacts tests reuse the webhook receiver and dispatcher of the integrations tests, and the
browser harness (a live server seeded with the 24/7 contact center) of the workspace tests."""

from tests.integrations.conftest import crm, dispatcher  # noqa: F401
from tests.workspace.harness import browser, center, customer, login  # noqa: F401
