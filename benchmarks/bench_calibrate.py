"""Calibration benchmark: ``vdto calibrate default --from 2007 --to 2012`` with the shipped
settings, end to end, on local worker processes and then on a Dask LocalCluster.

Run from the repository root::

    uv run python benchmarks/bench_calibrate.py                 # 100 particles x 6 generations, then Dask
    uv run python benchmarks/bench_calibrate.py --no-dask
    uv run python benchmarks/bench_calibrate.py --population 30 --generations 2   # quick

What is measured, in this one process and the workers it starts:

1. **Reference**: one history (one starting map x 72 months of Mexico from 2007 under the
   kingpin policy, the default parameters), timed in this process after a warm-up: what one
   simulated history of the calibration costs on one core.
2. **Calibration** with ``--workers`` (2) local processes, from an empty database, as
   :func:`vdto.services.calibration.run_calibration` runs it for ``vdto calibrate``: building
   the world and the real panel, the scale of each statistic under the priors, and every
   generation. Printed: wall time, simulated histories, and the histories' cost against the
   reference (the parallel efficiency). Target: under 30 minutes on 2 cores.
3. **The same calibration on a Dask LocalCluster** of the same number of workers, from another
   empty database: its posterior must equal the local one, particle for particle.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

TARGET_S = 30 * 60


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--population", type=int, default=100)
    p.add_argument("--generations", type=int, default=6)
    p.add_argument("--replicates", type=int, default=16)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--no-dask", action="store_true")
    args = p.parse_args(argv)

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from rich.console import Console

    from _measure import cpu_name, print_machine
    from _measure import machine as _machine
    from vdto.services.calibration import Where, run_calibration
    from vdto.sim.calibration.estimate import Setup, model_summaries
    from vdto.sim.params import load_scenario
    from vdto.sim.runner import world_for

    console = Console(width=130)
    print_machine(console, [("cpu", cpu_name()), *_machine("numba", "pyabc", "distributed"),
                            ("load average (1 min) at start", f"{os.getloadavg()[0]:.2f}")])  # fmt: skip
    sc = load_scenario("default")
    setup = Setup(sc, 2007, 2012, replicates=args.replicates)
    world = world_for(setup.base())
    model_summaries(world, setup, {}, 0)  # warm-up (Numba's cache)
    t0 = time.perf_counter()
    for i in range(args.replicates):  # each history of the pool once
        model_summaries(world, setup, {}, i)
    ref = (time.perf_counter() - t0) / args.replicates
    console.print(f"reference: one history (one starting map x 72 months) {ref:.3f} s in this process")

    results = {}
    kinds = [("local", Where(args.workers))] + (
        [] if args.no_dask else [("dask", Where(args.workers, dask=True))]
    )
    for name, where in kinds:
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            post = run_calibration(sc, 2007, 2012, db=Path(tmp) / "c.db", where=where, population=args.population,
                                   generations=args.generations, replicates=args.replicates, seed=1,
                                   log=lambda line, n=name: console.print(f"  [{n}] {line}"))  # fmt: skip
            wall = time.perf_counter() - t0
        sims = post.meta["simulations"]
        # the scale of each statistic costs max(2 x population, 50) histories more
        total = sims + max(2 * args.population, 50)
        ideal = total * ref / args.workers
        results[name] = post
        console.print(
            f"{name}: {wall:.0f} s ({wall / 60:.1f} min) for {sims:,} histories in {post.meta['generations']} "
            f"generations + {total - sims} for the scales; ideal at the reference's cost on {args.workers} "
            f"workers {ideal:.0f} s (efficiency {ideal / wall:.0%}); target < {TARGET_S / 60:.0f} min: "
            f"{'PASS' if wall < TARGET_S else 'FAIL'}"
        )
        console.print(post.summary().round(4).to_string(index=False))
    if "dask" in results:
        same = results["dask"].frame.equals(results["local"].frame)
        console.print(f"Dask LocalCluster gives the same posterior as local processes: {same}")
        if not same:
            return 1
    console.print(f"load average (1 min) at the end: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
