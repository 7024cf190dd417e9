"""Person/cell Monte Carlo: hand-computed expectations and rank-1 chances, the numba kernel against
a plain numpy reference, and draw_owners against draw_scores."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vdto.persons import montecarlo as pmc
from vdto.persons.montecarlo import Units, expected_unit_scores, score_units
from vdto.rng import draw_keys, keys, mix64, uniforms
from vdto.scoring.montecarlo import Candidates, draw_owners, draw_scores

SEED = 20240601


# ------------------------------------------------------------------------------------ helpers


def make_units(units: list[list[tuple[int, int, float, float, list[float]]]], group=None) -> Units:
    """Units from nested lists: unit -> pairs (event, entity, weight, prob, [confidences])."""
    unit_ptr, pe, pent, pw, pp, pair_ptr, conf, labels = [0], [], [], [], [], [0], [], []
    for u, pairs in enumerate(units):
        for e, ent, w, p, confs in pairs:
            pe.append(e)
            pent.append(ent)
            pw.append(w)
            pp.append(p)
            for j, c in enumerate(confs):
                conf.append(c)
                labels.append(f"u{u}|e{e}|l{j}")
            pair_ptr.append(len(conf))
        unit_ptr.append(len(pe))
    return Units(
        unit_ptr=np.array(unit_ptr, dtype=np.int64),
        pair_event=np.array(pe, dtype=np.int64),
        pair_entity=np.array(pent, dtype=np.int32),
        pair_weight=np.array(pw, dtype=np.float64),
        pair_prob=np.array(pp, dtype=np.float64),
        pair_ptr=np.array(pair_ptr, dtype=np.int64),
        link_conf=np.array(conf, dtype=np.float64),
        link_key=keys(labels) if labels else np.zeros(0, dtype=np.uint64),
        group=np.zeros(len(units), dtype=np.int64) if group is None else np.asarray(group, np.int64),
    )


def owners_for(events: list[list[tuple[int, float]]], draws: int, seed: int = SEED) -> np.ndarray:
    """draw_owners for events given as lists of (entity, probability)."""
    ev = [i for i, c in enumerate(events) for _ in c]
    ent = [e for c in events for e, _ in c]
    prob = [p for c in events for _, p in c]
    cand = Candidates(np.array(ev, np.int64), np.array(ent, np.int64), np.array(prob, np.float64))
    ekeys = keys([f"t:{i}" for i in range(len(events))])
    return draw_owners(cand, ekeys, len(events), draws=draws, seed=seed)


def reference_draws(units: Units, owners: np.ndarray, seed: int, draws: int) -> np.ndarray:
    """Plain numpy: the (draws, units) matrix of scores, pair by pair in order."""
    dkeys = draw_keys(seed, range(draws))
    scores = np.zeros((draws, units.n_units))
    for u in range(units.n_units):
        for p in range(units.unit_ptr[u], units.unit_ptr[u + 1]):
            links = slice(units.pair_ptr[p], units.pair_ptr[p + 1])
            if units.pair_ptr[p + 1] == units.pair_ptr[p]:
                continue
            any_true = (uniforms(dkeys, units.link_key[links]) < units.link_conf[links]).any(axis=1)
            credited = any_true & (owners[units.pair_event[p]] == units.pair_entity[p])
            scores[:, u] += np.where(credited, units.pair_weight[p], 0.0)
    return scores


def reference(units: Units, owners: np.ndarray, seed: int, draws: int):
    """(lo90, hi90, mean, p_rank1) from the full matrix, the obvious way."""
    s = reference_draws(units, owners, seed, draws)
    lo, hi = np.quantile(s, [0.05, 0.95], axis=0)
    wins = np.zeros(units.n_units)
    for g in np.unique(units.group):
        members = np.flatnonzero(units.group == g)
        sub = s[:, members]
        top = sub.max(axis=1)
        # a tie goes to the tied unit with the smallest hash of (draw key, unit tie key)
        h = mix64(draw_keys(seed, range(draws))[:, None] ^ pmc.unit_tie_keys(units)[members][None, :])
        h = np.where(sub == top[:, None], h, np.iinfo(np.uint64).max)
        best = members[np.argmin(h, axis=1)]
        wins += np.bincount(best[top > 0], minlength=units.n_units)
    return lo, hi, s.mean(axis=0), wins / draws


def assert_same_as_reference(units: Units, owners: np.ndarray, seed: int, draws: int) -> None:
    got = score_units(units, owners, seed=seed, draws=draws)
    lo, hi, mean, p1 = reference(units, owners, seed, draws)
    np.testing.assert_array_equal(got.lo90, lo)
    np.testing.assert_array_equal(got.hi90, hi)
    np.testing.assert_array_equal(got.mean, mean)
    np.testing.assert_array_equal(got.p_rank1, p1)


def within_mc(estimate: float, truth: float, var: float, draws: int, z: float = 5.0) -> bool:
    """|estimate - truth| within z standard errors of a mean of ``draws`` draws of variance ``var``."""
    return abs(estimate - truth) <= z * np.sqrt(var / draws) + 1e-15


# ------------------------------------------------------------------------------ expectations


def test_two_pairs_expected_exact_and_draws_converge():
    w1, p1, c1 = 2.0, 0.5, 0.8
    w2, p2, c2 = 3.0, 0.25, 0.4
    units = make_units([[(0, 0, w1, p1, [c1]), (1, 0, w2, p2, [c2])]])
    assert expected_unit_scores(units)[0] == pytest.approx(w1 * p1 * c1 + w2 * p2 * c2, rel=1e-12)

    draws = 40_000
    owners = owners_for([[(0, p1)], [(0, p2)]], draws)
    s = score_units(units, owners, seed=SEED, draws=draws)
    q1, q2 = p1 * c1, p2 * c2  # the two events are credited independently
    var = w1**2 * q1 * (1 - q1) + w2**2 * q2 * (1 - q2)
    assert s.expected[0] == pytest.approx(1.1, rel=1e-12)
    assert within_mc(s.mean[0], s.expected[0], var, draws)


def test_cell_counts_a_shared_event_once():
    w, p, ca, cb = 4.0, 0.6, 0.5, 0.7
    cell = make_units([[(0, 2, w, p, [ca, cb])]])  # one pair, the two members' links
    exp = expected_unit_scores(cell)[0]
    assert exp == pytest.approx(w * p * (1 - (1 - ca) * (1 - cb)), rel=1e-12)
    assert exp < w * p * (ca + cb) - 0.1

    draws = 40_000
    owners = owners_for([[(2, p)]], draws)
    s = score_units(cell, owners, seed=SEED, draws=draws)
    q = p * (1 - (1 - ca) * (1 - cb))
    assert within_mc(s.mean[0], exp, w**2 * q * (1 - q), draws)
    # the draws take only the values 0 and w: the event is never counted twice
    draws_matrix = reference_draws(cell, owners, SEED, draws)
    assert set(np.unique(draws_matrix)) <= {0.0, w}


def test_certain_event_is_degenerate():
    w = 2.5
    units = make_units([[(0, 0, w, 1.0, [1.0])]])
    owners = owners_for([[(0, 1.0)]], 300)
    s = score_units(units, owners, seed=SEED, draws=300)
    assert s.lo90[0] == s.hi90[0] == s.mean[0] == s.expected[0] == w
    assert s.p_rank1[0] == 1.0


def test_unit_without_pairs_or_links_gets_zeros():
    units = make_units([[], [(0, 0, 1.0, 1.0, [])], [(0, 0, 1.0, 1.0, [1.0])]])
    s = score_units(units, owners_for([[(0, 1.0)]], 50), seed=SEED, draws=50)
    for field in ("expected", "lo90", "hi90", "mean", "p_rank1"):
        assert getattr(s, field)[0] == 0.0 and getattr(s, field)[1] == 0.0
    assert s.p_rank1[2] == 1.0


def test_event_of_another_organization_is_not_credited():
    # the event always goes to entity 1; the unit's pair needs entity 0
    units = make_units([[(0, 0, 1.0, 0.0, [1.0])]])
    s = score_units(units, owners_for([[(1, 1.0)]], 100), seed=SEED, draws=100)
    assert s.mean[0] == s.hi90[0] == s.p_rank1[0] == s.expected[0] == 0.0


# ---------------------------------------------------------------------------------- rank 1


def test_p_rank1_two_units_closed_form():
    # A (index 0): event 0, weight 1, P(org) 0.5, confidence 0.8 -> credited w.p. qa = 0.4
    # B (index 1): event 1, weight 1, P(org) 0.7, confidence 0.9 -> credited w.p. qb = 0.63
    # equal weights: each wins when credited alone; when both are, the tie is shared about evenly
    pa, ca, pb, cb = 0.5, 0.8, 0.7, 0.9
    qa, qb = pa * ca, pb * cb
    units = make_units([[(0, 0, 1.0, pa, [ca])], [(1, 0, 1.0, pb, [cb])]])
    draws = 40_000
    s = score_units(units, owners_for([[(0, pa)], [(0, pb)]], draws), seed=SEED, draws=draws)
    win_a, win_b = qa * (1 - qb) + qa * qb / 2, qb * (1 - qa) + qa * qb / 2
    assert within_mc(s.p_rank1[0], win_a, win_a * (1 - win_a), draws)
    assert within_mc(s.p_rank1[1], win_b, win_b * (1 - win_b), draws)
    # a draw in which neither is credited counts for nobody
    nobody = (1 - qa) * (1 - qb)
    assert within_mc(1 - s.p_rank1.sum(), nobody, nobody * (1 - nobody), draws)


def test_p_rank1_heavier_unit_closed_form():
    # A weight 1 (P 0.9), B weight 2 (P 0.3): B wins when credited, A when credited and B not
    units = make_units([[(0, 0, 1.0, 0.9, [1.0])], [(1, 0, 2.0, 0.3, [1.0])]])
    draws = 40_000
    s = score_units(units, owners_for([[(0, 0.9)], [(0, 0.3)]], draws), seed=SEED, draws=draws)
    assert within_mc(s.p_rank1[1], 0.3, 0.3 * 0.7, draws)
    assert within_mc(s.p_rank1[0], 0.9 * 0.7, 0.63 * 0.37, draws)


def test_ties_are_shared_at_random_not_by_order():
    # two units with identical links (same keys): equal scores in every draw
    base = make_units([[(0, 0, 1.0, 0.5, [0.5])], [(0, 0, 1.0, 0.5, [0.5])]])
    units = Units(**{**base.__dict__, "link_key": np.repeat(base.link_key[:1], 2)})
    draws = 4000
    owners = owners_for([[(0, 0.5)]], draws)
    s = score_units(units, owners, seed=SEED, draws=draws)
    assert s.mean[0] == s.mean[1] > 0
    # every credited draw goes to one of the two, about half each
    assert s.p_rank1.sum() == pytest.approx(s.mean[0])
    assert within_mc(s.p_rank1[0], s.mean[0] / 2, 0.25, draws)
    # swapping the units' keys swaps their shares: the key decides, not the position
    swapped = Units(**{**units.__dict__, "unit_key": np.array([1, 0], dtype=np.uint64)})
    t = score_units(swapped, owners, seed=SEED, draws=draws)
    assert t.p_rank1[0] == s.p_rank1[1] and t.p_rank1[1] == s.p_rank1[0]


def test_groups_are_independent():
    one = make_units([[(0, 0, 1.0, 0.5, [0.9])], [(1, 1, 1.0, 0.5, [0.9])]], group=[5, 9])
    owners = owners_for([[(0, 0.5)], [(1, 0.5)]], 3000)
    s = score_units(one, owners, seed=SEED, draws=3000)
    # each unit is alone in its group: it ranks first whenever it scores
    np.testing.assert_array_equal(s.p_rank1, s.mean)
    # a strong unit added to the second group changes nothing in the first
    two = make_units(
        [[(0, 0, 1.0, 0.5, [0.9])], [(1, 1, 1.0, 0.5, [0.9])], [(1, 1, 5.0, 0.5, [1.0])]], group=[5, 9, 9]
    )
    t = score_units(two, owners, seed=SEED, draws=3000)
    assert t.p_rank1[0] == s.p_rank1[0]
    assert t.p_rank1[1] < s.p_rank1[1]


def test_group_maximum_zero_counts_for_nobody():
    units = make_units([[(0, 0, 1.0, 0.2, [1.0])], [(0, 0, 3.0, 0.2, [0.5])]])
    owners = owners_for([[(0, 0.2)]], 5000)
    s = score_units(units, owners, seed=SEED, draws=5000)
    credited = (owners[0] == 0).mean()
    assert s.p_rank1.sum() == pytest.approx(credited)
    assert s.p_rank1.sum() < 0.5


# ----------------------------------------------------------------------------- reproducible


def test_same_seed_same_bits_other_seed_other_draws():
    units = make_units([[(0, 0, 1.0, 0.5, [0.6, 0.3])], [(1, 1, 2.0, 0.4, [0.7])]], group=[0, 0])
    events = [[(0, 0.5), (1, 0.3)], [(1, 0.4)]]
    a = score_units(units, owners_for(events, 500, seed=1), seed=1, draws=500)
    b = score_units(units, owners_for(events, 500, seed=1), seed=1, draws=500)
    c = score_units(units, owners_for(events, 500, seed=2), seed=2, draws=500)
    for field in ("expected", "lo90", "hi90", "mean", "p_rank1"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    assert not np.array_equal(a.mean, c.mean)
    np.testing.assert_array_equal(a.expected, c.expected)
    assert not np.array_equal(reference_draws(units, owners_for(events, 500, seed=1), 1, 500),
                              reference_draws(units, owners_for(events, 500, seed=2), 2, 500))  # fmt: skip


# ------------------------------------------------------------------------- numpy reference


def random_case(rng: np.random.Generator, n_units: int, n_events: int, n_groups: int, draws: int, seed: int):
    n_ent = 3
    events = []
    for _ in range(n_events):
        k = int(rng.integers(1, 4))
        ents = rng.choice(n_ent, size=k, replace=False)
        probs = rng.dirichlet(np.ones(k + 1))[:k]  # the rest: nobody
        events.append(list(zip(ents.tolist(), probs.tolist(), strict=True)))
    owners = owners_for(events, draws, seed)
    spec = []
    for _ in range(n_units):
        pairs = []
        for e in rng.choice(n_events, size=int(rng.integers(0, min(4, n_events + 1))), replace=False):
            ent, p = events[e][int(rng.integers(len(events[e])))]
            weight = float(rng.choice([1.0, 2.0, 0.5, rng.uniform(0, 3)]))  # ties happen
            confs = rng.choice([1.0, 0.5, rng.uniform(0.01, 1)], size=int(rng.integers(0, 3))).tolist()
            pairs.append((int(e), ent, weight, p, confs))
        spec.append(pairs)
    return make_units(spec, group=rng.integers(0, n_groups, n_units)), owners


def test_kernel_equals_numpy_reference():
    rng = np.random.default_rng(3)
    units, owners = random_case(rng, n_units=40, n_events=25, n_groups=4, draws=700, seed=11)
    assert_same_as_reference(units, owners, 11, 700)


@pytest.mark.parametrize("blocks", [1, 2, 3, 7, 40, 64])
def test_blocks_do_not_change_the_result(monkeypatch, blocks):
    rng = np.random.default_rng(5)
    units, owners = random_case(rng, n_units=40, n_events=20, n_groups=3, draws=300, seed=4)
    monkeypatch.setattr(pmc, "_threads", lambda: blocks)
    assert_same_as_reference(units, owners, 4, 300)


@settings(max_examples=15, deadline=None)
@given(
    case_seed=st.integers(0, 2**32 - 1),
    n_units=st.integers(1, 12),
    n_events=st.integers(1, 8),
    n_groups=st.integers(1, 4),
    draws=st.integers(1, 60),
    blocks=st.integers(1, 6),
)
def test_kernel_equals_reference_random(case_seed, n_units, n_events, n_groups, draws, blocks):
    rng = np.random.default_rng(case_seed)
    units, owners = random_case(rng, n_units, n_events, n_groups, draws, seed=case_seed)
    original = pmc._threads
    pmc._threads = lambda: blocks  # hypothesis and function-scoped fixtures do not mix
    try:
        assert_same_as_reference(units, owners, case_seed, draws)
    finally:
        pmc._threads = original


def kernel_quantiles(x: np.ndarray, sample_size: int) -> np.ndarray:
    sample, tmp = np.empty(min(sample_size, len(x))), np.empty(len(x))
    return np.array([pmc._quantile(x, q, sample, tmp) for q in (0.05, 0.95)])


@settings(max_examples=80, deadline=None)
@given(
    values=st.lists(
        st.sampled_from([0.0, 0.0, 1.0, 2.5, 3.0, 7.25]) | st.floats(0, 100), min_size=1, max_size=80
    ),
    sample_size=st.sampled_from([2, 4, 8, 128]),  # small samples take the bracketing path
)
def test_quantiles_match_numpy(values, sample_size):
    x = np.array(values, dtype=np.float64)
    before = x.copy()
    np.testing.assert_array_equal(kernel_quantiles(x, sample_size), np.quantile(x, [0.05, 0.95]))
    np.testing.assert_array_equal(x, before)  # the draws are left as they are


@pytest.mark.parametrize("draws", [2000, 1999, 257, 40_000])
def test_quantiles_match_numpy_at_scale(draws):
    rng = np.random.default_rng(draws)
    cases = [
        rng.lognormal(size=draws),
        np.where(rng.random(draws) < 0.93, 0.0, rng.lognormal(size=draws)),  # mostly zeros
        np.where(rng.random(draws) < 0.5, 0.0, 3.0),  # two values
        np.zeros(draws),
        np.sort(rng.random(draws)),  # sorted, and reversed: the sample is not random
        np.sort(rng.random(draws))[::-1].copy(),
        rng.integers(0, 4, draws).astype(float) * 1.5,  # heavy ties
    ]
    for x in cases:
        np.testing.assert_array_equal(kernel_quantiles(x, 128), np.quantile(x, [0.05, 0.95]))


# ----------------------------------------------------------------------------- draw_owners


def test_draw_owners_reproduces_draw_scores():
    rng = np.random.default_rng(8)
    n_events, n_ent, draws = 300, 5, 257
    ev, ent, prob = [], [], []
    for e in range(n_events):
        k = int(rng.integers(1, 4))
        ev += [e] * k
        ent += rng.choice(n_ent, size=k, replace=False).tolist()
        prob += (rng.dirichlet(np.ones(k + 1))[:k] if rng.random() < 0.7 else np.full(k, 1 / k)).tolist()
    cand = Candidates(np.array(ev), np.array(ent), np.array(prob))
    weights = rng.uniform(0.1, 5, n_events)
    ekeys = keys([f"t:{i}" for i in range(n_events)])
    scores = draw_scores(weights, cand, ekeys, keys([f"o{i}" for i in range(n_ent)]), draws=draws, seed=9)
    owners = draw_owners(cand, ekeys, n_events, draws=draws, seed=9)
    assert owners.dtype == np.int32 and owners.shape == (n_events, draws) and owners.flags.c_contiguous
    rebuilt = np.zeros((draws, n_ent))
    for d in range(draws):
        got = owners[:, d] >= 0
        rebuilt[d] = np.bincount(owners[got, d], weights=weights[got], minlength=n_ent)
    np.testing.assert_array_equal(rebuilt, scores)
    # every owner is one of the event's candidates
    allowed = {(int(a), int(b)) for a, b in zip(ev, ent, strict=True)}
    e_idx, d_idx = np.nonzero(owners >= 0)
    assert all(
        (int(e), int(owners[e, d])) in allowed for e, d in zip(e_idx[:5000], d_idx[:5000], strict=True)
    )


def test_draw_owners_small_dtypes_hold_the_same_values():
    rng = np.random.default_rng(2)
    units, owners = random_case(rng, n_units=15, n_events=10, n_groups=2, draws=200, seed=6)
    base = score_units(units, owners, seed=6, draws=200)
    for dtype in (np.int8, np.int16):
        small = owners.astype(dtype)
        got = score_units(units, small, seed=6, draws=200)
        for field in ("lo90", "hi90", "mean", "p_rank1"):
            np.testing.assert_array_equal(getattr(got, field), getattr(base, field))
    cand = Candidates(np.array([0, 0, 1]), np.array([0, 1, 1]), np.array([0.3, 0.3, 0.9]))
    ekeys = keys(["a", "b"])
    wide = draw_owners(cand, ekeys, 2, draws=300, seed=3)
    np.testing.assert_array_equal(draw_owners(cand, ekeys, 2, draws=300, seed=3, dtype=np.int8), wide)
    big = Candidates(np.array([0]), np.array([200]), np.array([1.0]))
    with pytest.raises(ValueError, match="fit in int8"):
        draw_owners(big, ekeys[:1], 1, draws=3, seed=3, dtype=np.int8)


def test_draw_owners_one_worker_equals_threads():
    cand = Candidates(np.array([0, 0, 1]), np.array([0, 1, 1]), np.array([0.3, 0.3, 0.9]))
    ekeys = keys(["a", "b"])
    one = draw_owners(cand, ekeys, 2, draws=10_000, seed=3, workers=1)
    two = draw_owners(cand, ekeys, 2, draws=10_000, seed=3, workers=2)
    np.testing.assert_array_equal(one, two)


def test_draw_owners_rejects_bad_input():
    cand = Candidates(np.array([0, 2]), np.array([0, 1]), np.array([0.3, 0.3]))
    with pytest.raises(ValueError, match="outside"):
        draw_owners(cand, keys(["a", "b"]), 2, draws=5, seed=1)
    with pytest.raises(ValueError, match="keys"):
        draw_owners(cand, keys(["a"]), 3, draws=5, seed=1)


# ------------------------------------------------------------------------------ validation


def test_score_units_rejects_bad_input():
    units = make_units([[(0, 0, 1.0, 0.5, [0.5])]])
    owners = owners_for([[(0, 0.5)]], 10)
    with pytest.raises(ValueError, match="owners must be"):
        score_units(units, owners, seed=SEED, draws=11)
    with pytest.raises(ValueError, match="int8, int16 or int32"):
        score_units(units, owners.astype(np.int64), seed=SEED, draws=10)
    with pytest.raises(ValueError, match="draws"):
        score_units(units, owners[:, :0], seed=SEED, draws=0)
    with pytest.raises(ValueError, match="pair_event"):
        score_units(Units(**{**units.__dict__, "pair_event": np.array([3])}), owners, seed=SEED, draws=10)
    with pytest.raises(ValueError, match="confidences"):
        expected_unit_scores(Units(**{**units.__dict__, "link_conf": np.array([0.0])}))
    with pytest.raises(ValueError, match="unit_ptr"):
        expected_unit_scores(Units(**{**units.__dict__, "unit_ptr": np.array([0, 2])}))
    with pytest.raises(ValueError, match="group"):
        expected_unit_scores(Units(**{**units.__dict__, "group": np.array([0, 1])}))
    with pytest.raises(ValueError, match="weights"):
        expected_unit_scores(Units(**{**units.__dict__, "pair_weight": np.array([-1.0])}))
