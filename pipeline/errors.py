"""Errors that say what failed, where, and what was kept."""

from __future__ import annotations

KEPT = "Nothing was published; the last good publication is unchanged."


class PipelineError(Exception):
    """Base class for errors the pipeline reports to users."""


class SourceError(PipelineError):
    """A source file that cannot be taken: names the source, file, record and rule."""

    def __init__(
        self,
        source: str,
        file: str,
        rule: str,
        detail: str,
        record: str | None = None,
    ) -> None:
        self.source = source
        self.file = file
        self.rule = rule
        self.detail = detail
        self.record = record
        where = f"record {record}: " if record else ""
        super().__init__(
            f"[{source}] file '{file}': {where}rule '{rule}' failed: {detail}. {KEPT}"
        )


class ValidationFailed(PipelineError):
    """A Great Expectations suite had failing critical expectations."""

    def __init__(self, suite: str, failures: list[str], data_docs: str | None = None) -> None:
        self.suite = suite
        self.failures = failures
        self.data_docs = data_docs
        lines = "\n".join(f"  - {f}" for f in failures)
        docs = f"\nData Docs: {data_docs}" if data_docs else ""
        super().__init__(
            f"Great Expectations suite '{suite}' failed {len(failures)} critical "
            f"expectation(s):\n{lines}\n{KEPT}{docs}"
        )


class ModelError(PipelineError):
    """A SQL model failed to build, or the model graph is inconsistent."""
