"""Errors that say what failed, where, and what was kept.

What a failure leaves as it was depends on who ran the failing step, not on the error: in a
pipeline run (``pipeline run``, the DAG's tasks) nothing was published and the last good
publication stands; ``pipeline parse`` writes nothing to its output folder. So each error carries
a ``kept`` sentence that the caller may replace (``error.kept = parse_kept(out)``); ``str(error)``
ends with it. Errors raised inside pipeline steps default to the pipeline's sentence.
"""

from __future__ import annotations

from pathlib import Path

KEPT = "Nothing was published; the last good publication is unchanged."


def parse_kept(out_dir: Path | str) -> str:
    """What a failed ``pipeline parse`` kept: its output folder holds no part of the failed parse."""
    return f"Nothing was written to {out_dir}."


class PipelineError(Exception):
    """Base class for errors the pipeline reports to users.

    ``kept`` (None: say nothing) is appended to the message when the error is shown.
    """

    kept: str | None = None

    def __str__(self) -> str:
        return self.render(super().__str__(), self.kept)

    def render(self, message: str, kept: str | None) -> str:
        """The message as shown, with the ``kept`` sentence in its place."""
        return f"{message} {kept}" if kept else message


class UnknownSource(PipelineError, KeyError):
    """A source id no ``pipeline/sources/<id>/source.yml`` defines (a KeyError too, for the callers that
    look sources up by id); shown as one line naming the known ids."""

    def __str__(self) -> str:
        return self.render(str(self.args[0]) if self.args else "", self.kept)


class SourceError(PipelineError):
    """A source file that cannot be taken: names the source, file, record and rule."""

    kept = KEPT

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
        super().__init__(f"[{source}] file '{file}': {where}rule '{rule}' failed: {detail}.")


class ValidationFailed(PipelineError):
    """A Great Expectations suite had failing critical expectations."""

    kept = KEPT

    def __init__(self, suite: str, failures: list[str], data_docs: str | None = None) -> None:
        self.suite = suite
        self.failures = failures
        self.data_docs = data_docs
        lines = "\n".join(f"  - {f}" for f in failures)
        super().__init__(f"Great Expectations suite '{suite}' failed {len(failures)} critical expectation(s):\n{lines}")

    def render(self, message: str, kept: str | None) -> str:
        docs = f"\nData Docs: {self.data_docs}" if self.data_docs else ""
        return f"{message}\n{kept}{docs}" if kept else f"{message}{docs}"


class ModelError(PipelineError):
    """A SQL model failed to build, or the model graph is inconsistent."""
