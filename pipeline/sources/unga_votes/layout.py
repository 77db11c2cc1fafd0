"""Which UN General Assembly vote layout a file is, told from its header line alone, how its rows are
read and checked (each failure names the file, the lines, the column and the rule), and the lookups
the layouts share (vote codes, issue codes, date-bounded country-code rules), loaded from the CSV
files beside this module into a DuckDB connection.

Layouts (column names are matched case-insensitively; extra columns are ignored):

* ``voeten``: Voeten's raw votes, one row per roll call and country, COW ``ccode``, votes
  1/2/3/8/9, roll-call attributes and issue flags repeated on every row.
* ``unvotes_votes``, ``unvotes_rollcalls``, ``unvotes_issues``: the three tables of the
  ``unvotes`` package (ISO alpha-2 ``country_code``, votes as words).

Reading a file, in order; the first step that fails refuses the whole file:

1. the header line decides the layout and the delimiter (comma, tab, semicolon or bar): a page of
   markup, a header without a layout's marker column or without its required columns is refused
   here, and only here, with the header in the message;
2. the rows are read by DuckDB with that header's columns and nothing guessed from the rows; a line
   that cannot be read (wrong column count, not UTF-8, an unclosed quote) is refused by its line
   number, as is a last line without a line break (a truncated download);
3. each layout's row rules (:func:`check_rows`) name the lines whose value breaks them, e.g.
   ``line 17: vote '%%' is not one of 1, 2, 3, 8, 9``, with the count of such lines.

One bad line refuses the file: votes are what the agreement scores count, so a vote set aside would
change them silently (GDELT files are refused the same way). Values the rules accept but the
crosswalk cannot place (an unknown or historical country code) are kept and audited instead.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipeline.errors import SourceError
from pipeline.sources.base import InputFile

SOURCE_ID = "unga_votes"
PACKAGE_DIR = Path(__file__).resolve().parent
VOTE_CODES_CSV = PACKAGE_DIR / "vote_codes.csv"
ISSUES_CSV = PACKAGE_DIR / "issues.csv"
COUNTRY_CODES_CSV = PACKAGE_DIR / "country_codes.csv"
BLOCS_CSV = PACKAGE_DIR.parent.parent / "reference" / "unga_blocs.csv"


@dataclass(frozen=True)
class Layout:
    """A file layout: the column that identifies it and the columns it must have."""

    kind: str
    marker: str
    required: tuple[str, ...]


# Checked in order: the first layout whose marker column is in the header wins.
LAYOUTS: tuple[Layout, ...] = (
    Layout("voeten", "ccode", ("rcid", "session", "vote", "ccode", "member", "importantvote", "date", "unres",
                               "me", "nu", "di", "hr", "co", "ec", "year")),
    Layout("unvotes_votes", "country_code", ("rcid", "country", "country_code", "vote")),
    Layout("unvotes_issues", "short_name", ("rcid", "short_name")),
    Layout("unvotes_rollcalls", "session", ("rcid", "session", "date", "unres")),
)


SNIFF_BYTES = 1 << 16
#: Field delimiters a header may use, tried in order; the first that yields a layout's marker wins.
DELIMITERS = (",", "\t", ";", "|")
#: At most this many bad lines are named in an error (the count covers them all).
LINES_NAMED = 5
#: DuckDB keeps at most this many unreadable lines per file (a count at the cap reads "or more").
REJECTS_LIMIT = 10_000
#: DuckDB's reasons for an unreadable CSV line -> the rule it breaks.
REJECT_RULES: dict[str, str] = {
    "MISSING COLUMNS": "consistent column count",
    "TOO MANY COLUMNS": "consistent column count",
    "INVALID ENCODING": "UTF-8 text",
    "INVALID UNICODE": "UTF-8 text",
    "UNQUOTED VALUE": "closed quotes",
}


@dataclass(frozen=True)
class RowRule:
    """A rule each row must keep: ``bad`` is a SQL condition on the raw row (columns as text, quoted
    through :meth:`SniffedFile.col`) that is true when the row breaks it; ``says`` completes
    ``<column> '<value>' ...`` in the error."""

    rule: str
    column: str
    bad: str
    says: str
    #: the same condition on the typed table :func:`read` made (its columns as the layout's ``typed`` select
    #: list names them): one aggregate over it tells whether the rule holds without the raw text
    typed_bad: str = ""


@dataclass(frozen=True)
class SniffedFile:
    """An input file with its layout, its header (lower-case name -> name as read) and delimiter."""

    file: InputFile
    layout: Layout
    columns: dict[str, str]
    table: str
    delimiter: str = ","

    def col(self, name: str) -> str:
        """The quoted column of a lower-case name, for SQL."""
        return '"' + self.columns[name].replace('"', '""') + '"'

    def has(self, name: str) -> bool:
        return name in self.columns

    def error(self, rule: str, detail: str, record: str | None = None) -> SourceError:
        return SourceError(SOURCE_ID, self.file.name, rule, detail, record)

    def lines(self, rows: list[int]) -> dict[int, int]:
        """The line number (1 = the header) where each data row (0-based, in file order) starts.

        Counts physical lines, so a quoted value spanning lines moves the rows after it; blank
        lines are skipped as DuckDB skips them. Reads the file only as far as the last row asked
        (called on failures only)."""
        wanted = set(rows)
        found: dict[int, int] = {}
        if not wanted:
            return found
        with self.file.path.open(newline="", encoding="utf-8", errors="replace") as handle:
            reader = csv.reader(handle, delimiter=self.delimiter, quotechar='"', doublequote=True)
            next(reader, None)
            row = -1
            start = reader.line_num + 1
            for record in reader:
                if record:
                    row += 1
                    if row in wanted:
                        found[row] = start
                        if len(found) == len(wanted):
                            break
                start = reader.line_num + 1
        return found


def quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _refuse(f: InputFile, rule: str, detail: str, record: str | None = "line 1") -> SourceError:
    return SourceError(SOURCE_ID, f.name, rule, detail, record)


def read_header(f: InputFile) -> tuple[Layout, list[str], str]:
    """The layout, column names (blank ones named ``column<n>``, repeats suffixed) and delimiter,
    from the file's first line alone."""
    with f.path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
    if not head:
        raise _refuse(f, "non-empty file", "the file is empty (0 bytes)", None)
    first = head.split(b"\n", 1)[0].rstrip(b"\r")
    if b"\n" not in head and len(head) == SNIFF_BYTES:
        raise _refuse(f, "known layout", f"no line break in the first {SNIFF_BYTES // 1024} KiB: not a CSV header")
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _refuse(f, "known layout", f"the first line is not UTF-8 text ({first[:40]!r})") from None
    if text.lstrip().startswith("<"):
        raise _refuse(f, "known layout", f"the file starts with markup ({text.strip()[:60]!r}): an HTML or XML "
                                         "page, e.g. an error page served instead of the votes file")
    for delimiter in DELIMITERS:
        fields = next(csv.reader([text], delimiter=delimiter, quotechar='"'), [])
        lowered = [name.strip().lower() for name in fields]
        layout = next((lay for lay in LAYOUTS if lay.marker in lowered), None)
        if layout is not None:
            break
    else:
        raise _refuse(
            f, "known layout",
            f"header {text[:300]!r} is neither Voeten's raw votes (ccode) nor an unvotes table "
            "(country_code, short_name or session)",
        )
    missing = [c for c in layout.required if c not in lowered]
    if missing:
        raise _refuse(f, "required columns", f"{layout.kind} layout lacks column(s) {', '.join(missing)}", "header")
    names: list[str] = []
    seen: set[str] = set()
    for i, name in enumerate(fields, start=1):
        name = name.strip() or f"column{i}"
        unique, k = name, 1
        while unique.lower() in seen:
            k += 1
            unique = f"{name}_{k}"
        seen.add(unique.lower())
        names.append(unique)
    return layout, names, delimiter


def read(
    con: duckdb.DuckDBPyConnection, f: InputFile, table: str, typed: Callable[[SniffedFile], str] | None = None
) -> SniffedFile:
    """Tell the layout from the header, then load the rows into ``table``; a line that cannot be read
    refuses the file, naming it.

    Without ``typed`` the table holds every column as text. With it, ``typed(src)`` is the select list
    (SQL over the text columns) the one scan of the file stores instead: the layout's typed values,
    which its row rules (``RowRule.typed_bad``) and its tables are computed from; the raw text is read
    again only to name the lines of a file that breaks a rule (:func:`check_rows`). Every column is
    still read and checked by the CSV reader (a line with a bad byte in a column the layout does not
    use is refused as before)."""
    layout, names, delimiter = read_header(f)
    src = SniffedFile(f, layout, {n.lower(): n for n in names}, table, delimiter)
    select = "*"
    if typed is not None:
        # the reader only decodes (and checks) the columns the query uses: name them all
        every = " and ".join(f"{src.col(n.lower())} is null" for n in names)
        select = f"{typed(src)}, ({every}) as _all_columns_read"
    try:
        _read_rows(con, src, names, f"{table}_rejects", strict=True, select=select)
    except duckdb.Error as exc:
        # DuckDB's strict reader stops without a line number on some junk (a lone carriage return,
        # binary data): read again leniently only to find the lines to name, then refuse.
        reason = str(exc).splitlines()[0]
        try:
            _read_rows(con, src, names, f"{table}_lenient_rejects", strict=False)
        except duckdb.Error:
            raise _refuse(f, "readable CSV", reason, None) from exc
        _refuse_unreadable_lines(con, src, f"{table}_lenient_rejects")
        stray = _stray_carriage_return(f.path)
        if stray is not None:
            raise src.error("readable CSV line", f"line {stray}: a carriage return inside the line (binary data or "
                                                 f"mixed line endings); DuckDB: {reason}", f"line {stray}") from exc
        raise _refuse(f, "readable CSV", reason, None) from exc
    _refuse_unreadable_lines(con, src, f"{table}_rejects")
    if not _ends_with_line_break(f.path):
        last = _line_count(f.path)
        raise src.error("complete last line", f"line {last}, the last, does not end with a line break: "
                                              "a truncated download or copy", f"line {last}")
    if con.execute(f"select count(*) from {table}").fetchone()[0] == 0:
        raise src.error("at least one record", "the file has a header but no rows")
    return src


def _read_rows(
    con: duckdb.DuckDBPyConnection, src: SniffedFile, names: list[str], rejects: str, strict: bool, select: str = "*"
) -> None:
    """Rows into ``src.table`` with the header's columns, as text (or ``select`` over them); unreadable
    lines into ``rejects``."""
    columns = "{" + ", ".join(f"{quote(n)}: 'VARCHAR'" for n in names) + "}"
    con.execute(
        f"create or replace temp table {src.table} as select {select} from read_csv({quote(str(src.file.path))}, "
        f"header = true, delim = {quote(src.delimiter)}, quote = '\"', escape = '\"', columns = {columns}, "
        f"auto_detect = false, strict_mode = {str(strict).lower()}, store_rejects = true, "
        f"rejects_table = {quote(rejects)}, rejects_scan = {quote(rejects + '_scan')}, rejects_limit = {REJECTS_LIMIT})"
    )


def _stray_carriage_return(path: Path) -> int | None:
    """The line of the first carriage return not followed by a line feed, if any."""
    lines, previous = 1, b""
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            data = previous + chunk
            for match in re.finditer(rb"\r(?!\n)", data):
                if match.end() < len(data):
                    return lines + data.count(b"\n", 0, match.start()) - previous.count(b"\n")
            lines += chunk.count(b"\n")
            previous = chunk[-1:]
    return None


def _ends_with_line_break(path: Path) -> bool:
    with path.open("rb") as handle:
        handle.seek(-1, 2)
        return handle.read(1) == b"\n"


def _line_count(path: Path) -> int:
    """Physical lines, the last counted even without a final line break."""
    lines, last = 0, b"\n"
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    return lines + (last != b"\n")


def _physical_lines(path: Path, offsets: list[int]) -> dict[int, int]:
    """Line number of each byte offset (where DuckDB says a line starts)."""
    found: dict[int, int] = {}
    lines, done = 1, 0
    with path.open("rb") as handle:
        for offset in sorted(set(offsets)):
            chunk = handle.read(offset - done)
            lines += chunk.count(b"\n")
            done = offset
            found[offset] = lines
    return found


def _refuse_unreadable_lines(con: duckdb.DuckDBPyConnection, src: SniffedFile, rejects: str) -> None:
    n = con.execute(f"select count(distinct line) from {rejects}").fetchone()[0]
    if not n:
        return
    bad = con.execute(f"""
        select line, min(line_byte_position), arg_min(error_type, column_idx), arg_min(error_message, column_idx),
            arg_min(csv_line, column_idx)
        from {rejects} group by line order by line limit {LINES_NAMED}
    """).fetchall()
    at = _physical_lines(src.file.path, [b[1] for b in bad if b[1] is not None])
    expected = len(src.columns)
    named = []
    for line, offset, error_type, message, text in bad:
        number = at.get(offset, line)
        found = re.search(r"Found: (\d+)", message or "")
        if "COLUMNS" in str(error_type) and found:
            reason = f"{found.group(1)} of {expected} columns"
        elif "ENCODING" in str(error_type) or "UNICODE" in str(error_type):
            reason = "not UTF-8 text (binary data?)"
        elif str(error_type) == "UNQUOTED VALUE":
            reason = "a quote that is never closed"
        else:
            reason = message
        if all(number != seen for seen, _ in named):  # a lone carriage return splits one line in two
            named.append((number, f"line {number}: {reason} ({(text or '')[:40]!r})"))
    more = "or more " if n >= REJECTS_LIMIT else ""
    detail = (f"{n:,} {more}line(s) cannot be read as {src.layout.kind} rows of {expected} "
              f"{_delimiter_name(src.delimiter)}-separated columns: " + "; ".join(text for _, text in named))
    if n > len(named):
        detail += f"; and {n - len(named):,} more"
    if not _ends_with_line_break(src.file.path) and named[-1][0] == _line_count(src.file.path):
        detail += "; the last line has no line break: a truncated download or copy"
    raise src.error(REJECT_RULES.get(str(bad[0][2]), "readable CSV line"), detail, f"line {named[0][0]}")


def _delimiter_name(delimiter: str) -> str:
    return {",": "comma", "\t": "tab", ";": "semicolon", "|": "bar"}[delimiter]


def _value(value: str | None) -> str:
    return repr(value if value is not None else "")


def check_rows(con: duckdb.DuckDBPyConnection, src: SniffedFile, rules: list[RowRule], typed: bool = False) -> None:
    """Refuse the file at the first rule some rows break, naming the first lines and how many break it.

    ``typed``: ``src.table`` is the typed table of :func:`read`; one aggregate of the rules' ``typed_bad``
    over it decides, and only a file that breaks a rule is read again as text to name its lines."""
    if not rules:
        return
    if typed:
        broken = con.execute(
            "select " + ", ".join(f"coalesce(bool_or({rule.typed_bad}), false)" for rule in rules)
            + f" from {src.table}"
        ).fetchone()
        if not any(broken):
            return
        raw = dataclasses.replace(src, table=f"{src.table}_text")
        names = list(src.columns.values())
        _read_rows(con, raw, names, f"{raw.table}_rejects", strict=True)
        check_rows(con, raw, rules)
        raise AssertionError(f"{src.file.name}: a rule is broken in the typed rows but not in the text")
    # one scan tells whether any rule is broken; only then is each rule looked at, in order
    broken = con.execute(
        "select " + ", ".join(f"coalesce(bool_or({rule.bad}), false)" for rule in rules) + f" from {src.table}"
    ).fetchone()
    for rule, is_broken in zip(rules, broken, strict=True):
        if not is_broken:
            continue
        where = f"from {src.table} where {rule.bad}"
        bad = con.execute(f"select rowid, {src.col(rule.column)} {where} order by rowid limit {LINES_NAMED}").fetchall()
        if not bad:
            continue
        n = con.execute(f"select count(*) {where}").fetchone()[0]
        at = src.lines([row for row, _ in bad])
        first_line = at.get(bad[0][0])
        detail = f"line {first_line}: {rule.column} {_value(bad[0][1])} {rule.says}"
        if n > 1:
            shown = ", ".join(f"line {at.get(row)} ({_value(value)})" for row, value in bad)
            more = f", and {n - len(bad):,} more" if n > len(bad) else ""
            detail += f"; {n:,} lines break this rule: {shown}{more}"
        raise src.error(rule.rule, detail, f"line {first_line}")


@functools.cache
def _rows(path: Path) -> tuple[dict[str, str], ...]:
    with path.open(newline="", encoding="utf-8") as handle:
        return tuple({k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(handle))


def issue_codes() -> tuple[str, ...]:
    """Issue codes in file order (me, nu, di, hr, co, ec)."""
    return tuple(row["code"] for row in _rows(ISSUES_CSV))


def load_lookups(con: duckdb.DuckDBPyConnection) -> None:
    """Tables ``vote_words`` (word or code -> vote code), ``issue_codes`` and ``code_rules``."""
    con.execute("create or replace temp table vote_words (word varchar, vote_code tinyint)")
    words = []
    for row in _rows(VOTE_CODES_CSV):
        words.append((row["code"], int(row["code"])))
        words.extend((w.strip().lower(), int(row["code"])) for w in row["words"].split(";") if w.strip())
    con.executemany("insert into vote_words values (?, ?)", words)
    con.execute("create or replace temp table issue_codes (code varchar, position integer)")
    con.executemany("insert into issue_codes values (?, ?)", [(c, i) for i, c in enumerate(issue_codes())])
    con.execute(
        "create or replace temp table code_rules (code_system varchar, code varchar, valid_from date, "
        "valid_to date, iso2 varchar, name varchar)"
    )
    con.executemany(
        "insert into code_rules values (?, ?, ?, ?, ?, ?)",
        [
            (r["code_system"], r["code"], r["valid_from"] or None, r["valid_to"] or None, r["iso2"] or None,
             r["name"])
            for r in _rows(COUNTRY_CODES_CSV)
        ],
    )


def first_bad(con: duckdb.DuckDBPyConnection, sql: str) -> tuple | None:
    """The first row of a check query (None when the check passes)."""
    return con.execute(sql + " limit 1").fetchone()


# Dates are M/D/YYYY in Voeten's raw file and YYYY-MM-DD in unvotes; both are accepted anywhere. A text
# with a slash can only be the first, one without only the second: one parse per row.
def date_sql(column: str) -> str:
    return (
        f"(case when contains(trim({column}), '/') then try_strptime(trim({column}), '%m/%d/%Y') "
        f"else try_strptime(trim({column}), '%Y-%m-%d') end)::date"
    )


def int_sql(column: str) -> str:
    """An integer from text such as ``5249`` or ``68.0``; NULL for blanks, ``NA`` and junk."""
    return f"try_cast(try_cast(nullif(trim({column}), '') as double) as bigint)"


def flag_sql(column: str) -> str:
    """A 0/1 flag as a boolean; NULL for blanks and ``NA`` (``1`` and ``0``, the usual texts, without a cast)."""
    return (f"(case trim({column}) when '1' then true when '0' then false "
            f"else {int_sql(column)} = 1 end)")
