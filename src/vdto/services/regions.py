"""Region scores and hot spots over a store, with the window settled the same way for every shell."""

from __future__ import annotations

from datetime import date

from vdto.regional.analysis import RegionalAnalysis, analyse
from vdto.regional.panel import RegionScores, check_level, score_store
from vdto.scoring.engine import resolve_window
from vdto.scoring.rubric import Rubric
from vdto.store import Store


def region_scores(
    store: Store,
    start: date | None = None,
    end: date | None = None,
    *,
    level: str = "state",
    rubric: Rubric | None = None,
    **options,
) -> RegionScores:
    """Scores of every state or municipality over ``[start, end]`` (default: the rubric's window
    ending at the last event), from the events of one agency and the store's counts."""
    check_level(level)
    rubric = rubric or Rubric.default()
    start, end = resolve_window(start, end, rubric, store)
    return score_store(store, start, end, level=level, rubric=rubric, **options)


def regional_analysis(
    store: Store,
    start: date | None = None,
    end: date | None = None,
    *,
    level: str = "state",
    rubric: Rubric | None = None,
    **options,
) -> RegionalAnalysis:
    """Region scores, hot spots and region targets over ``[start, end]`` (default: the rubric's
    window ending at the last event); see :func:`vdto.regional.analysis.analyse`."""
    check_level(level)
    rubric = rubric or Rubric.default()
    start, end = resolve_window(start, end, rubric, store)
    return analyse(store, start, end, level=level, rubric=rubric, **options)
