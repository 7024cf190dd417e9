"""Region scores: violence by state or municipality and month, from events and counts.

A region's score in a month uses the rubric's weights, like an organization's score, but takes
every event located in the region whether or not anyone is named as perpetrator:

``score_m = E_m + b x max(C_m - D_m, 0)``

where ``E_m`` is the sum of the events' points (x source reliability), ``D_m`` the deaths those
events report, ``C_m`` the victims counted by a counts source (e.g. SESNSP intentional homicide)
and ``b`` the points of one death of unknown kind in a homicide (``victims.unknown x
categories.homicide``). Counted victims that no event already covers thus add the baseline
points; the events add what the rubric weighs above the baseline (victim kinds, massacres,
torture, kidnappings). A window's score is the sum of its months, each decayed by the rubric's
half-life from the middle of the month to the window's end. See docs/regions.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

import vdto
from vdto.errors import VdtoError
from vdto.events.duplicates import DuplicateRules, find_duplicates
from vdto.geography import STATES, geography
from vdto.orgs import Registry
from vdto.schema import EVENT_COLUMNS, Category
from vdto.scoring.engine import data_hash
from vdto.scoring.points import event_points
from vdto.scoring.rubric import Rubric
from vdto.store import Store

LEVELS: tuple[str, ...] = ("state", "municipality")
DEFAULT_MEASURE = "homicidio_doloso"
NOT_TARGETS = frozenset({"state", "civilians"})
PANEL_COLUMNS = ["region_code", "period", "events", "event_deaths", "event_points", "counted", "score"]


def check_level(level: str) -> str:
    """Return ``level`` if it is a known level, else raise a one-line error."""
    if level not in LEVELS:
        raise VdtoError(f"unknown level {level!r}", fix=f"use one of: {', '.join(LEVELS)}", param="level")
    return level


def region_names(level: str) -> pd.Series:
    """Display names indexed by region code (municipalities as "Name, State")."""
    if check_level(level) == "state":
        return pd.Series(STATES)
    m = geography().municipalities
    return pd.Series(
        (m["name"] + ", " + m["state_code"].map(STATES)).to_numpy(), index=m["mun_code"].to_numpy()
    )


def all_regions(level: str) -> list[str]:
    """Every region code of a level, in code order: 32 states, or the municipalities of the
    INEGI catalog and of the polygons (21 municipalities created since the polygons were drawn
    have a code but no polygon: they are scored but cannot be mapped or tested for hot spots)."""
    if check_level(level) == "state":
        return sorted(STATES)
    codes, _ = geography().municipality_shapes()
    catalog = geography().municipalities["mun_code"]
    return sorted(set(codes) | set(catalog[catalog.str.fullmatch(r"\d{5}")]))


def _month(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values).dt.to_period("M").dt.start_time


def baseline_points(rubric: Rubric) -> float:
    """Points of one counted death of unknown kind in a homicide under ``rubric``."""
    return rubric.victim_weights()["unknown"] * rubric.category_weights()[Category.HOMICIDE.value]


def event_frame(events: pd.DataFrame, rubric: Rubric, level: str) -> pd.DataFrame:
    """Each event's region, month, deaths and points (x reliability), without decay."""
    events = events.reset_index(drop=True)
    for col in ("torture_display", "reliability"):
        if col not in events:
            events[col] = False if col == "torture_display" else 1.0
    pts = event_points(events, rubric) if len(events) else np.zeros(0)
    if rubric.attribution.weight_by_reliability:
        pts = pts * events["reliability"].fillna(1.0).to_numpy(dtype=float)
    code_col = "state_code" if level == "state" else "mun_code"
    out = pd.DataFrame(
        {
            "region_code": events[code_col].astype(object).where(events[code_col].notna(), None),
            "period": _month(events["date_start"]) if len(events) else pd.Series([], dtype="datetime64[ns]"),
            "deaths": events["deaths_best"].fillna(0).to_numpy(dtype=float),
            "points": pts,
        }
    )
    if "survival" in events:
        # another source's report of the same incident: it counts with the chance it is none
        # (vdto.events.duplicates); ``n`` is its share of an event
        surv = events["survival"].to_numpy(dtype=float)
        out = out.assign(deaths=out["deaths"] * surv, points=out["points"] * surv, n=surv)
    return out


def count_frame(counts: pd.DataFrame, level: str) -> pd.DataFrame:
    """Counted victims per region and month at ``level``.

    For the state level a source's state rows are used; a source with only municipality rows
    (INEGI's homicide deaths) is summed to states. For the municipality level only municipality
    rows can be used: they are placed on their municipalities (codes that are no municipality,
    such as INEGI's 999 "not specified" and 33999-35999 abroad, keep their own code and so fall
    outside the level's regions). Several sources of the same measure: each source is summed
    first, then the largest is taken for each region and month, never the sum.
    """
    empty = pd.DataFrame(
        {
            "region_code": pd.Series(dtype=object),
            "period": pd.Series(dtype="datetime64[ns]"),
            "counted": pd.Series(dtype=np.int64),
        }
    )
    if counts is None or counts.empty:
        return empty
    counts = counts.assign(period=_month(counts["period"]))
    parts = []
    for _, part in counts.groupby("source", sort=True):
        if level == "municipality":
            part = part[part["level"] == "municipality"]
            code = part["region_code"]
        elif (part["level"] == "state").any():
            part = part[part["level"] == "state"]
            code = part["region_code"]
        else:
            code = part["state_code"]
        one = pd.DataFrame(
            {
                "region_code": code.to_numpy(),
                "period": part["period"].to_numpy(),
                "counted": part["count"].to_numpy(),
            }
        )
        parts.append(one.groupby(["region_code", "period"], as_index=False)["counted"].sum())
    out = pd.concat(parts, ignore_index=True) if parts else empty
    # several counts sources for the same region and month: take the largest, never the sum
    return out.groupby(["region_code", "period"], as_index=False)["counted"].max()


def region_panel(
    events: pd.DataFrame, counts: pd.DataFrame | None, rubric: Rubric, level: str
) -> pd.DataFrame:
    """One row per (region, month) with any event or count: the pure computation behind scores.

    Columns: ``region_code, period, events, event_deaths, event_points, counted, score`` (see
    the module docstring for the formula). Events without a region at this level are left out
    (:func:`region_scores` reports how many).

    Examples
    --------
    >>> import pandas as pd
    >>> from vdto.scoring import Rubric
    >>> ev = pd.DataFrame({"date_start": ["2019-03-02"], "state_code": ["14"], "mun_code": ["14039"],
    ...     "category": ["armed_clash"], "deaths_best": [2], "victims_police": [2]})
    >>> c = pd.DataFrame({"source": ["s"], "level": ["state"], "region_code": ["14"], "state_code": ["14"],
    ...     "period": ["2019-03-01"], "count": [10]})
    >>> region_panel(ev, c, Rubric.default(), "state")[["region_code", "event_points", "counted", "score"]].to_dict("records")
    [{'region_code': '14', 'event_points': 6.0, 'counted': 10, 'score': 14.0}]
    """
    check_level(level)
    ev = event_frame(events, rubric, level)
    ev = ev[ev["region_code"].notna()].astype({"region_code": object})
    ev["period"] = pd.to_datetime(ev["period"]).astype("datetime64[ns]")
    # events: how many, or with duplicates across sources the expected number, to the whole event
    count = ("n", "sum") if "n" in ev else ("points", "size")
    agg = ev.groupby(["region_code", "period"], as_index=False).agg(
        events=count, event_deaths=("deaths", "sum"), event_points=("points", "sum")
    )
    if "n" in ev:
        agg["events"] = np.rint(agg["events"].to_numpy(dtype=float))
    agg = agg.astype({"events": np.int64})
    cnt = count_frame(counts, level)
    panel = agg.merge(cnt, on=["region_code", "period"], how="outer")
    panel = panel.fillna({"events": 0, "event_deaths": 0.0, "event_points": 0.0, "counted": 0})
    panel = panel.astype({"events": np.int64, "counted": np.int64, "region_code": object})
    uncovered = np.maximum(panel["counted"].to_numpy(float) - panel["event_deaths"].to_numpy(float), 0.0)
    panel["score"] = panel["event_points"].to_numpy(float) + baseline_points(rubric) * uncovered
    return panel[PANEL_COLUMNS].sort_values(["region_code", "period"]).reset_index(drop=True)


def month_decay(periods: pd.Series, end: date, half_life_days: float) -> np.ndarray:
    """Decay of each month (from its middle day, clipped to ``end``) by the rubric's half-life."""
    if half_life_days <= 0 or len(periods) == 0:
        return np.ones(len(periods))
    start = pd.to_datetime(periods)
    middle = start + pd.to_timedelta((start.dt.days_in_month - 1) / 2, unit="D")
    age = (pd.Timestamp(end) - middle).dt.total_seconds().to_numpy() / 86400.0
    return 0.5 ** (np.maximum(age, 0.0) / half_life_days)


def population(level: str, start: date, end: date) -> pd.Series:
    """Mean population over the window's months, by region.

    States: CONAPO's monthly state population. Municipalities: CONAPO's mid-year municipal
    population of each month's year (1990-2030; 2007-2009 interpolated, see
    :meth:`vdto.geography.Geography.municipal_populations`), averaged over the window's months
    that have one; a municipality without a figure (created after 2010, or outside 1990-2030)
    has no rate.
    """
    if check_level(level) == "state":
        pop = geography().population
        lo, hi = pd.Timestamp(start).to_period("M").start_time, pd.Timestamp(end)
        window = pop[(pop["date"] >= lo) & (pop["date"] <= hi)]
        return window.groupby("state_code")["population"].mean()
    months = pd.period_range(pd.Timestamp(start), pd.Timestamp(end), freq="M")
    per_year = pd.Series(months.year).value_counts()
    pop = geography().municipal_populations
    pop = pop[(pop["sex"] == "Total") & pop["year"].isin(per_year.index)]
    if pop.empty:
        return pd.Series(dtype=float)
    weight = pop["year"].map(per_year).to_numpy(dtype=float)
    frame = pd.DataFrame(
        {"mun_code": pop["mun_code"].to_numpy(), "w": weight, "wp": weight * pop["population"].to_numpy()}
    )
    sums = frame.groupby("mun_code")[["w", "wp"]].sum()
    return (sums["wp"] / sums["w"]).rename("population")


@dataclass
class RegionScores:
    """Region scores over one window.

    ``table``: one row per region of the level (all of them, zeros included), highest score
    first: ``rank, region_code, name, events, event_deaths, counted, score, per100k`` (the score
    per 100,000 people, states and municipalities: see :func:`population`) and
    ``top_org``/``top_org_share`` (the organization with the largest share of the region's
    attributed event points; organizations are the armed non-state actors: DTOs, factions,
    gangs, armed and self-defence groups, not the state or civilians). ``panel``: the region-month rows behind it. ``orgs``: every
    organization's expected event points and share in every region. ``events``: the window's
    events with their region and points (for the evidence of region targets).
    """

    level: str
    table: pd.DataFrame
    panel: pd.DataFrame
    orgs: pd.DataFrame
    events: pd.DataFrame
    meta: dict = field(default_factory=dict)

    def values(self, codes: list[str]) -> np.ndarray:
        """Scores in the order of ``codes`` (0 where a region has none)."""
        return self.table.set_index("region_code")["score"].reindex(codes).fillna(0.0).to_numpy(dtype=float)


def _org_shares(
    events: pd.DataFrame,
    perps: pd.DataFrame,
    weights: np.ndarray,
    codes: pd.Series,
    registry: Registry,
    rubric: Rubric,
) -> pd.DataFrame:
    cols = ["region_code", "org", "name", "events", "points", "share"]
    if perps is None or perps.empty or events.empty:
        return pd.DataFrame(columns=cols)
    key = events["source"].astype(str) + ":" + events["source_id"].astype(str)
    index = pd.Series(np.arange(len(events)), index=key.to_numpy())
    pkey = perps["source"].astype(str) + ":" + perps["source_id"].astype(str)
    ev_idx = index.reindex(pkey.to_numpy()).to_numpy()
    org = (
        perps["org_id"]
        if rubric.attribution.roll_up_factions
        else perps["faction_id"].fillna(perps["org_id"])
    )
    top = {o: registry.top(o) if o in registry.orgs else o for o in pd.unique(org.dropna())}
    org = org.map(top)
    # the state and civilians are not organizations to target: shares are among armed non-state actors
    armed = {
        o: (o not in registry.orgs or registry.orgs[o].kind not in NOT_TARGETS)
        for o in pd.unique(org.dropna())
    }
    ok = ~np.isnan(ev_idx) & org.notna().to_numpy() & org.map(armed).fillna(False).to_numpy(dtype=bool)
    idx = ev_idx[ok].astype(np.int64)
    share = events["survival"].to_numpy(dtype=float)[idx] if "survival" in events else 1.0
    att = pd.DataFrame(
        {
            "region_code": codes.to_numpy(dtype=object)[idx],
            "org": org[ok].to_numpy(dtype=object),
            "events": perps["probability"].to_numpy(dtype=float)[ok] * share,
            "points": perps["probability"].to_numpy(dtype=float)[ok] * weights[idx],
        }
    )
    att = att[att["region_code"].notna()]
    out = att.groupby(["region_code", "org"], as_index=False)[["events", "points"]].sum()
    total = out.groupby("region_code")["points"].transform("sum")
    out["share"] = np.where(total > 0, out["points"] / total.where(total > 0, 1.0), 0.0)
    out.insert(2, "name", out["org"].map(lambda o: registry.orgs[o].name if o in registry.orgs else o))
    return out.sort_values(["region_code", "points", "org"], ascending=[True, False, True]).reset_index(
        drop=True
    )


def region_scores(
    events: pd.DataFrame,
    perps: pd.DataFrame | None,
    counts: pd.DataFrame | None,
    registry: Registry,
    *,
    level: str,
    start: date,
    end: date,
    rubric: Rubric | None = None,
) -> RegionScores:
    """Score every region of ``level`` over ``[start, end]`` (pure: frames in, frames out).

    Examples
    --------
    >>> import pandas as pd
    >>> from datetime import date
    >>> from vdto.orgs import Registry
    >>> ev = pd.DataFrame({"source": ["s"], "source_id": ["1"], "date_start": [date(2019, 3, 2)],
    ...     "state_code": ["14"], "mun_code": ["14039"], "category": ["homicide"], "deaths_best": [3],
    ...     "victims_civilian": [3]})
    >>> res = region_scores(ev, None, None, Registry.seed(), level="state", start=date(2019, 1, 1),
    ...     end=date(2019, 12, 31))
    >>> res.table.iloc[0][["region_code", "name"]].tolist(), int(res.table.iloc[0]["events"])
    (['14', 'Jalisco'], 1)
    """
    rubric = rubric or Rubric.default()
    check_level(level)
    events = events.reset_index(drop=True)
    panel = region_panel(events, counts, rubric, level)
    panel = panel[
        (panel["period"] >= pd.Timestamp(start).to_period("M").start_time)
        & (panel["period"] <= pd.Timestamp(end))
    ]
    decay = month_decay(panel["period"], end, rubric.time.half_life_days)
    panel = panel.assign(decay=decay)

    codes = all_regions(level)
    names = region_names(level)
    sums = (
        panel.assign(score=panel["score"] * decay)
        .groupby("region_code")[["events", "event_deaths", "counted", "score"]]
        .sum()
    )
    table = sums.reindex(codes).fillna(0.0).rename_axis("region_code").reset_index()
    table = table.astype({"events": np.int64, "counted": np.int64})
    table.insert(1, "name", table["region_code"].map(names))
    pop = population(level, start, end)
    per = table["region_code"].map(pop)
    table["per100k"] = (table["score"] / per * 1e5).where(per.notna(), np.nan)

    ev = event_frame(events, rubric, level)
    weights = ev["points"].to_numpy(float) * month_decay(ev["period"], end, rubric.time.half_life_days)
    orgs = _org_shares(events, perps, weights, ev["region_code"], registry, rubric)
    lead = orgs.drop_duplicates("region_code").set_index("region_code")
    table["top_org"] = table["region_code"].map(lead["org"]) if len(lead) else None
    table["top_org_share"] = table["region_code"].map(lead["share"]) if len(lead) else np.nan
    table = table.sort_values(["score", "region_code"], ascending=[False, True], kind="stable").reset_index(
        drop=True
    )
    table.insert(0, "rank", np.arange(1, len(table) + 1))

    located = events.assign(
        region_code=ev["region_code"].to_numpy(), points=ev["points"].to_numpy(), weight=weights
    )
    counts_total = int(count_frame(counts, level)["counted"].sum()) if counts is not None else 0
    has_counts = counts is not None and not count_frame(counts, level).empty
    meta = {
        "vdto_version": vdto.__version__,
        "level": level,
        "rubric": rubric.name,
        "rubric_sha256": rubric.sha256(),
        "data_sha256": _data_hash(events, perps, counts),
        "from": start.isoformat(),
        "to": end.isoformat(),
        "events": len(events),
        "events_unlocated": int(ev["region_code"].isna().sum()),
        "counted_in_window": int(table["counted"].sum()),
        # counts in the window on codes that are no region of the level (INEGI: municipality not
        # specified, deaths abroad): kept in the store, not on the map
        "counted_unplaced": int(panel["counted"].sum()) - int(table["counted"].sum()),
        "counted_all_loaded": counts_total,
        # whether any counts reach this level in the window: without them ``counted`` is not
        # zero victims but no count (SESNSP counts states; INEGI's municipal series ends in 2015)
        "counts_at_level": bool(has_counts),
    }
    return RegionScores(level, table, panel.reset_index(drop=True), orgs, located, meta)


def shown_counts(table: pd.DataFrame, meta: dict) -> pd.DataFrame:
    """``table`` as a reader should see it: ``counted`` is missing, not 0, where no counts reach
    the level in the window (a municipality with no count is not a municipality with no victims)."""
    if meta.get("counts_at_level", True) or "counted" not in table:
        return table
    return table.assign(counted=pd.Series(pd.NA, index=table.index, dtype="Int64"))


#: The note beside a table whose ``counted`` column is missing.
NO_COUNTS_NOTE = (
    "counted —: no homicide counts reach this level in the window (SESNSP counts states, from 2015; "
    "INEGI's municipal series, 1990-2015, is loaded with `vdto import inegi`); scores come from events alone"
)


def _data_hash(events: pd.DataFrame, perps: pd.DataFrame | None, counts: pd.DataFrame | None) -> str:
    import hashlib

    digest = hashlib.sha256()
    have = [c for c in EVENT_COLUMNS if c in events]
    full = events.reindex(columns=list(EVENT_COLUMNS))
    if set(have) == set(EVENT_COLUMNS) and perps is not None and "raw_name" in perps:
        digest.update(data_hash(full, perps).encode())
    else:
        digest.update(pd.util.hash_pandas_object(events.astype("string"), index=False).to_numpy().tobytes())
    if counts is not None and len(counts):
        keys = ["source", "region_code", "period", "measure", "modality"]
        c = counts.sort_values([k for k in keys if k in counts]).astype("string")
        digest.update(pd.util.hash_pandas_object(c, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def load_inputs(
    store: Store,
    start: date,
    end: date,
    *,
    agency: str | None = None,
    sources: list[str] | None = None,
    measure: str = DEFAULT_MEASURE,
    count_sources: list[str] | None = None,
    use_counts: bool = True,
    dedupe: bool = True,
    duplicates: DuplicateRules | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """One agency's events and perpetrators in the window, and the counts of ``measure``.

    Counts are monthly: every month that overlaps the window is read whole. With events of two
    or more sources, each event gets a ``survival`` column (the chance it is no duplicate of
    another source's report, :func:`vdto.events.duplicates.find_duplicates` under
    ``duplicates``): its deaths and points count with it. ``dedupe=False`` leaves it out.
    """
    events, perps = store.events.window(start, end, agency=store.resolve_agency(agency), sources=sources)
    if dedupe and events["source"].nunique() > 1:
        found = find_duplicates(events, perps, duplicates)
        events = events.assign(survival=found.survival)
        events.attrs["duplicates"] = found.meta
    if not use_counts:
        return (
            events,
            perps,
            pd.DataFrame(
                columns=[
                    "source",
                    "level",
                    "region_code",
                    "state_code",
                    "period",
                    "measure",
                    "modality",
                    "count",
                ]
            ),
        )
    counts = store.counts.window(measure, start, end, count_sources)
    known = store.counts.measures()
    if known and measure not in known:
        raise VdtoError(
            f"no counts of measure {measure!r} in the store",
            fix=f"use one of: {', '.join(sorted(known))} (or leave the counts out with {{use_counts}})",
            param="measure",
            mentions=("use_counts",),
        )
    return events, perps, counts


def score_store(
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
) -> RegionScores:
    """:func:`region_scores` over what a store holds (events of one agency, public counts)."""
    check_level(level)
    inputs = load_inputs(
        store, start, end, agency=agency, sources=sources, measure=measure, use_counts=use_counts
    )
    return scores_of_inputs(*inputs, store.registry(), level=level, start=start, end=end, rubric=rubric,
                            measure=measure)  # fmt: skip


def scores_of_inputs(
    events: pd.DataFrame,
    perps: pd.DataFrame,
    counts: pd.DataFrame,
    registry: Registry,
    *,
    level: str,
    start: date,
    end: date,
    rubric: Rubric | None,
    measure: str,
) -> RegionScores:
    """:func:`region_scores` of what :func:`load_inputs` read, naming the measure in the
    provenance only when counts of it were used."""
    result = region_scores(events, perps, counts, registry, level=level, start=start, end=end, rubric=rubric)
    result.meta["measure"] = measure if result.meta["counted_all_loaded"] else None
    result.meta.update(events.attrs.get("duplicates", {}))
    return result
