"""A kingpin event study on simulated municipal panels, as Lindo & Padilla-Romo (2018) ran one
on Mexico's: homicides in the capture municipality and in the same organization's neighbouring
municipalities, before and after a leader's capture, against the municipalities without one.

Each strike of the kingpin policy is an intervention: its capture municipality is the struck
organization's most populous plaza, its neighbours the organization's plazas bordering it
(``Outputs.strike_role`` of a run with ``panel="monthly"``). Each replicate's monthly
municipal panel goes through the estimator that ``vdto evaluate`` runs on INEGI's
(:func:`vdto.evaluation.eventstudy.event_study`: Callaway-Sant'Anna with never-treated
controls, the pre-period's mean as base), one design for the capture municipalities (months
0 to 11) and one for the neighbours (months 0 to 5), each municipality treated from its first
strike and the municipalities never struck as controls. The percent effect of a replicate is
its pooled effect over the treated municipalities' mean before. Lindo & Padilla-Romo find
about +80% in the capture municipality over 12 months and +30% in the same organization's
neighbouring municipalities over 6 months (working-paper figures).

>>> from vdto.sim.params import Scenario
>>> from vdto.sim.world import grid_world
>>> sc = Scenario.model_validate({"run": {"months": 48, "replicates": 2}})
>>> t = kingpin_event_study(grid_world(6, 6, 3), sc, workers=1)
>>> list(t["estimate"])
['capture municipality, 12 months', 'same-organization neighbours, 6 months']
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from vdto.evaluation.eventstudy import event_study
from vdto.sim.engine import Outputs, simulate
from vdto.sim.params import Scenario
from vdto.sim.runner import mapper
from vdto.sim.world import World

PRE, POST = 12, 24
#: Lindo & Padilla-Romo (2018): the capture municipality's homicides over the 12 months after a
#: capture, and the same organization's neighbouring municipalities' over 6 months.
PUBLISHED = {"capture": 0.80, "neighbours": 0.30}


def replicate_effects(out: Outputs) -> np.ndarray:
    """Per replicate, the percent effects (as fractions) on the capture municipalities over 12
    months and on the neighbours over 6 ``(R, 2)``; NaN where a replicate has no such unit."""
    H, role = out.homicides_municipal, out.strike_role
    if role.shape[1] == 0:
        raise ValueError("the run has no strike roles: simulate with panel='monthly'")
    R = H.shape[0]
    res = np.full((R, 2), np.nan)
    for r in range(R):
        Y = H[r].T.astype(np.float64)  # municipalities x months
        struck = (role[r] > 0).any(axis=0)
        for j, (code, window) in enumerate(((1, (0, 11)), (2, (0, 5)))):
            hit = role[r] == code
            start = np.where(hit.any(axis=0), hit.argmax(axis=0), -1)
            if not (start >= PRE).any():
                continue
            es = event_study(Y, start, controls=~struck, pre=PRE, post=POST, window=window)
            res[r, j] = es.pooled["percent"] / 100
    return res


class _Chunk:
    """One parameter set's replicates -> their event sums (picklable; the monthly panel stays in
    the worker)."""

    def __init__(self, world: World, policy: str) -> None:
        self.world, self.policy = world, policy

    def __call__(self, job: tuple[Scenario, int, int]) -> np.ndarray:
        sc, first, n = job
        return replicate_effects(
            simulate(self.world, sc, self.policy, replicates=n, first=first, panel="monthly")
        )


def kingpin_event_study(world: World, scenario: Scenario, *, draws: list[dict[str, float]] | None = None,
                        workers: int | None = None, policy: str = "kingpin",
                        map_: Callable | None = None) -> pd.DataFrame:  # fmt: skip
    """The event study over the scenario's replicates (shared among ``draws`` of a posterior,
    each with its own starting maps): per estimate, the mean and the median percent effect over
    replicates with its 90% interval, the share of replicates in which homicides rose, the
    replicates counted, and the published figure."""
    R = scenario.run.replicates
    if draws:
        per = max(1, R // len(draws))
        jobs = [(scenario.with_values(d), i * per, per) for i, d in enumerate(draws)]
    else:
        jobs = [(scenario, f, min(50, R - f)) for f in range(0, R, 50)]
    fn = _Chunk(world, policy)
    if map_ is None:
        with mapper(workers) as m:
            parts = m.map(fn, jobs)
    else:
        parts = list(map_(fn, jobs))
    eff = np.concatenate(parts)
    rows = []
    for j, (name, key) in enumerate((("capture municipality, 12 months", "capture"),
                                     ("same-organization neighbours, 6 months", "neighbours"))):  # fmt: skip
        per_rep = eff[:, j][np.isfinite(eff[:, j])]
        lo, med, hi = np.quantile(per_rep, [0.05, 0.5, 0.95]) if len(per_rep) else (np.nan,) * 3
        rows.append({"estimate": name, "mean": float(per_rep.mean()) if len(per_rep) else np.nan,
                     "median": float(med), "lo90": float(lo), "hi90": float(hi),
                     "share_rising": float(np.mean(per_rep > 0)) if len(per_rep) else np.nan,
                     "replicates": len(per_rep), "published": PUBLISHED[key]})  # fmt: skip
    return pd.DataFrame(rows)


__all__ = ["POST", "PRE", "PUBLISHED", "kingpin_event_study", "replicate_effects"]
