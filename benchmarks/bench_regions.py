"""Regional hot-spot benchmark: Gi* and local Moran for all 2,457 municipalities.

Run from the repository root::

    uv run python benchmarks/bench_regions.py                  # 999 permutations, 5 repeats
    uv run python benchmarks/bench_regions.py --quick          # 2 repeats, 50 reference regions
    uv run python benchmarks/bench_regions.py --permutations 9999 --repeats 3 --seed 7

What ``hotspots`` does, and so what is timed: esda's ``G_Local`` (``permutations=0``) gives the
Gi* statistic and its z; its significance comes from ``_total_randomisation_p`` (all values
shuffled over the map with ``numpy.random.default_rng(seed)``, neighbourhood sums, the region
itself included, by one sparse matrix product per block of 250 shuffles, and ``pseudo_p``, ties
counted on both sides); esda's ``Moran_Local`` (conditional permutation) gives the clusters.

Everything runs in this one process, in this order:

1. **End to end, cold**: importing numpy, pandas, scipy and shapely, then esda and libpysal
   (timed apart), the municipal polygons (``region_polygons("municipality")``: reading the
   bundled shapefile and ``make_valid``), queen contiguity over them (``queen``) and the first
   ``hotspots`` call (``--permutations``) on real values. The target: under 10 s on 2 cores.
2. **Repeats**: the polygons again with their cache cleared (the shapefile read by
   ``vdto.geography.geography`` stays cached, so this is ``make_valid`` and sorting), ``queen`` and
   ``hotspots`` (``--repeats`` each, medians printed), and its parts timed on their own with the
   settings ``hotspots`` uses: ``_total_randomisation_p``, esda's ``G_Local`` (no permutations)
   and esda's ``Moran_Local``.
3. **Reference**: a plain NumPy/Python total-randomisation Gi* test: a loop over
   ``--permutations`` shuffles of all values (``Generator.permutation``) and, inside it, a loop
   over ``--ref-regions`` regions picked at random, each summing its neighbourhood (itself
   included) in the shuffled values; then, per region, a Python count of the simulated sums at
   or above and at or below the observed one (ties on both sides, the same tolerance as
   ``pseudo_p``). The shuffles are timed apart and counted once (the whole map must be shuffled
   whatever the number of regions); the per-region part is scaled to all 2,457. With the same
   seed the reference's ``Generator.permutation`` per shuffle consumes the random stream as
   ``_total_randomisation_p``'s ``Generator.permuted`` column by column does, so the two draw
   the same shuffles and their p-values should be identical (compared on both value vectors).

Values: the real region scores of the bundled UCDP GED events, 2019-01-01 to 2023-12-31, at
municipality level (``vdto.regional.panel.region_scores``, default rubric, no counts: about three
quarters of the municipalities score 0), and a seeded lognormal vector (no ties). Building the
scores is not part of the hot-spot timing (printed apart).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

from _measure import cpu_name, print_machine
from _measure import machine as _machine
from _measure import peak_rss_kib as _peak_rss_kib

DEFAULT_SEED = 20240601
DEFAULT_PERMUTATIONS = 999
DEFAULT_REPEATS = 5
QUICK_REPEATS = 2
REF_REGIONS = 200
QUICK_REF_REGIONS = 50
SCORE_START, SCORE_END = "2019-01-01", "2023-12-31"
TARGET_S = 10.0  # end to end, cold: imports + polygons + queen + hotspots
ALPHA = 0.05


def machine() -> list[tuple[str, str]]:
    import importlib.util

    rows = _machine("scipy", "shapely", "libpysal", "esda")
    numba = importlib.util.find_spec("numba")
    if numba is None:
        numba_row = "not installed (esda runs its plain-Python fallback)"
    else:
        import numba as nb

        numba_row = f"{nb.__version__} (hidden from esda by vdto.regional.pysal: plain-Python fallback)"
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return [
        ("cpu", cpu_name()),
        *rows,
        ("numba", numba_row),
        ("load average (1 min) at start", f"{load:.2f}"),
    ]


def _timed(fn, *args, **kwargs):
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t0, time.process_time() - c0


def ucdp_scores(codes: list[str]):
    """Real municipal scores: the bundled UCDP GED events, default rubric, no counts."""
    from datetime import date

    from vdto.data import bundled
    from vdto.events import ucdp
    from vdto.orgs import Registry
    from vdto.regional.panel import region_scores

    registry = Registry.seed()
    batch = ucdp.parse(bundled("ucdp"), registry)
    res = region_scores(
        batch.events,
        batch.perpetrators,
        None,
        registry,
        level="municipality",
        start=date.fromisoformat(SCORE_START),
        end=date.fromisoformat(SCORE_END),
    )
    return res.values(codes)


def parts(y, contiguity, permutations: int, seed: int) -> dict:
    """The parts of ``hotspots`` timed on their own, with the settings it uses."""
    import warnings

    import numpy as np
    from libpysal.weights import fill_diagonal

    from vdto.regional.hotspots import _total_randomisation_p
    from vdto.regional.pysal import esda as _esda

    esda = _esda()

    _, p_s, _ = _timed(_total_randomisation_p, y, contiguity, permutations, seed)
    w = contiguity.weights()
    w.transform = "B"
    ws = fill_diagonal(w, 1.0)
    state = np.random.get_state()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _, g_s, _ = _timed(esda.G_Local, y, ws, transform="B", permutations=0, star=None)
            w.transform = "R"
            _, m_s, _ = _timed(
                esda.Moran_Local, y, w, transformation="r", permutations=permutations, seed=seed, n_jobs=1
            )
    finally:
        np.random.set_state(state)
    return {"p_s": p_s, "g_s": g_s, "m_s": m_s}


def reference_gi_p(y, contiguity, regions, permutations: int, seed: int):
    """Plain NumPy/Python total-randomisation Gi* p-values for ``regions`` (positions in
    contiguity.codes). Returns the p-values and the seconds spent shuffling and per region."""
    import numpy as np

    rng = np.random.default_rng(seed)
    codes = list(contiguity.codes)
    pos = {c: i for i, c in enumerate(codes)}
    hoods = [
        np.array([i] + [pos[c] for c in contiguity.neighbors[codes[i]]], dtype=np.int64) for i in regions
    ]
    t0 = time.perf_counter()
    observed = [float(y[h].sum()) for h in hoods]
    sims = [[0.0] * permutations for _ in hoods]
    region_s = time.perf_counter() - t0
    shuffle_s = 0.0
    for s in range(permutations):
        t0 = time.perf_counter()
        shuffled = rng.permutation(y)
        t1 = time.perf_counter()
        for r, h in enumerate(hoods):
            sims[r][s] = float(shuffled[h].sum())
        shuffle_s += t1 - t0
        region_s += time.perf_counter() - t1
    t0 = time.perf_counter()
    p = np.empty(len(hoods))
    for r, obs in enumerate(observed):
        tol = 1e-9 * max(abs(obs), max(abs(v) for v in sims[r]))
        above = sum(1 for v in sims[r] if v >= obs - tol)
        below = sum(1 for v in sims[r] if v <= obs + tol)
        p[r] = (min(above, below) + 1) / (permutations + 1)
    region_s += time.perf_counter() - t0
    return p, shuffle_s, region_s


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--permutations", type=int, default=DEFAULT_PERMUTATIONS, help="default 999")
    ap.add_argument("--repeats", type=int, default=None, help=f"timed repeats (default {DEFAULT_REPEATS})")
    ap.add_argument("--ref-regions", type=int, default=None, help=f"reference regions ({REF_REGIONS})")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED, help="seed of the permutations and values")
    ap.add_argument("--quick", action="store_true", help="fewer repeats and reference regions")
    args = ap.parse_args(argv)
    repeats = args.repeats or (QUICK_REPEATS if args.quick else DEFAULT_REPEATS)
    n_ref = args.ref_regions or (QUICK_REF_REGIONS if args.quick else REF_REGIONS)
    perms = args.permutations
    if repeats < 1 or n_ref < 1 or perms < 99:
        ap.error("--repeats and --ref-regions must be at least 1, --permutations at least 99")

    # -- 1. end to end, cold ---------------------------------------------------------------------
    t_start = time.perf_counter()
    t0 = time.perf_counter()
    import numpy as np
    import pandas  # noqa: F401
    import scipy.sparse  # noqa: F401
    import shapely  # noqa: F401

    from vdto.regional.contiguity import queen, region_polygons

    base_imports_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    import libpysal  # noqa: F401

    from vdto.regional.hotspots import COLD, HOT, NONE, hotspots
    from vdto.regional.pysal import esda

    esda()

    imports_s = time.perf_counter() - t0
    (codes, polys), polys_cold_s, _ = _timed(region_polygons, "municipality")
    contiguity, queen_cold_s, _ = _timed(queen, list(codes), list(polys))
    cold_wall_before_values = time.perf_counter() - t_start

    values_t0 = time.perf_counter()
    y_real = ucdp_scores(list(contiguity.codes))
    values_s = time.perf_counter() - values_t0
    y_logn = np.random.default_rng(args.seed).lognormal(0.0, 1.0, len(contiguity.codes))

    out_real, hot_cold_s, hot_cold_cpu = _timed(
        hotspots, y_real, contiguity, permutations=perms, seed=args.seed
    )
    end_to_end = cold_wall_before_values + hot_cold_s

    # -- 2. repeats ---------------------------------------------------------------------------------
    polys_s, queen_s = [], []
    for _ in range(repeats):
        region_polygons.cache_clear()
        (codes, polys), s, _ = _timed(region_polygons, "municipality")
        polys_s.append(s)
        _, s, _ = _timed(queen, list(codes), list(polys))
        queen_s.append(s)
    hot = {}
    for name, y in (("ucdp", y_real), ("lognormal", y_logn)):
        runs, cpus, frames = [], [], []
        for _ in range(repeats):
            frame, s, c = _timed(hotspots, y, contiguity, permutations=perms, seed=args.seed)
            runs.append(s)
            cpus.append(c)
            frames.append(frame)
        timed_parts = [parts(y, contiguity, perms, args.seed) for _ in range(repeats)]
        hot[name] = {
            "y": y,
            "runs": runs,
            "cpus": cpus,
            "frame": frames[0],
            "same": all(f.equals(frames[0]) for f in frames)
            and (name != "ucdp" or out_real.equals(frames[0])),
            "p_runs": [p["p_s"] for p in timed_parts],
            **{key: statistics.median(p[key] for p in timed_parts) for key in ("p_s", "g_s", "m_s")},
        }

    # -- 3. reference -----------------------------------------------------------------------------
    n = len(contiguity.codes)
    pick = np.sort(np.random.default_rng(args.seed + 1).choice(n, size=min(n_ref, n), replace=False))
    for h in hot.values():
        (ref_p, shuffle_s, region_s), ref_s, ref_cpu = _timed(
            reference_gi_p, h["y"], contiguity, pick, perms, args.seed
        )
        vdto_p = h["frame"]["gi_p"].to_numpy(dtype=float)[pick]
        diff = np.abs(ref_p - vdto_p)
        h["ref"] = {
            "s": ref_s,
            "cpu": ref_cpu,
            "shuffle_s": shuffle_s,
            "region_ms": region_s / len(pick) * 1e3,
            "projected": shuffle_s + region_s / len(pick) * n,
            "diff_mean": float(diff.mean()),
            "diff_max": float(diff.max()),
            "identical": int((ref_p == vdto_p).sum()),
            "corr": float(np.corrcoef(ref_p, vdto_p)[0, 1])
            if np.ptp(ref_p) and np.ptp(vdto_p)
            else float("nan"),
            "agree": float(((ref_p <= ALPHA) == (vdto_p <= ALPHA)).mean()),
        }
    peak_mib = _peak_rss_kib() / 1024

    # -- report -----------------------------------------------------------------------------------
    from rich.console import Console
    from rich.table import Table

    console = Console()
    print_machine(console, machine())

    deg = np.diff(contiguity.matrix().indptr)
    table = Table(title="Municipal contiguity (queen, islands='nearest')")
    table.add_column("")
    table.add_column("value", justify="right")
    table.add_row("municipalities", f"{n:,}")
    table.add_row("neighbour links (each direction)", f"{int(deg.sum()):,}")
    table.add_row("neighbours: min / median / max", f"{deg.min()} / {np.median(deg):g} / {deg.max()}")
    table.add_row(
        "islands (no queen neighbour); linked to nearest",
        f"{len(contiguity.islands)}; {len(contiguity.island_links)}",
    )
    console.print(table)

    table = Table(title="Values")
    table.add_column("")
    table.add_column("ucdp", justify="right")
    table.add_column("lognormal", justify="right")
    for label, fn in (
        ("regions > 0", lambda v: f"{int((v > 0).sum()):,}"),
        ("share exactly 0", lambda v: f"{(v == 0).mean():.1%}"),
        ("mean / median / max", lambda v: f"{v.mean():.3f} / {np.median(v):.3f} / {v.max():.1f}"),
    ):
        table.add_row(label, fn(y_real), fn(y_logn))
    console.print(table)
    console.print(
        f"ucdp: region_scores of the bundled UCDP GED events, {SCORE_START} to {SCORE_END}, municipality "
        f"level, default rubric, no counts (built in {values_s:.2f} s, not timed below); lognormal: "
        f"default_rng({args.seed}).lognormal(0, 1, {n})"
    )

    table = Table(title=f"End to end, cold (first calls in this process, {perms} permutations, ucdp values)")
    table.add_column("step")
    table.add_column("seconds", justify="right")
    table.add_row("import numpy, pandas, scipy, shapely, vdto.regional.contiguity", f"{base_imports_s:.3f}")
    table.add_row("import esda + libpysal (and what they pull in)", f"{imports_s:.3f}")
    table.add_row("region_polygons('municipality'): shapefile + make_valid", f"{polys_cold_s:.3f}")
    table.add_row("queen(...) contiguity", f"{queen_cold_s:.3f}")
    table.add_row(
        "hotspots(...): Gi* + local Moran, first call", f"{hot_cold_s:.3f} (CPU {hot_cold_cpu:.3f})"
    )
    table.add_row("total", f"{end_to_end:.3f}")
    verdict = "PASS" if end_to_end < TARGET_S else "FAIL"
    table.add_row("target", f"< {TARGET_S:g} s: {verdict}")
    console.print(table)

    def fmt(xs):
        return ", ".join(f"{x:.3f}" for x in xs)

    table = Table(title=f"Repeats ({repeats} each), {perms} permutations")
    table.add_column("")
    table.add_column("runs (s)")
    table.add_column("median (s)", justify="right")
    table.add_row("region_polygons, its cache cleared", fmt(polys_s), f"{statistics.median(polys_s):.3f}")
    table.add_row("queen", fmt(queen_s), f"{statistics.median(queen_s):.3f}")
    for name, h in hot.items():
        table.add_row(f"hotspots, {name}", fmt(h["runs"]), f"{statistics.median(h['runs']):.3f}")
        table.add_row(f"  CPU seconds, {name}", fmt(h["cpus"]), f"{statistics.median(h['cpus']):.3f}")
        table.add_row(f"  _total_randomisation_p alone, {name}", fmt(h["p_runs"]), f"{h['p_s']:.3f}")
        table.add_row(f"  esda G_Local alone (permutations=0), {name}", "", f"{h['g_s']:.3f}")
        table.add_row(f"  esda Moran_Local alone ({perms} permutations), {name}", "", f"{h['m_s']:.3f}")
    console.print(table)
    console.print(
        "same seed, same frame over the repeats (ucdp: and the cold call): "
        + ", ".join(f"{name} {h['same']}" for name, h in hot.items())
    )

    table = Table(title=f"Hot spots found (alpha {ALPHA})")
    table.add_column("")
    for name in hot:
        table.add_column(name, justify="right")
    for label, col, val in (
        ("Gi* hot spots (p <= alpha, no FDR)", "hotspot", HOT),
        ("Gi* cold spots (p <= alpha, no FDR)", "hotspot", COLD),
        ("Gi* not significant", "hotspot", NONE),
        ("Gi* significant under FDR (Benjamini-Hochberg)", "fdr_significant", True),
        ("local Moran high-high (no FDR)", "cluster", "high-high"),
        ("local Moran low-low (no FDR)", "cluster", "low-low"),
        ("local Moran outliers (high-low, low-high)", "cluster", ("high-low", "low-high")),
    ):
        vals = val if isinstance(val, tuple) else (val,)
        table.add_row(label, *(f"{int(h['frame'][col].isin(vals).sum()):,}" for h in hot.values()))
    table.add_row(
        "Gi* p = 1/(permutations+1)",
        *(f"{int((h['frame']['gi_p'] <= 1.5 / (perms + 1)).sum()):,}" for h in hot.values()),
    )
    console.print(table)

    table = Table(
        title=f"Gi* total randomisation: plain NumPy/Python reference against vdto ({perms} permutations)"
    )
    table.add_column("")
    for name in hot:
        table.add_column(name, justify="right")

    def row(label, fn):
        table.add_row(label, *(fn(h) for h in hot.values()))

    row("reference regions (random)", lambda h: f"{len(pick)}")
    row("reference seconds (CPU)", lambda h: f"{h['ref']['s']:.3f} ({h['ref']['cpu']:.3f})")
    row(f"  of which {perms} shuffles of all {n:,} values", lambda h: f"{h['ref']['shuffle_s']:.3f}")
    row("  per region (sums + counts), ms", lambda h: f"{h['ref']['region_ms']:.3f}")
    row(f"reference projected to {n:,} regions (s)", lambda h: f"{h['ref']['projected']:.1f}")
    row("_total_randomisation_p, all regions (s, median)", lambda h: f"{h['p_s']:.3f}")
    row("ratio reference / _total_randomisation_p", lambda h: f"{h['ref']['projected'] / h['p_s']:,.1f}x")
    row("hotspots, all regions (s, median)", lambda h: f"{statistics.median(h['runs']):.3f}")
    row(
        "ratio reference Gi* test / hotspots (Gi* + Moran)",
        lambda h: f"{h['ref']['projected'] / statistics.median(h['runs']):,.1f}x",
    )
    row(
        "p-values: mean / max |reference - vdto|",
        lambda h: f"{h['ref']['diff_mean']:.4f} / {h['ref']['diff_max']:.4f}",
    )
    row("p-values: identical (of the reference regions)", lambda h: f"{h['ref']['identical']}")
    row("p-values: correlation", lambda h: f"{h['ref']['corr']:.4f}")
    row(f"same verdict at p <= {ALPHA} (no FDR)", lambda h: f"{h['ref']['agree']:.1%}")
    console.print(table)
    console.print(f"peak RSS of the process: {peak_mib:.1f} MiB")
    if all(h["ref"]["identical"] == len(pick) for h in hot.values()):
        console.print(
            "The reference draws the same shuffles as _total_randomisation_p (same seed, same random "
            "stream), so every p-value is identical."
        )
    else:
        console.print(
            "The reference and vdto p-values differ: they should be identical with the same seed "
            f"(Monte Carlo standard error about {np.sqrt(0.25 / perms):.3f} at p = 0.5, for scale)."
        )
    console.print(f"target: whole municipal hot-spot run < {TARGET_S:g} s: {verdict} ({end_to_end:.3f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
