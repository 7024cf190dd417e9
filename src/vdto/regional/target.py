"""Region targets: where to concentrate enforcement when no organization can be named.

The regional fallback of the target rule. Candidates are the regions that are themselves
significant Gi* hot spots *and* carry violence of their own (a zero-score region inside a hot
neighbourhood is part of the cluster but not a place to send enforcement). They are ordered by
their own score; each comes with its evidence: score and rate, hot-spot statistics, the
organizations active there with their share of the region's attributed violence, and the most
violent events to focus on.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from vdto.regional.emerging import NO_PATTERN, TARGET_TIER, TARGET_TIERS
from vdto.regional.hotspots import HOT
from vdto.regional.panel import RegionScores

TARGET_COLUMNS = [
    "rank",
    "region_code",
    "name",
    "score",
    "per100k",
    "counted",
    "events",
    "gi_z",
    "gi_p",
    "cluster",
    "organizations",
]


@dataclass
class RegionTargets:
    """The chosen regions (``table``), their organizations (``orgs``) and focus events (``events``)."""

    table: pd.DataFrame
    orgs: pd.DataFrame
    events: pd.DataFrame
    reason: str


def _shares(names, shares) -> str:
    """``Cártel A 51%, Cártel B 49%``: organizations with at least half a percent of the region's
    attributed violence (a share that prints as 0% is left out and counted)."""
    from vdto.render.fmt import pct

    kept = [f"{n} {pct(s, digits=0)}" for n, s in zip(names, shares, strict=True) if s >= 0.005]
    rest = sum(1 for s in shares if s < 0.005)
    return ", ".join(kept) + (f" (+{rest} under 1%)" if rest else "")


def region_targets(
    scores: RegionScores,
    hot: pd.DataFrame,
    *,
    top: int = 5,
    orgs_per_region: int = 3,
    events_per_region: int = 5,
    patterns: pd.DataFrame | None = None,
    neighbours: pd.Series | None = None,
) -> RegionTargets:
    """The top ``top`` hot-spot regions, with their evidence.

    Without ``patterns`` the hot spots are ordered by score. With ``patterns`` (one row per
    region with its emerging hot spot ``pattern``, :func:`vdto.regional.emerging.analyse_cube`)
    they are ordered first by the group of their pattern (:data:`vdto.regional.emerging.TARGET_TIERS`:
    hot now and in 90% of the bins, then recently hot, then on and off, then no longer hot; a
    region with no hot-spot pattern after them all, so an intensifying hot spot always ranks
    above a historical one), then by score; the table gains a ``pattern`` column.

    ``neighbours`` (the mean score of each region's neighbours, by code) keeps only the core of
    each hot spot: a region quieter than its neighbours on average is the rim of someone else's
    hot spot (a Gi* hot spot because of them) and is not a target; the table gains
    ``neighbours_score``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from datetime import date
    >>> from vdto.orgs import Registry
    >>> from vdto.regional.panel import region_scores
    >>> ev = pd.DataFrame({"source": ["s"] * 2, "source_id": ["1", "2"], "date_start": [date(2019, 3, 2)] * 2,
    ...     "state_code": ["14", "11"], "mun_code": [None, None], "category": ["homicide"] * 2,
    ...     "deaths_best": [30, 3], "victims_civilian": [30, 3]})
    >>> sc = region_scores(ev, None, None, Registry.seed(), level="state", start=date(2019, 1, 1), end=date(2019, 12, 31))
    >>> hot = pd.DataFrame({"region_code": ["14", "11"], "hotspot": ["hot spot", "not significant"],
    ...     "gi_z": [3.1, 0.2], "gi_p": [0.001, 0.4], "cluster": ["high-high", "not significant"]})
    >>> region_targets(sc, hot).table["name"].tolist()
    ['Jalisco']
    """
    t = scores.table.merge(
        hot[["region_code", "hotspot", "gi_z", "gi_p", "cluster"]], on="region_code", how="left"
    )
    if patterns is not None:
        t = t.merge(patterns[["region_code", "pattern"]], on="region_code", how="left")
        t["pattern"] = t["pattern"].fillna(NO_PATTERN)
        t["_priority"] = t["pattern"].map(TARGET_TIER).fillna(len(TARGET_TIERS))
    else:
        t["_priority"] = 0
    core = t["score"] > 0
    if neighbours is not None:
        t["neighbours_score"] = t["region_code"].map(neighbours).fillna(0.0)
        core &= t["score"] >= t["neighbours_score"]
    chosen = t[(t["hotspot"] == HOT) & core].sort_values(
        ["_priority", "score", "region_code"], ascending=[True, False, True], kind="stable"
    )
    chosen = chosen.head(top).reset_index(drop=True)
    orgs = scores.orgs[scores.orgs["region_code"].isin(chosen["region_code"])]
    orgs = orgs.groupby("region_code", sort=False).head(orgs_per_region).reset_index(drop=True)
    summary = {code: _shares(g["name"], g["share"]) for code, g in orgs.groupby("region_code", sort=False)}
    chosen["organizations"] = [summary.get(code, "(none attributed)") for code in chosen["region_code"]]
    chosen["rank"] = range(1, len(chosen) + 1)

    ev = scores.events
    focus = ev[ev["region_code"].isin(chosen["region_code"])]
    cols = [
        c
        for c in ("region_code", "source", "source_id", "date_start", "category", "deaths_best", "points")
        if c in focus
    ]
    focus = (
        focus.sort_values(
            ["region_code", "points", "date_start"], ascending=[True, False, True], kind="stable"
        )
        .groupby("region_code", sort=False)
        .head(events_per_region)[cols]
        .reset_index(drop=True)
    )
    if "date_start" in focus:
        focus["date_start"] = pd.to_datetime(focus["date_start"]).dt.strftime("%Y-%m-%d")
    level = scores.level
    if chosen.empty:
        reason = (
            f"no {level} is both a significant hot spot and violent in the window"
            + (" (at least as violent as its neighbours)" if neighbours is not None else "")
            + ": no region target"
        )
    else:
        names = ", ".join(chosen["name"].head(3))
        order = "by the group of their emerging pattern, then score," if patterns is not None else "by score"
        reason = (
            f"{len(chosen)} {level} hot spot(s) chosen {order} among significant Gi* hot spots"
            + (" at least as violent as their neighbours" if neighbours is not None else "")
            + "; "
            f"first: {names}"
        )
    columns = TARGET_COLUMNS + (["pattern"] if patterns is not None else [])
    columns += ["neighbours_score"] if neighbours is not None else []
    return RegionTargets(chosen[columns], orgs, focus, reason)


__all__ = ["TARGET_COLUMNS", "RegionTargets", "region_targets"]
