"""Convert SQL models written in the pre-dbt style into the dbt project's style, in place.

Produces, for every ``<sql_dir>/<layer>/*.sql``: bare references to other models become
``{{ ref('name') }}``, ``lake.<table>`` becomes ``{{ source('lake', '<table>') }}`` and
``ref.<table>`` becomes ``{{ source('ref', '<table>') }}``, outside comments, string literals and
existing Jinja; line 1 stays the model's ``-- grain: ...`` contract. For every ``_*.yml`` in the
old shape (``models: {name: {description, columns: {column: text}}}``): dbt's shape (``version: 2``,
``models: [{name, description, columns: [{name, description}]}]``), every description kept.

Then every model gets an entry in its layer's ``_*.yml`` (description from its grain line when it
has none), every mart ``config: {materialized: table}`` (the project's default is a view), and
``staging/_sources.yml`` every ``source()`` the SQL names.

Idempotent: a converted file converts to itself, so run it again after merging new models:
``.venv/bin/python scripts/to_dbt.py sql``.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import yaml

LAYERS = ("staging", "intermediate", "marts")
# Comments, string literals and Jinja are copied as they are; only the code between them changes.
_PROTECTED = re.compile(r"--[^\n]*|/\*.*?\*/|'(?:[^']|'')*'|\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)
_SOURCE = re.compile(r"\b(from|join)(\s+)(lake|ref)\.([a-z_][a-z0-9_]*)\b", re.I)
_SOURCE_CALL = re.compile(r"source\(\s*'([a-z_][a-z0-9_]*)'\s*,\s*'([a-z_][a-z0-9_]*)'\s*\)", re.I)
_RELATION = re.compile(r"\b(from|join)(\s+)([a-z_][a-z0-9_]*)\b(?!\s*\.)", re.I)


def convert_sql(sql: str, models: set[str]) -> str:
    """The model's SQL with ``ref()``/``source()`` in place of bare relation names."""

    def code(part: str) -> str:
        part = _SOURCE.sub(lambda m: f"{m[1]}{m[2]}{{{{ source('{m[3].lower()}', '{m[4]}') }}}}", part)
        return _RELATION.sub(
            lambda m: f"{m[1]}{m[2]}{{{{ ref('{m[3].lower()}') }}}}" if m[3].lower() in models else m[0], part)

    out: list[str] = []
    last = 0
    for match in _PROTECTED.finditer(sql):
        out.append(code(sql[last:match.start()]))
        out.append(match[0])
        last = match.end()
    out.append(code(sql[last:]))
    return "".join(out)


def convert_docs(data: dict) -> dict | None:
    """dbt's schema.yml shape for a ``_*.yml`` in the old shape; None when there is nothing to convert."""
    models = data.get("models")
    if not isinstance(models, dict):
        return None
    converted = []
    for name, doc in models.items():
        doc = doc or {}
        entry: dict = {"name": name}
        if doc.get("description"):
            entry["description"] = " ".join(str(doc["description"]).split())
        columns = doc.get("columns") or {}
        if columns:
            entry["columns"] = [{"name": column, "description": " ".join(str(text).split())}
                                for column, text in columns.items()]
        entry.update({k: v for k, v in doc.items() if k not in ("description", "columns")})
        converted.append(entry)
    return {"version": 2, **{k: v for k, v in data.items() if k not in ("version", "models")}, "models": converted}


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=">" if len(value) > 80 else None)


_Dumper.add_representer(str, _str)


def dump_yaml(data: dict) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


def model_names(sql_dir: Path) -> set[str]:
    return {p.stem.lower() for layer in LAYERS for p in (sql_dir / layer).glob("*.sql")}


def convert(sql_dir: Path) -> list[Path]:
    """Convert every model and description file under ``sql_dir``; returns the files changed."""
    changed: list[Path] = []
    models = model_names(sql_dir)
    for layer in LAYERS:
        for path in sorted((sql_dir / layer).glob("*.sql")):
            sql = path.read_text(encoding="utf-8")
            if not sql.startswith("-- grain:"):
                raise SystemExit(f"{path}: line 1 must state the grain ('-- grain: one row per ...')")
            new = convert_sql(sql, models - {path.stem.lower()})
            if new != sql:
                path.write_text(new, encoding="utf-8")
                changed.append(path)
        for path in sorted((sql_dir / layer).glob("_*.yml")):
            text = path.read_text(encoding="utf-8")
            new_docs = convert_docs(yaml.safe_load(text) or {})
            if new_docs is not None:
                header = "".join(line + "\n" for line in text.splitlines() if line.startswith("#"))
                path.write_text(header.split("\n\n")[0] + dump_yaml(new_docs), encoding="utf-8")
                changed.append(path)
    changed.extend(_complete_entries(sql_dir))
    changed.extend(_complete_sources(sql_dir))
    return changed


def _grain(path: Path) -> str:
    lines = path.read_text(encoding="utf-8").splitlines()
    text = [lines[0].removeprefix("-- grain:").strip()]
    text.extend(line.removeprefix("--").strip() for line in lines[1:] if line.startswith("--"))
    return " ".join(text).strip()


def _write(path: Path, data: dict) -> None:
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    header = "".join(line + "\n" for line in text.split("\n\n")[0].splitlines() if line.startswith("#"))
    path.write_text(header + dump_yaml(data), encoding="utf-8")


def _complete_entries(sql_dir: Path) -> list[Path]:
    changed: list[Path] = []
    for layer in LAYERS:
        files = {path: yaml.safe_load(path.read_text(encoding="utf-8")) or {}
                 for path in sorted((sql_dir / layer).glob("_*.yml")) if path.name != "_sources.yml"}
        documented = {entry["name"] for data in files.values() for entry in data.get("models") or []}
        missing = [path for path in sorted((sql_dir / layer).glob("*.sql")) if path.stem not in documented]
        if missing:
            home = sql_dir / layer / f"_{layer}.yml"
            data = files.setdefault(home, {"version": 2, "models": []})
            data.setdefault("models", []).extend({"name": p.stem, "description": _grain(p)} for p in missing)
        for path, data in files.items():
            touched = path == (sql_dir / layer / f"_{layer}.yml") and bool(missing)
            for entry in (data.get("models") or []) if layer == "marts" else []:
                config = entry.setdefault("config", {})
                if config.get("materialized") != "table":
                    config["materialized"] = "table"
                    touched = True
            if touched:
                _write(path, data)
                changed.append(path)
    return changed


def _complete_sources(sql_dir: Path) -> list[Path]:
    named: dict[str, set[str]] = {}
    for layer in LAYERS:
        for path in (sql_dir / layer).glob("*.sql"):
            for source, table in _SOURCE_CALL.findall(path.read_text(encoding="utf-8")):
                named.setdefault(source, set()).add(table)
    path = sql_dir / "staging" / "_sources.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else None
    data = data or {"version": 2, "sources": []}
    sources = {entry["name"]: entry for entry in data.setdefault("sources", [])}
    touched = False
    for source, tables in sorted(named.items()):
        entry = sources.get(source)
        if entry is None:
            entry = {"name": source, "schema": source, "tables": []}
            data["sources"].append(entry)
            sources[source] = entry
        have = {table["name"] for table in entry.setdefault("tables", [])}
        for table in sorted(tables - have):
            entry["tables"].append({"name": table})
            touched = True
    if touched:
        _write(path, data)
        return [path]
    return []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sql_dir", type=Path, nargs="?", default=Path(__file__).resolve().parents[1] / "sql")
    args = parser.parse_args(argv)
    for path in convert(args.sql_dir):
        print(f"converted {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
