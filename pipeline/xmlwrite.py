"""A small deterministic XML text writer for the demo builders (``pipeline/sources/<id>/demo.py``).

It produces indented XML line by line (text escaped, attributes quoted, ``None`` attributes left
out), with no clock and no randomness, so a demo file rebuilt from the same facts is byte for byte
the same. It writes only what the caller asks for: trusted, project-written facts, never input.
"""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr


class Xml:
    """Line-by-line XML writer with a fixed indentation (two spaces unless told)."""

    def __init__(self, indent: str = "  ") -> None:
        self.lines: list[str] = []
        self.depth = 0
        self.indent = indent

    @staticmethod
    def _attrs(attrs: tuple) -> str:
        return "".join(f" {k}={quoteattr(str(v))}" for k, v in attrs if v is not None)

    def open(self, tag: str, *attrs: tuple[str, object]) -> None:
        """``<tag a="1">`` on its own line; what follows is indented one level more."""
        self.lines.append(f"{self.indent * self.depth}<{tag}{self._attrs(attrs)}>")
        self.depth += 1

    def close(self, tag: str) -> None:
        self.depth -= 1
        self.lines.append(f"{self.indent * self.depth}</{tag}>")

    def leaf(self, tag: str, text: object = None, *attrs: tuple[str, object]) -> None:
        """``<tag>text</tag>``, or ``<tag />`` when the text is empty or ``None``."""
        pad = self.indent * self.depth
        if text is None or text == "":
            self.lines.append(f"{pad}<{tag}{self._attrs(attrs)} />")
        else:
            self.lines.append(f"{pad}<{tag}{self._attrs(attrs)}>{escape(str(text))}</{tag}>")

    def raw(self, line: str) -> None:
        """A line written as given (an XML declaration, a root element with namespaces)."""
        self.lines.append(line)

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"
