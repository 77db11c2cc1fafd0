"""Bounded loading of untrusted JSON (a JSON-lines article): plain data or a named refusal.

:func:`loads` returns the value of one JSON text or raises :class:`JsonRefused` naming the rule
that failed. The nesting depth is measured before the text is parsed (brackets outside strings,
in linear time and without recursion), so a line of a million ``[`` is refused by its depth,
never by a ``RecursionError`` from inside the decoder. Syntax errors (with the character where
they are), integers past Python's digit limit and non-UTF-8 bytes are refused with their rule too.
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any

MAX_DEPTH = 32

# One JSON string, or an unterminated one up to the end (possessive: each character is read once,
# whatever the quotes and backslashes, so hostile lines take linear time).
_STRING = re.compile(r'"(?:[^"\\]++|\\.)*+(?:"|\\?\Z)', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]++")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


class JsonRefused(ValueError):
    """Untrusted JSON that was not loaded: ``rule`` failed, at character ``column`` (1-based) when
    the rule is about one place."""

    def __init__(self, rule: str, detail: str, column: int | None = None) -> None:
        super().__init__(detail)
        self.rule, self.detail, self.column = rule, detail, column


def nesting_depth(text: str) -> int:
    """How deep ``text``'s arrays and objects nest (brackets inside strings are text)."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


def loads(data: str | bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    """The value of the JSON text ``data`` (UTF-8 bytes or str), nested at most ``max_depth`` deep."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise JsonRefused("UTF-8", f"not UTF-8 ({exc.reason} at byte {exc.start})", exc.start + 1) from None
    depth = nesting_depth(data)
    if depth > max_depth:
        raise JsonRefused("depth cap", f"arrays/objects nested {depth} levels deep, over the {max_depth}-level cap")
    try:
        return json.loads(data)
    except json.JSONDecodeError as exc:
        raise JsonRefused("JSON", f"not JSON: {exc.msg}", exc.pos + 1) from None
    except ValueError as exc:  # e.g. an integer past Python's digit limit
        raise JsonRefused("JSON value", f"a value Python cannot hold: {str(exc)[:120]}") from None
