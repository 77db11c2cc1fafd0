"""Read news articles for the event extractor: `Article` records and per-file `ArticleError`s.

Accepted inputs:
- `.md` / `.txt` with a YAML front matter between `---` lines (`url`, `title`, `published` YYYY-MM-DD,
  `publisher`), then the body;
- the seed layout: a first line `date YYYY-MM-DD headline`, then the body;
- `.jsonl`: one JSON object per line with the same fields plus `text`.

A bad file (or JSONL line) yields an `ArticleError` naming the file, the line, the field and the rule;
the rest of the batch goes on. Front matter and JSON are untrusted: front matter is read by
:mod:`pipeline.yamlsafe` (no aliases, at most 64 KiB, 32 levels and 10,000 values), each JSON line by
:mod:`pipeline.jsonsafe` (at most 32 levels), so neither an alias bomb nor deep nesting can take the
run's time, memory or stack. Names found inside a file never become paths: only the paths passed in
are read.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from pipeline import jsonsafe, yamlsafe

MAX_ARTICLE_BYTES = 2 * 1024 * 1024
MAX_FILE_BYTES = 64 * 1024 * 1024  # a JSONL batch; each of its articles is still capped at MAX_ARTICLE_BYTES
MAX_FRONT_MATTER_BYTES = yamlsafe.MAX_BYTES
SUFFIXES = (".md", ".txt", ".jsonl")
FIELDS = ("url", "title", "published", "publisher")

_SEED_FIRST_LINE = re.compile(r"^\s*date\s+(\d{4}-\d{2}-\d{2})\s+(.*)$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Article:
    article_id: str
    url: str | None
    title: str | None
    publisher: str | None
    published_at: dt.date
    text: str
    text_sha256: str
    file: str
    line: int | None = None


@dataclass(frozen=True)
class ArticleError:
    file: str
    line: int | None
    field: str | None
    rule: str
    message: str

    def __str__(self) -> str:
        where = f"file '{self.file}'" + (f" line {self.line}" if self.line is not None else "")
        field = f" field '{self.field}'" if self.field else ""
        return f"[articles] {where}:{field} rule '{self.rule}' failed: {self.message}"


class _Bad(Exception):
    def __init__(self, field: str | None, rule: str, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.field, self.rule, self.message, self.line = field, rule, message, line


def article_id_for(url: str | None, title: str | None, published: dt.date) -> str:
    """sha1 of the URL, or of title + date when the article has no URL."""
    key = url.strip() if url and url.strip() else f"{(title or '').strip()}|{published.isoformat()}"
    return hashlib.sha1(key.encode("utf-8")).hexdigest()


def _date(value: object) -> dt.date:
    # Front matter keeps dates as the text written (pipeline.yamlsafe); JSON has no date type.
    if value is None or (isinstance(value, str) and not value.strip()):
        raise _Bad("published", "required field", "no 'published' date (expected YYYY-MM-DD)")
    if not isinstance(value, str | int | float):
        raise _Bad("published", "scalar field", f"'published' must be a YYYY-MM-DD date, got {type(value).__name__}")
    text = str(value).strip()
    if not _DATE.match(text[:10]):
        raise _Bad("published", "date format", f"'published' is {text[:40]!r}, expected YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError as exc:
        raise _Bad("published", "calendar date", f"'published' is {text[:10]!r}: {exc}") from None


def _text_field(meta: dict, name: str) -> str | None:
    value = meta.get(name)
    if value is None:
        return None
    if not isinstance(value, str | int | float):
        raise _Bad(name, "scalar field", f"'{name}' must be a string, got {type(value).__name__}")
    return str(value).strip() or None


def _build(meta: dict, text: str, file: str, line: int | None) -> Article:
    published = _date(meta.get("published", meta.get("date")))
    if len(text.encode("utf-8")) > MAX_ARTICLE_BYTES:
        raise _Bad("text", "size cap", f"article text is over {MAX_ARTICLE_BYTES} bytes")
    if not text.strip():
        raise _Bad("text", "required field", "article has no text")
    url, title = _text_field(meta, "url"), _text_field(meta, "title")
    return Article(
        article_id=article_id_for(url, title, published),
        url=url,
        title=title,
        publisher=_text_field(meta, "publisher"),
        published_at=published,
        text=text,
        text_sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        file=file,
        line=line,
    )


def _front_matter(raw: str) -> tuple[dict, str]:
    lines = raw.split("\n")
    if lines and lines[0].strip() == "---":
        size = 0
        for i in range(1, len(lines)):
            if lines[i].strip() in ("---", "..."):
                try:
                    meta = yamlsafe.load("\n".join(lines[1:i])) or {}
                except yamlsafe.YamlRefused as refused:
                    line = refused.line + 1 if refused.line is not None else None  # the front matter starts on line 2
                    raise _Bad("front matter", refused.rule, f"front matter refused: {refused.detail}", line) from None
                if not isinstance(meta, dict):
                    raise _Bad("front matter", "YAML mapping", "front matter is not a mapping of keys to values")
                return meta, "\n".join(lines[i + 1 :]).strip("\n")
            size += len(lines[i].encode("utf-8")) + 1
            if size > MAX_FRONT_MATTER_BYTES:
                raise _Bad("front matter", "size cap",
                           f"no closing '---' within the first {MAX_FRONT_MATTER_BYTES} bytes of front matter")
        raise _Bad("front matter", "closed front matter", "front matter opened with '---' is never closed")
    first = _SEED_FIRST_LINE.match(lines[0].lstrip("\ufeff")) if lines else None
    if first:
        return {"published": first.group(1), "title": first.group(2).strip()}, "\n".join(lines[1:]).strip("\n")
    raise _Bad("published", "required field", "no front matter ('---' block) and no 'date YYYY-MM-DD' first line")


def _read_document(path: Path, display: str) -> Article:
    raw = path.read_bytes()
    if len(raw) > MAX_ARTICLE_BYTES:
        raise _Bad("file", "size cap", f"file is {len(raw)} bytes, over the {MAX_ARTICLE_BYTES} byte cap")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _Bad("file", "UTF-8", f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    meta, body = _front_matter(text.replace("\r\n", "\n"))
    return _build(meta, body, display, None)


def _read_jsonl(path: Path, display: str) -> Iterator[Article | ArticleError]:
    if path.stat().st_size > MAX_FILE_BYTES:
        yield ArticleError(display, None, "file", "size cap", f"file is over the {MAX_FILE_BYTES} byte cap")
        return
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                if len(raw) > MAX_ARTICLE_BYTES:
                    raise _Bad("text", "size cap", f"line is over the {MAX_ARTICLE_BYTES} byte cap")
                try:
                    record = jsonsafe.loads(raw)
                except jsonsafe.JsonRefused as refused:
                    where = f" (at character {refused.column})" if refused.column is not None else ""
                    raise _Bad(None, refused.rule, f"line refused{where}: {refused.detail}") from None
                if not isinstance(record, dict):
                    raise _Bad(None, "JSON object", f"line is a JSON {type(record).__name__}, not an object")
                text = record.get("text")
                if not isinstance(text, str):
                    raise _Bad("text", "required field", "no 'text' string")
                yield _build(record, text, display, number)
            except _Bad as bad:
                yield ArticleError(display, number, bad.field, bad.rule, bad.message)


def _expand(paths: Iterable[str | Path]) -> Iterator[Path]:
    for item in paths:
        path = Path(item)
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
        else:
            yield path


def read_article_file(path: Path, name: str | None = None) -> tuple[list[Article], list[ArticleError]]:
    """Read one file whose layout is told by ``name`` (its outside name, e.g. as published; the
    stored copy in the raw store may have none): ``.jsonl`` is JSON lines, ``.md``/``.txt``
    one article. ``name`` is only used in messages and to tell the layout, never as a path."""
    display = name or path.name
    suffix = Path(display).suffix.lower()
    articles: list[Article] = []
    errors: list[ArticleError] = []
    try:
        if not path.is_file():
            errors.append(ArticleError(display, None, "file", "readable file", f"no such file: {path}"))
        elif suffix == ".jsonl":
            for item in _read_jsonl(path, display):
                (errors if isinstance(item, ArticleError) else articles).append(item)
        elif suffix in (".md", ".txt"):
            articles.append(_read_document(path, display))
        else:
            errors.append(ArticleError(display, None, "file", "suffix", "expected .md, .txt or .jsonl"))
    except _Bad as bad:
        errors.append(ArticleError(display, bad.line, bad.field, bad.rule, bad.message))
    except OSError as exc:
        errors.append(ArticleError(display, None, "file", "readable file", f"{exc.__class__.__name__}: {exc}"))
    return articles, errors


def read_articles(paths: Iterable[str | Path]) -> tuple[list[Article], list[ArticleError]]:
    """Read every given file (folders are walked for .md/.txt/.jsonl); return articles and errors."""
    articles: list[Article] = []
    errors: list[ArticleError] = []
    for path in _expand(paths):
        found, failed = read_article_file(path)
        articles += found
        errors += failed
    return articles, errors
