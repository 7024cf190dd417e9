"""Calibrating the simulator on the bundled real data: what ``vdto calibrate`` and the docs'
script run (the shells parse and print; every rule is here or in :mod:`vdto.sim.calibration`)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from vdto.errors import VdtoError
from vdto.sim.calibration.estimate import DEFAULT_FREE, Free, Posterior, Setup, calibrate
from vdto.sim.calibration.panel import Panel
from vdto.sim.calibration.real import check_window as check_years
from vdto.sim.calibration.real import real_panel
from vdto.sim.calibration.validate import (
    coverage,
    leaders_table,
    national_table,
    predictive,
    statistics_table,
)
from vdto.sim.params import START_YEARS, Scenario
from vdto.sim.runner import mapper, world_for
from vdto.sim.world import World


@dataclass(frozen=True)
class Where:
    """Where the evaluations run: local processes, a Dask LocalCluster or a Dask scheduler."""

    workers: int | None = None
    dask: bool = False
    scheduler: str | None = None


def real_for(world: World, first: int, last: int) -> Panel:
    """The real panel of ``first .. last`` for a world of Mexico (states, municipalities and
    lineages as the world has them)."""
    return real_panel(
        first, last, state_codes=tuple(world.state_codes), municipal_codes=tuple(str(c) for c in world.codes),
        lineages=tuple(world.org_ids), start_year=world.start_year,
    )  # fmt: skip


def check_window(scenario: Scenario, first: int, last: int) -> None:
    if scenario.world.kind != "default":
        raise VdtoError(
            "a calibration needs the world of Mexico", fix='use a scenario with [world] kind = "default"',
            param="world.kind",
        )  # fmt: skip
    lo, hi = START_YEARS
    if not lo <= first <= hi:
        raise VdtoError(f"the world cannot start in {first}", fix=f"give --from between {lo} and {hi}",
                        param="from")  # fmt: skip
    check_years(first, last)


def run_calibration(
    scenario: Scenario,
    first: int,
    last: int,
    *,
    db: Path,
    where: Where = Where(),
    free: tuple[Free, ...] = DEFAULT_FREE,
    population: int = 100,
    generations: int = 6,
    replicates: int = 16,
    seed: int = 1,
    log: Callable[[str], None] | None = None,
) -> Posterior:
    """Calibrate ``free`` on Mexico ``first .. last`` (the world starts in ``first``)."""
    check_window(scenario, first, last)
    setup = Setup(scenario, first, last, free=free, replicates=replicates, seed=seed)
    world = world_for(setup.base())
    real = real_for(world, first, last)
    with mapper(where.workers, dask=where.dask, scheduler=where.scheduler) as m:
        post = calibrate(world, setup, real, population=population, generations=generations, db=db,
                         mapper_map=m.map, log=log)  # fmt: skip
    post.meta["world_sha256"] = world.sha256()
    return post


@dataclass
class Validation:
    """Posterior predictive histories against the real years ``first .. last``."""

    national: pd.DataFrame  # per year real, median, 90% interval, inside, error, state_spearman
    leaders: pd.DataFrame  # per year the real leading lineage and the share of histories agreeing
    statistics: pd.DataFrame  # every summary statistic of the years: real, median, 90% interval, inside
    coverage: float
    histories: int
    meta: dict


def run_validation(posterior: Posterior, first: int, last: int, *, draws: int = 40, replicates: int = 4,
                   seed: int = 1, where: Where = Where(),
                   progress: Callable[[int], None] | None = None) -> Validation:  # fmt: skip
    """Run ``draws x replicates`` posterior predictive histories from the calibration's first
    year to ``last`` and compare ``first .. last`` with the real panel (nothing refitted)."""
    setup = posterior.setup()
    check_window(setup.scenario, first, last)
    if first < setup.first:
        raise VdtoError(
            f"the histories start in {setup.first}, the calibration's first year",
            fix=f"give --from {setup.first} or later", param="from",
        )  # fmt: skip
    world = world_for(setup.base())
    real = real_for(world, first, last)
    with mapper(where.workers, dask=where.dask, scheduler=where.scheduler) as m:
        panels = predictive(world, posterior, last, draws=draws, replicates=replicates, seed=seed,
                            map_=functools.partial(m.map, progress=progress))  # fmt: skip
    nat = national_table(panels, real, first, last)
    meta = {**{k: posterior.meta[k] for k in ("scenario_sha256", "first", "last", "policy", "seed")},
            "world_sha256": world.sha256(), "draws": draws, "replicates": replicates, "predictive_seed": seed,
            "fit_years": f"{setup.first}-{setup.last}", "unit": "homicides (people) per year"}  # fmt: skip
    return Validation(nat, leaders_table(panels, real, first, last), statistics_table(panels, real, first, last),
                      coverage(nat), len(panels), meta)  # fmt: skip


@dataclass
class CalibrationView:
    """What the report shows of a calibration: the posterior, the fit, the claims."""

    summary: pd.DataFrame  # parameter, prior, mean, q05, median, q95
    fit: pd.DataFrame  # year, real, median, lo90, hi90, inside (homicides per year)
    claims: pd.DataFrame  # vdto.sim.claims.claims over the posterior
    meta: dict


def calibration_view(posterior: Posterior | Path | str, *, draws: int = 10, replicates: int = 2,
                     claim_draws: int = 10, claim_replicates: int = 40, months: int = 60,
                     workers: int | None = None) -> CalibrationView:  # fmt: skip
    """The posterior's summary, a small posterior predictive fit of its window and the claims
    over it on its scenario's own world (sizes kept small: the report is not the place for the
    full runs of docs/calibration.md and docs/claims.md)."""
    from vdto.sim.claims import claims
    from vdto.sim.params import with_run

    post = posterior if isinstance(posterior, Posterior) else Posterior.read(posterior)
    setup = post.setup()
    v = run_validation(
        post, setup.first, setup.last, draws=draws, replicates=replicates, where=Where(workers)
    )
    summary = post.summary()
    prior = {f.name: f"{f.low:.3g}-{f.high:.3g}" for f in setup.free}
    summary.insert(1, "prior", summary["parameter"].map(prior))
    sc = with_run(setup.scenario, replicates=claim_replicates, months=months, seed=setup.seed)
    world = world_for(sc)
    table = claims(world, sc, workers=workers, draws=post.draws(claim_draws, setup.seed))
    meta = {"fit": f"{setup.first}-{setup.last}", "generations": post.meta.get("generations"),
            "simulations": post.meta.get("simulations"), "scenario_sha256": post.meta.get("scenario_sha256"),
            "claims_world": world.label, "claims_runs": max(1, claim_replicates // claim_draws) * claim_draws,
            "fit_histories": v.histories, "coverage90": v.coverage, "months": months}  # fmt: skip
    return CalibrationView(summary, v.national, table, meta)


__all__ = [
    "CalibrationView",
    "Validation",
    "Where",
    "calibration_view",
    "check_window",
    "real_for",
    "run_calibration",
    "run_validation",
]
