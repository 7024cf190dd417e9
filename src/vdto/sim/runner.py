"""Running simulations: replicates split into chunks, run by local processes or by Dask.

Both runners call the same function on the same chunks (:func:`run_chunk`) through one
order-preserving map (:func:`mapper`, also what the calibration uses), and every
replicate draws from its own key (``SeedSequence(seed).spawn``), so the way replicates are
split, and whether they run here or on a cluster, does not change a single number.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

from vdto.environ import kept
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
    world: World,
    scenario: Scenario,
    chunk: Chunk,
    flow_factor: float | None,
    detail: bool = False,
    panel: bool = False,
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
        panel=panel,
    )


class Mapper:
    """Calls a function on many inputs in worker processes, here or on a Dask cluster, and gives
    the results back in the order of the inputs (so nothing depends on which worker finished
    first). Made by :func:`mapper`; ``share`` sends a large argument to the workers once."""

    def __init__(self, workers: int, pool=None, client=None) -> None:
        self.workers = workers
        self._pool = pool
        self._client = client

    def share(self, value):
        """A handle to pass instead of ``value`` (scattered once on a Dask cluster)."""
        if self._client is not None:
            return self._client.scatter(value, broadcast=True)
        return value

    def map(self, fn: Callable, *iterables, progress: Callable[[int], None] | None = None,
            weights: list[int] | None = None) -> list:  # fmt: skip
        """``[fn(*args) for args in zip(*iterables)]``, computed by the workers. ``progress`` is
        called as each result arrives in order, with its ``weights`` entry (default 1)."""
        args = list(zip(*iterables, strict=True))
        if self._client is not None:
            futures = self._client.map(fn, *map(list, zip(*args, strict=True)), pure=False) if args else []
            results = (f.result() for f in futures)
        elif self._pool is not None:
            futures = [self._pool.submit(fn, *a) for a in args]
            results = (f.result() for f in futures)
        else:
            results = (fn(*a) for a in args)
        out = []
        for i, res in enumerate(results):
            out.append(res)
            if progress:
                progress(weights[i] if weights else 1)
        return out


@contextmanager
def mapper(
    workers: int | None = None, *, dask: bool = False, scheduler: str | None = None
) -> Iterator[Mapper]:
    """A :class:`Mapper` over ``workers`` local processes (default: the CPU count; 1 runs in
    this process), a Dask ``LocalCluster`` of ``workers`` processes (``dask=True``) or the
    cluster at ``scheduler`` (e.g. ``tcp://10.0.0.5:8786``)."""
    workers = workers or os.cpu_count() or 1
    if dask or scheduler:
        with _dask_client(workers, scheduler) as client:
            yield Mapper(workers, client=client)
    elif workers == 1:
        yield Mapper(1)
    else:
        import multiprocessing

        ctx = multiprocessing.get_context(
            "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        )
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            yield Mapper(workers, pool=pool)


@contextmanager
def _dask_client(workers: int, scheduler: str | None):
    """A Dask client; this process's environment is restored when it closes (a LocalCluster
    sets one BLAS thread, a hash seed and its own id there for its workers and leaves them
    behind, which changed the floating-point results of processes started afterwards)."""
    with kept(), _dask_client_inner(workers, scheduler) as client:
        yield client


@contextmanager
def _dask_client_inner(workers: int, scheduler: str | None):
    try:
        from distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover - distributed is a dependency
        raise VdtoError(
            "Dask distributed is not installed", fix="pip install 'dask[distributed]'", param="dask"
        ) from None
    if scheduler:
        try:
            client = Client(scheduler, timeout="10s")
        except OSError as exc:
            raise VdtoError(
                f"cannot reach the Dask scheduler ({exc})",
                fix="give the address of a running scheduler",
                param="scheduler",
            ) from None
        with client:
            yield client
        return
    cluster = LocalCluster(
        n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
    )
    try:
        with Client(cluster) as client:
            yield client
    finally:
        cluster.close()


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
    panel: bool = False,
) -> dict[str, Outputs]:
    """Run every policy over the scenario's replicates; returns outputs per policy.

    ``workers`` local processes (default: the CPU count; 1 runs in this process); with
    ``dask=True`` the chunks go to a Dask ``LocalCluster`` of ``workers`` processes, or to the
    cluster at ``scheduler`` (e.g. ``tcp://10.0.0.5:8786``). ``progress`` is called with the
    number of replicates each finished chunk holds; ``detail`` records each organization's
    violence, points and members, ``panel`` the municipal panel (see
    :func:`vdto.sim.engine.simulate`).
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
    n = len(todo)
    with mapper(workers, dask=dask, scheduler=scheduler) as m:
        results = m.map(
            run_chunk, [m.share(world)] * n, [m.share(scenario)] * n, todo, [flow] * n, [detail] * n,
            [panel] * n, progress=progress, weights=[c.replicates for c in todo],
        )  # fmt: skip
    by_policy: dict[str, list[Outputs]] = {p: [] for p in policies}
    for c, res in zip(todo, results, strict=True):
        by_policy[c.policy].append(res)
    return {p: Outputs.concat(parts) for p, parts in by_policy.items()}


def run_draws(
    world: World,
    scenarios: list[Scenario],
    policies: list[str],
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    dask: bool = False,
    progress: Callable[[int], None] | None = None,
    detail: bool = False,
) -> dict[str, Outputs]:
    """Every policy over several parameter sets (e.g. draws from a calibration's posterior):
    scenario ``i`` runs replicates ``i x R .. i x R + R - 1`` of the first scenario's seed (``R``
    its replicates), so every parameter set has its own starting maps and the policies share
    their draws within each (common random numbers). Outputs are joined along the replicate
    axis, parameter set after parameter set."""
    if not scenarios:
        raise VdtoError("no parameter set to run", fix="give at least one draw", param="draws")
    seed, R = scenarios[0].run.seed, scenarios[0].run.replicates
    scenarios = [s.model_copy(update={"run": s.run.model_copy(update={"seed": seed, "replicates": R})})
                 for s in scenarios]  # fmt: skip
    for p in policies:
        check_policy(p)
    flow = None
    if any("caribbean" in check_policy(p) for p in policies):
        from vdto.routes.lever import mexico_flow_factor

        flow = mexico_flow_factor(scenarios[0].enforcement.caribbean_change)
    jobs = [(p, i) for p in policies for i in range(len(scenarios))]
    with mapper(workers, dask=dask, scheduler=scheduler) as m:
        w = m.share(world)
        results = m.map(
            run_chunk, [w] * len(jobs), [scenarios[i] for _, i in jobs], [Chunk(p, i * R, R) for p, i in jobs],
            [flow] * len(jobs), [detail] * len(jobs), progress=progress, weights=[R] * len(jobs),
        )  # fmt: skip
    by_policy: dict[str, list[Outputs]] = {p: [] for p in policies}
    for (p, _), res in zip(jobs, results, strict=True):
        by_policy[p].append(res)
    return {p: Outputs.concat(parts) for p, parts in by_policy.items()}


__all__ = ["Chunk", "Mapper", "chunks", "mapper", "run", "run_chunk", "run_draws", "world_for"]
