"""Mann-Kendall trend test, vectorised over many series at once.

The Mann-Kendall test (Mann 1945; Kendall 1975, *Rank Correlation Methods*, 4th ed.) asks
whether a series tends to rise or fall over time, using only the order of its values. Its
statistic is Kendall's

    S = sum over i < j of sign(x_j - x_i),

the number of later values above an earlier one minus the number below it. With no trend, S
has mean 0 and, when some values are tied, variance

    var(S) = [n(n-1)(2n+5) - sum_g t_g(t_g-1)(2t_g+5)] / 18,

where ``t_g`` is the size of the g-th group of tied values (Gilbert 1987, *Statistical Methods
for Environmental Pollution Monitoring*, ch. 16). The test compares the normal score with a
continuity correction,

    z = (S - 1) / sqrt(var(S)) if S > 0,   0 if S = 0,   (S + 1) / sqrt(var(S)) if S < 0,

with the standard normal: the two-sided p-value is ``2 * norm.sf(|z|)``. Kendall's tau is
reported as ``S / (n(n-1)/2)`` (tau-a, no tie adjustment). This is the same test, with the same
numbers, as ``pymannkendall.original_test``, and the trend test of ESRI's Emerging Hot Spot
Analysis, which applies it to the Gi* z-scores of each location over the time bins.

The normal approximation is what ESRI uses; it is rough below about 10 points (Gilbert 1987
tabulates the exact distribution of S for n <= 10). With few time bins a trend can hardly be
significant at all: :func:`min_bins` tells how many bins a perfectly monotone series needs.

Ties are values that are equal after rounding to 12 significant digits, so that Gi* z-scores
computed along different paths, equal but for float noise in the last bits, count as ties
(and add nothing to S) instead of as a rise or a fall. The rounding applies to S and to the
tie correction alike.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.stats import norm

from vdto.errors import VdtoError

__all__ = ["TIE_DIGITS", "MannKendall", "mann_kendall", "min_bins"]

#: Values equal to this many significant digits are ties.
TIE_DIGITS = 12


@dataclass(frozen=True)
class MannKendall:
    """The Mann-Kendall test of each series (one entry per row of the input; 0-d for one series).

    Attributes
    ----------
    s
        Kendall's S: pairs that rise minus pairs that fall (float).
    var_s
        Variance of S under no trend, with the tie correction.
    z
        Normal score with the continuity correction (0 where S is 0).
    p
        Two-sided p-value; 1.0 where ``var_s`` is 0 (all values tied).
    tau
        Kendall's tau, ``S / (n(n-1)/2)``.
    n
        Number of time points of every series.
    """

    s: np.ndarray
    var_s: np.ndarray
    z: np.ndarray
    p: np.ndarray
    tau: np.ndarray
    n: int


def _round_sig(x: np.ndarray, digits: int = TIE_DIGITS) -> np.ndarray:
    """``x`` rounded to ``digits`` significant digits (0 stays 0; no overflow near the float limits)."""
    a = np.abs(x)
    exponent = np.zeros_like(x)
    np.log10(a, out=exponent, where=a > 0)
    # 10**±300 are normal floats; values below 1e-300 keep fewer digits, which is harmless
    shift = (digits - 1) - np.clip(np.floor(exponent), -300, 300)
    # scale in two steps so that neither factor overflows (shift lies in [-289, 311])
    half = np.floor(shift / 2)
    rest = shift - half
    return np.round(x * 10.0**half * 10.0**rest) / 10.0**rest / 10.0**half


def _series(x: npt.ArrayLike) -> np.ndarray:
    """``x`` as a float array of shape (n_series, n_time), checked."""
    try:
        a = np.asarray(x, dtype=float)
    except (TypeError, ValueError) as exc:
        raise VdtoError(
            f"series must be numbers ({exc})", fix="pass an array of floats", param="series"
        ) from None
    if a.ndim not in (1, 2):
        raise VdtoError(
            f"series must have 1 or 2 dimensions (got shape {a.shape})",
            fix="pass one series, or one series per row with time along the columns",
            param="series",
        )
    if a.shape[-1] < 2:
        raise VdtoError(
            f"a trend needs at least 2 time points (got {a.shape[-1]})",
            fix=f"use more time bins; {min_bins(0.05)} are needed for a trend at alpha 0.05",
            param="series",
        )
    if not np.isfinite(a).all():
        raise VdtoError(
            "series must be finite numbers (found NaN or infinity)",
            fix="replace missing values before testing for a trend",
            param="series",
        )
    return a.reshape(-1, a.shape[-1])


def mann_kendall(x: npt.ArrayLike) -> MannKendall:
    """Mann-Kendall test of each series in ``x`` (the module docstring gives the formulas).

    Parameters
    ----------
    x
        One series, shape ``(n_time,)``, or one series per row, shape ``(n_series, n_time)``,
        oldest first. Finite numbers only, at least 2 time points.

    Returns
    -------
    MannKendall
        Arrays of shape ``(n_series,)``, or 0-d arrays for a single series.

    Raises
    ------
    VdtoError
        (``param="series"``) for NaN or infinite values, fewer than 2 time points, or an array
        of more than 2 dimensions.

    Examples
    --------
    >>> r = mann_kendall([1.0, 2.0, 2.0, 3.0])
    >>> float(r.s), round(float(r.var_s), 4), round(float(r.z), 4), round(float(r.p), 4)
    (5.0, 7.6667, 1.4446, 0.1486)
    >>> r = mann_kendall([[1, 2, 3, 4, 5], [5, 4, 3, 2, 1], [2, 2, 2, 2, 2]])
    >>> r.s.tolist(), r.tau.tolist(), r.p.tolist()[2]
    ([10.0, -10.0, 0.0], [1.0, -1.0, 0.0], 1.0)
    """
    shape = np.shape(x)[:-1]
    rows = _round_sig(_series(x))
    m, n = rows.shape

    # S, one lag at a time: memory stays at one (n_series, n_time) array
    s = np.zeros(m, dtype=np.int64)
    for lag in range(1, n):
        later, earlier = rows[:, lag:], rows[:, :-lag]
        s += (later > earlier).sum(axis=1) - (later < earlier).sum(axis=1)

    # tie groups: runs of equal values in each sorted row (every row starts a run at column 0)
    ordered = np.sort(rows, axis=1)
    starts = np.ones((m, n), dtype=bool)
    starts[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    first = np.flatnonzero(starts.ravel())
    t = np.diff(np.append(first, m * n))
    ties = np.zeros(m, dtype=np.int64)
    np.add.at(ties, first // n, t * (t - 1) * (2 * t + 5))

    var_s = (n * (n - 1) * (2 * n + 5) - ties) / 18.0
    s_f = s.astype(float)
    numerator = s_f - np.sign(s_f)  # continuity correction: S - 1, S + 1, or 0
    z = np.divide(numerator, np.sqrt(var_s), out=np.zeros(m), where=var_s > 0)
    p = np.where(var_s > 0, 2.0 * norm.sf(np.abs(z)), 1.0)
    tau = s_f / (n * (n - 1) / 2)
    return MannKendall(
        s=s_f.reshape(shape),
        var_s=var_s.reshape(shape),
        z=z.reshape(shape),
        p=np.asarray(p, dtype=float).reshape(shape),
        tau=tau.reshape(shape),
        n=n,
    )


def min_bins(alpha: float) -> int:
    """The fewest time bins (at least 3) in which a trend can reach ``p <= alpha``.

    That is the smallest ``n`` for which a perfectly monotone series of ``n`` distinct values
    (``S = n(n-1)/2``, no ties) gets a p-value of at most ``alpha`` under :func:`mann_kendall`.

    Examples
    --------
    >>> min_bins(0.05), min_bins(0.01)
    (5, 6)
    """
    if not 0 < alpha < 1:
        raise VdtoError(f"alpha must be between 0 and 1 (got {alpha})", fix="use e.g. 0.05", param="alpha")
    n = 3
    while True:
        s = n * (n - 1) / 2
        var_s = n * (n - 1) * (2 * n + 5) / 18
        if 2.0 * norm.sf((s - 1) / np.sqrt(var_s)) <= alpha:
            return n
        n += 1
