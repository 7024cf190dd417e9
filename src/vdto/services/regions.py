"""Region scores and hot spots over a store, with the window settled the same way for every shell."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from vdto.errors import VdtoError
from vdto.regional.analysis import RegionalAnalysis, analyse
from vdto.regional.cube import SpaceTimeCube
from vdto.regional.emerging import EmergingHotSpots, analyse_cube
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


#: The panels a space-time cube can be built from (see :func:`build_cube`).
CUBE_SOURCES: tuple[str, ...] = ("inegi", "sesnsp", "events")


def build_cube(source: str, *, level: str | None = None, bin: str = "quarter", start: date | None = None,
               end: date | None = None, db: str | Path | None = None, agency: str | None = None,
               check: dict[str, Any] | None = None) -> SpaceTimeCube:  # fmt: skip
    """The space-time cube of ``source`` (``inegi``: INEGI homicide deaths by municipality and
    month, 1990-2015; ``sesnsp``: SESNSP homicide victims by state and month, 2015 on;
    ``events``: the deaths of the store's events by region and month) in ``bin``s between
    ``start`` and ``end`` (default: the whole bins of the panel).

    ``check`` holds the options of the analysis to come (:func:`vdto.regional.emerging.check_options`
    without ``bins``, and optionally ``value`` and ``islands``): they are checked before any data
    is read, against the span's number of bins when a span is given.

    Examples
    --------
    >>> from datetime import date
    >>> cube = build_cube("inegi", bin="year", start=date(2010, 1, 1), end=date(2011, 12, 31))
    >>> cube.counts.shape, int(cube.counts.sum())
    ((2478, 2), 52849)
    """
    from vdto.regional.contiguity import check_islands
    from vdto.regional.cube import BINS, check_bin, check_value
    from vdto.regional.emerging import check_options
    from vdto.services.evaluation import PANELS, load_panel

    check_bin(bin)
    if source not in PANELS:
        raise VdtoError(
            f"unknown source {source!r}", fix=f"use one of: {', '.join(CUBE_SOURCES)}", param="source"
        )
    if level is not None:
        check_level(level)
    if source == "sesnsp" and level not in (None, "state"):
        raise VdtoError(
            "SESNSP counts are by state only", fix="use the state level or another source", param="level"
        )
    if source == "events" and db is None:
        raise VdtoError("the events source reads the store", fix="give the store", param="db")
    if check is not None:
        opts = dict(check)
        if "value" in opts:
            check_value(opts.pop("value"))
        if "islands" in opts:
            check_islands(opts.pop("islands"))
        if start is not None and end is not None:
            n = len(pd.period_range(pd.Timestamp(start), pd.Timestamp(end), freq=BINS[bin]))
            check_options(bins=n, **opts)
    panel = load_panel(source, level=level, db=db, agency=agency)
    return SpaceTimeCube.from_panel(panel, bin=bin, start=start, end=end)


def emerging(cube: SpaceTimeCube | str | Path, **options: Any) -> EmergingHotSpots:
    """Emerging hot and cold spots of a cube (or of a cube file written by
    :meth:`SpaceTimeCube.save`); ``options`` are :func:`vdto.regional.emerging.analyse_cube`'s."""
    if not isinstance(cube, SpaceTimeCube):
        cube = SpaceTimeCube.load(cube)
    return analyse_cube(cube, **options)
