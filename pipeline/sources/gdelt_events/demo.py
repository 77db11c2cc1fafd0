"""Write the offline demo file of the GDELT events source from ``demo_facts.yml``.

The facts are illustrative events written by the project (each codes, in CAMEO, a publicly
reported event of 2022-23; ids, counts, tones and URLs are made up), keyed by GDELT column name.
The file is written in the GDELT 2.0 events export layout: the 61 columns of ``columns.csv``
(``gdelt2`` = 1) in order, tab-separated, no header, no quoting, LF line ends, into
``data/demo/gdelt_events/``. Columns a GDELT file derives are derived here too: ``MonthYear``,
``Year`` and ``FractionDate`` from ``SQLDATE``; ``EventBaseCode`` and ``EventRootCode`` from
``EventCode``; ``DATEADDED`` from the file's ``date_added``.

The output is byte-for-byte deterministic (no clock, no network)::

    .venv/bin/python -m pipeline.sources.gdelt_events.demo            # write into data/demo/gdelt_events
    .venv/bin/python -m pipeline.sources.gdelt_events.demo --out DIR
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

import yaml

from pipeline.sources.base import demo_main

HERE = Path(__file__).resolve().parent
FACTS = HERE / "demo_facts.yml"
COLUMNS = HERE / "columns.csv"
DEFAULT_OUT = HERE.parents[2] / "data" / "demo" / "gdelt_events"
DERIVED = ("MonthYear", "Year", "FractionDate", "EventBaseCode", "EventRootCode", "DATEADDED")


def export_columns() -> list[str]:
    """The GDELT 2.0 export columns, in file order."""
    with COLUMNS.open(encoding="utf-8", newline="") as fh:
        return [row["name"] for row in csv.DictReader(fh) if row["gdelt2"] == "1"]


def derived(event: dict[str, Any], date_added: str) -> dict[str, str]:
    """The columns GDELT computes from others. FractionDate is the year plus the day of the year
    over 365, to four decimals (GDELT's definition)."""
    day = dt.datetime.strptime(str(event["SQLDATE"]), "%Y%m%d").date()
    code = str(event["EventCode"])
    return {
        "MonthYear": day.strftime("%Y%m"),
        "Year": str(day.year),
        "FractionDate": f"{day.year + day.timetuple().tm_yday / 365:.4f}",
        "EventBaseCode": code[:3],
        "EventRootCode": code[:2],
        "DATEADDED": date_added,
    }


def render(facts: dict[str, Any]) -> bytes:
    """The export file's bytes: one tab-separated line per event."""
    columns = export_columns()
    lines = []
    for n, event in enumerate(facts["events"], 1):
        unknown = set(event) - set(columns) or set(event) & set(DERIVED)
        if unknown:
            raise SystemExit(f"{FACTS.name}: event {n}: {sorted(unknown)} are not columns the facts may set")
        values = {**{k: str(v) for k, v in event.items()}, **derived(event, str(facts["date_added"]))}
        lines.append("\t".join(values.get(c, "") for c in columns))
    return ("\n".join(lines) + "\n").encode("utf-8")


def build(out_dir: Path) -> list[Path]:
    """Write the demo file into ``out_dir`` (the source's folder under ``data/demo``)."""
    facts = yaml.safe_load(FACTS.read_text(encoding="utf-8"))
    name = str(facts["file"])
    if Path(name).name != name:
        raise SystemExit(f"{FACTS.name}: file {name!r} is not a plain file name")
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / name
    path.write_bytes(render(facts))
    return [path]


def main() -> None:
    demo_main(build, DEFAULT_OUT, __doc__)


if __name__ == "__main__":
    main()
