"""Policy comparisons on the simulator, as every shell runs them: ``vdto compare`` (and
``vdto simulate``/``vdto sweep``) on the command line, and the workbench's simulations through
the API. One path from a scenario's name to the comparison table, its provenance, the claims
and the chart, so the terminal and the browser show the same numbers for the same scenario,
seed and replicates.

Homicides are in people (:data:`vdto.sim.results.PEOPLE`; on the synthetic grid of ``small``,
people of a made-up world, not comparable with real counts); :func:`units` says so in words.

Examples
--------
>>> c = run_comparison("small", ["none", "targeted"], replicates=2, months=14, workers=1)
>>> list(c.table["policy"]), c.meta["seed"], c.meta["replicates"]
(['none', 'targeted'], 1, 2)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from vdto.errors import VdtoError
from vdto.sim.engine import Outputs
from vdto.sim.params import POLICIES, Scenario, check_policy, load_scenario, with_run
from vdto.sim.world import World

#: ``progress(done, total)``: replicates simulated so far and in all (every policy's, and the
#: claims' when they are asked for).
Progress = Callable[[int, int], None]

#: The policies the claims compare (each claim pits two of them; all run on the same replicates).
CLAIM_POLICIES: tuple[str, ...] = POLICIES


def scenario_names() -> tuple[str, ...]:
    """The bundled scenarios, by name (``default``: Mexico from real data; ``small``: a synthetic
    grid for quick runs).

    Returns
    -------
    tuple of str
        The names :func:`run_comparison` accepts besides a TOML file.

    Examples
    --------
    >>> "small" in scenario_names()
    True
    """
    from vdto.data import scenario_names as names

    return names()


def check_policies(policies: Sequence[str], param: str = "policies") -> list[str]:
    """The policies, each checked (``targeted+caribbean`` combines two); at least one.

    Parameters
    ----------
    policies
        Policy names: ``none``, ``volume``, ``kingpin``, ``targeted``, ``regional``, ``caribbean``
        or combinations with ``+``.
    param
        The parameter an error names.

    Returns
    -------
    list of str
        The policies, in the order given.

    Raises
    ------
    VdtoError
        No policy, an unknown one, or a policy given twice.

    Examples
    --------
    >>> check_policies(["none", "targeted+caribbean"])
    ['none', 'targeted+caribbean']
    """
    items = [str(p).strip() for p in policies]
    if not items:
        raise VdtoError("no policy given", fix="e.g. none,volume,targeted", param=param)
    for p in items:
        try:
            check_policy(p)
        except ValueError as exc:
            raise VdtoError(str(exc), fix="e.g. none,volume,kingpin,targeted", param=param) from None
    twice = sorted({p for p in items if items.count(p) > 1})
    if twice:
        raise VdtoError(f"policy {twice[0]!r} given twice", fix="name each policy once", param=param)
    return items


def load(
    scenario: str | Path, *, replicates: int | None = None, months: int | None = None, seed: int | None = None
) -> Scenario:
    """A scenario with its run options replaced where given (what every simulator command runs).

    Parameters
    ----------
    scenario
        A bundled scenario's name (:func:`scenario_names`) or a scenario TOML file.
    replicates, months, seed
        Override the scenario's ``[run]``; None keeps its own.

    Returns
    -------
    Scenario
        The validated scenario.

    Raises
    ------
    VdtoError
        A missing or invalid scenario file, or a bad run option (named).
    """
    return with_run(load_scenario(scenario), replicates=replicates, months=months, seed=seed)


def simulate_policies(
    scenario: Scenario,
    policies: Sequence[str],
    *,
    workers: int | None = None,
    dask: bool = False,
    scheduler: str | None = None,
    draws: list[dict[str, float]] | None = None,
    chunk_size: int | None = None,
    progress: Progress | None = None,
) -> tuple[World, dict[str, Outputs]]:
    """Build the scenario's world and run the policies on it, on paired replicates.

    Parameters
    ----------
    scenario
        The scenario (:func:`load`).
    policies
        The policies (:func:`check_policies`).
    workers
        Local processes (default: the CPU count; 1 runs in this process), or the Dask workers.
    dask, scheduler
        Run on a Dask ``LocalCluster`` or on the cluster at ``scheduler`` (same results).
    draws
        Parameter sets (from a calibration's posterior): the replicates are shared among them.
    chunk_size
        Replicates per task (default: as many as spread the work over the workers); smaller
        chunks report progress more often and never change a number.
    progress
        Called with ``(0, total)`` once the world is built, then ``(done, total)`` as replicates
        finish.

    Returns
    -------
    tuple of (World, dict)
        The world and the outputs per policy.
    """
    from vdto.sim.runner import run, run_draws, world_for

    world = world_for(scenario)
    pols = list(policies)
    if draws:
        per = max(1, scenario.run.replicates // len(draws))
        total = per * len(draws) * len(pols)
    else:
        total = scenario.run.replicates * len(pols)
    tick = _counter(progress, total)
    if draws:
        base = scenario.model_copy(update={"run": scenario.run.model_copy(update={"replicates": per})})
        scenarios = [base.with_values(d, where="posterior:") for d in draws]
        results = run_draws(
            world, scenarios, pols, workers=workers, dask=dask, scheduler=scheduler, progress=tick
        )
    else:
        results = run(world, scenario, pols, workers=workers, dask=dask, scheduler=scheduler,
                      chunk_size=chunk_size, progress=tick)  # fmt: skip
    return world, results


def _counter(progress: Progress | None, total: int) -> Callable[[int], None]:
    """The runner's ``progress(n)`` (``n`` more replicates done) as ``progress(done, total)``,
    called with ``(0, total)`` at once."""
    done = 0
    if progress is not None:
        progress(0, total)

    def tick(n: int) -> None:
        nonlocal done
        done += n
        if progress is not None:
            progress(done, total)

    return tick


@dataclass(frozen=True)
class Comparison:
    """What :func:`run_comparison` gives: the policies' outputs and what is shown of them.

    Attributes
    ----------
    scenario
        The scenario as run (its run options replaced).
    world
        The world the policies ran on.
    results
        Monthly outputs per policy (:class:`vdto.sim.engine.Outputs`).
    table
        :func:`vdto.sim.results.compare_table`: one row per policy, homicides in people with 90%
        intervals over replicates and the paired comparisons.
    meta
        The provenance: vdto version, scenario and world SHA-256, seed, replicates, months, unit
        (and the posterior's, when there is one).
    claims
        :func:`vdto.sim.claims.claims` on the same scenario and replicates, when asked for, with
        each claim's ``verdict`` (:func:`vdto.sim.claims.verdict` of the share of runs).
    charts
        Static SVG charts by name (``"monthly"``: :func:`vdto.sim.results.deaths_chart`), when
        asked for.
    """

    scenario: Scenario
    world: World
    results: dict[str, Outputs]
    table: pd.DataFrame
    meta: dict[str, Any]
    claims: pd.DataFrame | None = None
    charts: dict[str, str] = field(default_factory=dict)

    def chart(self) -> Any:
        """The monthly homicides chart (an Altair chart: a line per policy, a panel per policy with
        its 90% band), for :func:`vdto.render.charts.save_chart` or :func:`~vdto.render.charts.to_svg`."""
        from vdto.sim.results import deaths_chart

        return deaths_chart(self.results, self.meta)

    def long_frame(self) -> pd.DataFrame:
        """Every monthly output, one row per (policy, replicate, month)."""
        from vdto.sim.results import long_frame

        return long_frame(self.results)


def units(meta: dict[str, Any]) -> str:
    """What the table's homicides are, in words, from a run's provenance.

    Examples
    --------
    >>> units({"unit": "homicides (people) per month"})
    'homicides (people)'
    """
    from vdto.sim.results import deaths_words

    return deaths_words(meta)


def run_comparison(
    scenario: str | Path,
    policies: Sequence[str],
    replicates: int | None = None,
    seed: int | None = None,
    workers: int | None = None,
    *,
    months: int | None = None,
    dask: bool = False,
    scheduler: str | None = None,
    posterior: str | Path | None = None,
    draws: int = 20,
    claims: bool = False,
    charts: bool = False,
    chunk_size: int | None = None,
    progress: Progress | None = None,
) -> Comparison:
    """Compare policies on paired replicates (common random numbers): ``vdto compare``.

    Parameters
    ----------
    scenario
        A bundled scenario's name (``default``, ``small``) or a scenario TOML file.
    policies
        The policies to compare (:func:`check_policies`).
    replicates, seed, months
        Override the scenario's ``[run]``; None keeps its own.
    workers
        Local processes (default: the CPU count; 1 runs in this process), or the Dask workers.
    dask, scheduler
        Run on a Dask ``LocalCluster`` or on the cluster at ``scheduler`` (same results).
    posterior
        A calibration's posterior (``vdto calibrate``): the replicates are shared among ``draws``
        parameter sets drawn from it, so the intervals carry parameter uncertainty.
    draws
        With ``posterior``: the parameter sets drawn.
    claims
        Also measure the claims (:func:`vdto.sim.claims.claims`): the six policies of
        :data:`CLAIM_POLICIES` run again on the same replicates, with detail.
    charts
        Also render the monthly homicides chart as static SVG (``Comparison.charts``).
    chunk_size
        Replicates per task (progress more often; never a different number).
    progress
        ``progress(done, total)``: replicates simulated so far and in all (the claims' included),
        called with ``(0, total)`` once the world is built.

    Returns
    -------
    Comparison
        The outputs, the table, the provenance, and the claims and charts when asked for.

    Raises
    ------
    VdtoError
        A bad scenario, policy, run option or posterior, each naming its parameter.
    """
    from vdto.sim.results import compare_table, provenance

    pols = check_policies(policies)
    if draws < 1:
        raise VdtoError("must be at least 1", fix="give the number of parameter sets to draw", param="draws")
    sc = load(scenario, replicates=replicates, months=months, seed=seed)
    sampled = post = None
    if posterior is not None:
        from vdto.sim.calibration.estimate import Posterior

        post = Posterior.read(posterior)
        post.check_scenario(load_scenario(scenario), where="posterior")
        sampled = post.draws(draws, sc.run.seed)
    per = max(1, sc.run.replicates // len(sampled)) * len(sampled) if sampled else sc.run.replicates
    total = per * len(pols) + (per * len(CLAIM_POLICIES) if claims else 0)

    def ours(done: int, _: int) -> None:  # the comparison's replicates out of the whole job's
        if progress is not None:
            progress(done, total)

    world, results = simulate_policies(sc, pols, workers=workers, dask=dask, scheduler=scheduler,
                                       draws=sampled, chunk_size=chunk_size, progress=ours)  # fmt: skip
    meta = provenance(sc, world)
    if post is not None:
        meta |= {"posterior": str(posterior), "posterior_fit": f"{post.meta['first']}-{post.meta['last']}",
                 "posterior_draws": draws, "replicates": next(iter(results.values())).homicides.shape[0]}  # fmt: skip
    table = compare_table(results, start_month=sc.enforcement.start_month)
    claimed = None
    if claims:
        from vdto.sim.claims import claims as measure
        from vdto.sim.claims import verdict

        claimed = measure(world, sc, workers=workers, draws=sampled)
        claimed["verdict"] = [verdict(share) for share in claimed["holds"]]
        if progress is not None:
            progress(total, total)
    svgs: dict[str, str] = {}
    comparison = Comparison(sc, world, results, table, meta, claimed, svgs)
    if charts:
        from vdto.render.charts import to_svg

        svgs["monthly"] = to_svg(comparison.chart())
    return comparison


__all__ = [
    "CLAIM_POLICIES",
    "Comparison",
    "Progress",
    "check_policies",
    "load",
    "run_comparison",
    "scenario_names",
    "simulate_policies",
    "units",
]
