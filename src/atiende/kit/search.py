"""Text search in lists: what a person types is matched literally (``%``, ``_`` and ``\\`` mean
themselves, so searching "_" finds names with an underscore, not everything), case-insensitively."""

from typing import Any

from sqlalchemy import ColumnElement, func


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def contains(column: Any, text: str) -> ColumnElement[bool]:
    """``column`` holds ``text`` somewhere, ignoring case."""
    return func.lower(column).like(f"%{_escaped(text.lower())}%", escape="\\")


def starts_with(column: Any, text: str) -> ColumnElement[bool]:
    """``column`` begins with ``text``, ignoring case."""
    return func.lower(column).like(f"{_escaped(text.lower())}%", escape="\\")
