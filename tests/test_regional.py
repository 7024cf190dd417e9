"""Region scores, region targets and the `vdto regions` commands, on real data and fixtures."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import DATA, run_here
from vdto.errors import VdtoError
from vdto.events.ingest import import_counts_file
from vdto.geography import STATES
from vdto.orgs import Registry
from vdto.regional.analysis import analyse
from vdto.regional.emerging import CLASSES, LEFT_OUT, MIN_BINS, TARGET_TIER, TARGET_TIERS
from vdto.regional.hotspots import HOT
from vdto.regional.panel import LEVELS, check_level, region_panel, region_scores, score_store
from vdto.scoring.rubric import Rubric
from vdto.store import Store

RUBRIC_FILE = Path(__file__).parents[1] / "src" / "vdto" / "data" / "rubrics" / "default-v1.toml"


def no_decay() -> Rubric:
    r = Rubric.default()
    return r.model_copy(update={"time": r.time.model_copy(update={"half_life_days": 0})})


@pytest.fixture(scope="session")
def counts_store(tmp_path_factory, sesnsp_file) -> Path:
    db = tmp_path_factory.mktemp("sesnsp") / "counts.duckdb"
    import_counts_file(db, sesnsp_file)
    return db


@pytest.fixture(scope="session")
def full_store(tmp_path_factory, ucdp_store, sesnsp_file) -> Path:
    """UCDP events and SESNSP counts together (read-only use)."""
    import shutil

    db = tmp_path_factory.mktemp("full") / "full.duckdb"
    shutil.copy(ucdp_store[0], db)
    import_counts_file(db, sesnsp_file)
    return db


@pytest.fixture
def nodecay_rubric(tmp_path) -> Path:
    path = tmp_path / "nodecay.toml"
    text = RUBRIC_FILE.read_text(encoding="utf-8")
    assert "half_life_days = 180" in text
    path.write_text(
        text.replace("half_life_days = 180", "half_life_days = 0").replace('"default-v1"', '"nodecay"'),
        encoding="utf-8",
    )
    return path


# ---------------------------------------------------------------- the formula, by hand


def _events(**cols) -> pd.DataFrame:
    n = len(next(iter(cols.values())))
    base = {"source": ["s"] * n, "source_id": [str(i) for i in range(n)], "mun_code": [None] * n}
    return pd.DataFrame({**base, **cols})


def _counts(region: str, period: str, count: int) -> pd.DataFrame:
    return pd.DataFrame(
        {"source": ["c"], "level": ["state"], "region_code": [region], "state_code": [region[:2]],
         "period": [period], "count": [count]}
    )  # fmt: skip


def test_counted_victims_not_covered_by_events_add_the_baseline():
    # 2 police killed in one clash (3 points each) and 10 homicide victims counted that month:
    # 6 points from the event + 8 uncovered victims x 1 point (unknown kind, homicide)
    ev = _events(date_start=["2019-03-02"], state_code=["14"], category=["armed_clash"], deaths_best=[2],
                 victims_police=[2])  # fmt: skip
    panel = region_panel(ev, _counts("14", "2019-03-01", 10), Rubric.default(), "state")
    row = panel.iloc[0]
    assert (row["event_points"], row["counted"], row["score"]) == (6.0, 10, 14.0)


def test_events_with_more_deaths_than_counted_take_nothing_away():
    ev = _events(date_start=["2019-03-02"], state_code=["14"], category=["homicide"], deaths_best=[4],
                 victims_civilian=[4])  # fmt: skip
    panel = region_panel(ev, _counts("14", "2019-03-01", 3), Rubric.default(), "state")
    assert panel["score"].tolist() == [8.0]  # 4 civilians x 2 points, nothing subtracted


def test_counts_in_a_month_without_events_score_the_baseline_and_months_stay_apart():
    ev = _events(date_start=["2019-03-02"], state_code=["14"], category=["homicide"], deaths_best=[1],
                 victims_civilian=[1])  # fmt: skip
    counts = pd.concat([_counts("14", "2019-03-01", 1), _counts("14", "2019-04-01", 5)])
    panel = region_panel(ev, counts, Rubric.default(), "state")
    assert panel[["period", "score"]].assign(period=lambda f: f["period"].dt.month).values.tolist() == [
        [3, 2.0],
        [4, 5.0],
    ]


def test_window_score_sums_the_months_and_every_region_is_listed():
    ev = _events(date_start=["2019-03-02", "2019-08-30"], state_code=["14", "14"], category=["homicide"] * 2,
                 deaths_best=[1, 2], victims_civilian=[1, 2])  # fmt: skip
    res = region_scores(ev, None, None, Registry.seed(), level="state", start=date(2019, 1, 1),
                        end=date(2019, 12, 31), rubric=no_decay())  # fmt: skip
    assert len(res.table) == 32 and set(res.table["region_code"]) == set(STATES)
    top = res.table.iloc[0]
    assert (top["region_code"], top["score"], top["events"]) == ("14", 6.0, 2)
    assert (res.table["score"].iloc[1:] == 0).all()


# ---------------------------------------------------------------- real data


@pytest.fixture(scope="session")
def sesnsp_raw(sesnsp_file) -> pd.DataFrame:
    """The SESNSP file read directly with pandas, independently of vdto's importer."""
    return pd.read_csv(sesnsp_file, dtype=str)


def _direct_sesnsp(raw: pd.DataFrame, year: int) -> pd.Series:
    raw = raw[(raw["subtipo_de_delito"] == "Homicidio doloso") & (raw["n_year"] == str(year))]
    victims = raw["n_victimas"].astype(int).groupby(raw["cve_ent"].str.zfill(2)).sum()
    return victims.sort_values(ascending=False, kind="stable")


@pytest.mark.parametrize("year", [2016, 2019, 2023])
def test_state_counts_equal_a_direct_sum_of_the_sesnsp_file(counts_store, sesnsp_raw, year):
    direct = _direct_sesnsp(sesnsp_raw, year)
    with Store(counts_store, read_only=True) as store:
        res = score_store(store, date(year, 1, 1), date(year, 12, 31), level="state", rubric=no_decay())
    got = res.table.set_index("region_code")["counted"]
    pd.testing.assert_series_equal(got.reindex(direct.index), direct, check_names=False)
    # no events: the score is the counts x 1 point, so the ranking is the counts' ranking
    assert res.table["region_code"].head(5).tolist() == direct.index[:5].tolist()
    assert res.table["score"].sum() == direct.sum()


def test_the_most_homicide_victims_in_2019_were_in_guanajuato(counts_store, sesnsp_raw):
    direct = _direct_sesnsp(sesnsp_raw, 2019)
    assert STATES[direct.index[0]] == "Guanajuato"
    with Store(counts_store, read_only=True) as store:
        res = score_store(store, date(2019, 1, 1), date(2019, 12, 31), level="state")
    # per 100,000: the rate uses CONAPO's state population, so the order can differ from the totals
    top = res.table.iloc[0]
    assert top["name"] == "Guanajuato" and top["per100k"] == pytest.approx(
        top["score"] / 6.1e6 * 1e5, rel=0.05
    )


def test_municipal_event_deaths_equal_a_direct_query(ucdp_store):
    db, _ = ucdp_store
    with Store(db, read_only=True) as store:
        res = score_store(store, date(2019, 1, 1), date(2019, 12, 31), level="municipality", use_counts=False)
        direct = store.query(
            """SELECT mun_code, sum(deaths_best) AS deaths FROM events
               WHERE date_start BETWEEN '2019-01-01' AND '2019-12-31' AND mun_code IS NOT NULL GROUP BY 1"""
        ).set_index("mun_code")["deaths"]
        unlocated = store.query(
            "SELECT count(*) FROM events WHERE year(date_start) = 2019 AND mun_code IS NULL"
        ).iloc[0, 0]
    got = res.table.set_index("region_code")["event_deaths"]
    pd.testing.assert_series_equal(got.reindex(direct.index), direct.astype(float), check_names=False)
    assert (got.drop(direct.index) == 0).all()
    assert res.meta["events_unlocated"] == unlocated
    # rates use CONAPO's municipal population: defined wherever it has a figure for 2019
    from vdto.geography import geography

    pop = geography().municipal_population(2019)
    rated = res.table.set_index("region_code")
    assert rated["per100k"].notna().sum() == len(pop) == 2_457
    assert np.allclose(rated.loc[pop.index, "per100k"], rated.loc[pop.index, "score"] / pop * 1e5)


def test_organization_shares_add_up_to_one_per_region(ucdp_store):
    db, _ = ucdp_store
    with Store(db, read_only=True) as store:
        res = score_store(store, date(2020, 1, 1), date(2020, 12, 31), level="state", use_counts=False)
    sums = res.orgs.groupby("region_code")["share"].sum()
    assert len(sums) > 10 and np.allclose(sums, 1.0)
    lead = res.table.dropna(subset=["top_org"]).set_index("region_code")
    best = res.orgs.sort_values(["region_code", "points", "org"], ascending=[True, False, True])
    best = best.drop_duplicates("region_code").set_index("region_code")
    assert "government_of_mexico" not in set(res.orgs["org"])
    assert (lead["top_org"] == best.loc[lead.index, "org"]).all()


def test_region_targets_are_violent_significant_hot_spots(full_store):
    with Store(full_store, read_only=True) as store:
        res = analyse(store, date(2019, 1, 1), date(2019, 12, 31), level="municipality", seed=3, top=5)
    t = res.targets.table
    assert 1 <= len(t) <= 5
    hot = res.hot.set_index("region_code").loc[t["region_code"]]
    assert (hot["hotspot"] == HOT).all() and (t["score"] > 0).all()
    # ordered by the group of the emerging pattern (hot now and 90% of the time first), then by score
    priority = t["pattern"].map(TARGET_TIER).fillna(len(TARGET_TIERS))
    assert priority.is_monotonic_increasing
    assert all(g["score"].is_monotonic_decreasing for _, g in t.groupby(priority))
    patterns = res.emerging.table.set_index("region_code")["pattern"]
    assert (t.set_index("region_code")["pattern"] == patterns.loc[t["region_code"]]).all()
    # every target comes with the events to focus on, drawn from that region
    assert set(res.targets.events["region_code"]) <= set(t["region_code"])
    assert len(res.targets.events) >= len(t)
    # a target is the core of its hot spot: at least as violent as its neighbours on average
    assert (t["score"] >= t["neighbours_score"]).all()


def test_the_rim_of_a_hot_spot_is_no_target():
    """A quiet region next to a violent one is a Gi* hot spot because of it; only the violent
    one is a target, whatever their patterns."""
    from vdto.regional.target import region_targets

    ev = pd.DataFrame({"source": ["s"] * 2, "source_id": ["1", "2"], "date_start": [date(2019, 3, 2)] * 2,
                       "state_code": ["12", "17"], "mun_code": [None, None], "category": ["homicide"] * 2,
                       "deaths_best": [40, 2], "victims_civilian": [40, 2]})  # fmt: skip
    sc = region_scores(ev, None, None, Registry.seed(), level="state", start=date(2019, 1, 1),
                       end=date(2019, 12, 31))  # fmt: skip
    hot = pd.DataFrame({"region_code": ["12", "17"], "hotspot": [HOT, HOT], "gi_z": [3.0, 2.5],
                        "gi_p": [0.001, 0.01], "cluster": ["high-high", "low-high"]})  # fmt: skip
    patterns = pd.DataFrame(
        {"region_code": ["12", "17"], "pattern": ["historical hot spot", "consecutive hot spot"]}
    )
    around = pd.Series({"12": 2.0, "17": 40.0})  # Guerrero and Morelos, each the other's neighbour here
    both = region_targets(sc, hot, patterns=patterns)
    assert both.table["region_code"].tolist() == ["17", "12"]  # recently hot before no longer hot
    core = region_targets(sc, hot, patterns=patterns, neighbours=around)
    assert core.table["region_code"].tolist() == ["12"]
    assert "at least as violent as their neighbours" in core.reason


def test_emerging_patterns_cover_the_months_of_a_long_window_and_not_a_short_one(full_store):
    with Store(full_store, read_only=True) as store:
        res = analyse(store, date(2017, 1, 1), date(2019, 12, 31), level="state", seed=1, permutations=199)
        short = analyse(store, date(2019, 1, 1), date(2019, 6, 30), level="state", seed=1, permutations=199)
    em = res.emerging
    assert em is not None and len(em.table) == 32 and set(em.table["pattern"]) <= {*CLASSES, LEFT_OUT}
    assert em.meta["bins"] == 36 and em.meta["bin"] == "month" and em.meta["k"] == 1
    assert (em.meta["permutations"], em.meta["seed"]) == (199, 1)  # the hot spots' own settings
    assert res.meta["patterns"].startswith("36 monthly bins") and sum(em.counts().values()) == 32
    assert "pattern" in res.targets.table
    assert short.emerging is None and f"needs {MIN_BINS + 1}" in short.meta["patterns"]
    assert "pattern" not in short.targets.table


# ---------------------------------------------------------------- a source vdto has never seen


def test_an_unseen_source_with_victim_kinds_and_no_perpetrator_flows_through(tmp_path, nodecay_rubric):
    db = tmp_path / "obs.duckdb"
    r = run_here("import", "csv", str(DATA / "observatorio_sample.csv"), "-m", str(DATA / "observatorio_mapping.toml"),
                 "--db", str(db))  # fmt: skip
    assert r.returncode == 0, r.stderr
    r = run_here("regions", "score", "--from", "2022", "--to", "2022", "--level", "municipality",
                 "--rubric", str(nodecay_rubric), "--db", str(db), "-f", "json")  # fmt: skip
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    scores = {row["region_code"]: row["score"] for row in doc["rows"] if row["score"] > 0}
    # by hand, default weights: civilian 2, journalist/official 4, police 3, massacre (>= 5 deaths) x1.5,
    # a disappearance with 4 victims and no deaths: 4 x 1 non-fatal point
    assert scores == pytest.approx(
        {
            "11007": 5 * 2 * 1.5 + 1 * 2,  # Celaya: 5 civilians killed, then 1
            "16102": 6 * 2 * 1.5 + 1 * 4,  # Uruapan: 6 civilians, an official
            "32010": 4 * 3 + 0.5,  # Fresnillo: 4 police; a journalist attacked, nobody killed
            "12001": 3 * 2 + 2 * 3,  # Acapulco: 3 civilians, 2 police
            "26018": 2 * 2,
            "16108": 2 * 2,
            "12035": 4 * 1.0,  # Iguala: 4 disappeared
            "12029": 1 * 4,  # Chilpancingo: a journalist killed
        }
    )
    assert doc["orgs"] == [] and all(row["top_org"] is None for row in doc["rows"])
    r = run_here("regions", "hotspots", "--from", "2022", "--to", "2022", "--level", "state",
                 "--db", str(db), "-f", "json", "--seed", "5")  # fmt: skip
    assert r.returncode == 0, r.stderr
    hot = json.loads(r.stdout)
    assert len(hot["rows"]) == 32 and hot["meta"]["seed"] == 5 and hot["meta"]["permutations"] == 999


# ---------------------------------------------------------------- the command line


def test_hotspots_are_reproducible_from_the_seed(full_store):
    with Store(full_store, read_only=True) as store:
        a, b, c = (analyse(store, date(2021, 1, 1), date(2021, 12, 31), seed=s) for s in (11, 11, 12))
    pd.testing.assert_frame_equal(a.hot, b.hot)
    assert np.allclose(a.hot["gi_z"], c.hot["gi_z"])  # the statistic does not depend on the seed
    assert not np.array_equal(a.hot["gi_p"], c.hot["gi_p"])  # its permutation p-value does
    # the command line prints the same numbers with their provenance
    r = run_here("regions", "hotspots", "--from", "2021", "--to", "2021", "--db", str(full_store), "-f", "csv",
                 "--seed", "11")  # fmt: skip
    assert r.returncode == 0, r.stderr
    printed = pd.read_csv(pd.io.common.StringIO(r.stdout), dtype={"region_code": str}).set_index(
        "region_code"
    )
    assert (
        "meta_data_sha256" in printed
        and "meta_rubric_sha256" in printed
        and (printed["meta_seed"] == 11).all()
    )
    mine = a.hot.set_index("region_code")
    assert np.allclose(printed.loc[mine.index, "gi_p"], mine["gi_p"])


def test_region_target_command_names_regions_and_organizations(full_store):
    r = run_here("regions", "target", "--from", "2019", "--to", "2019", "--db", str(full_store), "-f", "json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["rows"] and doc["reason"].startswith(f"{len(doc['rows'])} municipality hot spot")
    assert all(row["organizations"] for row in doc["rows"])
    assert {e["region_code"] for e in doc["events"]} <= {row["region_code"] for row in doc["rows"]}


@pytest.mark.parametrize(
    ("args", "where"),
    [
        (["regions", "score", "--level", "county"], "--level"),
        (["regions", "score", "--measure", "robo"], "--measure"),
        (["regions", "hotspots", "--permutations", "10"], "--permutations"),
        (["regions", "hotspots", "--alpha", "2"], "--alpha"),
        (["regions", "hotspots", "--islands", "sink"], "--islands"),
        (["regions", "map", "--value", "rate", "--level", "municipality", "--out", "m.png"], "--value"),
    ],
)
def test_bad_options_get_one_line_and_exit_2(full_store, tmp_path, args, where):
    r = run_here(*args, "--db", str(full_store), cwd=tmp_path)
    assert r.returncode == 2, r.stdout + r.stderr
    lines = [ln for ln in r.stderr.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and where in lines[0] and "Traceback" not in r.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_map_with_an_unknown_format_writes_nothing(full_store, tmp_path):
    r = run_here("regions", "map", "--out", str(tmp_path / "m.gif"), "--db", str(full_store))
    assert r.returncode == 2 and "m.gif" in r.stderr and ".png" in r.stderr
    assert list(tmp_path.iterdir()) == []


@given(st.text(max_size=20).filter(lambda s: s not in LEVELS))
def test_unknown_levels_are_refused(level):
    with pytest.raises(VdtoError) as exc:
        check_level(level)
    assert exc.value.param == "level"


def test_events_without_any_region_and_no_counts_give_an_empty_panel():
    ev = _events(date_start=["2019-03-02"], state_code=[None], category=["homicide"], deaths_best=[1])
    panel = region_panel(ev, None, Rubric.default(), "state")
    assert panel.empty and list(panel.columns)[:2] == ["region_code", "period"]
    res = region_scores(
        ev, None, None, Registry.seed(), level="state", start=date(2019, 1, 1), end=date(2019, 12, 31)
    )
    assert (res.table["score"] == 0).all() and res.meta["events_unlocated"] == 1
