"""Placebo dates: the same event study with every intervention moved to a random earlier date.

Each draw gives every treated unit a fake start month drawn uniformly among the months whose
whole placebo window (``-pre .. window end``) lies inside the panel and ends before the unit's
real intervention, so no placebo estimate can pick up a real effect; units with no such month
sit the draw out. The estimates should centre on zero; the share of draws at least as far
from zero as the real estimate is a randomization p-value. Draws are reproducible from the
seed (one named NumPy stream).

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(1)
>>> Y = rng.poisson(4.0, size=(80, 60)).astype(float)
>>> start = np.full(80, -1); start[:8] = 48; Y[:8, 48:] += 4
>>> d = placebo_dates(Y, start, pre=12, post=6, window=(0, 5), draws=50, seed=7)
>>> len(d), bool(abs(np.mean(d)) < 1.0)
(50, True)
"""

from __future__ import annotations

import numpy as np

from vdto.evaluation.eventstudy import pooled_estimate

#: The named stream placebo dates draw from (mixed with the seed).
STREAM = 0x706C6163


def placebo_dates(Y: np.ndarray, start: np.ndarray, *, controls: np.ndarray | None = None, pre: int = 12,
                  post: int = 24, window: tuple[int, int] = (0, 11), draws: int = 200,
                  seed: int = 0, base: str = "pre") -> np.ndarray:  # fmt: skip
    """Pooled estimates of ``draws`` placebo-date event studies (NaN where no unit could move)."""
    start = np.asarray(start, dtype=np.int64)
    rng = np.random.default_rng([seed, STREAM])
    treated = np.flatnonzero(start >= 0)
    lo = pre
    hi = start[treated] - window[1] - 1  # the placebo window ends before the real start
    ctl = (start < 0) if controls is None else (np.asarray(controls, dtype=bool) & (start < 0))
    out = np.full(draws, np.nan)
    for d in range(draws):
        fake = np.full_like(start, -1)
        u = rng.random(len(treated))
        span = hi - lo + 1
        can = span > 0
        fake[treated[can]] = lo + np.floor(u[can] * span[can]).astype(np.int64)
        if can.any():
            out[d] = pooled_estimate(Y, fake, controls=ctl, pre=pre, post=post, window=window, base=base)
    return out


def randomization_p(estimate: float, placebos: np.ndarray) -> float:
    """Share of placebo draws at least as far from zero as ``estimate`` (the real estimate
    counted as one draw, so the smallest p is ``1 / (draws + 1)``)."""
    p = placebos[np.isfinite(placebos)]
    return float((1 + np.sum(np.abs(p) >= abs(estimate))) / (len(p) + 1))


__all__ = ["placebo_dates", "randomization_p"]
