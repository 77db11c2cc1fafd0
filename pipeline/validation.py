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

import html
import json
import logging
import math
import os
import re
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
    """Render only this run's pages, then the index (which lists every stored result); then make the
    site open offline (:func:`offline_data_docs`)."""
    ctx.build_data_docs(site_names=[DOCS_SITE], resource_identifiers=resources)
    offline_data_docs(docs_dir)
    return str(docs_dir.resolve() / "index.html")


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
    for res in data.get("results") or []:
        if res.get("success"):
            continue
        cfg = res.get("expectation_config") or {}
        raised = bool(_exception_messages(res.get("exception_info")))
        if raised or str(cfg.get("severity") or "critical").lower() == "critical":
            critical += 1
        else:
            warnings += 1
    run = ((data.get("meta") or {}).get("run_id") or {})
    stats = data.get("statistics") or {}
    rel = path.relative_to(store).with_suffix(".html").as_posix()
    return {
        "suite": data.get("suite_name"),
        "run_name": run.get("run_name"),
        "run_time": run.get("run_time"),
        "evaluated": stats.get("evaluated_expectations"),
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
