"""Summary statistics of a panel: the one module that reads real and simulated panels alike.

Every statistic is a plain number named after what it measures (``national_log_2010``,
``state_share_08``, ``top10_share``...). :func:`summarize` gives all the statistics a panel
supports; a statistic the panel cannot give (no municipal series, no member count that year)
is NaN and is left out of a comparison (:func:`common`). The calibration fits the simulated
statistics to the real ones; the same functions give the diagnostics a reader checks (the
rank correlation of state totals, the coverage of intervals).

Examples
--------
>>> import numpy as np
>>> from vdto.sim.calibration.panel import Panel
>>> p = Panel(years=np.array([2010, 2011]), national=np.array([100.0, 300.0]),
...           state=np.array([[60.0, 40.0], [100.0, 200.0]]), state_codes=("01", "02"))
>>> s = summarize(p)
>>> round(s["national_log_2011"], 3), round(s["state_share_02"], 3), round(s["state_moved"], 3)
(2.479, 0.6, 0.267)
"""

from __future__ import annotations

import numpy as np
from scipy import stats as sps

from vdto.sim.calibration.panel import Panel

#: Municipalities with at least this many homicides in a year are counted (``munis_over_*``).
MUNICIPAL_THRESHOLDS = (10, 100)
#: The concentration statistic's number of municipalities.
TOP = 10


def _share(x: np.ndarray) -> np.ndarray:
    total = np.nansum(x)
    return x / total if total > 0 else np.full(x.shape, np.nan)


def summarize(panel: Panel) -> dict[str, float]:
    """All the statistics of one panel (NaN where the panel has no data for one).

    - ``national_log_<year>``: log10(1 + homicides) of each year;
    - ``state_share_<code>``: each state's share of the window's homicides in states;
    - ``state_moved``: how much of the distribution over states moved between the first and the
      last year (half the L1 distance between the two years' shares; 0 nothing moved, 1 all);
    - ``top10_share``: the share of the year's homicides in its 10 most violent municipalities,
      averaged over the years with a municipal series;
    - ``munis_over_<k>``: municipalities with at least ``k`` homicides a year, averaged likewise;
    - ``lineage_share_<org>``: each lineage's share of the window's attributed deaths;
    - ``groups_last``: active organizations in the last year;
    - ``members_log_<year>``: log10 of the members, in the years with a count.
    """
    out: dict[str, float] = {}
    for y, v in zip(panel.years, panel.national, strict=True):
        out[f"national_log_{int(y)}"] = float(np.log10(1.0 + v)) if np.isfinite(v) else np.nan
    shares = _share(np.nansum(panel.state, axis=0))
    for code, s in zip(panel.state_codes, shares, strict=True):
        out[f"state_share_{code}"] = float(s)
    out["state_moved"] = (
        float(0.5 * np.abs(_share(panel.state[0]) - _share(panel.state[-1])).sum())
        if len(panel.years) > 1
        else np.nan
    )
    out.update(_municipal(panel.municipal))
    if panel.lineage_deaths is not None:
        per = _share(np.nansum(panel.lineage_deaths, axis=0))
        for org, s in zip(panel.lineages, per, strict=True):
            out[f"lineage_share_{org}"] = float(s)
    out["groups_last"] = float(panel.groups[-1]) if panel.groups is not None else np.nan
    if panel.members is not None:
        for y, m in zip(panel.years, panel.members, strict=True):
            if np.isfinite(m):
                out[f"members_log_{int(y)}"] = float(np.log10(max(m, 1.0)))
    return out


def _municipal(municipal: np.ndarray | None) -> dict[str, float]:
    names = ["top10_share", *(f"munis_over_{k}" for k in MUNICIPAL_THRESHOLDS)]
    if municipal is None:
        return dict.fromkeys(names, np.nan)
    rows = [row for row in np.asarray(municipal, float) if np.isfinite(row).all() and row.sum() > 0]
    if not rows:
        return dict.fromkeys(names, np.nan)
    m = np.stack(rows)
    top = -np.sort(-m, axis=1)[:, :TOP].sum(axis=1) / m.sum(axis=1)
    out = {"top10_share": float(top.mean())}
    for k in MUNICIPAL_THRESHOLDS:
        out[f"munis_over_{k}"] = float((m >= k).sum(axis=1).mean())
    return out


def common(real: dict[str, float], simulated: dict[str, float]) -> list[str]:
    """The statistics both sides have (finite), in the real side's order."""
    return [k for k, v in real.items() if np.isfinite(v) and np.isfinite(simulated.get(k, np.nan))]


def mean_summaries(panels: list[Panel]) -> dict[str, float]:
    """The mean of each statistic over panels (replicates of one parameter set)."""
    each = [summarize(p) for p in panels]
    keys = list(each[0])
    return {k: float(np.nanmean([e.get(k, np.nan) for e in each])) if any(np.isfinite(e.get(k, np.nan)) for e in each)
            else np.nan for k in keys}  # fmt: skip


def state_rank_correlation(a: Panel, b: Panel) -> float:
    """Spearman's rank correlation of the two panels' state totals over their years."""
    x, y = np.nansum(a.state, axis=0), np.nansum(b.state, axis=0)
    return float(sps.spearmanr(x, y).statistic)


__all__ = ["MUNICIPAL_THRESHOLDS", "TOP", "common", "mean_summaries", "state_rank_correlation", "summarize"]
