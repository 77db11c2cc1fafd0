"""Write the offline demo articles from ``demo_facts.yml``.

The facts are news articles written by the project in its own words from public facts. They are
written into ``data/demo/articles/`` in the two layouts the source reads:

* ``<name>.md``     a YAML front matter between ``---`` lines (url, title, published, publisher),
  then the paragraphs separated by a blank line
* ``<name>.jsonl``  one JSON object per line (url, title, published, publisher, text)

The output is byte-for-byte deterministic (no clock, no network)::

    .venv/bin/python -m pipeline.sources.articles.demo            # write into data/demo/articles
    .venv/bin/python -m pipeline.sources.articles.demo --out DIR
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from pipeline.sources.base import demo_main

HERE = Path(__file__).resolve().parent
FACTS = HERE / "demo_facts.yml"
DEFAULT_OUT = HERE.parents[2] / "data" / "demo" / "articles"
FRONT_MATTER_KEYS = ("url", "title", "published", "publisher")
JSON_KEYS = ("url", "title", "published", "publisher", "text")
# A plain YAML scalar may not start with an indicator or hold ": " / " #": such values are quoted.
_INDICATORS = tuple("-?:,[]{}#&*!|>'\"%@`")


def _scalar(value: str) -> str:
    if value.startswith(_INDICATORS) or ": " in value or " #" in value or value != value.strip():
        return json.dumps(value, ensure_ascii=False)
    return value


def _file_name(name: str, suffix: str) -> str:
    if Path(name).name != name or not name.endswith(suffix):
        raise SystemExit(f"{FACTS.name}: {name!r} is not a plain {suffix} file name")
    return name


def markdown(article: dict[str, Any]) -> bytes:
    front = [f"{key}: {_scalar(str(article[key]))}" for key in FRONT_MATTER_KEYS]
    body = "\n\n".join(article["paragraphs"])
    return ("---\n" + "\n".join(front) + "\n---\n" + body + "\n").encode("utf-8")


def json_lines(articles: list[dict[str, Any]]) -> bytes:
    lines = [json.dumps({key: str(item[key]) for key in JSON_KEYS}, ensure_ascii=False) for item in articles]
    return ("\n".join(lines) + "\n").encode("utf-8")


def render(facts: dict[str, Any]) -> dict[str, bytes]:
    """File name -> bytes of every demo article file."""
    files = {_file_name(a["file"], ".md"): markdown(a) for a in facts["markdown"]}
    files.update({_file_name(f["file"], ".jsonl"): json_lines(f["articles"]) for f in facts["json_lines"]})
    return files


def build(out_dir: Path) -> list[Path]:
    """Write the demo files into ``out_dir`` (the source's folder under ``data/demo``)."""
    files = render(yaml.safe_load(FACTS.read_text(encoding="utf-8")))
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in files.items():
        (out_dir / name).write_bytes(data)
        written.append(out_dir / name)
    return written


def main() -> None:
    demo_main(build, DEFAULT_OUT, __doc__)


if __name__ == "__main__":
    main()
