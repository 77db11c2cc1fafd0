"""Check tables against Great Expectations suites and turn the results into pipeline decisions.

Every stage (raw files, staged tables, marts) is checked the same way::

    docs = settings.gx_dir / "docs"
    reports = validate_stage("staged", tables, staged_suites(...), docs_dir=docs)

A table is a pandas DataFrame or a DuckDB relation (a Parquet scan, a mart of the built
database): nothing is read into pandas to be checked. Each suite is checked in two steps:

1. **The rules, in DuckDB.** Every expectation of the suite (its type and kwargs, as written in
   ``expectations/``) is compiled to SQL and evaluated in one aggregate query over the table:
   rows counted, rows that break it, observed values of table-level rules. For a rule that
   rows break, a bounded second query fetches the most frequent offending values and, with
   ``index_columns``, the offending rows. An expectation type with no SQL form here is
   evaluated by GX itself on a pandas frame of only the columns it names (:func:`_gx_fallback`).
2. **The verdict, in GX.** The outcome is one small frame with a row per rule (counts, share of
   rows that keep it, its ``mostly``, severity, examples, any evaluation error), and GX validates
   that frame with the suite's *audit* (:func:`_audit_suite`): every rule could be evaluated, every
   critical rule holds (share >= mostly), every warning rule holds, every rule was evaluated.
   GX's failing rows are the failing rules; their results and Data Docs name each rule.

The rest is unchanged:

- GX marks a run failed if *any* expectation fails, whatever its severity. Here a rule with
  ``severity="warning"`` (or ``"info"``) only logs a warning; a failing ``critical`` one, or any
  rule that could not be evaluated (a missing column, a type error), is a critical failure and
  :func:`check` raises :class:`~pipeline.errors.ValidationFailed` naming the suite and every
  failed critical rule.
- With ``index_columns`` (the raw stage passes ``source, name, kind``), each failure names every
  row that broke it, by those columns, and :attr:`SuiteReport.unexpected_rows` lists them, so a
  caller never re-validates row by row to find the culprits.
- With ``docs_dir``, results are kept as JSON beside it (``<docs_dir.parent>/validations``,
  suites in ``<docs_dir.parent>/expectations``) and Data Docs HTML is built in ``docs_dir``.
  The GX context itself stays in memory (no ``great_expectations.yml``), so Airflow tasks
  validating in parallel never rewrite a shared config file.

Great Expectations is imported on the first validation, once per process (:func:`_gx`);
importing this module does not import it.
"""

from __future__ import annotations

import html
import json
import logging
import math
import os
import re
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pandas as pd

from pipeline.errors import ValidationFailed

log = logging.getLogger(__name__)

__all__ = ["SuiteReport", "build_pending_docs", "check", "offline_data_docs", "phase_seconds", "preload",
           "sql_literal", "validate_frame", "validate_stage"]

DATASOURCE = "pipeline_frames"
BATCH_DEFINITION = "whole_frame"
DOCS_SITE = "local_site"
_MAX_ARG_CHARS = 160
_MAX_EXAMPLES = 5
_MAX_ROWS_SHOWN = 10
#: At most this many offending rows per rule are fetched for ``index_columns`` (raw: one row per file).
MAX_UNEXPECTED_ROWS = 100_000
#: The columns of a rule row that GX names when the audit finds a rule failing (table and rule: the key).
AUDIT_INDEX_COLUMNS = ["table", "rule_index", "expectation", "column", "rule", "unexpected_count", "element_count",
                       "examples"]


@dataclass
class SuiteReport:
    """What one suite said about one table.

    ``success`` is False only when a critical rule failed; warnings do not count.
    ``evaluated`` is the number of rules evaluated.
    ``data_docs`` is the path of the Data Docs ``index.html`` when docs were built.
    ``unexpected_rows`` (only when validated with ``index_columns``): for each failed critical
    rule, in the order of ``failed_critical``, every row that broke it, as a mapping of the
    index columns to the row's values (table-level rules have none).
    """

    suite: str
    success: bool
    evaluated: int
    failed_critical: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    data_docs: str | None = None
    unexpected_rows: list[list[dict[str, Any]]] = field(default_factory=list)


# --------------------------------------------------------------------------- GX, once per process


#: Seconds spent per phase, summed over the process (see :func:`phase_seconds`): ``import`` (the wait
#: for Great Expectations' import: all of it without :func:`preload`, what is left of it with),
#: ``context`` (GX contexts), ``rules`` (the rules in DuckDB), ``gx`` (GX's verdicts: suites stored,
#: validations run and their results stored), ``docs`` (Data Docs).
PHASES: dict[str, float] = {}
_gx_modules: SimpleNamespace | None = None
_gx_lock = threading.Lock()
_preload_thread: threading.Thread | None = None


class _phase:
    """Add the wall time of a ``with`` block to :data:`PHASES`."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __enter__(self) -> None:
        self.started = time.perf_counter()

    def __exit__(self, *_exc: object) -> None:
        PHASES[self.name] = PHASES.get(self.name, 0.0) + time.perf_counter() - self.started


def phase_seconds(reset: bool = False) -> dict[str, float]:
    """Seconds spent in each phase of validation in this process so far (:data:`PHASES`); ``reset``
    starts the sums again."""
    out = dict(PHASES)
    if reset:
        PHASES.clear()
    return out


def _import_gx() -> SimpleNamespace:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    import great_expectations as gx
    import great_expectations.expectations as gxe
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    return SimpleNamespace(
        gx=gx, gxe=gxe, RunIdentifier=RunIdentifier, DataContextConfig=DataContextConfig,
        InMemoryStoreBackendDefaults=InMemoryStoreBackendDefaults, ProgressBarsConfig=ProgressBarsConfig,
        ExpectationSuiteIdentifier=ExpectationSuiteIdentifier, ValidationResultIdentifier=ValidationResultIdentifier,
    )


def _gx(phase: str = "import") -> SimpleNamespace:
    """Great Expectations' modules, imported on first use and once per process (several seconds).

    Thread-safe: while :func:`preload` imports them in the background, a caller waits for that
    import (the wait is the ``import`` phase) instead of importing a second time."""
    global _gx_modules  # noqa: PLW0603 - one import per process
    if _gx_modules is not None:
        return _gx_modules
    started = time.perf_counter()
    with _phase(phase), _gx_lock:
        if _gx_modules is None:
            _gx_modules = _import_gx()
            log.info("imported Great Expectations in %.2fs (thread %s)", time.perf_counter() - started,
                     threading.current_thread().name)
        else:
            log.info("waited %.2fs for Great Expectations, imported in the background", time.perf_counter() - started)
    return _gx_modules


def _preload() -> None:
    try:
        _gx("import_background")
    except Exception as exc:  # noqa: BLE001 - the first validation imports again and raises there
        log.debug("preloading Great Expectations failed: %s", exc)


def preload() -> threading.Thread | None:
    """Import Great Expectations in a background thread, so that the process's first validation finds
    it imported. Call it once, early, in the process that will validate, after its own heavy imports
    (Airflow, pandas) are done. Returns the thread (None: GX is imported already or
    ``PIPELINE_GX_PRELOAD=0``). Safe to call more than once; the validations that follow wait for the
    import rather than import it twice; a failed import is tried again, and raises, at the first
    validation.

    What it saves is the part of the import (4.5 s quiet, 8-20 s loaded) that overlaps with the
    process *waiting* (files, network, DuckDB). Overlapped with Python work it saves nothing (one GIL):
    ``bench/gx_cost.py`` measured a ``pipeline run`` whose Airflow process preloads after its DagBag
    with a 1.0-1.2 s ``validate raw`` step instead of 10-22 s, but the same run time (191 s against
    189 s, run side by side): the import moved into Airflow's start, it did not disappear."""
    global _preload_thread  # noqa: PLW0603
    if _gx_modules is not None or os.environ.get("PIPELINE_GX_PRELOAD") == "0":
        return None
    if _preload_thread is None:
        _preload_thread = threading.Thread(target=_preload, name="gx-preload", daemon=True)
        _preload_thread.start()
    return _preload_thread


_contexts: dict[Path | None, Any] = {}


def _context(docs_dir: Path | None) -> Any:
    """One GX context per docs location, per process.

    Without ``docs_dir``: everything in memory. With it: suites and validation results are
    stored as JSON beside ``docs_dir`` and the Data Docs site is ``docs_dir`` itself.
    """
    key = docs_dir.resolve() if docs_dir is not None else None
    ctx = _contexts.get(key)
    if ctx is not None:
        return ctx
    g = _gx()
    started = time.perf_counter()
    defaults = g.InMemoryStoreBackendDefaults()
    stores = defaults.stores
    docs_sites: dict[str, Any] = {}
    if key is not None:
        root = key.parent
        for store_name, folder in (
            (defaults.expectations_store_name, "expectations"),
            (defaults.validation_results_store_name, "validations"),
        ):
            stores[store_name]["store_backend"] = {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(root / folder),
            }
        docs_sites[DOCS_SITE] = {
            "class_name": "SiteBuilder",
            "show_how_to_buttons": False,
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(key),
            },
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        }
    config = g.DataContextConfig(
        store_backend_defaults=defaults,
        stores=stores,
        data_docs_sites=docs_sites,
        analytics_enabled=False,
        progress_bars=g.ProgressBarsConfig(globally=False),  # no tqdm "Calculating Metrics" bars
    )
    ctx = g.gx.get_context(mode="ephemeral", project_config=config)
    ctx.data_sources.add_pandas(name=DATASOURCE)
    _contexts[key] = ctx
    PHASES["context"] = PHASES.get("context", 0.0) + time.perf_counter() - started
    return ctx


def _batch_definition(ctx: Any, asset_name: str) -> Any:
    datasource = ctx.data_sources.get(DATASOURCE)
    try:
        asset = datasource.get_asset(asset_name)
    except LookupError:
        asset = datasource.add_dataframe_asset(name=asset_name)
    try:
        return asset.get_batch_definition(BATCH_DEFINITION)
    except KeyError:
        return asset.add_batch_definition_whole_dataframe(BATCH_DEFINITION)


# --------------------------------------------------------------------------- SQL for each rule


def _ident(name: str) -> str:
    return '"' + str(name).replace('"', '""') + '"'


def sql_literal(value: Any) -> str:
    """A SQL literal for an expectation argument (a value set member, a bound) or a name."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "'NaN'::DOUBLE"
        if math.isinf(value):
            return "'Infinity'::DOUBLE" if value > 0 else "'-Infinity'::DOUBLE"
        return repr(value)
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, datetime):
        return f"TIMESTAMP '{value.replace(tzinfo=None).isoformat(sep=' ')}'"
    if isinstance(value, date):
        return f"DATE '{value.isoformat()}'"
    return "'" + str(value).replace("'", "''") + "'"


@dataclass
class _Check:
    """One expectation as SQL.

    A row rule (``kind="map"``): ``considered`` says which rows count (GX's denominator: every row
    for a null check, the non-null ones otherwise), ``unexpected`` which of them break the rule,
    ``value`` what an offending row shows. A table rule (``kind="table"``): ``aggregate`` is the
    observed value, judged by ``judge``. ``window`` adds a column the others need (duplicate counts).
    """

    kind: str
    columns: tuple[str, ...]
    considered: str = "TRUE"
    unexpected: str = "FALSE"
    value: str | None = None
    aggregate: str | None = None
    window: str | None = None
    judge: Any = None  # (observed) -> bool, for table rules
    not_null_rule: bool = False  # GX's null check counts every row, other row rules only non-null ones


def _bound_predicate(expr: str, kw: Mapping[str, Any]) -> str | None:
    """``expr`` within ``min_value``/``max_value`` (``strict_min``/``strict_max``), as GX reads them."""
    parts = []
    if kw.get("min_value") is not None:
        parts.append(f"{expr} {'>' if kw.get('strict_min') else '>='} {sql_literal(kw['min_value'])}")
    if kw.get("max_value") is not None:
        parts.append(f"{expr} {'<' if kw.get('strict_max') else '<='} {sql_literal(kw['max_value'])}")
    return " AND ".join(parts) if parts else None


def _within(observed: Any, kw: Mapping[str, Any]) -> bool:
    low, high = kw.get("min_value"), kw.get("max_value")
    if observed is None:
        return False
    if low is not None and (observed <= low if kw.get("strict_min") else observed < low):
        return False
    return not (high is not None and (observed >= high if kw.get("strict_max") else observed > high))


def _pair_considered(a: str, b: str, ignore: str | None) -> str:
    ignore = ignore or "both_values_are_missing"
    if ignore == "either_value_is_missing":
        return f"({a} IS NOT NULL AND {b} IS NOT NULL)"
    if ignore == "neither":
        return "TRUE"
    return f"({a} IS NOT NULL OR {b} IS NOT NULL)"


def _compile(index: int, kind: str, kw: Mapping[str, Any]) -> _Check | None:  # noqa: C901, PLR0911, PLR0912
    """The SQL of one expectation, or None when the type has no SQL form here (GX evaluates it)."""
    column = kw.get("column")
    c = _ident(column) if column is not None else ""
    if kind == "expect_column_values_to_not_be_null":
        return _Check("map", (column,), "TRUE", f"{c} IS NULL", None, not_null_rule=True)
    if kind == "expect_column_values_to_be_null":
        return _Check("map", (column,), "TRUE", f"{c} IS NOT NULL", c, not_null_rule=True)
    if kind in ("expect_column_values_to_be_in_set", "expect_column_values_to_not_be_in_set"):
        values = list(kw.get("value_set") or [])
        member = f"{c} IN ({', '.join(sql_literal(v) for v in values)})" if values else "FALSE"
        unexpected = f"NOT coalesce({member}, FALSE)" if kind.endswith("to_be_in_set") else f"coalesce({member}, FALSE)"
        return _Check("map", (column,), f"{c} IS NOT NULL", unexpected, c)
    if kind in ("expect_column_values_to_match_regex", "expect_column_values_to_not_match_regex"):
        found = f"regexp_matches(CAST({c} AS VARCHAR), {sql_literal(kw['regex'])})"
        unexpected = f"NOT {found}" if kind == "expect_column_values_to_match_regex" else found
        return _Check("map", (column,), f"{c} IS NOT NULL", unexpected, c)
    if kind == "expect_column_values_to_be_between":
        bounds = _bound_predicate(c, kw)
        if bounds is None:
            return None  # GX refuses it: let GX say so
        return _Check("map", (column,), f"{c} IS NOT NULL", f"NOT coalesce({bounds}, FALSE)", c)
    if kind == "expect_column_value_lengths_to_be_between":
        bounds = _bound_predicate(f"length(CAST({c} AS VARCHAR))", kw)
        if bounds is None:
            return None
        return _Check("map", (column,), f"{c} IS NOT NULL", f"NOT coalesce({bounds}, FALSE)", c)
    if kind == "expect_column_values_to_be_unique":
        dup = f"__dup_{index}"
        return _Check("map", (column,), f"{c} IS NOT NULL", f"{dup} > 1", c,
                      window=f"count(*) OVER (PARTITION BY {c}) AS {dup}")
    if kind == "expect_compound_columns_to_be_unique":
        cols = list(kw["column_list"])
        idents = [_ident(x) for x in cols]
        ignore = kw.get("ignore_row_if") or "all_values_are_missing"
        if ignore == "any_value_is_missing":
            considered = "(" + " AND ".join(f"{x} IS NOT NULL" for x in idents) + ")"
        elif ignore == "never":
            considered = "TRUE"
        else:
            considered = "(" + " OR ".join(f"{x} IS NOT NULL" for x in idents) + ")"
        dup = f"__dup_{index}"
        return _Check("map", tuple(cols), considered, f"{dup} > 1", f"({', '.join(idents)})",
                      window=f"count(*) OVER (PARTITION BY {', '.join(idents)}) AS {dup}")
    if kind in ("expect_column_pair_values_to_be_equal", "expect_column_pair_values_a_to_be_greater_than_b"):
        a, b = _ident(kw["column_A"]), _ident(kw["column_B"])
        if kind == "expect_column_pair_values_to_be_equal":
            unexpected = f"{a} IS DISTINCT FROM {b}"
        else:
            unexpected = f"NOT coalesce({a} {'>=' if kw.get('or_equal') else '>'} {b}, FALSE)"
        return _Check("map", (kw["column_A"], kw["column_B"]), _pair_considered(a, b, kw.get("ignore_row_if")),
                      unexpected, f"({a}, {b})")
    if kind == "expect_table_row_count_to_be_between":
        return _Check("table", (), aggregate="count(*)", judge=lambda n: _within(n, kw))
    if kind == "expect_table_row_count_to_equal":
        return _Check("table", (), aggregate="count(*)", judge=lambda n: n == kw.get("value"))
    if kind == "expect_column_unique_value_count_to_be_between":
        return _Check("table", (column,), aggregate=f"count(DISTINCT {c})", judge=lambda n: _within(n, kw))
    if kind == "expect_column_to_exist":
        return _Check("table", (column,), aggregate="TRUE", judge=lambda _: True)
    return None


# --------------------------------------------------------------------------- evaluating a suite's rules


@dataclass
class _Rule:
    """One expectation of a suite and what the table said about it."""

    index: int
    config: Any
    type: str
    kwargs: dict[str, Any]
    severity: str
    rule: str
    check: _Check | None = None
    element_count: int | None = None
    considered: int | None = None
    unexpected_count: int | None = None
    observed: Any = None
    missing: list[str] | None = None
    error: str | None = None
    examples: list[tuple[Any, int]] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    success_ratio: float | None = None
    mostly: float = 1.0

    @property
    def column_text(self) -> str:
        kw = self.kwargs
        if "column" in kw:
            return str(kw["column"])
        if "column_A" in kw:
            return f"{kw['column_A']}, {kw['column_B']}"
        if "column_list" in kw:
            return ", ".join(map(str, kw["column_list"]))
        return ""


def _rules(suite: Any) -> list[_Rule]:
    rules = []
    for i, expectation in enumerate(suite.expectations):
        cfg = expectation.configuration
        kwargs = {k: v for k, v in cfg.kwargs.items() if k != "batch_id"}
        severity = str(getattr(cfg.severity, "value", cfg.severity) or "critical").lower()
        text = (cfg.meta or {}).get("rule") or cfg.notes or cfg.description or ""
        rule = _Rule(i, cfg, cfg.type, kwargs, severity, str(text), mostly=float(kwargs.get("mostly", 1.0) or 1.0))
        rule.check = _compile(i, cfg.type, kwargs)
        rules.append(rule)
    return rules


def _relation(con: Any, frame: Any) -> Any:
    """A DuckDB relation over ``frame`` (a relation is used as it is)."""
    if isinstance(frame, pd.DataFrame):
        return con.from_df(frame)
    return frame


def _query(rel: Any, sql: str) -> list[tuple]:
    return rel.query("t", sql).fetchall()


def _base(rel: Any, checks: Sequence[_Check]) -> str:
    windows = [ch.window for ch in checks if ch.window]
    return f"(SELECT *, {', '.join(windows)} FROM t)" if windows else "t"


def _aggregates(rule: _Rule) -> list[str]:
    ch = rule.check
    if ch.kind == "table":
        return [ch.aggregate]
    return [f"coalesce(count_if({ch.considered}), 0)",
            f"coalesce(count_if(({ch.considered}) AND ({ch.unexpected})), 0)"]


def _evaluate(rel: Any, columns: list[str], rules: list[_Rule], index_columns: Sequence[str]) -> int:
    """Evaluate every SQL rule over ``rel`` in one aggregate query (rule by rule when that query
    fails, to name the rule that cannot be evaluated); then fetch examples of the broken ones.
    Returns the table's row count."""
    present = set(columns)
    runnable = []
    for rule in rules:
        if rule.check is None:
            continue
        if rule.type == "expect_table_columns_to_match_set":
            continue
        missing = [c for c in rule.check.columns if c not in present]
        if missing:
            rule.error = f"column(s) {missing} not in the table"
            continue
        runnable.append(rule)

    def run(batch: list[_Rule]) -> int:
        selects = ["count(*)"] + [a for r in batch for a in _aggregates(r)]
        (row,) = _query(rel, f"SELECT {', '.join(selects)} FROM {_base(rel, [r.check for r in batch])}")
        values = list(row[1:])
        for r in batch:
            if r.check.kind == "table":
                r.observed = values.pop(0)
            else:
                r.considered, r.unexpected_count = int(values.pop(0)), int(values.pop(0))
        return int(row[0])

    try:
        total = run(runnable)
    except Exception as exc:  # noqa: BLE001 - a type error in one rule: find which, evaluate the others
        log.debug("aggregate query failed (%s); evaluating rule by rule", exc)
        total = _query(rel, "SELECT count(*) FROM t")[0][0]
        for rule in runnable:
            try:
                run([rule])
            except Exception as rule_exc:  # noqa: BLE001
                rule.error = " ".join(str(rule_exc).split())[:400]
    for rule in rules:
        rule.element_count = total
        if rule.type == "expect_table_columns_to_match_set":
            _columns_rule(rule, columns)
        elif rule.check is not None and rule.error is None:
            _judge(rule, total)
            if rule.unexpected_count:
                _fetch_examples(rel, rule, index_columns, present)
    return total


def _columns_rule(rule: _Rule, columns: list[str]) -> None:
    """``expect_table_columns_to_match_set`` as GX reads it: with ``exact_match`` no column more
    or less; without, every listed column present."""
    expected = set(rule.kwargs.get("column_set") or [])
    actual = set(columns)
    rule.missing = sorted(expected - actual)
    extra = sorted(actual - expected)
    exact = rule.kwargs.get("exact_match", True)
    ok = not rule.missing and (not exact or not extra)
    rule.observed = sorted(columns)
    rule.success_ratio = 1.0 if ok else 0.0


def _judge(rule: _Rule, total: int) -> None:
    ch = rule.check
    if ch.kind == "table":
        ok = bool(ch.judge(rule.observed))
        rule.success_ratio = 1.0 if ok else 0.0
        return
    considered = total if ch.not_null_rule else rule.considered
    if not total or not considered:
        rule.success_ratio = 1.0  # GX: vacuously true
    else:
        rule.success_ratio = (float(considered) - float(rule.unexpected_count)) / float(considered)


def _fetch_examples(rel: Any, rule: _Rule, index_columns: Sequence[str], present: set[str]) -> None:
    ch = rule.check
    base = _base(rel, [ch])
    where = f"({ch.considered}) AND ({ch.unexpected})"
    try:
        if ch.value is not None:
            rule.examples = [(v, int(n)) for v, n in _query(
                rel, f"SELECT {ch.value} AS v, count(*) AS n FROM {base} WHERE {where} "
                     f"GROUP BY ALL ORDER BY n DESC, v NULLS FIRST LIMIT {_MAX_EXAMPLES}")]
        named = [c for c in index_columns if c in present]
        if named:
            cols = ", ".join(_ident(c) for c in named)
            rule.rows = [dict(zip(named, r, strict=True)) for r in _query(
                rel, f"SELECT {cols} FROM {base} WHERE {where} ORDER BY {cols} LIMIT {MAX_UNEXPECTED_ROWS}")]
    except Exception as exc:  # noqa: BLE001 - the counts stand; only the examples are missing
        log.warning("could not fetch the offending values of %s: %s", rule.type, exc)


def _gx_fallback(rel: Any, columns: list[str], rules: list[_Rule], index_columns: Sequence[str],
                 suite_name: str = "suite") -> None:
    """Rules with no SQL form here: GX evaluates them on a pandas frame of only the columns they
    name (every column when they name none), in one pass, and their results become rule rows."""
    todo = [r for r in rules if r.check is None and r.type != "expect_table_columns_to_match_set"]
    if not todo:
        return
    g = _gx()
    named: list[str] = []
    for r in todo:
        for key in ("column", "column_A", "column_B"):
            if r.kwargs.get(key) is not None:
                named.append(str(r.kwargs[key]))
        named += [str(c) for c in r.kwargs.get("column_list") or []]
    wanted = [c for c in dict.fromkeys([*named, *index_columns]) if c in columns] if named else list(columns)
    frame = rel.query("t", f"SELECT {', '.join(_ident(c) for c in wanted)} FROM t").df() if wanted else rel.df()
    ctx = _context(None)
    name = f"fallback.{suite_name}"  # in the in-memory context: nothing of it is stored or rendered
    suite = ctx.suites.add_or_update(g.gx.ExpectationSuite(name=name, expectations=[
        r.config.to_domain_obj() for r in todo]))
    definition = ctx.validation_definitions.add_or_update(
        g.gx.ValidationDefinition(name=name, data=_batch_definition(ctx, name), suite=suite))
    fmt: Any = "SUMMARY"
    if index_columns:
        fmt = {"result_format": "COMPLETE", "unexpected_index_column_names": [c for c in index_columns if c in wanted]}
    result = definition.run(batch_parameters={"dataframe": frame}, result_format=fmt)
    for rule, res in zip(todo, result.results, strict=True):
        out = res.result or {}
        errors = _exception_messages(res.exception_info)
        if errors:
            rule.error = "; ".join(dict.fromkeys(errors))
            continue
        rule.element_count = out.get("element_count", len(frame))
        rule.unexpected_count = out.get("unexpected_count")
        rule.considered = out.get("element_count") if rule.type.endswith("not_be_null") else \
            (rule.element_count or 0) - (out.get("missing_count") or 0)
        rule.observed = out.get("observed_value")
        counts = out.get("partial_unexpected_counts") or []
        rule.examples = [(c.get("value"), int(c.get("count", 1))) for c in counts[:_MAX_EXAMPLES]] or \
            [(v, 1) for v in (out.get("partial_unexpected_list") or [])[:_MAX_EXAMPLES]]
        rule.rows = [{k: row.get(k) for k in index_columns} for row in out.get("unexpected_index_list") or []
                     if isinstance(row, Mapping)]
        rule.success_ratio = 1.0 if res.success else 0.0


# --------------------------------------------------------------------------- describing results


def _fmt(value: Any) -> str:
    if isinstance(value, datetime) and value.time() == datetime.min.time():
        text = value.date().isoformat()
    elif isinstance(value, date):
        text = value.isoformat()
    elif isinstance(value, tuple):
        text = "(" + ", ".join(_fmt(v) for v in value) + ")"
    else:
        text = repr(value)
    return text if len(text) <= _MAX_ARG_CHARS else text[: _MAX_ARG_CHARS - 3] + "..."


def _exception_messages(info: Any) -> list[str]:
    """GX nests exception info per metric when a metric failed to compute."""
    if not isinstance(info, Mapping):
        return []
    if "raised_exception" in info:
        return [str(info.get("exception_message"))] if info.get("raised_exception") else []
    messages: list[str] = []
    for value in info.values():
        messages += _exception_messages(value)
    return messages


def _examples_text(rule: _Rule) -> str:
    shown = [f"{_fmt(v)} x{n}" for v, n in rule.examples[:_MAX_EXAMPLES]]
    return f", e.g. {', '.join(shown)}" if shown else ""


def _summary(rule: _Rule) -> str:
    if rule.error:
        return f"could not be evaluated: {rule.error}"
    if rule.missing:
        return f"missing columns {rule.missing}"
    if rule.check is not None and rule.check.kind == "table" or rule.unexpected_count is None:
        return f"observed {_fmt(rule.observed)}"
    n, total = rule.unexpected_count, rule.element_count
    considered = total if rule.check is None or rule.check.not_null_rule else rule.considered
    pct = 100.0 * n / considered if considered else float("nan")
    share = ""
    if not math.isnan(pct):  # 1 of 10,000 reads 0.01%, not 0.0%
        share = f" ({pct:.2g}%)" if 0 < pct < 0.1 else f" ({pct:.1f}%)"
    if rule.type == "expect_column_values_to_not_be_null":
        return f"{n} of {total} rows are null{share}"
    return f"{n} of {total} rows unexpected{share}{_examples_text(rule)}"


def _rows_text(rows: list[dict[str, Any]]) -> str:
    shown = [" ".join(f"{k}={_fmt(v)}" for k, v in row.items()) for row in rows[:_MAX_ROWS_SHOWN]]
    more = f" and {len(rows) - len(shown):,} more" if len(rows) > len(shown) else ""
    return f"; failing rows: {'; '.join(shown)}{more}"


def _describe(rule: _Rule) -> str:
    """``<expectation_type>(<kwargs>): <what was observed> — <rule>[; failing rows: ...]``."""
    args = ", ".join(f"{k}={_fmt(v)}" for k, v in rule.kwargs.items())
    text = f"{rule.type}({args}): {_summary(rule)}"
    if rule.rule:
        text += f" — {rule.rule}"
    if rule.rows:
        text += _rows_text(rule.rows)
    return text


# --------------------------------------------------------------------------- the verdict: GX on the rule rows


@dataclass
class _Table:
    """One table of a GX verdict: its suite and what its rules said."""

    table: str
    suite: Any
    rules: list[_Rule]


def _rule_frame(tables: list[_Table]) -> pd.DataFrame:
    """One row per rule of every table, keyed by table and rule: what GX validates (and what its
    results and Data Docs show)."""
    rules = [(t.table, r) for t in tables for r in t.rules]

    def share(r: _Rule, severity: bool) -> float | None:
        return r.mostly if severity and r.error is None else None

    return pd.DataFrame({
        "table": pd.Series([t for t, _ in rules], dtype="object"),
        "rule_index": pd.Series([r.index for _, r in rules], dtype="int64"),
        "expectation": pd.Series([r.type for _, r in rules], dtype="object"),
        "column": pd.Series([r.column_text for _, r in rules], dtype="object"),
        "rule": pd.Series([r.rule for _, r in rules], dtype="object"),
        "severity": pd.Series([r.severity for _, r in rules], dtype="object"),
        "element_count": pd.Series([r.element_count for _, r in rules], dtype="Int64"),
        "unexpected_count": pd.Series([r.unexpected_count for _, r in rules], dtype="Int64"),
        "observed": pd.Series([_summary(r) for _, r in rules], dtype="object"),
        "examples": pd.Series([_examples_text(r).removeprefix(", e.g. ") or None for _, r in rules], dtype="object"),
        "error": pd.Series([r.error for _, r in rules], dtype="object"),
        "success_ratio": pd.Series([r.success_ratio if r.error is None else None for _, r in rules], dtype="float64"),
        "mostly_critical": pd.Series([share(r, r.severity == "critical") for _, r in rules], dtype="float64"),
        "mostly_warning": pd.Series([share(r, r.severity != "critical") for _, r in rules], dtype="float64"),
    })


_AUDIT_FORMAT = {"result_format": "COMPLETE", "unexpected_index_column_names": AUDIT_INDEX_COLUMNS,
                 "return_unexpected_index_query": False}


def _rule_note(r: _Rule) -> str:
    return (f"{r.index}. [{r.severity}] {r.type}({', '.join(f'{k}={_fmt(v)}' for k, v in r.kwargs.items())})"
            + (f" — {r.rule}" if r.rule else ""))


def _audit_suite(name: str, tables: list[_Table], stage: str | None) -> Any:
    """The GX suite that judges the rule rows of ``tables`` (one row per table and rule); its notes
    list every rule of every table."""
    g = _gx()
    gxe = g.gxe
    rules = [r for t in tables for r in t.rules]

    def audit(cls: Any, what: str, rule: str, **kw: Any) -> Any:
        return cls(meta={"rule": rule, "audit": what}, notes=rule, **kw)

    # a severity no rule has gets no audit expectation (each costs GX time on every run)
    severities = {r.severity == "critical" for r in rules}
    expectations = [
        audit(gxe.ExpectColumnValuesToBeNull, "evaluated", "every rule could be evaluated (a missing column or a "
              "type error is a critical failure)", column="error"),
        *([audit(gxe.ExpectColumnPairValuesAToBeGreaterThanB, "critical", "every critical rule holds: the share of "
                 "rows that keep it (success_ratio) is at least its mostly (1: every row)", column_A="success_ratio",
                 column_B="mostly_critical", or_equal=True, ignore_row_if="either_value_is_missing")]
          if True in severities else []),
        *([audit(gxe.ExpectColumnPairValuesAToBeGreaterThanB, "warning", "every warning rule holds (a failing one "
                 "only warns)", column_A="success_ratio", column_B="mostly_warning", or_equal=True,
                 ignore_row_if="either_value_is_missing", severity="warning")]
          if False in severities else []),
        audit(gxe.ExpectTableRowCountToEqual, "count", f"every one of the {len(rules)} rules was evaluated",
              value=len(rules)),
    ]
    if len(tables) == 1:
        notes = [f"The rules of {tables[0].suite.name}, evaluated in DuckDB over the whole table; this suite judges "
                 "their outcome (one row per rule). Rules:"]
        notes += [_rule_note(r) for r in tables[0].rules]
    else:
        notes = [f"The rules of {len(tables)} tables ({', '.join(t.suite.name for t in tables)}), each evaluated in "
                 "DuckDB over its whole table; this suite judges their outcome (one row per table and rule). Rules:"]
        for t in tables:
            notes.append(f"**{t.table}** (suite {t.suite.name}, {len(t.rules)} rules):")
            notes += [f"{t.table} {_rule_note(r)}" for r in t.rules]
    meta: dict[str, Any] = {"rules": len(rules), "tables": {t.table: t.suite.name for t in tables}}
    if stage:
        meta["stage"] = stage
    return g.gx.ExpectationSuite(name=name, expectations=expectations, meta=meta, notes=notes)


def _verdict(result: Any, tables: list[_Table]) -> tuple[dict[str, list[_Rule]], dict[str, list[_Rule]], list[str]]:
    """``(critical rules failed, warning rules failed)``, each by table, and the audit failures that
    name no rule, from GX's result."""
    by_key = {(t.table, r.index): r for t in tables for r in t.rules}
    critical: dict[tuple[str, int], _Rule] = {}
    warnings: dict[tuple[str, int], _Rule] = {}
    other: list[str] = []
    for res in result.results:
        if res.success:
            continue
        cfg = res.expectation_config
        what = (cfg.meta or {}).get("audit")
        errors = _exception_messages(res.exception_info)
        if errors:
            other.append(f"the audit '{cfg.notes}' could not be evaluated: {'; '.join(dict.fromkeys(errors))}")
            continue
        keys = [(str(row.get("table")), int(row.get("rule_index", -1)))
                for row in (res.result or {}).get("unexpected_index_list") or [] if isinstance(row, Mapping)]
        failed = {k: by_key[k] for k in keys if k in by_key}
        if what == "warning":
            warnings.update(failed)
        elif what in ("evaluated", "critical"):
            critical.update(failed)
        else:
            other.append(f"{cfg.type}: {(res.result or {}).get('observed_value')} — {cfg.notes}")
    by_table_critical = {t.table: [critical[k] for k in sorted(critical) if k[0] == t.table] for t in tables}
    by_table_warnings = {t.table: [warnings[k] for k in sorted(warnings) if k[0] == t.table and k not in critical]
                         for t in tables}
    return by_table_critical, by_table_warnings, other


# --------------------------------------------------------------------------- running


def _evaluate_suite(table: str, suite: Any, frame: Any, index_columns: Sequence[str] = (),
                    con: Any = None) -> _Table:
    """Evaluate the rules of ``suite`` on ``frame`` in DuckDB (GX only for a type with no SQL form)."""
    with _phase("rules"):
        rules = _rules(suite)
        own = None
        if con is None and isinstance(frame, pd.DataFrame):
            import duckdb

            con = own = duckdb.connect()
        try:
            rel = _relation(con, frame)
            columns = list(rel.columns)
            _evaluate(rel, columns, rules, index_columns)
            _gx_fallback(rel, columns, rules, index_columns, suite.name)
        finally:
            if own is not None:
                own.close()
    return _Table(table, suite, rules)


def _groups(stage: str, suites: Mapping[str, Any], evaluated: list[_Table], run_name: str | None,
            result_name: str | None = None) -> list[tuple[str, list[_Table]]]:
    """The GX validations of one :func:`validate_stage` call, each ``(suite and result name, tables)``.

    ``result_name``: one, so named. With ``run_name`` and several tables (the staged checks of one
    source): one, named ``<stage>.<run_name>`` (``staged.us_ofac_sdn``). Either way its rows are keyed
    by table and rule. Otherwise one per table, named by the table's suite (``raw.files``,
    ``marts.mart_designations``)."""
    if result_name or (run_name and len(suites) > 1):
        return [(result_name or f"{stage}.{run_name}", evaluated)] if evaluated else []
    return [(t.suite.name, [t]) for t in evaluated]


def _gx_verdict(ctx: Any, name: str, tables: list[_Table], run_id: Any, index_columns: Sequence[str],
           stage: str | None) -> tuple[list[SuiteReport], list[Any]]:
    """One GX validation (suite ``name``) of the rule rows of every table in ``tables``; returns a
    report per table, in order, and the resources to render in Data Docs."""
    g = _gx()
    with _phase("gx"):
        stored = ctx.suites.add_or_update(_audit_suite(name, tables, stage))
        definition = ctx.validation_definitions.add_or_update(
            g.gx.ValidationDefinition(name=name, data=_batch_definition(ctx, name), suite=stored))
        frame = _rule_frame(tables)
        rules = [r for t in tables for r in t.rules]
        # GX names the failing rules only in its COMPLETE format, which costs twice BOOLEAN_ONLY: ask for it
        # when a rule looks broken (or when GX, the judge, disagrees with that look: then once more).
        suspect = any(r.error is not None or r.success_ratio is None or r.success_ratio < r.mostly for r in rules)
        result = definition.run(batch_parameters={"dataframe": frame}, run_id=run_id,
                                result_format=_AUDIT_FORMAT if suspect else "BOOLEAN_ONLY")
        if not suspect and not result.success:
            result = definition.run(batch_parameters={"dataframe": frame}, run_id=run_id,
                                    result_format=_AUDIT_FORMAT)
    failed, warned, other = _verdict(result, tables)
    reports = []
    for i, t in enumerate(tables):
        extra = other if i == 0 else []  # an audit failure that names no rule: told once, with the first table
        critical = [_describe(r) for r in failed[t.table]] + extra
        warnings = [_describe(r) for r in warned[t.table]]
        for text in warnings:
            log.warning("GX suite '%s' warning: %s", t.suite.name, text)
        for text in critical:
            log.error("GX suite '%s' failed: %s", t.suite.name, text)
        reports.append(SuiteReport(
            suite=t.suite.name,
            success=not critical,
            evaluated=len(t.rules),
            failed_critical=critical,
            warnings=warnings,
            unexpected_rows=([r.rows for r in failed[t.table]] + [[] for _ in extra]) if index_columns else [],
        ))
    resources = [
        g.ExpectationSuiteIdentifier(name=name),
        g.ValidationResultIdentifier(
            expectation_suite_identifier=g.ExpectationSuiteIdentifier(name=name),
            run_id=run_id,
            batch_identifier=result.batch_id,
        ),
    ]
    return reports, resources


_pending_docs: dict[Path, list[Any]] = {}
_pending_stages: dict[Path, set[str]] = {}


def _build_docs(ctx: Any, resources: list[Any], docs_dir: Path) -> str:
    """Render only this run's pages (and those left for later, see :func:`build_pending_docs`), then
    make the site open offline with its own index of every stored result (:func:`offline_data_docs`;
    GX's index is not built: it would be replaced)."""
    resources = _pending_docs.pop(docs_dir.resolve(), []) + resources
    _pending_stages.pop(docs_dir.resolve(), None)
    with _phase("docs"):
        ctx.build_data_docs(site_names=[DOCS_SITE], resource_identifiers=resources, build_index=False)
        offline_data_docs(docs_dir)
    return str(docs_dir.resolve() / "index.html")


def build_pending_docs(docs_dir: Path) -> str | None:
    """Build the Data Docs pages that :func:`validate_stage` left for later (``docs_later``), once;
    returns the index (None: nothing was pending)."""
    if not _pending_docs.get(docs_dir.resolve()):
        return None
    started = time.perf_counter()
    stages = sorted(_pending_stages.get(docs_dir.resolve(), ()))
    pages = len(_pending_docs[docs_dir.resolve()])
    index = _build_docs(_context(docs_dir), [], docs_dir)
    log.info("validated %s (Data Docs left for later): 0 suite(s), %d page(s) in %.2fs (docs %.2fs)",
             ",".join(stages) or "?", pages, time.perf_counter() - started, time.perf_counter() - started)
    return index


# --------------------------------------------------------------------------- offline Data Docs
#
# GX's pages load Bootstrap, jQuery, bootstrap-table, Font Awesome and Vega from CDNs, and its index
# is an empty table that bootstrap-table fills from a script: offline it is blank. After each build,
# every new page loses its remote scripts, stylesheets and images and gets a small inline stylesheet
# (the content of a result or suite page is static HTML already), and the index is replaced by static
# tables of every stored result and suite, read from the stores, with ``index.json`` beside it (the
# same list for programs: the release report reads it).

OFFLINE_MARK = "<!-- offline: pipeline.validation.offline_data_docs -->"
_REMOTE = r"""["']\s*(?:https?:)?//"""
_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script\s*>", re.I | re.S)
_REMOTE_LINK = re.compile(r"<link\b[^>]*\bhref\s*=\s*" + _REMOTE + r"[^>]*>", re.I)
# GX's validation pages point their favicon one folder too high: a missing file, a console error
_ICON_LINK = re.compile(r"""<link\b[^>]*\brel\s*=\s*["'](?:shortcut )?icon["'][^>]*>""", re.I)
_REMOTE_IMG = re.compile(r"<img\b[^>]*\bsrc\s*=\s*" + _REMOTE + r"[^>]*>", re.I)
_ALT = re.compile(r"""\balt\s*=\s*(["'])(.*?)\1""", re.I | re.S)
_REMOTE_CSS_URL = re.compile(r"""url\(\s*["']?(?:https?:)?//[^)]*\)""", re.I)
_OFFLINE_STYLE = """<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d2733}
.container-fluid{padding:16px 32px}table{border-collapse:collapse;margin:6px 0 14px;width:100%}
th,td{border:1px solid #d5dbe3;padding:3px 6px;text-align:left;vertical-align:top}th{background:#eef2f7}
.navbar{padding:8px 32px;border-bottom:1px solid #d5dbe3}.breadcrumb{list-style:none;display:inline;padding:0}
.breadcrumb li{display:inline;margin-right:8px}.text-success{color:#2e8540}.text-danger{color:#c0392b}
.text-info{color:#1d4f91}.fas.fa-check-circle::before{content:"\\2714"}.fas.fa-times::before,
.fas.fa-times-circle::before{content:"\\2716"}.fas.fa-exclamation-triangle::before{content:"\\26A0"}
.fas.fa-comment::before{content:"\\1F4AC"}.card:has(.btn-group-toggle),.tooltip-text,.popover{display:none}
.card{border:1px solid #d5dbe3;margin:8px 0;padding:6px 10px}.failed{background:#fde8e8}
</style>"""


def _offline_page(text: str) -> str:
    """A GX page without remote resources or scripts, with the offline stylesheet."""
    if OFFLINE_MARK in text[:4096]:
        return text
    text = _SCRIPT.sub("", text)
    text = _ICON_LINK.sub("", _REMOTE_LINK.sub("", text))
    text = _REMOTE_IMG.sub(lambda m: html.escape(html.unescape(_ALT.search(m.group(0)).group(2)))
                           if _ALT.search(m.group(0)) else "", text)
    text = _REMOTE_CSS_URL.sub("none", text)
    head = re.search(r"<head\b[^>]*>", text, re.I)
    at = head.end() if head else 0
    return text[:at] + OFFLINE_MARK + _OFFLINE_STYLE + text[at:]


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _result_summary(store: Path, path: Path) -> dict[str, Any] | None:
    """One stored validation result as a row of the index (None: not a result GX wrote)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log.warning("Data Docs: skipping unreadable validation result %s: %s", path, exc)
        return None
    if not isinstance(data, dict) or "results" not in data:
        return None
    critical = warnings = 0
    evaluated = (data.get("statistics") or {}).get("evaluated_expectations")
    for res in data.get("results") or []:
        cfg = res.get("expectation_config") or {}
        audit = (cfg.get("meta") or {}).get("audit")
        if audit == "count":  # a suite judged by its audit (see _audit_suite): count its rules, not the audit's
            evaluated = (cfg.get("kwargs") or {}).get("value", evaluated)
        if res.get("success"):
            continue
        raised = bool(_exception_messages(res.get("exception_info")))
        failed = 1
        if audit in ("evaluated", "critical", "warning") and not raised:
            failed = int((res.get("result") or {}).get("unexpected_count") or 1)
        if raised or str(cfg.get("severity") or "critical").lower() == "critical":
            critical += failed
        else:
            warnings += failed
    run = ((data.get("meta") or {}).get("run_id") or {})
    rel = path.relative_to(store).with_suffix(".html").as_posix()
    return {
        "suite": data.get("suite_name"),
        "run_name": run.get("run_name"),
        "run_time": run.get("run_time"),
        "evaluated": evaluated,
        "critical_failed": critical,
        "warnings_failed": warnings,
        "success": critical == 0,
        "page": f"validations/{rel}",
    }


def offline_data_docs(docs_dir: Path) -> Path:
    """Make the Data Docs site in ``docs_dir`` open without network (see the comment above);
    returns the index. Pages already made offline are left as they are."""
    for page in docs_dir.rglob("*.html"):
        if page == docs_dir / "index.html":
            continue
        with open(page, encoding="utf-8", errors="replace") as fh:
            if OFFLINE_MARK in fh.read(4096):
                continue
        _write_atomic(page, _offline_page(page.read_text(encoding="utf-8")))
    for css in (docs_dir / "static" / "styles").glob("*.css"):
        text = css.read_text(encoding="utf-8")
        if _REMOTE_CSS_URL.search(text):
            _write_atomic(css, _REMOTE_CSS_URL.sub("none", text))
    store = docs_dir.parent / "validations"
    results = [r for p in sorted(store.rglob("*.json")) if (r := _result_summary(store, p)) is not None] \
        if store.is_dir() else []
    results.sort(key=lambda r: (str(r["run_time"]), str(r["suite"]), str(r["run_name"])), reverse=True)
    suites_dir = docs_dir / "expectations"
    suites = sorted(p.relative_to(docs_dir).as_posix() for p in suites_dir.rglob("*.html")) \
        if suites_dir.is_dir() else []
    _write_atomic(docs_dir / "index.json", json.dumps({"results": results, "suites": suites}, indent=1) + "\n")
    _write_atomic(docs_dir / "index.html", _offline_index(results, suites))
    return docs_dir / "index.html"


def _offline_index(results: list[dict[str, Any]], suites: list[str]) -> str:
    esc = html.escape

    def status(r: dict[str, Any]) -> str:
        if r["critical_failed"]:
            return f'<span class="text-danger">&#10006; failed ({r["critical_failed"]} critical)</span>'
        if r["warnings_failed"]:
            return f'<span class="text-success">&#10004; passed</span> ({r["warnings_failed"]} warning(s))'
        return '<span class="text-success">&#10004; passed</span>'

    rows = "".join(
        f'<tr class="{"failed" if r["critical_failed"] else ""}"><td>{status(r)}</td><td>{esc(str(r["run_time"]))}'
        f'</td><td>{esc(str(r["run_name"] or ""))}</td><td><a href="{esc(r["page"])}">{esc(str(r["suite"]))}</a>'
        f'</td><td>{esc(str(r["evaluated"]))}</td></tr>' for r in results)
    suite_rows = "".join(
        f'<tr><td><a href="{esc(s)}">{esc(s.removeprefix("expectations/").removesuffix(".html").replace("/", "."))}'
        f"</a></td></tr>" for s in suites)
    failed = sum(1 for r in results if r["critical_failed"])
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">' + OFFLINE_MARK
        + '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'">'
        + "<title>Data Docs: validation results</title>" + _OFFLINE_STYLE + "</head><body>"
        + '<div class="container-fluid"><h1>Great Expectations: validation results</h1>'
        + f"<p>{len(results)} stored result(s), {failed} with a critical failure; {len(suites)} suite(s). "
        + "Newest first; each links to its page. Offline: this site loads nothing from the network.</p>"
        + '<h2>Validation results</h2><table id="validation-results"><thead><tr><th>Status</th><th>Run time</th>'
        + "<th>Run name</th><th>Expectation suite</th><th>Expectations</th></tr></thead>"
        + f"<tbody>{rows}</tbody></table>"
        + '<h2>Expectation suites</h2><table id="expectation-suites"><thead><tr><th>Suite</th></tr></thead>'
        + f"<tbody>{suite_rows}</tbody></table></div></body></html>\n"
    )




def _run_id(run_name: str | None) -> Any:
    return _gx().RunIdentifier(run_name=run_name, run_time=datetime.now(UTC))


def validate_frame(
    suite: Any,
    df: Any,
    *,
    docs_dir: Path | None = None,
    run_name: str | None = None,
    index_columns: Sequence[str] = (),
) -> SuiteReport:
    """Run ``suite`` on ``df`` (a DataFrame or a DuckDB relation) and report critical failures and
    warnings (never raises on them).

    Each failure reads ``<expectation_type>(<kwargs>): <what was observed> — <rule>``, followed
    by ``; failing rows: ...`` when ``index_columns`` are given. With ``docs_dir``, Data Docs
    including this result are built there and ``report.data_docs`` is the path of their
    ``index.html``. ``run_name`` labels the run in Data Docs (for example the source id).
    """
    ctx = _context(docs_dir)
    table = (suite.meta or {}).get("table") or suite.name.rsplit(".", 1)[-1]
    evaluated = _evaluate_suite(str(table), suite, df, tuple(index_columns))
    (report,), resources = _gx_verdict(ctx, suite.name, [evaluated], _run_id(run_name), tuple(index_columns),
                                       (suite.meta or {}).get("stage"))
    if docs_dir is not None:
        report.data_docs = _build_docs(ctx, resources, docs_dir)
    return report


def check(reports: list[SuiteReport]) -> None:
    """Raise :class:`ValidationFailed` for the first report with critical failures."""
    for report in reports:
        if report.failed_critical:
            raise ValidationFailed(report.suite, report.failed_critical, report.data_docs)


def validate_stage(
    stage: str,
    frames: Mapping[str, Any],
    suites: Mapping[str, Any],
    *,
    docs_dir: Path | None = None,
    run_name: str | None = None,
    index_columns: Sequence[str] = (),
    raise_on_failure: bool = True,
    docs_later: bool = False,
    result_name: str | None = None,
) -> list[SuiteReport]:
    """Validate every table of a stage against its suite (one aggregate query per table, then GX
    judges the outcome), build Data Docs once, then check.

    With ``run_name`` and several tables (the staged checks of one source), one GX validation judges
    every table, named ``<stage>.<run_name>`` (``staged.us_ofac_sdn``): its rows and its suite's notes
    in Data Docs name every table and rule. ``result_name`` asks for that one validation under that
    name whatever the tables (``"marts"``: one GX result for every mart instead of one per mart, each
    costing GX's fixed 0.1-0.3 s). Otherwise one GX validation per table, named by the table's suite
    (:func:`_groups`). The reports are one per table either way, named by its suite.

    ``docs_later``: when every suite passes, the pages are left for one :func:`build_pending_docs`
    after several calls (the staged checks of many sources build the site once); a critical failure
    builds them at once, with any left before, so the error links pages that exist.

    ``frames`` maps table name to a pandas DataFrame or a DuckDB relation; ``suites`` maps table
    name to a suite named ``<stage>.<table>``. A table with a suite but no frame is a critical
    failure; a frame with no suite (``parse_audit``) is skipped. Raises :class:`ValidationFailed`
    if any critical rule failed (unless ``raise_on_failure`` is False: the caller words the error
    from the reports); returns the reports otherwise (warnings are in ``report.warnings`` and the
    log). ``index_columns``: see :func:`validate_frame`.
    """
    started, before = time.perf_counter(), dict(PHASES)
    for table, suite in suites.items():
        if suite.name != f"{stage}.{table}":
            raise ValueError(
                f"suite for table '{table}' is named '{suite.name}', expected '{stage}.{table}'"
            )
    ctx = _context(docs_dir)
    run_id = _run_id(run_name)
    by_table: dict[str, SuiteReport] = {}
    evaluated: list[_Table] = []
    resources: list[Any] = []
    con = None
    if any(isinstance(frames.get(table), pd.DataFrame) for table in suites):
        import duckdb

        con = duckdb.connect()
    try:
        for table, suite in suites.items():
            frame = frames.get(table)
            if frame is None:
                by_table[table] = SuiteReport(
                    suite=suite.name,
                    success=False,
                    evaluated=0,
                    failed_critical=[f"table '{table}' was not provided to the {stage} checks"],
                    unexpected_rows=[[]] if index_columns else [],
                )
                continue
            evaluated.append(_evaluate_suite(table, suite, frame, tuple(index_columns), con=con))
    finally:
        if con is not None:
            con.close()
    for name, group in _groups(stage, suites, evaluated, run_name, result_name):
        judged, res = _gx_verdict(ctx, name, group, run_id, tuple(index_columns), stage)
        by_table.update((t.table, r) for t, r in zip(group, judged, strict=True))
        resources += res
    reports = [by_table[table] for table in suites]
    skipped = sorted(set(frames) - set(suites))
    if skipped:
        log.debug("no %s suite for tables %s; not validated", stage, skipped)
    if docs_dir is not None:
        if docs_later and not any(r.failed_critical for r in reports):
            _pending_docs.setdefault(docs_dir.resolve(), []).extend(resources)
            _pending_stages.setdefault(docs_dir.resolve(), set()).add(stage)
            index = str(docs_dir.resolve() / "index.html")
        else:
            index = _build_docs(ctx, resources, docs_dir)
        for report in reports:
            report.data_docs = index
    phases = ", ".join(f"{k} {v - before.get(k, 0.0):.2f}s" for k, v in PHASES.items()
                       if k != "import_background" and v - before.get(k, 0.0) >= 0.005)
    log.info(
        "validated %s%s: %d suite(s), %d rule(s), %d critical failure(s), %d warning(s) in %.2fs (%s)",
        stage,
        f" ({run_name})" if run_name else "",
        len(reports),
        sum(r.evaluated for r in reports),
        sum(len(r.failed_critical) for r in reports),
        sum(len(r.warnings) for r in reports),
        time.perf_counter() - started,
        phases,
    )
    if raise_on_failure:
        check(reports)
    return reports
