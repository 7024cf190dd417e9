"""Who is treated, when, and who may serve as a control: the designs of an evaluation.

Three designs from one interventions file on one panel:

- **where it happened**: the units named in ``region_codes`` (a municipality's code on a state
  panel counts for its state; a state's code on a municipal panel cannot be placed and is
  reported in ``unplaced``);
- **neighbours**: the units bordering them (queen contiguity), the units themselves excepted;
- **same organization**: the units where the intervention's organization was present (from
  the caller: e.g. municipalities with UCDP events attributed to it in the two years before),
  the units of the first two designs excepted.

A unit reached by several interventions is treated from the first (adoption is absorbing).
Controls are the units no intervention reaches in any design, so a neighbour of a capture
never stands in for what would have happened without one.

Examples
--------
>>> import numpy as np, pandas as pd
>>> from vdto.evaluation.panels import panel_from_counts
>>> p = panel_from_counts(pd.DataFrame({"region_code": ["01"], "period": ["2019-01-01"], "count": [1]}),
...     "state", label="t", measure="homicides", last=pd.Timestamp("2019-12-01"))
>>> f = pd.DataFrame({"row": [2], "date": [pd.Timestamp("2019-06-10")], "region_codes": [("14039",)],
...     "organization": ["cjng"]})
>>> d = build_designs(p, f, neighbours={"14": ["01", "06"]})
>>> [(x.name, [p.units[i] for i in np.flatnonzero(x.start >= 0)]) for x in d]
[('where it happened', ['14']), ('neighbours', ['01', '06']), ('same organization', [])]
>>> int(d[0].start[p.units.index("14")]), int(d[0].controls.sum())
(5, 29)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from vdto.evaluation.panels import HomicidePanel

DESIGNS = ("where it happened", "neighbours", "same organization")


@dataclass(frozen=True)
class Design:
    """One design: per panel unit the month index of its first intervention (-1: none), the
    units allowed as controls, and per treated unit the file rows of its interventions."""

    name: str
    start: np.ndarray
    controls: np.ndarray
    rows: dict[str, list[int]] = field(default_factory=dict)
    unplaced: tuple[int, ...] = ()


def _place(codes: tuple[str, ...], level: str) -> tuple[list[str], bool]:
    """The panel units of an intervention's codes, and whether some code could not be placed."""
    out, lost = [], False
    for c in codes:
        if level == "state":
            out.append(c[:2])
        elif len(c) == 5:
            out.append(c)
        else:
            lost = True
    return sorted(set(out)), lost


def _first(start: np.ndarray, rows: dict[str, list[int]], pos: dict[str, int], units: list[str], t: int,
           row: int) -> None:  # fmt: skip
    for u in units:
        i = pos.get(u)
        if i is None:
            continue
        if start[i] < 0 or t < start[i]:
            start[i] = t
        rows.setdefault(u, []).append(row)


def build_designs(panel: HomicidePanel, interventions: pd.DataFrame, *,
                  neighbours: Mapping[str, list[str]] | None = None,
                  presence: Mapping[int, set[str]] | None = None,
                  usable: np.ndarray | None = None) -> list[Design]:  # fmt: skip
    """The three designs (see the module docstring).

    ``interventions`` has the columns ``row, date, region_codes, organization``; ``neighbours``
    maps a unit to its bordering units; ``presence`` maps an intervention's file row to the
    units where its organization was present; ``usable`` marks the units that have the
    outcome in every month (others are neither treated nor controls)."""
    n = len(panel.units)
    pos = panel.unit_index()
    ok = np.ones(n, dtype=bool) if usable is None else np.asarray(usable, dtype=bool)
    starts = {name: np.full(n, -1, dtype=np.int64) for name in DESIGNS}
    rows: dict[str, dict[str, list[int]]] = {name: {} for name in DESIGNS}
    unplaced = []
    nb = neighbours or {}
    for r in interventions.itertuples(index=False):
        t = panel.index(r.date)
        if t < 0:
            continue
        here, lost = _place(tuple(r.region_codes), panel.level)
        if lost and not here:
            unplaced.append(int(r.row))
            continue
        around = sorted({m for u in here for m in nb.get(u, [])} - set(here))
        same = sorted(set((presence or {}).get(int(r.row), set())) - set(here) - set(around))
        for name, units in zip(DESIGNS, (here, around, same), strict=True):
            _first(starts[name], rows[name], pos, units, t, int(r.row))
    # a unit of an earlier design is not also a unit of a later one
    taken = np.zeros(n, dtype=bool)
    for name in DESIGNS:
        s = starts[name]
        s[taken] = -1
        taken |= s >= 0
    touched = taken
    controls = ok & ~touched
    out = []
    for name in DESIGNS:
        s = np.where(ok, starts[name], -1)
        kept = {u: v for u, v in rows[name].items() if s[pos[u]] >= 0}
        out.append(Design(name, s, controls, kept, tuple(unplaced)))
    return out


__all__ = ["DESIGNS", "Design", "build_designs"]
