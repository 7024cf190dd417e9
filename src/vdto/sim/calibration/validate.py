"""Posterior predictive histories, and how they compare with the real years: the fit inside the
calibration window and the validation on years the calibration never saw.

Each history is one parameter set drawn from the posterior (by weight) and one starting map,
run from the calibration's first year under its history policy, with nothing refitted.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from vdto.sim.calibration.estimate import Posterior, Setup
from vdto.sim.calibration.panel import Panel
from vdto.sim.calibration.simulated import simulated_panels
from vdto.sim.calibration.summaries import state_rank_correlation
from vdto.sim.engine import simulate
from vdto.sim.params import with_run
from vdto.sim.world import World


class _History:
    """One posterior draw's runs to ``last`` (picklable, for the workers)."""

    def __init__(self, world: World, setup: Setup, last: int, replicates: int) -> None:
        self.world, self.setup, self.last, self.replicates = world, setup, last, replicates

    def __call__(self, job: tuple[int, dict[str, float]]) -> list[Panel]:
        draw, values = job
        months = 12 * (self.last - self.setup.first + 1)
        sc = with_run(self.setup.scenario_for(values), replicates=self.replicates, months=months,
                      seed=self.setup.seed + 1000 + draw)  # fmt: skip
        return simulated_panels(simulate(self.world, sc, self.setup.policy, panel=True), self.world)


def predictive(world: World, posterior: Posterior, last: int, *, draws: int = 40, replicates: int = 4,
               seed: int = 1, map_: Callable | None = None) -> list[Panel]:  # fmt: skip
    """``draws x replicates`` histories from the calibration's first year to ``last``: each
    draw a parameter set from the posterior, each replicate a starting map (the draws' seeds
    differ, so the starting maps do too)."""
    setup = posterior.setup()
    jobs = list(enumerate(posterior.draws(draws, seed)))
    fn = _History(world, setup, last, replicates)
    results = (map_ or (lambda f, xs: list(map(f, xs))))(fn, jobs)
    return [p for panels in results for p in panels]


def national_table(panels: list[Panel], real: Panel, first: int, last: int) -> pd.DataFrame:
    """Per year: real homicides, the histories' median and 90% interval, whether the real value
    is inside, the relative error of the median, and Spearman's correlation of the state
    totals (the histories' mean against the real)."""
    rows = []
    for y in range(first, last + 1):
        sims = [p.window(y, y) for p in panels]
        values = np.array([s.national[0] for s in sims])
        r = real.window(y, y)
        lo, med, hi = np.quantile(values, [0.05, 0.5, 0.95])
        mean_state = Panel(years=r.years, national=np.array([values.mean()]),
                           state=np.mean([s.state for s in sims], axis=0), state_codes=r.state_codes)  # fmt: skip
        rows.append({
            "year": y, "real": float(r.national[0]), "source": str(r.notes.get("series", {}).get(y, r.source)).split(",")[0],
            "median": float(med), "lo90": float(lo), "hi90": float(hi),
            "inside": bool(lo <= r.national[0] <= hi), "error": float(med / r.national[0] - 1.0),
            "state_spearman": state_rank_correlation(mean_state, r),
        })  # fmt: skip
    return pd.DataFrame(rows)


def leaders_table(panels: list[Panel], real: Panel, first: int, last: int) -> pd.DataFrame:
    """Per year: the lineage with most attributed deaths in UCDP GED, and the share of
    histories in which the same lineage leads."""
    rows = []
    for y in range(first, last + 1):
        r = real.window(y, y)
        if r.lineage_deaths is None or not np.isfinite(r.lineage_deaths).all() or r.lineage_deaths.sum() <= 0:
            continue
        lead = int(np.argmax(r.lineage_deaths[0]))
        sims = [p.window(y, y).lineage_deaths for p in panels]
        agree = [int(np.argmax(s[0])) == lead for s in sims if s is not None and s.sum() > 0]
        rows.append({"year": y, "real_leader": r.lineages[lead],
                     "share_of_histories": float(np.mean(agree)) if agree else float("nan"),
                     "histories_with_deaths": len(agree)})  # fmt: skip
    return pd.DataFrame(rows)


def statistics_table(panels: list[Panel], real: Panel, first: int, last: int) -> pd.DataFrame:
    """Every summary statistic of ``first .. last``: the real value, the histories' median and
    90% interval, and whether the real value is inside."""
    from vdto.sim.calibration.summaries import common, summarize

    real_s = summarize(real.window(first, last))
    sims = [summarize(p.window(first, last)) for p in panels]
    rows = []
    for k in common(real_s, sims[0]):
        x = np.array([s[k] for s in sims], float)
        x = x[np.isfinite(x)]
        if not len(x):
            continue
        lo, med, hi = np.quantile(x, [0.05, 0.5, 0.95])
        rows.append({"statistic": k, "real": real_s[k], "median": float(med), "lo90": float(lo), "hi90": float(hi),
                     "inside": bool(lo <= real_s[k] <= hi)})  # fmt: skip
    return pd.DataFrame(rows)


def coverage(table: pd.DataFrame) -> float:
    """The share of years whose real value lies in the 90% interval."""
    return float(table["inside"].mean()) if len(table) else float("nan")


__all__ = ["coverage", "leaders_table", "national_table", "predictive", "statistics_table"]
