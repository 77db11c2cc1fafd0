"""``pipeline``: run the pipeline, parse files, query the publication, validate.

    pipeline run [--input SOURCE=PATH[;PATH...] | --input DIR] [--live] [--snapshot-date D] [--accept-small-lists]
                 [--force]
    pipeline parse SOURCE FILE... --out DIR [--snapshot-date YYYY-MM-DD]
    pipeline extract FILE... | --score
    pipeline match --score [--set dev|heldout] [--errors] | --export-ftm FILE [--db PATH]
    pipeline query "SQL" [--db PATH] [--format table|csv|json] [--max-rows N] [--timeout S] [--memory-limit SIZE]
    pipeline validate
    pipeline report
    pipeline docs
"""

from __future__ import annotations

import argparse
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


def _inputs_from_folder(folder: Path) -> dict[str, str]:
    """``--input DIR``: a folder laid out like ``data/demo`` (one sub-folder per source id).

    A sub-folder that holds the source's demo layout (its ``demo_inputs`` paths) uses exactly
    those files; otherwise every file directly in it. Sub-folders that are not source ids are
    reported, not guessed."""
    from pipeline.sources import known_sources, load_meta

    known = set(known_sources())
    found: dict[str, str] = {}
    for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
        if sub.name not in known:
            if not sub.name.startswith((".", "_")) and sub.name != "facts":
                print(f"note: {sub} is not a source id ({', '.join(sorted(known))}); skipped", file=sys.stderr)
            continue
        meta = load_meta(sub.name)
        laid_out = [folder / rel for rel in meta.demo_inputs]
        files = laid_out if laid_out and all(p.exists() for p in laid_out) else [
            p for p in sorted(sub.iterdir()) if p.is_file() and not p.name.startswith(".") and p.suffix != ".md"]
        if files:
            found[sub.name] = ";".join(str(p) for p in files)
    if not found:
        raise PipelineError(f"--input {folder}: no sub-folder named after a source id ({', '.join(sorted(known))})")
    return found


def _apply_run_options(args: argparse.Namespace) -> None:
    """Turn ``pipeline run`` options into the environment the DAG's tasks read (settings)."""
    from pipeline.sources import known_sources

    inputs: dict[str, str] = {}
    for item in args.input or []:
        source, sep, value = item.partition("=")
        if not sep:
            folder = Path(item)
            if not folder.is_dir():
                raise PipelineError(f"--input takes SOURCE=PATH[;PATH...] or a folder laid out like data/demo; "
                                    f"{item!r} is neither")
            inputs.update(_inputs_from_folder(folder))
            continue
        if source not in known_sources():
            raise PipelineError(f"--input {item!r}: unknown source {source!r} (known: {', '.join(known_sources())})")
        if not value:
            raise PipelineError(f"--input takes SOURCE=PATH[;PATH...], got {item!r}")
        inputs[source] = value
    for source, value in inputs.items():
        os.environ[f"PIPELINE_INPUT_{source.upper()}"] = value
    if inputs and not os.environ.get("PIPELINE_SOURCES"):
        # A user's own files: run the sources given (the lake keeps the others' last snapshots).
        os.environ["PIPELINE_SOURCES"] = ",".join(inputs)
    if args.snapshot_date:
        try:
            date.fromisoformat(args.snapshot_date)
        except ValueError:
            raise PipelineError(f"--snapshot-date takes YYYY-MM-DD, got {args.snapshot_date!r}") from None
        os.environ["PIPELINE_SNAPSHOT_DATE"] = args.snapshot_date
    if args.accept_small_lists:
        os.environ["PIPELINE_ACCEPT_SMALL_LISTS"] = "1"
    if getattr(args, "live", False):
        os.environ["PIPELINE_LIVE"] = "1"


def _settings():
    """The settings; a bad environment variable is a one-line error naming it, not a traceback."""
    try:
        return settings_mod.load()
    except ValueError as exc:
        raise PipelineError(str(exc)) from None


def _keep_if_unchanged(settings: settings_mod.Settings, kept: dict) -> bool:
    """Under the run lock, before Airflow starts: True (and ``kept`` holds the release and its
    headline) when nothing changed since the current release (:func:`pipeline.rerun.unchanged_before_run`)."""
    from pipeline.report import headline
    from pipeline.rerun import unchanged_before_run

    try:
        release, why = unchanged_before_run(settings)
        text = headline(settings) if release else None
    except Exception as exc:  # noqa: BLE001 - undecided is the safe side: the run decides again, per source
        print(f"note: could not tell whether anything changed since the current release ({exc}); "
              "running the pipeline", file=sys.stderr, flush=True)
        return False
    if why:
        print(f"Running the pipeline: {why}.", flush=True)
    if release:
        kept.update(release=release, headline=text)
    return bool(release)


def cmd_run(args: argparse.Namespace) -> int:
    """Run the DAG; exit 0 when it published or nothing changed, 1 when a step failed, 128 + N when
    signal N stopped it."""
    from pipeline.airflow_run import RunStopped, last_error, run_pipeline
    from pipeline.publish import kept_after_failure
    from pipeline.report import headline
    from pipeline.rerun import FORCE_ENV

    _apply_run_options(args)
    if args.force:
        os.environ[FORCE_ENV] = "1"  # the Airflow child parses every source again and publishes
    settings = _settings()
    settings.headline_pair  # noqa: B018  a bad PIPELINE_HEADLINE_PAIR stops a CLI run before it starts
    started = time.perf_counter()
    kept: dict = {}
    early = None if args.force or not settings.skip_unchanged else (lambda: _keep_if_unchanged(settings, kept))
    try:
        code = run_pipeline(settings, args.date, quiet=not args.verbose, before_airflow=early)
    except RunStopped:
        print(f"\nThe pipeline run was STOPPED after {time.perf_counter() - started:.0f}s.", file=sys.stderr)
        raise
    elapsed = time.perf_counter() - started
    print()
    if code != 0:
        print(f"The pipeline run FAILED after {elapsed:.0f}s.", file=sys.stderr)
        err = last_error(settings)
        if err:
            print(f"Step '{err['step']}' stopped the run:\n{err['error']}", file=sys.stderr)
        if settings.published_db.exists() or settings.current_release.is_symlink():
            print(kept_after_failure(settings), file=sys.stderr)
        return 1
    if kept:
        release = kept["release"]
        print(f"Nothing changed since release {release}: every source's input files (sha256), the code and the "
              f"settings are those it was built from, and its database is intact (sha256 checked). Release {release} "
              f"is kept: nothing was parsed or published and Airflow was not started ({elapsed:.1f}s). "
              "`pipeline run --force` parses and publishes anyway.\n")
        print(kept["headline"])
        return 0
    print(f"Pipeline run finished in {elapsed:.0f}s.\n")
    print(headline(settings))
    return 0


def cmd_parse(args: argparse.Namespace) -> int:
    from pipeline.errors import parse_kept
    from pipeline.parse import parse_files

    snapshot = date.fromisoformat(args.snapshot_date) if args.snapshot_date else None
    try:
        result = parse_files(args.source, [Path(f) for f in args.files], Path(args.out), snapshot_date=snapshot,
                             strict=args.strict, max_bytes=_settings().max_raw_bytes)
    except PipelineError as exc:
        # no publication is involved here; a failed parse leaves no part in --out (StagedWriter.abort)
        exc.kept = parse_kept(args.out)
        raise
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
    from pipeline.csvsafe import write_csv
    from pipeline.query import QueryLimits, render_table, run_query

    try:
        settings = settings_mod.load()
    except ValueError as exc:
        raise PipelineError(str(exc)) from None
    db = Path(args.db) if args.db else settings.published_db
    if not args.db and not db.exists():
        raise PipelineError(f"no published database at {db}: run `pipeline run` first")
    from pipeline.publish import ensure_intact

    ensure_intact(db, settings)  # damaged: say so instead of reading it (sha256 against release.json)
    limits = QueryLimits.from_settings(settings)
    if args.timeout is not None:
        limits = QueryLimits(args.timeout, limits.memory_limit, limits.max_result_bytes)
    if args.memory_limit is not None:
        try:
            memory = settings_mod.memory_size(args.memory_limit, "--memory-limit")
        except ValueError as exc:
            raise PipelineError(str(exc)) from None
        limits = QueryLimits(limits.timeout, memory, limits.max_result_bytes)
    try:
        result = run_query(db, args.sql, args.max_rows, limits)
        if args.format == "table":
            print(render_table(result))
        elif args.format == "csv":
            write_csv(result.frame, sys.stdout)
        else:
            print(result.frame.to_json(orient="records", date_format="iso", indent=2))
    except KeyboardInterrupt:
        print(f"error: query interrupted (Ctrl-C) on {db}: the statement was stopped; nothing was changed",
              file=sys.stderr)
        return 130
    if result.truncated and args.format != "table":
        print(f"note: only the first {len(result.frame)} rows were written; {result.note}", file=sys.stderr)
    return 0


def cmd_extract(args: argparse.Namespace) -> int:
    """Article events and claims as JSON lines; read errors go to stderr (exit 1), never dropped."""
    if args.score:
        if args.files:  # labelled news corpora (pipeline/extract/labelled/news_*.yaml layout)
            from pipeline.extract.news_scoring import main as news_main

            return news_main([str(f) for f in args.files] + (["--errors"] if args.errors else []))
        from pipeline.extract.scoring import main as score_main

        return score_main(["--errors"] if args.errors else [])
    if not args.files:
        raise PipelineError("pipeline extract takes article files (.md, .txt, .jsonl) or folders, or --score")
    from pipeline.extract import extract_jsonl_lines

    errors: list = []
    cuts: list = []
    for line in extract_jsonl_lines(args.files, errors, cuts):
        print(line)
    for cut in cuts:  # read in pieces, not an error: the exit code stays 0
        print(f"note: {cut}", file=sys.stderr)
    for error in errors:
        print(error, file=sys.stderr)
    return 1 if errors else 0


def cmd_match(args: argparse.Namespace) -> int:
    """Unique targets: the matcher's scorecard on the labelled pairs, or the FtM export of a publication."""
    if args.score:
        from pipeline.matching.scoring import main as score_main

        return score_main(args.set, errors=args.errors)
    if not args.export_ftm:
        raise PipelineError("pipeline match takes --score or --export-ftm FILE")
    from pipeline.matching.ftm import export, validate
    from pipeline.publish import ensure_intact

    settings = _settings()
    db = Path(args.db) if args.db else settings.published_db
    if not db.exists():
        raise PipelineError(f"no published database at {db}: run `pipeline run` first")
    ensure_intact(db, settings)
    out = Path(args.export_ftm)
    counts = export(db, out)
    checked = validate(out)  # read back through followthemoney's model
    print(f"wrote {out}: " + ", ".join(f"{n} {schema}" for schema, n in sorted(checked.items()))
          + f" (FollowTheMoney JSON lines, read back: {sum(checked.values()) == sum(counts.values())})")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    import duckdb

    from pipeline import flow
    from pipeline.publish import require_publication

    settings = _settings()
    db = require_publication(settings)
    try:
        result = flow.check_marts(str(db), settings)
    except duckdb.Error as exc:
        raise PipelineError(f"cannot read the published database {db}: {exc}") from None
    print("All mart expectation suites passed: " + ", ".join(result["suites"]))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from pipeline.report import headline

    print(headline(_settings()))
    return 0


def cmd_docs(args: argparse.Namespace) -> int:
    from pipeline.docs import write

    print(f"wrote {write()}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from pipeline import __version__

    parser = argparse.ArgumentParser(prog="pipeline", description=__doc__.split("\n")[0].replace("``", ""))
    parser.add_argument("-v", "--verbose", action="store_true", help="log every step's details to the terminal")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser(
        "run", help="run the pipeline DAG with Airflow (embedded mode) and print the headline",
        description="Run the pipeline DAG with Airflow (embedded mode) and print the headline. A re-run that "
                    "changes nothing is skipped: when every source's input files (sha256), the code and the "
                    "settings are those the current release was built from (same UTC day) and its database is "
                    "intact, the release is kept, its headline printed again, and Airflow is not started. "
                    "Otherwise only the sources whose files changed are parsed again. Live mode (--live, URL "
                    "inputs) decides per source after fetching. PIPELINE_SKIP_UNCHANGED=0 turns all of it off.")
    run.add_argument("--input", action="append", metavar="SOURCE=PATH|DIR",
                     help="use these files/URLs for a source (';'-separated), or a folder laid out like data/demo "
                          "(one sub-folder per source id); repeatable. Only the sources given are run.")
    run.add_argument("--snapshot-date", metavar="YYYY-MM-DD",
                     help="snapshot date for layouts that carry no date of their own (OFAC CSV set); "
                          "default: the day the files are landed")
    run.add_argument("--accept-small-lists", action="store_true",
                     help="the inputs are deliberate subsets: the production row-count floors only warn "
                          "(the check against the previous snapshot stays)")
    run.add_argument("--live", action="store_true",
                     help="fetch each default source's official URLs (source.yml) instead of the demo files, "
                          "conditionally: an unchanged file is not parsed again (PIPELINE_LIVE=1)")
    run.add_argument("--date", help="logical date of the run (default: now)")
    run.add_argument("--force", "--rebuild", action="store_true",
                     help="parse every source again and publish a new release even when nothing changed since "
                          "the current one")
    run.set_defaults(func=cmd_run)
    parse = sub.add_parser("parse", help="parse source files into staged Parquet tables (no Airflow)")
    parse.add_argument("source", help="source id (pipeline/sources/<id>): us_ofac_sdn, un_sc, gdelt_events, "
                       "unga_votes, articles, ...")
    parse.add_argument("files", nargs="+", help="the source's files of one snapshot (an OFAC CSV set: all its files)")
    parse.add_argument("--out", required=True, help="output folder: <out>/<table>/...parquet")
    parse.add_argument("--snapshot-date", help="snapshot date for files that carry none (OFAC CSV)")
    parse.add_argument("--strict", action="store_true",
                       help="refuse a file whose header count does not match its records (the pipeline always does)")
    parse.set_defaults(func=cmd_parse)
    query = sub.add_parser("query", help="run SQL read-only against the published database")
    query.add_argument("sql", help="one read-only statement (SELECT, WITH, FROM, DESCRIBE, SUMMARIZE...)")
    query.add_argument("--db", help="database file (default: the current publication)")
    query.add_argument("--format", choices=("table", "csv", "json"), default="table",
                       help="output format (default: %(default)s)")
    query.add_argument("--max-rows", type=int, default=100, help="at most this many rows (default: %(default)s)")
    query.add_argument("--timeout", type=float, metavar="SECONDS",
                       help="interrupt the statement after this many seconds (default: PIPELINE_QUERY_TIMEOUT, 60; "
                            "0: no limit)")
    query.add_argument("--memory-limit", metavar="SIZE",
                       help="DuckDB memory limit such as 2GB (default: PIPELINE_QUERY_MEMORY_LIMIT, 2GB)")
    query.set_defaults(func=cmd_query)
    extract = sub.add_parser("extract", help="extract events and claims from news articles as JSON lines")
    extract.add_argument("files", nargs="*", help=".md/.txt files with front matter, .jsonl files, or folders")
    extract.add_argument("--score", action="store_true",
                         help="print the extractor's accuracy scorecard on the project's labelled sentences, "
                         "or, given labelled news corpus files (YAML), on their articles")
    extract.add_argument("--errors", action="store_true", help="with --score: list every miss")
    extract.set_defaults(func=cmd_extract)
    match = sub.add_parser("match", help="unique targets: the matcher's scorecard, or an FtM export")
    match.add_argument("--score", action="store_true",
                       help="print precision and recall per stage and entity type on the labelled pairs")
    match.add_argument("--set", action="append", choices=("dev", "heldout"),
                       help="with --score: only this labelled set (repeatable; default both)")
    match.add_argument("--errors", action="store_true", help="with --score: list every false merge and miss")
    match.add_argument("--export-ftm", metavar="FILE",
                       help="write the unique targets and their designations as FollowTheMoney JSON lines")
    match.add_argument("--db", help="with --export-ftm: database file (default: the current publication)")
    match.set_defaults(func=cmd_match)
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
