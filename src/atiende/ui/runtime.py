"""What the NiceGUI pages need from the FastAPI app they are mounted on.

NiceGUI is process-global, so one app per process serves the pages; ``bind`` remembers it.
"""

from dataclasses import dataclass

from fastapi import FastAPI

from atiende.clock import Clock
from atiende.db import Database
from atiende.settings import Settings


@dataclass
class Runtime:
    app: FastAPI

    @property
    def database(self) -> Database:
        database: Database = self.app.state.database
        return database

    @property
    def clock(self) -> Clock:
        clock: Clock = self.app.state.clock
        return clock

    @property
    def settings(self) -> Settings:
        settings: Settings = self.app.state.settings
        return settings


_bound: list[Runtime] = []


def bind(app: FastAPI) -> Runtime:
    _bound[:] = [Runtime(app)]
    return _bound[0]


def runtime() -> Runtime:
    if not _bound:
        raise RuntimeError("The UI is not mounted on an app")
    return _bound[0]
