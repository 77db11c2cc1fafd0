"""UN General Assembly votes: both layouts on the real samples, country-code audit, bad input, and the
agreement marts (agreement, S, kappa, pi) on hand-computed rows and on the published reference values."""

from __future__ import annotations

import csv
import hashlib
import random
import re
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from pipeline.errors import SourceError
from pipeline.reference import COUNTRIES_CSV
from pipeline.sources.base import InputFile
from pipeline.sources.unga_votes import BLOCS_CSV, SCHEMAS, LoadResult, load
from pipeline.sources.unga_votes.layout import COUNTRY_CODES_CSV
from tests.model_fixtures import given, run, scratch

REPO = Path(__file__).resolve().parents[1]
SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "data" / "samples" / "unga"
DEMO = REPO / "data" / "demo" / "unga_votes"
SQL = REPO / "sql"
VOETEN = "voeten_UNVotesPublished_session68.csv"
UNVOTES = ("unvotes_un_votes_sessions72-74.csv", "unvotes_un_roll_calls_sessions68-74.csv",
           "unvotes_un_roll_call_issues.csv")
MODELS = {
    "stg_ref__countries", "stg_unga__votes", "stg_unga__rollcalls", "stg_unga__blocs", "int_unga_rollcalls",
    "int_unga_votes", "int_unga_dyad_vote_counts", "mart_unga_agreement", "mart_unga_partner_rankings",
    "mart_unga_bloc_cohesion",
}
VOEN_HEADER = "rcid,session,vote,ccode,member,importantvote,date,unres,me,nu,di,hr,co,ec,year"


def _input(path: Path) -> InputFile:
    return InputFile(path, path.name, hashlib.sha256(path.read_bytes()).hexdigest())


def _sample(name: str) -> InputFile:
    path = SAMPLES / name
    assert path.is_file(), f"the shared UNGA sample is missing: {path}"
    return _input(path)


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _database(*results: LoadResult) -> duckdb.DuckDBPyConnection:
    """The UNGA models built by dbt over lake.unga_* from one or more loads (each a staged snapshot
    at its own date, hive columns added) and the reference tables; the file opened read-only."""
    parts: dict[str, list[pa.Table]] = {}
    for result in results:
        for name, table in result.tables.items():
            n = table.num_rows
            parts.setdefault(name, []).append(
                table.append_column("source", pa.array(["unga_votes"] * n, pa.string()))
                .append_column("snapshot_date", pa.array([result.snapshot_date] * n, pa.date32())))
    db = given(scratch("unga"), lake={name: pa.concat_tables(tables) for name, tables in parts.items()})
    run(db, *sorted(MODELS))
    return duckdb.connect(str(db), read_only=True)


def _pair(con: duckdb.DuckDBPyConnection, a: str, b: str, period: int, period_type: str = "session") -> dict:
    cur = con.execute(
        "select * from mart_unga_agreement where country_a = ? and country_b = ? and period = ? and period_type = ?",
        [a, b, period, period_type])
    names = [d[0] for d in cur.description]
    rows = cur.fetchall()
    assert len(rows) == 1, (a, b, period, rows)
    return dict(zip(names, rows[0], strict=True))


# ------------------------------------------------------------------------------------------ parsers
def test_voeten_sample_parses_with_exact_counts():
    rows = _rows(SAMPLES / VOETEN)
    result = load([_sample(VOETEN)])
    votes, rollcalls = result.tables["unga_votes"], result.tables["unga_rollcalls"]
    assert votes.schema == SCHEMAS["unga_votes"] and rollcalls.schema == SCHEMAS["unga_rollcalls"]
    assert votes.num_rows == len(rows) == 12352
    assert rollcalls.num_rows == len({r["rcid"] for r in rows}) == 64
    assert Counter(votes.column("vote_code").to_pylist()) == Counter(int(r["vote"]) for r in rows)
    assert result.audit == []  # every session-68 ccode is in the crosswalk
    assert result.snapshot_date == max(date(int(y), int(m), int(d)) for m, d, y in
                                       (r["date"].split("/") for r in rows)) == date(2014, 9, 9)
    by_code = dict(zip(votes.column("country_code_raw").to_pylist(), votes.column("country_iso2").to_pylist(),
                       strict=True))
    assert [by_code[c] for c in ("365", "630", "731", "2", "345")] == ["RU", "IR", "KP", "US", "RS"]
    ukraine = next(r for r in rollcalls.to_pylist() if r["rcid"] == 5309)
    assert (ukraine["unres"], ukraine["session"], ukraine["vote_date"]) == ("R/68/262", 68, date(2014, 3, 27))
    flagged = {r["rcid"]: [c for c in ("me", "nu", "di", "hr", "co", "ec") if r[c] == "1"] for r in rows}
    assert {r["rcid"]: r["issues"] for r in rollcalls.to_pylist()} == {int(k): v for k, v in flagged.items()}
    assert set(votes.column("raw_file").to_pylist()) == {VOETEN}


def test_unvotes_sample_parses_in_any_order():
    votes_rows = _rows(SAMPLES / UNVOTES[0])
    rollcall_rows = _rows(SAMPLES / UNVOTES[1])
    issue_rows = _rows(SAMPLES / UNVOTES[2])
    result = load([_sample(UNVOTES[2]), _sample(UNVOTES[0]), _sample(UNVOTES[1])])
    votes, rollcalls = result.tables["unga_votes"], result.tables["unga_rollcalls"]
    assert votes.num_rows == len(votes_rows) == 55017
    assert rollcalls.num_rows == len(rollcall_rows) == 647
    words = {"yes": 1, "abstain": 2, "no": 3}
    assert Counter(votes.column("vote_code").to_pylist()) == Counter(words[r["vote"]] for r in votes_rows)
    assert result.snapshot_date == max(date.fromisoformat(r["date"]) for r in rollcall_rows
                                       if r["rcid"] in {v["rcid"] for v in votes_rows})
    expected_issues = defaultdict(set)
    for r in issue_rows:
        expected_issues[int(r["rcid"])].add(r["short_name"])
    got = {r["rcid"]: set(r["issues"]) for r in rollcalls.to_pylist()}
    assert got == {int(r["rcid"]): expected_issues.get(int(r["rcid"]), set()) for r in rollcall_rows}
    # unvotes writes Serbia (COW 345) as YU in every year; from June 2006 that seat is Serbia's
    yu = sum(1 for r in votes_rows if r["country_code"] == "YU")
    assert ("recoded_country", "country_code", "YU", yu) in result.audit
    assert set(votes.filter(pa.compute.equal(votes.column("country_code_raw"), "YU"))
               .column("country_iso2").to_pylist()) == {"RS"}
    rollcall_ids = {r["rcid"] for r in rollcall_rows}
    orphans = sum(1 for r in issue_rows if r["rcid"] not in rollcall_ids)
    assert ("issue_without_rollcall", "rcid", None, orphans) in result.audit


def test_historical_and_unknown_ccodes_are_audited_not_guessed(tmp_path: Path):
    path = tmp_path / "votes.csv"
    lines = [
        VOEN_HEADER + ",Country",
        "100,40,1,260,1,0,10/01/1985,R/40/1,0,0,0,0,0,1,1985,GFR",
        "100,40,3,265,1,0,10/01/1985,R/40/1,0,0,0,0,0,1,1985,GDR",
        "100,40,2,345,1,0,10/01/1985,R/40/1,0,0,0,0,0,1,1985,YUG",
        "100,40,1,365,1,0,10/01/1985,R/40/1,0,0,0,0,0,1,1985,RUS",
        "200,65,1,345,1,0,2011-01-20,R/65/2,1,0,0,0,0,0,2011,SRB",
        "200,65,3,999,1,0,2011-01-20,R/65/2,1,0,0,0,0,0,2011,XXX",
        "200,65,9,2,0,0,2011-01-20,R/65/2,1,0,0,0,0,0,2011,USA",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = load([_input(path)])
    votes = {(r["rcid"], r["country_code_raw"]): r["country_iso2"] for r in result.tables["unga_votes"].to_pylist()}
    assert votes == {(100, "260"): None, (100, "265"): None, (100, "345"): None, (100, "365"): "RU",
                     (200, "345"): "RS", (200, "999"): None, (200, "2"): "US"}
    assert result.audit == [
        ("historical_state", "ccode", "260", 1),
        ("historical_state", "ccode", "265", 1),
        ("historical_state", "ccode", "345", 1),
        ("unmapped_country", "ccode", "999", 1),
    ]
    assert result.tables["unga_votes"].num_rows == 7  # nothing dropped
    assert [r["issues"] for r in result.tables["unga_rollcalls"].to_pylist()] == [["ec"], ["me"]]


def test_country_code_rules_do_not_overlap():
    rules = _rows(COUNTRY_CODES_CSV)
    by_code = defaultdict(list)
    for r in rules:
        by_code[(r["code_system"], r["code"])].append((r["valid_from"] or "0001-01-01", r["valid_to"] or "9999-12-31"))
    for key, spans in by_code.items():
        spans.sort()
        for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
            assert end < start, f"{key}: overlapping date windows"
    iso2 = {r["iso2"] for r in _rows(COUNTRIES_CSV)}
    assert {r["iso2"] for r in rules if r["iso2"]} <= iso2
    for bloc in _rows(BLOCS_CSV):
        assert set(bloc["members"].split()) <= iso2, bloc["bloc"]


# ------------------------------------------------------------------------------------------ bad input
def _write(tmp_path: Path, name: str, text: str) -> InputFile:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return _input(path)


def test_missing_required_column(tmp_path: Path):
    f = _write(tmp_path, "no_vote.csv", "rcid,session,ccode,member,importantvote,date,unres,me,nu,di,hr,co,ec,year\n"
                                        "1,1,2,1,0,1/1/1946,R/1/1,0,0,0,0,0,0,1946\n")
    with pytest.raises(SourceError) as err:
        load([f])
    assert (err.value.file, err.value.rule, err.value.record) == ("no_vote.csv", "required columns", "header")
    assert "vote" in err.value.detail and "[unga_votes] file 'no_vote.csv'" in str(err.value)


def test_vote_code_outside_the_codebook(tmp_path: Path):
    f = _write(tmp_path, "bad_vote.csv", VOEN_HEADER + "\n5249,68,1,2,1,1,10/29/2013,R/68/8,0,0,0,0,0,0,2013\n"
                                                        "5249,68,5,365,1,1,10/29/2013,R/68/8,0,0,0,0,0,0,2013\n")
    with pytest.raises(SourceError) as err:
        load([f])
    assert err.value.file == "bad_vote.csv"
    assert err.value.rule == "vote code is 1, 2, 3, 8 or 9"
    assert err.value.record == "line 3"
    assert err.value.detail.startswith("line 3: vote '5' is not one of 1, 2, 3, 8, 9")


def test_unknown_vote_word_in_unvotes(tmp_path: Path):
    votes = _write(tmp_path, "votes.csv", "rcid,country,country_code,vote\n1,Russia,RU,maybe\n")
    rollcalls = _write(tmp_path, "rc.csv", "rcid,session,importantvote,date,unres,amend,para,short,descr\n"
                                           "1,1,0,1946-01-01,R/1/1,,,X,Y\n")
    with pytest.raises(SourceError) as err:
        load([votes, rollcalls])
    assert (err.value.file, err.value.rule, err.value.record) == ("votes.csv", "vote is yes, abstain or no",
                                                                  "line 2")
    assert err.value.detail.startswith("line 2: vote 'maybe' is not a vote")


@pytest.mark.parametrize(("text", "rule"), [
    ("", "non-empty file"),
    (VOEN_HEADER + "\n", "at least one record"),
    ("<html><body>Service unavailable</body></html>\n", "known layout"),
])
def test_empty_or_foreign_files(tmp_path: Path, text: str, rule: str):
    with pytest.raises(SourceError) as err:
        load([_write(tmp_path, "download.csv", text)])
    assert (err.value.file, err.value.rule) == ("download.csv", rule)


# Layout from the header alone, then rows named by line. One bad line refuses the whole file (as a bad GDELT
# line does): a vote set aside would silently change the agreement scores; only values the rules accept but
# the crosswalk cannot place (unknown or historical country codes) are kept and audited.
def _refused(*files: InputFile) -> SourceError:
    with pytest.raises(SourceError) as err:
        load(list(files))
    assert "neither Voeten's raw votes" not in str(err.value) and err.value.rule != "known layout"
    return err.value


def _copy_with(tmp_path: Path, sample: str, name: str, change: dict[int, str] | None = None, cut: int = 0) -> InputFile:
    """A copy of a real sample with some lines (1 = header) replaced and ``cut`` bytes cut off its end."""
    lines = (SAMPLES / sample).read_text(encoding="utf-8").splitlines(keepends=True)
    for number, text in (change or {}).items():
        lines[number - 1] = text + "\n"
    data = "".join(lines).encode("utf-8")
    path = tmp_path / name
    path.write_bytes(data[: len(data) - cut])
    return _input(path)


def test_garbage_rows_under_a_voeten_header_are_named_by_line(tmp_path: Path):
    rng = random.Random(11)
    junk = ["".join(rng.choice("%$#@!abc xyz;|") for _ in range(40)) for _ in range(50)]
    err = _refused(_write(tmp_path, "garbage.csv", VOEN_HEADER + "\n" + "\n".join(junk) + "\n"))
    assert (err.file, err.rule, err.record) == ("garbage.csv", "consistent column count", "line 2")
    assert err.detail.startswith("50 line(s) cannot be read as voeten rows of 15 comma-separated columns: "
                                 f"line 2: 1 of 15 columns ({junk[0]!r})")
    assert [int(n) for n in re.findall(r"line (\d+):", err.detail)] == [2, 3, 4, 5, 6]
    assert err.detail.endswith("; and 45 more")
    # junk with the right number of fields breaks the first row rule, named by line and value
    rows = [",".join(f"{rng.choice('%#x')}{i}" for i in range(15)) for _ in range(30)]
    err = _refused(_write(tmp_path, "garbage15.csv", VOEN_HEADER + "\n" + "\n".join(rows) + "\n"))
    assert (err.rule, err.record) == ("rcid is an integer", "line 2")
    first = rows[0].split(",")[0]
    assert err.detail.startswith(f"line 2: rcid {first!r} is not an integer; 30 lines break this rule: line 2 ")
    assert err.detail.endswith(", and 25 more")


@pytest.mark.parametrize("junk", [
    bytes(range(128, 256)) * 20 + b"\n",  # not UTF-8
    random.Random(3).randbytes(4000),  # anything, lone carriage returns and no final line break included
], ids=["high-bytes", "random-bytes"])
def test_binary_junk_after_a_good_header_and_row(tmp_path: Path, junk: bytes):
    path = tmp_path / "junk.csv"
    path.write_bytes((VOEN_HEADER + "\n5249,68,1,2,1,1,10/29/2013,R/68/8,0,0,0,0,0,0,2013\n").encode() + junk)
    err = _refused(_input(path))
    assert err.file == "junk.csv" and err.record == "line 3" and "line 3: " in err.detail
    assert err.rule in {"UTF-8 text", "consistent column count", "closed quotes", "readable CSV line"}


def test_truncated_last_line_of_the_real_voeten_sample(tmp_path: Path):
    last = len(_rows(SAMPLES / VOETEN)) + 1
    err = _refused(_copy_with(tmp_path, VOETEN, "cut_columns.csv", cut=12))  # cut inside the flags: columns lost
    assert (err.file, err.rule, err.record) == ("cut_columns.csv", "consistent column count", f"line {last}")
    assert re.search(rf"line {last}: 1\d of 15 columns", err.detail) and "the last line has no line break" in err.detail
    err = _refused(_copy_with(tmp_path, VOETEN, "cut_year.csv", cut=3))  # ...,0,1,20|13\n: a 2-digit year
    assert (err.file, err.rule, err.record) == ("cut_year.csv", "complete last line", f"line {last}")


def test_one_bad_line_among_thousands_refuses_the_file_naming_it(tmp_path: Path):
    bad = "5280,68,%%,365,1,0,4/2/2014,R/68/234,0,0,1,0,0,0,2013"
    err = _refused(_copy_with(tmp_path, VOETEN, "one_bad.csv", {6000: bad}))
    assert (err.file, err.rule, err.record) == ("one_bad.csv", "vote code is 1, 2, 3, 8 or 9", "line 6000")
    assert err.detail == ("line 6000: vote '%%' is not one of 1, 2, 3, 8, 9 (1 yes, 2 abstain, 3 no, 8 absent, "
                          "9 not a member)")
    err = _refused(_copy_with(tmp_path, VOETEN, "seven_bad.csv", {n: bad for n in (9000, 17, 40, 12353, 99, 500, 8)}))
    assert err.record == "line 8" and err.detail.startswith("line 8: vote '%%' is not one of")
    assert err.detail.endswith("; 7 lines break this rule: line 8 ('%%'), line 17 ('%%'), line 40 ('%%'), "
                               "line 99 ('%%'), line 500 ('%%'), and 2 more")
    # the larger unvotes sample (55,018 lines): line numbers hold deep into the file
    votes = _copy_with(tmp_path, UNVOTES[0], "votes.csv", {40000: "5600,Narnia,NA,perhaps"})
    err = _refused(votes, _sample(UNVOTES[1]))
    assert (err.file, err.rule, err.record) == ("votes.csv", "vote is yes, abstain or no", "line 40000")
    assert err.detail.startswith("line 40000: vote 'perhaps' is not a vote")


def test_line_numbers_count_values_that_span_lines(tmp_path: Path):
    votes = _write(tmp_path, "votes.csv", "rcid,country,country_code,vote\n1,Russia,RU,yes\n2,Russia,RU,no\n")
    rollcalls = _write(tmp_path, "rc.csv", "rcid,session,importantvote,date,unres,amend,para,short,descr\n"
                                           '1,1,0,1946-01-01,R/1/1,,,X,"a description\non two lines"\n'
                                           "2,1,0,1946-13-45,R/1/2,,,Y,Z\n")
    err = _refused(votes, rollcalls)
    assert (err.file, err.rule, err.record) == ("rc.csv", "date is YYYY-MM-DD or M/D/YYYY", "line 4")


def test_tab_separated_voeten_file_counts_as_the_comma_one(tmp_path: Path):
    text = (SAMPLES / VOETEN).read_text(encoding="utf-8").replace(",", "\t")
    tsv = _write(tmp_path, "votes.tsv", text)
    assert load([tsv]).tables["unga_votes"].num_rows == len(_rows(SAMPLES / VOETEN)) == 12352


def test_unvotes_votes_need_their_roll_calls(tmp_path: Path):
    votes = _write(tmp_path, "votes.csv", "rcid,country,country_code,vote\n1,Russia,RU,yes\n")
    with pytest.raises(SourceError) as err:
        load([votes])
    assert (err.value.file, err.value.rule) == ("votes.csv", "roll calls file given")


def test_a_country_voting_twice_on_one_roll_call(tmp_path: Path):
    f = _write(tmp_path, "dup.csv", VOEN_HEADER + "\n5249,68,1,2,1,1,10/29/2013,R/68/8,0,0,0,0,0,0,2013\n"
                                                  "5249,68,3,2,1,1,10/29/2013,R/68/8,0,0,0,0,0,0,2013\n")
    with pytest.raises(SourceError) as err:
        load([f])
    assert (err.value.file, err.value.rule, err.value.record) == ("dup.csv", "one vote per country and roll call",
                                                                  "rcid 5249, country 2")


# ------------------------------------------------------------------------------------------ formulas
# RU and IR over ten contested roll calls (US votes so that none is unanimous), computed by hand:
# pairs (1,1) x5, (1,2), (2,2), (2,3), (3,3), (3,2): identical 7 -> P = 0.7; sum |a-b| = 3,
# D_o = 3 / (10 * 2) = 0.15 -> agreement 0.85, S = 0.7.
# RU marginals (0.6, 0.2, 0.2), IR (0.5, 0.3, 0.2): D_e = 0.21 + 0.07 + 0.13 = 0.41 -> kappa = 1 - 0.15/0.41 = 26/41.
# pooled (0.55, 0.25, 0.2): D_e = 0.17875 + 0.09375 + 0.135 = 0.4075 -> pi = 1 - 0.15/0.4075 = 0.2575/0.4075.
HAND_PAIRS = [(1, 1)] * 5 + [(1, 2), (2, 2), (2, 3), (3, 3), (3, 2)]


def _given_rows() -> LoadResult:
    votes, rollcalls = [], []

    def vote(rcid: int, iso2: str | None, code: int, raw: str | None = None) -> None:
        votes.append({"rcid": rcid, "country_iso2": iso2, "country_code_raw": raw or iso2, "vote_code": code,
                      "raw_sha256": "0" * 64, "raw_file": "given.csv"})

    def rollcall(rcid: int, day: date) -> None:
        rollcalls.append({"rcid": rcid, "session": 70, "vote_date": day, "unres": f"R/70/{rcid}", "short_title": None,
                          "description": None, "importantvote": None, "amend": None, "para": None, "issues": [],
                          "raw_sha256": "0" * 64, "raw_file": "given.csv"})

    for rcid, (ru, ir) in enumerate(HAND_PAIRS, start=1):
        rollcall(rcid, date(2015, 12, 1) if rcid <= 5 else date(2016, 3, 1))
        vote(rcid, "RU", ru)
        vote(rcid, "IR", ir)
        vote(rcid, "US", 3 if ru == ir == 1 else 1)
        if rcid <= 3:
            vote(rcid, "CN", 1)
    rollcall(11, date(2016, 3, 2))  # unanimous among voters: dropped before pairing
    for iso2 in ("RU", "IR", "US", "CN"):
        vote(11, iso2, 1)
    vote(11, None, 8, raw="265")  # absent, and a historical code: neither counts
    rollcall(12, date(2016, 3, 3))  # RU absent: counts for IR-US only
    vote(12, "RU", 8)
    vote(12, "IR", 1)
    vote(12, "US", 3)
    tables = {
        "unga_votes": pa.Table.from_pylist(votes, schema=SCHEMAS["unga_votes"]),
        "unga_rollcalls": pa.Table.from_pylist(rollcalls, schema=SCHEMAS["unga_rollcalls"]),
    }
    return LoadResult(tables, date(2016, 3, 3), [])


def test_agreement_formulas_on_hand_computed_rows():
    con = _database(_given_rows())
    row = _pair(con, "IR", "RU", 70)
    assert row["common_votes"] == 10 and row["min_common_votes"] == 10
    assert row["pct_identical"] == pytest.approx(0.7)
    assert row["agreement"] == pytest.approx(0.85)
    assert row["s_score"] == pytest.approx(0.7)
    assert row["kappa"] == pytest.approx(26 / 41)
    assert row["scott_pi"] == pytest.approx(0.2575 / 0.4075)
    # IR-US: the ten roll calls plus roll call 12 (RU absent); roll call 11 is unanimous and dropped
    assert _pair(con, "IR", "US", 70)["common_votes"] == 11
    # below the minimum the row stays with its n and NULL scores
    short = _pair(con, "CN", "RU", 70)
    assert short["common_votes"] == 3
    assert (short["pct_identical"], short["agreement"], short["s_score"], short["kappa"], short["scott_pi"]) == (
        None, None, None, None, None)
    assert _pair(con, "IR", "RU", 2015, "year")["common_votes"] == 5
    assert _pair(con, "IR", "RU", 2016, "year")["agreement"] is None
    assert con.execute("select count(*) from mart_unga_agreement where country_a >= country_b").fetchone()[0] == 0
    assert con.execute("select count(*) from int_unga_rollcalls where not is_contested").fetchone()[0] == 1
    ranks = con.execute("select country_iso2, partner_iso2, rank, position from mart_unga_partner_rankings "
                        "where period_type = 'session' order by country_iso2, position").fetchall()
    # IR: RU 0.85, US (11 votes): lower; RU: IR only (CN has 3 votes, US has 10)
    assert [r for r in ranks if r[0] == "IR"] == [("IR", "RU", 1, 1), ("IR", "US", 2, 2)]
    assert {r[1] for r in ranks if r[0] == "RU"} == {"IR", "US"}


# ------------------------------------------------------------------------------------------ reference values
@pytest.fixture(scope="module")
def voeten68() -> duckdb.DuckDBPyConnection:
    return _database(load([_sample(VOETEN)]))


# alignment-events.md section 2.4: n, P, A, S (absolute), kappa and pi (linear), session 68
REFERENCE_68 = [
    ("IR", "RU", 61, 0.721, 0.820, 0.639, 0.339, 0.308),
    ("KP", "RU", 59, 0.712, 0.814, 0.627, 0.398, 0.383),
    ("RU", "VE", 63, 0.698, 0.810, 0.619, 0.278, 0.232),
    ("CN", "RU", 64, 0.719, 0.844, 0.688, 0.433, 0.404),
    ("BY", "RU", 57, 0.772, 0.851, 0.702, 0.524, 0.512),
    ("IR", "KP", 57, 0.912, 0.939, 0.877, 0.655, 0.653),
    ("RU", "US", 64, 0.203, 0.3125, -0.375, -0.120, -0.410),
    ("IR", "US", 61, 0.066, 0.164, -0.672, -0.158, -0.725),
    ("GB", "US", 64, 0.594, 0.680, 0.359, 0.395, 0.330),
]


@pytest.mark.parametrize(("a", "b", "n", "p", "agree", "s", "kappa", "pi"), REFERENCE_68)
def test_session_68_reference_values(voeten68, a, b, n, p, agree, s, kappa, pi):
    row = _pair(voeten68, a, b, 68)
    assert row["common_votes"] == n
    assert round(row["pct_identical"], 3) == p
    assert row["agreement"] == pytest.approx(agree, abs=0.0005)
    assert round(row["s_score"], 3) == s
    assert round(row["kappa"], 3) == kappa
    assert round(row["scott_pi"], 3) == pi


def test_session_68_partner_ranking_and_bloc(voeten68):
    ranks = voeten68.execute("select rank, position, partner_iso2, agreement, common_votes "
                             "from mart_unga_partner_rankings where country_iso2 = 'RU' and period_type = 'session' "
                             "order by position").fetchall()
    assert [r[1] for r in ranks] == list(range(1, len(ranks) + 1))
    assert all(r[4] >= 10 for r in ranks)
    for earlier, later in zip(ranks, ranks[1:], strict=False):
        assert earlier[3] >= later[3]
        assert later[0] == earlier[0] + (later[3] < earlier[3])
        if later[3] == earlier[3]:
            assert earlier[2] < later[2]
    club = voeten68.execute("select pairs, pairs_scored, mean_agreement from mart_unga_bloc_cohesion "
                            "where bloc = 'club' and period_type = 'session' and period = 68").fetchone()
    pairs = [("IR", "RU"), ("KP", "RU"), ("RU", "VE"), ("IR", "KP"), ("IR", "VE"), ("KP", "VE")]
    mean = sum(_pair(voeten68, a, b, 68)["agreement"] for a, b in pairs) / 6
    assert club[:2] == (6, 6) and club[2] == pytest.approx(mean)
    assert club[2] > 0.81  # the club votes together (reference: every pair >= 0.81)


def test_unvotes_sessions_72_to_74_reference_values():
    """The reference pools sessions 72-74 (RU-IR n = 291). Pooled agreement is the n-weighted mean of the
    per-session values; each session is also recomputed here straight from the CSV."""
    con = _database(load([_sample(name) for name in UNVOTES]))
    votes_rows = _rows(SAMPLES / UNVOTES[0])
    session = {r["rcid"]: int(r["session"]) for r in _rows(SAMPLES / UNVOTES[1])}
    words = {"yes": 1, "abstain": 2, "no": 3}
    by_rcid = defaultdict(dict)
    for r in votes_rows:
        by_rcid[r["rcid"]][r["country_code"]] = words[r["vote"]]
    contested = {k for k, v in by_rcid.items() if len(set(v.values())) > 1}
    for (a, b), agree in {("IR", "RU"): 0.768, ("KP", "RU"): 0.838, ("RU", "VE"): 0.766, ("CN", "RU"): 0.870,
                          ("RU", "US"): 0.321, ("IR", "US"): 0.182, ("IR", "KP"): 0.894}.items():
        rows = con.execute("select period, common_votes, agreement, pct_identical from mart_unga_agreement "
                           "where period_type = 'session' and country_a = ? and country_b = ?", [a, b]).fetchall()
        assert {r[0] for r in rows} == {72, 73, 74}
        pooled_n = sum(r[1] for r in rows)
        assert sum(r[1] * r[2] for r in rows) / pooled_n == pytest.approx(agree, abs=0.0005)
        for period, n, agreement, identical in rows:
            common = [(v[a], v[b]) for k, v in by_rcid.items()
                      if k in contested and session[k] == period and a in v and b in v]
            assert n == len(common)
            assert agreement == pytest.approx(sum(1 - abs(x - y) / 2 for x, y in common) / n)
            assert identical == pytest.approx(sum(x == y for x, y in common) / n)
        if (a, b) == ("IR", "RU"):
            assert pooled_n == 291


# ------------------------------------------------------------------------------------------ demo
def test_demo_files_load_and_score():
    files = [_input(DEMO / name) for name in ("votes.csv", "roll_calls.csv", "issues.csv")]
    result = load(files)
    assert result.tables["unga_votes"].num_rows == len(_rows(DEMO / "votes.csv"))
    assert result.tables["unga_rollcalls"].num_rows == len(_rows(DEMO / "roll_calls.csv")) >= 30
    assert result.audit == []
    assert result.snapshot_date == date(2023, 12, 19)
    con = _database(result)
    sessions = {r[0] for r in con.execute("select distinct period from mart_unga_agreement "
                                          "where period_type = 'session'").fetchall()}
    assert len(sessions) >= 3
    for period in (76, 78):
        ru_ir = _pair(con, "IR", "RU", period)
        ru_us = _pair(con, "RU", "US", period)
        assert ru_ir["common_votes"] >= 10 and ru_ir["agreement"] > ru_us["agreement"]
    assert _pair(con, "IR", "RU", 68)["agreement"] is None  # 7 common votes: kept, not scored
    assert _pair(con, "IR", "RU", 77)["common_votes"] == 9
    assert _pair(con, "IR", "RU", 2022, "year")["agreement"] > _pair(con, "RU", "US", 2022, "year")["agreement"]


# ------------------------------------------------------------------------------------------ archive
# UN votes are an archive (source.yml: snapshots: archive): the Voeten session-68 file and the unvotes files
# (roll calls 68-74, votes 72-74) add up, in one load or in snapshots loaded in any order.
RU_IR = {68: 61, 72: 115, 73: 92, 74: 84}  # common votes of Russia and Iran per session


def _agreement(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute("select * from mart_unga_agreement order by all").fetchall()


def _ru_ir(con: duckdb.DuckDBPyConnection) -> dict[int, tuple]:
    return {r[0]: r[1:] for r in con.execute(
        "select period, common_votes, agreement from mart_unga_agreement "
        "where period_type = 'session' and country_a = 'IR' and country_b = 'RU'").fetchall()}


@pytest.fixture(scope="module")
def four_files() -> LoadResult:
    return load([_sample(VOETEN), *(_sample(name) for name in UNVOTES)])


def test_the_four_files_load_together_in_any_order(four_files: LoadResult):
    voeten = _rows(SAMPLES / VOETEN)
    votes, rollcalls = four_files.tables["unga_votes"], four_files.tables["unga_rollcalls"]
    assert votes.num_rows == len(voeten) + len(_rows(SAMPLES / UNVOTES[0])) == 12352 + 55017
    assert rollcalls.num_rows == len(_rows(SAMPLES / UNVOTES[1])) == 647  # session 68's 64 stated twice: one each
    assert ("rollcall_in_several_files", "rcid", None, 64) in four_files.audit
    assert four_files.snapshot_date == date(2020, 1, 14)
    by_rcid = {r["rcid"]: r for r in rollcalls.to_pylist()}
    # issues are tags: Voeten's flags (nu) and the unvotes issue file (di, nu) pooled, in the codebook's order
    assert by_rcid[5257]["issues"] == ["nu", "di"]
    # titles only the unvotes file states, the date both state
    assert by_rcid[5309]["short_title"] and by_rcid[5309]["vote_date"] == date(2014, 3, 27)
    names = [VOETEN, *UNVOTES]
    for order in (names[::-1], names[1:] + names[:1], names[2:] + names[:2]):
        again = load([_sample(name) for name in order])
        assert again.snapshot_date == four_files.snapshot_date and again.audit == four_files.audit
        for table, rows in four_files.tables.items():
            assert again.tables[table].equals(rows), (order, table)


def test_snapshots_in_every_order_give_the_agreement_of_one_load(four_files: LoadResult):
    """The issue's fault: Voeten session 68 (snapshot 2014-09-09), then the unvotes files (2020-01-14), whose
    roll-call table lists session 68 without its votes, dropped session 68. Every mix keeps it."""
    voeten = load([_sample(VOETEN)])
    unvotes = load([_sample(name) for name in UNVOTES])
    assert (voeten.snapshot_date, unvotes.snapshot_date) == (date(2014, 9, 9), date(2020, 1, 14))
    at_once = _database(four_files)
    reference = _agreement(at_once)
    ru_ir = _ru_ir(at_once)
    assert {period: n for period, (n, _agreement) in ru_ir.items()} == RU_IR
    assert ru_ir[68][1] == pytest.approx(0.820, abs=0.0005)
    for mix in ((voeten, unvotes), (unvotes, voeten), (voeten, four_files), (four_files, voeten),
                (four_files, unvotes)):
        con = _database(*mix)
        assert _agreement(con) == reference, [r.snapshot_date for r in mix]
        assert con.execute("select count(*), count(*) filter (where session = 68) from int_unga_rollcalls"
                           ).fetchone() == (647, 64)
        assert con.execute("select count(*) from int_unga_votes").fetchone()[0] == 12352 + 55017


def test_a_newer_snapshot_without_session_68_votes_keeps_them(four_files: LoadResult):
    """A newer release that lists session 68's roll calls without their votes removes none of them; one that
    gives a vote anew (a correction) replaces that vote only."""
    unvotes = load([_sample(name) for name in UNVOTES])
    later = LoadResult(unvotes.tables, date(2024, 1, 1), unvotes.audit)
    con = _database(four_files, later)
    assert _ru_ir(con)[68][0] == 61 and _agreement(con) == _agreement(_database(four_files))
    votes = four_files.tables["unga_votes"].to_pylist()
    ru = next(v for v in votes if v["rcid"] == 5309 and v["country_iso2"] == "RU")
    assert ru["vote_code"] == 3  # Russia voted no on the territorial integrity of Ukraine
    corrected = LoadResult({"unga_votes": pa.Table.from_pylist([{**ru, "vote_code": 2, "raw_file": "fix.csv"}],
                                                               schema=SCHEMAS["unga_votes"]),
                            "unga_rollcalls": four_files.tables["unga_rollcalls"].slice(0, 0)},
                           date(2024, 1, 1), [])
    con = _database(four_files, corrected)
    kept = con.execute("select vote_code, raw_file from int_unga_votes where rcid = 5309 and country_iso2 = 'RU'"
                       ).fetchall()
    assert kept == [(2, "fix.csv")]
    assert con.execute("select count(*) from int_unga_votes where rcid = 5309").fetchone()[0] == 193
    tally = con.execute("select no_votes, abstain_votes from int_unga_rollcalls where rcid = 5309").fetchone()
    assert tally == (10, 59)  # 11 no and 58 abstain as recorded, Russia's vote moved


def _voeten_with(tmp_path: Path, name: str, change) -> InputFile:
    """A copy of the real Voeten session-68 file with ``change(row)`` applied to every row."""
    rows = _rows(SAMPLES / VOETEN)
    path = tmp_path / name
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(change(dict(r)) for r in rows)
    return _input(path)


def test_two_files_disagreeing_on_a_roll_call_are_refused_naming_both(tmp_path: Path):
    def moved(row: dict) -> dict:
        if row["rcid"] == "5309":
            row["date"] = "3/28/2014"
        return row

    voeten = _voeten_with(tmp_path, "voeten_moved.csv", moved)
    with pytest.raises(SourceError) as err:
        load([voeten, *(_sample(name) for name in UNVOTES)])
    e = err.value
    assert (e.rule, e.record) == ("the files agree on each roll call", "rcid 5309")
    assert e.file in ("voeten_moved.csv", UNVOTES[1])
    for text in ("vote_date", "2014-03-28", "2014-03-27", "voeten_moved.csv", UNVOTES[1]):
        assert text in e.detail, text


def _unvotes_of(tmp_path: Path, name: str, votes: list[dict]) -> InputFile:
    """Votes in the unvotes layout (yes/abstain/no rows only, country names as the real unvotes file writes them:
    Namibia's code NA reads as R's missing value there, so the name places it)."""
    words = {1: "yes", 2: "abstain", 3: "no"}
    names = {r["country_code"]: r["country"] for r in _rows(SAMPLES / UNVOTES[0])}
    path = tmp_path / name
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["rcid", "country", "country_code", "vote"])
        for v in votes:
            code = v["country_iso2"]
            writer.writerow([v["rcid"], names.get(code, code), code, words[v["vote_code"]]])
    return _input(path)


def test_the_same_votes_in_two_files_are_one_and_different_ones_are_refused(tmp_path: Path):
    voeten = load([_sample(VOETEN)])
    cast = [v for v in voeten.tables["unga_votes"].to_pylist() if v["vote_code"] <= 3 and v["country_iso2"]]
    same = _unvotes_of(tmp_path, "unvotes_68.csv", cast)
    both = load([_sample(VOETEN), same, _sample(UNVOTES[1])])
    assert both.tables["unga_votes"].num_rows == 12352  # absent and non-member rows only Voeten has stay too
    assert ("vote_in_several_files", "rcid", None, len(cast)) in both.audit
    assert _ru_ir(_database(both))[68] == _ru_ir(_database(voeten))[68]

    flipped = [{**v, "vote_code": 2} if (v["rcid"], v["country_iso2"]) == (5309, "RU") else v for v in cast]
    with pytest.raises(SourceError) as err:
        load([_sample(VOETEN), _unvotes_of(tmp_path, "unvotes_68_flipped.csv", flipped), _sample(UNVOTES[1])])
    e = err.value
    assert (e.rule, e.record) == ("the files agree on each vote", "rcid 5309, country RU")
    assert f"3 in '{VOETEN}'" in e.detail and "2 in 'unvotes_68_flipped.csv'" in e.detail


def test_one_file_stating_a_roll_call_twice_is_refused(tmp_path: Path):
    rows = (SAMPLES / UNVOTES[1]).read_text(encoding="utf-8").splitlines()
    path = tmp_path / "rollcalls_twice.csv"
    path.write_text("\n".join([*rows, rows[1]]) + "\n", encoding="utf-8")
    with pytest.raises(SourceError) as err:
        load([_input(path), _sample(UNVOTES[0])])
    assert (err.value.file, err.value.rule, err.value.record) == ("rollcalls_twice.csv", "one row per roll call",
                                                                  "rcid 5249")
