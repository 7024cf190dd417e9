"""The interventions file: what was done, where and when, with the source that says so.

A CSV (UTF-8, plain or compressed) with one intervention per row and the columns

================  =====================================================================
``date``          the day it happened, ``YYYY-MM-DD``
``region_codes``  INEGI codes of where it happened: municipalities (``25006``) or states
                  (``25``); several separated by ``;``
``organization``  the organization it was aimed at: a registry id, name or alias, or empty
``kind``          ``announcement``, ``leader capture``, ``leader killed``, ``operation`` or
                  ``other``
``source``        the citation (publisher, title, date, address)
``person``        optional: who was captured or killed
``uncertain``     optional: ``date``, ``place`` or ``date;place`` where sources disagree
``note``          optional: what the sources disagree on, or anything else
================  =====================================================================

Every problem is reported as ``file:row:column`` with its fix (exit 2 in the CLI); a file with
any bad row is refused whole. The bundled list of leader captures and killings 2007-2015
(``vdto.data`` name ``captures``) is such a file; its ``SOURCE.md`` says how it was compiled.

Examples
--------
>>> from vdto.data import bundled
>>> iv = read_interventions(bundled("captures"))
>>> iv.frame[["date", "region_codes", "organization", "kind"]].iloc[3].to_dict()
{'date': Timestamp('2009-12-16 00:00:00'), 'region_codes': ('17007',), 'organization': 'beltran_leyva', 'kind': 'leader killed'}
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from vdto.errors import RowErrors, RowProblem, VdtoError
from vdto.events.tabular import ROW, Problems, blank, parse_date, read_csv, require_columns, sha256_file
from vdto.geography import geography
from vdto.orgs import Registry

REQUIRED = ("date", "region_codes", "organization", "kind", "source")
OPTIONAL = ("person", "uncertain", "note")
KINDS = ("announcement", "leader capture", "leader killed", "operation", "other")
#: The kinds that remove a leader (what the kingpin literature studies).
LEADER_KINDS = ("leader capture", "leader killed")
UNCERTAIN = ("date", "place")
#: Dates before this year or after the next are refused as typing errors.
FIRST_YEAR = 1990


class InterventionErrors(RowErrors):
    """Rows of an interventions file failed validation; the first is shown, all are kept."""

    def __init__(self, file: str, problems: list[RowProblem]) -> None:
        self.problems = problems
        first, more = problems[0], len(problems) - 1
        tail = f" ({more} more problem{'s' if more > 1 else ''} in this file)" if more else ""
        VdtoError.__init__(self, f"{first.column_name} {first.message} (value {first.value!r}){tail}",
                           f"{file}:{first.row}:{first.column}", first.fix)  # fmt: skip


@dataclass(frozen=True)
class Interventions:
    """A validated interventions file: ``frame`` (one row per intervention, with its file row
    in ``row``), where it came from and the SHA-256 of its bytes."""

    frame: pd.DataFrame
    path: str
    sha256: str

    def select(self, kinds: tuple[str, ...] | None) -> Interventions:
        """The interventions of the given kinds (all when None)."""
        if not kinds:
            return self
        return Interventions(self.frame[self.frame["kind"].isin(kinds)].reset_index(drop=True), self.path,
                             self.sha256)  # fmt: skip


def _codes(text: pd.Series, probs: Problems) -> list[tuple[str, ...]]:
    geo = geography()
    states = set(geo.population["state_code"]) if "state_code" in geo.population else set()
    states |= set(geo.municipalities["state_code"])
    muns = set(geo.municipalities["mun_code"])
    out: list[tuple[str, ...]] = []
    bad = np.zeros(len(text), dtype=bool)
    for i, cell in enumerate(text.astype(str)):
        parts = tuple(p.strip() for p in cell.replace(",", ";").split(";") if p.strip())
        ok = bool(parts) and all((len(p) == 2 and p in states) or (len(p) == 5 and p in muns) for p in parts)
        bad[i] = not ok and cell.strip() != ""
        out.append(parts if ok else ())
    probs.add(bad, "region_codes", text, "is not a list of INEGI state or municipality codes",
              "write 2-digit state or 5-digit municipality codes separated by ';' (e.g. 25006;25012)")  # fmt: skip
    probs.add(blank(text), "region_codes", text, "is empty", "give the INEGI code of where it happened")
    return out


def _organizations(text: pd.Series, probs: Problems, registry: Registry) -> list[str]:
    out = []
    bad = np.zeros(len(text), dtype=bool)
    for i, cell in enumerate(text.astype(str)):
        name = cell.strip()
        org = (name if name in registry else registry.lookup(name)) if name else ""
        bad[i] = org is None
        out.append(org or "")
    probs.add(bad, "organization", text, "is not an organization of the registry",
              "use an id, name or alias from `vdto orgs list`, register it, or leave the cell empty")  # fmt: skip
    return out


def _uncertain(text: pd.Series, probs: Problems) -> list[tuple[str, ...]]:
    out = []
    bad = np.zeros(len(text), dtype=bool)
    for i, cell in enumerate(text.astype(str)):
        parts = tuple(p.strip().lower() for p in cell.split(";") if p.strip())
        bad[i] = any(p not in UNCERTAIN for p in parts)
        out.append(tuple(p for p in parts if p in UNCERTAIN))
    probs.add(bad, "uncertain", text, "is not 'date', 'place' or 'date;place'",
              "leave it empty, or name what the sources disagree on")  # fmt: skip
    return out


def read_interventions(path: str | Path, *, registry: Registry | None = None) -> Interventions:
    """Read and validate an interventions file (see the module docstring for its columns).

    Raises
    ------
    InputFileError
        The file cannot be read as CSV, or a required column is missing.
    InterventionErrors
        Some cells are bad: the first one is named as ``file:row:column`` with its fix.
    """
    path = Path(path)
    raw = read_csv(path)
    require_columns(raw, REQUIRED, path, "interventions")
    for col in OPTIONAL:
        if col not in raw:
            raw[col] = ""
    probs = Problems(raw[ROW].to_numpy(), [c for c in raw.columns if c != ROW])
    dates = parse_date(raw["date"], "date", probs)
    last = pd.Timestamp.today().year + 1
    years = dates.dt.year
    probs.add(dates.notna() & ((years < FIRST_YEAR) | (years > last)), "date", raw["date"],
              f"is outside {FIRST_YEAR}-{last}", "check the year")  # fmt: skip
    codes = _codes(raw["region_codes"], probs)
    orgs = _organizations(raw["organization"], probs, registry or Registry.seed())
    kind = raw["kind"].astype(str).str.strip().str.lower()
    probs.add(~kind.isin(KINDS).to_numpy(), "kind", raw["kind"], "is not a kind of intervention",
              f"use one of: {', '.join(KINDS)}")  # fmt: skip
    probs.add(blank(raw["source"]), "source", raw["source"], "is empty",
              "cite the source: publisher, title, date and address")  # fmt: skip
    uncertain = _uncertain(raw["uncertain"], probs)
    if probs:
        raise InterventionErrors(str(path), probs.to_list())
    frame = pd.DataFrame({
        "row": raw[ROW].to_numpy(), "date": dates.to_numpy(), "region_codes": codes, "organization": orgs,
        "kind": kind.to_numpy(), "person": raw["person"].str.strip().to_numpy(), "uncertain": uncertain,
        "source": raw["source"].str.strip().to_numpy(), "note": raw["note"].str.strip().to_numpy(),
    })  # fmt: skip
    return Interventions(frame, str(path), sha256_file(path))


def column_of(name: str) -> int:
    """The 1-based column a required field has in the documented layout (for errors found after
    reading, against a panel)."""
    return (*REQUIRED, *OPTIONAL).index(name) + 1


def outside(interventions: Interventions, first: pd.Timestamp, last: pd.Timestamp, label: str) -> None:
    """Refuse interventions dated outside a panel's months, naming the first such row."""
    f = interventions.frame
    month = f["date"].dt.to_period("M").dt.to_timestamp()
    bad = f[(month < first) | (month > last)]
    if len(bad):
        r = bad.iloc[0]
        raise VdtoError(
            f"date {r['date']:%Y-%m-%d} is outside the panel ({label}: {first:%Y-%m} to {last:%Y-%m})"
            + (f" ({len(bad) - 1} more rows)" if len(bad) > 1 else ""),
            f"{interventions.path}:{r['row']}:{column_of('date')}",
            "evaluate on a panel that covers it ({panel} inegi: 1990-2015; sesnsp: 2015 on; events: the store's "
            "years) or leave the row out",
            mentions=("panel",),
        )


__all__ = ["KINDS", "LEADER_KINDS", "InterventionErrors", "Interventions", "outside", "read_interventions"]
