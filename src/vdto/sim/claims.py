"""The claims of the strategy and of its critics, measured on the simulator: for each, the share
of runs (parameter sets x starting maps) in which it holds, the effect with its interval, and
a plain sentence of what the model says.

Every comparison is paired: the policies run on the same replicates (common random numbers),
each replicate with its own starting map and, with ``draws`` from a calibration's posterior,
its own parameter set, so a share is over parameter uncertainty and starting maps at once.

>>> from vdto.sim.params import Scenario
>>> from vdto.sim.world import grid_world
>>> sc = Scenario.model_validate({"run": {"months": 30, "replicates": 4}})
>>> table = claims(grid_world(6, 6, 3), sc, workers=1)
>>> len(table), list(table.columns[:3])
(6, ['claim', 'who', 'holds'])
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from vdto.sim.facts import WINDOW, _rivals_as_in, run_over
from vdto.sim.params import Scenario
from vdto.sim.world import World

POLICIES = ["none", "volume", "kingpin", "targeted", "regional", "caribbean"]


def verdict(share: float) -> str:
    """What a share of runs in which a claim holds lets the model say."""
    if share >= 0.9:
        return "supports"
    if share >= 0.5:
        return "supports, on most runs but not all,"
    if share > 0.1:
        return "does not support"
    return "contradicts"


#: Shares at which the verdict changes (:func:`verdict`).
THRESHOLDS = (0.1, 0.5, 0.9)


def share_interval(holds: int, n: int) -> tuple[float, float]:
    """Wilson's 90% interval of a share ``holds / n`` (the Monte Carlo error of a share over a
    finite number of runs)."""
    if n == 0:
        return (float("nan"), float("nan"))
    z = 1.6448536269514722
    p = holds / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (float(centre - half), float(centre + half))


def sentence(claim: str, share: float, interval: tuple[float, float] | None = None) -> str:
    """The plain sentence of a claim that holds in ``share`` of runs; when the share's interval
    straddles a threshold of :func:`verdict`, the sentence says the verdict is not settled.

    >>> sentence("Rivals lower their violence", 0.3)
    'The model does not support the claim that rivals lower their violence (it holds in 30% of runs).'
    """
    v = verdict(share)
    said = claim[0].lower() + claim[1:]
    where = f"it holds in {share:.0%} of runs"
    if interval is not None:
        lo, hi = interval
        where += f", {lo:.0%}-{hi:.0%} with the Monte Carlo error"
        if any(lo < t <= hi for t in THRESHOLDS):
            where += "; more runs could change the verdict"
    return f"The model {v} the claim that {said} ({where})."


def _row(claim: str, who: str, holds: np.ndarray, effect: np.ndarray, unit: str) -> dict:
    lo, med, hi = np.quantile(effect, [0.05, 0.5, 0.95])
    share = float(np.mean(holds))
    s_lo, s_hi = share_interval(int(np.sum(holds)), len(holds))
    return {"claim": claim, "who": who, "holds": share, "holds_lo90": s_lo, "holds_hi90": s_hi,
            "effect_median": float(med), "effect_lo90": float(lo), "effect_hi90": float(hi), "unit": unit,
            "sentence": sentence(claim, share, (s_lo, s_hi))}  # fmt: skip


def claims(world: World, scenario: Scenario, *, workers: int | None = None,
           draws: list[dict[str, float]] | None = None) -> pd.DataFrame:  # fmt: skip
    """One row per claim: ``claim``, ``who`` makes it, ``holds`` (share of runs), the effect's
    median and 90% interval (``effect_*``, in ``unit``), and the ``sentence`` for readers."""
    res = run_over(world, scenario, POLICIES, workers=workers, draws=draws, detail=True)
    T = scenario.run.months
    s = min(scenario.enforcement.start_month, T - 1)
    window = slice(s, min(s + WINDOW, T))
    per_month = {p: o.homicides[:, s:].mean(axis=1) for p, o in res.items()}
    focal = {p: o.focal_deaths[:, window].sum(axis=1) for p, o in res.items()}
    ratio = focal["kingpin"] / np.maximum(focal["none"], 1e-9)
    t, none = res["targeted"], res["none"]
    rivals = np.nanmean(t.rival_violence[:, window], axis=1) - _rivals_as_in(t, none, window)
    members = {p: o.members[:, -1] for p, o in res.items()}
    month = "homicides (people) a month, from the policy's start"
    rows = [
        _row("Announced targeting of the most violent organization lowers homicides below volume enforcement",
             "the strategy", per_month["targeted"] < per_month["volume"],
             per_month["targeted"] - per_month["volume"], f"{month}: targeted - volume"),
        _row("Rivals lower their violence after the most violent organization is named",
             "the strategy", rivals < 0, rivals,
             f"mean violence level (0-1) of the other organizations, {WINDOW} months after the announcement: "
             "targeted - none"),
        _row("Kingpin strikes raise homicides where the struck organization operates",
             "critics (Lindo & Padilla-Romo 2018; Calderón et al. 2015)", ratio > 1.0, ratio,
             f"ratio of homicides in the struck organization's plazas, {WINDOW} months, kingpin / none"),
        _row("Easing Caribbean interdiction lowers homicides in Mexico", "the strategy",
             per_month["caribbean"] < per_month["none"], per_month["caribbean"] - per_month["none"],
             f"{month}: caribbean - none"),
        _row("Targeting the most violent region lowers homicides more than targeting the most violent organization",
             "an alternative of the strategy", per_month["regional"] < per_month["targeted"],
             per_month["regional"] - per_month["targeted"], f"{month}: regional - targeted"),
        _row("More incapacitation raises cartel membership", "critics (Prieto-Curiel et al. 2023)",
             members["volume"] > members["none"], members["volume"] - members["none"],
             "members at the end of the run: volume - none"),
    ]  # fmt: skip
    return pd.DataFrame(rows)


__all__ = ["POLICIES", "THRESHOLDS", "claims", "sentence", "share_interval", "verdict"]
