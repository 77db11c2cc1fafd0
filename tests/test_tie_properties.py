"""Properties of the tie index, checked with hypothesis on generated pairs: the SQL of
``sql/macros/tie_index.sql`` (the one definition mart_dyad_ties calls) rendered with plain Jinja and
run by DuckDB on in-memory tables, so that many examples run fast.

What must hold (issue 15, part 3; docs/tie_index.md proves it):
- one more cooperative event or one more co-listed designation never lowers a pair's index or rank;
- one more conflict event never raises them;
- the result depends neither on the order of the rows nor on pairs of other periods;
- tie_rank is a competition rank (1 + the pairs with a higher index) among index_pairs pairs, and the
  scores and index are those recomputed here, independently, from the component columns.
"""

from __future__ import annotations

import csv
from datetime import date
from fractions import Fraction
from functools import cache

import duckdb
import jinja2
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.reference import REFERENCE_DIR
from pipeline.settings import REPO_ROOT

MACROS = REPO_ROOT / "sql" / "macros" / "tie_index.sql"
WEIGHTS_CSV = REFERENCE_DIR / "tie_index_weights.csv"
PERIOD = ("year", date(2019, 1, 1))
OTHER = ("month", date(2019, 10, 1))
COUNTS = ("sanctions_linked_to_both", "sanctions_cross_program", "sanctions_relation_edges")
COMPONENTS = ("events_cooperation", "events_net_cooperation", *COUNTS, "unga_agreement", "unga_kappa")
COVERED = {"events": "events_covered", "sanctions": "sanctions_covered", "unga": "unga_covered"}
KEYS = ["period_type", "period_start", "country_a", "country_b"]
EXAMPLES = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@cache
def _module():
    return jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(MACROS.read_text()).module


@cache
def _sql() -> str:
    """The tie index over the table ``given_pairs`` (events as C and K: net cooperation by the mart's
    own macro) and the table ``given_weights``."""
    module = _module()
    return (f"with given_components as (select *, {module.net_cooperation('events_cooperation', 'events_conflict')}"
            f" as events_net_cooperation from given_pairs)\n"
            f"select * from ({module.tie_index('given_components', 'given_weights')})")


def shipped_weights() -> dict[str, str]:
    with WEIGHTS_CSV.open(newline="", encoding="utf-8") as handle:
        return {row["component"]: row["weight"] for row in csv.DictReader(handle)}


@cache
def _connection() -> duckdb.DuckDBPyConnection:
    """One in-memory database for the module's examples (a new connection per example costs more than
    the query)."""
    return duckdb.connect()


def index(pairs: list[dict], weights: dict[str, str] | None = None) -> pd.DataFrame:
    """The macro's output for the given pair rows (keys, C, K, the three sanctions counts, agreement,
    kappa and the three coverage flags), keyed by (period_type, period_start, country_a, country_b)."""
    weights = weights or shipped_weights()
    con = _connection()
    con.register("_pairs", pd.DataFrame(pairs))
    con.execute("create or replace temp table given_pairs as select period_type, "
                "cast(period_start as date) as period_start, country_a, country_b, events_covered, "
                "sanctions_covered, unga_covered, cast(events_cooperation as double) as events_cooperation, "
                "cast(events_conflict as double) as events_conflict, "
                + ", ".join(f"cast({c} as bigint) as {c}" for c in COUNTS)
                + ", cast(unga_agreement as double) as unga_agreement, cast(unga_kappa as double) as unga_kappa "
                "from _pairs")
    con.register("_weights", pd.DataFrame({"component": list(weights), "weight": list(weights.values())}))
    con.execute("create or replace temp table given_weights as select * from _weights")
    con.unregister("_pairs")
    con.unregister("_weights")
    return con.execute(_sql()).df().set_index(KEYS).sort_index()


# ------------------------------------------------------------------------------------ generated pairs
COUNTRIES = [f"C{i:02d}" for i in range(12)]
# Goldstein scores have one decimal; GDELT weighs an event by its article count
goldstein = st.integers(1, 100).map(lambda tenths: tenths / 10)
article_weight = st.integers(1, 6)
events_mass = st.one_of(st.just(0.0), st.lists(st.tuples(goldstein, article_weight), max_size=4).map(
    lambda events: round(sum(g * w for g, w in events), 1)))
unga_score = st.one_of(st.none(), st.integers(0, 40).map(lambda i: i / 40))


@st.composite
def period_pairs(draw, period=PERIOD, min_size=2, max_size=10) -> list[dict]:
    """The pairs of one period: every pair has its counts (a covered source covers every pair), the UN
    scores may be missing (too few common votes); the coverage flags are the period's."""
    n = draw(st.integers(min_size, max_size))
    countries = sorted(draw(st.sets(st.sampled_from(COUNTRIES), min_size=2, max_size=len(COUNTRIES))))
    keys = sorted({(a, b) for a in countries for b in countries if a < b})
    keys = draw(st.lists(st.sampled_from(keys), min_size=min(n, len(keys)), max_size=min(n, len(keys)),
                         unique=True))
    flags = {flag: draw(st.booleans()) for flag in COVERED.values()}
    if not any(flags.values()):
        flags["events_covered"] = True
    rows = []
    for a, b in keys:
        rows.append({
            "period_type": period[0], "period_start": period[1], "country_a": a, "country_b": b, **flags,
            "events_cooperation": draw(events_mass), "events_conflict": draw(events_mass),
            **{c: draw(st.integers(0, 6)) for c in COUNTS},
            "unga_agreement": draw(unga_score), "unga_kappa": draw(unga_score),
        })
    return rows


weights_strategy = st.fixed_dictionaries({c: st.sampled_from(["0", "0.5", "1", "2", "3"]) for c in COMPONENTS})


def _pair(frame: pd.DataFrame, row: dict) -> pd.Series:
    return frame.loc[(row["period_type"], pd.Timestamp(row["period_start"]), row["country_a"], row["country_b"])]


def _changed(pairs: list[dict], i: int, **added: float) -> list[dict]:
    out = [dict(p) for p in pairs]
    for column, amount in added.items():
        out[i][column] = out[i][column] + amount
    return out


def _assert_not_lower(before: pd.Series, after: pd.Series) -> None:
    """``after`` is at least as close as ``before``: index not lower, rank not worse (no index when
    every covered component weighs 0: then neither has one)."""
    if pd.isna(before["tie_index"]):
        assert pd.isna(after["tie_index"]) and pd.isna(after["tie_rank"])
        return
    assert after["tie_index"] >= before["tie_index"]
    assert after["tie_rank"] <= before["tie_rank"]


# ------------------------------------------------------------------------------------------ properties
@EXAMPLES
@given(pairs=period_pairs(), data=st.data(), weights=weights_strategy)
def test_a_cooperative_event_never_lowers_the_pairs_index_or_rank(pairs, data, weights):
    i = data.draw(st.integers(0, len(pairs) - 1))
    event = data.draw(goldstein) * data.draw(article_weight)
    before, after = index(pairs, weights), index(_changed(pairs, i, events_cooperation=event), weights)
    _assert_not_lower(_pair(before, pairs[i]), _pair(after, pairs[i]))


@EXAMPLES
@given(pairs=period_pairs(), data=st.data(), weights=weights_strategy)
def test_a_conflict_event_never_raises_the_pairs_index_or_rank(pairs, data, weights):
    i = data.draw(st.integers(0, len(pairs) - 1))
    event = data.draw(goldstein) * data.draw(article_weight)
    before, after = index(pairs, weights), index(_changed(pairs, i, events_conflict=event), weights)
    _assert_not_lower(_pair(after, pairs[i]), _pair(before, pairs[i]))


@EXAMPLES
@given(pairs=period_pairs(), data=st.data(), weights=weights_strategy)
def test_a_co_listed_designation_never_lowers_the_pairs_index_or_rank(pairs, data, weights):
    """A designation tied to both countries adds to linked_to_both; one of one country's entities under
    the other's programmes to cross_program; a listed relationship between their entities to edges."""
    i = data.draw(st.integers(0, len(pairs) - 1))
    added = {c: 1 for c in data.draw(st.sets(st.sampled_from(COUNTS), min_size=1))}
    before, after = index(pairs, weights), index(_changed(pairs, i, **added), weights)
    _assert_not_lower(_pair(before, pairs[i]), _pair(after, pairs[i]))


@EXAMPLES
@given(pairs=period_pairs(), data=st.data())
def test_the_result_does_not_depend_on_row_order(pairs, data):
    shuffled = data.draw(st.permutations(pairs))
    pd.testing.assert_frame_equal(index(pairs), index(list(shuffled)), check_exact=True, check_dtype=False)


@EXAMPLES
@given(pairs=period_pairs(), others=period_pairs(period=OTHER, min_size=1))
def test_the_result_does_not_depend_on_pairs_of_other_periods(pairs, others):
    alone = index(pairs)
    together = index(pairs + others).loc[alone.index]
    pd.testing.assert_frame_equal(alone, together, check_exact=True, check_dtype=False)


def _fraction(value) -> Fraction | None:
    return None if value is None or pd.isna(value) else Fraction(round(float(value), 9)).limit_denominator(10**9)


def recompute(pairs: list[dict], weights: dict[str, str]) -> dict[tuple[str, str], dict]:
    """Scores, index and competition rank of one period, from the component values alone, in exact
    arithmetic (the definition of docs/tie_index.md, written again here independently of the SQL)."""
    values: dict[str, dict[tuple[str, str], Fraction | None]] = {c: {} for c in COMPONENTS}
    for p in pairs:
        key = (p["country_a"], p["country_b"])
        c, k = Fraction(str(p["events_cooperation"])), Fraction(str(p["events_conflict"]))
        values["events_cooperation"][key] = c
        values["events_net_cooperation"][key] = (c - k) / (c + k) if c + k > 0 else Fraction(0)
        for name in (*COUNTS, "unga_agreement", "unga_kappa"):
            values[name][key] = _fraction(p[name])
    flags = pairs[0]
    out: dict[tuple[str, str], dict] = {key: {} for key in values["events_cooperation"]}
    for name in COMPONENTS:
        covered = flags[COVERED[name.split("_")[0]]]
        present = [v for v in values[name].values() if v is not None]
        for key, v in values[name].items():
            if not covered:
                score = None
            elif v is None or len(present) == 1:
                score = Fraction(1, 2)
            else:
                below = sum(1 for x in present if x < v)
                equal = sum(1 for x in present if x == v)
                score = (below + Fraction(equal - 1, 2)) / (len(present) - 1)
            out[key][f"{name}_score"] = score
    w = {name: Fraction(weights[name]) for name in COMPONENTS}
    for scores in out.values():
        used = [n for n in COMPONENTS if scores[f"{n}_score"] is not None and w[n] > 0]
        total = sum(w[n] for n in used)
        scores["tie_index"] = sum(w[n] * scores[f"{n}_score"] for n in used) / total if total else None
        scores["index_components"] = len(used)
    indexed = [s["tie_index"] for s in out.values() if s["tie_index"] is not None]
    for scores in out.values():
        i = scores["tie_index"]
        scores["tie_rank"] = None if i is None else 1 + sum(1 for x in indexed if x > i)
        scores["index_pairs"] = len(indexed)
    return out


@EXAMPLES
@given(pairs=period_pairs(), weights=weights_strategy)
def test_scores_index_and_competition_ranks_recomputed_from_the_components(pairs, weights):
    got = index(pairs, weights)
    for key, expected in recompute(pairs, weights).items():
        row = got.loc[(PERIOD[0], pd.Timestamp(PERIOD[1]), *key)]
        for name in COMPONENTS:
            want = expected[f"{name}_score"]
            assert (pd.isna(row[f"{name}_score"]) if want is None
                    else row[f"{name}_score"] == pytest.approx(float(want), abs=1e-12)), (key, name)
        if expected["tie_index"] is None:
            assert pd.isna(row["tie_index"]) and pd.isna(row["tie_rank"])
        else:
            assert row["tie_index"] == pytest.approx(float(expected["tie_index"]), abs=1e-11)
            assert row["tie_rank"] == expected["tie_rank"], key
        assert row["index_components"] == expected["index_components"]
        assert row["index_pairs"] == expected["index_pairs"]


def test_ties_share_a_rank_and_the_next_rank_skips():
    """Three pairs equal at the top and one below: ranks 1, 1, 1, 4 of 4 (a dense rank would give 2)."""
    rows = [{"period_type": "year", "period_start": PERIOD[1], "country_a": a, "country_b": "ZZ",
             "events_covered": True, "sanctions_covered": False, "unga_covered": False,
             "events_cooperation": c, "events_conflict": 0.0, **{n: 0 for n in COUNTS},
             "unga_agreement": None, "unga_kappa": None}
            for a, c in (("AA", 5.0), ("BB", 5.0), ("CC", 5.0), ("DD", 0.0))]
    got = index(rows)
    assert got["tie_rank"].tolist() == [1, 1, 1, 4] and set(got["index_pairs"]) == {4}


@pytest.mark.parametrize(("weights", "message"), [
    ({"events_cooperation": "-1"}, "events_cooperation: weight -1 is not a number of at least 0"),
    ({"events_cooperation": "heavy"}, "events_cooperation: weight heavy is not a number of at least 0"),
    ({"tone": "1"}, "unknown component tone"),
    ({"unga_kappa": None}, "component unga_kappa needs exactly one row"),
])
def test_bad_weights_are_refused_naming_the_file_component_and_rule(weights, message):
    given_weights = {**shipped_weights(), **weights}
    given_weights = {k: v for k, v in given_weights.items() if v is not None}
    rows = [{"period_type": "year", "period_start": PERIOD[1], "country_a": "AA", "country_b": "BB",
             "events_covered": True, "sanctions_covered": True, "unga_covered": True, "events_cooperation": 1.0,
             "events_conflict": 0.0, **{n: 0 for n in COUNTS}, "unga_agreement": 0.5, "unga_kappa": 0.1}]
    with pytest.raises(duckdb.Error, match=f"tie_index_weights.csv.*{message}"):
        index(rows, given_weights)
