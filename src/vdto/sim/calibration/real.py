"""The real panel: homicides, lineage deaths, organizations and members by year, from bundled data.

:func:`real_panel` reads, for a window of calendar years:

* **national** and **state** homicides: INEGI's homicide deaths by year of registration for
  1990-2015 (the national total includes the deaths abroad, which belong to no state), then
  SESNSP's victims of intentional homicide and femicide, by month the investigation opened, for
  2016 onwards (complete years only: a year with fewer than 12 months counts as no data);
* **municipal** homicides: INEGI's, by municipality of occurrence, for 1990-2015 (NaN after);
* **lineage deaths**: UCDP GED deaths (``best``) of each event, split over its perpetrators by
  their probability and given to the lineage each perpetrator belongs to as of the start year
  (:func:`vdto.sim.world_real.as_of`);
* **groups**: drug-trafficking organizations with at least one UCDP GED event in the year;
* **members**: the published estimates (:data:`vdto.sim.world_real.MEMBERS_ANCHORS`) in their
  years only.

Each source file is read once per process (cached); the panel's ``notes`` record what falls
outside the fields (deaths abroad, municipalities not specified, deaths of other lineages).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import numpy as np
import pandas as pd

from vdto.errors import UnknownNameError, VdtoError
from vdto.events.bundled import SESNSP_MEASURES
from vdto.orgs import DTO_KINDS
from vdto.sim.calibration.panel import Panel
from vdto.sim.world_real import MEMBERS_ANCHORS, _registry, _ucdp, as_of, members_at

INEGI_LABEL = "INEGI, by year of registration"
SESNSP_LABEL = "SESNSP, victims of intentional homicide and femicide, by month the investigation opened"
#: The lineage of perpetrators outside the panel's lineages (never an organization id).
_OTHER = ""


@cache
def _inegi() -> dict[int, tuple[float, pd.Series]]:
    """Per year of registration: INEGI's national total and its homicides by municipality code
    (every code of the file, ``SS999`` and the codes abroad included). Do not modify."""
    from vdto.events.bundled import inegi_tables

    return {t.year: (float(t.deaths), t.counts.groupby("region_code")["count"].sum()) for t in inegi_tables()}


@cache
def _sesnsp() -> tuple[pd.DataFrame, pd.Series]:
    """SESNSP victims of :data:`SESNSP_MEASURES` by year (rows) and state (columns), and the
    number of months each year has. Do not modify."""
    from vdto.events.bundled import sesnsp_counts

    c = sesnsp_counts()
    c = c[c["measure"].isin(SESNSP_MEASURES)]
    period = pd.to_datetime(c["period"])
    months = period.dt.month.groupby(period.dt.year).nunique()
    table = c.groupby([period.dt.year, c["state_code"]])["count"].sum().unstack(fill_value=0)
    return table.astype(float), months


@cache
def _attributed() -> tuple[pd.DataFrame, pd.Series]:
    """Perpetrators with the year of their event and the deaths attributed to them (the event's
    ``best`` x the perpetrator's probability), and the UCDP deaths of all events by year."""
    events, perps = _ucdp()
    deaths = pd.Series(events["deaths"].to_numpy(), index=events["source_id"].to_numpy())
    year = perps["source_id"].map(dict(zip(events["source_id"], events["year"], strict=True)))
    att = perps.assign(year=year, deaths=perps["source_id"].map(deaths) * perps["probability"])
    totals = events["source_id"].map(deaths).groupby(events["year"]).sum()
    return att, totals


def _series(year: int) -> str | None:
    """Which series holds ``year``'s national homicides: INEGI up to its last year, then
    complete SESNSP years; None where neither does."""
    if year in _inegi():
        return INEGI_LABEL
    table, months = _sesnsp()
    return SESNSP_LABEL if year in table.index and months.get(year, 0) == 12 else None


def check_window(first: int, last: int) -> None:
    """Refuse a window with a year that has no national homicide series (one line naming
    ``from`` or ``to``)."""
    if first > last:
        raise VdtoError(
            f"the window ends in {last}, before it starts ({first})", fix="use to >= from", param="to"
        )
    missing = [y for y in range(first, last + 1) if _series(y) is None]
    if not missing:
        return
    year = missing[0]
    _, months = _sesnsp()
    covered = [y for y in range(min(_inegi()), max(months.index) + 1) if _series(y) is not None]
    partial = f" (SESNSP has {int(months[year])} months of it)" if year in months.index else ""
    raise VdtoError(
        f"no national homicide series for {year}{partial}",
        fix=f"use years from {covered[0]} to {covered[-1]} (INEGI to {max(_inegi())}, SESNSP after)",
        param="from" if year == first else "to",
    )


def _homicides(year: int, state_codes: tuple[str, ...]) -> tuple[float, np.ndarray]:
    """National homicides of ``year`` and the homicides of each state of ``state_codes``."""
    if year in _inegi():
        national, by_code = _inegi()[year]
        by_state = by_code.groupby(by_code.index.str[:2]).sum()
    else:
        by_state = _sesnsp()[0].loc[year]
        national = float(by_state.sum())
    return national, by_state.reindex(list(state_codes), fill_value=0).to_numpy(float)


def _municipal(
    years: np.ndarray, codes: tuple[str, ...]
) -> tuple[np.ndarray | None, dict[int, dict[str, int]]]:
    """INEGI homicides per municipality of ``codes`` (NaN rows for years after INEGI), and per
    INEGI year the counts of the codes left out; None where no year is INEGI's or no code given."""
    inegi = _inegi()
    if not codes or not any(int(y) in inegi for y in years):
        return None, {}
    out = np.full((len(years), len(codes)), np.nan)
    left_out: dict[int, dict[str, int]] = {}
    for i, y in enumerate(int(y) for y in years):
        if y in inegi:
            by_code = inegi[y][1]
            out[i] = by_code.reindex(list(codes), fill_value=0).to_numpy(float)
            left = by_code[~by_code.index.isin(codes)]
            left_out[y] = {str(c): int(n) for c, n in left.items()}
    return out, left_out


def _check_lineages(lineages: tuple[str, ...]) -> None:
    reg = _registry()
    for org in lineages:
        if org not in reg:
            raise UnknownNameError(
                f"{org!r} is not a registered organization",
                fix="name lineages by registry id (e.g. 'sinaloa', 'gulf'; see {list_orgs})",
                param="lineages",
                mentions=("list_orgs",),
            )


def _lineage_of(start_year: int, lineages: tuple[str, ...]) -> dict[str, str]:
    """The lineage (one of ``lineages``, else :data:`_OTHER`) of each UCDP perpetrator as of
    ``start_year``."""
    reg = _registry()
    orgs = _attributed()[0]["org_id"].dropna().unique()
    counts_for = {str(o): as_of(reg, str(o), start_year) for o in orgs}
    return {o: (lin if lin in lineages else _OTHER) for o, lin in counts_for.items()}


def _ucdp_years() -> tuple[int, int]:
    years = _ucdp()[0]["year"]
    return int(years.min()), int(years.max())


def _lineage_deaths(years: np.ndarray, lineages: tuple[str, ...], start_year: int) -> tuple[np.ndarray, dict]:
    """UCDP deaths attributed to each lineage by year (NaN outside UCDP's years), and notes."""
    att, totals = _attributed()
    lineage_of = _lineage_of(start_year, lineages)
    by = att.groupby([att["year"], att["org_id"].map(lineage_of)])["deaths"].sum().unstack(fill_value=0.0)
    by = by.reindex(index=years, columns=[*lineages, _OTHER], fill_value=0.0)
    lo, hi = _ucdp_years()
    outside = (years < lo) | (years > hi)
    out = np.array(by[list(lineages)].to_numpy(float))
    out[outside] = np.nan
    covered = [int(y) for y in years[~outside]]
    other = by[_OTHER]
    total = totals.reindex(years, fill_value=0.0)
    notes = {
        "lineage_start_year": int(start_year),
        "lineage_orgs": {lin: sorted(o for o, v in lineage_of.items() if v == lin) for lin in lineages},
        "lineage_other_deaths": {y: float(other[y]) for y in covered},
        "lineage_other_share": {y: float(other[y] / total[y]) if total[y] > 0 else 0.0 for y in covered},
        "ucdp_deaths": {y: float(total[y]) for y in covered},
        "ucdp_years": [lo, hi],
    }
    return out, notes


def _groups(years: np.ndarray) -> tuple[np.ndarray, dict[int, int]]:
    """Drug-trafficking organizations (registry kinds dto and faction, as the UCDP importer maps
    the sides) with at least one attributed UCDP event in each year (NaN outside UCDP's years),
    and per year the count of all non-state organizations."""
    att = _attributed()[0]
    att = att[att["probability"] > 0]
    reg = _registry()
    kind = att["org_id"].map(lambda o: reg.get(o).kind)
    dto = att[kind.isin(DTO_KINDS)].groupby("year")["org_id"].nunique()
    nonstate = att[kind != "state"].groupby("year")["org_id"].nunique()
    lo, hi = _ucdp_years()
    inside = (years >= lo) & (years <= hi)
    out = np.where(inside, dto.reindex(years, fill_value=0).to_numpy(float), np.nan)
    return out, {int(y): int(nonstate.get(y, 0)) for y in years[inside]}


@cache
def _bacrim_groups() -> int:
    """The groups of BACRIM 2020 (one row of its node file each)."""
    from vdto.data import bundled

    nodes = pd.read_csv(bundled("bacrim2020") / "BACRIM2020_Nodes.csv", encoding="utf-8-sig", dtype=str)
    named = nodes["Group"].fillna("").str.strip() != ""
    return int(nodes.loc[named, "Node"].nunique())


def _members(years: np.ndarray) -> np.ndarray:
    anchors = {y for y, _ in MEMBERS_ANCHORS}
    return np.array([members_at(int(y)) if int(y) in anchors else np.nan for y in years])


def _source(labels: dict[int, str]) -> str:
    """The series of the window in words, with their years."""
    parts = []
    for label in (INEGI_LABEL, SESNSP_LABEL):
        ys = [y for y, v in labels.items() if v == label]
        if ys:
            parts.append(f"{label} ({ys[0]}-{ys[-1]})")
    return (
        "homicides: "
        + "; ".join(parts)
        + "; lineage deaths and groups: UCDP GED; members: published estimates"
    )


def real_panel(
    first: int,
    last: int,
    *,
    state_codes: Sequence[str],
    municipal_codes: Sequence[str],
    lineages: Sequence[str],
    start_year: int,
) -> Panel:
    """The real panel of the calendar years ``first`` to ``last`` (both included).

    National and state homicides are INEGI's deaths by year of registration up to 2015 and
    SESNSP's victims of intentional homicide and femicide from 2016; municipal homicides are
    INEGI's by municipality of occurrence (NaN rows from 2016, None when no year is INEGI's).
    Lineage deaths split each UCDP GED event's deaths (``best``) over its perpetrators by their
    probability, each counting for its lineage as of ``start_year``; groups count the
    drug-trafficking organizations with UCDP GED events in the year; members are the published
    estimates in their years (NaN otherwise).

    Args:
        first: the first calendar year.
        last: the last calendar year.
        state_codes: INEGI state codes ("01".."32"), the order of ``state``'s columns.
        municipal_codes: INEGI municipality codes ("01001"...), the order of ``municipal``'s
            columns (codes without deaths get 0).
        lineages: organization ids (e.g. a simulated world's organizations), the order of
            ``lineage_deaths``'s columns.
        start_year: the year as of which each organization counts for its lineage (a splinter
            born later counts for the organization it split from).

    Returns:
        The :class:`~vdto.sim.calibration.panel.Panel`. Its ``notes`` hold per year the series
        (``series``), the national homicides outside ``state_codes`` (``outside_states``,
        ``outside_states_share``: deaths abroad in INEGI's years), the INEGI counts of codes left
        out of ``municipal`` (``municipal_left_out``, e.g. ``SS999``, not specified), the UCDP
        deaths of perpetrators outside ``lineages`` (``lineage_other_deaths``,
        ``lineage_other_share``), all UCDP deaths (``ucdp_deaths``), the non-state organizations
        with events (``groups_nonstate``) and BACRIM 2020's number of groups
        (``bacrim_groups_2020``).

    Raises:
        VdtoError: a year of the window has no national series (parameter ``from`` or ``to``,
            whichever bound reaches it), or ``last`` is before ``first``.
        UnknownNameError: a lineage is not a registered organization.

    Example:
        >>> states = [f"{s:02d}" for s in range(1, 33)]
        >>> p = real_panel(2007, 2016, state_codes=states, municipal_codes=["08037"],
        ...                lineages=["sinaloa", "gulf"], start_year=2007)
        >>> int(p.national[0]), int(p.national[-1]), p.notes["series"][2016][:6]
        (8867, 23188, 'SESNSP')
        >>> bool(np.isnan(p.municipal[-1, 0])), bool(p.lineage_deaths[0, 1] > 0)
        (True, True)
    """
    first, last = int(first), int(last)
    check_window(first, last)
    states, codes, lins = tuple(state_codes), tuple(municipal_codes), tuple(lineages)
    _check_lineages(lins)
    years = np.arange(first, last + 1)
    labels = {int(y): str(_series(int(y))) for y in years}
    rows = [_homicides(int(y), states) for y in years]
    national = np.array([n for n, _ in rows], dtype=float)
    state = np.array([s for _, s in rows], dtype=float).reshape(len(years), len(states))
    outside = national - state.sum(axis=1)
    municipal, left_out = _municipal(years, codes)
    lineage_deaths, lineage_notes = _lineage_deaths(years, lins, int(start_year))
    groups, nonstate = _groups(years)
    notes = {
        "series": labels,
        "outside_states": {int(y): float(o) for y, o in zip(years, outside, strict=True)},
        "outside_states_share": {
            int(y): float(o / n) if n > 0 else 0.0 for y, o, n in zip(years, outside, national, strict=True)
        },
        "municipal_left_out": left_out,
        "municipal_left_out_total": {y: sum(c.values()) for y, c in left_out.items()},
        **lineage_notes,
        "groups_kinds": sorted(DTO_KINDS),
        "groups_nonstate": nonstate,
        "bacrim_groups_2020": _bacrim_groups(),
        "members_anchors": {y: m for y, m in MEMBERS_ANCHORS},
    }
    return Panel(
        years=years,
        national=national,
        state=state,
        state_codes=states,
        municipal=municipal,
        municipal_codes=codes if municipal is not None else (),
        lineage_deaths=lineage_deaths,
        lineages=lins,
        groups=groups,
        members=_members(years),
        source=_source(labels),
        notes=notes,
    )


__all__ = ["INEGI_LABEL", "SESNSP_LABEL", "SESNSP_MEASURES", "check_window", "real_panel"]
