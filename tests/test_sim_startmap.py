"""The starting map is a distribution drawn per replicate, with no trace of the order the
organizations are listed in: exact under permutation, fair on ties, proportional to weight."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy import stats

from vdto.rng import replicate_keys
from vdto.sim import startmap
from vdto.sim.world import grid_world
from vdto.sim.world_real import mexico_world


def _held_by_id(world, owner):
    """Plazas held per organization id, per replicate."""
    return {o: (owner == i).sum(axis=1) for i, o in enumerate(world.org_ids)}


@pytest.fixture(scope="module")
def world():
    return mexico_world(2016)


def test_permuting_the_organizations_leaves_every_map_unchanged(world):
    keys = replicate_keys(7, 200)
    base = startmap.draw(world, keys)
    ids = np.array([*world.org_ids, "-"])  # -1 (nobody) maps to the last entry
    for seed in range(5):
        order = np.random.default_rng(seed).permutation(world.n_orgs)
        other = world.permuted(order)
        got = startmap.draw(other, keys)
        np.testing.assert_array_equal(np.array([*other.org_ids, "-"])[got], ids[base])


def test_permuting_the_organizations_leaves_the_distribution_unchanged(world):
    # different replicates for the permuted world: per organization, the mean plazas held agree
    # within Monte Carlo error (a two-sample t test per organization, Bonferroni over them)
    a = _held_by_id(world, startmap.draw(world, replicate_keys(1, 400)))
    order = np.random.default_rng(1).permutation(world.n_orgs)
    other = world.permuted(order)
    b = _held_by_id(other, startmap.draw(other, replicate_keys(2, 400)))
    for org in world.org_ids:
        if a[org].std() == 0 and b[org].std() == 0:
            assert a[org][0] == b[org][0]
            continue
        p = stats.ttest_ind(a[org], b[org], equal_var=False).pvalue
        assert p > 0.01 / world.n_orgs, org


def test_no_organization_wins_every_tie(world):
    # the tie-break artefact: in the tied plazas the first-listed organization used to win all
    counts = np.diff(world.claim_ptr)
    keys = replicate_keys(3, 300)
    owner = startmap.draw(world, keys)
    for p in np.flatnonzero(counts > 1)[:40]:
        a, b = world.claim_ptr[p], world.claim_ptr[p + 1]
        w = world.claim_weight[a:b]
        if (w == w.max()).sum() < 2:
            continue
        tied = world.claim_org[a:b][w == w.max()]
        shares = [(owner[:, p] == o).mean() for o in tied]
        assert min(shares) > 0.05, (p, shares)


def _two_claims(weights):
    """A 1 x 2 grid whose first plaza is claimed by two organizations with ``weights``."""
    w = grid_world(1, 2, 2)
    return dataclasses.replace(
        w,
        claim_ptr=np.array([0, 2, 3]),
        claim_org=np.array([0, 1, 1]),
        claim_weight=np.array([*weights, 1.0]),
    ).check()


@pytest.mark.parametrize("weights", [(1.0, 1.0), (3.0, 1.0), (0.5, 2.0)])
def test_a_claimant_wins_in_proportion_to_its_weight(weights):
    owner = startmap.draw(_two_claims(weights), replicate_keys(5, 4000))
    share = (owner[:, 0] == 0).mean()
    expected = weights[0] / sum(weights)
    assert stats.binomtest(int((owner[:, 0] == 0).sum()), 4000, expected).pvalue > 1e-3, share
    assert (owner[:, 1] == 1).all()


def test_spread_reaches_its_hops_within_allowed_states():
    # a 1 x 6 line, org 0 claims plaza 0 only; three hops reach plazas 1-3
    w = grid_world(1, 6, 2)
    w = dataclasses.replace(w, claim_ptr=np.array([0, 1, 1, 1, 1, 1, 1]), claim_org=np.array([0]),
                            claim_weight=np.array([1.0]), spread_hops=3).check()  # fmt: skip
    owner = startmap.draw(w, replicate_keys(1, 3))
    np.testing.assert_array_equal(owner, [[0, 0, 0, 0, -1, -1]] * 3)
    # plazas 2-5 in another state, where org 0 is not seen: it stops at plaza 1
    fenced = dataclasses.replace(w, state=np.array([0, 0, 1, 1, 1, 1]), state_codes=("a", "b"),
                                 allowed=np.array([[True, False], [True, True]])).check()  # fmt: skip
    np.testing.assert_array_equal(startmap.draw(fenced, replicate_keys(1, 3)), [[0, 0, -1, -1, -1, -1]] * 3)


def test_spread_prefers_the_organization_with_more_neighbours():
    # plaza 4 (the middle of a 3 x 3 grid) is unclaimed; org 0 holds 6 neighbours, org 1 holds 2
    w = grid_world(3, 3, 2)
    claim = np.array([0, 0, 0, 0, -1, 0, 1, 0, 1])
    keep = claim >= 0
    w = dataclasses.replace(
        w, claim_ptr=np.concatenate([[0], np.cumsum(keep)]), claim_org=claim[keep],
        claim_weight=np.ones(int(keep.sum())), spread_hops=1,
    ).check()  # fmt: skip
    owner = startmap.draw(w, replicate_keys(9, 3000))
    share = (owner[:, 4] == 0).mean()
    assert stats.binomtest(int((owner[:, 4] == 0).sum()), 3000, 6 / 8).pvalue > 1e-3, share


def test_distribution_table_and_probability_map(world):
    table, prob = startmap.distribution(world, replicate_keys(1, 100))
    assert list(table.columns) == ["org_id", "name", "members", "q05", "median", "q95", "mean"]
    assert (table["q05"] <= table["median"]).all() and (table["median"] <= table["q95"]).all()
    assert prob.shape == (world.n_orgs, world.n_plazas)
    assert (prob.sum(axis=0) <= 1 + 1e-12).all() and prob.max() == 1.0
    assert table["mean"].sum() == pytest.approx(prob.sum())


def test_the_same_key_draws_the_same_map_whatever_else_is_drawn(world):
    keys = replicate_keys(4, 10)
    np.testing.assert_array_equal(startmap.draw(world, keys[3:5]), startmap.draw(world, keys)[3:5])
