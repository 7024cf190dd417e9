"""Evaluating interventions on the real panels: INEGI's municipal homicides with the bundled
captures list, the store's events, the command line and round monitoring."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pandas as pd
import pytest

from vdto.data import bundled
from vdto.evaluation.interventions import read_interventions

from .conftest import assert_one_line_exit_2, run_cli, run_here

# ------------------------------------------------------------------------------ real data


@pytest.fixture(scope="module")
def real_run():
    from vdto.evaluation.evaluate import Settings
    from vdto.evaluation.interventions import LEADER_KINDS
    from vdto.services.evaluation import run_evaluation

    return run_evaluation(bundled("captures"), kinds=LEADER_KINDS, settings=Settings(placebo_draws=20, seed=3),
                          synth_row=5, donors=15)  # fmt: skip


def test_the_inegi_panel_holds_inegis_municipal_counts(real_run):
    from vdto.events import inegi

    p = real_run.panel
    assert p.Y.shape == (len(p.units), 312) and p.level == "municipality"
    units = set(p.units)
    for t in inegi.read(bundled("inegi")):
        c = t.counts
        inside = int(c.loc[c["region_code"].isin(units), "count"].sum())
        # every death INEGI placed on a municipality of the catalog, in its year's months
        assert int(p.Y[:, p.months.year == t.year].sum()) == inside
        # the rest: municipality not specified (SS999) or abroad
        assert inside + int(c.loc[~c["region_code"].isin(units), "count"].sum()) == t.deaths
    assert p.notes["outside_regions"] > 0


def test_the_real_evaluation_places_every_capture_and_carries_its_provenance(real_run):
    ev = real_run.evaluation
    first = ev.pooled.iloc[0]
    assert first["design"] == "where it happened" and first["treated"] == 20  # Morelia twice: first date
    assert first["controls"] > 1900 and np.isfinite(first["estimate"]) and first["lo"] < first["hi"]
    assert (ev.pooled["treated"] > 0).all()
    assert ev.meta["interventions_sha256"] == read_interventions(bundled("captures")).sha256
    assert len(ev.meta["panel_sha256"]) == 64 and ev.meta["seed"] == 3
    assert set(ev.table["design"]) == {"where it happened", "neighbours", "same organization"}
    # neighbours and same-organization municipalities are never controls
    treated = set(ev.treated["region_code"])
    assert len(treated) == ev.pooled["treated"].sum()
    sc = real_run.synth
    assert sc is not None and len(sc.placebos) == 15 and 0 < sc.p_value <= 1


def test_evaluate_through_the_command_line_is_reproducible(tmp_path):
    args = ["evaluate", "--placebos", "10", "--seed", "4", "--format", "json"]
    a = run_here(*args, "--out", str(tmp_path / "a.json"), "--chart", str(tmp_path / "c.svg"))
    b = run_cli(*args, "--out", str(tmp_path / "b.json"))  # in a process of its own
    assert a.returncode == 0 and b.returncode == 0, a.stderr + b.stderr
    assert (tmp_path / "a.json").read_text() == (tmp_path / "b.json").read_text()
    doc = json.loads((tmp_path / "a.json").read_text())
    assert {"vdto_version", "panel_sha256", "interventions_sha256", "settings_sha256", "seed"} <= set(
        doc["meta"]
    )
    assert doc["pooled"][0]["design"] == "where it happened" and "placebo_p" in doc["pooled"][0]
    assert (tmp_path / "c.svg").read_text().startswith("<svg")
    pq = run_here("evaluate", "--placebos", "0", "--format", "parquet", "--out", str(tmp_path / "t.parquet"))
    assert pq.returncode == 0, pq.stderr
    assert set(pd.read_parquet(tmp_path / "t.parquet")["design"]) == {"where it happened", "neighbours",
                                                                      "same organization"}  # fmt: skip


def test_the_events_panel_reads_the_store(ucdp_store):
    res = run_here(
        "evaluate", "--panel", "events", "--db", str(ucdp_store[0]), "--placebos", "0", "-f", "json"
    )
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["meta"]["panel"].startswith("deaths of the events of agency default")
    assert doc["meta"]["panel_months"] == "1990-01..2023-12"
    assert doc["pooled"][0]["treated"] == 20


def test_bad_settings_get_one_line(tmp_path):
    assert_one_line_exit_2(run_here("evaluate", "--window", "3..1"), "--window")
    assert_one_line_exit_2(run_here("evaluate", "--panel", "acled"), "--panel", "inegi")
    assert_one_line_exit_2(run_here("evaluate", "--outcome", "deaths"), "--outcome", "rate")
    assert_one_line_exit_2(run_here("evaluate", "--panel", "sesnsp", "--level", "municipality"), "--level")


# ------------------------------------------------------------------------------ round monitoring


def test_round_status_measures_the_targets_states_against_the_others(tmp_path):
    from vdto.events import generic
    from vdto.events.ingest import import_events
    from vdto.publication.keys import Signer, new_keypair
    from vdto.publication.rounds import announce_round, counterfactual, open_round
    from vdto.store import Store

    rng = np.random.default_rng(0)
    rows = []
    months = pd.date_range("2019-01-01", "2021-06-01", freq="MS")
    cjng = ("06", "11", "14", "16", "18")
    states = {**dict.fromkeys(cjng, "CJNG"), **dict.fromkeys(("08", "25", "26"), "Cártel de Sinaloa")}
    quiet = [f"{i:02d}" for i in range(1, 33) if f"{i:02d}" not in states]
    k = 0
    for m in months:
        for code, group in [*states.items(), *((c, "") for c in quiet)]:
            deaths = int(rng.poisson(6 if code in states else 3)) + (
                4 if code in cjng and m >= pd.Timestamp("2020-07-01") else 0
            )
            if deaths:
                k += 1
                rows.append((f"e{k}", f"{m:%Y-%m}-10", deaths, group, code))
    csv = tmp_path / "mx.csv"
    pd.DataFrame(rows, columns=["id", "date", "deaths", "group", "state"]).to_csv(csv, index=False)
    mp = tmp_path / "mx.toml"
    mp.write_text('source = "f"\ndefault_category = "homicide"\n[columns]\nsource_id = "id"\ndate = "date"\n'
                  'deaths = "deaths"\nperpetrator = "group"\nstate = "state"\n[victims]\ncivilian = "deaths"\n')  # fmt: skip
    spec, digest = generic.load_mapping(mp)
    import_events(
        tmp_path / "s.duckdb", "csv", csv, generic.parse, mapping=spec, mapping_sha256=digest, agency="mx"
    )
    (tmp_path / "keys").mkdir()
    key = Signer.load(new_keypair("mx", tmp_path / "keys")[0])
    with Store(tmp_path / "s.duckdb") as store:
        rnd = open_round(store, date(2019, 7, 1), date(2020, 6, 30), ["mx"], draws=100)
        assert rnd.target == "cjng"
        announce_round(store, rnd.round_id, tmp_path / "l.jsonl", [key])
        store.con.execute("UPDATE rounds SET announced_at = TIMESTAMP '2020-07-01 00:00:00'")
        cf = counterfactual(store, rnd.round_id)
    target = cf[cf["group"].str.startswith("target")].iloc[0]
    assert target["states"] == "06, 11, 14, 16, 18" and target["months_after"] == 12
    # the +4 deaths a month injected in its states (one seed: the estimate near it, not the interval's coverage)
    assert target["effect"] == pytest.approx(4.0, abs=1.5) and target["lo"] > 0
    rivals = cf[cf["group"].str.startswith("rivals")].iloc[0]
    assert rivals["states"] == "08, 25, 26" and abs(rivals["effect"]) < 1.5  # nothing injected there
    res = run_here("round", "status", "--db", str(tmp_path / "s.duckdb"))
    assert res.returncode == 0, res.stderr
    assert "against" in res.stdout and "Descriptive only" in res.stdout
