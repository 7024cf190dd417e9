"""Hot spots: Getis-Ord Gi* and local Moran's I over one map (PySAL esda); emerging hot spots
over a space-time cube are in :mod:`vdto.regional.emerging`.

A *hot spot* is a region whose neighbourhood (itself and its queen neighbours) has a higher
score than chance would put together: Getis-Ord Gi* with binary weights whose diagonal is 1
(so the z-score accounts for the size of each neighbourhood). Gi* includes the region's own
value, so it is tested by *total* randomisation: all values are shuffled over the map
``permutations`` times and the region's neighbourhood sum is compared with the sums the
shuffles give it (a violent municipality amid quiet ones is thus a hot spot when its
neighbourhood, itself included, is rarely that violent by chance). Local Moran's I, a product
of the region's own deviation and its neighbours', is tested by the usual conditional
permutation (own value fixed, the others shuffled) and adds the cluster type (high-high,
low-low and the two outliers). Significance is the pseudo p-value of each permutation test
(ties counted on both sides, see :func:`pseudo_p`) compared with ``alpha``; ``fdr=True``
controls instead the false discovery rate over all regions tested at once (Benjamini-Hochberg,
esda's ``fdr``), and the column ``fdr_significant`` always says whether a region passes it.
With 999 permutations no p-value is below 0.001, so over 2,457 municipalities FDR rarely
keeps anything: raise ``permutations`` when using it. Permutations
draw from ``seed``, so the same seed gives the same p-values. See docs/regions.md.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from vdto.errors import VdtoError
from vdto.regional.contiguity import Contiguity

HOT, COLD, NONE = "hot spot", "cold spot", "not significant"
QUADRANTS = {1: "high-high", 2: "low-high", 3: "low-low", 4: "high-low"}
DEFAULT_PERMUTATIONS = 999
DEFAULT_ALPHA = 0.05


def check_options(permutations: int, alpha: float) -> None:
    """Raise a one-line error for too few permutations or an alpha outside (0, 1)."""
    if permutations < 99:
        raise VdtoError(
            f"{permutations} permutations are too few for a p-value",
            fix="use at least 99 (999 is the default)",
            param="permutations",
        )
    if not 0 < alpha < 1:
        raise VdtoError(f"alpha must be between 0 and 1 (got {alpha})", fix="use e.g. 0.05", param="alpha")


def hotspots(
    values: np.ndarray | pd.Series,
    contiguity: Contiguity,
    *,
    permutations: int = DEFAULT_PERMUTATIONS,
    seed: int = 0,
    alpha: float = DEFAULT_ALPHA,
    fdr: bool = False,
) -> pd.DataFrame:
    """Gi* and local Moran for one value per region (``values`` in ``contiguity.codes`` order,
    or a Series indexed by code; regions dropped as islands are reported with empty statistics).

    Returns one row per region: ``region_code, value, gi_z, gi_p, hotspot`` (hot spot, cold
    spot, not significant), ``fdr_significant``, ``moran_i, moran_p, cluster`` (high-high ...
    or not significant).

    Examples
    --------
    >>> import numpy as np
    >>> from shapely.geometry import box
    >>> from vdto.regional.contiguity import queen
    >>> cells = [(i, j) for i in range(6) for j in range(6)]
    >>> grid = queen([f"{i}{j}" for i, j in cells], [box(i, j, i + 1, j + 1) for i, j in cells])
    >>> v = np.array([10.0 if i < 2 and j < 2 else 1.0 for i, j in cells])
    >>> out = hotspots(v, grid, permutations=999, seed=1)
    >>> sorted(out.loc[out["hotspot"] == "hot spot", "region_code"])[:4]
    ['00', '01', '10', '11']
    """
    from vdto.regional.pysal import esda as _esda
    from vdto.regional.pysal import weights

    esda, fill_diagonal = _esda(), weights().fill_diagonal
    check_options(permutations, alpha)
    codes = list(contiguity.codes)
    if isinstance(values, pd.Series):
        if values.index.has_duplicates:
            raise VdtoError("values name a region twice", "values", "give one value per region code")
        # a region without a value has no violence recorded: 0
        y = values.reindex(codes).fillna(0.0).to_numpy(dtype=float)
        if not np.isfinite(values.to_numpy(dtype=float)[values.notna().to_numpy()]).all():
            raise VdtoError("values must be finite numbers", "values", "replace infinite scores")
    else:
        y = np.asarray(values, dtype=float)
        if len(y) != len(codes):
            raise VdtoError(
                f"{len(y)} values for {len(codes)} regions",
                "values",
                "give one value per region, in code order",
            )
    if not np.isfinite(y).all():
        raise VdtoError("values must be finite numbers", "values", "replace missing scores with 0")
    out = pd.DataFrame({"region_code": codes, "value": y})
    if len(codes) < 3 or np.ptp(y) == 0:
        # no spatial variation to test: nothing is significant
        out["gi_z"], out["gi_p"], out["hotspot"], out["fdr_significant"] = np.nan, np.nan, NONE, False
        out["moran_i"], out["moran_p"], out["cluster"] = np.nan, np.nan, NONE
        return _with_dropped(out, contiguity)

    w = contiguity.weights()
    w.transform = "B"
    ws = fill_diagonal(w, 1.0)
    state = np.random.get_state()  # esda seeds NumPy's global generator: leave it as it was
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            g = esda.G_Local(y, ws, transform="B", permutations=0, star=None)
            w.transform = "R"
            m = esda.Moran_Local(y, w, transformation="r", permutations=permutations, seed=seed, n_jobs=1)
    finally:
        np.random.set_state(state)
    gi_z = np.asarray(g.Zs, float)
    gi_p = _total_randomisation_p(y, contiguity, permutations, seed)
    mi, q = np.asarray(m.Is, float), np.asarray(m.q)
    mp = pseudo_p(mi, np.asarray(m.rlisas, float))
    cut_g = _cutoff(gi_p, alpha, fdr)
    cut_m = _cutoff(mp, alpha, fdr)
    sig = gi_p <= cut_g
    out["gi_z"], out["gi_p"] = gi_z, gi_p
    out["hotspot"] = np.where(sig & (gi_z > 0), HOT, np.where(sig & (gi_z < 0), COLD, NONE))
    out["fdr_significant"] = gi_p <= _cutoff(gi_p, alpha, True)
    out["moran_i"], out["moran_p"] = mi, mp
    out["cluster"] = np.where(mp <= cut_m, pd.Series(q).map(QUADRANTS).to_numpy(), NONE)
    return _with_dropped(out, contiguity)


def _total_randomisation_p(y: np.ndarray, contiguity: Contiguity, permutations: int, seed: int) -> np.ndarray:
    """Pseudo p-values of each region's Gi* neighbourhood sum (itself included) when all values
    are shuffled over the map; the shuffles draw from ``numpy.random.default_rng(seed)``."""
    from scipy import sparse

    w = contiguity.matrix() + sparse.identity(len(y), format="csr")
    rng = np.random.default_rng(seed)
    observed = w @ y
    sims = np.empty((len(y), permutations))
    block = 250  # shuffles per block: bounded memory
    for start in range(0, permutations, block):
        k = min(block, permutations - start)
        shuffled = rng.permuted(np.broadcast_to(y[:, None], (len(y), k)), axis=0)
        sims[:, start : start + k] = w @ shuffled
    return pseudo_p(observed, sims)


def pseudo_p(observed: np.ndarray, simulated: np.ndarray) -> np.ndarray:
    """Folded permutation p-value ``(min(#sims >= obs, #sims <= obs) + 1) / (permutations + 1)``.

    Ties count on both sides. A region whose neighbourhood is all zeros, with many random
    neighbourhoods all zeros too, is then not significant; esda's own ``p_sim`` puts ties on
    one side and would call it a cold spot at p = 0.001. A relative tolerance absorbs the
    rounding of sums taken in different orders.

    >>> pseudo_p(np.array([0.0, 5.0]), np.array([[0.0, 0.0, 1.0, 0.0], [1.0, 2.0, 3.0, 4.0]])).tolist()
    [0.8, 0.2]
    """
    scale = np.maximum(np.abs(observed), np.abs(simulated).max(axis=1, initial=0.0))
    tol = (1e-9 * scale)[:, None]
    obs = observed[:, None]
    above = (simulated >= obs - tol).sum(axis=1)
    below = (simulated <= obs + tol).sum(axis=1)
    return (np.minimum(above, below) + 1) / (simulated.shape[1] + 1)


def _cutoff(p: np.ndarray, alpha: float, fdr: bool) -> float:
    if not fdr:
        return alpha
    from vdto.regional.pysal import esda

    return float(esda().fdr(p, alpha))


def _with_dropped(out: pd.DataFrame, contiguity: Contiguity) -> pd.DataFrame:
    if not contiguity.dropped:
        return out
    extra = pd.DataFrame({"region_code": list(contiguity.dropped)})
    extra["hotspot"], extra["cluster"], extra["fdr_significant"] = (
        "island (left out)",
        "island (left out)",
        False,
    )
    return pd.concat([out, extra], ignore_index=True)


__all__ = ["COLD", "HOT", "NONE", "check_options", "explain", "hotspots", "pseudo_p"]


def explain(regions: int, significant: int, pass_fdr: int, permutations: int, alpha: float) -> list[str]:
    """Plain-language notes for a hot-spot table: what Gi* z, p, the clusters and the false
    discovery rate mean, with the numbers of this run.

    >>> explain(2478, 175, 0, 999, 0.05)[-1][:76]
    'FDR: testing 2,478 regions at p <= 0.05 each, about 124 would pass by chance'
    """
    by_chance = regions * alpha
    smallest = 1 / (permutations + 1)
    needed = int(np.ceil(smallest * regions / alpha))  # Benjamini-Hochberg: p_(k) <= k * alpha / m
    return [
        "gi_z: Getis-Ord Gi* z-score of a region together with its neighbours, in standard deviations "
        "above (+) or below (-) what a random map gives; gi_p: the share of "
        f"{permutations:,} random maps at least as extreme (the smallest possible is {smallest:.3f}).",
        "hot spot: the region and its neighbours together are unusually violent, so a quiet municipality "
        "next to violent ones can be a hot spot (value 0, cluster low-high).",
        "cluster (local Moran's I): high-high violent among violent neighbours; low-high quiet among violent "
        "ones; high-low violent among quiet ones; low-low quiet among quiet ones.",
        f"FDR: testing {regions:,} regions at p <= {alpha:g} each, about {by_chance:,.0f} would pass by chance; "
        f"{pass_fdr:,} of the {significant:,} significant ones survive the Benjamini-Hochberg false discovery "
        f"rate correction (--fdr uses it). With {permutations:,} permutations it needs at least {needed:,} regions "
        "at the smallest p; add permutations to resolve smaller p-values.",
    ]
