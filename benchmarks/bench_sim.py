"""Simulation benchmark: ``simulate`` at the target size, run by ``vdto.sim.runner.run``, against
the Mesa 3 reference in the same run.

Run from the repository root::

    uv run python benchmarks/bench_sim.py                      # 1,000 replicates x 120 months
    uv run python benchmarks/bench_sim.py --quick              # 100 replicates x 24 months
    uv run python benchmarks/bench_sim.py --policies targeted --workers 2

What is measured, in this order, all in this one process and the workers it starts:

1. **World**: ``vdto.sim.world_real.mexico_world(2016)`` (2,457 municipalities, 14,388 directed
   neighbour pairs, the organizations of UCDP GED 2013-2015, 100 US buyers). Building it is timed
   apart (not part of the target).
2. **Warm-up**, timed apart: a 1-replicate run of each policy on a small grid, with ``simulate``
   (loads the Numba kernels from Numba's cache, or compiles them; workers forked afterwards
   inherit them) and with the Mesa reference (its calls of ``kernels.poisson`` from Python).
3. **simulate**, policies ``none`` and ``targeted`` by default, the bundled ``default``
   scenario with seed 1 and ``--replicates`` x ``--months``: ``vdto.sim.runner.run(world,
   scenario, [policy], workers=W)`` for each ``--workers`` W (default 2, then 1 for the per-core
   figure; 1 runs the chunks in this process). The wall time runs from calling ``run`` to holding
   its Outputs: starting the pool (fork), sending the chunks (250 replicates at most), the
   months, gathering and joining the results. Printed: wall seconds, plaza-months per second
   (replicates x months x plazas / wall), CPU seconds of this process and of the workers. The
   target: 1,000 x 120 in under 30 s on 2 workers. Every run of a policy must give the same
   homicides and survivors whatever the number of workers.
4. **Mesa reference** (benchmarks/mesa_reference): ``--mesa-replicates`` (2) replicates x
   ``--mesa-months`` (default: all the months of the run, so that both cover the months before
   and under the policy) on the same world and scenario, one ``CartelModel`` per replicate, in
   this process. Its homicides, organizations alive and splits, month by month, must equal those
   of the same replicates in the timed runs. The speed ratio (target: at least 100x) is
   plaza-months per second of simulate on the first ``--workers`` over the reference's, and per
   core: the 1-worker run over the reference (both one process on one core).

Wall times depend on what else runs on the machine: the load average is printed at the start
and at the end, and the CPU seconds next to the wall seconds.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time

import numpy as np

from _measure import cpu_name, peak_rss_kib, print_machine
from _measure import machine as _machine

REPLICATES, MONTHS = 1000, 120
QUICK_REPLICATES, QUICK_MONTHS = 100, 24
MESA_REPLICATES = 2
POLICIES = ("none", "targeted")
WORKERS = (2, 1)
TARGET_S = 30.0
TARGET_RATIO = 100.0
SEED = 1
START_YEAR = 2016


def _children_cpu() -> float:
    """CPU seconds of the finished child processes (the pool's workers, once it is shut down)."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def warm_up(policies: list[str]) -> tuple[float, float]:
    """A 1-replicate run of each policy on a small grid with simulate and with the Mesa reference."""
    from mesa_reference.model import run_reference
    from vdto.sim.engine import simulate
    from vdto.sim.params import Scenario
    from vdto.sim.world import grid_world

    grid = grid_world(4, 4, 2)
    small = Scenario.model_validate({"run": {"months": 14, "replicates": 1}})
    t0 = time.perf_counter()
    for policy in policies:
        simulate(grid, small, policy, flow_factor=0.7)
    t1 = time.perf_counter()
    for policy in policies:
        run_reference(grid, small, policy, flow_factor=0.7)
    return t1 - t0, time.perf_counter() - t1


def timed_run(world, scenario, policy: str, workers: int) -> dict:
    """``runner.run`` end to end: wall and CPU seconds, and its Outputs."""
    from vdto.sim.runner import run

    c0, k0 = time.process_time(), _children_cpu()
    t0 = time.perf_counter()
    out = run(world, scenario, [policy], workers=workers)[policy]
    wall = time.perf_counter() - t0
    return {"wall": wall, "cpu": time.process_time() - c0, "workers_cpu": _children_cpu() - k0, "out": out}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--quick", action="store_true", help=f"{QUICK_REPLICATES} replicates x {QUICK_MONTHS} months"
    )
    p.add_argument("--replicates", type=int, default=None)
    p.add_argument("--months", type=int, default=None)
    p.add_argument("--policies", default=",".join(POLICIES))
    p.add_argument(
        "--workers",
        default=",".join(map(str, WORKERS)),
        help="worker counts, the first one for the target (default 2, then 1 for the per-core figure)",
    )
    p.add_argument("--mesa-replicates", type=int, default=MESA_REPLICATES)
    p.add_argument("--mesa-months", type=int, default=None, help="default: the months of the run")
    args = p.parse_args(argv)
    R = args.replicates or (QUICK_REPLICATES if args.quick else REPLICATES)
    T = args.months or (QUICK_MONTHS if args.quick else MONTHS)
    policies = [s.strip() for s in args.policies.split(",") if s.strip()]
    workers = [int(s) for s in args.workers.split(",") if s.strip()]
    mr, mt = min(args.mesa_replicates, R), min(args.mesa_months or T, T)
    load_start = os.getloadavg()[0]

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import mesa
    from rich.console import Console
    from rich.table import Table

    from vdto.sim.params import load_scenario, with_run
    from vdto.sim.world_real import mexico_world

    console = Console(width=150)
    print_machine(
        console,
        [
            ("cpu", cpu_name()),
            *_machine("numba", "mesa"),
            ("load average (1 min) at start", f"{load_start:.2f}"),
        ],
    )

    t0 = time.perf_counter()
    world = mexico_world(START_YEAR)
    world_s = time.perf_counter() - t0
    M = world.n_plazas
    console.print(
        f"world: mexico_world({START_YEAR}): {world.label}; {M:,} plazas, {len(world.src):,} directed "
        f"neighbour pairs, {world.n_orgs} organizations, {len(world.volume)} buyers, {world.n_states} states "
        f"(built in {world_s:.1f} s, not timed below)"
    )
    scenario = with_run(load_scenario("default"), replicates=R, months=T, seed=SEED)
    plaza_months = R * T * M
    sim_warm, mesa_warm = warm_up(policies)
    console.print(
        f"warm-up (1 replicate x 14 months of each policy on a 4 x 4 grid): simulate {sim_warm:.2f} s "
        f"(Numba kernels loaded or compiled), Mesa reference {mesa_warm:.2f} s"
    )

    # -- simulate through the runner
    runs: dict[tuple[str, int], dict] = {}
    for policy in policies:
        for w in workers:
            console.print(
                f"simulate {policy}: {R:,} replicates x {T} months, runner.run with {w} worker(s) ..."
            )
            runs[policy, w] = timed_run(world, scenario, policy, w)

    # -- Mesa reference, this process
    mesa_scenario = with_run(scenario, replicates=mr, months=mt)
    from mesa_reference.model import run_reference

    mesa_runs = {}
    for policy in policies:
        console.print(f"Mesa reference {policy}: {mr} replicates x {mt} months ...")
        c0, t0 = time.process_time(), time.perf_counter()
        ref = run_reference(world, mesa_scenario, policy)
        mesa_runs[policy] = {"seconds": time.perf_counter() - t0, "cpu": time.process_time() - c0, "out": ref}
    parent_peak = peak_rss_kib() / 1024

    # -- report
    table = Table(
        title=f"simulate (vdto.sim.runner.run): {R:,} replicates x {T} months x {M:,} plazas "
        f"({plaza_months:,} plaza-months)"
    )
    for col, just in [
        ("policy", "left"),
        ("workers", "right"),
        ("wall (s)", "right"),
        ("plaza-months/s", "right"),
        ("ms per replicate", "right"),
        ("CPU s: this process + workers", "right"),
        (f"< {TARGET_S:g} s", "center"),
    ]:
        table.add_column(col, justify=just)
    for (policy, w), run in runs.items():
        table.add_row(
            policy,
            str(w),
            f"{run['wall']:.2f}",
            f"{plaza_months / run['wall'] / 1e6:.2f} M",
            f"{run['wall'] / R * 1e3:.1f}",
            f"{run['cpu']:.1f} + {run['workers_cpu']:.1f}",
            ("PASS" if run["wall"] < TARGET_S else "FAIL") if w == workers[0] else "",
        )
    console.print(table)

    table = Table(title="Outcomes (simulate, all replicates, whole run)")
    for col in ("policy", "homicides per replicate: mean (sd)", "alive at the end", "splits", "dismantled",
                "same with every worker count"):  # fmt: skip
        table.add_column(col, justify="left" if col == "policy" else "right")
    for policy in policies:
        outs = [runs[policy, w]["out"] for w in workers]
        o = outs[0]
        h = o.homicides.sum(axis=1)
        same = all(
            np.array_equal(o.homicides, x.homicides) and np.array_equal(o.alive, x.alive) for x in outs[1:]
        )
        table.add_row(
            policy,
            f"{h.mean():,.0f} ({h.std(ddof=1) if R > 1 else 0.0:,.0f})",
            f"{o.alive[:, -1].mean():.2f}",
            f"{o.splits[:, -1].mean():.2f}",
            f"{o.dismantled[:, -1].mean():.2f}",
            str(same) if len(outs) > 1 else "-",
        )
    console.print(table)

    mesa_pm = mr * mt * M
    table = Table(
        title=f"Mesa {mesa.__version__} reference: {mr} replicates x {mt} months on the same world, 1 process"
    )
    for col in ("policy", "seconds (CPU)", "ms per replicate-month", "plaza-months/s",
                f"ratio, {workers[0]} workers (wall)", "ratio per core (1 worker, wall)", f">= {TARGET_RATIO:g}x",
                "same homicides, alive, splits as simulate"):  # fmt: skip
        table.add_column(col, justify="left" if col == "policy" else "right")
    ratios = {}
    for policy, m in mesa_runs.items():
        mesa_rate = mesa_pm / m["seconds"]
        ratios[policy] = plaza_months / runs[policy, workers[0]]["wall"] / mesa_rate
        per_core = plaza_months / runs[policy, 1]["wall"] / mesa_rate if 1 in workers else float("nan")
        o, ref = runs[policy, workers[0]]["out"], m["out"]
        same = all(
            np.array_equal(getattr(ref, k), getattr(o, k)[:mr, :mt]) for k in ("homicides", "alive", "splits")
        )
        table.add_row(
            policy,
            f"{m['seconds']:.2f} ({m['cpu']:.2f})",
            f"{m['seconds'] / (mr * mt) * 1e3:.2f}",
            f"{mesa_rate / 1e6:.3f} M",
            f"{ratios[policy]:.1f}x",
            f"{per_core:.1f}x",
            "PASS" if ratios[policy] >= TARGET_RATIO else "FAIL",
            f"{same} (replicates 0-{mr - 1}, months 0-{mt - 1})",
        )
    console.print(table)
    console.print(
        f"peak memory of this process (world, results, 1-worker runs, Mesa runs): {parent_peak:.0f} MiB"
    )
    console.print(f"load average (1 min) at the end: {os.getloadavg()[0]:.2f}")
    for policy in policies:
        run = runs[policy, workers[0]]
        console.print(
            f"target {policy}: {R:,} x {T} x {M:,} in < {TARGET_S:g} s on {workers[0]} workers: "
            f"{'PASS' if run['wall'] < TARGET_S else 'FAIL'} ({run['wall']:.2f} s); speed ratio >= "
            f"{TARGET_RATIO:g}x: {'PASS' if ratios[policy] >= TARGET_RATIO else 'FAIL'} ({ratios[policy]:.1f}x)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
