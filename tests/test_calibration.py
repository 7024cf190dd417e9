"""Calibration: summaries read real and simulated panels alike; ABC-SMC recovers known
parameters, gives the same posterior for the same seed however it is run, and resumes."""

from __future__ import annotations

import doctest

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vdto.errors import VdtoError
from vdto.sim.calibration import panel as panel_module
from vdto.sim.calibration import simulated as simulated_module
from vdto.sim.calibration import summaries as summaries_module
from vdto.sim.calibration.estimate import Free, Posterior, Setup, calibrate
from vdto.sim.calibration.panel import Panel
from vdto.sim.calibration.simulated import simulated_panels
from vdto.sim.calibration.summaries import common, summarize
from vdto.sim.engine import simulate
from vdto.sim.params import Scenario
from vdto.sim.runner import mapper
from vdto.sim.world import grid_world

GRID = Scenario.model_validate({"world": {"kind": "grid"}})
FREE = (Free("violence.attack_rate", 0.02, 0.32), Free("violence.deaths_per_clash", 5.0, 80.0))
TRUTH = {"violence.attack_rate": 0.08, "violence.deaths_per_clash": 20.0}


@pytest.fixture(scope="module")
def world():
    return grid_world(6, 6, 3)


def _truth_panel(world, seed: int = 99) -> Panel:
    setup = Setup(GRID, 0, 2, free=FREE, policy="none", replicates=1, seed=seed)
    return simulated_panels(simulate(world, setup.scenario_for(TRUTH), "none", panel=True), world)[0]


def test_doctests():
    for module in (panel_module, summaries_module, simulated_module):
        result = doctest.testmod(module)
        assert result.failed == 0


# ------------------------------------------------------------------------------- summaries


def _panel(national, state, municipal=None) -> Panel:
    national = np.asarray(national, float)
    state = np.asarray(state, float)
    return Panel(
        years=np.arange(2000, 2000 + len(national)), national=national, state=state,
        state_codes=tuple(f"{i + 1:02d}" for i in range(state.shape[1])),
        municipal=None if municipal is None else np.asarray(municipal, float),
        municipal_codes=() if municipal is None else tuple(f"m{i}" for i in range(np.shape(municipal)[1])),
    )  # fmt: skip


def test_summaries_on_a_tiny_golden_panel():
    municipal = np.zeros((2, 12))
    municipal[0, :11] = [50, 40, 30, 20, 10, 9, 8, 7, 6, 5, 100]  # 285; top 10 = 280
    municipal[1, :3] = [200, 5, 1]
    p = _panel([300, 206], [[285, 15], [6, 200]], municipal)
    s = summarize(p)
    assert s["national_log_2000"] == pytest.approx(np.log10(301))
    assert s["state_share_01"] == pytest.approx(291 / 506) and s["state_share_02"] == pytest.approx(215 / 506)
    # first year 0.95 / 0.05, last 0.029 / 0.971
    assert s["state_moved"] == pytest.approx(abs(285 / 300 - 6 / 206))
    assert s["top10_share"] == pytest.approx((280 / 285 + 1.0) / 2)
    assert s["munis_over_10"] == pytest.approx((6 + 1) / 2)
    assert s["munis_over_100"] == pytest.approx((1 + 1) / 2)
    assert np.isnan(s["groups_last"])


def test_summaries_without_municipal_series_are_nan_and_left_out():
    p = _panel([10, 20], [[5, 5], [10, 10]])
    s = summarize(p)
    assert np.isnan(s["top10_share"])
    assert "top10_share" not in common(s, s)
    assert "national_log_2001" in common(s, s)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0, 1e5), min_size=6, max_size=6), st.permutations(range(3)))
def test_state_shares_follow_the_states_not_their_order(values, perm):
    state = np.asarray(values, float).reshape(2, 3)
    p = _panel(state.sum(axis=1), state)
    q = Panel(years=p.years, national=p.national, state=state[:, perm],
              state_codes=tuple(p.state_codes[i] for i in perm))  # fmt: skip
    a, b = summarize(p), summarize(q)
    for code in p.state_codes:
        k = f"state_share_{code}"
        assert (np.isnan(a[k]) and np.isnan(b[k])) or a[k] == pytest.approx(b[k])


def test_a_panel_with_the_wrong_shape_is_refused():
    with pytest.raises(ValueError, match="state"):
        Panel(years=np.arange(2), national=np.zeros(2), state=np.zeros((3, 2)), state_codes=("01", "02"))


def test_real_and_simulated_panels_give_the_same_statistics_names(world):
    p = _truth_panel(world)
    s = summarize(p)
    want = {"national_log_0", "national_log_2", "top10_share", "munis_over_10", "groups_last", "state_moved"}
    want |= {f"lineage_share_{o}" for o in world.org_ids}
    assert want <= set(s)
    assert all(np.isfinite(s[k]) for k in want)
    assert sum(s[f"lineage_share_{o}"] for o in world.org_ids) == pytest.approx(1.0)


# ------------------------------------------------------------------------------ estimation


def _small(world, tmp_path, name, **kw):
    setup = Setup(GRID, 0, 2, free=FREE, policy="none", replicates=3, seed=5)
    return calibrate(world, setup, _truth_panel(world), population=16, db=tmp_path / name, **kw)


@pytest.fixture(scope="module")
def here(world, tmp_path_factory) -> Posterior:
    """Two generations of the small calibration, in this process (what the others are compared to)."""
    return _small(world, tmp_path_factory.mktemp("here"), "here.db", generations=2)


def test_the_same_seed_gives_the_same_posterior_here_and_on_local_workers(world, here, tmp_path):
    with mapper(2) as m:
        there = _small(world, tmp_path, "b.db", generations=2, mapper_map=m.map)
    pd.testing.assert_frame_equal(here.frame, there.frame)
    assert here.meta["simulations"] == there.meta["simulations"]


def test_an_interrupted_calibration_resumes_to_the_same_posterior(world, here, tmp_path):
    _small(world, tmp_path, "part.db", generations=1)  # stopped after one generation
    resumed = _small(world, tmp_path, "part.db", generations=2)
    pd.testing.assert_frame_equal(here.frame, resumed.frame)  # as if it had run whole
    assert resumed.meta["generations"] == 2


def test_a_database_of_another_calibration_is_refused(world, tmp_path):
    _small(world, tmp_path, "c.db", generations=1)
    other = Setup(GRID, 0, 2, free=FREE, policy="none", replicates=3, seed=6)
    with pytest.raises(VdtoError) as exc:
        calibrate(world, other, _truth_panel(world), population=16, generations=1, db=tmp_path / "c.db")
    assert exc.value.param == str(tmp_path / "c.db")


def test_the_posterior_file_keeps_its_provenance(world, tmp_path):
    post = _small(world, tmp_path, "d.db", generations=1)
    path = post.write(tmp_path / "posterior.parquet")
    back = Posterior.read(path)
    pd.testing.assert_frame_equal(back.frame, post.frame)
    assert back.meta["scenario_sha256"] == GRID.sha256()
    assert [d["violence.attack_rate"] > 0 for d in back.draws(5, seed=1)] == [True] * 5
    assert back.draws(5, seed=1) == post.draws(5, seed=1)


def test_a_file_that_is_not_a_posterior_is_one_error(tmp_path):
    bad = tmp_path / "x.parquet"
    bad.write_bytes(b"not parquet")
    with pytest.raises(VdtoError) as exc:
        Posterior.read(bad)
    assert exc.value.param == str(bad)


@pytest.mark.slow
def test_the_estimation_recovers_known_parameters(world, tmp_path):
    """Synthetic data from the model itself (one history, another seed): the truth lies in
    the 90% posterior interval of both free parameters. (Over 4 truth seeds x 2 calibration
    seeds, both intervals held the truth in 7 of 8; docs/calibration.md.)"""
    setup = Setup(GRID, 0, 2, free=FREE, policy="none", replicates=6, seed=11)
    post = calibrate(world, setup, _truth_panel(world), population=50, generations=4, db=tmp_path / "r.db")
    table = post.summary().set_index("parameter")
    for name, value in TRUTH.items():
        assert table.loc[name, "q05"] <= value <= table.loc[name, "q95"], (name, table.loc[name].to_dict())
    # and the posterior is narrower than the prior on the log scale
    for f in FREE:
        width = np.log10(table.loc[f.name, "q95"]) - np.log10(table.loc[f.name, "q05"])
        assert width < 0.9 * (np.log10(f.high) - np.log10(f.low))


# ------------------------------------------------------------------------------- sensitivity


def test_the_morris_screen_finds_what_moves_the_level_of_homicides(world):
    from vdto.sim.calibration.screen import morris, ranking

    setup = Setup(GRID, 0, 2, free=FREE, policy="none", replicates=2, seed=5)
    obs = summarize(_truth_panel(world))
    candidates = (
        *FREE,
        Free("enforcement.discount", 0.5, 0.99, log=False),
    )  # unused without the targeted policy
    table = morris(world, setup, obs, free=candidates, trajectories=3)
    assert table.attrs["evaluations"] == 3 * (len(candidates) + 1)
    level = table[table["target"] == "national_level"].set_index("parameter")["mu_star"]
    # the discount of the targeted policy's look-ahead cannot move a history without the policy
    assert level["enforcement.discount"] == 0.0
    assert level["violence.attack_rate"] > 0 and level["violence.deaths_per_clash"] > 0
    assert list(ranking(table).index[-1:]) == ["enforcement.discount"]
    again = morris(world, setup, obs, free=candidates, trajectories=3)
    pd.testing.assert_frame_equal(table, again)  # keyed: the same seed, the same indices


@pytest.mark.slow
def test_a_dask_local_cluster_gives_the_same_posterior(world, here, tmp_path):
    import os

    before = dict(os.environ)
    with mapper(2, dask=True) as m:
        there = _small(world, tmp_path, "dask.db", generations=2, mapper_map=m.map)
    pd.testing.assert_frame_equal(here.frame, there.frame)
    # the cluster's one-BLAS-thread settings do not outlive it (they changed later results of
    # processes this one starts, in the tenth digit)
    assert dict(os.environ) == before


# ------------------------------------------------------------------------------- validation


def test_the_validation_tables_on_golden_panels():
    from vdto.sim.calibration.validate import coverage, national_table, statistics_table

    real = _panel([100.0, 200.0], [[60.0, 40.0], [50.0, 150.0]])
    sims = [_panel([90.0 + i, 300.0 + i], [[50.0, 40.0 + i], [100.0, 200.0 + i]]) for i in range(20)]
    t = national_table(sims, real, 2000, 2001)
    assert list(t["year"]) == [2000, 2001]
    assert t.loc[0, "inside"] and not t.loc[1, "inside"]  # 100 in 90-109; 200 below 300-319
    assert t.loc[1, "error"] == pytest.approx(np.median(300.0 + np.arange(20)) / 200.0 - 1.0)
    assert coverage(t) == 0.5
    # 2001: the histories' mean state totals (100, 209.5) rank as the real ones (50, 150)
    assert t.loc[1, "state_spearman"] == pytest.approx(1.0)
    stats = statistics_table(sims, real, 2000, 2001).set_index("statistic")
    assert stats.loc["national_log_2000", "real"] == pytest.approx(np.log10(101.0))
    assert bool(stats.loc["national_log_2000", "inside"]) and not bool(
        stats.loc["national_log_2001", "inside"]
    )


def test_importing_the_estimation_leaves_the_environment_as_it_was():
    """pyabc sets OMP_NUM_THREADS=1 on import; processes started afterwards would inherit it."""
    import subprocess
    import sys

    code = (
        "import os, json; before = dict(os.environ); import vdto.sim.calibration.estimate; "
        "print(json.dumps({k: v for k, v in os.environ.items() if before.get(k) != v}))"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert res.stdout.strip() == "{}"


# ------------------------------------------------------------------------------ event study


def test_the_kingpin_event_study_on_a_golden_panel():
    from types import SimpleNamespace

    from vdto.sim.calibration.eventstudy import replicate_effects

    T, M = 40, 4
    H = np.ones((1, T, M), np.float32)
    H[0, 12:, 0] = 2.0  # the capture municipality doubles from the strike on
    H[0, 12:18, 1] = 1.5  # its neighbour rises by half for six months
    H[0, :, 3] = 3.0  # a control at another level: only changes count
    role = np.zeros((1, T, M), np.int8)
    role[0, 12, 0], role[0, 12, 1] = 1, 2
    role[0, 30, 0] = 1  # struck again: the municipality is treated from its first strike
    eff = replicate_effects(SimpleNamespace(homicides_municipal=H, strike_role=role))
    # the estimator of `vdto evaluate`: capture +100% over 12 months, neighbour +50% over 6
    assert eff[0, 0] == pytest.approx(1.0)
    assert eff[0, 1] == pytest.approx(0.5)


def test_the_monthly_panel_adds_up_to_the_yearly_one(world):
    sc = Scenario.model_validate({"run": {"months": 36, "replicates": 3, "seed": 2}})
    yearly = simulate(world, sc, "kingpin", panel=True)
    monthly = simulate(world, sc, "kingpin", panel="monthly")
    np.testing.assert_array_equal(monthly.homicides_municipal.reshape(3, 3, 12, -1).sum(axis=2),
                                  yearly.homicides_municipal)  # fmt: skip
    np.testing.assert_array_equal(monthly.homicides, yearly.homicides)
    role = monthly.strike_role
    # one capture municipality per strike, strikes every 12 months from the policy's start
    strikes = (role == 1).sum(axis=2)
    assert set(np.unique(strikes)) <= {0, 1}
    assert strikes[:, 12].all() and strikes[:, 24].all() and not strikes[:, 13].any()
