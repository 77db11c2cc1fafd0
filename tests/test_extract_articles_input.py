"""Reading articles: front matter, seed layout and JSONL inputs, and the errors bad files give."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

from pipeline.extract import read_articles
from pipeline.extract.articles import MAX_ARTICLE_BYTES

GOOD = """---
url: https://example.invalid/a
title: A title
published: 2023-05-17
publisher: Desk
---
Russia and Iran signed a deal to build a railway.
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_front_matter_article(tmp_path: Path) -> None:
    articles, errors = read_articles([_write(tmp_path, "good.md", GOOD)])
    assert errors == []
    (article,) = articles
    assert article.published_at == dt.date(2023, 5, 17)
    assert article.article_id == hashlib.sha1(b"https://example.invalid/a").hexdigest()
    assert article.title == "A title" and article.publisher == "Desk" and article.file == "good.md"
    assert article.text == "Russia and Iran signed a deal to build a railway."
    assert article.text_sha256 == hashlib.sha256(article.text.encode()).hexdigest()


def test_article_id_without_url_uses_title_and_date(tmp_path: Path) -> None:
    text = GOOD.replace("url: https://example.invalid/a\n", "")
    (article,), _ = read_articles([_write(tmp_path, "nourl.txt", text)])
    assert article.url is None
    assert article.article_id == hashlib.sha1(b"A title|2023-05-17").hexdigest()


def test_missing_published_is_reported_and_batch_goes_on(tmp_path: Path) -> None:
    bad = _write(tmp_path, "nodate.md", GOOD.replace("published: 2023-05-17\n", ""))
    good = _write(tmp_path, "good.md", GOOD)
    articles, errors = read_articles([bad, good])
    assert [a.file for a in articles] == ["good.md"]
    (error,) = errors
    assert error.file == "nodate.md" and error.field == "published"
    assert "nodate.md" in str(error) and "published" in str(error)


def test_bad_published_value(tmp_path: Path) -> None:
    _, errors = read_articles([_write(tmp_path, "baddate.md", GOOD.replace("2023-05-17", "17 May 2023"))])
    (error,) = errors
    assert error.field == "published" and error.rule == "date format"


def test_broken_yaml_front_matter(tmp_path: Path) -> None:
    broken = GOOD.replace("title: A title", "title: A: broken: [title")
    unclosed = GOOD.replace("---\nRussia", "Russia")
    articles, errors = read_articles([_write(tmp_path, "broken.md", broken), _write(tmp_path, "open.md", unclosed)])
    assert articles == []
    assert {(e.file, e.field) for e in errors} == {("broken.md", "front matter"), ("open.md", "front matter")}
    assert all("front matter" in str(e) for e in errors)


def test_yaml_is_loaded_safely(tmp_path: Path) -> None:
    hostile = GOOD.replace("title: A title", "title: !!python/object/apply:os.system ['echo pwned']")
    articles, errors = read_articles([_write(tmp_path, "hostile.md", hostile)])
    assert articles == [] and errors[0].rule == "plain YAML types" and "python/object/apply" in str(errors[0])


def test_hostile_file_name_in_front_matter_never_becomes_a_path(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("secret", encoding="utf-8")
    text = GOOD.replace("publisher: Desk", "publisher: Desk\nfile: ../outside.txt\npath: /etc/passwd")
    folder = tmp_path / "in"
    folder.mkdir()
    articles, errors = read_articles([_write(folder, "a.md", text)])
    assert errors == []
    (article,) = articles
    assert article.file == "a.md"
    assert "secret" not in article.text and "root:" not in article.text


def test_seed_layout(tmp_path: Path) -> None:
    path = _write(tmp_path, "seed.txt", "date 2023-02-16 A headline here\n\nFirst paragraph.\n")
    (article,), errors = read_articles([path])
    assert errors == []
    assert article.published_at == dt.date(2023, 2, 16) and article.title == "A headline here"
    assert article.text == "First paragraph."


def test_oversize_article_refused(tmp_path: Path) -> None:
    big = GOOD + ("x" * (MAX_ARTICLE_BYTES + 10))
    articles, errors = read_articles([_write(tmp_path, "big.md", big)])
    assert articles == [] and errors[0].rule == "size cap" and errors[0].file == "big.md"


def test_jsonl_bad_lines_are_reported_with_line_numbers(tmp_path: Path) -> None:
    rows = [
        json.dumps({"url": "https://example.invalid/1", "title": "t", "published": "2023-01-02", "text": "Some text."}),
        "{not json",
        json.dumps({"url": "https://example.invalid/3", "title": "t", "text": "No date."}),
        json.dumps(["a", "list"]),
        json.dumps({"url": "https://example.invalid/5", "published": "2023-01-05"}),
        json.dumps(
            {"url": "https://example.invalid/6", "published": "2023-01-06", "text": "y" * (MAX_ARTICLE_BYTES + 1)}
        ),
        json.dumps(
            {
                "url": "https://example.invalid/7",
                "title": "t",
                "published": "2023-01-07",
                "text": "More text.",
                "file": "../../etc/passwd",
            }
        ),
    ]
    path = _write(tmp_path, "batch.jsonl", "\n".join(rows) + "\n")
    articles, errors = read_articles([path])
    assert [a.line for a in articles] == [1, 7]
    assert all(a.file == "batch.jsonl" for a in articles)
    assert [(e.line, e.field) for e in errors] == [(2, None), (3, "published"), (4, None), (5, "text"), (6, "text")]
    assert all("batch.jsonl" in str(e) and f"line {e.line}" in str(e) for e in errors)


def test_missing_file_and_folder_walk(tmp_path: Path) -> None:
    folder = tmp_path / "batch"
    folder.mkdir()
    _write(folder, "one.md", GOOD)
    _write(folder, "ignored.csv", "a,b\n")
    articles, errors = read_articles([folder, tmp_path / "missing.md"])
    assert [a.file for a in articles] == ["one.md"]
    assert [(e.file, e.rule) for e in errors] == [("missing.md", "readable file")]
