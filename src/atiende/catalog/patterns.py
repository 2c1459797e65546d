"""Admins may give a text field a regular expression. Python's ``re`` backtracks and holds the
event loop while it runs, so one pathological pattern (``(a+)+$``) could freeze every tenant.
Patterns are therefore kept to a shape that matches in roughly linear time: no nested
repetition, no backreferences, and only a few unbounded repeats.
"""

import re
from collections.abc import Iterable
from re import _parser as sre_parse  # type: ignore[attr-defined]  # Python ≥ 3.11
from typing import Any

MAX_UNBOUNDED_REPEATS = 3
MAX_NESTING_TIMES = 16  # (\d{3}-){2} is fine: the outer repeat is small and bounded
_REPEATS = {sre_parse.MAX_REPEAT, sre_parse.MIN_REPEAT, getattr(sre_parse, "POSSESSIVE_REPEAT", None)}
_BACKREFERENCES = {sre_parse.GROUPREF, sre_parse.GROUPREF_EXISTS, sre_parse.GROUPREF_IGNORE,
                   sre_parse.GROUPREF_LOC_IGNORE, sre_parse.GROUPREF_UNI_IGNORE}


def pattern_problem(pattern: str) -> str | None:
    """Why ``pattern`` cannot be used to check field values, or None."""
    try:
        parsed = sre_parse.parse(pattern)
        re.compile(pattern)
    except (re.error, OverflowError, RecursionError) as exc:
        return f"not a valid regular expression: {exc}"
    problems: list[str] = []
    unbounded = _scan(parsed, inside_repeat=False, problems=problems)
    if problems:
        return problems[0]
    if unbounded > MAX_UNBOUNDED_REPEATS:
        return f"too many open-ended repeats (+, *, {{n,}}); at most {MAX_UNBOUNDED_REPEATS}"
    return None


def _scan(items: Iterable[tuple[Any, Any]], *, inside_repeat: bool, problems: list[str]) -> int:
    """Count open-ended repeats under ``items`` and note shapes that can backtrack exponentially."""
    unbounded = 0
    for op, argument in items:
        if op in _BACKREFERENCES:
            problems.append("backreferences (\\1) are not allowed")
        if op in _REPEATS:
            _low, high, body = argument
            if inside_repeat and high > 1:
                problems.append("nested repeats such as (a+)+ are not allowed; they can take forever to check")
            unbounded += high == sre_parse.MAXREPEAT
            unbounded += _scan(body, inside_repeat=inside_repeat or high > MAX_NESTING_TIMES, problems=problems)
            continue
        for child in _children(argument):
            unbounded += _scan(child, inside_repeat=inside_repeat, problems=problems)
    return unbounded


def _children(argument: Any) -> list[Any]:
    if isinstance(argument, sre_parse.SubPattern):
        return [argument]
    if isinstance(argument, tuple | list):
        return [child for item in argument for child in _children(item)]
    return []
