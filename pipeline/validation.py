"""Run Great Expectations suites on DataFrames and turn the results into pipeline decisions.

Every stage (raw files, staged tables, marts) is checked the same way::

    docs = settings.gx_dir / "docs"
    reports = validate_stage("staged", frames, staged_suites(...), docs_dir=docs)

- Frames are validated through a GX pandas dataframe asset (GX's SQL data sources do not
  support DuckDB, so marts are read with ``con.sql(...).df()`` first).
- GX marks a run failed if *any* expectation fails, whatever its severity. Here an expectation
  with ``severity="warning"`` (or ``"info"``) only logs a warning; a failing ``critical`` one, or
  any expectation that raised (a missing column, a type error), is a critical failure and
  :func:`check` raises :class:`~pipeline.errors.ValidationFailed` naming the suite and every
  failed critical expectation.
- With ``index_columns`` (the raw stage passes ``source, name, kind``), GX returns every row that
  broke a row-level expectation, identified by those columns, in the same single pass: each
  failure names its rows and :attr:`SuiteReport.unexpected_rows` lists them, so a caller never
  re-validates row by row to find the culprits.
- With ``docs_dir``, results are kept as JSON beside it (``<docs_dir.parent>/validations``,
  suites in ``<docs_dir.parent>/expectations``) and Data Docs HTML is built in ``docs_dir``.
  The GX context itself stays in memory (no ``great_expectations.yml``), so Airflow tasks
  validating in parallel never rewrite a shared config file.

This module imports Great Expectations (several seconds): import it inside tasks only.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pandas as pd

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
logging.getLogger("great_expectations").setLevel(logging.WARNING)

import great_expectations as gx  # noqa: E402
from great_expectations.core.run_identifier import RunIdentifier  # noqa: E402
from great_expectations.data_context.types.base import (  # noqa: E402
    DataContextConfig,
    InMemoryStoreBackendDefaults,
    ProgressBarsConfig,
)
from great_expectations.data_context.types.resource_identifiers import (  # noqa: E402
    ExpectationSuiteIdentifier,
    ValidationResultIdentifier,
)

from pipeline.errors import ValidationFailed  # noqa: E402

log = logging.getLogger(__name__)

__all__ = ["SuiteReport", "validate_frame", "validate_stage", "check"]

DATASOURCE = "pipeline_frames"
BATCH_DEFINITION = "whole_frame"
DOCS_SITE = "local_site"
RESULT_FORMAT = "SUMMARY"  # counts plus up to 20 example values; COMPLETE would list every row
_MAX_ARG_CHARS = 160
_MAX_EXAMPLES = 5
_MAX_ROWS_SHOWN = 10


@dataclass
class SuiteReport:
    """What one suite said about one frame.

    ``success`` is False only when a critical expectation failed; warnings do not count.
    ``data_docs`` is the path of the Data Docs ``index.html`` when docs were built.
    ``unexpected_rows`` (only when validated with ``index_columns``): for each failed critical
    expectation, in the order of ``failed_critical``, every row that broke it, as a mapping of the
    index columns to the row's values (table-level expectations have none).
    """

    suite: str
    success: bool
    evaluated: int
    failed_critical: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    data_docs: str | None = None
    unexpected_rows: list[list[dict[str, Any]]] = field(default_factory=list)


# --------------------------------------------------------------------------- GX context


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
    defaults = InMemoryStoreBackendDefaults()
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
    config = DataContextConfig(
        store_backend_defaults=defaults,
        stores=stores,
        data_docs_sites=docs_sites,
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),  # no tqdm "Calculating Metrics" bars
    )
    ctx = gx.get_context(mode="ephemeral", project_config=config)
    ctx.data_sources.add_pandas(name=DATASOURCE)
    _contexts[key] = ctx
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


# --------------------------------------------------------------------------- frames


def _prepare(df: pd.DataFrame) -> pd.DataFrame:
    """Make date columns comparable with the suites' datetime bounds.

    pyarrow reads ``date32`` as object columns of ``datetime.date`` while DuckDB's ``.df()``
    gives ``datetime64``; GX compares values with Python operators, and a ``date`` cannot be
    compared with a ``datetime``. Object columns holding only dates become ``datetime64``.
    """
    converted: dict[str, pd.Series] = {}
    for col in df.columns:
        series = df[col]
        if series.dtype != object:
            continue
        values = series.dropna()
        if values.empty:
            continue
        first = values.iloc[0]
        if not isinstance(first, date) or isinstance(first, datetime):
            continue
        if all(isinstance(v, date) and not isinstance(v, datetime) for v in values):
            converted[col] = pd.to_datetime(series)
    return df.assign(**converted) if converted else df


# --------------------------------------------------------------------------- describing results


def _fmt(value: Any) -> str:
    if isinstance(value, datetime) and value.time() == datetime.min.time():
        text = value.date().isoformat()
    elif isinstance(value, date):
        text = value.isoformat()
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


def _examples(result: Mapping[str, Any]) -> str:
    counts = result.get("partial_unexpected_counts") or []
    if counts:
        shown = [f"{_fmt(c['value'])} x{c['count']}" for c in counts[:_MAX_EXAMPLES]]
    else:
        shown = [_fmt(v) for v in (result.get("partial_unexpected_list") or [])[:_MAX_EXAMPLES]]
    return f", e.g. {', '.join(shown)}" if shown else ""


def _summary(expectation_type: str, result: Mapping[str, Any], errors: list[str]) -> str:
    if errors:
        return "could not be evaluated: " + "; ".join(dict.fromkeys(errors))
    mismatched = (result.get("details") or {}).get("mismatched")
    if isinstance(mismatched, Mapping) and mismatched.get("missing"):
        return f"missing columns {mismatched['missing']}"
    if result.get("unexpected_count") is not None:
        n, total = result["unexpected_count"], result.get("element_count")
        pct = result.get("unexpected_percent")
        share = ""
        if isinstance(pct, float) and not math.isnan(pct):  # 1 of 10,000 reads 0.01%, not 0.0%
            share = f" ({pct:.2g}%)" if 0 < pct < 0.1 else f" ({pct:.1f}%)"
        if expectation_type == "expect_column_values_to_not_be_null":
            return f"{n} of {total} rows are null{share}"
        return f"{n} of {total} rows unexpected{share}{_examples(result)}"
    if "observed_value" in result:
        return f"observed {_fmt(result['observed_value'])}"
    return "failed"


def _unexpected_rows(result: Mapping[str, Any], index_columns: Sequence[str]) -> list[dict[str, Any]]:
    """The rows GX found breaking an expectation, reduced to ``index_columns``."""
    if not index_columns:
        return []
    return [
        {col: row.get(col) for col in index_columns}
        for row in (result.get("unexpected_index_list") or [])
        if isinstance(row, Mapping)
    ]


def _rows_text(rows: list[dict[str, Any]]) -> str:
    shown = [" ".join(f"{k}={_fmt(v)}" for k, v in row.items()) for row in rows[:_MAX_ROWS_SHOWN]]
    more = f" and {len(rows) - len(shown):,} more" if len(rows) > len(shown) else ""
    return f"; failing rows: {'; '.join(shown)}{more}"


def _describe(res: Any, index_columns: Sequence[str] = ()) -> tuple[str, bool]:
    """``(description, is_critical)`` for one failed expectation result."""
    cfg = res.expectation_config
    args = ", ".join(f"{k}={_fmt(v)}" for k, v in cfg.kwargs.items() if k != "batch_id")
    errors = _exception_messages(res.exception_info)
    text = f"{cfg.type}({args}): {_summary(cfg.type, res.result or {}, errors)}"
    rule = (cfg.meta or {}).get("rule") or cfg.notes or cfg.description
    if rule:
        text += f" — {rule}"
    rows = _unexpected_rows(res.result or {}, index_columns)
    if rows:
        text += _rows_text(rows)
    severity = str(getattr(cfg.severity, "value", cfg.severity) or "critical").lower()
    # An expectation that could not run (missing column, type error) is critical whatever
    # its severity: the table does not have the shape the checks assume.
    return text, severity == "critical" or bool(errors)


# --------------------------------------------------------------------------- running


def _result_format(index_columns: Sequence[str]) -> str | dict[str, Any]:
    """SUMMARY, or COMPLETE with every unexpected row identified by ``index_columns``."""
    if not index_columns:
        return RESULT_FORMAT
    return {"result_format": "COMPLETE", "unexpected_index_column_names": list(index_columns)}


def _run(
    ctx: Any, suite: Any, df: pd.DataFrame, run_id: RunIdentifier, index_columns: Sequence[str] = ()
) -> tuple[SuiteReport, list[Any]]:
    """Validate ``df`` in ``ctx`` in one pass; return the report and the resources to render in docs."""
    stored = ctx.suites.add_or_update(suite)
    definition = ctx.validation_definitions.add_or_update(
        gx.ValidationDefinition(
            name=suite.name, data=_batch_definition(ctx, suite.name), suite=stored
        )
    )
    result = definition.run(
        batch_parameters={"dataframe": _prepare(df)},
        result_format=_result_format(index_columns),
        run_id=run_id,
    )
    order = {e.id: i for i, e in enumerate(stored.expectations)}
    failed = sorted(
        (r for r in result.results if not r.success),
        key=lambda r: order.get(r.expectation_config.id, len(order)),
    )
    critical: list[str] = []
    warnings: list[str] = []
    unexpected_rows: list[list[dict[str, Any]]] = []
    for res in failed:
        text, is_critical = _describe(res, index_columns)
        (critical if is_critical else warnings).append(text)
        if is_critical:
            unexpected_rows.append(_unexpected_rows(res.result or {}, index_columns))
    for text in warnings:
        log.warning("GX suite '%s' warning: %s", suite.name, text)
    for text in critical:
        log.error("GX suite '%s' failed: %s", suite.name, text)
    report = SuiteReport(
        suite=suite.name,
        success=not critical,
        evaluated=int(result.statistics.get("evaluated_expectations", len(result.results))),
        failed_critical=critical,
        warnings=warnings,
        unexpected_rows=unexpected_rows if index_columns else [],
    )
    resources = [
        ExpectationSuiteIdentifier(name=suite.name),
        ValidationResultIdentifier(
            expectation_suite_identifier=ExpectationSuiteIdentifier(name=suite.name),
            run_id=run_id,
            batch_identifier=result.batch_id,
        ),
    ]
    return report, resources


def _build_docs(ctx: Any, resources: list[Any], docs_dir: Path) -> str:
    """Render only this run's pages, then the index (which lists every stored result)."""
    ctx.build_data_docs(site_names=[DOCS_SITE], resource_identifiers=resources)
    return str(docs_dir.resolve() / "index.html")


def _run_id(run_name: str | None) -> RunIdentifier:
    return RunIdentifier(run_name=run_name, run_time=datetime.now(UTC))


def validate_frame(
    suite: Any,
    df: pd.DataFrame,
    *,
    docs_dir: Path | None = None,
    run_name: str | None = None,
    index_columns: Sequence[str] = (),
) -> SuiteReport:
    """Run ``suite`` on ``df`` and report critical failures and warnings (never raises on them).

    Each failure reads ``<expectation_type>(<kwargs>): <what was observed> — <rule>``, followed
    by ``; failing rows: ...`` when ``index_columns`` are given. With ``docs_dir``, Data Docs
    including this result are built there and ``report.data_docs`` is the path of their
    ``index.html``. ``run_name`` labels the run in Data Docs (for example the source id).
    """
    ctx = _context(docs_dir)
    report, resources = _run(ctx, suite, df, _run_id(run_name), tuple(index_columns))
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
    frames: Mapping[str, pd.DataFrame],
    suites: Mapping[str, Any],
    *,
    docs_dir: Path | None = None,
    run_name: str | None = None,
    index_columns: Sequence[str] = (),
    raise_on_failure: bool = True,
) -> list[SuiteReport]:
    """Validate every table of a stage against its suite (one GX pass per table), build Data Docs
    once, then check.

    ``suites`` maps table name to a suite named ``<stage>.<table>``. A table with a suite but no
    frame is a critical failure; a frame with no suite (``parse_audit``) is skipped. Raises
    :class:`ValidationFailed` if any critical expectation failed (unless ``raise_on_failure`` is
    False: the caller words the error from the reports); returns the reports otherwise (warnings
    are in ``report.warnings`` and the log). ``index_columns``: see :func:`validate_frame`.
    """
    started = time.perf_counter()
    for table, suite in suites.items():
        if suite.name != f"{stage}.{table}":
            raise ValueError(
                f"suite for table '{table}' is named '{suite.name}', expected '{stage}.{table}'"
            )
    ctx = _context(docs_dir)
    run_id = _run_id(run_name)
    reports: list[SuiteReport] = []
    resources: list[Any] = []
    for table, suite in suites.items():
        df = frames.get(table)
        if df is None:
            reports.append(
                SuiteReport(
                    suite=suite.name,
                    success=False,
                    evaluated=0,
                    failed_critical=[f"table '{table}' was not provided to the {stage} checks"],
                    unexpected_rows=[[]] if index_columns else [],
                )
            )
            continue
        report, res = _run(ctx, suite, df, run_id, tuple(index_columns))
        reports.append(report)
        resources += res
    skipped = sorted(set(frames) - set(suites))
    if skipped:
        log.debug("no %s suite for tables %s; not validated", stage, skipped)
    if docs_dir is not None:
        index = _build_docs(ctx, resources, docs_dir)
        for report in reports:
            report.data_docs = index
    log.info(
        "validated %s: %d suite(s), %d critical failure(s), %d warning(s) in %.2fs",
        stage,
        len(reports),
        sum(len(r.failed_critical) for r in reports),
        sum(len(r.warnings) for r in reports),
        time.perf_counter() - started,
    )
    if raise_on_failure:
        check(reports)
    return reports
