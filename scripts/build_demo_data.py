#!/usr/bin/env python3
"""Build the offline demo source files: one loop over every source folder with a ``demo.py``.

Each source writes its own demo files, from the public facts kept beside its builder
(``pipeline/sources/<id>/demo.py`` exposing ``build(out_dir: Path) -> list[Path]``), into
``data/demo/<id>/``. The builders use no clock and no network, so the files are byte-for-byte
reproducible.

Usage::

    python scripts/build_demo_data.py                   # write every source's files into data/demo
    python scripts/build_demo_data.py --source un_sc    # only these sources (repeatable)
    python scripts/build_demo_data.py --out DIR         # write into DIR/<id>/
    python scripts/build_demo_data.py --check           # rebuild in a temp dir, compare with data/demo
"""

from __future__ import annotations

import argparse
import filecmp
import importlib
import sys
import tempfile
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[1]
SOURCES = REPO / "pipeline" / "sources"
DEFAULT_OUT = REPO / "data" / "demo"
# Hand-written notes that sit beside the generated files and are not built.
NOT_BUILT = {"README.md"}

if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def builder_ids() -> list[str]:
    """The sources that have a demo builder, in name order."""
    return sorted(p.parent.name for p in SOURCES.glob("*/demo.py"))


def builder(source_id: str) -> ModuleType:
    module = importlib.import_module(f"pipeline.sources.{source_id}.demo")
    if not callable(getattr(module, "build", None)):
        raise SystemExit(f"pipeline/sources/{source_id}/demo.py has no build(out_dir) function")
    return module


def build(source_id: str, out: Path) -> list[Path]:
    """Run one source's builder into ``out/<id>``; the files it wrote, relative to that folder."""
    folder = out / source_id
    return sorted(path.relative_to(folder) for path in builder(source_id).build(folder))


def check(source_ids: list[str], out: Path) -> list[str]:
    """Rebuild into a temporary folder and list every difference with ``out``: a file that differs
    or is missing, and a file in a source's demo folder that its builder no longer writes."""
    problems = []
    with tempfile.TemporaryDirectory(prefix="demo-check-") as tmp:
        for source_id in source_ids:
            written = build(source_id, Path(tmp))
            for rel in written:
                committed = out / source_id / rel
                if not committed.is_file():
                    problems.append(f"{source_id}/{rel}: missing")
                elif not filecmp.cmp(Path(tmp) / source_id / rel, committed, shallow=False):
                    problems.append(f"{source_id}/{rel}: differs from what {source_id}/demo.py writes")
            folder = out / source_id
            if folder.is_dir():
                stale = sorted(p.relative_to(folder) for p in folder.rglob("*")
                               if p.is_file() and p.name not in NOT_BUILT)
                problems += [f"{source_id}/{rel}: not written by {source_id}/demo.py"
                             for rel in stale if rel not in written]
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="demo folder (default: data/demo)")
    parser.add_argument("--source", action="append", metavar="ID",
                        help="only this source (repeatable; default: every source with a demo.py)")
    parser.add_argument("--check", action="store_true", help="rebuild in a temporary folder and compare with --out")
    args = parser.parse_args(argv)
    known = builder_ids()
    selected = args.source or known
    unknown = sorted(set(selected) - set(known))
    if unknown:
        parser.error(f"no demo builder for {', '.join(unknown)} (sources with one: {', '.join(known)})")
    if args.check:
        problems = check(selected, args.out)
        for problem in problems:
            print(f"demo data out of date: {problem}", file=sys.stderr)
        if problems:
            print("rebuild with: python scripts/build_demo_data.py", file=sys.stderr)
            return 1
        print(f"demo data up to date ({', '.join(selected)})")
        return 0
    for source_id in selected:
        for rel in build(source_id, args.out):
            path = args.out / source_id / rel
            print(f"wrote {path} ({path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
