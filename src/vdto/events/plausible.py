"""Plausibility at the door: dates and places an event of Mexico's drug war can have.

One bad cell must not name a target: a row dated 9999-12-31 would stretch the default analysis
window to that day and, with decay, give its organization all the weight. Every importer
(UCDP, ACLED, the generic mapping, counts) therefore refuses, as row problems with their
``file:row:column`` and fix:

- dates before :data:`FIRST_DATE` (1989-01-01, the first year of UCDP GED) or after today plus
  :data:`MARGIN_DAYS` (a file may be dated in the reporter's time zone);
- coordinates outside Mexico's bounding box (:data:`MEXICO_BOUNDS`, with a margin for the
  islands and the coast), and coordinates farther than :data:`STATE_TOLERANCE` from the state
  the row names.

An import may widen the dates (``dates``) or accept places outside Mexico (``anywhere``) only by
an explicit option, which is recorded with the import (:meth:`Plausibility.record`).

Examples
--------
>>> from datetime import date
>>> p = Plausibility(first=date(1989, 1, 1), last=date(2024, 12, 31))
>>> p.record()
{'dates': '1989-01-01..2024-12-31'}
>>> Plausibility().record()
{}
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from vdto.events.tabular import ROW, Problems

FIRST_DATE = date(1989, 1, 1)
MARGIN_DAYS = 2
#: (south, north, west, east) in degrees: Mexico's extent (14.53 N to 32.72 N, 118.4 W to 86.7 W)
#: with a margin for the Revillagigedo Islands and coastal points.
MEXICO_BOUNDS = (14.0, 33.5, -119.0, -86.0)
#: A point may lie this far (degrees, about 22 km) outside the state its row names: sources place
#: events on the nearest town, which may be across a state line (28 such events in UCDP GED; the
#: farthest, Manzanillo, Colima, named as Jalisco, lies 0.1-0.2 degrees from Jalisco).
STATE_TOLERANCE = 0.2


@dataclass(frozen=True)
class Plausibility:
    """The dates and places an import accepts. ``first``/``last`` None mean the defaults;
    ``anywhere`` accepts coordinates outside Mexico."""

    first: date | None = None
    last: date | None = None
    anywhere: bool = False

    @property
    def start(self) -> date:
        return self.first or FIRST_DATE

    @property
    def end(self) -> date:
        return self.last or date.today() + timedelta(days=MARGIN_DAYS)

    def record(self) -> dict:
        """What the import should record: the options that differ from the defaults."""
        out: dict = {}
        if self.first is not None or self.last is not None:
            out["dates"] = f"{self.start}..{self.end}"
        if self.anywhere:
            out["anywhere"] = True
        return out


def check_dates(rows: np.ndarray, dates: pd.Series, column: str, problems: Problems, p: Plausibility) -> None:
    """Refuse dates outside ``p``'s range (NaT is left to the parser's own checks)."""
    d = pd.to_datetime(dates, errors="coerce")
    lo, hi = pd.Timestamp(p.start), pd.Timestamp(p.end)
    bad = (d.notna() & ((d < lo) | (d > hi))).to_numpy()
    problems.add_rows(np.asarray(rows)[bad], column, d[bad].dt.strftime("%Y-%m-%d").to_numpy(),
              f"is outside the plausible dates {p.start}..{p.end}",
              "check the date (a typing error?); a wider range can be allowed for this import with {dates} "
              "FROM..TO, which the import record keeps")  # fmt: skip


def check_events(events: pd.DataFrame, problems: Problems, where: dict[str, str], p: Plausibility) -> None:
    """Dates and coordinates of canonical events (``where`` maps fields to the file's columns)."""
    rows = events[ROW].to_numpy()
    check_dates(rows, events["date_start"], where.get("date_start", "date_start"), problems, p)
    check_dates(rows, events["date_end"], where.get("date_end", "date_end"), problems, p)
    if p.anywhere:
        return
    lat = events["latitude"].to_numpy(dtype=float)
    lon = events["longitude"].to_numpy(dtype=float)
    s, n, w, e = MEXICO_BOUNDS
    has = np.isfinite(lat) & np.isfinite(lon)
    out = has & ((lat < s) | (lat > n) | (lon < w) | (lon > e))
    col = where.get("latitude", "latitude")
    problems.add_rows(rows[out], col, [f"{a:g}, {b:g}" for a, b in zip(lat[out], lon[out], strict=True)],
              "is outside Mexico", "check the coordinates (latitude first, west longitudes negative); events "
              "outside Mexico can be imported with {anywhere}, which the import record keeps")  # fmt: skip
    inside = has & ~out & events["state_code"].notna().to_numpy()
    if inside.any():
        from vdto.geography import geography

        stated = events["state_code"].to_numpy(dtype=object)[inside]
        wrong = ~geography().near_state(lat[inside], lon[inside], stated, STATE_TOLERANCE)
        problems.add_rows(rows[inside][wrong], col,
                  [f"{a:g}, {b:g} (state {y})" for a, b, y in
                   zip(lat[inside][wrong], lon[inside][wrong], stated[wrong], strict=True)],
                  f"lies more than {STATE_TOLERANCE:g} degrees (about 22 km) from the state the row names",
                  "check the coordinates or the state")  # fmt: skip


__all__ = ["FIRST_DATE", "MEXICO_BOUNDS", "Plausibility", "check_dates", "check_events"]
