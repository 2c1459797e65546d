"""The app's bus and clock, for the directory's entry points that other domains call with just a
session (``upsert_by_phone``, ``opt_out``): ``create_app`` installs them; tests get the fake clock."""

from atiende.bus import BusEvent, EventBus
from atiende.clock import Clock, SystemClock


class _NoBus:
    async def publish(self, event: BusEvent) -> None:
        return None

    async def publish_all(self, events: list[BusEvent]) -> None:
        return None


_state: dict[str, object] = {}


def install(bus: EventBus, clock: Clock) -> None:
    _state.update(bus=bus, clock=clock)


def app_bus() -> EventBus:
    return _state.get("bus") or _NoBus()  # type: ignore[return-value]


def app_clock() -> Clock:
    return _state.get("clock") or SystemClock()  # type: ignore[return-value]
