"""Write the ISO part of ``pipeline/reference/countries.csv`` from ``pycountry`` (ISO 3166-1).

The rows and the ISO columns (``iso2``, ``iso3``, ``iso_numeric``) come from ``pycountry``; the
project's columns (short English ``name``, ``cow_code``, ``cow_abbr``, ``cameo``, ``fips``,
``kind``) are kept from the file as it is, by alpha-2 code. Rows with a user-assigned code that ISO
leaves to users (``XK`` Kosovo) are kept whole. A country new to ``pycountry`` gets its common (or
short) name, kind ``territory`` and no other codes, and is printed so its project columns can be
filled in by hand; a code ``pycountry`` no longer lists is dropped and printed. The file is
generated here, at build time, rather than read from ``pycountry`` at run time, because DuckDB
(schema ``ref``), the Great Expectations suites and the GDELT source read it as a plain table.

    .venv/bin/python scripts/build_countries.py           # rewrite countries.csv
    .venv/bin/python scripts/build_countries.py --check   # exit 1 if it would change
"""

from __future__ import annotations

import argparse
import csv
import io
import re
import sys
from pathlib import Path

import pycountry

REPO = Path(__file__).resolve().parents[1]
COUNTRIES_CSV = REPO / "pipeline" / "reference" / "countries.csv"
COLUMNS = ("iso2", "iso3", "iso_numeric", "name", "cow_code", "cow_abbr", "cameo", "fips", "kind")
#: Alpha-2 codes that ISO 3166-1 leaves to users (AA, QM-QZ, XA-XZ, ZZ): never in pycountry.
USER_ASSIGNED = re.compile(r"AA|Q[M-Z]|X[A-Z]|ZZ")


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def build(current: list[dict[str, str]]) -> tuple[list[dict[str, str]], list[str]]:
    """The rows of ``countries.csv`` from ``pycountry`` and the project's columns of ``current``,
    and one message per country added or dropped."""
    kept = {row["iso2"]: row for row in current}
    rows: list[dict[str, str]] = []
    messages: list[str] = []
    for country in pycountry.countries:
        row = kept.pop(country.alpha_2, None)
        if row is None:
            name = getattr(country, "common_name", None) or country.name
            row = {column: "" for column in COLUMNS} | {"name": name, "kind": "territory"}
            messages.append(f"added {country.alpha_2} {name}: fill in its name, kind, COW, CAMEO and FIPS codes")
        rows.append(row | {"iso2": country.alpha_2, "iso3": country.alpha_3, "iso_numeric": country.numeric})
    for iso2, row in kept.items():
        if USER_ASSIGNED.fullmatch(iso2):
            rows.append(row)
        else:
            messages.append(f"dropped {iso2} {row['name']}: pycountry {pycountry.__version__} does not list it")
    rows.sort(key=lambda row: row["iso2"])
    return rows, messages


def render(rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows({column: row[column] for column in COLUMNS} for row in rows)
    return out.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if countries.csv is not what pycountry gives")
    args = parser.parse_args()
    rows, messages = build(read_rows(COUNTRIES_CSV))
    for message in messages:
        print(message)
    text = render(rows)
    if COUNTRIES_CSV.read_text(encoding="utf-8") == text:
        print(f"{COUNTRIES_CSV.name}: {len(rows)} rows, up to date with pycountry {pycountry.__version__}")
        return 0
    if args.check:
        print(f"{COUNTRIES_CSV.name} differs from pycountry {pycountry.__version__}: run scripts/build_countries.py")
        return 1
    COUNTRIES_CSV.write_text(text, encoding="utf-8")
    print(f"wrote {COUNTRIES_CSV.name}: {len(rows)} rows from pycountry {pycountry.__version__}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
