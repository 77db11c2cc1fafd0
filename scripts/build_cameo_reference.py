"""Write ``pipeline/reference/cameo_events.csv``: one row per CAMEO event code with its root code,
description, Goldstein score and the GDELT QuadClass of its root.

Run once by hand; only its output is committed. It reads the GDELT CAMEO lookups in the shared
samples (``CAMEO.eventcodes.txt`` and ``CAMEO.goldsteinscale.txt``), checks that both list the same
codes, writes descriptions in sentence case and adds the QuadClass that GDELT assigns per root code
(1 = roots 01-05, 2 = 06-09, 3 = 10-14, 4 = 15-20, as observed in the GDELT exports).

    .venv/bin/python scripts/build_cameo_reference.py [--samples ../shared/data/samples/gdelt]
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SAMPLES = REPO.parent / "shared" / "data" / "samples" / "gdelt"
OUT = REPO / "pipeline" / "reference" / "cameo_events.csv"

#: Highest root code of each GDELT QuadClass.
QUAD_CLASS_UPPER_ROOT = ((5, 1), (9, 2), (14, 3), (20, 4))


def read_lookup(path: Path) -> dict[str, str]:
    """A two-column tab-separated GDELT lookup (with a header line) as code -> value."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle, delimiter="\t"))
    return {code.strip(): value.strip() for code, value in rows[1:] if code.strip()}


def quad_class(root: str) -> int:
    number = int(root)
    for upper, quad in QUAD_CLASS_UPPER_ROOT:
        if number <= upper:
            return quad
    raise ValueError(f"CAMEO root code out of range: {root}")


def sentence_case(text: str) -> str:
    if text.isupper():
        text = text.lower()
    return text[:1].upper() + text[1:]


def build(samples: Path) -> list[dict[str, str]]:
    descriptions = read_lookup(samples / "CAMEO.eventcodes.txt")
    goldstein = read_lookup(samples / "CAMEO.goldsteinscale.txt")
    if set(descriptions) != set(goldstein):
        raise SystemExit(f"the CAMEO lookups disagree on codes: {sorted(set(descriptions) ^ set(goldstein))}")
    rows = []
    for code in sorted(descriptions):
        root = code[:2]
        rows.append({
            "code": code,
            "root": root,
            "description": sentence_case(descriptions[code]),
            "goldstein": f"{float(goldstein[code]):.1f}",
            "quad_class": str(quad_class(root)),
        })
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=Path, default=DEFAULT_SAMPLES)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    rows = build(args.samples)
    with args.out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {len(rows)} CAMEO codes to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
