"""The municipal panel of a run: homicides per plaza and by lineage, by year of the run."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from vdto.rng import Stream, item_keys, month_keys
from vdto.sim import kernels
from vdto.sim.engine import Outputs, simulate
from vdto.sim.params import Scenario
from vdto.sim.world import World, grid_world

PANEL_FIELDS = ("homicides_municipal", "lineage_deaths")
FIELDS = [f.name for f in dataclasses.fields(Outputs) if f.name not in PANEL_FIELDS]


def _states_world(rows: int = 6, cols: int = 6, n_orgs: int = 3) -> World:
    """A grid whose rows are 3 states, with a baseline of homicides outside organized crime."""
    w = grid_world(rows, cols, n_orgs)
    M = w.n_plazas
    state = (np.arange(M) // cols) % 3  # interleaved rows, so states are not contiguous
    baseline = np.linspace(0.5, 3.0, M)
    return dataclasses.replace(
        w, state=state.astype(np.int64), state_codes=("01", "02", "03"), baseline=baseline,
        allowed=np.ones((w.n_orgs, 3), bool),
    )  # fmt: skip


@pytest.fixture(scope="module")
def runs():
    w = _states_world()
    sc = Scenario.model_validate({"run": {"months": 30, "replicates": 6, "seed": 4}})
    out = {}
    for policy in ("none", "targeted", "kingpin"):
        out[policy] = (simulate(w, sc, policy), simulate(w, sc, policy, panel=True))
    return w, out


@pytest.mark.parametrize("policy", ["none", "targeted", "kingpin"])
def test_the_panel_changes_no_other_output(runs, policy):
    _, out = runs
    plain, panel = out[policy]
    for name in FIELDS:
        np.testing.assert_array_equal(getattr(plain, name), getattr(panel, name), err_msg=name)
    assert plain.homicides_municipal.shape == (6, 0, 0)


@pytest.mark.parametrize("policy", ["none", "targeted", "kingpin"])
def test_the_panel_adds_up_to_the_monthly_homicides(runs, policy):
    w, out = runs
    _, p = out[policy]
    R, T = p.homicides.shape
    Y = -(-T // 12)  # 30 months: 3 years, the last one of 6 months
    assert p.homicides_municipal.shape == (R, Y, w.n_plazas)
    by_year = np.stack([p.homicides[:, 12 * y : 12 * (y + 1)].sum(axis=1) for y in range(Y)], axis=1)
    np.testing.assert_array_equal(p.homicides_municipal.sum(axis=2), by_year)
    # per state, the panel's municipalities add up to the state's homicides
    for s in range(3):
        inside = w.state == s
        want = np.stack(
            [p.homicides_state[:, 12 * y : 12 * (y + 1), s].sum(axis=1) for y in range(Y)], axis=1
        )
        np.testing.assert_array_equal(p.homicides_municipal[:, :, inside].sum(axis=2), want)
    # the lineages caused the clash and one-sided homicides (not the baseline)
    caused = p.homicides_source[:, :, :2].sum(axis=2)
    want = np.stack([caused[:, 12 * y : 12 * (y + 1)].sum(axis=1) for y in range(Y)], axis=1)
    np.testing.assert_allclose(p.lineage_deaths.sum(axis=2), want, rtol=1e-12)
    assert (p.homicides_municipal >= 0).all() and np.array_equal(
        p.homicides_municipal, np.round(p.homicides_municipal)
    )


def test_the_panel_is_the_same_whatever_the_chunks():
    w = _states_world()
    sc = Scenario.model_validate({"run": {"months": 14, "replicates": 5, "seed": 9}})
    whole = simulate(w, sc, "targeted", panel=True)
    parts = [simulate(w, sc, "targeted", replicates=2, first=0, panel=True),
             simulate(w, sc, "targeted", replicates=3, first=2, panel=True)]  # fmt: skip
    for name in PANEL_FIELDS:
        np.testing.assert_array_equal(np.concatenate([getattr(q, name) for q in parts]), getattr(whole, name))


def test_place_puts_homicides_where_the_people_are():
    """One pair, two plazas with 1:3 population; one state baseline over plazas weighted 1:0:4."""
    R, M, N, S = 3000, 3, 2, 1
    owner = np.tile(np.array([0, 0, -1], np.int16), (R, 1))
    state = np.zeros(M, np.int64)
    population = np.array([1e4, 3e4, 5e4])
    pair_org, pair_state = np.zeros((R, N * S), np.int64), np.zeros((R, N * S), np.int64)
    pair_k = np.zeros((R, N * S))
    pair_k[:, 0] = 8
    n_pairs = np.ones(R, np.int64)
    bl_state = np.full((R, S), 10.0)
    baseline = np.array([1.0, 0.0, 4.0])
    order = np.arange(M)
    keys = np.arange(1, R + 1, dtype=np.uint64)
    out = np.zeros((R, M))
    kernels.place(
        owner, state, population, pair_org, pair_state, pair_k, n_pairs, bl_state, order, np.array([0, M]),
        np.cumsum(baseline), np.tile(np.array([5, 6], np.uint64), (R, 1)), item_keys(np.arange(S)),
        month_keys(keys, 0, Stream.PLACE), N, out,
    )  # fmt: skip
    np.testing.assert_array_equal(out.sum(axis=1), 18.0)  # every homicide placed, none lost
    # expected: pair 8 x (1/4, 3/4) on plazas 0 and 1; baseline 10 x (1/5, 0, 4/5)
    np.testing.assert_allclose(out.mean(axis=0), [2.0 + 2.0, 6.0, 8.0], rtol=0.03)
    assert (out[:, 2] >= 0).all() and out[:, 1].min() >= 0
