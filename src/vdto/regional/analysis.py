"""The whole regional analysis over a store: scores, hot spots, emerging hot spots, targets.

One function for the command line, the demo and the report, so they all compute the same
thing from the same inputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from vdto.errors import VdtoError
from vdto.regional import contiguity as contig
from vdto.regional.hotspots import DEFAULT_ALPHA, DEFAULT_PERMUTATIONS, check_options, emerging, hotspots
from vdto.regional.panel import (
    DEFAULT_MEASURE,
    RegionScores,
    check_level,
    load_inputs,
    region_scores,
    scores_of_inputs,
)
from vdto.regional.target import RegionTargets, region_targets
from vdto.scoring.rubric import Rubric
from vdto.store import Store


@dataclass
class RegionalAnalysis:
    """Scores, hot spots (one row per region), emerging hot spots (or None) and targets."""

    scores: RegionScores
    contiguity: contig.Contiguity
    hot: pd.DataFrame
    emerging: pd.DataFrame | None
    targets: RegionTargets
    meta: dict


def split_windows(start: date, end: date, n: int) -> list[tuple[date, date]]:
    """``n`` consecutive windows of whole months (as equal as can be) covering ``[start, end]``.

    Windows follow month boundaries so that monthly counts fall in exactly one window.

    >>> split_windows(date(2017, 1, 1), date(2019, 12, 31), 3)[1]
    (datetime.date(2018, 1, 1), datetime.date(2018, 12, 31))
    """
    import numpy as np

    months = pd.period_range(pd.Timestamp(start), pd.Timestamp(end), freq="M")
    if n < 1 or len(months) < n:
        raise VdtoError(
            f"cannot split {len(months)} month(s) into {n} windows",
            fix="use fewer windows or a longer span",
            param="windows",
        )
    out = []
    for chunk in np.array_split(np.arange(len(months)), n):
        a = max(start, months[chunk[0]].start_time.date())
        b = min(end, months[chunk[-1]].end_time.date())
        out.append((a, b))
    return out


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
    windows: int = 1,
    top: int = 5,
    value: str = "score",
) -> RegionalAnalysis:
    """Score the regions of ``level`` over ``[start, end]`` and find hot spots and targets.

    Hot spots are tested on ``value``: the score, or the score per 100,000 people (CONAPO's
    state or municipal population; a region without population counts as 0).
    With ``windows`` >= 2 the span is also split into that many windows and each region is
    classed as a new, intensifying, persistent or fading hot spot (see
    :func:`vdto.regional.hotspots.emerging`).
    """
    rubric = rubric or Rubric.default()
    check_level(level)
    check_options(permutations, alpha)  # before any work: a bad option fails at once
    if islands not in contig.ISLAND_RULES:
        raise VdtoError(
            f"unknown island rule {islands!r}",
            fix=f"use one of: {', '.join(contig.ISLAND_RULES)}",
            param="islands",
        )
    if value not in ("score", "per100k"):
        raise VdtoError(f"unknown value {value!r}", fix="use score or per100k", param="value")
    spans = split_windows(start, end, windows) if windows >= 2 else []
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
    trend = None
    if spans:
        values = []
        day, month = pd.to_datetime(events["date_start"]), pd.to_datetime(counts["period"])
        for a, b in spans:
            ev = events[(day >= pd.Timestamp(a)) & (day <= pd.Timestamp(b))]
            cn = counts[(month >= pd.Timestamp(a).to_period("M").start_time) & (month <= pd.Timestamp(b))]
            part = region_scores(ev, perps, cn, registry, level=level, start=a, end=b, rubric=rubric)
            values.append(part.table.set_index("region_code")["score"])
        trend = emerging(values, c, permutations=permutations, seed=seed, alpha=alpha, fdr=fdr)
        trend = trend.merge(scores.table[["region_code", "name"]], on="region_code", how="left")
    targets = region_targets(scores, hot, top=top)
    meta = {
        **scores.meta,
        "seed": seed,
        "permutations": permutations,
        "alpha": alpha,
        "fdr": fdr,
        "islands": islands,
        "island_links": [list(p) for p in c.island_links],
        "windows": windows,
        "value": value,
    }
    return RegionalAnalysis(scores, c, hot, trend, targets, meta)


__all__ = ["RegionalAnalysis", "analyse", "split_windows"]
