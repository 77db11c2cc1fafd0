"""Great Expectations suites as code, one module per stage.

- :mod:`expectations.raw`     ``raw_files_suite()``: one row per raw file landed in a run
- :mod:`expectations.staged`  ``staged_suites(...)``: the staged tables of one source
- :mod:`expectations.marts`   ``mart_suites()``: the DuckDB marts (their helper columns in SQL)

Every suite is named ``<stage>.<table>`` (``staged.designations``) and every expectation carries
``meta={"rule": "<plain-English rule>"}`` (also shown as ``notes`` in Data Docs), so a failure
message reads as a rule, not as a kwargs dump. Severity is ``critical`` unless an expectation says
``severity="warning"``; :mod:`pipeline.validation` turns warnings into log lines and critical
failures into :class:`pipeline.errors.ValidationFailed`. The runner evaluates each expectation in
DuckDB over the whole table (its SQL form) and lets GX judge the outcome, one row per rule; an
expectation type it has no SQL form for is evaluated by GX itself.

Importing this package (or its modules) does not import Great Expectations, which takes seconds:
the suite builders import it when called, so Airflow DAG parsing stays cheap.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

__all__ = ["gx_modules", "ruled", "HEX64", "ISO2"]

HEX64 = r"^[0-9a-f]{64}$"
ISO2 = r"^[A-Z]{2}$"


def gx_modules() -> tuple[ModuleType, ModuleType]:
    """Import and return ``(great_expectations, great_expectations.expectations)``, quietly.

    Turns usage statistics off (unless the environment already says otherwise) and keeps
    GX's INFO chatter out of task logs. The import is :func:`pipeline.validation._gx`'s: once per
    process, and a caller waits for a :func:`pipeline.validation.preload` in progress.
    """
    from pipeline.validation import _gx

    g = _gx()
    return g.gx, g.gxe


def ruled(cls: type, rule: str, **kwargs: Any) -> Any:
    """Build expectation ``cls(**kwargs)`` with its plain-English ``rule`` in meta and notes."""
    return cls(meta={"rule": rule}, notes=rule, **kwargs)


def stage_suites(stage: str, tables: dict[str, list[Any]]) -> dict[str, Any]:
    """One ``ExpectationSuite`` per table, named ``<stage>.<table>`` (the runner's convention)."""
    gx, _ = gx_modules()
    return {
        table: gx.ExpectationSuite(name=f"{stage}.{table}", expectations=exps, meta={"stage": stage, "table": table})
        for table, exps in tables.items()
    }
