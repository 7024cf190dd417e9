"""Regional hot-spot benchmark: Gi* and local Moran for all 2,457 municipalities.

Run from the repository root::

    uv run python benchmarks/bench_regions.py                  # 999 permutations, 5 repeats
    uv run python benchmarks/bench_regions.py --quick          # 2 repeats, 50 reference regions
    uv run python benchmarks/bench_regions.py --permutations 9999 --repeats 3 --seed 7

Everything runs in this one process, in this order:

1. **End to end, cold**: importing numpy, pandas, scipy and shapely, then esda and libpysal
   (timed apart), the municipal polygons
   (``region_polygons("municipality")``: reading the bundled shapefile and ``make_valid``),
   queen contiguity over them (``queen``) and the first ``hotspots`` call (Gi* and local Moran,
   ``--permutations``) on real values. The target: under 10 s on 2 cores.
2. **Repeats**: the polygons again with their cache cleared (the shapefile read by
   ``vdto.regions.geography`` stays cached, so this is ``make_valid`` and sorting), ``queen`` and ``hotspots``
   (``--repeats`` each, medians printed), and esda's ``G_Local`` and ``Moran_Local`` timed on
   their own with the settings ``hotspots`` uses.
3. **Reference**: a plain NumPy conditional-permutation Gi*, the same statistic (row-standardised
   weights with the region itself in its neighbourhood): a loop over regions, each drawing
   ``--permutations`` random sets of its k neighbours from the other 2,456 values
   (``Generator.choice`` without replacement) and computing esda's pseudo p-value; timed on
   ``--ref-regions`` regions picked at random, scaled to all 2,457, and compared with esda's
   p-values for the same regions. esda draws one table of ``--permutations`` x (most neighbours)
   random positions and reuses it for every region, so most of the ratio is the reference's
   fresh draws per region; the two agree on the p-values up to Monte Carlo noise.

Values: the real region scores of the bundled UCDP GED events, 2019-01-01 to 2023-12-31, at
municipality level (``vdto.regional.panel.region_scores``, default rubric, no counts: about three
quarters of the municipalities score 0), and a seeded lognormal vector (no ties) for the
reference comparison. Building the scores is not part of the hot-spot timing (printed apart).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

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


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform

    return platform.processor() or "unknown"


def machine() -> list[tuple[str, str]]:
    import importlib.util

    rows = _machine("scipy", "shapely", "libpysal", "esda")
    numba = importlib.util.find_spec("numba")
    if numba is None:
        numba_row = "not installed (esda runs its plain-Python fallback)"
    else:
        import numba as nb

        numba_row = nb.__version__
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

    from vdto.demo import UCDP_FILE, bundled
    from vdto.events import ucdp
    from vdto.orgs import Registry
    from vdto.regional.panel import region_scores

    registry = Registry.seed()
    batch = ucdp.parse(bundled(*UCDP_FILE), registry)
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


def esda_parts(y, contiguity, permutations: int, seed: int) -> dict:
    """G_Local and Moran_Local timed on their own, with the settings of ``hotspots``."""
    import warnings

    import esda
    from libpysal.weights import fill_diagonal

    w = contiguity.weights()
    w.transform = "B"
    ws = fill_diagonal(w, 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g, g_s, _ = _timed(
            esda.G_Local, y, ws, transform="R", permutations=permutations, star=None, seed=seed, n_jobs=1
        )
        w.transform = "R"
        _, m_s, _ = _timed(
            esda.Moran_Local, y, w, transformation="r", permutations=permutations, seed=seed, n_jobs=1
        )
    return {"g": g, "g_s": g_s, "m_s": m_s}


def tie_aware_p(g, permutations: int):
    """Pseudo p-values from esda's kept simulations, with ties counted on both sides.

    esda's default ('directed') counts simulations >= the observed value and folds the count
    when it is above half, so a region at the bottom of the distribution with many ties gets
    p = 1 / (permutations + 1). Here p = (min(#sim >= obs, #sim <= obs) + 1) / (permutations + 1),
    with a relative tolerance for rounding.
    """
    import numpy as np

    obs = np.asarray(g.Gs, float)[:, None]
    sims = np.asarray(g.rGs, float)
    tol = 1e-9 * np.maximum(np.abs(obs), 1e-300)
    ge = (sims >= obs - tol).sum(axis=1)
    le = (sims <= obs + tol).sum(axis=1)
    return (np.minimum(ge, le) + 1.0) / (permutations + 1.0)


def reference_gi(y, contiguity, regions, permutations: int, seed: int):
    """Plain NumPy conditional-permutation Gi* for ``regions`` (positions in contiguity.codes)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    codes = list(contiguity.codes)
    pos = {c: i for i, c in enumerate(codes)}
    n = len(y)
    total = y.sum()
    p = np.empty(len(regions))
    for r, i in enumerate(regions):
        nb = np.array([pos[c] for c in contiguity.neighbors[codes[i]]], dtype=np.int64)
        k = len(nb)
        obs = (y[i] + y[nb].sum()) / (k + 1) / total
        others = np.delete(y, i)
        sims = np.empty(permutations)
        for s in range(permutations):
            draw = rng.choice(n - 1, size=k, replace=False)
            sims[s] = (y[i] + others[draw].sum()) / (k + 1) / total
        larger = int((sims >= obs).sum())
        if permutations - larger < larger:
            larger = permutations - larger
        p[r] = (larger + 1) / (permutations + 1)
    return p


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
    import esda  # noqa: F401
    import libpysal  # noqa: F401

    from vdto.regional.hotspots import COLD, HOT, NONE, hotspots

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
        parts = [esda_parts(y, contiguity, perms, args.seed) for _ in range(repeats)]
        hot[name] = {
            "runs": runs,
            "cpus": cpus,
            "frame": frames[0],
            "same": all(f.equals(frames[0]) for f in frames)
            and (name != "ucdp" or out_real.equals(frames[0])),
            "g_s": statistics.median(p["g_s"] for p in parts),
            "m_s": statistics.median(p["m_s"] for p in parts),
            "g": parts[0]["g"],
        }

    # -- 3. reference -----------------------------------------------------------------------------
    n = len(contiguity.codes)
    pick = np.sort(np.random.default_rng(args.seed + 1).choice(n, size=min(n_ref, n), replace=False))
    ref_p, ref_s, ref_cpu = _timed(reference_gi, y_logn, contiguity, pick, perms, args.seed)
    ref_per_region = ref_s / len(pick)
    g_logn = hot["lognormal"]["g"]
    esda_p = np.asarray(g_logn.p_sim, float)[pick]
    diff = np.abs(ref_p - esda_p)
    agree = float(((ref_p <= ALPHA) == (esda_p <= ALPHA)).mean())
    corr = float(np.corrcoef(ref_p, esda_p)[0, 1])
    peak_mib = _peak_rss_kib() / 1024

    # -- report -----------------------------------------------------------------------------------
    from rich.console import Console
    from rich.table import Table

    console = Console()
    info = Table(title="Machine", show_header=False)
    for k, v in machine():
        info.add_row(k, v)
    console.print(info)

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
        table.add_row(f"  of which esda G_Local alone, {name}", "", f"{h['g_s']:.3f}")
        table.add_row(f"  of which esda Moran_Local alone, {name}", "", f"{h['m_s']:.3f}")
    console.print(table)
    console.print(
        "same seed, same frame over the repeats (ucdp: and the cold call): "
        + ", ".join(f"{name} {h['same']}" for name, h in hot.items())
    )

    table = Table(title="Hot spots found (FDR, alpha 0.05)")
    table.add_column("")
    for name in hot:
        table.add_column(name, justify="right")
    for label, col, val in (
        ("Gi* hot spots", "hotspot", HOT),
        ("Gi* cold spots", "hotspot", COLD),
        ("Gi* not significant", "hotspot", NONE),
        ("local Moran high-high", "cluster", "high-high"),
        ("local Moran low-low", "cluster", "low-low"),
        ("local Moran outliers (high-low, low-high)", "cluster", ("high-low", "low-high")),
    ):
        vals = val if isinstance(val, tuple) else (val,)
        table.add_row(label, *(f"{int(h['frame'][col].isin(vals).sum()):,}" for h in hot.values()))
    for name_row, fn in (
        ("Gi* p = 1/(permutations+1)", lambda h: int((h["frame"]["gi_p"] <= 1.5 / (perms + 1)).sum())),
        ("Gi* cold spots, tie-aware p <= 0.05 (no FDR)", lambda h: int(
            ((tie_aware_p(h["g"], perms) <= ALPHA) & (np.asarray(h["g"].Zs) < 0)).sum())),
        ("Gi* cold spots, esda p <= 0.05 (no FDR)", lambda h: int(
            ((np.asarray(h["g"].p_sim) <= ALPHA) & (np.asarray(h["g"].Zs) < 0)).sum())),
    ):  # fmt: skip
        table.add_row(name_row, *(f"{fn(h):,}" for h in hot.values()))
    console.print(table)

    projected = ref_per_region * n
    g_s = hot["lognormal"]["g_s"]
    full_s = statistics.median(hot["lognormal"]["runs"])
    table = Table(
        title=f"Gi* per region: plain NumPy reference against esda ({perms} permutations, lognormal)"
    )
    table.add_column("")
    table.add_column("value", justify="right")
    table.add_row("reference regions (random)", f"{len(pick)}")
    table.add_row("reference seconds (CPU)", f"{ref_s:.3f} ({ref_cpu:.3f})")
    table.add_row("reference ms per region", f"{ref_per_region * 1e3:.3f}")
    table.add_row(f"reference projected to {n:,} regions (s)", f"{projected:.1f}")
    table.add_row("esda G_Local, all regions (s, median)", f"{g_s:.3f}")
    table.add_row("esda ms per region", f"{g_s / n * 1e3:.4f}")
    table.add_row("ratio reference / esda G_Local", f"{projected / g_s:,.1f}x")
    table.add_row("ratio reference Gi* / hotspots (Gi* + Moran + FDR)", f"{projected / full_s:,.1f}x")
    table.add_row("p-values: mean / max |reference - esda|", f"{diff.mean():.4f} / {diff.max():.4f}")
    table.add_row("p-values: correlation", f"{corr:.4f}")
    table.add_row(f"same verdict at p <= {ALPHA} (no FDR)", f"{agree:.1%}")
    table.add_row("peak RSS of the process (MiB)", f"{peak_mib:.1f}")
    console.print(table)
    console.print(
        "The reference and esda draw different random numbers, so their p-values differ by Monte Carlo "
        f"noise (standard error about {np.sqrt(0.25 / perms):.3f} at p = 0.5). esda reuses one table of "
        "permuted positions for every region; the reference draws afresh for each region."
    )
    console.print(f"target: whole municipal hot-spot run < {TARGET_S:g} s: {verdict} ({end_to_end:.3f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
