"""``pipeline``: run the pipeline, parse files, query the publication, validate.

    pipeline run [--input SOURCE=PATH[;PATH...]] [--date YYYY-MM-DD]
    pipeline parse SOURCE FILE... --out DIR [--snapshot-date YYYY-MM-DD]
    pipeline query "SQL" [--db PATH] [--format table|csv|json] [--max-rows N]
    pipeline validate
    pipeline report
    pipeline docs
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from datetime import date
from pathlib import Path

from pipeline import settings as settings_mod
from pipeline.errors import PipelineError


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(message)s", datefmt="%H:%M:%S")
    for noisy in ("great_expectations", "py4j", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def cmd_run(args: argparse.Namespace) -> int:
    from pipeline.airflow_run import run_pipeline
    from pipeline.report import headline

    for item in args.input or []:
        source, _, value = item.partition("=")
        if not value:
            raise SystemExit(f"--input takes SOURCE=PATH[;PATH...], got {item!r}")
        os.environ[f"PIPELINE_INPUT_{source.upper()}"] = value
    settings = settings_mod.load()
    error_file = settings.home / "last_error.json"
    if error_file.exists():
        error_file.unlink()
    started = time.perf_counter()
    code = run_pipeline(settings, args.date)
    elapsed = time.perf_counter() - started
    print()
    if code != 0:
        print(f"The pipeline run FAILED after {elapsed:.0f}s.", file=sys.stderr)
        if error_file.exists():
            err = json.loads(error_file.read_text())
            print(f"Step '{err['step']}' stopped the run:\n{err['error']}", file=sys.stderr)
        if settings.published_db.exists():
            print(f"The last good publication is unchanged: {settings.published_db}", file=sys.stderr)
        return 1
    print(f"Pipeline run finished in {elapsed:.0f}s.\n")
    print(headline(settings))
    return 0


def cmd_parse(args: argparse.Namespace) -> int:
    from pipeline.parse import parse_files

    snapshot = date.fromisoformat(args.snapshot_date) if args.snapshot_date else None
    result = parse_files(args.source, [Path(f) for f in args.files], Path(args.out), snapshot_date=snapshot,
                         strict=args.strict)
    print(f"{args.source}: snapshot {result.snapshot_date} from {', '.join(result.files)}")
    for table, n in result.counts.items():
        print(f"  {table:<14}{n:>8} rows -> {Path(args.out) / table}/")
    violations = {k: n for k, n in result.audit.items() if k.startswith("rule_violation:")}
    for rule in violations:
        print(f"  warning: rule '{rule.split(':', 1)[1]}' failed (see parse_audit); use --strict to refuse such files")
    if result.unmapped_countries:
        print("  unmapped country values: " + ", ".join(
            f"{v!r} x{n}" for v, n in sorted(result.unmapped_countries.items())))
    return 0


def cmd_query(args: argparse.Namespace) -> int:
    import duckdb

    settings = settings_mod.load()
    db = Path(args.db) if args.db else settings.published_db
    if not db.exists():
        raise PipelineError(f"no published database at {db}: run `pipeline run` first")
    con = duckdb.connect(str(db), read_only=True)
    try:
        rel = con.sql(args.sql)
        if rel is None:
            print("(statement executed; no result)")
            return 0
        if args.format == "table":
            rel.show(max_rows=args.max_rows, max_width=200)
        else:
            frame = rel.limit(args.max_rows).df()
            if args.format == "csv":
                frame.to_csv(sys.stdout, index=False)
            else:
                print(frame.to_json(orient="records", date_format="iso", indent=2))
    except duckdb.Error as exc:
        raise PipelineError(f"query failed: {exc}") from None
    finally:
        con.close()
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from pipeline import flow

    settings = settings_mod.load()
    if not settings.published_db.exists():
        raise PipelineError(f"no published database at {settings.published_db}: run `pipeline run` first")
    result = flow.check_marts(str(settings.published_db), settings)
    print("All mart expectation suites passed: " + ", ".join(result["suites"]))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from pipeline.report import headline

    print(headline(settings_mod.load()))
    return 0


def cmd_docs(args: argparse.Namespace) -> int:
    from pipeline.docs import write

    print(f"wrote {write()}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pipeline", description=__doc__.split("\n")[0])
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the pipeline DAG with Airflow (embedded mode) and print the headline")
    run.add_argument("--input", action="append", metavar="SOURCE=PATH", help="use these files/URLs for a source")
    run.add_argument("--date", help="logical date of the run (default: now)")
    run.set_defaults(func=cmd_run)
    parse = sub.add_parser("parse", help="parse source files into staged Parquet tables (no Airflow)")
    parse.add_argument("source", help="source id: us_ofac_sdn or un_sc")
    parse.add_argument("files", nargs="+")
    parse.add_argument("--out", required=True, help="output folder: <out>/<table>/...parquet")
    parse.add_argument("--snapshot-date", help="snapshot date for files that carry none (OFAC CSV)")
    parse.add_argument("--strict", action="store_true",
                       help="refuse a file whose header count does not match its records (the pipeline always does)")
    parse.set_defaults(func=cmd_parse)
    query = sub.add_parser("query", help="run SQL read-only against the published database")
    query.add_argument("sql")
    query.add_argument("--db", help="database file (default: the current publication)")
    query.add_argument("--format", choices=("table", "csv", "json"), default="table")
    query.add_argument("--max-rows", type=int, default=100)
    query.set_defaults(func=cmd_query)
    validate = sub.add_parser("validate", help="run the mart expectation suites on the current publication")
    validate.set_defaults(func=cmd_validate)
    report = sub.add_parser("report", help="print the headline answers of the current publication")
    report.set_defaults(func=cmd_report)
    docs = sub.add_parser("docs", help="regenerate docs/data_dictionary.md")
    docs.set_defaults(func=cmd_docs)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _setup_logging(args.verbose)
    try:
        return args.func(args)
    except PipelineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
