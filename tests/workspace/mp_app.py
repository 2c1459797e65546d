"""The whole app (UI included) as the multi-process workspace test runs it: settings from
``ATIENDE_*`` like production, and the Redis bus on the channel named by
``ATIENDE_TEST_BUS_CHANNEL`` so parallel test runs never hear each other. Started with
``uvicorn --factory tests.workspace.mp_app:build``."""

import os

from fastapi import FastAPI

from atiende.app import create_app
from atiende.bus import make_bus
from atiende.settings import Settings


def build() -> FastAPI:
    settings = Settings()
    assert settings.redis_url, "ATIENDE_REDIS_URL is required"
    return create_app(settings, bus=make_bus(settings.redis_url, os.environ["ATIENDE_TEST_BUS_CHANNEL"]),
                      with_ui=True)
