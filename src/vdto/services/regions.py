"""Region scores and hot spots over a store, with the window settled the same way for every shell."""

from __future__ import annotations

from datetime import date
from typing import Any

from vdto.regional.analysis import RegionalAnalysis, analyse
from vdto.regional.panel import RegionScores, check_level, score_store
from vdto.scoring.engine import resolve_window
from vdto.scoring.rubric import Rubric
from vdto.store import Store


def region_scores(
    store: Store, start: date | None = None, end: date | None = None, **options: Any
) -> RegionScores:
    """Scores of every state or municipality (``level``) over ``[start, end]`` (default: the
    rubric's window ending at the last event), from the events of one agency and the store's
    counts; ``options`` are :func:`vdto.regional.panel.score_store`'s."""
    return _in_window(score_store, store, start, end, **options)


def regional_analysis(
    store: Store, start: date | None = None, end: date | None = None, **options: Any
) -> RegionalAnalysis:
    """Region scores, hot spots and region targets over ``[start, end]`` (default: the rubric's
    window ending at the last event); ``options`` are :func:`vdto.regional.analysis.analyse`'s."""
    return _in_window(analyse, store, start, end, **options)


def _in_window(fn, store: Store, start: date | None, end: date | None, *, level: str = "state",
               rubric: Rubric | None = None, agency: str | None = None, **options: Any):  # fmt: skip
    """``fn`` over the window settled the same way for every shell: the level checked first, the
    agency settled (:meth:`Store.resolve_agency`), the end defaulting to the agency's last event
    (or the last month of counts when it has none) and the start to the rubric's window before it.
    The result's ``meta`` names the agency."""
    check_level(level)
    rubric = rubric or Rubric.default()
    agency = store.resolve_agency(agency)
    start, end = resolve_window(
        start, end, rubric, store, agency=agency, counts=options.get("use_counts", True)
    )
    result = fn(store, start, end, level=level, rubric=rubric, agency=agency, **options)
    result.meta["agency"] = agency
    return result
