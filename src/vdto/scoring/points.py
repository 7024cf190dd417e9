"""Event points under a rubric: a pure, vectorized function of the event frame.

``points = category x massacre x (victim points + non-fatal points + torture points)`` and an
event's weight in a window is ``points x decay x reliability``; see docs/methodology.md.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from vdto.schema import VICTIM_COLUMNS, Category, VictimKind
from vdto.scoring.rubric import Rubric


def event_points(events: pd.DataFrame, rubric: Rubric) -> np.ndarray:
    """Points of each event before attribution and decay.

    Deaths are shared out among the victim kinds in proportion to the victims of each kind (all
    deaths count as ``unknown`` when no victims are given); victims beyond the deaths (kidnapped,
    disappeared) earn the non-fatal points of their category.

    Examples
    --------
    >>> import pandas as pd
    >>> from vdto.scoring.rubric import Rubric
    >>> ev = pd.DataFrame({"category": ["armed_clash"], "deaths_best": [2], "victims_civilian": [1],
    ...     "victims_dto_member": [1], "torture_display": [False]})
    >>> float(event_points(ev, Rubric.default())[0])
    3.0
    """
    n = len(events)
    deaths = events["deaths_best"].to_numpy(dtype=float)
    weights = rubric.victim_weights()
    victims = np.zeros((n, len(VictimKind)))
    w = np.zeros(len(VictimKind))
    for j, kind in enumerate(VictimKind):
        col = f"victims_{kind.value}"
        if col in events:
            victims[:, j] = events[col].to_numpy(dtype=float)
        w[j] = weights[kind.value]
    total = victims.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_victim_weight = np.where(total > 0, victims @ w / total, weights[VictimKind.UNKNOWN.value])
    killed = deaths * mean_victim_weight

    cat = events["category"].to_numpy(dtype=object)
    survivors = np.maximum(total - deaths, 0)
    kidnap = cat == Category.KIDNAPPING.value
    disappear = cat == Category.DISAPPEARANCE.value
    nonfatal_cat = kidnap | disappear
    # a kidnapping or disappearance with no count of victims still has at least one
    survivors = np.where(nonfatal_cat & (total == 0) & (deaths == 0), 1.0, survivors)
    nf = rubric.nonfatal
    nonfatal = survivors * np.where(
        kidnap, nf.kidnapping_per_victim, np.where(disappear, nf.disappearance_per_victim, 0.0)
    )
    # an attack in which nobody died (its victims, if counted, survived), other than a kidnapping or
    # a disappearance, which earn their per-victim points instead
    nonfatal += np.where(~nonfatal_cat & (deaths == 0), nf.attack_without_deaths, 0.0)

    sev = rubric.severity
    tortured = (
        events["torture_display"].to_numpy(dtype=bool) if "torture_display" in events else np.zeros(n, bool)
    )
    tortured = tortured | (cat == Category.TORTURE_DISPLAY.value)
    torture = np.where(
        tortured, sev.torture_display_per_victim * np.maximum(np.maximum(deaths, total), 1), 0.0
    )

    massacre = (deaths >= sev.massacre_min_deaths) | (cat == Category.MASSACRE.value)
    mult = np.where(massacre, sev.massacre_multiplier, 1.0)
    cat_w = pd.Series(cat).map(rubric.category_weights()).to_numpy(dtype=float)
    return cat_w * mult * (killed + nonfatal + torture)


def decay(events: pd.DataFrame, end: date, half_life_days: float) -> np.ndarray:
    """Time decay ``0.5 ** (age / half_life)``, age in days from the event's middle day to ``end``.

    Events known only to a span of days count from the middle of the span (clipped to ``end``).
    A half-life of 0 turns decay off.
    """
    if half_life_days <= 0:
        return np.ones(len(events))
    start = pd.to_datetime(events["date_start"]).to_numpy(dtype="datetime64[D]")
    stop = pd.to_datetime(events["date_end"]).to_numpy(dtype="datetime64[D]")
    middle = start + (stop - start) // 2
    age = (np.datetime64(end, "D") - middle).astype(float)
    return 0.5 ** (np.maximum(age, 0.0) / half_life_days)


def event_weights(events: pd.DataFrame, rubric: Rubric, end: date) -> np.ndarray:
    """Each event's weight in a window ending on ``end``: points x decay (x reliability)."""
    w = event_points(events, rubric) * decay(events, end, rubric.time.half_life_days)
    if rubric.attribution.weight_by_reliability and "reliability" in events:
        w = w * events["reliability"].to_numpy(dtype=float)
    return w


__all__ = ["VICTIM_COLUMNS", "decay", "event_points", "event_weights"]
