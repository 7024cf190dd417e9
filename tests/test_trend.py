"""The Mann-Kendall trend test (vdto.regional.trend).

Small series worked out by hand, agreement with pymannkendall's ``original_test`` and with
SciPy's Kendall tau, vectorised rows against one call per row, ties up to float noise, bad
input, and the fewest bins a trend needs.
"""

from __future__ import annotations

import doctest
import math

import numpy as np
import pymannkendall
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import stats

import vdto.regional.trend as trend_module
from vdto.errors import VdtoError
from vdto.regional.trend import MannKendall, mann_kendall, min_bins

TOL = 1e-12


def two_sided(z: float) -> float:
    """2 * P(Z > |z|) for a standard normal Z, by the error function (independent of SciPy)."""
    return math.erfc(abs(z) / math.sqrt(2))


def check(r: MannKendall, s: float, var_s: float, z: float, p: float, tau: float, n: int) -> None:
    assert r.n == n
    assert r.s.shape == r.var_s.shape == r.z.shape == r.p.shape == r.tau.shape == ()
    assert float(r.s) == pytest.approx(s, abs=TOL)
    assert float(r.var_s) == pytest.approx(var_s, abs=TOL)
    assert float(r.z) == pytest.approx(z, abs=TOL)
    assert float(r.p) == pytest.approx(p, abs=TOL)
    assert float(r.tau) == pytest.approx(tau, abs=TOL)


# --- worked by hand -------------------------------------------------------------------------


def test_one_tie_pair():
    # x = [1, 2, 2, 3], n = 4, 6 pairs (i < j):
    #   (1,2) +1  (1,2) +1  (1,3) +1  (2,2) 0  (2,3) +1  (2,3) +1   -> S = 5
    # tie groups: {2, 2}, t = 2: t(t-1)(2t+5) = 2*1*9 = 18
    # var = (n(n-1)(2n+5) - 18) / 18 = (4*3*13 - 18) / 18 = (156 - 18) / 18 = 138/18 = 23/3
    # z = (S - 1) / sqrt(var) = 4 / sqrt(23/3) = 4*sqrt(3/23) = 1.4446302370...
    # p = 2 * (1 - Phi(1.44463)) = erfc(z / sqrt 2) = 0.1485617748...
    # tau = S / (n(n-1)/2) = 5/6
    z = 4 * math.sqrt(3 / 23)
    check(mann_kendall(np.array([1.0, 2.0, 2.0, 3.0])), 5, 23 / 3, z, two_sided(z), 5 / 6, 4)


def test_tie_group_of_three_cancels_by_continuity():
    # x = [3, 1, 1, 1, 2], n = 5:
    #   3 against 1, 1, 1, 2: four falls            -4
    #   first 1 against 1, 1, 2: 0, 0, +1          +1
    #   second 1 against 1, 2: 0, +1               +1
    #   third 1 against 2: +1                      +1   -> S = -1
    # tie groups: {1, 1, 1}, t = 3: 3*2*11 = 66
    # var = (5*4*15 - 66) / 18 = (300 - 66) / 18 = 234/18 = 13
    # z = (S + 1) / sqrt(13) = 0 (the continuity correction takes S = -1 to 0), p = 1
    # tau = -1/10
    check(mann_kendall(np.array([3.0, 1.0, 1.0, 1.0, 2.0])), -1, 13, 0, 1, -0.1, 5)


def test_tie_group_of_three_rising():
    # x = [1, 1, 1, 2, 3], n = 5:
    #   each of the three 1s: 0 against the other 1s after it, +2 against 2 and 3  -> 3*2 = 6
    #   2 against 3: +1                                                            -> S = 7
    # var = (300 - 3*2*11) / 18 = 234/18 = 13
    # z = (7 - 1) / sqrt(13) = 6/sqrt(13) = 1.6641005886...; p = 0.0960923294...
    # tau = 7/10
    z = 6 / math.sqrt(13)
    check(mann_kendall(np.array([1.0, 1.0, 1.0, 2.0, 3.0])), 7, 13, z, two_sided(z), 0.7, 5)


def test_increasing_five():
    # x = [1, 2, 3, 4, 5]: all 10 pairs rise, S = 10, no ties
    # var = 5*4*15 / 18 = 300/18 = 50/3
    # z = 9 / sqrt(50/3) = 9*sqrt(3/50) = 2.2045407685...; p = 0.0274863361...
    # tau = 10/10 = 1
    z = 9 * math.sqrt(3 / 50)
    check(mann_kendall(np.arange(1.0, 6.0)), 10, 50 / 3, z, two_sided(z), 1, 5)
    assert float(mann_kendall(np.arange(1.0, 6.0)).p) < 0.05


def test_constant():
    # x = [4, 4, 4, 4]: every pair tied, S = 0; one tie group t = 4: 4*3*13 = 156
    # var = (4*3*13 - 156) / 18 = 0 -> z = 0, p = 1; tau = 0
    check(mann_kendall(np.full(4, 4.0)), 0, 0, 0, 1, 0, 4)


def test_decreasing():
    # x = [5, 3, 2, 0]: all 6 pairs fall, S = -6, no ties
    # var = 4*3*13 / 18 = 156/18 = 26/3
    # z = (S + 1) / sqrt(26/3) = -5*sqrt(3/26) = -1.6984155512...; p = 0.0894293590...
    # tau = -6/6 = -1
    z = -5 * math.sqrt(3 / 26)
    check(mann_kendall(np.array([5.0, 3.0, 2.0, 0.0])), -6, 26 / 3, z, two_sided(z), -1, 4)


def test_two_points():
    # x = [1, 2]: S = 1, var = 2*1*9/18 = 1, z = (1 - 1)/1 = 0, p = 1, tau = 1
    check(mann_kendall([1.0, 2.0]), 1, 1, 0, 1, 1, 2)


def test_float_noise_is_a_tie():
    # 0.1 + 0.2 = 0.30000000000000004 != 0.3, but equal to 12 significant digits: a tie.
    # x = [0.3+, 0.3, 0.5]: (0.3+, 0.3) 0, (0.3+, 0.5) +1, (0.3, 0.5) +1 -> S = 2
    # var = (3*2*11 - 2*1*9) / 18 = 48/18 = 8/3; z = 1/sqrt(8/3) = 0.6123724356...; tau = 2/3
    assert 0.1 + 0.2 != 0.3
    z = 1 / math.sqrt(8 / 3)
    check(mann_kendall([0.1 + 0.2, 0.3, 0.5]), 2, 8 / 3, z, two_sided(z), 2 / 3, 3)
    # the same holds at any scale, and for negative values
    for scale in (1e-200, 1e-6, -1.0, 1e6, 1e200):
        r = mann_kendall(np.array([0.1 + 0.2, 0.3, 0.5]) * scale)
        assert float(r.var_s) == pytest.approx(8 / 3, abs=TOL)
        assert abs(float(r.s)) == 2


def test_differences_beyond_float_noise_count():
    # 1 and 1 + 1e-9 differ in the 10th significant digit: not a tie, S = 1
    r = mann_kendall([1.0, 1.0 + 1e-9])
    assert float(r.s) == 1 and float(r.var_s) == 1


def test_extreme_magnitudes_stay_finite():
    x = np.array([-1.7e308, -1e-310, 0.0, 5e-324, 1e-300, 1.7e308])
    r = mann_kendall(x)
    # below 1e-300 fewer digits are kept: 5e-324 (the smallest float) ties with 0, so of the 15
    # pairs 14 rise and 1 is tied; var = (6*5*17 - 2*1*9) / 18 = 492/18
    assert float(r.s) == 14
    assert float(r.var_s) == pytest.approx(492 / 18, abs=TOL)
    assert np.isfinite([r.var_s, r.z, r.p, r.tau]).all()


# --- against other implementations ---------------------------------------------------------

small_ints = st.lists(st.integers(-3, 3), min_size=2, max_size=40)


@settings(max_examples=300, deadline=None)
@given(small_ints)
def test_matches_pymannkendall(values):
    x = np.array(values, dtype=float)
    ours = mann_kendall(x)
    ref = pymannkendall.original_test(x)
    for mine, theirs in [
        (ours.s, ref.s),
        (ours.var_s, ref.var_s),
        (ours.z, ref.z),
        (ours.p, ref.p),
        (ours.tau, ref.Tau),
    ]:
        assert float(mine) == pytest.approx(float(theirs), rel=1e-9, abs=1e-9)


def test_matches_pymannkendall_continuous():
    rng = np.random.default_rng(7)
    for n in (3, 10, 72):
        x = rng.normal(size=n) + np.linspace(0, 1, n)
        ours, ref = mann_kendall(x), pymannkendall.original_test(x)
        assert float(ours.s) == ref.s
        assert float(ours.var_s) == pytest.approx(ref.var_s, rel=1e-12)
        assert float(ours.z) == pytest.approx(ref.z, rel=1e-12)
        assert float(ours.p) == pytest.approx(ref.p, rel=1e-9, abs=1e-15)


@settings(max_examples=300, deadline=None)
@given(small_ints)
def test_s_from_scipy_kendall_tau_b(values):
    # against time (no ties in time), tau-b = S / sqrt(n0 (n0 - n2)) with n0 = n(n-1)/2 pairs and
    # n2 = sum t(t-1)/2 the pairs tied in x; so S = tau_b * sqrt(n0 (n0 - n2))
    x = np.array(values, dtype=float)
    assume(np.ptp(x) > 0)  # tau-b is undefined for a constant series
    n = len(x)
    n0 = n * (n - 1) / 2
    _, counts = np.unique(x, return_counts=True)
    n2 = float((counts * (counts - 1) / 2).sum())
    tau_b = stats.kendalltau(np.arange(n), x).statistic
    assert float(mann_kendall(x).s) == pytest.approx(tau_b * math.sqrt(n0 * (n0 - n2)), abs=1e-9)


@settings(max_examples=100, deadline=None)
@given(
    hnp.arrays(
        np.float64,
        st.tuples(st.integers(1, 8), st.integers(2, 20)),
        elements=st.sampled_from([-2.5, -1.0, 0.0, 0.1 + 0.2, 0.3, 1.0, 7.0]),
    )
)
def test_rows_equal_one_call_per_row(x):
    together = mann_kendall(x)
    assert together.s.shape == (x.shape[0],) and together.n == x.shape[1]
    for i, row in enumerate(x):
        alone = mann_kendall(row)
        for field in ("s", "var_s", "z", "p", "tau"):
            assert getattr(together, field)[i] == getattr(alone, field)


def test_no_series():
    r = mann_kendall(np.zeros((0, 5)))
    assert r.s.shape == (0,) and r.n == 5


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "x",
    [
        [1.0, np.nan, 2.0],
        [1.0, np.inf, 2.0],
        [[1.0, 2.0], [-np.inf, 0.0]],
        [1.0],
        [],
        np.zeros((3, 1)),
        np.zeros((2, 2, 2)),
        ["a", "b"],
    ],
)
def test_bad_series(x):
    with pytest.raises(VdtoError) as info:
        mann_kendall(x)
    assert info.value.param == "series"
    assert info.value.line().startswith("series: ")


@pytest.mark.parametrize("alpha", [0.0, 1.0, -0.1, float("nan")])
def test_bad_alpha(alpha):
    with pytest.raises(VdtoError) as info:
        min_bins(alpha)
    assert info.value.param == "alpha"


# --- how many bins ----------------------------------------------------------------------------


@pytest.mark.parametrize(("alpha", "expected"), [(0.05, 5), (0.01, 6)])
def test_min_bins(alpha, expected):
    # n = 4: S = 6, var = 26/3, z = 5/sqrt(26/3) = 1.698, p = 0.0894
    # n = 5: S = 10, var = 50/3, z = 2.2045, p = 0.0275
    # n = 6: S = 15, var = 6*5*17/18 = 85/3, z = 14/sqrt(85/3) = 2.6302, p = 0.0085
    n = min_bins(alpha)
    assert n == expected
    for sign in (1, -1):
        assert float(mann_kendall(sign * np.arange(n)).p) <= alpha
        assert float(mann_kendall(sign * np.arange(n - 1)).p) > alpha


@pytest.mark.parametrize("alpha", [0.5, 0.2, 0.1, 1e-3, 1e-6])
def test_min_bins_is_the_smallest(alpha):
    n = min_bins(alpha)
    assert n >= 3
    assert float(mann_kendall(np.arange(n)).p) <= alpha
    if n > 3:
        assert float(mann_kendall(np.arange(n - 1)).p) > alpha


def test_doctests():
    result = doctest.testmod(trend_module)
    assert result.attempted > 0 and result.failed == 0
