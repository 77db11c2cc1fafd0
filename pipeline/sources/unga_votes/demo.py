"""Write the offline demo files of the UN General Assembly votes source from ``demo_facts.yml``.

The facts are UN General Assembly roll calls and how fifteen countries voted on them (public
voting records; ``data/demo/unga_votes/README.md`` says how far each vote was checked). The files
are written in the layout of the ``unvotes`` package, CSV with a header and CRLF line ends, into
``data/demo/unga_votes/``:

* ``votes.csv``       rcid, country, country_code, vote (yes | abstain | no); a country that did not
  vote has no row
* ``roll_calls.csv``  rcid, session, importantvote, date, unres, amend, para, short, descr
* ``issues.csv``      rcid, short_name, issue

The output is byte-for-byte deterministic (no clock, no network)::

    .venv/bin/python -m pipeline.sources.unga_votes.demo            # write into data/demo/unga_votes
    .venv/bin/python -m pipeline.sources.unga_votes.demo --out DIR
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import yaml

from pipeline.sources.base import demo_main

HERE = Path(__file__).resolve().parent
FACTS = HERE / "demo_facts.yml"
DEFAULT_OUT = HERE.parents[2] / "data" / "demo" / "unga_votes"
VOTES = ("yes", "abstain", "no")
ROLL_CALL_COLUMNS = ("rcid", "session", "importantvote", "date", "unres", "amend", "para", "short", "descr")


def _csv(rows: list[list[Any]]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    return buf.getvalue().encode("utf-8")


def render(facts: dict[str, Any]) -> dict[str, bytes]:
    """File name -> bytes of the three files. Votes follow the order of ``countries``."""
    countries: dict[str, str] = facts["countries"]
    issues: dict[str, str] = facts["issues"]
    votes: list[list[Any]] = [["rcid", "country", "country_code", "vote"]]
    calls: list[list[Any]] = [list(ROLL_CALL_COLUMNS)]
    issue_rows: list[list[Any]] = [["rcid", "short_name", "issue"]]
    for call in facts["roll_calls"]:
        rcid = call["rcid"]
        unknown = set(call["votes"]) - set(countries)
        bad = {code: vote for code, vote in call["votes"].items() if vote not in VOTES}
        if unknown or bad:
            raise SystemExit(f"{FACTS.name}: rcid {rcid}: unknown countries {sorted(unknown)} or votes {bad}")
        calls.append([call.get(column, "") for column in ROLL_CALL_COLUMNS])
        if call.get("issue"):
            issue_rows.append([rcid, call["issue"], issues[call["issue"]]])
        votes += [[rcid, name, code, call["votes"][code]] for code, name in countries.items() if code in call["votes"]]
    return {"votes.csv": _csv(votes), "roll_calls.csv": _csv(calls), "issues.csv": _csv(issue_rows)}


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
