"""A staggered-adoption event study: the effect of interventions on a unit-by-month panel.

The estimator is Callaway & Sant'Anna's (2021) group-time average treatment effect on the
treated with never-treated units as the comparison group, aggregated by event time; with
never-treated controls this is also Sun & Abraham's (2021) interaction-weighted estimator.
For a unit ``i`` first treated in month ``g`` and event time ``e`` (months since ``g``)::

    C_i(e) = [Y_i(g + e) - B_i(g)] - mean over controls c of [Y_c(g + e) - B_c(g)]
    theta(e) = mean of C_i(e) over the treated units observed at e

where the base ``B(g)`` is either month ``g - 1`` (``base="last"``: Callaway & Sant'Anna's
universal base period, exactly the saturated regression ``y ~ cohort x event-time dummies |
unit + month`` on the treated units' event windows and the never-treated units; the test suite
checks point estimates and standard errors against pyfixest's ``feols`` on it) or the mean of
months ``g - pre .. g - 1`` (``base="pre"``, the default: the mean of those regressions with
each pre-period month in turn as the reference, so that one noisy month before an
intervention cannot move every estimate). The pooled effect over a window ``a..b`` is the mean of ``theta(e)`` over it
(Callaway & Sant'Anna's dynamic aggregation).

Inference treats units as independent clusters: each estimate is a linear function of every
unit's outcomes, and its variance is the sum of the squared per-unit influence functions
(treated and control units alike, with the small-sample factor ``G / (G - 1)`` of each
group), with a Student t interval on ``n_treated - 1`` degrees of freedom. Since each
treated unit's contrast is one draw, a lone treated unit in a cohort (one municipality per
capture date, the usual case) does not need a variance of its own. The percent effect divides
by the treated units' mean outcome over the pre-period (months ``-pre .. -1``), with the
delta method for its interval.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> Y = rng.poisson(5.0, size=(60, 48)).astype(float)
>>> Y[:10, 24:] += 3.0                        # ten units treated in month 24, +3 a month
>>> start = np.full(60, -1); start[:10] = 24
>>> res = event_study(Y, start, pre=12, post=12, window=(0, 11))
>>> round(res.pooled["estimate"], 1), res.pooled["treated"], res.pooled["controls"]
(3.1, 10, 50)
>>> bool(res.pooled["lo"] < 3.0 < res.pooled["hi"])
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

#: Event-time columns of :attr:`EventStudy.table`.
#: What each month is compared with (see :func:`event_study`).
BASES = ("pre", "last")
TABLE_COLUMNS = ["event_time", "estimate", "se", "lo", "hi", "percent", "percent_lo", "percent_hi", "treated"]


@dataclass(frozen=True)
class EventStudy:
    """An event study's estimates.

    ``table`` has one row per event time ``-pre .. post`` (see :data:`TABLE_COLUMNS`; the base
    month ``-1`` is zero by construction); ``pooled`` the effect over ``window`` with its
    interval, the percent effect, the treated units' baseline (mean outcome per unit and month
    before the intervention), the numbers of treated and control units and the units left
    out because their pre-period runs outside the panel.
    """

    table: pd.DataFrame
    pooled: dict
    window: tuple[int, int]
    level: float


@dataclass(frozen=True)
class _Contrasts:
    """Per treated unit, outcomes relative to the base month and the controls' mean change."""

    C: np.ndarray  # (n_treated, E) treated change minus the controls' mean change, NaN outside
    base: np.ndarray  # (n_treated,) mean outcome over the pre-period
    cohort: np.ndarray  # (n_treated,) start month of each treated unit
    Yc: np.ndarray  # (n_controls, T)
    base_kind: str


def _check(Y: np.ndarray, start: np.ndarray, controls: np.ndarray | None, pre: int, post: int,
           window: tuple[int, int], level: float, base: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    if base not in BASES:
        raise ValueError(f"base must be one of {BASES} (got {base!r})")
    Y = np.asarray(Y, dtype=np.float64)
    start = np.asarray(start, dtype=np.int64)
    if Y.ndim != 2 or start.shape != (Y.shape[0],):
        raise ValueError(f"Y must be units x months and start one per unit (got {Y.shape}, {start.shape})")
    if pre < 1 or post < 0:
        raise ValueError(f"pre must be at least 1 and post at least 0 (got {pre}, {post})")
    if not 0 <= window[0] <= window[1] <= post:
        raise ValueError(f"the window must lie in 0 .. {post} (got {window})")
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1 (got {level})")
    if not np.isfinite(Y).all():
        raise ValueError("Y has missing or infinite outcomes")
    ctl = start < 0 if controls is None else np.asarray(controls, dtype=bool) & (start < 0)
    return Y, start, ctl


def _base(Y: np.ndarray, g: np.ndarray | int, pre: int, base: str) -> np.ndarray:
    """Each row's outcome in the base period of an intervention in month ``g``: month ``g - 1``
    or the mean of months ``g - pre .. g - 1``."""
    gs = np.broadcast_to(np.asarray(g, dtype=np.int64), (Y.shape[0],))
    rows = np.arange(Y.shape[0])
    if base == "last":
        return Y[rows, gs - 1]
    return Y[rows[:, None], gs[:, None] + np.arange(-pre, 0)[None, :]].mean(axis=1)


def _contrasts(
    Y: np.ndarray, start: np.ndarray, ctl: np.ndarray, pre: int, post: int, base: str
) -> _Contrasts:
    T = Y.shape[1]
    treated = np.flatnonzero((start >= pre) & (start < T))
    g = start[treated]
    offsets = np.arange(-pre, post + 1)
    cols = g[:, None] + offsets[None, :]
    inside = cols < T
    cols_c = np.minimum(cols, T - 1)
    Yt = Y[treated]
    rows = np.arange(len(treated))[:, None]
    D = np.where(inside, Yt[rows, cols_c] - _base(Yt, g, pre, base)[:, None], np.nan)
    Yc = Y[ctl]
    # the controls' mean change by cohort (one column set per distinct start month)
    mean_c = np.empty_like(D)
    for gk in np.unique(g):
        cc = np.minimum(gk + offsets, T - 1)
        mean_c[g == gk] = Yc[:, cc].mean(axis=0) - _base(Yc, int(gk), pre, base).mean()
    C = np.where(inside, D - mean_c, np.nan)
    level = Yt[rows, g[:, None] + np.arange(-pre, 0)[None, :]].mean(axis=1)
    return _Contrasts(C=C, base=level, cohort=g, Yc=Yc, base_kind=base)


def _observed(weights: np.ndarray, n_e: np.ndarray) -> np.ndarray:
    """The weights of the event times some treated unit reaches, rescaled to the same total
    (a window cut by the panel's end averages the months it has)."""
    w = np.where(n_e > 0, weights, 0.0)
    return w * (weights.sum() / w.sum()) if w.sum() > 0 else w


def _influence(
    con: _Contrasts, weights: np.ndarray, pre: int, T: int
) -> tuple[float, np.ndarray, np.ndarray]:
    """The estimate ``sum_e weights[e] theta(e)`` and its per-unit influence (treated, controls).

    ``weights`` has one entry per event time ``-pre .. post``; event times no treated unit
    reaches carry no weight."""
    C = con.C
    obs = np.isfinite(C)
    n_e = obs.sum(axis=0)
    w = _observed(weights, n_e)
    theta = np.where(n_e > 0, np.nansum(C, axis=0) / np.maximum(n_e, 1), 0.0)
    est = float(w @ theta)
    coef = np.where(obs, (w / np.maximum(n_e, 1))[None, :], 0.0)  # d est / d C_i(e)
    psi_t = np.nansum(coef * (np.nan_to_num(C) - theta[None, :]) * obs, axis=1)
    # a control unit's share: minus its change (around the controls' mean) times the weight
    # every treated unit of each cohort gives it
    offsets = np.arange(-pre, C.shape[1] - pre)
    Yc = con.Yc
    psi_c = np.zeros(Yc.shape[0])
    if Yc.shape[0]:
        for gk in np.unique(con.cohort):
            a = coef[con.cohort == gk].sum(axis=0)  # (E,)
            if not a.any():
                continue
            cols = np.minimum(gk + offsets, T - 1)
            dc = Yc[:, cols] - _base(Yc, int(gk), pre, con.base_kind)[:, None]
            dc = dc - dc.mean(axis=0, keepdims=True)
            psi_c -= dc @ a / Yc.shape[0]
    return est, psi_t, psi_c


def _variance(psi_t: np.ndarray, psi_c: np.ndarray) -> float:
    v = 0.0
    for psi in (psi_t, psi_c):
        n = len(psi)
        if n > 1:
            v += float(psi @ psi) * n / (n - 1)
    return v


def _interval(est: float, var: float, df: int, level: float) -> tuple[float, float, float]:
    se = float(np.sqrt(var))
    q = float(stats.t.ppf(0.5 + level / 2, df)) if df > 0 else np.inf
    return se, est - q * se, est + q * se


def _percent(est: float, psi_t: np.ndarray, psi_c: np.ndarray, con: _Contrasts, df: int,
             level: float) -> tuple[float, float, float]:  # fmt: skip
    """The estimate as a percent of the treated baseline, with the delta method's interval."""
    b = float(con.base.mean()) if len(con.base) else np.nan
    if not np.isfinite(b) or b <= 0:
        return np.nan, np.nan, np.nan
    r = est / b
    psi_b = (con.base - b) / len(con.base)
    var = _variance((psi_t - r * psi_b) / b, psi_c / b)
    _, lo, hi = _interval(r, var, df, level)
    return 100 * r, 100 * lo, 100 * hi


def event_study(
    Y: np.ndarray,
    start: np.ndarray,
    *,
    controls: np.ndarray | None = None,
    pre: int = 12,
    post: int = 24,
    window: tuple[int, int] = (0, 11),
    level: float = 0.9,
    base: str = "pre",
) -> EventStudy:
    """Estimate the effect of staggered interventions on a units x months panel.

    Parameters
    ----------
    Y
        Outcomes, units x months (e.g. homicides per 100,000 people in a month).
    start
        Per unit, the month index of its first intervention, or -1 for units never treated.
    controls
        Which never-treated units may serve as controls (default: all of them). Units near an
        intervention (neighbours, the same organization's plazas) are left out of the
        controls by the caller.
    pre, post
        Months before and after the intervention to estimate (``-pre .. post``). A treated
        unit needs its ``pre`` months inside the panel; months after the panel's end are
        simply not observed.
    window
        The event months ``a .. b`` pooled into one effect.
    level
        Confidence level of the intervals (0.9: 90%).
    base
        What each month is compared with: ``"pre"``, the unit's mean over months ``-pre .. -1``
        (one noisy month cannot move every estimate), or ``"last"``, month ``-1`` (Callaway &
        Sant'Anna's universal base period; the saturated regression's reference month).
    """
    Y, start, ctl = _check(Y, start, controls, pre, post, window, level, base)
    T = Y.shape[1]
    wanted = start >= 0
    left_out = int((wanted & ((start < pre) | (start >= T))).sum())
    con = _contrasts(Y, start, ctl, pre, post, base)
    n_t, E = con.C.shape
    rows = []
    df = n_t - 1
    for j, e in enumerate(range(-pre, post + 1)):
        n_e = int(np.isfinite(con.C[:, j]).sum()) if n_t else 0
        if n_e == 0 or ctl.sum() == 0:
            rows.append((e, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan, n_e))
            continue
        w = np.zeros(E)
        w[j] = 1.0
        est, psi_t, psi_c = _influence(con, w, pre, T)
        se, lo, hi = _interval(est, _variance(psi_t, psi_c), max(n_e - 1, 0), level)
        p, plo, phi = _percent(est, psi_t, psi_c, con, max(n_e - 1, 0), level)
        if e == -1 and base == "last":
            se, lo, hi, plo, phi = 0.0, 0.0, 0.0, 0.0, 0.0
        rows.append((e, est, se, lo, hi, p, plo, phi, n_e))
    table = pd.DataFrame(rows, columns=TABLE_COLUMNS)
    a, b = window
    w = np.zeros(E)
    w[a + pre : b + pre + 1] = 1.0 / (b - a + 1)
    pooled: dict = {"window": f"{a}..{b}", "treated": n_t, "controls": int(ctl.sum()), "left_out": left_out,
                    "baseline": float(con.base.mean()) if n_t else np.nan}  # fmt: skip
    if n_t and ctl.sum():
        est, psi_t, psi_c = _influence(con, w, pre, T)
        se, lo, hi = _interval(est, _variance(psi_t, psi_c), df, level)
        p, plo, phi = _percent(est, psi_t, psi_c, con, df, level)
        pooled.update(estimate=est, se=se, lo=lo, hi=hi, percent=p, percent_lo=plo, percent_hi=phi)
    else:
        pooled.update(estimate=np.nan, se=np.nan, lo=np.nan, hi=np.nan, percent=np.nan, percent_lo=np.nan,
                      percent_hi=np.nan)  # fmt: skip
    return EventStudy(table=table, pooled=pooled, window=window, level=level)


def pooled_estimate(Y: np.ndarray, start: np.ndarray, *, controls: np.ndarray | None = None, pre: int = 12,
                    post: int = 24, window: tuple[int, int] = (0, 11), base: str = "pre") -> float:  # fmt: skip
    """The pooled effect alone (what placebo draws need), as :func:`event_study` computes it."""
    Y, start, ctl = _check(Y, start, controls, pre, post, window, 0.9, base)
    con = _contrasts(Y, start, ctl, pre, post, base)
    if not con.C.shape[0] or not ctl.any():
        return float("nan")
    E = con.C.shape[1]
    a, b = window
    obs = np.isfinite(con.C)
    n_e = obs.sum(axis=0)
    theta = np.where(n_e > 0, np.nansum(con.C, axis=0) / np.maximum(n_e, 1), 0.0)
    w = np.zeros(E)
    w[a + pre : b + pre + 1] = 1.0 / (b - a + 1)
    return float(_observed(w, n_e) @ theta)


__all__ = ["TABLE_COLUMNS", "EventStudy", "event_study", "pooled_estimate"]
