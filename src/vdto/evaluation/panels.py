"""Homicide panels: one outcome per region and month, balanced, with the people who live there.

A panel is built from a long frame of counts (``region_code, period, count``): INEGI's homicide
deaths by municipality and month of registration (1990-2015), SESNSP's victims of intentional
homicide and femicide by state and month (2015 on), or the events of the store summed by region
and month (their deaths). Regions and months without a row count zero (INEGI's empty cells and
months without an event mean zero); every region of the level is a unit, whether or not it has
a row. Rates are per 100,000 people per month, with CONAPO's mid-year population of each
municipality (years 2007-2009 interpolated) or of each state.

Examples
--------
>>> import pandas as pd
>>> long = pd.DataFrame({"region_code": ["01", "02"], "period": ["2019-01-01", "2019-02-01"], "count": [3, 4]})
>>> p = panel_from_counts(long, "state", label="test", measure="homicides")
>>> p.Y.shape, int(p.Y.sum()), p.months[0].strftime("%Y-%m"), p.months[-1].strftime("%Y-%m")
((32, 2), 7, '2019-01', '2019-02')
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from vdto.errors import VdtoError
from vdto.geography import MUNICIPAL_YEARS, geography
from vdto.regional.panel import all_regions, check_level

OUTCOMES = ("rate", "count")


@dataclass(frozen=True)
class HomicidePanel:
    """Counts ``Y`` (units x months) with the units' codes, the months (month starts), the
    level (``state`` or ``municipality``), what was counted and the SHA-256 of the counts."""

    Y: np.ndarray
    units: tuple[str, ...]
    months: pd.DatetimeIndex
    level: str
    label: str
    measure: str
    sha256: str
    notes: dict = field(default_factory=dict)

    def index(self, when: pd.Timestamp) -> int:
        """The month index of a date (its month), or -1 outside the panel."""
        m = pd.Timestamp(when).to_period("M").to_timestamp()
        pos = self.months.get_indexer([m])[0]
        return int(pos)

    def unit_index(self) -> dict[str, int]:
        return {u: i for i, u in enumerate(self.units)}

    def population(self) -> np.ndarray:
        """People per unit and month (mid-year population of the month's year); NaN where unknown."""
        years = self.months.year.to_numpy()
        out = np.full(self.Y.shape, np.nan)
        if self.level == "municipality":
            lo, hi = MUNICIPAL_YEARS
            for y in np.unique(years):
                if lo <= y <= hi:
                    pop = geography().municipal_population(int(y)).reindex(list(self.units))
                    out[:, years == y] = pop.to_numpy(dtype=float)[:, None]
        else:
            pop = geography().population
            pop = pop.assign(year=pop["date"].dt.year).groupby(["state_code", "year"])["population"].mean()
            for y in np.unique(years):
                if y in pop.index.get_level_values("year"):
                    col = pop.xs(y, level="year").reindex(list(self.units))
                    out[:, years == y] = col.to_numpy(dtype=float)[:, None]
        return out

    def outcome(self, kind: str) -> tuple[np.ndarray, np.ndarray, str]:
        """The outcome to evaluate, which units have it everywhere, and its unit.

        ``rate``: homicides per 100,000 people per month (units without a population in some
        month are left out); ``count``: homicides per month."""
        if kind not in OUTCOMES:
            raise VdtoError(
                f"unknown outcome {kind!r}", fix=f"use one of: {', '.join(OUTCOMES)}", param="outcome_kind"
            )
        if kind == "count":
            return self.Y.astype(float), np.ones(len(self.units), dtype=bool), f"{self.measure} per month"
        pop = self.population()
        ok = np.isfinite(pop).all(axis=1) & (pop > 0).all(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            rate = np.where(ok[:, None], self.Y / pop * 1e5, 0.0)
        return rate, ok, f"{self.measure} per 100,000 people per month"


def _hash(units: tuple[str, ...], months: pd.DatetimeIndex, Y: np.ndarray, label: str) -> str:
    h = hashlib.sha256()
    h.update(label.encode())
    h.update("\n".join(units).encode())
    h.update("\n".join(months.strftime("%Y-%m")).encode())
    h.update(np.ascontiguousarray(Y, dtype=np.int64).tobytes())
    return h.hexdigest()


def panel_from_counts(long: pd.DataFrame, level: str, *, label: str, measure: str,
                      first: pd.Timestamp | None = None, last: pd.Timestamp | None = None,
                      notes: dict | None = None) -> HomicidePanel:  # fmt: skip
    """A balanced panel from ``region_code, period, count`` rows at ``level`` (rows of codes
    that are no region of the level, such as INEGI's 999 "not specified", are left out and
    counted in ``notes``)."""
    check_level(level)
    units = tuple(all_regions(level))
    period = pd.to_datetime(long["period"]).dt.to_period("M").dt.to_timestamp()
    if len(long) == 0 and (first is None or last is None):
        raise VdtoError("the panel has no rows", fix="import data for the years to evaluate", param="panel")
    lo = first if first is not None else period.min()
    hi = last if last is not None else period.max()
    months = pd.date_range(lo, hi, freq="MS")
    pos = pd.Index(units).get_indexer(long["region_code"].astype(str))
    t = months.get_indexer(period)
    keep = (pos >= 0) & (t >= 0)
    Y = np.zeros((len(units), len(months)), dtype=np.int64)
    np.add.at(Y, (pos[keep], t[keep]), long["count"].to_numpy(dtype=np.int64)[keep])
    out_notes = dict(notes or {})
    out_notes["outside_regions"] = int(long["count"].to_numpy()[(pos < 0) & (t >= 0)].sum())
    return HomicidePanel(Y=Y, units=units, months=months, level=level, label=label, measure=measure,
                         sha256=_hash(units, months, Y, label), notes=out_notes)  # fmt: skip


def to_state_level(long: pd.DataFrame) -> pd.DataFrame:
    """Municipal rows summed to their states (the first two digits of the code)."""
    return long.assign(region_code=long["region_code"].astype(str).str[:2])


__all__ = ["OUTCOMES", "HomicidePanel", "panel_from_counts", "to_state_level"]
