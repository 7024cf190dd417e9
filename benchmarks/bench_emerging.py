"""Emerging hot spot benchmark: space-time Gi*, trends and classes over INEGI's municipal cube.

Run from the repository root::

    uv run python benchmarks/bench_emerging.py                       # 72 months, 999 permutations
    uv run python benchmarks/bench_emerging.py --months 24 --permutations 199
    uv run python benchmarks/bench_emerging.py --repeat 3

Everything runs in this one process, in this order, timed with ``perf_counter`` (CPU seconds
with ``process_time``):

1. **The cube**: ``build_cube("inegi", level="municipality", bin="month", start=2007-01-01,
   end=...)`` (INEGI's homicide deaths by municipality of occurrence and month of registration:
   2,478 municipality codes x ``--months`` months, 72 by default: 2007-2012), timed on its own;
   then the import of esda and libpysal and the bundled queen contiguity
   (``contiguity.bundled("municipality", "nearest")``: the 2,457 municipalities with a polygon),
   each timed on its own, so that the analyses below are warm.
2. **Reference**: the one-map Gi* with total randomisation, ``hotspots(values, contiguity,
   permutations=P, seed=1)`` (Gi* and local Moran), on the counts of the last month, and its
   Gi* test alone (``_total_randomisation_p``), each ``--repeat`` times after a warm-up call;
   the median is multiplied by the number of months: 72 one-map analyses cover the same
   region-months as the cube.
3. **vdto**: ``analyse_cube(cube, value="count", k=1, permutations=P, seed=1)`` for the global
   windows ``cube`` and ``bin``, ``--repeat`` times each (median), the process's resident
   memory (``VmRSS``) and ``ru_maxrss`` printed before and after each window. The target: each
   window under 60 s on 2 cores with 999 permutations and 72 months.
4. **Memory and where the time goes**, after the timed runs (so that they do not raise the
   ``ru_maxrss`` of the timed runs): each window once more under ``tracemalloc``, for the peak
   of Python-allocated memory (NumPy's arrays included); ``spacetime_gi`` alone; and its steps
   replayed, block by block: the weights and exact moments, the relabellings, the sparse
   products, the counts.

With a time lag of 1 (``k=1``, ESRI's default neighbourhood time step) a cell's space-time
neighbourhood is the region and its queen neighbours in its own bin and the bin before: twice
the one-map neighbourhood (except in the first bin), so the space-time test sums twice as many
values per cell as 72 one-map tests.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
import tracemalloc
from datetime import date

TARGET_S = 60.0
START = date(2007, 1, 1)
SEED = 1
K = 1


def _timed(fn, *args, **kwargs):
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t0, time.process_time() - c0


def _maxrss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _rss_mib() -> float:
    """The process's resident memory now (``VmRSS``), in MiB; NaN where /proc is missing."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def _end_of(months: int) -> date:
    import pandas as pd

    return (pd.Timestamp(START) + pd.DateOffset(months=months) - pd.Timedelta(days=1)).date()


def _parts(x, adjacency, permutations: int, window: str) -> dict[str, float]:
    """Seconds of the steps of ``spacetime_gi``, its loop replayed block by block (32
    relabellings a block, the same random stream): the weights and the exact moments, the
    relabellings (``Generator.permuted``), the sparse products and the counts above and below."""
    import numpy as np

    from vdto.regional.emerging import _BLOCK, _moments, spacetime_weights

    r, t = x.shape
    t0 = time.perf_counter()
    w = spacetime_weights(adjacency, t, K)
    v = x.T.ravel()
    groups = np.zeros(len(v), dtype=np.int64) if window == "cube" else np.repeat(np.arange(t), r)
    observed = w @ v
    _moments(w, v, groups)
    out = {"setup": time.perf_counter() - t0, "permuted": 0.0, "product": 0.0, "counts": 0.0}
    above = np.zeros(len(v), dtype=np.int64)
    below = np.zeros(len(v), dtype=np.int64)
    rng = np.random.default_rng(SEED)
    for start in range(0, permutations, _BLOCK):
        b = min(_BLOCK, permutations - start)
        t0 = time.perf_counter()
        if window == "cube":
            shuffled = rng.permuted(np.broadcast_to(v[:, None], (len(v), b)), axis=0)
        else:
            shuffled = rng.permuted(np.broadcast_to(x.T[:, :, None], (t, r, b)), axis=1).reshape(t * r, b)
        t1 = time.perf_counter()
        sims = w @ shuffled
        t2 = time.perf_counter()
        above += (sims >= observed[:, None]).sum(axis=1)
        below += (sims <= observed[:, None]).sum(axis=1)
        t3 = time.perf_counter()
        out["permuted"] += t1 - t0
        out["product"] += t2 - t1
        out["counts"] += t3 - t2
    return {**out, "nnz": w.nnz, "cells": len(v)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--permutations", type=int, default=999, help="default 999 (ESRI's default)")
    ap.add_argument("--months", type=int, default=72, help="months from January 2007 (default 72: 2007-2012)")
    ap.add_argument("--repeat", type=int, default=1, help="timed runs of each analysis (default 1)")
    args = ap.parse_args(argv)
    if args.repeat < 1 or args.months < 10 or args.permutations < 99:
        ap.error("--repeat must be at least 1, --months at least 10, --permutations at least 99")
    if args.months > 108:
        ap.error("INEGI's panel ends in 2015: --months at most 108 from January 2007")
    perms, months = args.permutations, args.months

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import numpy as np
    import pandas as pd
    from rich.console import Console
    from rich.table import Table

    from _measure import cpu_name, print_machine
    from _measure import machine as _machine
    from vdto.regional import contiguity as contig
    from vdto.regional.emerging import CLASSES, LEFT_OUT, analyse_cube, spacetime_gi
    from vdto.regional.hotspots import _total_randomisation_p, hotspots
    from vdto.regional.pysal import esda
    from vdto.services.regions import build_cube

    console = Console(width=130)
    load0 = os.getloadavg()[0]
    rss = {"start": (_rss_mib(), _maxrss_mib())}

    # -- 1. the cube, the contiguity, esda ---------------------------------------------------------
    end = _end_of(months)
    cube, cube_s, cube_cpu = _timed(
        build_cube, "inegi", level="municipality", bin="month", start=START, end=end
    )
    _, esda_s, _ = _timed(esda)  # esda and libpysal's weights, imported with Numba hidden
    c, contig_s, _ = _timed(contig.bundled, "municipality", "nearest")
    rss["setup"] = (_rss_mib(), _maxrss_mib())
    pos = pd.Index(cube.codes).get_indexer(list(c.codes))
    assert (pos >= 0).all(), "the cube lacks a municipality of the contiguity"
    counts = cube.counts[pos]  # the rows the analysis reads, in contiguity order
    adjacency = c.matrix()
    deg = np.diff(adjacency.indptr)

    # -- 2. reference: one map ---------------------------------------------------------------------
    y = counts[:, -1].astype(float)
    hotspots(y, c, permutations=perms, seed=SEED)  # warm-up (first call: esda's lazy imports)
    ref_runs, ref_cpu, gi_runs = [], [], []
    for _ in range(args.repeat):
        frame, s, cpu = _timed(hotspots, y, c, permutations=perms, seed=SEED)
        ref_runs.append(s)
        ref_cpu.append(cpu)
        _, s, _ = _timed(_total_randomisation_p, y, c, perms, SEED)
        gi_runs.append(s)
    ref_s, gi_s = statistics.median(ref_runs), statistics.median(gi_runs)
    ref_hot = int((frame["hotspot"] == "hot spot").sum())
    ref_cold = int((frame["hotspot"] == "cold spot").sum())
    rss["reference"] = (_rss_mib(), _maxrss_mib())

    # -- 3. vdto: the cube, both global windows ----------------------------------------------------
    runs: dict[str, dict] = {}
    for window in ("cube", "bin"):  # the timed runs of both windows first, for ru_maxrss
        before = (_rss_mib(), _maxrss_mib())
        walls, cpus, results = [], [], []
        for _ in range(args.repeat):
            res, s, cpu = _timed(
                analyse_cube, cube, value="count", k=K, permutations=perms, seed=SEED, window=window
            )
            walls.append(s)
            cpus.append(cpu)
            results.append(res)
        res = results[0]
        spots = res.cells["spot"].value_counts()
        runs[window] = {
            "walls": walls,
            "cpus": cpus,
            "wall": statistics.median(walls),
            "before": before,
            "after": (_rss_mib(), _maxrss_mib()),
            "table": res.table,
            "same": all(r.table.equals(res.table) for r in results),
            "meta": res.meta,
            "hot_cells": int(spots.get("hot spot", 0)),
            "cold_cells": int(spots.get("cold spot", 0)),
            "patterns": {**res.counts(), LEFT_OUT: int((res.table["pattern"] == LEFT_OUT).sum())},
        }
        del results, res
    for window, run in runs.items():  # then memory and where the time goes
        tracemalloc.start()
        traced, traced_s, _ = _timed(analyse_cube, cube, value="count", k=K, permutations=perms, seed=SEED,
                                     window=window)  # fmt: skip
        _, traced_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        run["same"] = run["same"] and traced.table.equals(run["table"])
        run["traced_s"], run["traced_peak_mib"] = traced_s, traced_peak / (1 << 20)
        del traced
        _, run["gi_only_s"], _ = _timed(
            spacetime_gi, counts, adjacency, k=K, permutations=perms, seed=SEED, window=window
        )
        run["parts"] = _parts(counts.astype(float), adjacency, perms, window)
    load1 = os.getloadavg()[0]

    # -- report ------------------------------------------------------------------------------------
    print_machine(
        console,
        [
            ("cpu", cpu_name()),
            *_machine("scipy"),
            ("load average (1 min) at start / end", f"{load0:.2f} / {load1:.2f}"),
        ],
    )

    table = Table(title="The cube")
    table.add_column("")
    table.add_column("value", justify="right")
    table.add_row("source", cube.label)
    table.add_row("span", f"{cube.span()[0]} to {cube.span()[1]} ({len(cube.bins)} months)")
    table.add_row("municipality codes in the cube", f"{len(cube.codes):,}")
    table.add_row("of which in the bundled contiguity (analysed)", f"{len(c.codes):,}")
    table.add_row("cells analysed (municipalities x months)", f"{len(c.codes) * len(cube.bins):,}")
    table.add_row(
        "deaths in the cube / in the cells analysed", f"{cube.counts.sum():,.0f} / {counts.sum():,.0f}"
    )
    table.add_row("cells with 0 deaths", f"{(counts == 0).mean():.1%}")
    table.add_row("build_cube (s, CPU)", f"{cube_s:.3f} ({cube_cpu:.3f})")
    table.add_row("import esda + libpysal (s)", f"{esda_s:.3f}")
    table.add_row("contiguity.bundled: polygons + queen (s)", f"{contig_s:.3f}")
    table.add_row(
        "neighbourhood, one map: region + queen neighbours (mean)",
        f"{1 + deg.mean():.2f} ({deg.sum():,} links)",
    )
    p = runs["cube"]["parts"]
    table.add_row(
        f"neighbourhood, space-time, lag {K} (mean over cells)",
        f"{p['nnz'] / p['cells']:.2f} ({p['nnz']:,} weights)",
    )
    console.print(table)

    table = Table(title=f"Reference: one-map Gi* (total randomisation), {perms} permutations, last month")
    table.add_column("")
    table.add_column("value", justify="right")
    table.add_row("hotspots (Gi* + local Moran): runs (s)", ", ".join(f"{s:.3f}" for s in ref_runs))
    table.add_row("  median (CPU)", f"{ref_s:.3f} ({statistics.median(ref_cpu):.3f})")
    table.add_row(f"  median x {months} months", f"{ref_s * months:.2f}")
    table.add_row("Gi* test alone (_total_randomisation_p): runs (s)", ", ".join(f"{s:.3f}" for s in gi_runs))
    table.add_row(f"  median x {months} months", f"{gi_s * months:.2f}")
    table.add_row("hot / cold spots (p <= 0.05) in that month", f"{ref_hot} / {ref_cold}")
    console.print(table)

    table = Table(title=f"analyse_cube(cube, value='count', k={K}, permutations={perms}, seed={SEED})")
    table.add_column("")
    for w in runs:
        table.add_column(f"window {w}", justify="right")

    def row(label, fn):
        table.add_row(label, *(fn(r) for r in runs.values()))

    row("runs (s)", lambda r: ", ".join(f"{s:.2f}" for s in r["walls"]))
    row("CPU seconds", lambda r: ", ".join(f"{s:.2f}" for s in r["cpus"]))
    row("[b]seconds (median)[/b]", lambda r: f"[b]{r['wall']:.2f}[/b]")
    row("spacetime_gi alone, one run (s)", lambda r: f"{r['gi_only_s']:.2f}")
    row("  its steps replayed: weights + exact moments", lambda r: f"{r['parts']['setup']:.2f}")
    row(f"  relabelling ({perms} x Generator.permuted)", lambda r: f"{r['parts']['permuted']:.2f}")
    row("  sparse products W @ shuffled", lambda r: f"{r['parts']['product']:.2f}")
    row("  counts above / below", lambda r: f"{r['parts']['counts']:.2f}")
    row(f"ratio / ({months} x hotspots)", lambda r: f"{r['wall'] / (months * ref_s):.2f}")
    row(f"ratio / ({months} x Gi* test alone)", lambda r: f"{r['wall'] / (months * gi_s):.2f}")
    row("peak traced memory (tracemalloc, MiB)", lambda r: f"{r['traced_peak_mib']:.1f}")
    row("  time of the traced run (s)", lambda r: f"{r['traced_s']:.2f}")
    row("RSS before the runs: now / max (MiB)", lambda r: f"{r['before'][0]:.0f} / {r['before'][1]:.0f}")
    row("RSS after the runs: now / max (MiB)", lambda r: f"{r['after'][0]:.0f} / {r['after'][1]:.0f}")
    row("same table in every run", lambda r: str(r["same"]))
    row("cells tested", lambda r: f"{r['meta']['cells']:,}")
    row("significant cells (p <= 0.05)", lambda r: f"{r['meta']['significant_cells']:,}")
    row("  hot / cold", lambda r: f"{r['hot_cells']:,} / {r['cold_cells']:,}")
    row(f"target < {TARGET_S:g} s", lambda r: "PASS" if r["wall"] < TARGET_S else "FAIL")
    console.print(table)

    table = Table(title="Pattern classes (municipalities)")
    table.add_column("pattern")
    for w in runs:
        table.add_column(f"window {w}", justify="right")
    for name in (*CLASSES, LEFT_OUT):
        table.add_row(name, *(f"{r['patterns'][name]:,}" for r in runs.values()))
    console.print(table)

    console.print(
        f"RSS (now / max, MiB): at start {rss['start'][0]:.0f} / {rss['start'][1]:.0f}; after the cube, "
        f"contiguity and esda {rss['setup'][0]:.0f} / {rss['setup'][1]:.0f}; after the reference "
        f"{rss['reference'][0]:.0f} / {rss['reference'][1]:.0f}; at the end {_rss_mib():.0f} / {_maxrss_mib():.0f}"
    )
    console.print(
        f"The space-time neighbourhood with lag {K} holds the region and its neighbours in this bin and the "
        f"one before: {p['nnz'] / p['cells'] / (1 + deg.mean()):.2f}x the one-map neighbourhood, so the cube "
        f"sums about twice the values of {months} one-map tests; hotspots also runs local Moran."
    )
    cold = cube_s + contig_s + esda_s + runs["cube"]["wall"]
    console.print(
        f"cold, window cube (building the cube + contiguity + esda + analysis): {cold:.2f} s "
        f"({'PASS' if cold < TARGET_S else 'FAIL'} against {TARGET_S:g} s)"
    )
    for w, r in runs.items():
        verdict = "PASS" if r["wall"] < TARGET_S else "FAIL"
        console.print(f"target: window {w}, {perms} permutations, {months} months < {TARGET_S:g} s: "
                      f"{verdict} ({r['wall']:.2f} s)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
