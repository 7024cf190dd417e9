"""Synthetic control for one treated unit, with placebo-in-space inference (pysyncon's ``Synth``).

The treated unit's outcome before the intervention is matched by a weighted mix of donor units
(Abadie, Diamond & Hainmueller 2010): predictors are the outcome's means over consecutive
blocks of the pre-period (six blocks, weighed equally: pysyncon's ``custom_V``, which keeps
every fit, the placebos' included, to the same rule and to a fraction of a second). The donors are the
``donors`` control units whose pre-period mean outcome is closest to the treated unit's (a
mix can only reproduce levels it has). The effect is the gap between the unit and its
synthetic twin after the intervention. Inference repeats the fit with every donor in turn as
the treated unit (placebo in space): the p-value is the rank of the treated unit's ratio of
post- to pre-intervention root mean squared gap among all of them.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(2)
>>> base = rng.gamma(4.0, 1.0, size=(30, 1)) * (1 + 0.02 * np.arange(48))[None, :]
>>> Y = base + rng.normal(0, 0.3, size=(30, 48)); Y[0, 36:] += 3.0
>>> sc = synthetic_control(Y, 0, 36, pre=24, post=12, donors=12, placebos=True)
>>> bool(sc.effect > 2.0), sc.rank, len(sc.placebos)
(True, 1, 12)
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class SyntheticControl:
    """The fit: months ``-pre .. post`` with the unit's outcome, its synthetic twin and the gap;
    donor weights; the mean post-period gap (``effect``) and as a percent of the synthetic
    outcome; root mean squared gaps before and after; and the placebo-in-space results (one
    row per donor: its ratio of post- to pre-period RMSPE and its post-period gap), the treated
    unit's rank among them (1 = largest ratio) and the p-value ``rank / (donors + 1)``."""

    path: pd.DataFrame
    weights: pd.Series
    effect: float
    percent: float
    rmspe_pre: float
    rmspe_post: float
    placebos: pd.DataFrame
    rank: int
    p_value: float


def _blocks(pre: int) -> list[slice]:
    size = max(1, pre // 6)
    return [slice(a, min(a + size, pre)) for a in range(0, pre, size)]


def _fit(y1: np.ndarray, Y0: np.ndarray, pre: int) -> np.ndarray:
    """Donor weights for one treated series ``y1`` (months) on donors ``Y0`` (donors x months)."""
    from pysyncon import Synth

    blocks = _blocks(pre)
    names = [f"d{i}" for i in range(Y0.shape[0])]
    X0 = pd.DataFrame(np.array([[row[b].mean() for row in Y0] for b in blocks]), columns=names)
    X1 = pd.Series([y1[b].mean() for b in blocks], name="treated")
    Z0 = pd.DataFrame(Y0[:, :pre].T, columns=names)
    Z1 = pd.Series(y1[:pre], name="treated")
    model = Synth()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X0=X0, X1=X1, Z0=Z0, Z1=Z1, custom_V=np.full(len(blocks), 1.0 / len(blocks)))
    return np.asarray(model.W, dtype=float)


def _rmspe(gap: np.ndarray) -> float:
    return float(np.sqrt(np.mean(gap**2))) if len(gap) else float("nan")


def synthetic_control(Y: np.ndarray, unit: int, start: int, *, pre: int = 36, post: int = 24,
                      controls: np.ndarray | None = None, donors: int = 40, placebos: bool = True,
                      names: list[str] | None = None) -> SyntheticControl:  # fmt: skip
    """Fit the synthetic control of ``Y[unit]`` for an intervention in month ``start``.

    ``controls`` marks the units allowed as donors (default: all others); ``donors`` keeps the
    closest of them by pre-period mean outcome; ``names`` labels the weights (default: indices).
    """
    Y = np.asarray(Y, dtype=float)
    T = Y.shape[1]
    if start - pre < 0:
        raise ValueError(f"the pre-period ({pre} months) starts before the panel")
    end = min(start + post, T - 1)
    cols = np.arange(start - pre, end + 1)
    ok = np.ones(Y.shape[0], dtype=bool) if controls is None else np.asarray(controls, dtype=bool).copy()
    ok[unit] = False
    pool = np.flatnonzero(ok)
    if len(pool) < 2:
        raise ValueError("synthetic control needs at least two donor units")
    level = Y[unit, start - pre : start].mean()
    dist = np.abs(Y[pool][:, start - pre : start].mean(axis=1) - level)
    pool = pool[np.argsort(dist, kind="stable")[:donors]]
    series = Y[:, cols]
    w = _fit(series[unit], series[pool], pre)
    synth = w @ series[pool]
    gap = series[unit] - synth
    effect = float(gap[pre:].mean())
    base = float(synth[pre:].mean())
    rows = []
    if placebos:
        for j, d in enumerate(pool):
            others = np.delete(pool, j)
            wd = _fit(series[d], series[others], pre)
            g = series[d] - wd @ series[others]
            rows.append({"unit": names[d] if names else int(d), "ratio": _rmspe(g[pre:]) / max(_rmspe(g[:pre]), 1e-12),
                         "effect": float(g[pre:].mean())})  # fmt: skip
    ratio = _rmspe(gap[pre:]) / max(_rmspe(gap[:pre]), 1e-12)
    table = pd.DataFrame(rows, columns=["unit", "ratio", "effect"])
    rank = int(1 + (table["ratio"] >= ratio).sum()) if len(table) else 1
    label = [names[d] if names else int(d) for d in pool]
    return SyntheticControl(
        path=pd.DataFrame({"event_time": cols - start, "unit": series[unit], "synthetic": synth, "gap": gap}),
        weights=pd.Series(w, index=label, name="weight").sort_values(ascending=False),
        effect=effect, percent=100 * effect / base if base > 0 else float("nan"),
        rmspe_pre=_rmspe(gap[:pre]), rmspe_post=_rmspe(gap[pre:]), placebos=table, rank=rank,
        p_value=rank / (len(table) + 1),
    )  # fmt: skip


__all__ = ["SyntheticControl", "synthetic_control"]
