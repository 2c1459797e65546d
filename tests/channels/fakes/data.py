"""Payload examples from the providers' documentation (``tests/channels/data``)."""

import json
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent.parent / "data"


def load(name: str) -> Any:
    return json.loads((DATA / name).read_text())


def raw(name: str) -> bytes:
    return (DATA / name).read_bytes()
