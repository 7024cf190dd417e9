"""Region scores and hot spots over a store, with the window settled the same way for every shell."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vdto.errors import UnknownNameError, VdtoError
from vdto.regional.analysis import RegionalAnalysis, analyse
from vdto.regional.cube import SpaceTimeCube
from vdto.regional.emerging import EmergingHotSpots, analyse_cube
from vdto.regional.panel import RegionScores, all_regions, check_level, region_names, score_store
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


# --------------------------------------------------------------------- the workbench's map

#: Simplification tolerance (degrees, about 500 m) of the geometry a browser draws, by level.
GEOMETRY_TOLERANCE: dict[str, float] = {"state": 0.005, "municipality": 0.005}
#: Decimals kept in the browser's coordinates (4 decimals: about 11 m, far below the tolerance).
GEOMETRY_DECIMALS = 4
#: Where the bundled geometry comes from (said in every GeoJSON document).
GEOMETRY_SOURCE = (
    "INEGI state and municipality borders as bundled with vdto (diegovalle/new.crimenmexico, MIT), simplified"
)
#: The first and last day a region map may cover (the data's years; a cheap check before any work).
FIRST_DAY, LAST_DAY = date(1989, 1, 1), date(2100, 12, 31)


def region_geometry(level: str) -> dict[str, Any]:
    """The bundled borders of every state or municipality as a GeoJSON ``FeatureCollection``,
    simplified for a browser.

    The polygons are those the contiguity and the static maps use
    (:func:`vdto.regional.contiguity.region_polygons`: 2,457 municipalities, the 32 states as
    their unions), each simplified by :data:`GEOMETRY_TOLERANCE` degrees (topology kept, so no
    region vanishes) with coordinates rounded to :data:`GEOMETRY_DECIMALS` decimals and exterior
    rings counter-clockwise (RFC 7946).

    Parameters
    ----------
    level
        ``"state"`` or ``"municipality"``.

    Returns
    -------
    dict
        ``{"type": "FeatureCollection", "level", "source", "bbox", "features"}``; each feature has
        ``id`` (the INEGI code) and ``properties`` ``code``, ``name`` (municipalities as
        "Name, State") and ``state`` (the two-digit state code).

    Raises
    ------
    VdtoError
        On an unknown level.

    Examples
    --------
    >>> doc = region_geometry("state")
    >>> len(doc["features"]), doc["features"][13]["properties"]["name"]
    (32, 'Jalisco')
    """
    import json

    import shapely

    from vdto.regional.contiguity import region_polygons

    check_level(level)
    codes, polys = region_polygons(level)
    simple = shapely.simplify(
        np.asarray(polys, dtype=object), GEOMETRY_TOLERANCE[level], preserve_topology=True
    )
    simple = shapely.orient_polygons(simple, exterior_cw=False)
    simple = shapely.transform(simple, lambda xy: np.round(xy, GEOMETRY_DECIMALS))
    names = region_names(level)
    bounds = [round(float(b), GEOMETRY_DECIMALS) for b in shapely.total_bounds(simple)]
    features = [
        {
            "type": "Feature",
            "id": code,
            "properties": {"code": code, "name": _text(names.get(code)) or code, "state": code[:2]},
            "geometry": json.loads(geometry),
        }
        for code, geometry in zip(codes, shapely.to_geojson(simple), strict=True)
    ]
    return {"type": "FeatureCollection", "level": level, "source": GEOMETRY_SOURCE, "bbox": bounds,
            "features": features}  # fmt: skip


def _text(value: object) -> str | None:
    return None if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)


@dataclass
class RegionMap:
    """What the workbench's map shows of one agency's events over one window.

    ``table``: one row per region of the level, in code order: ``code, name, events, deaths``
    (deaths, best estimate, of the events placed in the region), ``score`` (score points),
    ``rate`` (score per 100,000 people; empty without population), ``hotspot`` (the Gi* class:
    hot spot, cold spot, not significant, or not tested for a region without a polygon),
    ``gi_z``, ``gi_p``, ``top_org``, ``top_org_name``, ``top_org_share``. ``orgs``: each
    organization's events, points and share in each region (:attr:`RegionScores.orgs`).
    ``meta``: the analysis's provenance (agency, window, rubric, data hash, seed, permutations,
    alpha).
    """

    level: str
    table: pd.DataFrame
    orgs: pd.DataFrame
    meta: dict = field(default_factory=dict)

    def row(self, code: str) -> dict[str, Any]:
        """The table's row of region ``code``, as plain values."""
        found = self.table[self.table["code"] == code]
        if found.empty:
            raise UnknownNameError(
                f"no {self.level} with code {code!r}", fix="use an INEGI code", param="code"
            )
        return {k: _plain(v) for k, v in found.iloc[0].items()}


def _plain(value: Any) -> Any:
    """A table cell as JSON-ready Python (NaN and NA as None)."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def check_window(start: date | None, end: date | None) -> None:
    """Refuse a window outside the years region maps are drawn for (before any work)."""
    for name, day in (("start", start), ("end", end)):
        if day is not None and not FIRST_DAY <= day <= LAST_DAY:
            raise VdtoError(f"{day} is outside the data's years", fix=f"give a day from {FIRST_DAY} to {LAST_DAY}",
                            param=name)  # fmt: skip
    if start is not None and end is not None and start > end:
        raise VdtoError(
            f"the window starts ({start}) after it ends ({end})", fix="swap the dates", param="window"
        )


def region_map(
    store: Store, start: date | None = None, end: date | None = None, *, level: str = "state",
    agency: str | None = None, **options: Any,
) -> RegionMap:  # fmt: skip
    """Scores, rates and Gi* hot-spot classes of every region of ``level`` over ``[start, end]``,
    from one agency's events: :func:`regional_analysis` (the same as ``vdto hotspots``) without the
    emerging patterns, as one table for a map.

    Parameters
    ----------
    store
        The store.
    start, end
        The window (default: the rubric's window ending at the agency's last event).
    level
        ``"state"`` or ``"municipality"``.
    agency
        Whose events (needed when the store holds several agencies').
    **options
        :func:`vdto.regional.analysis.analyse`'s (``permutations``, ``seed``, ``alpha``...).

    Returns
    -------
    RegionMap
        The table, the organizations' shares and the provenance.

    Raises
    ------
    VdtoError
        On an unknown level, a window outside the data's years or reversed, several agencies and
        none named, or an agency without events and no window.
    """
    check_level(level)
    check_window(start, end)
    res = regional_analysis(store, start, end, level=level, agency=agency, patterns=False, **options)
    t = res.scores.table.set_index("region_code")
    hot = res.hot.set_index("region_code").reindex(t.index)
    lead_names = res.scores.orgs.drop_duplicates("org").set_index("org")["name"]
    table = pd.DataFrame(
        {
            "code": t.index.astype(str),
            "name": t["name"].to_numpy(dtype=object),
            "events": t["events"].to_numpy(dtype=np.int64),
            "deaths": t["event_deaths"].to_numpy(dtype=float),
            "score": t["score"].to_numpy(dtype=float),
            "rate": t["per100k"].to_numpy(dtype=float),
            "hotspot": hot["hotspot"].fillna("not tested").to_numpy(dtype=object),
            "gi_z": hot["gi_z"].to_numpy(dtype=float),
            "gi_p": hot["gi_p"].to_numpy(dtype=float),
            "top_org": t["top_org"].to_numpy(dtype=object),
            "top_org_name": t["top_org"].map(lead_names).to_numpy(dtype=object),
            "top_org_share": t["top_org_share"].to_numpy(dtype=float),
        }
    ).sort_values("code", ignore_index=True)
    keys = ("vdto_version", "agency", "level", "from", "to", "rubric", "rubric_sha256", "data_sha256", "events",
            "events_unlocated", "seed", "permutations", "alpha", "fdr", "value")  # fmt: skip
    meta = {k: res.meta[k] for k in keys if k in res.meta}
    return RegionMap(level, table, res.scores.orgs.reset_index(drop=True), meta)


def region_level(code: str) -> str:
    """The level of an INEGI region code: two digits a state, five a municipality.

    Raises
    ------
    UnknownNameError
        When ``code`` is no state or municipality code.

    Examples
    --------
    >>> region_level("32010"), region_level("16")
    ('municipality', 'state')
    """
    level = {2: "state", 5: "municipality"}.get(len(code)) if code.isascii() and code.isdigit() else None
    if level is None or code not in set(all_regions(level)):
        raise UnknownNameError(
            f"no state or municipality with code {code!r}",
            fix="use a two-digit INEGI state code (e.g. 16) or a five-digit municipality code (e.g. 16053)",
            param="code",
        )
    return level


def region_events(
    store: Store, code: str, start: date, end: date, *, agency: str, offset: int = 0, limit: int = 50
) -> tuple[int, list[dict[str, Any]]]:
    """One agency's events placed in region ``code`` whose start date falls in ``[start, end]``
    (the events its map counts), latest first, a page at a time: the events view's rows
    (:func:`vdto.services.events.list_events`, the same browse query and the same names), so
    an event reads the same in both views.

    Returns
    -------
    tuple of int and list of dict
        How many there are in all, and the page: every stored column, plus ``id``, ``state``,
        ``municipality``, ``organizations`` and ``perpetrators`` (``org_id, faction_id, name,
        raw_name, probability``, most likely first).
    """
    from vdto.services.events import _shape
    from vdto.store.events import Selection

    level = region_level(code)
    state = level == "state"
    sel = Selection(
        start=start, end=end, state_code=code if state else None, mun_code=None if state else code
    )
    who = store.resolve_agency(agency)
    total, _ = store.events.browse_totals(who, sel)
    rows = store.events.browse(who, sel, "-date", offset, limit)
    return total, _shape(rows, store.registry())
