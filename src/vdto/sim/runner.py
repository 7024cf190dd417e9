"""Running simulations: replicates split into chunks, run by local processes or by Dask.

Both runners call the same function on the same chunks (:func:`run_chunk`), and every
replicate draws from its own key (``SeedSequence(seed).spawn``), so the way replicates are
split, and whether they run here or on a cluster, does not change a single number.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from vdto.errors import VdtoError
from vdto.sim.engine import Outputs, simulate
from vdto.sim.params import Scenario, check_policy
from vdto.sim.world import World, grid_world


def world_for(scenario: Scenario) -> World:
    """The world a scenario names: Mexico from real data for its start year, or the synthetic grid."""
    w = scenario.world
    if w.kind == "grid":
        return grid_world(w.rows, w.cols, w.grid_orgs)
    from vdto.sim.world_real import mexico_world

    return mexico_world(
        w.start_year, w.organizations, lookback_years=w.lookback_years, spread_hops=w.spread_hops
    )


@dataclass(frozen=True)
class Chunk:
    policy: str
    first: int
    replicates: int


def chunks(policy: str, replicates: int, size: int) -> list[Chunk]:
    """Consecutive chunks of at most ``size`` replicates."""
    return [Chunk(policy, f, min(size, replicates - f)) for f in range(0, replicates, size)]


def run_chunk(
    world: World, scenario: Scenario, chunk: Chunk, flow_factor: float | None, detail: bool = False
) -> Outputs:
    """Run one chunk of replicates (what every worker does)."""
    return simulate(
        world,
        scenario,
        chunk.policy,
        replicates=chunk.replicates,
        first=chunk.first,
        flow_factor=flow_factor,
        detail=detail,
    )


def run(
    world: World,
    scenario: Scenario,
    policies: list[str],
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    dask: bool = False,
    chunk_size: int | None = None,
    progress: Callable[[int], None] | None = None,
    detail: bool = False,
) -> dict[str, Outputs]:
    """Run every policy over the scenario's replicates; returns outputs per policy.

    ``workers`` local processes (default: the CPU count; 1 runs in this process); with
    ``dask=True`` the chunks go to a Dask ``LocalCluster`` of ``workers`` processes, or to the
    cluster at ``scheduler`` (e.g. ``tcp://10.0.0.5:8786``). ``progress`` is called with the
    number of replicates each finished chunk holds; ``detail`` records each organization's
    violence, points and members (see :func:`vdto.sim.engine.simulate`).
    """
    for p in policies:
        try:
            check_policy(p)
        except ValueError as exc:
            raise VdtoError(str(exc), fix="e.g. none,volume,kingpin,targeted", param="policies") from None
    flow = None
    if any("caribbean" in check_policy(p) for p in policies):
        from vdto.routes.lever import mexico_flow_factor

        flow = mexico_flow_factor(scenario.enforcement.caribbean_change)
    workers = workers or os.cpu_count() or 1
    R = scenario.run.replicates
    size = chunk_size or max(1, min(250, -(-R // workers)))
    todo = [c for p in policies for c in chunks(p, R, size)]
    if dask or scheduler:
        results = _run_dask(world, scenario, todo, flow, workers, scheduler, progress, detail)
    elif workers == 1:
        results = _collect(todo, (run_chunk(world, scenario, c, flow, detail) for c in todo), progress)
    else:
        results = _run_local(world, scenario, todo, flow, workers, progress, detail)
    by_policy: dict[str, list[Outputs]] = {p: [] for p in policies}
    for c, res in zip(todo, results, strict=True):
        by_policy[c.policy].append(res)
    return {p: Outputs.concat(parts) for p, parts in by_policy.items()}


def _run_local(world, scenario, todo, flow, workers, progress, detail) -> list[Outputs]:
    import multiprocessing

    ctx = multiprocessing.get_context(
        "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    )
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        futures = [pool.submit(run_chunk, world, scenario, c, flow, detail) for c in todo]
        return _collect(todo, (f.result() for f in futures), progress)


def _collect(todo: list[Chunk], results, progress: Callable[[int], None] | None) -> list[Outputs]:
    """The chunks' outputs in order, reporting each chunk's replicates as it arrives."""
    out = []
    for c, res in zip(todo, results, strict=True):
        out.append(res)
        if progress:
            progress(c.replicates)
    return out


def _run_dask(world, scenario, todo, flow, workers, scheduler, progress, detail) -> list[Outputs]:
    try:
        from distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover - distributed is a dependency
        raise VdtoError(
            "Dask distributed is not installed", fix="pip install 'dask[distributed]'", param="dask"
        ) from None
    cluster = None
    try:
        if scheduler:
            try:
                client = Client(scheduler, timeout="10s")
            except OSError as exc:
                raise VdtoError(
                    f"cannot reach the Dask scheduler ({exc})",
                    fix="give the address of a running scheduler",
                    param="scheduler",
                ) from None
        else:
            cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=40,
            )
            client = Client(cluster)
        with client:
            w, s = client.scatter(world, broadcast=True), client.scatter(scenario, broadcast=True)
            futures = client.map(
                run_chunk,
                [w] * len(todo),
                [s] * len(todo),
                todo,
                [flow] * len(todo),
                [detail] * len(todo),
                pure=False,
            )
            return _collect(todo, (f.result() for f in futures), progress)
    finally:
        if cluster is not None:
            cluster.close()


__all__ = ["Chunk", "chunks", "run", "run_chunk", "world_for"]
