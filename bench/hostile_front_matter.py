#!/usr/bin/env python
"""Benchmark: hostile article front matter and JSON lines are refused in bounded time and memory.

An alias bomb of L levels of nine aliases (``published`` stands for 9**L strings) is read, each
time in a FRESH subprocess whose peak RSS is its own ``VmHWM`` (``/proc/self/status``):

- ``unbounded`` (baseline): ``yaml.safe_load`` of the front matter, then ``str(published)``, as
  the article reader did before :mod:`pipeline.yamlsafe` (levels 5-7 only: each level is nine
  times the time and memory of the one before; the issue measured 166 s and 3 GB at level 9);
- ``pipeline``: :func:`pipeline.extract.read_articles` on the same file, at levels 5-9;
- ``import`` (baseline): the interpreter with both readers imported and nothing read.

Seconds are the read alone (imports come first).

Then the worst shapes the caps allow (a 64 KiB front matter of ``[``, a 2 MB JSON line of ``[``)
through the pipeline's reader. Prints figures only; exits non-zero when the pipeline's reader
accepts a hostile file or raises instead of naming a rule, never on a threshold.

    .venv/bin/python bench/hostile_front_matter.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

_CHILD = r"""
import sys, time, json
from pathlib import Path
kind, path = sys.argv[1], Path(sys.argv[2])
import yaml
from pipeline.extract import read_articles  # imported first: the figures are the read's alone
started = time.perf_counter()
if kind == "import":
    outcome = "(the interpreter with the reader imported, nothing read)"
elif kind == "unbounded":
    meta = yaml.safe_load(path.read_text().split("---")[1])
    outcome = f"published is {len(str(meta['published'])):,} characters as text"
else:
    articles, errors = read_articles([path])
    outcome = "accepted" if articles else f"refused: rule '{errors[0].rule}'"
seconds = time.perf_counter() - started
peak = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM"))
print(json.dumps({"seconds": seconds, "peak_mb": peak / 1024, "outcome": outcome}))
"""


def bomb(levels: int) -> str:
    names = [f"l{i}" for i in range(levels)]
    lines = ["---", 'title: bomb', f'{names[0]}: &{names[0]} [' + ",".join(['"lol"'] * 9) + "]"]
    for prev, cur in zip(names, names[1:], strict=False):
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    lines += [f"published: *{names[-1]}", "---", "Russia and Iran signed a deal."]
    return "\n".join(lines) + "\n"


def measure(kind: str, path: Path) -> dict:
    out = subprocess.run([sys.executable, "-c", _CHILD, kind, str(path)], cwd=REPO, capture_output=True,
                         text=True, timeout=3600)
    if out.returncode != 0:
        return {"seconds": float("nan"), "peak_mb": float("nan"), "outcome": out.stderr.strip().splitlines()[-1]}
    return json.loads(out.stdout)


def main() -> int:
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        print(f"{'file':<34}{'reader':<11}{'seconds':>9}{'peak MB':>9}  outcome")
        cases: list[tuple[str, Path, tuple[str, ...]]] = [("-", folder / "none", ("import",))]
        for levels in range(5, 10):
            path = folder / f"bomb{levels}.md"
            path.write_text(bomb(levels))
            label = f"alias bomb, {levels} levels ({path.stat().st_size} B)"
            cases.append((label, path, ("unbounded", "pipeline") if levels <= 7 else ("pipeline",)))
        deep_md = folder / "deep.md"
        deep_md.write_text("---\npublished: 2024-01-02\nt: " + "[" * 32_000 + "]" * 32_000 + "\n---\nbody\n")
        deep_json = folder / "deep.jsonl"
        deep_json.write_text(json.dumps({"published": "2024-01-02", "text": "x"})[:-1]
                             + ', "t": ' + "[" * 1_000_000 + "]" * 1_000_000 + "}\n")
        cases += [("front matter nested 32,000 deep", deep_md, ("pipeline",)),
                  ("JSON line nested 1,000,000 deep", deep_json, ("pipeline",))]
        for label, path, kinds in cases:
            for kind in kinds:
                found = measure(kind, path)
                print(f"{label:<34}{kind:<11}{found['seconds']:>9.3f}{found['peak_mb']:>9.0f}  {found['outcome']}")
                failed |= kind == "pipeline" and not found["outcome"].startswith("refused")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
