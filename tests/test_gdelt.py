"""GDELT events: the loader on the real samples (exact counts, checked independently with the csv
module), zips, layouts and bad input; the CAMEO reference against the sample lookups; the event
models (int_events_all, mart_dyad_events_monthly) on the demo file and on tiny given rows."""

from __future__ import annotations

import csv
import hashlib
import zipfile
from collections import Counter
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml

from pipeline.errors import SourceError
from pipeline.reference import CAMEO_REGION_CODES, REFERENCE_DIR
from pipeline.sources.base import InputFile
from pipeline.sources.gdelt_events import SCHEMAS, Limits, LoadResult, load
from tests.model_fixtures import given, replace, run, scratch

REPO = Path(__file__).resolve().parents[1]
GDELT_SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "data" / "samples" / "gdelt"
V2_SAMPLE = GDELT_SAMPLES / "20191024143000.export.CSV"
V1_SAMPLE = GDELT_SAMPLES / "gdelt1_georgia_aug2012.csv"
DEMO = REPO / "data" / "demo" / "gdelt_events" / "20230201000000.export.CSV"
PACKAGE = REPO / "pipeline" / "sources" / "gdelt_events"
SQL = REPO / "sql"
EVENT_MODELS = {"stg_ref__countries", "stg_gdelt__events", "stg_articles__events", "int_events_all",
                "mart_dyad_events_monthly"}

# GDELT 2.0 column positions (0-based), from the GDELT event codebook
V2_ADM2 = (39, 47, 55)
A1_CC, A2_CC, EVENT_CODE, ROOT, QUAD = 7, 17, 26, 28, 29


def _input(path: Path, name: str | None = None) -> InputFile:
    return InputFile(path, name or path.name, hashlib.sha256(path.read_bytes()).hexdigest())


def _tsv_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [line.rstrip("\n").split("\t") for line in handle]


def _iso_by_cameo() -> dict[str, str]:
    """CAMEO country code -> ISO alpha-2, straight from countries.csv and the region table."""
    with (REFERENCE_DIR / "countries.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    found = {r["iso3"]: r["iso2"] for r in rows}
    found.update({r["cameo"]: r["iso2"] for r in rows if r["cameo"]})
    found.update({code: iso2 for code, (iso2, _region) in CAMEO_REGION_CODES.items()})
    return found


@pytest.fixture(scope="module")
def v2() -> LoadResult:
    assert V2_SAMPLE.is_file(), f"the GDELT 2.0 sample is missing: {V2_SAMPLE}"
    return load([_input(V2_SAMPLE)])


@pytest.fixture(scope="module")
def v1() -> LoadResult:
    assert V1_SAMPLE.is_file(), f"the GDELT 1.0 sample is missing: {V1_SAMPLE}"
    return load([_input(V1_SAMPLE)])


# ------------------------------------------------------------------------------ reference data
def test_cameo_reference_matches_the_sample_lookups():
    def lookup(name: str) -> dict[str, str]:
        with (GDELT_SAMPLES / name).open(encoding="utf-8", newline="") as handle:
            return {row[0]: row[1] for row in list(csv.reader(handle, delimiter="\t"))[1:]}

    goldstein, labels = lookup("CAMEO.goldsteinscale.txt"), lookup("CAMEO.eventcodes.txt")
    with (REFERENCE_DIR / "cameo_events.csv").open(encoding="utf-8", newline="") as handle:
        ours = {row["code"]: row for row in csv.DictReader(handle)}
    assert set(ours) == set(goldstein) == set(labels)
    assert len(ours) == 311
    for code, row in ours.items():
        assert float(row["goldstein"]) == float(goldstein[code]), code
        assert row["root"] == code[:2]
        assert row["description"].casefold() == labels[code].strip().casefold()
    # QuadClass of each root as GDELT assigns it, read off the real export
    observed = {(r[ROOT], int(r[QUAD])) for r in _tsv_rows(V2_SAMPLE)}
    assert all(int(ours[root]["quad_class"]) == quad for root, quad in observed)
    assert {ours[f"{n:02d}"]["quad_class"] for n in (6, 9)} == {"2"}
    assert {ours[f"{n:02d}"]["quad_class"] for n in (10, 14)} == {"3"}
    assert ours["072"]["goldstein"] == "8.3" and ours["016"]["goldstein"] == "-2.0"


def test_relation_type_mapping_is_data_and_uses_known_sets():
    with (REFERENCE_DIR / "cameo_relation_types.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    relation_types = {"arms_transfer", "military_cooperation", "technology_transfer", "financial_integration",
                      "economic_cooperation", "energy_cooperation", "agreement", "diplomatic_support",
                      "sanctions", "criticism", "threat", "use_of_force", "bloc_alignment"}
    assert {r["relation_type"] for r in rows} <= relation_types
    assert len({r["cameo_prefix"] for r in rows}) == len(rows)
    assert {r["cameo_prefix"]: r["relation_type"] for r in rows}["072"] == "arms_transfer"


def test_source_metadata_follows_the_contract():
    meta = yaml.safe_load((PACKAGE / "source.yml").read_text(encoding="utf-8"))
    un_sc = yaml.safe_load((REPO / "pipeline" / "sources" / "un_sc" / "source.yml").read_text(encoding="utf-8"))
    assert set(un_sc) <= set(meta)
    assert meta["id"] == "gdelt_events" and meta["tables"] == list(SCHEMAS)
    assert {"min_rows", "max_rows", "min_rows_demo"} <= set(meta["expected"])
    for rel in meta["demo_inputs"]:
        assert (REPO / "data" / "demo" / rel).is_file()
    for schema in SCHEMAS.values():
        assert schema.names[-2:] == ["raw_sha256", "raw_file"]
        assert not schema.field("raw_sha256").nullable and not schema.field("raw_file").nullable


# ------------------------------------------------------------------------------ real samples
def test_gdelt2_sample_exact_counts(v2: LoadResult):
    raw = _tsv_rows(V2_SAMPLE)
    assert len(raw) == 2111 and {len(r) for r in raw} == {61}
    table = v2.tables["gdelt_events"]
    assert table.schema == SCHEMAS["gdelt_events"]
    df = table.to_pandas()
    assert len(df) == 2111 == df["global_event_id"].nunique()
    assert Counter(int(r[QUAD]) for r in raw) == {1: 1222, 2: 281, 3: 271, 4: 337}
    assert df["quad_class"].value_counts().to_dict() == {1: 1222, 2: 281, 3: 271, 4: 337}
    expected_pairs = sum(1 for r in raw if r[A1_CC] and r[A2_CC] and r[A1_CC] != r[A2_CC])
    assert expected_pairs == 469
    coded = df.dropna(subset=["actor1_country_code", "actor2_country_code"])
    assert (coded["actor1_country_code"] != coded["actor2_country_code"]).sum() == 469
    iso = _iso_by_cameo()
    state_dyads = sum(1 for r in raw if iso.get(r[A1_CC]) and iso.get(r[A2_CC]) and iso[r[A1_CC]] != iso[r[A2_CC]])
    assert int(df["is_state_dyad"].sum()) == state_dyads == 422
    assert list(df["event_code"]) == [r[EVENT_CODE] for r in raw]
    assert df["event_root_code"].str.len().eq(2).all() and (df["event_code"] == "051").any()
    assert v2.snapshot_date == date(2019, 10, 24)
    assert (df["gdelt_version"] == 2).all() and (df["raw_file"] == V2_SAMPLE.name).all()
    assert df["date_added"].eq(pd.Timestamp("2019-10-24 14:30:00")).all()
    assert v2.audit == []


def test_gdelt2_sample_countries_and_regions(v2: LoadResult):
    df = v2.tables["gdelt_events"].to_pandas()
    irn_rus = df[(df["actor1_iso3"] == "IRN") & (df["actor2_iso3"] == "RUS")]
    assert len(irn_rus) == 5 and set(irn_rus["event_code"]) == {"051", "056"}
    assert set(irn_rus["actor1_iso2"]) == {"IR"} and irn_rus["is_state_dyad"].all()
    for region in ("AFR", "EUR", "SAF", "SEA"):
        rows = df[df["actor1_country_code"] == region]
        assert len(rows) and rows["actor1_iso2"].isna().all() and not rows["is_state_dyad"].any()
    assert set(df.loc[df["actor1_country_code"] == "ZAF", "actor1_iso2"]) == {"ZA"}
    assert set(df.loc[df["actor1_country_code"] == "TWN", "actor1_iso2"]) == {"TW"}


def test_gdelt1_reexported_sample(v1: LoadResult):
    with V1_SAMPLE.open(encoding="utf-8", newline="") as handle:
        raw = list(csv.DictReader(handle))
    assert len(raw) == 1255
    df = v1.tables["gdelt_events"].to_pandas()
    assert len(df) == 1255 and (df["gdelt_version"] == 1).all() and df["source_url"].isna().all()
    assert df["quad_class"].value_counts().to_dict() == dict(Counter(int(r["QuadClass"]) for r in raw))
    dyads = Counter((r["Actor1CountryCode"], r["Actor2CountryCode"]) for r in raw
                    if r["Actor1CountryCode"] != "NA" and r["Actor2CountryCode"] != "NA")
    assert dyads.most_common(1) == [(("USA", "RUS"), 28)]
    ours = df.groupby(["actor1_country_code", "actor2_country_code"]).size().sort_values(ascending=False)
    assert ours.index[0] == ("USA", "RUS") and ours.iloc[0] == 28
    assert df["actor1_code"].isna().sum() == sum(1 for r in raw if r["Actor1Code"] == "NA")
    assert v1.snapshot_date == date(2013, 2, 5)


def test_zipped_export_loads_like_the_plain_file(tmp_path: Path, v2: LoadResult):
    archive = tmp_path / "20191024143000.export.CSV.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(V2_SAMPLE, "../../escape/20191024143000.export.CSV")
    result = load([_input(archive)])
    lineage = ["raw_sha256", "raw_file"]
    assert result.tables["gdelt_events"].drop_columns(lineage).equals(v2.tables["gdelt_events"].drop_columns(lineage))
    assert set(result.tables["gdelt_events"].column("raw_file").to_pylist()) == {archive.name}
    assert not (tmp_path.parent / "escape").exists()
    with pytest.raises(SourceError) as info:
        load([_input(archive)], Limits(max_bytes=100_000, max_ratio=200, max_line_bytes=1 << 16))
    assert info.value.rule == "size cap" and info.value.file == archive.name
    two = tmp_path / "two.zip"
    with zipfile.ZipFile(two, "w") as z:
        z.writestr("a.CSV", "x\n")
        z.writestr("b.CSV", "y\n")
    with pytest.raises(SourceError, match="one export file"):
        load([_input(two)])


def test_gdelt1_tab_layouts_57_and_58_columns(tmp_path: Path):
    raw = _tsv_rows(V2_SAMPLE)[:50]
    v1_58 = [[v for i, v in enumerate(r) if i not in V2_ADM2] for r in raw]
    for cols, rows in ((58, v1_58), (57, [r[:-1] for r in v1_58])):
        path = tmp_path / f"v1_{cols}.CSV"
        path.write_text("".join("\t".join(r) + "\n" for r in rows), encoding="utf-8")
        df = load([_input(path)]).tables["gdelt_events"].to_pandas()
        assert len(df) == 50 and (df["gdelt_version"] == 1).all()
        assert list(df["action_geo_country_code"]) == [r[53] or None for r in raw]
        assert df["source_url"].notna().all() if cols == 58 else df["source_url"].isna().all()


def test_duplicate_events_are_dropped_and_audited(tmp_path: Path):
    first = load([_input(DEMO), _input(DEMO, "copy.CSV")])
    df = first.tables["gdelt_events"].to_pandas()
    assert len(df) == 22 and (df["raw_file"] == DEMO.name).all()
    assert ("duplicate_event", "GLOBALEVENTID", None, 22) in first.audit


def test_demo_file(tmp_path: Path):
    result = load([_input(DEMO)])
    df = result.tables["gdelt_events"].to_pandas()
    assert len(df) == 22 and result.snapshot_date == date(2023, 2, 1) and result.audit == []
    arms = df[(df["actor1_iso2"] == "IR") & (df["actor2_iso2"] == "RU") & (df["event_code"] == "072")]
    assert len(arms) == 3
    gaza = df[df["actor2_country_code"] == "GZS"].iloc[0]
    assert (gaza["actor2_iso2"], gaza["actor2_iso3"], gaza["actor2_region"]) == ("PS", "PSE", "gaza")
    assert df.loc[df["actor1_country_code"] == "ROM", "actor1_iso3"].tolist() == ["ROU"]
    assert not df.loc[df["actor1_country_code"] == "EUR", "is_state_dyad"].any()
    assert int(df["is_state_dyad"].sum()) == 20


# ------------------------------------------------------------------------------ bad input
def _bad(tmp_path: Path, name: str, content: bytes) -> SourceError:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(SourceError) as info:
        load([_input(path)])
    assert f"file '{name}'" in str(info.value)
    return info.value


def test_wrong_column_count_is_refused(tmp_path: Path):
    lines = [r[:60] for r in _tsv_rows(V2_SAMPLE)[:3]]
    err = _bad(tmp_path, "sixty.CSV", "".join("\t".join(r) + "\n" for r in lines).encode())
    assert err.rule == "known column count" and err.record == "line 1" and "60" in err.detail


def test_truncated_line_is_refused_with_its_line_number(tmp_path: Path):
    rows = _tsv_rows(V2_SAMPLE)[:6]
    rows[3] = rows[3][:30]
    err = _bad(tmp_path, "cut.CSV", "".join("\t".join(r) + "\n" for r in rows).encode())
    assert err.rule == "consistent column count" and err.record == "line 4"
    assert "truncated" in err.detail


def test_extra_field_and_bad_encoding_are_refused(tmp_path: Path):
    lines = V2_SAMPLE.read_bytes().split(b"\n")[:8]
    lines[6] += b"\textra"
    err = _bad(tmp_path, "wide.CSV", b"\n".join(lines) + b"\n")
    assert err.rule == "consistent column count" and err.record == "line 7" and "62" in err.detail
    lines = V2_SAMPLE.read_bytes().split(b"\n")[:8]
    lines[7] = lines[7].replace(b"POLICE", b"POL\xff\xfeCE")
    err = _bad(tmp_path, "latin.CSV", b"\n".join(lines) + b"\n")
    assert err.rule == "UTF-8 text" and err.record == "line 8"


def test_truncated_file_is_refused(tmp_path: Path):
    data = V2_SAMPLE.read_bytes()
    err = _bad(tmp_path, "partial.CSV", data[: len(data) // 2])
    assert err.rule == "complete last line" and err.record == "last line"
    lines = V1_SAMPLE.read_text(encoding="utf-8").split("\n")
    lines[9] = lines[9][:200]
    err = _bad(tmp_path, "cut_reexport.csv", "\n".join(lines).encode())
    assert err.rule == "consistent column count" and err.record == "line 10"


def test_html_page_is_refused(tmp_path: Path):
    page = b"<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head><body>Not Found</body></html>\n"
    err = _bad(tmp_path, "20191024143000.export.CSV", page)
    assert "web page" in err.rule and err.record == "line 1"
    zipped = tmp_path / "page.zip"
    with zipfile.ZipFile(zipped, "w") as z:
        z.writestr("20191024143000.export.CSV", page)
    with pytest.raises(SourceError, match="web page"):
        load([_input(zipped)])


def test_empty_file_and_bad_values_are_refused(tmp_path: Path):
    assert _bad(tmp_path, "empty.CSV", b"").rule == "not empty"
    rows = _tsv_rows(V2_SAMPLE)[:5]
    rows[2][1] = "2019-13-45"
    err = _bad(tmp_path, "date.CSV", "".join("\t".join(r) + "\n" for r in rows).encode())
    assert err.rule == "SQLDATE is a date (YYYYMMDD)" and err.record == f"line 3 (GLOBALEVENTID {rows[2][0]})"
    rows = _tsv_rows(V2_SAMPLE)[:5]
    rows[4][QUAD] = "7"
    err = _bad(tmp_path, "quad.CSV", "".join("\t".join(r) + "\n" for r in rows).encode())
    assert err.rule == "QuadClass is 1, 2, 3 or 4" and err.record.startswith("line 5 ")


def test_reexport_with_a_wrong_header_is_refused(tmp_path: Path):
    text = V1_SAMPLE.read_text(encoding="utf-8").replace('"EventCode"', '"EventKode"', 1)
    err = _bad(tmp_path, "renamed.csv", text.encode())
    assert err.rule == "header names the GDELT columns" and "EventKode" in err.detail


# ------------------------------------------------------------------------------ SQL models
def _article_event(record_id: str, a1: str, a2: str, relation: str, cameo: str, quad: int, goldstein: float,
                   modality: str, day: date, directed: bool = True) -> dict:
    return {"record_id": record_id, "article_id": "art1", "sentence_idx": 0, "char_start": 0, "char_end": 40,
            "evidence_text": f"sentence of {record_id}", "actor1_text": a1, "actor2_text": a2,
            "actor1_iso3": a1, "actor2_iso3": a2, "actor1_type": "GOV", "actor2_type": "GOV",
            "directed": directed, "relation_type": relation, "cameo_code": cameo, "cameo_root": cameo[:2],
            "quad_class": quad, "goldstein": goldstein, "modality": modality, "event_date": day,
            "date_precision": "day", "confidence": 0.9, "n_mentions": 1, "extraction_method": "rules",
            "extractor_version": "1", "raw_sha256": "0" * 64, "raw_file": "a.md", "source": "articles",
            "snapshot_date": date(2023, 2, 1)}


def test_events_models_on_the_demo_file_and_article_rows():
    gdelt = load([_input(DEMO)]).tables["gdelt_events"].to_pandas().assign(
        source="gdelt_events", snapshot_date=date(2023, 2, 1))
    articles = pd.DataFrame([{"article_id": "art1", "url": "https://example.org/a", "title": "t",
                              "publisher": "p", "published_at": date(2023, 2, 1), "text_sha256": "1" * 64,
                              "raw_sha256": "0" * 64, "raw_file": "a.md", "source": "articles",
                              "snapshot_date": date(2023, 2, 1)}])
    events = pd.DataFrame([
        _article_event("r1", "IRN", "RUS", "arms_transfer", "072", 2, 8.3, "realized", date(2022, 10, 17)),
        _article_event("r2", "IRN", "IRN", "arms_transfer", "072", 2, 8.3, "realized", date(2022, 10, 17)),
        _article_event("r3", "IRN", "XXX", "arms_transfer", "072", 2, 8.3, "realized", date(2022, 10, 17)),
    ])
    db = given(scratch("events"), lake={"gdelt_events": gdelt, "articles": articles, "article_events": events})
    run(db, *sorted(EVENT_MODELS))
    con = duckdb.connect(str(db), read_only=True)

    stg = con.execute("select count(*), count(*) filter (where is_state_dyad) from stg_gdelt__events").fetchone()
    assert stg == (22, 20)
    rows = con.execute("select source, event_id, actor1_iso2, actor2_iso2, relation_type, cameo_code, modality, "
                       "weight, url from int_events_all order by source, event_id").df()
    assert len(rows) == 21 and rows["source"].value_counts().to_dict() == {"gdelt": 20, "article": 1}
    by_code = rows[rows["source"] == "gdelt"].groupby("cameo_code")["relation_type"].first().to_dict()
    assert by_code["072"] == "arms_transfer" and by_code["057"] == "agreement" and by_code["163"] == "sanctions"
    assert by_code["111"] == "criticism" and by_code["195"] == "use_of_force"
    assert by_code["061"] == "economic_cooperation" and pd.isna(by_code["042"]) and pd.isna(by_code["161"])
    article = rows[rows["source"] == "article"].iloc[0]
    assert (article["actor1_iso2"], article["actor2_iso2"], article["url"]) == ("IR", "RU", "https://example.org/a")
    mart = con.execute("select * from mart_dyad_events_monthly where country_a = 'IR' and country_b = 'RU' "
                       "and month = date '2022-10-01' and direction = 'a_to_b' order by source").df()
    assert mart["source"].tolist() == ["all", "article", "gdelt"]
    assert mart["arms_transfer_events"].tolist() == [2, 1, 1]
    comments = con.execute("select count(*) from duckdb_columns() where table_name = 'mart_dyad_events_monthly' "
                           "and comment is not null").fetchone()[0]
    assert comments == len(con.execute("describe mart_dyad_events_monthly").fetchall())


GIVEN_EVENTS = [
    # source, id, date, actor1, actor2, directed, relation, cameo, quad, goldstein, modality, weight
    ("gdelt", "e1", date(2022, 10, 17), "IR", "RU", True, "arms_transfer", "072", 2, 8.3, "realized", 3.0),
    ("gdelt", "e2", date(2022, 10, 20), "RU", "IR", True, "criticism", "111", 3, -2.0, "realized", 2.0),
    ("article", "a1", date(2022, 10, 5), "IR", "RU", True, "arms_transfer", "0332", 1, 5.2, "planned", 1.0),
    ("article", "a2", date(2022, 10, 6), "IR", "RU", True, "arms_transfer", "072", 2, 8.3, "denied", 1.0),
    ("article", "a3", date(2022, 10, 7), "RU", "IR", False, "financial_integration", "061", 2, 6.4, "realized", 1.0),
    ("article", "a4", date(2022, 11, 1), "US", "IR", True, "sanctions", "163", 4, -8.0, "realized", 1.0),
    ("gdelt", "e3", date(2022, 11, 2), "DE", "FR", True, None, "010", 1, 0.0, "realized", 5.0),
]


def test_mart_formulas_on_given_rows():
    db = given(scratch("events"))
    run(db, "+mart_dyad_events_monthly")  # every model it reads, on an empty lake, for their columns
    columns = ["source", "event_id", "event_date", "actor1_iso2", "actor2_iso2", "directed", "relation_type",
               "cameo_code", "quad_class", "goldstein", "modality", "weight"]
    replace(db, "int_events_all", pd.DataFrame(GIVEN_EVENTS, columns=columns).assign(evidence="", url=""))
    run(db, "mart_dyad_events_monthly")
    con = duckdb.connect(str(db), read_only=True)
    mart = con.execute("select * from mart_dyad_events_monthly").df().set_index(
        ["source", "month", "country_a", "country_b", "direction"])

    def row(source: str, month: str, a: str, b: str, direction: str) -> pd.Series:
        return mart.loc[(source, pd.Timestamp(month), a, b, direction)]

    both = row("all", "2022-10-01", "IR", "RU", "both")
    assert (both["events"], both["realized_events"], both["planned_events"], both["alleged_events"],
            both["denied_events"]) == (5, 3, 1, 0, 1)
    assert (both["arms_transfer_events"], both["criticism_events"], both["financial_integration_events"]) == (1, 1, 1)
    assert (both["material_cooperation_events"], both["verbal_conflict_events"],
            both["verbal_cooperation_events"]) == (2, 1, 0)
    assert both["cooperation"] == pytest.approx(3 * 8.3 + 6.4)
    assert both["conflict"] == pytest.approx(2 * 2.0)
    assert both["net_cooperation"] == pytest.approx((31.3 - 4.0) / (31.3 + 4.0))
    assert both["realized_weight"] == pytest.approx(6.0)
    a_to_b = row("all", "2022-10-01", "IR", "RU", "a_to_b")
    assert (a_to_b["events"], a_to_b["realized_events"], a_to_b["arms_transfer_events"]) == (3, 1, 1)
    assert a_to_b["net_cooperation"] == pytest.approx(1.0)
    b_to_a = row("all", "2022-10-01", "IR", "RU", "b_to_a")
    assert (b_to_a["events"], b_to_a["cooperation"], b_to_a["conflict"], b_to_a["net_cooperation"]) == (1, 0, 4, -1)
    assert row("gdelt", "2022-10-01", "IR", "RU", "both")["cooperation"] == pytest.approx(24.9)
    article = row("article", "2022-10-01", "IR", "RU", "both")
    assert (article["events"], article["realized_events"], article["net_cooperation"]) == (3, 1, 1.0)
    assert ("article", pd.Timestamp("2022-10-01"), "IR", "RU", "b_to_a") not in mart.index  # a3 is undirected
    sanctions = row("all", "2022-11-01", "IR", "US", "b_to_a")
    assert (sanctions["sanctions_events"], sanctions["material_conflict_events"], sanctions["net_cooperation"]) == (
        1, 1, -1)
    assert (sanctions["country_a_name"], sanctions["country_b_name"]) == ("Iran", "United States")
    neutral = row("all", "2022-11-01", "DE", "FR", "a_to_b")
    assert neutral["cooperation"] == 0 and neutral["conflict"] == 0 and pd.isna(neutral["net_cooperation"])
    assert neutral["unclassified_events"] == 1
    assert len(mart) == 16
