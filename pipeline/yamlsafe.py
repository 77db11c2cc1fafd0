"""Bounded loading of untrusted YAML (an article's front matter): plain data or a named refusal.

:func:`load` returns the one document's value (mappings, lists, strings, numbers, booleans, null)
or raises :class:`YamlRefused` naming the rule that failed and the line. It refuses, before any
value is built:

- text over ``max_bytes`` (UTF-8);
- aliases (``*name``, including ``<<: *name`` merges): an alias repeats a whole subtree, so a few
  hundred bytes of nested aliases stand for billions of nodes (the "billion laughs" bomb). Anchors
  alone are harmless and allowed;
- nesting deeper than ``max_depth`` and more than ``max_nodes`` nodes in all, so no recursion or
  work grows past a small fixed bound whatever the input;
- tags that build Python objects (``!!python/...``), as :class:`yaml.SafeLoader` does.

Timestamps stay text: ``2024-02-30`` is the string the author wrote, for the caller's own date
rule to judge and name, never a ``ValueError`` from deep inside the loader. A value the YAML
core types cannot hold (an ``!!int`` past Python's digit limit, ``!!float`` junk) is refused
as such.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.events import AliasEvent
from yaml.nodes import Node

MAX_BYTES = 64 * 1024
MAX_DEPTH = 32
MAX_NODES = 10_000


class YamlRefused(ValueError):
    """Untrusted YAML that was not loaded: ``rule`` is the rule that failed, ``line`` the
    1-based line of the YAML text where it failed (None when the rule is about the whole text)."""

    def __init__(self, rule: str, detail: str, line: int | None = None) -> None:
        super().__init__(detail)
        self.rule, self.detail, self.line = rule, detail, line


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader whose composer refuses aliases and counts depth and nodes as it goes."""

    max_depth = MAX_DEPTH
    max_nodes = MAX_NODES

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._nodes = 0

    def compose_node(self, parent: Node | None, index: object) -> Node:
        event = self.peek_event()
        line = event.start_mark.line + 1 if event.start_mark else None
        if isinstance(event, AliasEvent):
            raise YamlRefused("no aliases", f"alias '*{event.anchor}' refused (aliases can expand "
                              "a few bytes into billions of values)", line)
        self._nodes += 1
        if self._nodes > self.max_nodes:
            raise YamlRefused("node cap", f"more than {self.max_nodes} values", line)
        self._depth += 1
        try:
            if self._depth > self.max_depth:
                raise YamlRefused("depth cap", f"nested deeper than {self.max_depth} levels", line)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


# The author's text, not a datetime: the caller's date rule judges it and names the field.
_BoundedLoader.add_constructor("tag:yaml.org,2002:timestamp", yaml.SafeLoader.construct_scalar)


def load(text: str, *, max_bytes: int = MAX_BYTES, max_depth: int = MAX_DEPTH, max_nodes: int = MAX_NODES) -> Any:
    """The value of one YAML document in ``text`` (None when empty), within the caps above."""
    size = len(text.encode("utf-8"))
    if size > max_bytes:
        raise YamlRefused("size cap", f"{size} bytes, over the {max_bytes}-byte cap")
    loader = _BoundedLoader(text)
    loader.max_depth, loader.max_nodes = max_depth, max_nodes
    try:
        return loader.get_single_data()
    except YamlRefused:
        raise
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise YamlRefused("plain YAML types", f"{exc.problem}", mark.line + 1 if mark else None) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise YamlRefused("YAML", f"{exc.problem or exc.__class__.__name__}", mark.line + 1 if mark else None) from None
    except yaml.YAMLError as exc:
        raise YamlRefused("YAML", f"{exc.__class__.__name__}: {exc}") from None
    except (ValueError, TypeError, OverflowError) as exc:
        raise YamlRefused("YAML value", f"a value YAML's types cannot hold: {str(exc)[:120]}") from None
    finally:
        loader.dispose()
