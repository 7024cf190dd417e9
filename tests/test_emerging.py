"""Emerging hot and cold spots: space-time Gi*, its permutation moments, ESRI's 17 classes.

Synthetic cubes on a 10 x 10 grid of unit squares are built to have each class: a 3 x 3 block
in the middle follows a designed history over 20 quarters while every other cell holds the same
value (ties: no permutation can make them significant), and the block's centre must get the
designed class under both global windows and three permutation seeds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse
from shapely.geometry import box

from vdto.errors import VdtoError
from vdto.regional.contiguity import queen
from vdto.regional.emerging import (
    CLASSES,
    COLD_CLASSES,
    HOT_CLASSES,
    NO_PATTERN,
    check_options,
    classify,
    emerging_hotspots,
    spacetime_gi,
    spacetime_weights,
)

G, T = 10, 20
CELLS = [(i, j) for i in range(G) for j in range(G)]
CODES = tuple(f"{i}{j}" for i, j in CELLS)
BLOCK = [n for n, (i, j) in enumerate(CELLS) if 3 <= i <= 5 and 3 <= j <= 5]
CENTRE = CODES.index("44")
BINS = pd.period_range("2000Q1", periods=T, freq="Q")
BASE, HOT, COLD = 10.0, 30.0, 0.0


@pytest.fixture(scope="module")
def grid():
    return queen(list(CODES), [box(i, j, i + 1, j + 1) for i, j in CELLS])


def design(history: list) -> np.ndarray:
    """The cube: every cell BASE, the block following ``history`` ("H" hot, "C" cold, "." as
    the rest, or a number)."""
    x = np.full((len(CODES), T), BASE)
    for t, s in enumerate(history):
        if s == "H":
            x[BLOCK, t] = HOT
        elif s == "C":
            x[BLOCK, t] = COLD
        elif s != ".":
            x[BLOCK, t] = float(s)
    return x


def sporadic(mark: str) -> list:
    h = ["."] * T
    for t in (2, 6, 11, 19):
        h[t] = mark
    return h


DESIGNS = {
    "new hot spot": ["."] * 19 + ["H"],
    "consecutive hot spot": ["."] * 16 + ["H"] * 4,
    "intensifying hot spot": [20 + 3 * t for t in range(T)],
    "persistent hot spot": ["H"] * T,
    "diminishing hot spot": [80 - 3 * t for t in range(T)],
    "sporadic hot spot": sporadic("H"),
    "oscillating hot spot": ["."] * 3 + ["C"] * 3 + ["."] * 13 + ["H"],
    "historical hot spot": ["H"] * 18 + ["."] * 2,
    "new cold spot": ["."] * 19 + ["C"],
    "consecutive cold spot": ["."] * 16 + ["C"] * 4,
    "intensifying cold spot": [8 - 0.4 * t for t in range(T)],
    "persistent cold spot": ["C"] * T,
    "diminishing cold spot": [0.4 * t for t in range(T)],
    "sporadic cold spot": sporadic("C"),
    "oscillating cold spot": ["."] * 3 + ["H"] * 3 + ["."] * 13 + ["C"],
    "historical cold spot": ["C"] * 18 + ["."] * 2,
}


def test_designs_cover_every_class():
    assert set(DESIGNS) | {NO_PATTERN} == set(CLASSES)
    assert len(CLASSES) == 17


@pytest.mark.parametrize("window", ["cube", "bin"])
@pytest.mark.parametrize("pattern", list(DESIGNS))
def test_every_class_is_recovered(grid, pattern, window):
    x = design(DESIGNS[pattern])
    for seed in (1, 2, 3):
        res = emerging_hotspots(
            x, x, CODES, BINS, grid.matrix(), k=1, permutations=199, seed=seed, window=window
        )
        assert res.table.loc[CENTRE, "pattern"] == pattern, (seed, res.table.loc[CENTRE].to_dict())
        far = [n for n, (i, j) in enumerate(CELLS) if min(i, j) <= 1 or max(i, j) >= 8]
        assert (res.table.loc[far, "pattern"] == NO_PATTERN).all()


def test_no_block_no_pattern(grid):
    x = design(["."] * T)
    res = emerging_hotspots(x, x, CODES, BINS, grid.matrix(), permutations=199, seed=1)
    assert (res.table["pattern"] == NO_PATTERN).all()
    assert res.meta["significant_cells"] == 0


def test_noise_with_fdr_is_quiet(grid):
    """Pure noise: at p <= 0.05 in each of 20 bins most regions get some significant bin by
    chance, and about one in ten is significant in its last bin, which ESRI's rules read as a
    new, sporadic or oscillating spot; the false discovery rate across the cube removes it."""
    x = np.random.default_rng(7).normal(BASE, 1.0, size=(len(CODES), T))
    raw = emerging_hotspots(x, x, CODES, BINS, grid.matrix(), permutations=199, seed=1)
    fdr = emerging_hotspots(x, x, CODES, BINS, grid.matrix(), permutations=199, seed=1, fdr=True)
    assert (raw.table["hot_bins"] + raw.table["cold_bins"] > 0).mean() > 0.5
    assert (raw.table["pattern"] != NO_PATTERN).mean() > 0.05
    assert (fdr.table["pattern"] == NO_PATTERN).mean() >= 0.95


def test_long_patterns_survive_noise_and_fdr(grid):
    rng = np.random.default_rng(11)
    for pattern in ("persistent hot spot", "intensifying hot spot", "historical hot spot"):
        x = design(DESIGNS[pattern]) + rng.normal(0.0, 1.0, size=(len(CODES), T))
        res = emerging_hotspots(x, x, CODES, BINS, grid.matrix(), permutations=999, seed=1, fdr=True)
        assert res.table.loc[CENTRE, "pattern"] == pattern


def test_the_first_bins_are_not_classified(grid):
    """A quiet region's z is less negative in the first bin (half a neighbourhood with lag 1):
    left in the cells, out of the classes and the trend, or every cold region would seem to be
    getting colder."""
    x = design(DESIGNS["persistent cold spot"])
    res = emerging_hotspots(x, x, CODES, BINS, grid.matrix(), k=1, permutations=199, seed=1)
    z = res.cells[res.cells["region_code"] == "44"]["gi_z"].to_numpy()
    assert z[0] > z[1] and np.allclose(z[1:], z[1])
    assert (
        res.table.loc[CENTRE, "pattern"] == "persistent cold spot"
        and res.table.loc[CENTRE, "cold_bins"] == T - 1
    )
    assert res.meta["classified_bins"] == T - 1


def test_same_seed_same_result_other_seed_other_p(grid):
    x = np.random.default_rng(3).poisson(3.0, size=(len(CODES), T)).astype(float)
    a = emerging_hotspots(x, x, CODES, BINS, grid.matrix(), permutations=99, seed=5)
    b = emerging_hotspots(x, x, CODES, BINS, grid.matrix(), permutations=99, seed=5)
    c = emerging_hotspots(x, x, CODES, BINS, grid.matrix(), permutations=99, seed=6)
    pd.testing.assert_frame_equal(a.cells, b.cells)
    assert not np.array_equal(a.cells["gi_p"], c.cells["gi_p"])
    np.testing.assert_array_equal(a.cells["gi_z"], c.cells["gi_z"])  # z is analytic


# --------------------------------------------------------------------------------------------
# the statistic


def test_one_bin_equals_esda_gi_star(grid):
    from vdto.regional.pysal import esda, weights

    y = np.random.default_rng(2).poisson(4.0, size=len(CODES)).astype(float)
    y[BLOCK] += 15
    z, _ = spacetime_gi(y[:, None], grid.matrix(), k=0, permutations=99, seed=1)
    w = grid.weights()
    w.transform = "B"
    g = esda().G_Local(y, weights().fill_diagonal(w, 1.0), transform="B", permutations=0, star=None)
    np.testing.assert_allclose(z[:, 0], g.Zs, atol=1e-12)


def test_one_bin_p_equals_the_one_map_test(grid):
    from vdto.regional.hotspots import _total_randomisation_p

    y = np.random.default_rng(4).poisson(4.0, size=len(CODES)).astype(float)
    _, p = spacetime_gi(y[:, None], grid.matrix(), k=0, permutations=499, seed=9)
    np.testing.assert_array_equal(p[:, 0], _total_randomisation_p(y, grid, 499, 9))


def test_space_time_neighbourhood():
    line = sparse.diags([1.0, 1.0], [-1, 1], shape=(3, 3), format="csr")  # regions 0 - 1 - 2
    w = spacetime_weights(line, bins=3, k=1).toarray()
    # cell t * 3 + i: region 0 in bin 2 sees regions 0, 1 in bins 1 and 2
    assert set(np.flatnonzero(w[2 * 3 + 0])) == {3, 4, 6, 7}
    # region 1 in bin 0 has no earlier bin: regions 0, 1, 2 in bin 0
    assert set(np.flatnonzero(w[0 * 3 + 1])) == {0, 1, 2}
    assert spacetime_weights(line, bins=3, k=0).sum() == 7 * 3


@pytest.mark.parametrize("window", ["cube", "bin"])
def test_moments_are_the_permutation_moments(window):
    """The z-score's mean and variance are those of the neighbourhood sum under relabelling:
    compare with 20,000 relabellings done by hand."""
    from vdto.regional.emerging import _moments

    rng = np.random.default_rng(0)
    r, t = 6, 4
    adj = sparse.csr_matrix(np.triu((rng.random((r, r)) < 0.5), 1).astype(float))
    adj = adj + adj.T
    x = rng.poisson(3.0, size=(r, t)).astype(float)
    w = spacetime_weights(adj, t, 1)
    v = x.T.ravel()
    groups = np.zeros(r * t, dtype=np.int64) if window == "cube" else np.repeat(np.arange(t), r)
    mean, var = _moments(w, v, groups)
    sims = []
    for _ in range(20_000):
        if window == "cube":
            s = rng.permutation(v)
        else:
            s = np.concatenate([rng.permutation(v[groups == g]) for g in range(t)])
        sims.append(w @ s)
    sims = np.array(sims)
    np.testing.assert_allclose(mean, sims.mean(axis=0), atol=0.05 * np.sqrt(var.max()))
    np.testing.assert_allclose(var, sims.var(axis=0), rtol=0.06, atol=1e-9)


# --------------------------------------------------------------------------------------------
# the rules


def rows(*series: str) -> tuple[np.ndarray, np.ndarray]:
    """Hot and cold arrays from strings like "..HH.C" (one row per string)."""
    hot = np.array([[c == "H" for c in s] for s in series])
    cold = np.array([[c == "C" for c in s] for s in series])
    return hot, cold


@pytest.mark.parametrize(
    ("history", "tau", "p", "expected"),
    [
        (".........H", 0.0, 1.0, "new hot spot"),
        ("......HHHH", 0.5, 0.01, "consecutive hot spot"),  # a trend does not matter under 90%
        (".H....HHHH", 0.5, 0.5, "sporadic hot spot"),
        ("C........H", 0.0, 1.0, "oscillating hot spot"),  # oscillating before new
        ("C.....HHHH", 0.0, 1.0, "oscillating hot spot"),
        ("HHHHHHHHHH", 0.5, 0.01, "intensifying hot spot"),
        ("HHHHHHHHHH", 0.5, 0.2, "persistent hot spot"),
        (".HHHHHHHHH", -0.5, 0.01, "diminishing hot spot"),  # 9 of 10: 90%
        ("..HHHHHHHH", -0.5, 0.01, "consecutive hot spot"),  # 8 of 10: under 90%, one run
        ("H..HHHHHHH", -0.5, 0.01, "sporadic hot spot"),  # 8 of 10, hot before the run
        ("HHHHHHHHH.", 0.5, 0.01, "historical hot spot"),
        ("HHHHHHHH..", 0.0, 1.0, NO_PATTERN),  # 80% and not hot now
        ("CCCCCCCCCH", 0.0, 1.0, "oscillating hot spot"),  # hot now wins over historical cold
        ("HHHHHHHHHC", 0.0, 1.0, "oscillating cold spot"),
        ("CCCCCCCCCC", -0.5, 0.01, "intensifying cold spot"),
        ("CCCCCCCCCC", 0.5, 0.01, "diminishing cold spot"),
        ("CCCCCCCCC.", 0.0, 1.0, "historical cold spot"),
        ("..........", 0.0, 1.0, NO_PATTERN),
        ("....H.....", 0.0, 1.0, NO_PATTERN),
    ],
)
def test_rules(history, tau, p, expected):
    hot, cold = rows(history)
    assert classify(hot, cold, np.array([tau]), np.array([p]), 0.05).tolist() == [expected]


def test_twenty_bins_ninety_percent():
    # 18 of 20 bins hot is 90%; 17 is not
    assert (
        classify(*rows("HH.HHHHHHHHHHHHHH.HH"), np.array([0.0]), np.array([1.0]))[0] == "persistent hot spot"
    )
    assert classify(*rows("HH.HHHHHHH.HHHHHH.HH"), np.array([0.0]), np.array([1.0]))[0] == "sporadic hot spot"


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from("HC."), min_size=10, max_size=30).map("".join),
    st.floats(-1, 1),
    st.floats(0, 1),
)
def test_rules_are_mirror_images(history, tau, p):
    """Swapping hot and cold and the sign of the trend swaps the classes."""
    hot, cold = rows(history)
    a = classify(hot, cold, np.array([tau]), np.array([p]))[0]
    b = classify(cold, hot, np.array([-tau]), np.array([p]))[0]
    if a == NO_PATTERN:
        assert b == NO_PATTERN
    else:
        assert b == a.replace("hot", "@").replace("cold", "hot").replace("@", "cold")
    assert a in CLASSES
    if hot[0, -1]:
        assert a in HOT_CLASSES
    if cold[0, -1]:
        assert a in COLD_CLASSES


# --------------------------------------------------------------------------------------------
# options


GOOD = {"bins": 24, "k": 1, "permutations": 999, "alpha": 0.05, "trend_alpha": 0.05, "window": "cube"}


@pytest.mark.parametrize(
    ("change", "param", "words"),
    [
        ({"bins": 6}, "bin", "at least 10 time bins"),
        ({"bins": 9}, "bin", "the cube has 9"),
        ({"k": -1}, "k", "0 or more"),
        ({"bins": 10, "k": 1}, "bin", "after the first 1 (whose neighbourhoods are shorter)"),
        ({"bins": 10, "k": 0}, None, None),
        ({"permutations": 50}, "permutations", "too few"),
        ({"alpha": 1.5}, "alpha", "between 0 and 1"),
        ({"trend_alpha": 0.0}, "trend_alpha", "between 0 and 1"),
        ({"window": "year"}, "window", "unknown global window"),
    ],
)
def test_bad_options(change, param, words):
    if param is None:  # the same number of bins is enough without a lag
        check_options(**{**GOOD, **change})
        return
    with pytest.raises(VdtoError) as err:
        check_options(**{**GOOD, **change})
    assert err.value.param == param
    assert words in err.value.what


def test_a_tiny_trend_alpha_needs_more_bins():
    with pytest.raises(VdtoError) as err:
        check_options(**{**GOOD, "bins": 11, "trend_alpha": 1e-6})
    assert "at least 1" in err.value.what and err.value.param == "bin"


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=4, max_size=4))
def test_cells_must_be_finite(values):
    x = np.full((3, 4), 1.0)
    x[0] = values
    line = sparse.diags([1.0, 1.0], [-1, 1], shape=(3, 3), format="csr")
    if np.isfinite(values).all() and np.abs(values).max() <= 1e100:
        z, p = spacetime_gi(x, line, permutations=99)
        assert np.isfinite(z).all() and ((p > 0) & (p <= 1)).all()
    else:
        with pytest.raises(VdtoError) as err:
            spacetime_gi(x, line, permutations=99)
        assert err.value.param == "cube"
