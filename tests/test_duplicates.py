"""Duplicates across sources: matching real UCDP GED events against an agency register that
re-reports a known subset of them (precision and recall over three seeds), counting a matched
incident once in scores and region scores, the rules file's errors, and the command."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from vdto.data import bundled
from vdto.events import generic, ucdp
from vdto.events.duplicates import (
    COMPARISONS,
    DuplicateRules,
    evidence,
    find_duplicates,
    load_rules,
    log_odds,
)
from vdto.events.ingest import import_events
from vdto.orgs import Registry
from vdto.scoring import Rubric, score_frames
from vdto.scoring.engine import score
from vdto.store import Store

from .conftest import assert_one_line_exit_2, run_here

REG = Registry.seed()
SLICE = (date(2018, 1, 1), date(2018, 12, 31))  # 712 GED events
REGISTER = "fge-register"
SEEDS = (1, 2, 3)
FLAT = Rubric.default().model_copy(
    update={"time": Rubric.default().time.model_copy(update={"half_life_days": 0})}
)


# ------------------------------------------------------------------------------ the fixture


@pytest.fixture(scope="module")
def ged(tmp_path_factory) -> tuple[Path, pd.DataFrame, pd.DataFrame]:
    """The real GED rows of 2018 (UCDP's own CSV layout) and their canonical frames."""
    raw = pd.read_csv(bundled("ucdp"), dtype=str, keep_default_na=False)
    part = raw[(raw["date_start"] >= SLICE[0].isoformat()) & (raw["date_start"] <= SLICE[1].isoformat())]
    path = tmp_path_factory.mktemp("ged") / "ged_2018.csv"
    part.to_csv(path, index=False)
    batch = ucdp.parse(path, REG)
    return path, batch.events.drop(columns="_row"), batch.perpetrators.drop(columns="_row")


def make_register(events: pd.DataFrame, perps: pd.DataFrame, seed: int, share: float = 0.4):
    """An agency register that re-reports a known share of the GED events, with noise, plus as
    many unrelated events close to GED events in time and place.

    A re-report: its own id scheme; the date shifted by 0 (60%), 1 (30%) or 2 (10%) days either
    way (a day within GED's range when GED gives one of up to a week; GED's month- and year-long
    aggregates are never re-reported); the municipality kept (75%) or missing; deaths +-1 (25%);
    "homicide" or GED's category; the organization GED gives most of the deaths to, under
    another of its names (registry aliases) with probability 0.8, or nobody (30%). No coordinates.
    A distractor: the state of a random GED event, its municipality (40%), another municipality
    of the state (45%) or none, a date up to 5 days from it, deaths drawn from GED's, a random
    category (homicide, armed clash, kidnapping) and, 60% of the time, an organization active in
    the state. Returns the register's events and perpetrators, and the true pairs (register id,
    GED id).
    """
    rng = np.random.default_rng(seed)
    n = len(events)
    span = (pd.to_datetime(events["date_end"]) - pd.to_datetime(events["date_start"])).dt.days.to_numpy()
    copied = np.flatnonzero((rng.random(n) < share) & (span <= 6))
    armed = {o for o, org in REG.orgs.items() if org.kind not in ("state", "civilians")}
    top = (
        perps[perps["org_id"].isin(armed)]
        .sort_values(["source_id", "probability", "org_id"], ascending=[True, False, True])
        .drop_duplicates("source_id")
        .set_index("source_id")["org_id"]
    )
    alias = {o: (org.aliases[-1] if org.aliases else org.name) for o, org in REG.orgs.items()}
    all_mun = generic_municipalities()
    rows: list[dict] = []

    def add(state, day, mun, deaths, category, org) -> str:
        sid = f"FGE-{day.year}-{len(rows) + 1:05d}"
        rows.append({"folio": sid, "fecha": day.isoformat(), "estado": state or "", "municipio": mun or "",
                     "tipo": category, "muertos": int(deaths),
                     "grupo": f"{alias[org]}:0.8" if org else "desconocido"})  # fmt: skip
        return sid

    truth = set()
    for i in copied:
        e = events.iloc[i]
        s0, e0 = pd.Timestamp(e["date_start"]), pd.Timestamp(e["date_end"])
        if e0 > s0:
            day = s0 + pd.Timedelta(days=int(rng.integers(0, (e0 - s0).days + 1)))
        else:
            day = s0 + pd.Timedelta(days=int(rng.choice([0, 1, 2], p=[0.6, 0.3, 0.1]) * rng.choice([-1, 1])))
        mun = e["mun_code"] if rng.random() < 0.75 else None
        deaths = e["deaths_best"] + (rng.choice([-1, 1]) if rng.random() < 0.25 else 0)
        cat = "homicide" if e["category"] != "armed_clash" or rng.random() < 0.5 else "armed_clash"
        org = top.get(e["source_id"]) if rng.random() < 0.7 else None
        truth.add((add(e["state_code"], day.date(), mun, max(deaths, 0), cat, org), e["source_id"]))
    pool = events["deaths_best"].to_numpy()
    for _ in range(len(copied)):
        e = events.iloc[int(rng.integers(n))]
        state = e["state_code"] if isinstance(e["state_code"], str) else None
        muns = sorted(all_mun[all_mun.str[:2] == state]) if state else []
        r = rng.random()
        mun = (
            e["mun_code"] if r < 0.4 else (muns[int(rng.integers(len(muns)))] if r < 0.85 and muns else None)
        )
        day = (pd.Timestamp(e["date_start"]) + pd.Timedelta(days=int(rng.integers(-5, 6)))).date()
        active = top.reindex(events.loc[events["state_code"] == state, "source_id"]).dropna()
        org = active.iloc[int(rng.integers(len(active)))] if len(active) and rng.random() < 0.6 else None
        cat = str(rng.choice(["homicide", "armed_clash", "kidnapping"], p=[0.7, 0.2, 0.1]))
        add(state, day, mun if isinstance(mun, str) else None, pool[int(rng.integers(n))], cat, org)
    return pd.DataFrame(rows), truth


def generic_municipalities() -> pd.Series:
    from vdto.geography import geography

    m = geography().municipalities["mun_code"]
    return m[m.str.fullmatch(r"\d{5}")].reset_index(drop=True)


MAPPING = """source = "fge-register"
date_format = "%Y-%m-%d"

[columns]
source_id = "folio"
date = "fecha"
state = "estado"
municipality = "municipio"
category = "tipo"
deaths = "muertos"
perpetrator = "grupo"
"""


def register_frames(rows: pd.DataFrame, tmp: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The register through vdto's CSV importer, as a store would hold it."""
    csv_path, mapping_path = tmp / "register.csv", tmp / "register.toml"
    rows.to_csv(csv_path, index=False)
    mapping_path.write_text(MAPPING, encoding="utf-8")
    spec, _ = generic.load_mapping(mapping_path)
    batch = generic.parse(csv_path, REG, mapping=spec, mapping_path=str(mapping_path))
    assert not batch.problems, batch.problems[:3]
    return batch.events.drop(columns="_row"), batch.perpetrators.drop(columns="_row")


def quality(events: pd.DataFrame, perps: pd.DataFrame, pairs: pd.DataFrame, truth: set, threshold: float):
    """Precision and recall at ``threshold``: of the pairs (exact GED partner; or a GED event the
    compared fields cannot tell from it: same dates, municipality, deaths, category and
    organizations) and of the register events called re-reports."""
    orgs = perps.dropna(subset=["org_id"]).groupby("source_id")["org_id"].agg(lambda s: tuple(sorted(set(s))))
    fields = ["date_start", "date_end", "mun_code", "deaths_best", "category"]
    sig = dict(zip(events["source_id"], zip(*(events[c].astype(object).map(str) for c in fields),
                                             events["source_id"].map(orgs).map(str), strict=True), strict=True))  # fmt: skip
    src, ids = events["source"].to_numpy(), events["source_id"].to_numpy()
    original = dict(truth)
    got = exact = alike = 0
    called = set()
    for a, b, p in zip(pairs["a"], pairs["b"], pairs["probability"], strict=True):
        if p < threshold:
            continue
        x, y = (a, b) if src[a] == REGISTER else (b, a)
        got += 1
        called.add(ids[x])
        o = original.get(ids[x])
        exact += o == ids[y]
        alike += o is not None and sig[o] == sig[ids[y]]
    hits = len(called & set(original))
    return {
        "pairs": got,
        "true": len(truth),
        "pair_precision": exact / max(got, 1),
        "pair_recall": exact / len(truth),
        "alike_precision": alike / max(got, 1),
        "alike_recall": alike / len(truth),
        "event_precision": hits / max(len(called), 1),
        "event_recall": hits / len(truth),
    }


@pytest.fixture(scope="module")
def two_sources(ged, tmp_path_factory):
    """For each seed: both sources' events and perpetrators, and the true pairs."""
    _, gev, gpp = ged
    out = {}
    for seed in SEEDS:
        rows, truth = make_register(gev, gpp, seed)
        rev, rpp = register_frames(rows, tmp_path_factory.mktemp(f"register{seed}"))
        out[seed] = (
            pd.concat([gev, rev], ignore_index=True),
            pd.concat([gpp, rpp], ignore_index=True),
            truth,
            rows,
        )
    return out


# ------------------------------------------------------------------------ (a) the matching


def test_matching_finds_the_known_re_reports_over_three_seeds(two_sources):
    rules = DuplicateRules.default()
    for seed in SEEDS:
        events, perps, truth, _ = two_sources[seed]
        found = find_duplicates(events, perps, rules)
        q = quality(events, perps, found.pairs, truth, rules.threshold)
        removed = found.meta["duplicate_events_removed"]
        print(
            f"\nseed {seed}: {q['true']} re-reports, {q['pairs']} pairs >= {rules.threshold}; "
            f"re-report events P {q['event_precision']:.3f} R {q['event_recall']:.3f}; "
            f"pairs (GED look-alikes allowed) P {q['alike_precision']:.3f} R {q['alike_recall']:.3f}; "
            f"exact pairs P {q['pair_precision']:.3f} R {q['pair_recall']:.3f}; "
            f"expected events removed {removed:.1f}"
        )
        assert q["event_precision"] >= 0.8 and q["event_recall"] >= 0.65, q
        assert q["alike_precision"] >= 0.7 and q["alike_recall"] >= 0.58, q
        assert 0.6 * len(truth) <= removed <= 1.1 * len(truth)
        # one to one, and the probability is the evidence shown: prior log-odds + log2 Bayes factors
        pairs = found.pairs
        assert not pairs[["a"]].assign(s=events["source"].to_numpy()[pairs["b"]]).duplicated().any()
        assert not pairs[["b"]].assign(s=events["source"].to_numpy()[pairs["a"]]).duplicated().any()
        assert np.allclose(log_odds(pairs, rules), pairs["match_weight"], atol=1e-9)
        assert (events["source"].to_numpy()[pairs["a"]] == REGISTER).all()  # '*' comes first


def test_a_matcher_blind_to_date_and_place_fails_the_same_bar(two_sources):
    neutral = {"m": 0.25, "u": 0.25}
    rules = DuplicateRules.model_validate(
        {
            "date": {k: neutral for k in ("same_day", "within_1_day", "ranges_overlap", "other")},
            "place": {k: {"m": 1 / 3, "u": 1 / 3} for k in ("same_municipality", "near", "other")},
            "prior": 0.3,
        }
    )
    events, perps, truth, _ = two_sources[1]
    q = quality(events, perps, find_duplicates(events, perps, rules).pairs, truth, 0.5)
    assert q["event_precision"] < 0.8 or q["event_recall"] < 0.65 or q["alike_precision"] < 0.7, q


def test_reversed_preference_swaps_which_copy_counts(two_sources):
    events, perps, _, _ = two_sources[1]
    rules = DuplicateRules.default()
    fwd, rev = find_duplicates(events, perps, rules), find_duplicates(events, perps, rules.reversed())
    src = events["source"].to_numpy()
    assert (src[rev.pairs["a"]] == "ucdp-ged").all() and (src[rev.pairs["b"]] == REGISTER).all()

    # the same pairs either way (the probability does not depend on which copy counts)
    def key(p):
        return set(
            zip(
                np.minimum(p["a"], p["b"]),
                np.maximum(p["a"], p["b"]),
                p["probability"].round(12),
                strict=True,
            )
        )

    assert key(fwd.pairs) == key(rev.pairs)
    assert fwd.meta["duplicate_events_removed"] == pytest.approx(rev.meta["duplicate_events_removed"])
    assert fwd.meta["duplicate_rules_sha256"] != rev.meta["duplicate_rules_sha256"]


def test_a_single_source_is_never_matched(ged):
    _, events, perps = ged
    found = find_duplicates(events, perps)
    assert found.pairs.empty and (found.survival == 1).all() and found.meta["duplicate_events_removed"] == 0


# ---------------------------------------------------------------- (b) an incident counts once


def pair(p_rules: DuplicateRules):
    """The same killing twice: GED's report and the register's, both naming CJNG."""
    ev = pd.DataFrame(
        {
            "source": ["ucdp-ged", REGISTER], "source_id": ["1", "FGE-1"],
            "date_start": [date(2020, 6, 1)] * 2, "date_end": [date(2020, 6, 1)] * 2,
            "state_code": ["14", "14"], "mun_code": ["14039", "14039"], "category": ["homicide"] * 2,
            "deaths_best": [2, 2], "victims_civilian": [2, 2], "torture_display": [False] * 2,
            "reliability": [1.0] * 2,
        }
    )  # fmt: skip
    pp = pd.DataFrame({"source": ["ucdp-ged", REGISTER], "source_id": ["1", "FGE-1"], "raw_name": ["CJNG", "CJNG"],
                       "org_id": ["cjng"] * 2, "faction_id": [None] * 2, "faction": [None] * 2,
                       "probability": [1.0, 1.0]})  # fmt: skip
    return ev, pp, find_duplicates(ev, pp, p_rules)


def one(ev, pp, survival=None, draws=4000):
    return score_frames(ev, pp, REG, start=date(2020, 1, 1), end=date(2020, 12, 31), rubric=FLAT,
                        draws=draws, seed=3, survival=survival)  # fmt: skip


def test_the_same_incident_twice_scores_once(tmp_path):
    sure = DuplicateRules.model_validate({"prior": 0.999})
    ev, pp, found = pair(sure)
    p = float(found.pairs["probability"].iloc[0])
    assert p > 0.999
    single = one(ev.iloc[:1], pp.iloc[:1]).table.set_index("org")["score"]["cjng"]
    both = one(ev, pp, found.survival)
    row = both.table.set_index("org").loc["cjng"]
    assert row["score"] == pytest.approx(single * (2 - p)) and row["score"] == pytest.approx(single, rel=2e-3)
    assert both.samples[:, 0].mean() == pytest.approx(row["score"], rel=0.01)
    assert both.events["survival"].tolist() == pytest.approx([1 - p, 1.0])  # GED's copy goes


def test_a_pair_at_probability_one_half_counts_one_and_a_half():
    even = {"m": 0.5, "u": 0.5}
    half = DuplicateRules.model_validate(
        {"prior": 0.5, "deaths": {"equal": {"m": 0.6, "u": 0.6}, "close": {"m": 0.3, "u": 0.3}, "other": {"m": 0.1, "u": 0.1}},
         "place": {"same_municipality": {"m": 0.8, "u": 0.8}, "near": {"m": 0.1, "u": 0.1}, "other": {"m": 0.1, "u": 0.1}},
         "date": {"same_day": {"m": 0.6, "u": 0.6}, "within_1_day": {"m": 0.2, "u": 0.2}, "ranges_overlap": {"m": 0.1, "u": 0.1}, "other": {"m": 0.1, "u": 0.1}},
         "category": {"same": even, "compatible": {"m": 0.4, "u": 0.4}, "other": {"m": 0.1, "u": 0.1}},
         "perpetrators": {"overlap": even, "other": even}}
    )  # fmt: skip
    ev, pp, found = pair(half)
    assert found.pairs["probability"].tolist() == pytest.approx([0.5])
    single = one(ev.iloc[:1], pp.iloc[:1]).table.set_index("org")["score"]["cjng"]
    res = one(ev, pp, found.survival, draws=20000)
    got = res.table.set_index("org").loc["cjng"]
    assert got["score"] == pytest.approx(1.5 * single)
    assert got["events"] == pytest.approx(1.5)
    assert res.samples[:, 0].mean() == pytest.approx(1.5 * single, rel=0.02)
    # each draw: the register's copy always, GED's half the time
    assert set(np.unique(res.samples[:, 0])) == {single, 2 * single}


# -------------------------------------------------------------- through the store and the CLI


@pytest.fixture(scope="module")
def store_db(ged, two_sources, tmp_path_factory) -> tuple[Path, set]:
    """A store holding the GED slice and the register of seed 1 (one agency, two sources)."""
    path, _, _ = ged
    tmp = tmp_path_factory.mktemp("store")
    db = tmp / "two.duckdb"
    import_events(db, "ucdp", path, ucdp.parse)
    rows = two_sources[1][3]
    rows.to_csv(tmp / "register.csv", index=False)
    (tmp / "register.toml").write_text(MAPPING, encoding="utf-8")
    spec, digest = generic.load_mapping(tmp / "register.toml")
    import_events(db, "csv", tmp / "register.csv", generic.parse, mapping=spec,
                  mapping_path=str(tmp / "register.toml"), mapping_sha256=digest)  # fmt: skip
    return db, two_sources[1][2]


def test_scores_count_matched_events_once_and_record_it(store_db):
    db, truth = store_db
    with Store(db, read_only=True) as store:
        on = score(store, *SLICE, draws=200, seed=1)
        off = score(store, *SLICE, draws=200, seed=1, dedupe=False)
        ged_only = score(store, *SLICE, draws=200, seed=1, sources=["ucdp-ged"])
        rev = score(store, *SLICE, draws=200, seed=1, duplicates=DuplicateRules.default().reversed())
    meta = on.meta
    assert meta["duplicate_rules_sha256"] == DuplicateRules.default().sha256()
    assert meta["duplicate_pairs"] > 100 and 0.6 * len(truth) < meta["duplicate_events_removed"] < 1.1 * len(
        truth
    )
    # the expected score is the sum over events of weight x survival x probability
    s = on.events["survival"].to_numpy()
    assert on.events["survival"].min() < 0.5
    att = on.attribution
    again = (
        pd.Series(att["prob"].to_numpy() * on.events["weight"].to_numpy()[att["event"]])
        .groupby(att["org"].to_numpy())
        .sum()
    )
    assert np.allclose(on.table.set_index("org")["score"].reindex(again.index), again)
    assert on.table["events"].sum() < off.table["events"].sum()
    assert (s <= 1).all() and "duplicate_pairs" not in off.meta and "duplicate_pairs" not in ged_only.meta
    assert "survival" not in off.events
    for label, res in (("register first", on), ("GED first", rev), ("no matching", off)):
        top3 = ", ".join(f"{r.org} {r.score:.0f}" for r in res.table.head(3).itertuples())
        print(f"\n{label}: {top3}; P(rank 1) of the leader {res.table['p_rank1'].iloc[0]:.2f}", end="")
    assert on.table["org"].iloc[0] == rev.table["org"].iloc[0] == off.table["org"].iloc[0]


def test_a_single_source_window_scores_as_before(store_db):
    db, _ = store_db
    with Store(db, read_only=True) as store:
        a = score(store, *SLICE, draws=300, seed=2, sources=["ucdp-ged"])
        b = score(store, *SLICE, draws=300, seed=2, sources=["ucdp-ged"], dedupe=False)
    pd.testing.assert_frame_equal(a.table, b.table)
    assert a.samples.tobytes() == b.samples.tobytes() and a.meta == b.meta
    assert list(a.events.columns) == list(b.events.columns)


def test_region_scores_count_a_duplicate_s_deaths_with_its_survival(store_db):
    from vdto.regional.panel import load_inputs, scores_of_inputs

    db, _ = store_db
    with Store(db, read_only=True) as store:
        on = load_inputs(store, *SLICE, use_counts=False)
        off = load_inputs(store, *SLICE, use_counts=False, dedupe=False)
    kw = {"level": "state", "start": SLICE[0], "end": SLICE[1], "rubric": FLAT, "measure": "x"}
    r_on, r_off = scores_of_inputs(*on, REG, **kw), scores_of_inputs(*off, REG, **kw)
    ev = on[0]
    expected = float((ev["deaths_best"] * ev["survival"]).sum())
    located = ev["state_code"].notna().to_numpy()
    assert r_on.table["event_deaths"].sum() == pytest.approx(
        float((ev["deaths_best"] * ev["survival"])[located].sum())
    )
    assert r_off.table["event_deaths"].sum() == pytest.approx(float(ev["deaths_best"][located].sum()))
    assert expected < float(ev["deaths_best"].sum())
    assert r_on.meta["duplicate_rules_sha256"] == DuplicateRules.default().sha256()
    assert "duplicate_pairs" not in r_off.meta
    assert r_on.table["events"].sum() < r_off.table["events"].sum()


def test_the_command_lists_matches_with_their_evidence(store_db):
    db, truth = store_db
    res = run_here(
        "events", "duplicates", "--from", "2018", "--to", "2018", "--db", str(db), "--format", "json"
    )
    assert res.returncode == 0, res.stderr
    rows = json.loads(res.stdout)
    assert len(rows) > 100 and all(r["probability"] >= 0.5 for r in rows)
    first = rows[0]
    for side in ("a", "b"):
        for col in ("source", "id", "date", "place", "deaths", "category", "perpetrators"):
            assert f"{side}_{col}" in first
    for name in COMPARISONS:
        assert first[f"{name}_level"] and first[f"{name}_bf"] > 0
    assert {r["a_source"] for r in rows} == {REGISTER} and {r["b_source"] for r in rows} == {"ucdp-ged"}
    right = sum((r["a_id"], r["b_id"]) in truth for r in rows)
    assert right / len(rows) > 0.5
    table = run_here("events", "duplicates", "--from", "2018", "--to", "2018", "--db", str(db),
                     "--min-probability", "0.9", "--prefer", "ucdp-ged,*")  # fmt: skip
    assert table.returncode == 0, table.stderr
    assert "evidence" in table.stdout and "counts first: ucdp-ged, fge-register" in " ".join(
        table.stdout.split()
    )
    # vdto events --by ... is as it was
    by_year = run_here("events", "--by", "year", "--db", str(db), "--format", "json")
    years = {r["year"]: r["events"] for r in json.loads(by_year.stdout)}
    assert by_year.returncode == 0 and years[2018] > 1000 and set(years) <= {2017, 2018, 2019}


def test_evidence_names_both_events(two_sources):
    events, perps, _, _ = two_sources[2]
    found = find_duplicates(events, perps, min_probability=0.9)
    ev = evidence(events, perps, found)
    assert (ev["probability"] >= 0.9).all() and ev["evidence"].str.contains("date same_day").any()
    assert np.allclose(ev["b_survival"], 1 - ev["probability"])


# ---------------------------------------------------------------------------- (d) bad rules


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        ("prior = 0.1\nwindow = 3\n", ["bad.toml: window", "unknown key", "docs/duplicates.md"]),
        ("[date]\nwindow_days = -1\n", ["bad.toml: date.window_days", "greater than or equal to 0", "-1"]),
        ("[date]\nwindow_days = 'three'\n", ["bad.toml: date.window_days", "'three'"]),
        ("[place]\nsame_municipality = { m = 0.9, u = 0.12 }\n", ["bad.toml: place", "sum to 1.1"]),
        ("[category]\ngroups = [['homicide', 'bombing']]\n", ["bad.toml: category", "'bombing'"]),
        ("prefer = ['acled', 'acled']\n", ["bad.toml", "prefer names a source twice"]),
        ("prior = [\n", ["bad.toml", "invalid TOML", "fix the TOML syntax"]),
    ],
)
def test_bad_rules_are_one_line_naming_the_key(tmp_path, text, needles):
    bad = tmp_path / "bad.toml"
    bad.write_text(text, encoding="utf-8")
    res = run_here("events", "duplicates", "--rules", str(bad), "--db", str(tmp_path / "none.duckdb"))
    assert_one_line_exit_2(res, *needles)


def test_the_rules_file_and_the_command_options_are_checked(tmp_path):
    assert_one_line_exit_2(run_here("events", "duplicates", "--rules", str(tmp_path / "no.toml")),
                           "rules file not found", "--rules")  # fmt: skip
    assert_one_line_exit_2(run_here("events", "duplicates", "--min-probability", "1.5"), "--min-probability")
    assert_one_line_exit_2(run_here("events", "duplicates", "--prefer", "a,a"), "--prefer")


def test_the_bundled_rules_are_the_documented_defaults():
    assert load_rules(None) == DuplicateRules() == load_rules("default")
    assert len(DuplicateRules().sha256()) == 64
    doc = (Path(__file__).parents[1] / "docs" / "duplicates.md").read_text(encoding="utf-8")
    rules = DuplicateRules()
    keys = [
        k for k in DuplicateRules.model_fields if k not in ("name", "version", "description", *COMPARISONS)
    ]
    keys += [f"{c}.{k}" for c in COMPARISONS for k in type(getattr(rules, c)).model_fields]
    for key in keys:  # every parameter is documented
        assert f"`{key}`" in doc, key
