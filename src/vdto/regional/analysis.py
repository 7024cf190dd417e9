"""The whole regional analysis over a store: scores, hot spots, emerging hot spot patterns, targets.

One function for the command line, the demo and the report, so they all compute the same
thing from the same inputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from vdto.errors import VdtoError
from vdto.regional import contiguity as contig
from vdto.regional.cube import SpaceTimeCube
from vdto.regional.emerging import MIN_BINS, EmergingHotSpots, analyse_cube
from vdto.regional.hotspots import DEFAULT_ALPHA, DEFAULT_PERMUTATIONS, check_options, hotspots
from vdto.regional.panel import (
    DEFAULT_MEASURE,
    RegionScores,
    all_regions,
    check_level,
    load_inputs,
    scores_of_inputs,
)
from vdto.regional.target import RegionTargets, region_targets
from vdto.scoring.rubric import Rubric
from vdto.store import Store


@dataclass
class RegionalAnalysis:
    """Scores, hot spots (one row per region), emerging hot spot patterns over the window's
    months (or None) and targets."""

    scores: RegionScores
    contiguity: contig.Contiguity
    hot: pd.DataFrame
    emerging: EmergingHotSpots | None
    targets: RegionTargets
    meta: dict


def score_cube(scores: RegionScores, start: date, end: date, rubric: Rubric) -> SpaceTimeCube:
    """The window's region scores by month as a space-time cube (month bins; every region of the
    level, zeros included), for the emerging hot spot patterns of the targets."""
    months = pd.period_range(pd.Timestamp(start), pd.Timestamp(end), freq="M").to_timestamp()
    codes = tuple(all_regions(scores.level))
    panel = scores.panel
    pos = pd.Index(codes).get_indexer(panel["region_code"].astype(str))
    t = months.get_indexer(pd.to_datetime(panel["period"]).dt.to_period("M").dt.to_timestamp())
    keep = (pos >= 0) & (t >= 0)
    Y = np.zeros((len(codes), len(months)))
    np.add.at(Y, (pos[keep], t[keep]), panel["score"].to_numpy(dtype=float)[keep])
    return SpaceTimeCube.from_monthly(Y, codes, months, level=scores.level, bin="month",
                                      label=f"violence score (rubric {rubric.name})", measure="score points",
                                      meta={"from_scores": True})  # fmt: skip


def analyse(
    store: Store,
    start: date,
    end: date,
    *,
    level: str = "state",
    rubric: Rubric | None = None,
    agency: str | None = None,
    sources: list[str] | None = None,
    measure: str = DEFAULT_MEASURE,
    use_counts: bool = True,
    permutations: int = DEFAULT_PERMUTATIONS,
    seed: int = 1,
    alpha: float = DEFAULT_ALPHA,
    fdr: bool = False,
    islands: str = "nearest",
    top: int = 5,
    value: str = "score",
    patterns: bool = True,
) -> RegionalAnalysis:
    """Score the regions of ``level`` over ``[start, end]`` and find hot spots and targets.

    Hot spots are tested on ``value``: the score, or the score per 100,000 people (CONAPO's
    state or municipal population; a region without population counts as 0).
    With ``patterns`` (the default) and a window of at least 11 months, each region also gets
    its emerging hot spot pattern (ESRI's classes, :func:`vdto.regional.emerging.analyse_cube`)
    over the window's monthly scores (or rates), with the same permutations, seed, alpha and FDR
    and a lag of one month; the targets are ordered by it. A shorter window leaves the patterns
    out and says why (``meta["patterns"]``).
    """
    rubric = rubric or Rubric.default()
    check_level(level)
    check_options(permutations, alpha)  # before any work: a bad option fails at once
    contig.check_islands(islands)
    if value not in ("score", "per100k"):
        raise VdtoError(f"unknown value {value!r}", fix="use score or per100k", param="value")
    events, perps, counts = load_inputs(
        store, start, end, agency=agency, sources=sources, measure=measure, use_counts=use_counts
    )
    registry = store.registry()
    scores = scores_of_inputs(events, perps, counts, registry, level=level, start=start, end=end, rubric=rubric,
                              measure=measure)  # fmt: skip
    c = contig.bundled(level, islands)
    values = scores.table.set_index("region_code")[value].reindex(list(c.codes)).fillna(0.0)
    hot = hotspots(
        values.to_numpy(dtype=float), c, permutations=permutations, seed=seed, alpha=alpha, fdr=fdr
    )
    hot = hot.merge(scores.table[["region_code", "name"]], on="region_code", how="left")
    hot.attrs["seed"] = seed
    trend, why = None, "not asked for"
    if patterns:
        cube = score_cube(scores, start, end, rubric)
        if len(cube.bins) >= MIN_BINS + 1:  # the first month (lag 1) is not classified
            trend = analyse_cube(cube, value="count" if value == "score" else "rate", k=1,
                                 permutations=permutations, seed=seed, alpha=alpha, fdr=fdr, islands=islands)  # fmt: skip
            why = f"{len(cube.bins)} monthly bins ({len(cube.bins) - 1} classified), lag 1 month, global window cube"
        else:
            why = f"not tested: the window has {len(cube.bins)} months, a trend test needs {MIN_BINS + 1}"
    adjacency = c.matrix()
    degree = np.asarray(adjacency.sum(axis=1)).ravel()
    around = pd.Series(adjacency @ values.to_numpy(dtype=float) / np.maximum(degree, 1), index=list(c.codes))
    targets = region_targets(scores, hot, top=top, patterns=None if trend is None else trend.table,
                             neighbours=around)  # fmt: skip
    meta = {
        **scores.meta,
        "seed": seed,
        "permutations": permutations,
        "alpha": alpha,
        "fdr": fdr,
        "islands": islands,
        "island_links": [list(p) for p in c.island_links],
        "patterns": why,
        "value": value,
    }
    return RegionalAnalysis(scores, c, hot, trend, targets, meta)


__all__ = ["RegionalAnalysis", "analyse", "score_cube"]
