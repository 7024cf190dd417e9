"""Simulation benchmark: ``simulate`` at the target size, against a Mesa 3 reference.

Run from the repository root::

    uv run python benchmarks/bench_sim.py                 # 1,000 replicates x 120 months
    uv run python benchmarks/bench_sim.py --quick         # 100 replicates x 24 months
    uv run python benchmarks/bench_sim.py --world synthetic --chunk 0
    uv run python benchmarks/bench_sim.py --engines numba   # skip the NumPy engine

What is measured, in this order:

1. **World**: ``vdto.sim.world_real.default_world()`` (2,457 municipalities, 20 organizations,
   100 US buyers) when it exists, else (or with ``--world synthetic``) a synthetic world of the
   same size: the real municipal queen contiguity (``vdto.regional.contiguity.bundled``), 20
   seed municipalities drawn at random, every municipality given to the nearest seed by
   breadth-first search, lognormal plaza values, random rivalries and 100 buyers. Building it
   is timed apart (not part of the target).
2. **simulate on 2 cores**, policies ``none`` (the default) and ``targeted``: the replicates
   split in two halves (``first=0`` and ``first=R/2``), one half per worker process
   (``ProcessPoolExecutor``, spawn, started and warmed up before the clock starts: each worker
   imports the simulator and runs a 2-replicate, 2-month ``simulate`` on a small grid, which
   compiles the Numba kernels or loads them from Numba's cache, timed apart). Each ``--engines``
   (``numba``, the default engine, and ``numpy``, to measure what the compiled kernels gain) is
   run, and both must give the same deaths and survivors. Printed:
   wall time from submitting the two halves to holding both results (the target: under 30 s),
   plaza-months per second (replicates x months x plazas / wall), each worker's seconds and CPU
   seconds, and peak memory (``VmHWM`` of each worker, of this process). With ``--chunk N`` (50
   by default, 0 to skip) the same run again, each worker calling ``simulate`` on at most N
   replicates at a time (same numbers: every replicate has its own key), with the first engine.
3. **First call** of the compiled engine in a new process (import + a small ``simulate``), with
   an empty ``NUMBA_CACHE_DIR`` (the kernels are compiled) and again with the cache it left.
4. **Mesa reference** (benchmarks/mesa_reference): ``--mesa-replicates`` (2) replicates of
   ``--mesa-months`` (default: all the months of the simulate run, so that both cover the same
   phases of the run; the policies start in month 12) on the same world, in this process, one
   ``CartelModel`` per replicate. Its deaths per month must equal those of the same replicates
   in the simulate run (printed). The speed ratio (target: at least 100x) is plaza-months per
   second of simulate's 2-worker wall time (first engine) over the reference's; also per core, by wall time
   (simulate's plaza-months per worker-second) and by CPU time (per CPU second, both sides),
   the last one being the least sensitive to other processes on the machine.

Wall times depend on what else runs on the machine; the load average is printed at the start
and the end, and each worker's CPU seconds next to its wall seconds (on an idle machine they are
about equal, so the slower worker's CPU seconds are what the wall time would be).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from _measure import cpu_name, peak_rss_kib, print_machine
from _measure import machine as _machine

REPLICATES, MONTHS = 1000, 120
QUICK_REPLICATES, QUICK_MONTHS = 100, 24
MESA_REPLICATES = 2
POLICIES = ("none", "targeted")
WORKERS = 2
TARGET_S = 30.0
TARGET_RATIO = 100.0
ENGINES = ("numba", "numpy")
SEED = 1


# -- world ---------------------------------------------------------------------------------------


def synthetic_world(organizations: int = 20, buyers: int = 100, seed: int = 20240601):
    """The real municipal contiguity with ``organizations`` territories grown by BFS from random
    seed municipalities (the fallback when vdto.sim.world_real is not there)."""
    from collections import deque

    from vdto.regional.contiguity import bundled
    from vdto.sim.world import World

    c = bundled("municipality")
    codes = list(c.codes)
    pos = {code: i for i, code in enumerate(codes)}
    src = np.array([pos[a] for a in codes for _ in c.neighbors[a]], dtype=np.int32)
    dst = np.array([pos[b] for a in codes for b in c.neighbors[a]], dtype=np.int32)
    m = len(codes)
    rng = np.random.default_rng(seed)
    owner = np.full(m, -1, dtype=np.int32)
    seeds = rng.choice(m, organizations, replace=False)
    owner[seeds] = np.arange(organizations)
    neighbours = [c.neighbors[code] for code in codes]
    queue = deque(seeds.tolist())
    while queue:
        a = queue.popleft()
        for b in neighbours[a]:
            if owner[pos[b]] < 0:
                owner[pos[b]] = owner[a]
                queue.append(pos[b])
    value = rng.lognormal(0.0, 1.0, m)
    value /= value.mean()
    upper = np.triu(rng.choice([1.0, 0.5, 0.1], size=(organizations, organizations), p=[0.5, 0.3, 0.2]), 1)
    size = np.bincount(owner[owner >= 0], minlength=organizations).astype(float)
    strength = np.sqrt(size) / np.sqrt(size).mean()
    supplier = np.sort(rng.choice(organizations, buyers, p=strength / strength.sum())).astype(np.int32)
    return World(
        codes=np.array(codes),
        value=value,
        population=np.full(m, 1e5),
        src=src,
        dst=dst,
        names=tuple(f"org{i:02d}" for i in range(organizations)),
        strength=strength,
        hostility=upper + upper.T,
        owner=owner,
        supplier=supplier,
        volume=rng.lognormal(0.0, 1.0, buyers),
        label=f"synthetic: municipal contiguity, {organizations} organizations by BFS, seed {seed}",
    ).check()


def build_world(kind: str):
    if kind == "default":
        try:
            from vdto.sim.world_real import default_world
        except ImportError:
            kind = "synthetic"
        else:
            return default_world(), "default_world()"
    return synthetic_world(), "synthetic fallback"


# -- workers -------------------------------------------------------------------------------------


def _warm(_: int) -> tuple[int, float]:
    """Import the simulator and run it once on a small grid (compiles or loads the kernels)."""
    t0 = time.perf_counter()
    from vdto.sim.engine import simulate
    from vdto.sim.params import Scenario
    from vdto.sim.world import grid_world

    simulate(grid_world(4, 4, 2), Scenario.model_validate({"run": {"months": 2, "replicates": 2}}), "none")
    seconds = time.perf_counter() - t0
    time.sleep(0.5)  # keep this worker busy so that the other one takes the other warm-up
    return os.getpid(), seconds


def _half(
    world, scenario_json: str, policy: str, engine: str, first: int, replicates: int, chunk: int, keep: int
) -> dict:
    """One worker's half: replicates ``first .. first + replicates - 1``, in chunks of ``chunk``."""
    from vdto.sim.engine import simulate
    from vdto.sim.params import Scenario

    scenario = Scenario.model_validate_json(scenario_json)
    size = chunk if chunk > 0 else replicates
    t0, c0 = time.perf_counter(), time.process_time()
    deaths, alive, first_months = [], [], None
    for f in range(first, first + replicates, size):
        out = simulate(
            world, scenario, policy, replicates=min(size, first + replicates - f), first=f, engine=engine
        )
        deaths.append(out.deaths.sum(axis=1))
        alive.append(out.alive[:, -1])
        if first_months is None:
            first_months = (out.deaths[:keep].copy(), out.alive[:keep].copy())
    return {
        "seconds": time.perf_counter() - t0,
        "cpu": time.process_time() - c0,
        "peak_kib": peak_rss_kib(),
        "pid": os.getpid(),
        "deaths": np.concatenate(deaths),
        "alive": np.concatenate(alive),
        "first_months": first_months,
    }


FIRST_CALL = (
    "import time; t = time.perf_counter()\n"
    "from vdto.sim.engine import simulate\n"
    "from vdto.sim.params import Scenario\n"
    "from vdto.sim.world import grid_world\n"
    "simulate(grid_world(4, 4, 2), Scenario.model_validate({'run': {'months': 2, 'replicates': 2}}), 'none')\n"
    "print(time.perf_counter() - t)\n"
)


def first_calls() -> tuple[float, float]:
    """Import and first call of the compiled engine in a new process: with an empty Numba cache
    (the kernels are compiled) and again with the cache that run left (they are loaded)."""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        cmd = [sys.executable, "-c", FIRST_CALL]
        return tuple(float(subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout)
                     for _ in range(2))  # fmt: skip


def run_parallel(world, scenario, policy: str, engine: str, replicates: int, chunk: int, keep: int) -> dict:
    """Both halves on a fresh, warmed-up pool of 2 spawned workers; the wall time is submit to results."""
    ctx = multiprocessing.get_context("spawn")
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=WORKERS, mp_context=ctx) as pool:
        warm = list(pool.map(_warm, range(WORKERS)))
        pids = {pid for pid, _ in warm}
        startup = time.perf_counter() - t0
        halves = [(0, replicates // 2), (replicates // 2, replicates - replicates // 2)]
        sj = scenario.model_dump_json()
        t1 = time.perf_counter()
        futures = [pool.submit(_half, world, sj, policy, engine, f, n, chunk, keep) for f, n in halves]
        results = [fu.result() for fu in futures]
        wall = time.perf_counter() - t1
    return {
        "wall": wall,
        "startup": startup,
        "compile": max(s for _, s in warm),
        "workers": len(pids | {r["pid"] for r in results}),
        "halves": results,
        "deaths": np.concatenate([r["deaths"] for r in results]),
        "alive": np.concatenate([r["alive"] for r in results]),
        "first_months": results[0]["first_months"],
    }


# -- main ----------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--quick", action="store_true", help=f"{QUICK_REPLICATES} replicates x {QUICK_MONTHS} months"
    )
    p.add_argument("--replicates", type=int, default=None)
    p.add_argument("--months", type=int, default=None)
    p.add_argument("--chunk", type=int, default=None, help="also run with chunks of N replicates (0: skip)")
    p.add_argument("--mesa-replicates", type=int, default=MESA_REPLICATES)
    p.add_argument("--mesa-months", type=int, default=None, help="default: the months of the run")
    p.add_argument("--world", choices=("default", "synthetic"), default="default")
    p.add_argument("--policies", default=",".join(POLICIES))
    p.add_argument(
        "--engines", default=",".join(ENGINES), help="simulate engines, the first one compared with Mesa"
    )
    args = p.parse_args(argv)
    R = args.replicates or (QUICK_REPLICATES if args.quick else REPLICATES)
    T = args.months or (QUICK_MONTHS if args.quick else MONTHS)
    chunk = args.chunk if args.chunk is not None else (0 if args.quick else 50)
    policies = [s.strip() for s in args.policies.split(",") if s.strip()]
    engines = [s.strip() for s in args.engines.split(",") if s.strip()]
    main_engine = engines[0]
    load_start = os.getloadavg()[0]

    from rich.console import Console
    from rich.table import Table

    from vdto.sim.params import Scenario

    console = Console(width=150)
    print_machine(
        console,
        [
            ("cpu", cpu_name()),
            *_machine("scipy", "mesa"),
            ("load average (1 min) at start", f"{load_start:.2f}"),
        ],
    )

    t0 = time.perf_counter()
    world, world_kind = build_world(args.world)
    world_s = time.perf_counter() - t0
    M = world.n_plazas
    console.print(
        f"world: {world_kind}, {world.label}: {M:,} plazas, {len(world.src):,} directed neighbour pairs, "
        f"{world.n_orgs} organizations, {len(world.volume)} buyers (built in {world_s:.1f} s, not timed below)"
    )
    scenario = Scenario.model_validate({"run": {"months": T, "replicates": R, "seed": SEED}})
    plaza_months = R * T * M
    keep = min(args.mesa_replicates, R // 2)

    # -- simulate, 2 workers
    runs: dict[tuple[str, str, int], dict] = {}
    for policy in policies:
        for engine in engines:
            for c in [0] + ([chunk] if chunk > 0 and engine == main_engine else []):
                console.print(
                    f"simulate {policy} ({engine}): {R:,} replicates x {T} months, 2 workers, "
                    f"chunk {c or 'half'} ..."
                )
                runs[policy, engine, c] = run_parallel(world, scenario, policy, engine, R, c, keep)

    compile_s, load_s = first_calls() if "numba" in engines else (float("nan"), float("nan"))

    # -- Mesa reference, this process
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import mesa

    from mesa_reference.model import run_reference

    mesa_runs = {}
    mr, mt = args.mesa_replicates, min(args.mesa_months or T, T)
    for policy in policies:
        t0, c0 = time.perf_counter(), time.process_time()
        ref = run_reference(world, scenario, policy, replicates=mr, months=mt)
        mesa_runs[policy] = {"seconds": time.perf_counter() - t0, "cpu": time.process_time() - c0, "out": ref}
    parent_peak = peak_rss_kib() / 1024

    # -- report
    table = Table(
        title=f"simulate: {R:,} replicates x {T} months x {M:,} plazas ({plaza_months:,} plaza-months), 2 workers"
    )
    table.add_column("policy")
    table.add_column("engine")
    table.add_column("chunk")
    table.add_column("wall (s)", justify="right")
    table.add_column("plaza-months/s", justify="right")
    table.add_column("worker s (CPU s)", justify="right")
    table.add_column("peak per worker (MiB)", justify="right")
    table.add_column("pool start (s)", justify="right")
    table.add_column("of it, import + first call (s)", justify="right")
    table.add_column(f"< {TARGET_S:g} s", justify="center")
    for (policy, engine, c), run in runs.items():
        halves = run["halves"]
        table.add_row(
            policy,
            engine,
            f"{c}" if c else "half",
            f"{run['wall']:.2f}",
            f"{plaza_months / run['wall'] / 1e6:.2f} M",
            " / ".join(f"{h['seconds']:.1f} ({h['cpu']:.1f})" for h in halves),
            " / ".join(f"{h['peak_kib'] / 1024:.0f}" for h in halves),
            f"{run['startup']:.2f}",
            f"{run['compile']:.2f}",
            "PASS" if run["wall"] < TARGET_S else "FAIL",
        )
    console.print(table)

    table = Table(title="Outcomes (simulate, all replicates)")
    table.add_column("policy")
    table.add_column("deaths per replicate: mean (sd)", justify="right")
    table.add_column("alive at the end: mean", justify="right")
    table.add_column("same with chunks", justify="center")
    table.add_column("same with every engine", justify="center")
    for policy in policies:
        run = runs[policy, main_engine, 0]
        others = [(e, c, r) for (p, e, c), r in runs.items() if p == policy]

        def same(*, chunked: bool, run=run, others=others) -> bool:
            picked = [r for e, c, r in others if (c != 0 if chunked else e != main_engine)]
            return all(np.array_equal(run[k], r[k]) for r in picked for k in ("deaths", "alive"))

        table.add_row(
            policy,
            f"{run['deaths'].mean():,.1f} ({run['deaths'].std(ddof=1):,.1f})",
            f"{run['alive'].mean():.2f}",
            str(same(chunked=True)) if chunk else "-",
            str(same(chunked=False)) if len(engines) > 1 else "-",
        )
    console.print(table)

    mesa_pm = mr * mt * M
    table = Table(
        title=f"Mesa {mesa.__version__} reference: {mr} replicates x {mt} months on the same world, 1 process"
    )
    table.add_column("policy")
    table.add_column("seconds (CPU)", justify="right")
    table.add_column("ms per replicate-month", justify="right")
    table.add_column("plaza-months/s", justify="right")
    table.add_column("simulate engine", justify="left")
    table.add_column("ratio (2 workers, wall)", justify="right")
    table.add_column("ratio per core (wall)", justify="right")
    table.add_column("ratio per core (CPU)", justify="right")
    table.add_column(f">= {TARGET_RATIO:g}x", justify="center")
    table.add_column("same deaths as simulate", justify="center")
    ratios = {}
    for policy, m in mesa_runs.items():
        mesa_rate = mesa_pm / m["seconds"]
        for engine in engines:
            run = runs[policy, engine, 0]
            sim_rate = plaza_months / run["wall"]
            per_core = plaza_months / sum(h["seconds"] for h in run["halves"])
            per_cpu = plaza_months / sum(h["cpu"] for h in run["halves"])
            ratios[policy, engine] = sim_rate / mesa_rate
            d_sim, a_sim = run["first_months"]
            ref = m["out"]
            k = min(len(d_sim), mr)
            same = np.array_equal(ref.deaths[:k], d_sim[:k, :mt]) and np.array_equal(
                ref.alive[:k], a_sim[:k, :mt]
            )
            first_row = engine == engines[0]
            table.add_row(
                policy if first_row else "",
                f"{m['seconds']:.2f} ({m['cpu']:.2f})" if first_row else "",
                f"{m['seconds'] / (mr * mt) * 1e3:.2f}" if first_row else "",
                f"{mesa_rate / 1e6:.3f} M" if first_row else "",
                engine,
                f"{ratios[policy, engine]:.1f}x",
                f"{per_core / mesa_rate:.1f}x",
                f"{per_cpu / (mesa_pm / m['cpu']):.1f}x",
                "PASS" if ratios[policy, engine] >= TARGET_RATIO else "FAIL",
                f"{same} (replicates 0-{k - 1}, months 0-{mt - 1})",
            )
    console.print(table)
    console.print(f"peak memory of this process (world, Mesa runs): {parent_peak:.0f} MiB")
    console.print(
        f"numba engine, import + first call in a new process: {compile_s:.2f} s with an empty "
        f"Numba cache (kernels compiled), {load_s:.2f} s from the cache"
    )
    console.print(f"load average (1 min) at the end: {os.getloadavg()[0]:.2f}")
    for policy in policies:
        run = runs[policy, main_engine, 0]
        ratio = ratios[policy, main_engine]
        console.print(
            f"target {policy} ({main_engine}): {R:,} x {T} x {M:,} in < {TARGET_S:g} s on 2 cores: "
            f"{'PASS' if run['wall'] < TARGET_S else 'FAIL'} ({run['wall']:.2f} s wall, slower worker "
            f"{max(h['cpu'] for h in run['halves']):.2f} CPU s); "
            f"speed ratio >= {TARGET_RATIO:g}x: {'PASS' if ratio >= TARGET_RATIO else 'FAIL'} ({ratio:.1f}x)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
