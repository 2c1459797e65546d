"""The long-running processes' collector settings (kit/collector.py)."""

import gc

from atiende.kit.collector import YOUNG_THRESHOLD, settle_long_lived


def test_settling_freezes_what_exists_and_collects_young_objects_less_often() -> None:
    before = gc.get_threshold()
    try:
        settle_long_lived()
        assert gc.get_freeze_count() > 0  # what the process built is out of the collector's sight
        assert gc.get_threshold() == (YOUNG_THRESHOLD, before[1], before[2])
        cycle: list[object] = []
        cycle.append(cycle)
        del cycle
        assert gc.collect() >= 1  # cycles made afterwards are still collected
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
