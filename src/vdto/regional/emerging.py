"""Emerging hot and cold spots: Gi* over a space-time cube, a Mann-Kendall trend test per
region, and ESRI's 17 pattern classes.

The method is that of ArcGIS's Emerging Hot Spot Analysis (ESRI, "How Emerging Hot Spot
Analysis works", ArcGIS Pro 3 documentation), written out in docs/regions.md:

1. **Space-time Gi\\*.** Every cell of the cube (a region in a time bin) is tested with the
   Getis-Ord Gi* statistic (Getis & Ord 1992; Ord & Getis 1995) over its *space-time
   neighbourhood*: the region and its queen neighbours in the same bin and in the ``k``
   previous bins (binary weights; the first ``k`` bins have shorter neighbourhoods). The z-score
   is the neighbourhood sum's distance from its expectation under random relabelling, in
   standard deviations, with the exact permutation mean and variance; its p-value is a
   permutation p-value as in :func:`vdto.regional.hotspots.hotspots` (``permutations``
   relabellings drawn from ``seed``, ties counted on both sides). The *global window* says what
   is relabelled: ``cube`` (ESRI's default, the whole cube: a bin is compared with every bin
   of every year, so a country-wide rise makes late bins hot) or ``bin`` (each time slice on
   its own: a region is compared with the rest of the country in the same bin). A cell is a hot
   (cold) spot when its p-value is at most ``alpha`` and its z is positive (negative); with
   ``fdr=True`` the cutoff controls the false discovery rate across the whole cube
   (Benjamini-Hochberg).
2. **Trend.** The Mann-Kendall test (:func:`vdto.regional.trend.mann_kendall`) on each region's
   series of Gi* z-scores says whether the clustering intensifies or diminishes (significant at
   ``trend_alpha``); the same test on the region's counts is reported beside it.
3. **Classes.** ESRI's rules on each region's history of significant bins: new, consecutive,
   intensifying, persistent, diminishing, sporadic, oscillating and historical hot spots, the
   same eight cold spots, and no pattern (:func:`classify`).

Examples
--------
>>> import numpy as np
>>> from scipy import sparse
>>> line = sparse.diags([1.0, 1.0], [-1, 1], shape=(5, 5), format="csr")  # 5 regions in a row
>>> x = np.zeros((5, 12)); x[0, :] = 5.0; x[1, :] = 5.0  # regions 0 and 1 violent throughout
>>> z, p = spacetime_gi(x, line, k=1, permutations=199, seed=1)
>>> bool((p[0, 1:] <= 0.05).all()), bool((z[0] > 0).all())
(True, True)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse

from vdto.errors import VdtoError
from vdto.regional.cube import SpaceTimeCube
from vdto.regional.trend import mann_kendall, min_bins

HOT_CLASSES: tuple[str, ...] = (
    "new hot spot",
    "consecutive hot spot",
    "intensifying hot spot",
    "persistent hot spot",
    "diminishing hot spot",
    "sporadic hot spot",
    "oscillating hot spot",
    "historical hot spot",
)
COLD_CLASSES: tuple[str, ...] = tuple(c.replace("hot", "cold") for c in HOT_CLASSES)
NO_PATTERN = "no pattern detected"
LEFT_OUT = "left out (no neighbours)"
NO_POLYGON = "left out (no polygon)"
CLASSES: tuple[str, ...] = (*HOT_CLASSES, *COLD_CLASSES, NO_PATTERN)
#: How region targets group the hot-spot classes, most urgent group first: hot now and in 90%
#: of the bins (whatever the trend), hot in a recent run or for the first time, hot on and off,
#: no longer hot. Within a group, targets go by score (see docs/regions.md).
TARGET_TIERS: tuple[tuple[str, ...], ...] = (
    ("intensifying hot spot", "persistent hot spot", "diminishing hot spot"),
    ("consecutive hot spot", "new hot spot"),
    ("sporadic hot spot", "oscillating hot spot"),
    ("historical hot spot",),
)
#: The tier of each hot-spot class (0 most urgent); any other class comes after them all.
TARGET_TIER: dict[str, int] = {c: i for i, tier in enumerate(TARGET_TIERS) for c in tier}
WINDOWS: tuple[str, ...] = ("cube", "bin")
#: ESRI's Create Space Time Cube needs at least 10 time steps; below 10 the normal
#: approximation of the Mann-Kendall test is rough (Gilbert 1987, ch. 16).
MIN_BINS = 10
_BLOCK = 32  # relabellings per block: memory is cells x block


def check_options(*, bins: int, k: int, permutations: int, alpha: float, trend_alpha: float,
                  window: str) -> None:  # fmt: skip
    """One-line errors for options no analysis can run with, before any work."""
    from vdto.regional.hotspots import check_options as check_test

    check_test(permutations, alpha)
    if not 0 < trend_alpha < 1:
        raise VdtoError(f"trend_alpha must be between 0 and 1 (got {trend_alpha})", fix="use e.g. 0.05",
                        param="trend_alpha")  # fmt: skip
    if window not in WINDOWS:
        raise VdtoError(f"unknown global window {window!r}", fix=f"use one of: {', '.join(WINDOWS)}",
                        param="window")  # fmt: skip
    if k < 0:
        raise VdtoError(f"the time lag must be 0 or more (got {k})", fix="use e.g. 1", param="k")
    need = max(MIN_BINS, min_bins(trend_alpha))
    if bins - k < need and k > 1 and bins - 1 >= need:
        raise VdtoError(
            f"a time lag of {k} bins leaves {max(bins - k, 0)} of the {bins} bins with a full neighbourhood; "
            f"a Mann-Kendall trend test needs {need}",
            fix=f"use a lag of at most {bins - need}",
            param="k",
        )
    if bins - k < need:
        lag = f" after the first {k} (whose neighbourhoods are shorter)" if k else ""
        raise VdtoError(
            f"a Mann-Kendall trend test needs at least {need} time bins{lag}; the cube has {bins}",
            fix=f"use shorter bins (quarter or month) or a longer span ({need + k} bins at least)",
            param="bin",
        )


def spacetime_weights(adjacency: sparse.spmatrix, bins: int, k: int) -> sparse.csr_matrix:
    """Binary space-time weights over cells ordered bin by bin (cell ``t * R + i``): region
    ``i`` in bin ``t`` neighbours region ``j`` in bin ``s`` when ``j`` is ``i`` or a spatial
    neighbour of it and ``t - k <= s <= t``."""
    r = adjacency.shape[0]
    space = (sparse.csr_matrix(adjacency, dtype=float) + sparse.identity(r, format="csr")).tocsr()
    space.data[:] = 1.0
    lags = range(min(k, bins - 1) + 1)
    time = sparse.diags([np.ones(bins - d) for d in lags], [-d for d in lags], shape=(bins, bins), format="csr",
                        dtype=float)  # fmt: skip
    return sparse.kron(time, space, format="csr")


def _moments(w: sparse.csr_matrix, v: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact mean and variance of each cell's neighbourhood sum when the values are relabelled
    at random within each group (sampling without replacement)."""
    n_groups = int(groups.max()) + 1
    size = np.bincount(groups, minlength=n_groups).astype(float)
    mean = np.bincount(groups, weights=v, minlength=n_groups) / size
    var = np.bincount(groups, weights=(v - mean[groups]) ** 2, minlength=n_groups) / size  # population
    member = sparse.csr_matrix((np.ones(len(v)), (np.arange(len(v)), groups)), shape=(len(v), n_groups))
    m = (w @ member).tocoo()  # neighbours of each cell in each group (sparse: k + 1 groups at most)
    expect = w @ mean[groups]
    size_g = size[m.col]
    with np.errstate(divide="ignore", invalid="ignore"):
        part = np.where(size_g > 1, m.data * (size_g - m.data) / (size_g - 1), 0.0) * var[m.col]
    return expect, np.bincount(m.row, weights=part, minlength=len(v))


def spacetime_gi(x: np.ndarray, adjacency: sparse.spmatrix, *, k: int = 1, permutations: int = 999,
                 seed: int = 0, window: str = "cube") -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Gi* z-scores and permutation p-values of every cell of ``x`` (regions x bins).

    ``adjacency`` is the binary spatial contiguity (regions x regions, no diagonal). Returns
    two arrays shaped like ``x``. See the module docstring."""
    x = np.asarray(x, dtype=float)
    if x.ndim != 2 or not np.isfinite(x).all():
        raise VdtoError("the cube must be regions x bins of finite numbers", fix="fill missing cells with 0",
                        param="cube")  # fmt: skip
    if np.abs(x).max(initial=0.0) > 1e100:
        raise VdtoError("the cube holds values beyond 1e100, whose sums overflow",
                        fix="give counts or rates in ordinary units", param="cube")  # fmt: skip
    if window not in WINDOWS:
        raise VdtoError(f"unknown global window {window!r}", fix=f"use one of: {', '.join(WINDOWS)}",
                        param="window")  # fmt: skip
    r, t = x.shape
    w = spacetime_weights(adjacency, t, k)
    v = x.T.ravel()  # bin by bin
    groups = np.zeros(len(v), dtype=np.int64) if window == "cube" else np.repeat(np.arange(t), r)
    observed = w @ v
    expect, variance = _moments(w, v, groups)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(variance > 0, (observed - expect) / np.sqrt(variance), 0.0)
    # a relative tolerance absorbs the rounding of sums taken in different orders
    tol = 1e-9 * np.maximum(np.abs(observed), np.asarray(w.sum(axis=1)).ravel() * np.abs(v).max(initial=0.0))
    above = np.zeros(len(v), dtype=np.int64)
    below = np.zeros(len(v), dtype=np.int64)
    rng = np.random.default_rng(seed)
    for start in range(0, permutations, _BLOCK):
        b = min(_BLOCK, permutations - start)
        if window == "cube":
            shuffled = rng.permuted(np.broadcast_to(v[:, None], (len(v), b)), axis=0)
        else:
            shuffled = rng.permuted(np.broadcast_to(x.T[:, :, None], (t, r, b)), axis=1).reshape(t * r, b)
        sims = w @ shuffled
        above += (sims >= (observed - tol)[:, None]).sum(axis=1)
        below += (sims <= (observed + tol)[:, None]).sum(axis=1)
    p = (np.minimum(above, below) + 1) / (permutations + 1)
    return z.reshape(t, r).T, p.reshape(t, r).T


def _trailing_run(flags: np.ndarray) -> np.ndarray:
    """Length of the run of True that ends in the last bin, per row."""
    return np.cumprod(flags[:, ::-1], axis=1).sum(axis=1)


def _side(own: np.ndarray, other: np.ndarray, rising: np.ndarray, falling: np.ndarray,
          names: tuple[str, ...]) -> np.ndarray:  # fmt: skip
    """The class of each row whose last bin is significant on ``own``'s side (``""`` otherwise),
    or historical when it is not but 90% of its bins are; ``rising`` is the significant trend
    that intensifies this side, ``falling`` the one that diminishes it."""
    new, consecutive, intensifying, persistent, diminishing, sporadic, oscillating, historical = names
    n = own.shape[1]
    total = own.sum(axis=1)
    most = 10 * total >= 9 * n  # "90 percent of the time-step intervals"
    last = own[:, -1]
    run = _trailing_run(own)
    before_run = total - run  # own-side bins before the final run
    out = np.full(own.shape[0], "", dtype=object)
    out[last & most] = persistent
    out[last & most & rising] = intensifying
    out[last & most & falling] = diminishing
    rest = last & ~most
    out[rest] = sporadic
    out[rest & (before_run == 0) & (run >= 2)] = consecutive
    out[rest & (total == 1)] = new
    out[rest & other[:, :-1].any(axis=1)] = oscillating
    out[~last & most] = historical
    return out


def classify(hot: np.ndarray, cold: np.ndarray, z_tau: np.ndarray, z_p: np.ndarray,
             trend_alpha: float = 0.05) -> np.ndarray:  # fmt: skip
    """ESRI's class of each region from its significant hot and cold bins (regions x bins,
    oldest first) and the Mann-Kendall trend of its Gi* z-scores (``z_tau``, ``z_p``).

    The rules, where "90%" means at least 90% of the bins:

    * the last bin is a hot spot and 90% of bins are: **intensifying** when the z-scores rise
      significantly, **diminishing** when they fall significantly, **persistent** otherwise;
    * the last bin is a hot spot and fewer than 90% of bins are: **oscillating** if any earlier
      bin was a cold spot; else **new** if no earlier bin was hot; else **consecutive** if the
      hot bins are one run of two or more ending in the last bin; else **sporadic**;
    * the last bin is not a hot spot but 90% of bins are: **historical**;
    * the same for cold spots (intensifying when the z-scores fall significantly);
    * anything else: **no pattern detected**.

    The last bin decides which side a region is on, so the classes never overlap (ESRI's texts
    would let a region hot in its last bin after 90% cold bins be both an oscillating hot spot
    and a historical cold spot: it is the former here).

    >>> hot = np.array([[0, 0, 0, 1], [1, 1, 1, 1], [0, 1, 1, 1]], bool)
    >>> classify(hot, np.zeros_like(hot), np.array([0.0, 0.9, 0.5]), np.array([1.0, 0.01, 0.2])).tolist()
    ['new hot spot', 'intensifying hot spot', 'consecutive hot spot']
    """
    hot, cold = np.asarray(hot, bool), np.asarray(cold, bool)
    if hot.shape != cold.shape or hot.ndim != 2 or (hot & cold).any():
        raise VdtoError("hot and cold bins must be two disjoint regions x bins arrays", param="hot")
    sig = np.asarray(z_p) <= trend_alpha
    up, down = sig & (np.asarray(z_tau) > 0), sig & (np.asarray(z_tau) < 0)
    hot_side = _side(hot, cold, up, down, HOT_CLASSES)
    cold_side = _side(cold, hot, down, up, COLD_CLASSES)
    out = np.full(hot.shape[0], NO_PATTERN, dtype=object)
    out[cold_side != ""] = cold_side[cold_side != ""]
    # a region hot in its last bin is on the hot side even if 90% of its bins were cold
    hot_wins = (hot_side != "") & ((cold_side == "") | hot[:, -1])
    out[hot_wins] = hot_side[hot_wins]
    return out


@dataclass
class EmergingHotSpots:
    """The classes (``table``: one row per region), the cells (``cells``: one row per region
    and bin with its value, Gi* z and p and whether it is a hot or cold spot) and the
    provenance (``meta``)."""

    table: pd.DataFrame
    cells: pd.DataFrame
    meta: dict = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        """How many regions fall in each class (every class, zeros included)."""
        got = self.table["pattern"].value_counts()
        return {c: int(got.get(c, 0)) for c in CLASSES}


def emerging_hotspots(values: np.ndarray, counts: np.ndarray, codes: tuple[str, ...], bins: pd.PeriodIndex,
                      adjacency: sparse.spmatrix, *, k: int = 1, permutations: int = 999, seed: int = 0,
                      alpha: float = 0.05, fdr: bool = False, window: str = "cube",
                      trend_alpha: float | None = None) -> EmergingHotSpots:  # fmt: skip
    """Space-time Gi*, trends and classes of a cube's ``values`` (regions x bins; ``counts``
    are the raw counts, whose own trend is reported).

    The first ``k`` bins, whose neighbourhoods are shorter (no earlier bins to include), are
    tested and reported in ``cells`` but left out of the classes and the trend of the z-scores:
    a smaller neighbourhood puts z on another scale (a region with nothing in it has z about
    ``1/sqrt(2)`` of its later value with ``k = 1``), which would read as a trend.

    Returns an :class:`EmergingHotSpots` whose table has ``region_code, pattern, hot_bins,
    cold_bins`` (over the classified bins), ``last_z, last_p, z_tau, z_trend_p, count_tau,
    count_trend_p`` (the counts' trend over every bin) and ``total``."""
    trend_alpha = alpha if trend_alpha is None else trend_alpha
    values = np.asarray(values, dtype=float)
    check_options(bins=values.shape[1], k=k, permutations=permutations, alpha=alpha, trend_alpha=trend_alpha,
                  window=window)  # fmt: skip
    z, p = spacetime_gi(values, adjacency, k=k, permutations=permutations, seed=seed, window=window)
    cut = alpha
    if fdr:
        from vdto.regional.pysal import esda

        cut = float(esda().fdr(p.ravel(), alpha))
    sig = p <= cut
    hot, cold = sig & (z > 0), sig & (z < 0)
    # the first k bins have shorter neighbourhoods, so their z-scores are on another scale (a
    # quiet region's z is about 1/sqrt(2) of its later ones with k = 1): shown, not classified
    full = slice(k, None)
    zt = mann_kendall(z[:, full])
    ct = mann_kendall(np.asarray(counts, dtype=float))
    pattern = classify(hot[:, full], cold[:, full], zt.tau, zt.p, trend_alpha)
    table = pd.DataFrame(
        {
            "region_code": list(codes),
            "pattern": pattern,
            "hot_bins": hot[:, full].sum(axis=1),
            "cold_bins": cold[:, full].sum(axis=1),
            "last_z": z[:, -1],
            "last_p": p[:, -1],
            "z_tau": zt.tau,
            "z_trend_p": zt.p,
            "count_tau": ct.tau,
            "count_trend_p": ct.p,
            "total": np.asarray(counts, dtype=float).sum(axis=1),
        }
    )
    r, t = values.shape
    cells = pd.DataFrame(
        {
            "region_code": np.repeat(np.array(codes, dtype=object), t),
            "bin": np.tile(np.array([str(b) for b in bins], dtype=object), r),
            "value": values.ravel(),
            "gi_z": z.ravel(),
            "gi_p": p.ravel(),
            "spot": np.where(hot, "hot spot", np.where(cold, "cold spot", "not significant")).ravel(),
        }
    )
    meta = {
        "k": k,
        "permutations": permutations,
        "seed": seed,
        "alpha": alpha,
        "fdr": fdr,
        "fdr_cutoff": cut,
        "window": window,
        "trend_alpha": trend_alpha,
        "significant_cells": int(sig.sum()),
        "cells": int(sig.size),
        "classified_bins": int(values.shape[1] - k),
    }
    return EmergingHotSpots(table, cells, meta)


def analyse_cube(cube: SpaceTimeCube, *, value: str = "count", k: int = 1, permutations: int = 999,
                 seed: int = 0, alpha: float = 0.05, fdr: bool = False, window: str = "cube",
                 trend_alpha: float | None = None, islands: str = "nearest") -> EmergingHotSpots:  # fmt: skip
    """Emerging hot and cold spots of a cube over the bundled queen contiguity of its level.

    Every option is checked before any work. Regions the contiguity leaves out (islands with
    ``islands="drop"``, municipalities without a polygon) are listed with the pattern
    ``left out (no neighbours)``, those without a polygon (21 municipalities created after the
    polygons were drawn) ``left out (no polygon)``. The table adds each region's ``name``; ``meta`` the cube's
    provenance, the options, the unit of the values and how many regions had no population
    (their rates count as 0).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> months = pd.date_range("2010-01-01", periods=12, freq="MS")
    >>> codes = tuple(f"{i:02d}" for i in range(1, 33))
    >>> Y = np.ones((32, 12)); Y[[4, 7, 9, 24, 25], :] = 30.0  # Chihuahua and its neighbours
    >>> cube = SpaceTimeCube.from_monthly(Y, codes, months, level="state", bin="month", label="t", measure="homicides")
    >>> res = analyse_cube(cube, permutations=199, seed=1)
    >>> res.table.set_index("region_code").loc["08", "pattern"]
    'persistent hot spot'
    """
    from vdto.regional import contiguity as contig
    from vdto.regional.cube import check_value
    from vdto.regional.panel import region_names

    check_value(value)
    trend_alpha = alpha if trend_alpha is None else trend_alpha
    check_options(bins=len(cube.bins), k=k, permutations=permutations, alpha=alpha, trend_alpha=trend_alpha,
                  window=window)  # fmt: skip
    contig.check_islands(islands)
    c = contig.bundled(cube.level, islands)
    cells, unit = cube.values(value)
    pos = pd.Index(cube.codes).get_indexer(list(c.codes))
    if (pos < 0).any():
        missing = [code for code, i in zip(c.codes, pos, strict=True) if i < 0][:3]
        raise VdtoError(f"the cube has no row for region(s) {', '.join(missing)}", param="cube",
                        fix="build the cube again with vdto regions cube")  # fmt: skip
    res = emerging_hotspots(cells[pos], cube.counts[pos], tuple(c.codes), cube.bins, c.matrix(), k=k,
                            permutations=permutations, seed=seed, alpha=alpha, fdr=fdr, window=window,
                            trend_alpha=trend_alpha)  # fmt: skip
    left = [code for code in cube.codes if code not in set(c.codes)]
    if left:
        dropped = set(c.dropped)
        extra = pd.DataFrame(
            {"region_code": left, "pattern": [LEFT_OUT if x in dropped else NO_POLYGON for x in left]}
        )
        extra["total"] = cube.counts[pd.Index(cube.codes).get_indexer(left)].sum(axis=1)
        res.table = pd.concat([res.table, extra], ignore_index=True)
    res.table.insert(
        1, "name", res.table["region_code"].map(region_names(cube.level)).fillna(res.table["region_code"])
    )
    no_pop = int((~np.isfinite(cube.population) | (cube.population <= 0)).any(axis=1).sum())
    res.meta = {
        **cube.provenance(),
        "value": value,
        "unit": unit,
        "islands": islands,
        "island_links": [list(p) for p in c.island_links],
        "regions_without_population": no_pop if value != "count" else 0,
        "left_out": len(left),
        **res.meta,
    }
    return res


__all__ = [
    "CLASSES",
    "COLD_CLASSES",
    "HOT_CLASSES",
    "LEFT_OUT",
    "MIN_BINS",
    "NO_PATTERN",
    "NO_POLYGON",
    "TARGET_TIER",
    "TARGET_TIERS",
    "WINDOWS",
    "EmergingHotSpots",
    "analyse_cube",
    "check_options",
    "classify",
    "emerging_hotspots",
    "spacetime_gi",
    "spacetime_weights",
]
