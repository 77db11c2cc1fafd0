"""The programme table (every ``pipeline/sources/*/programs.csv``) cross-checked with OpenSanctions'
programme metadata (``meta/programs``: each programme's ``target_territories``).

:func:`crosscheck` gives one :class:`Check` per (authority, programme) of the table: the OpenSanctions
programme it corresponds to (looked up as ``opensanctions_programs.yml`` beside this module says), both
target sets in OpenSanctions' notation (``ru``, ``ua-cri``; codes that are no country, such as ``zz`` for a
global programme, are no target)
and the verdict: ``agree``, ``differs`` or ``not_in_opensanctions``. A difference is *documented* when
the row's description says ``Deliberate difference`` (and why), a programme OpenSanctions lacks when it
says ``not in OpenSanctions``. OpenSanctions' own table has gaps and errors the descriptions name (no
target for Canada's SEMA regimes, one programme for all of them; the Republic of the Congo for the UN's
DRC regime), so an undocumented difference is an error, a documented one is not.

Run it to print the comparison::

    .venv/bin/python -m pipeline.reference.program_crosscheck \\
        ../shared/data/samples/opensanctions/programs_target_territories.csv [--differences]
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pipeline import yamlsafe
from pipeline.reference import REFERENCE_DIR, read_programs

__all__ = ["CROSSWALK_YML", "Check", "crosscheck", "read_opensanctions_programs", "undocumented"]

CROSSWALK_YML: Path = REFERENCE_DIR / "opensanctions_programs.yml"
DIFFERENCE_MARK = "deliberate difference"
MISSING_MARK = "not in opensanctions"


@dataclass(frozen=True)
class Check:
    """One programme of the table against OpenSanctions."""

    authority: str
    program: str
    kind: str
    opensanctions_key: str | None
    ours: str  # ';'-joined, sorted, OpenSanctions' notation ('' = no target)
    theirs: str | None  # the same for the OpenSanctions programme; None when there is none
    verdict: str  # agree | differs | not_in_opensanctions
    documented: bool  # the description says why (a difference or a missing programme); True when they agree
    description: str


def read_opensanctions_programs(path: Path) -> list[dict[str, str]]:
    """The rows of OpenSanctions' programme metadata (key, dataset, target_territories, aliases, ...)."""
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _crosswalk(path: Path = CROSSWALK_YML) -> dict:
    return yamlsafe.load(path.read_text(encoding="utf-8"))


def _targets(codes: Iterable[str], not_countries: frozenset[str] = frozenset()) -> str:
    return ";".join(sorted({c for c in codes if c and c not in not_countries}))


def _their_keys(authority: str, program: str, rows: list[dict[str, str]], walk: dict) -> list[str]:
    """The OpenSanctions programme keys our (authority, programme) corresponds to ([] = none)."""
    explicit = (walk.get("keys") or {}).get(authority) or {}
    if program in explicit:
        return [explicit[program]] if explicit[program] else []
    datasets = set((walk.get("datasets") or {}).get(authority) or [])
    by_alias = [r["key"] for r in rows if r["dataset"] in datasets
                and program in {a.strip() for a in r["aliases"].split(";")}]
    if by_alias:
        return by_alias
    prefix = (walk.get("key_prefixes") or {}).get(authority)
    keys = {r["key"] for r in rows}
    if prefix is not None and f"{prefix}{program}" in keys:
        return [f"{prefix}{program}"]
    default = (walk.get("default_keys") or {}).get(authority)
    if default:
        return [default]
    return []


def crosscheck(opensanctions_csv: Path, sources_dir: Path | None = None,
               crosswalk_yml: Path = CROSSWALK_YML) -> list[Check]:
    """Every (authority, programme) of the programme table against OpenSanctions' metadata, sorted."""
    rows = read_opensanctions_programs(opensanctions_csv)
    by_key = {r["key"]: r for r in rows}
    walk = _crosswalk(crosswalk_yml)
    regions = walk.get("regions") or {}
    not_countries = frozenset(walk.get("not_countries") or ())
    table: dict[tuple[str, str], list[dict[str, str]]] = {}
    for r in read_programs(sources_dir) if sources_dir else read_programs():
        table.setdefault((r["authority"], r["program"]), []).append(r)
    checks = []
    for (authority, program), programme_rows in sorted(table.items()):
        codes = []
        for r in programme_rows:
            areas = r["region"].split(";") if r["region"] and r["kind"] != "regional" else []
            if r["target_iso2"] and areas:
                codes.extend(regions[a] for a in areas)
            elif r["target_iso2"]:
                codes.append(r["target_iso2"].lower())
        ours = _targets(codes)
        description = " ".join(r["description"] for r in programme_rows)
        keys = [k for k in _their_keys(authority, program, rows, walk) if k in by_key]
        if not keys:
            verdict, theirs, key = "not_in_opensanctions", None, None
            documented = MISSING_MARK in description.casefold()
        else:
            candidates = {k: _targets(by_key[k]["target_territories"].split(";"), not_countries) for k in keys}
            key = next((k for k, t in candidates.items() if t == ours), keys[0])
            theirs = candidates[key]
            verdict = "agree" if theirs == ours else "differs"
            documented = verdict == "agree" or DIFFERENCE_MARK in description.casefold()
        checks.append(Check(authority, program, programme_rows[0]["kind"], key, ours, theirs, verdict, documented,
                            programme_rows[0]["description"]))
    return checks


def undocumented(checks: Iterable[Check]) -> list[Check]:
    """The differences and missing programmes whose description does not say why."""
    return [c for c in checks if not c.documented]


def _print(checks: list[Check], differences_only: bool, out) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["authority", "program", "kind", "opensanctions_key", "ours", "theirs", "verdict", "documented"])
    for c in checks:
        if differences_only and c.verdict == "agree":
            continue
        writer.writerow([c.authority, c.program, c.kind, c.opensanctions_key or "", c.ours,
                         "" if c.theirs is None else c.theirs, c.verdict, "yes" if c.documented else "NO"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("opensanctions_csv", type=Path, help="OpenSanctions' programme metadata as CSV "
                        "(key, dataset, target_territories, aliases)")
    parser.add_argument("--differences", action="store_true", help="leave out the programmes that agree")
    args = parser.parse_args(argv)
    checks = crosscheck(args.opensanctions_csv)
    _print(checks, args.differences, sys.stdout)
    counts = {v: sum(c.verdict == v for c in checks) for v in ("agree", "differs", "not_in_opensanctions")}
    missing = undocumented(checks)
    print(f"{len(checks)} programmes: {counts['agree']} agree, {counts['differs']} differ, "
          f"{counts['not_in_opensanctions']} not in OpenSanctions; {len(missing)} without a documented reason",
          file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    raise SystemExit(main())
