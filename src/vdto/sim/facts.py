"""What the simulator says about the strategy, measured on paired replicates: the stylised
facts and the four-channel decomposition of the targeted policy's effect.

Each replicate draws its own starting map, so every share and interval here is over replicates
and starting maps at once. Two policies run on the same seed share every draw until the policy
starts (common random numbers), so the paired differences are differences of policy.

>>> from vdto.sim.params import Scenario
>>> from vdto.sim.world import grid_world
>>> sc = Scenario.model_validate({"run": {"months": 30, "replicates": 4}})
>>> sorted(stylised_facts(grid_world(6, 6, 3), sc, workers=1))[:2]
['kingpin_focal_ratio_median', 'kingpin_raises_focal']
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from vdto.sim.engine import Outputs
from vdto.sim.params import CHANNELS, Scenario
from vdto.sim.runner import run, run_draws
from vdto.sim.world import World

#: Months after the policy starts over which the facts are measured (Lindo & Padilla-Romo 2018
#: measure a capture's effect over 12 months).
WINDOW = 12
#: Months over which targeted and volume enforcement are compared.
HORIZON = 36


def _mean(x: np.ndarray, axis) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # dismantled organizations are nan
        return np.nanmean(x, axis=axis)


def run_over(world: World, scenario: Scenario, policies: list[str], *, workers: int | None = None,
             draws: list[dict[str, float]] | None = None, detail: bool = False) -> dict[str, Outputs]:  # fmt: skip
    """The policies on the scenario's replicates, or, with ``draws`` (parameter sets, e.g. from a
    calibration's posterior), on ``replicates / len(draws)`` replicates of each parameter set."""
    if not draws:
        return run(world, scenario, policies, workers=workers, detail=detail)
    per = max(1, scenario.run.replicates // len(draws))
    base = scenario.model_copy(update={"run": scenario.run.model_copy(update={"replicates": per})})
    return run_draws(world, [base.with_values(d) for d in draws], policies, workers=workers, detail=detail)


def stylised_facts(world: World, scenario: Scenario, *, workers: int | None = None) -> dict[str, float]:
    """The stylised facts of docs/model.md, each as the share of replicates in which it holds:

    * ``kingpin_raises_focal``: homicides in the plazas the largest organization held when the
      policy started, in the following :data:`WINDOW` months, higher under kingpin than under no
      policy (``kingpin_focal_ratio_median``: the median ratio; Lindo & Padilla-Romo 2018 find
      about 1.8 in a capture's municipality);
    * ``targeted_below_volume``: fewer homicides by month :data:`HORIZON` under targeted than
      under volume enforcement;
    * ``rivals_lower_than_none``: the organizations other than the first target less violent in
      the :data:`WINDOW` months after the announcement than under no policy;
    * ``runner_up_lower_than_none``: the same for the runner-up of the score when the first
      target is named, the one the rule names next.
    """
    res = run(world, scenario, ["none", "volume", "kingpin", "targeted"], workers=workers, detail=True)
    s = min(scenario.enforcement.start_month, scenario.run.months - 1)
    window = slice(s, min(s + WINDOW, scenario.run.months))
    none, t = res["none"], res["targeted"]
    focal = {p: o.focal_deaths[:, window].sum(axis=1) for p, o in res.items()}
    ratio = focal["kingpin"] / np.maximum(focal["none"], 1e-9)
    h = min(HORIZON, scenario.run.months)
    by_h = {p: o.homicides[:, :h].sum(axis=1) for p, o in res.items()}
    rivals = t.rival_violence[:, window].mean(axis=1) < _rivals_as_in(t, none, window)
    return {
        "replicates": float(scenario.run.replicates),
        "kingpin_raises_focal": float(np.mean(ratio > 1.0)),
        "kingpin_focal_ratio_median": float(np.median(ratio)),
        "targeted_below_volume": float(np.mean(by_h["targeted"] < by_h["volume"])),
        "rivals_lower_than_none": float(np.mean(rivals)),
        "runner_up_lower_than_none": float(np.mean(_runner_up_lower(t, none, s, window))),
    }


def _rivals_as_in(t: Outputs, none: Outputs, window: slice) -> np.ndarray:
    """Under no policy, the mean violence of the same organizations ``t``'s rivals are (every
    alive organization but the targeted policy's first target)."""
    R = none.org_violence.shape[0]
    first = np.where(t.target[:, window.start] >= 0, t.target[:, window.start], t.focal)
    v = none.org_violence[:, window, :].copy()
    v[np.arange(R), :, first] = np.nan
    return _mean(_mean(v, 2), 1)


def _runner_up_lower(t: Outputs, none: Outputs, s: int, window: slice) -> np.ndarray:
    """Per replicate: is the runner-up of the true score when the first target is named less
    violent in the window under targeted than under no policy?"""
    R = t.homicides.shape[0]
    rows = np.arange(R)
    score = t.org_points[:, max(0, s - 11) : s + 1].sum(axis=1)
    score = np.where(np.isnan(t.org_violence[:, s]), -np.inf, score)
    score[rows, t.target[:, s].clip(0)] = -np.inf
    second = score.argmax(axis=1)
    mine = _mean(t.org_violence[rows, window, second], 1)
    theirs = _mean(none.org_violence[rows, window, second], 1)
    return mine < theirs


def channels(world: World, scenario: Scenario, *, workers: int | None = None,
             draws: list[dict[str, float]] | None = None) -> pd.DataFrame:  # fmt: skip
    """The targeted policy's effect on homicides (people per month, from the policy's start to the
    end of the run) against no policy, and what each channel contributes: the targeted policy
    run again with that channel off, on the same replicates and starting maps; a channel's
    contribution is the paired difference (targeted - targeted without it), negative when the
    channel lowers homicides. The remainder is what the channels do only together. With
    ``draws`` (parameter sets from a posterior), the replicates are shared among them
    (:func:`run_over`).

    Columns: ``effect``, ``mean``, ``median``, ``lo90``, ``hi90`` (over replicates),
    ``share_lower`` (replicates in which the term is negative).
    """
    s = min(scenario.enforcement.start_month, scenario.run.months - 1)
    base = run_over(world, scenario, ["none", "targeted"], workers=workers, draws=draws)
    after = {p: o.homicides[:, s:].mean(axis=1) for p, o in base.items()}
    rows = {"targeted - none": after["targeted"] - after["none"]}
    total = np.zeros_like(after["none"])
    for c in CHANNELS:
        off = run_over(
            world, scenario.with_channels(**{c: False}), ["targeted"], workers=workers, draws=draws
        )
        rows[c] = after["targeted"] - off["targeted"].homicides[:, s:].mean(axis=1)
        total += rows[c]
    rows["together (remainder)"] = rows["targeted - none"] - total
    out = []
    for name, x in rows.items():
        lo, mid, hi = np.quantile(x, [0.05, 0.5, 0.95])
        out.append({"effect": name, "mean": float(x.mean()), "median": float(mid), "lo90": float(lo),
                    "hi90": float(hi), "share_lower": float(np.mean(x < 0))})  # fmt: skip
    return pd.DataFrame(out)


__all__ = ["HORIZON", "WINDOW", "channels", "run_over", "stylised_facts"]
