"""Bounded loading of untrusted JSON (a JSON-lines article): plain data or a named refusal.

:func:`loads` returns the value of one JSON text or raises :class:`JsonRefused` naming the rule
that failed and the character where it failed. The nesting depth is measured before the text
is parsed (brackets outside strings), so a line of ten thousand ``[`` is refused at the first
bracket past ``max_depth``, never by a ``RecursionError`` from inside the decoder. Syntax errors,
integers past Python's digit limit and non-UTF-8 bytes are refused with their rule too.
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_DEPTH = 32

# A whole JSON string (skipped: its brackets are text) or one bracket.
_STRING_OR_BRACKET = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)


class JsonRefused(ValueError):
    """Untrusted JSON that was not loaded: ``rule`` failed at character ``column`` (1-based)."""

    def __init__(self, rule: str, detail: str, column: int | None = None) -> None:
        super().__init__(detail)
        self.rule, self.detail, self.column = rule, detail, column


def nesting_depth(text: str, limit: int) -> tuple[int, int | None]:
    """The deepest nesting of ``text``'s arrays and objects, stopping at the first bracket past
    ``limit``: (depth, 1-based column of that bracket, or None when the limit holds)."""
    depth = deepest = 0
    for match in _STRING_OR_BRACKET.finditer(text):
        char = match.group()
        if char in "[{":
            depth += 1
            if depth > limit:
                return depth, match.start() + 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest, None


def loads(data: str | bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    """The value of the JSON text ``data`` (UTF-8 bytes or str), nested at most ``max_depth`` deep."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise JsonRefused("UTF-8", f"not UTF-8 ({exc.reason} at byte {exc.start})", exc.start + 1) from None
    _depth, column = nesting_depth(data, max_depth)
    if column is not None:
        raise JsonRefused("depth cap", f"arrays/objects nested deeper than {max_depth} levels", column)
    try:
        return json.loads(data)
    except json.JSONDecodeError as exc:
        raise JsonRefused("JSON", f"not JSON: {exc.msg}", exc.pos + 1) from None
    except ValueError as exc:  # e.g. an integer past Python's digit limit
        raise JsonRefused("JSON value", f"a value Python cannot hold: {str(exc)[:120]}") from None
