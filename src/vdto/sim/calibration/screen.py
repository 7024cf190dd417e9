"""Global sensitivity of the calibration targets to the parameters: SALib's Morris elementary
effects over many candidates, then Sobol indices over the few that matter.

Every parameter varies on its prior's scale (log10 for log-uniform priors) and every
evaluation is the mean statistics of the same replicates (common random numbers), through the
same order-preserving map as the calibration (local processes or Dask).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from vdto.sim.calibration.estimate import Free, Setup, model_summaries
from vdto.sim.world import World

#: Candidates of the screen: every parameter of docs/model.md that is an assumption and can
#: move the history without a policy, each four times either side of its default.
CANDIDATES: tuple[Free, ...] = (
    Free("violence.attack_rate", 0.015, 0.24),
    Free("violence.deaths_per_clash", 3.0, 48.0),
    Free("violence.one_sided", 0.5, 8.0),
    Free("violence.cost", 0.15, 2.4),
    Free("violence.response", 1.5, 24.0),
    Free("violence.rival_share", 0.3, 0.95, log=False),
    Free("people.defection", 4.3e-8, 6.9e-7),
    Free("people.enforcement_split", 0.25, 4.0),
    Free("enforcement.crackdown", 1.25, 20.0),
    Free("enforcement.strike_hit", 0.0125, 0.2),
)


def targets(stats: dict[str, float], observed: dict[str, float]) -> dict[str, float]:
    """The targets the screen reports, from one parameter set's statistics: the level and the
    trend of national homicides (mean and last-minus-first of ``national_log_*``), the state
    distribution's distance from the real one (half the L1 distance of ``state_share_*``), how
    much it moved, concentration in municipalities, active groups, and the whole scaled
    distance is left to the calibration."""
    nat = sorted(k for k in stats if k.startswith("national_log_"))
    shares = [k for k in observed if k.startswith("state_share_")]
    out = {
        "national_level": float(np.mean([stats[k] for k in nat])),
        "national_trend": float(stats[nat[-1]] - stats[nat[0]]),
        "state_distance": float(0.5 * sum(abs(stats.get(k, 0.0) - observed[k]) for k in shares)),
    }
    for k in ("state_moved", "top10_share", "munis_over_10", "groups_last"):
        out[k] = float(stats.get(k, np.nan))
    lineage = [k for k in observed if k.startswith("lineage_share_")]
    if lineage:
        out["lineage_distance"] = float(0.5 * sum(abs(stats.get(k, 0.0) - observed[k]) for k in lineage))
    return out


def _problem(free: tuple[Free, ...]) -> dict:
    return {
        "num_vars": len(free),
        "names": [f.name for f in free],
        "bounds": [list(f.bounds()) for f in free],
    }


class _Eval:
    """One point of the design (prior scale) -> the targets (picklable, for the workers)."""

    def __init__(
        self, world: World, setup: Setup, free: tuple[Free, ...], observed: dict[str, float]
    ) -> None:
        self.world, self.setup, self.free, self.observed = world, setup, free, observed

    def __call__(self, x: np.ndarray) -> dict[str, float]:
        values = {f.name: f.to_value(v) for f, v in zip(self.free, x, strict=True)}
        return targets(model_summaries(self.world, self.setup, values), self.observed)


def _evaluate(world, setup, free, observed, X: np.ndarray, map_: Callable) -> pd.DataFrame:
    fn = _Eval(world, setup, free, observed)
    return pd.DataFrame(list(map_(fn, list(X))))


def _indices(
    problem: dict, X: np.ndarray, Y: pd.DataFrame, analyze: Callable, columns: tuple[str, ...]
) -> pd.DataFrame:
    """``analyze(y)`` for each target with some spread; one row per parameter and target with
    the ``columns`` of its result."""
    rows = []
    for target in Y.columns:
        y = Y[target].to_numpy(float)
        if not np.isfinite(y).all() or np.ptp(y) == 0:
            continue
        res = analyze(y)
        for i, name in enumerate(problem["names"]):
            rows.append({"parameter": name, "target": target, **{c: float(res[c][i]) for c in columns}})
    out = pd.DataFrame(rows)
    out.attrs["evaluations"] = len(X)
    return out


def morris(world: World, setup: Setup, observed: dict[str, float], *, free: tuple[Free, ...] = CANDIDATES,
           trajectories: int = 10, levels: int = 4, map_: Callable | None = None) -> pd.DataFrame:  # fmt: skip
    """Morris elementary effects (Campolongo et al. 2007's mu*), per parameter and target:
    columns parameter, target, mu_star, mu_star_conf, sigma. ``trajectories x (k + 1)``
    evaluations."""
    from SALib.analyze import morris as analyze
    from SALib.sample import morris as sample

    problem = _problem(free)
    X = sample.sample(problem, trajectories, num_levels=levels, seed=setup.seed)
    Y = _evaluate(world, setup, free, observed, X, map_ or (lambda f, xs: list(map(f, xs))))
    return _indices(problem, X, Y, lambda y: analyze.analyze(problem, X, y, num_levels=levels, seed=setup.seed),
                    ("mu_star", "mu_star_conf", "sigma"))  # fmt: skip


def sobol(world: World, setup: Setup, observed: dict[str, float], free: tuple[Free, ...], *, n: int = 64,
          map_: Callable | None = None) -> pd.DataFrame:  # fmt: skip
    """First-order and total Sobol indices (Saltelli's scheme, ``n x (k + 2)`` evaluations)
    per parameter and target: columns parameter, target, S1, S1_conf, ST, ST_conf."""
    from SALib.analyze import sobol as analyze
    from SALib.sample import sobol as sample

    problem = _problem(free)
    X = sample.sample(problem, n, calc_second_order=False, seed=setup.seed)
    Y = _evaluate(world, setup, free, observed, X, map_ or (lambda f, xs: list(map(f, xs))))
    return _indices(problem, X, Y, lambda y: analyze.analyze(problem, y, calc_second_order=False, seed=setup.seed),
                    ("S1", "S1_conf", "ST", "ST_conf"))  # fmt: skip


def ranking(table: pd.DataFrame) -> pd.Series:
    """Parameters by their largest normalised mu* over the targets (each target's mu* divided
    by its largest), most influential first."""
    t = table.copy()
    t["norm"] = t["mu_star"] / t.groupby("target")["mu_star"].transform("max")
    return t.groupby("parameter")["norm"].max().sort_values(ascending=False)


__all__ = ["CANDIDATES", "morris", "ranking", "sobol", "targets"]
