"""The two engines of the simulator: compiled month kernels (Numba) and NumPy array operations.

They must give the same bytes, on worlds of every shape (hypothesis), for every policy, and on
the default world; and each kernel must do, on a tiny case, what its docstring says.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vdto.rng import Stream, item_keys, month_keys, uniform_from
from vdto.sim import kernels
from vdto.sim.engine import ENGINES, Outputs, _frontier_numpy, simulate
from vdto.sim.params import POLICIES, Scenario, load_scenario
from vdto.sim.world import World, grid_world

FIELDS = [f.name for f in dataclasses.fields(Outputs)]
COMBINED = ("kingpin+targeted", "targeted+caribbean", "volume+regional")


def assert_same(a: Outputs, b: Outputs) -> None:
    for name in FIELDS:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


def scenario(
    months: int, replicates: int, seed: int, policy_start: int = 3, floor: float = 0.6, **violence
) -> Scenario:
    return Scenario.model_validate(
        {
            "run": {"months": months, "replicates": replicates, "seed": seed},
            "enforcement": {
                "start_month": policy_start,
                "strike_interval": 4,
                "splinter_probability": 0.7,
                "succession_floor": floor,
            },
            "violence": violence,
        }
    )


def ragged_world(rows: int, cols: int, n_orgs: int, seed: int) -> World:
    """A grid with random owners (some plazas empty), values and hostilities."""
    w = grid_world(rows, cols, min(n_orgs, cols))
    rng = np.random.default_rng(seed)
    n = w.n_orgs
    owner = rng.integers(-1, n, w.n_plazas).astype(np.int32)
    upper = np.triu(rng.choice([1.0, 0.5, 0.1], size=(n, n)), 1)
    value = rng.lognormal(0.0, 0.8, w.n_plazas)
    return dataclasses.replace(
        w,
        owner=owner,
        hostility=upper + upper.T,
        value=value / value.mean(),
        strength=rng.uniform(0.5, 2.0, n),
    ).check()


def test_unknown_engine_is_refused():
    with pytest.raises(ValueError, match="unknown engine 'jax'"):
        simulate(grid_world(3, 3, 1), scenario(2, 1, 1), "none", engine="jax")


@pytest.mark.parametrize("policy", [*POLICIES, *COMBINED])
def test_engines_give_the_same_bytes_for_every_policy(policy):
    w, sc = grid_world(6, 6, 3), scenario(36, 24, seed=5)
    a = simulate(w, sc, policy, flow_factor=0.7, engine="numpy")
    b = simulate(w, sc, policy, flow_factor=0.7, engine="numba")
    assert a.deaths.sum() > 0
    assert_same(a, b)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(
    rows=st.integers(1, 6),
    cols=st.integers(1, 6),
    n_orgs=st.integers(1, 4),
    seed=st.integers(0, 2**32 - 1),
    months=st.integers(1, 18),
    replicates=st.integers(1, 5),
    start=st.integers(0, 6),
    policy=st.sampled_from([*POLICIES, *COMBINED]),
    attack_rate=st.floats(0.0, 1.0),
    top_level=st.floats(0.05, 1.0),
    floor=st.floats(0.0, 1.0),
)
def test_engines_agree_on_random_worlds(
    rows, cols, n_orgs, seed, months, replicates, start, policy, attack_rate, top_level, floor
):
    """Including attack rates up to 1 and succession floors above the top violence level (the
    compiled clashes only look at edges whose draw is below a bound on the attack probability)."""
    w = ragged_world(rows, cols, n_orgs, seed)
    levels = [0.0, top_level / 2, top_level]
    sc = scenario(
        months, replicates, seed % 1000, start, floor, attack_rate=attack_rate, levels=levels, start=top_level
    )
    assert_same(
        simulate(w, sc, policy, flow_factor=0.6, engine="numpy"),
        simulate(w, sc, policy, flow_factor=0.6, engine="numba"),
    )


@pytest.mark.slow
@pytest.mark.parametrize("policy", ["none", "targeted", "kingpin"])
def test_engines_agree_on_the_default_world(policy):
    from vdto.sim.world_real import default_world

    base = load_scenario()
    sc = base.model_copy(update={"run": base.run.model_copy(update={"months": 48, "replicates": 6})})
    world = default_world()
    a = simulate(world, sc, policy, engine="numpy")
    b = simulate(world, sc, policy, engine="numba")
    assert (a.alive[:, -1] < world.n_orgs).any()  # organizations fall: dismantling is exercised
    assert_same(a, b)


def test_engines_list():
    assert ENGINES == ("numba", "numpy")


# ------------------------------------------------------------------------------------ kernels


@settings(max_examples=60, deadline=None, database=None)
@given(st.integers(1, 4), st.integers(1, 200), st.integers(0, 2**32 - 1))
def test_pack_unpack_round_trip(rows, edges, seed):
    mask = np.random.default_rng(seed).random((rows, edges)) < 0.3
    bits = kernels.pack(mask)
    assert bits.dtype == np.uint64 and bits.shape == (rows, -(-edges // 64))
    np.testing.assert_array_equal(kernels.unpack(bits, edges), mask)
    # bit e % 64 of word e // 64 is edge e
    r, e = np.nonzero(mask)
    assert ((bits[r, e // 64] >> (e % 64).astype(np.uint64)) & np.uint64(1) == 1).all()


def _hostile(owner, src, dst):
    a, d = owner[:, src], owner[:, dst]
    return (a >= 0) & (a != d)


def test_revenue_equals_bincount_to_the_bit():
    rng = np.random.default_rng(2)
    R, M, N, B = 5, 300, 7, 40
    owner = rng.integers(-1, N, (R, M)).astype(np.int32)
    owner[:, 100:160] = 3  # a long run of one owner (added in a register)
    value, volume = rng.lognormal(size=M), rng.lognormal(size=B)
    supplier = rng.integers(0, N, (R, B))
    tv, bv = kernels.revenue(owner, value, supplier, volume, N)
    for r in range(R):
        held = owner[r] >= 0
        np.testing.assert_array_equal(tv[r], np.bincount(owner[r][held], value[held], minlength=N))
        np.testing.assert_array_equal(bv[r], np.bincount(supplier[r], volume, minlength=N))


def test_frontier_equals_the_numpy_aggregates_to_the_bit_and_keeps_the_candidates():
    w = ragged_world(7, 7, 4, seed=11)
    rng = np.random.default_rng(0)
    R, N = 4, w.n_orgs
    owner = np.stack([np.random.default_rng(s).permutation(w.owner) for s in range(R)]).astype(np.int8)
    src, dst = w.src.astype(np.int64), w.dst.astype(np.int64)
    hostility = np.broadcast_to(w.hostility, (R, N, N)).copy()
    strength, violence = rng.uniform(0.5, 2, (R, N)), rng.uniform(0, 1, (R, N))
    mask = _hostile(owner, src, dst)
    mk0, edge_keys = (
        month_keys(np.arange(1, R + 1, dtype=np.uint64), 5, Stream.ATTACK),
        item_keys(np.arange(len(src))),
    )
    cand, cand_u = np.empty(mask.size, np.int32), np.empty(mask.size)
    *got, ptr = kernels.frontier(
        kernels.pack(mask), owner, src, dst, w.value, hostility, strength, violence, mk0, edge_keys, 0.3,
        cand, cand_u,
    )  # fmt: skip
    fv, rs, pv, ap = _frontier_numpy(
        mask, owner, src, dst, w.value, hostility, strength, violence
    ).aggregates(R, N)
    np.testing.assert_array_equal(got[0], fv)
    np.testing.assert_array_equal(got[2], pv)
    np.testing.assert_array_equal(got[1] / np.maximum(got[0], 1e-12), rs)
    np.testing.assert_array_equal(got[3] / np.maximum(got[2], 1e-12), ap)
    assert fv.sum() > 0 and pv.sum() > 0
    # candidates: each replicate's hostile edges whose attack draw is below the bound, in order
    u = uniform_from(mk0[:, None], edge_keys[None, :])
    for r in range(R):
        keep = np.flatnonzero(mask[r] & (u[r] < 0.3))
        assert 0 < len(keep) < mask[r].sum()
        np.testing.assert_array_equal(cand[ptr[r] : ptr[r + 1]], keep)
        np.testing.assert_array_equal(cand_u[ptr[r] : ptr[r + 1]], u[r, keep])


def _candidates(mask, mk0, edge_keys):
    """Every hostile edge as an attack candidate, with its draw (what kernels.frontier keeps with
    a bound of 1)."""
    u = uniform_from(mk0[:, None], edge_keys[None, :])
    rows, edges = np.nonzero(mask)
    ptr = np.concatenate([[0], np.cumsum(mask.sum(axis=1))])
    return ptr, edges.astype(np.int32), u[rows, edges]


def _line():
    """Three plazas in a line, 0 - 1 - 2, both directions: org 0 holds plaza 0, org 1 plaza 1,
    org 2 plaza 2."""
    src = np.array([0, 1, 1, 2], np.int64)
    dst = np.array([1, 0, 2, 1], np.int64)
    ends = np.concatenate([src, dst])
    order = np.argsort(ends, kind="stable")
    inc_idx = np.concatenate([np.arange(4), np.arange(4)])[order]
    inc_ptr = np.concatenate([[0], np.cumsum(np.bincount(ends, minlength=3))])
    return src, dst, inc_ptr, inc_idx


def test_clash_smallest_draw_among_winners_takes_the_plaza():
    src, dst, inc_ptr, inc_idx = _line()
    edge_keys = item_keys(np.arange(4))
    keys = np.array([11, 12, 13, 14, 15, 16], np.uint64)  # six replicates, six sets of draws
    R, N = len(keys), 3
    owner = np.tile(np.array([0, 1, 2], np.int8), (R, 1))
    hostility = np.broadcast_to(1.0 - np.eye(N), (R, N, N)).copy()
    strength = np.ones((R, N))
    violence = np.tile([1.0, 0.0, 1.0], (R, 1))  # org 1 does not fight back: every attack wins
    bits = kernels.pack(_hostile(owner, src, dst))
    mk0, mk1 = month_keys(keys, 0, Stream.ATTACK), month_keys(keys, 0, Stream.CLASH)
    by_att, by_def, plaza, deaths, focal = kernels.clash(
        *_candidates(_hostile(owner, src, dst), mk0, edge_keys), bits, owner, src, dst, hostility,
        strength, violence, mk1, edge_keys, inc_ptr, inc_idx, 1.0, 0.0, 0.5, np.zeros((R, 3), bool), True,
    )  # fmt: skip
    # edges 0 (org 0 attacks plaza 1) and 3 (org 2 attacks plaza 1) are attacked and won; the
    # defender's edges 1 and 2 have violence 0 and are never attacked
    u = uniform_from(mk0[:, None], edge_keys[None, :])
    expected = np.where(u[:, 0] <= u[:, 3], 0, 2)
    np.testing.assert_array_equal(owner[:, 1], expected)
    assert set(expected) == {0, 2}  # both outcomes occur among the six replicates
    np.testing.assert_array_equal(owner[:, [0, 2]], np.tile([0, 2], (R, 1)))
    np.testing.assert_array_equal(kernels.unpack(bits, 4), _hostile(owner, src, dst))
    # deaths: attackers caused them all (the defender's violence is 0); nothing in plazas 0, 2
    np.testing.assert_array_equal(by_def, 0.0)
    np.testing.assert_array_equal(by_att.sum(axis=1), deaths)
    np.testing.assert_array_equal(plaza[:, 1], deaths)
    np.testing.assert_array_equal(plaza[:, [0, 2]], 0.0)
    np.testing.assert_array_equal(focal, 0.0)


def test_clash_with_no_violence_changes_nothing():
    src, dst, inc_ptr, inc_idx = _line()
    R, N = 2, 3
    owner = np.tile(np.array([0, 1, 2], np.int8), (R, 1))
    before = owner.copy()
    bits = kernels.pack(_hostile(owner, src, dst))
    keys = np.array([1, 2], np.uint64)
    edge_keys = item_keys(np.arange(4))
    out = kernels.clash(
        *_candidates(_hostile(owner, src, dst), month_keys(keys, 0, Stream.ATTACK), edge_keys), bits, owner, src, dst,
        np.ones((R, N, N)), np.ones((R, N)), np.zeros((R, N)), month_keys(keys, 0, Stream.CLASH), edge_keys,
        inc_ptr, inc_idx, 1.0, 0.0, 0.5, np.ones((R, 3), bool), False,
    )  # fmt: skip
    np.testing.assert_array_equal(owner, before)
    assert out[2].shape == (R, 0)  # no deaths by plaza asked for
    assert all(float(np.abs(a).sum()) == 0.0 for a in (out[0], out[1], out[3], out[4]))


def test_dismantle_empties_the_plazas_and_refreshes_the_frontier():
    w = ragged_world(5, 5, 3, seed=4)
    src, dst = w.src.astype(np.int64), w.dst.astype(np.int64)
    ends = np.concatenate([src, dst])
    order = np.argsort(ends, kind="stable")
    inc_idx = np.concatenate([np.arange(len(src)), np.arange(len(src))])[order]
    inc_ptr = np.concatenate([[0], np.cumsum(np.bincount(ends, minlength=w.n_plazas))])
    owner = np.stack([w.owner, w.owner]).astype(np.int8)
    bits = kernels.pack(_hostile(owner, src, dst))
    gone = np.array([[False, True, False], [False, False, False]])
    kernels.dismantle(gone, owner, bits, src, dst, inc_ptr, inc_idx)
    np.testing.assert_array_equal(owner[0], np.where(w.owner == 1, -1, w.owner))
    np.testing.assert_array_equal(owner[1], w.owner)
    np.testing.assert_array_equal(kernels.unpack(bits, len(src)), _hostile(owner, src, dst))
