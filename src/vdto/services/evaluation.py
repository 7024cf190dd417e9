"""Evaluating interventions on the real panels: what ``vdto evaluate``, ``vdto round status``
and the docs' script run (the shells parse and print; the rules are in :mod:`vdto.evaluation`).

Panels: ``inegi`` (bundled INEGI homicide deaths by municipality and month of registration,
1990-2015; municipalities or summed to states), ``sesnsp`` (bundled SESNSP victims of
intentional homicide and femicide by state and month, 2015 on) and ``events`` (the deaths of
the store's events by region and month). Where an organization was present comes from the
bundled UCDP GED events attributed to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from vdto.errors import VdtoError
from vdto.evaluation.evaluate import Evaluation, Settings, evaluate
from vdto.evaluation.interventions import Interventions, read_interventions
from vdto.evaluation.panels import HomicidePanel, panel_from_counts, to_state_level
from vdto.evaluation.presence import presence
from vdto.evaluation.synth import SyntheticControl, synthetic_control
from vdto.events.bundled import SESNSP_MEASURES, inegi_tables, sesnsp_counts, ucdp_attributed
from vdto.store import Store

PANELS = ("inegi", "sesnsp", "events")
FIRST_POPULATION = pd.Timestamp("1990-01-01")
INEGI_LABEL = "INEGI homicide deaths by municipality of occurrence and month of registration"
SESNSP_LABEL = "SESNSP victims of intentional homicide and femicide by state and month"


@cache
def _inegi_long() -> pd.DataFrame:
    return pd.concat(
        [t.counts[["region_code", "period", "count"]] for t in inegi_tables()], ignore_index=True
    )


@cache
def _sesnsp_long() -> pd.DataFrame:
    c = sesnsp_counts()
    c = c[c["measure"].isin(SESNSP_MEASURES) & (c["level"] == "state")]
    return c[["region_code", "period", "count"]].reset_index(drop=True)


def load_panel(kind: str, *, level: str | None = None, db: str | Path | None = None,
               agency: str | None = None) -> HomicidePanel:  # fmt: skip
    """The panel ``kind`` (see the module docstring) at ``level`` (INEGI and the store's events
    default to municipalities; SESNSP has states only)."""
    if kind not in PANELS:
        raise VdtoError(f"unknown panel {kind!r}", fix=f"use one of: {', '.join(PANELS)}", param="panel")
    if kind == "inegi":
        lvl = level or "municipality"
        long = _inegi_long()
        if lvl == "state":
            long = to_state_level(long)
        return panel_from_counts(long, lvl, label=INEGI_LABEL + (" (summed to states)" if lvl == "state" else ""),
                                 measure="homicide deaths")  # fmt: skip
    if kind == "sesnsp":
        if level not in (None, "state"):
            raise VdtoError("SESNSP counts are by state only", fix="use --level state or another --panel",
                            param="level")  # fmt: skip
        return panel_from_counts(_sesnsp_long(), "state", label=SESNSP_LABEL, measure="homicide victims")
    if db is None:
        raise VdtoError("the events panel reads the store", fix="give --db", param="db")
    lvl = level or "municipality"
    with Store(db, read_only=True) as store:
        last = store.events.last_date()
        if last is None:
            raise VdtoError("the store holds no events", str(db), "import events first (vdto import ...)")
        who = store.resolve_agency(agency)
        events, _ = store.events.window(date(1900, 1, 1), last, agency=who)
    code = events["mun_code"] if lvl == "municipality" else events["state_code"]
    long = pd.DataFrame({"region_code": code.astype(object), "period": pd.to_datetime(events["date_start"]),
                         "count": events["deaths_best"].fillna(0).astype(np.int64)}).dropna(subset=["region_code"])  # fmt: skip
    # populations (for rates) start in 1990: earlier events are left out of the panel
    long = long[long["period"] >= FIRST_POPULATION]
    return panel_from_counts(long, lvl, label=f"deaths of the events of agency {who} in {db}", measure="event deaths",
                             notes={"from": f"{FIRST_POPULATION:%Y-%m} (population estimates start then)"})  # fmt: skip


def neighbours(level: str) -> dict[str, list[str]]:
    """Queen neighbours of every region of ``level`` (bundled polygons)."""
    from vdto.regional.contiguity import bundled

    return dict(bundled(level).neighbors)


def presence_of(interventions: Interventions, level: str) -> dict[int, set[str]]:
    """Where each intervention's organization had UCDP GED events in the two years before it."""
    from vdto.orgs import Registry

    events, perps = ucdp_attributed()
    reg = Registry.seed()
    return presence(events, perps, interventions.frame, level=level,
                    top=lambda o: reg.top(o) if o in reg else o)  # fmt: skip


@dataclass(frozen=True)
class EvaluationRun:
    """An evaluation with the panel it ran on and, when asked for, one synthetic control."""

    evaluation: Evaluation
    panel: HomicidePanel
    interventions: Interventions
    synth: SyntheticControl | None = None
    synth_row: int | None = None


def run_evaluation(interventions_path: str | Path, *, panel: str = "inegi", level: str | None = None,
                   kinds: tuple[str, ...] | None = None, settings: Settings | None = None,
                   db: str | Path | None = None, agency: str | None = None, synth_row: int | None = None,
                   donors: int = 40, synth_pre: int = 36) -> EvaluationRun:  # fmt: skip
    """Read the interventions, load the panel, and evaluate (see :func:`vdto.evaluation.evaluate.evaluate`);
    ``synth_row`` (a file row of the interventions) adds a synthetic control of its place."""
    iv = read_interventions(interventions_path).select(kinds)
    p = load_panel(panel, level=level, db=db, agency=agency)
    s = settings or Settings()
    ev = evaluate(p, iv, s, neighbours=neighbours(p.level), presence=presence_of(iv, p.level))
    sc = None
    if synth_row is not None:
        sc = synth_for(p, iv, ev, synth_row, s, donors=donors, pre=synth_pre)
    return EvaluationRun(ev, p, iv, sc, synth_row)


def synth_for(p: HomicidePanel, iv: Interventions, ev: Evaluation, row: int, s: Settings, *, donors: int,
              pre: int) -> SyntheticControl:  # fmt: skip
    """The synthetic control of the place of the intervention on file row ``row``, with the
    evaluation's controls as donors."""
    f = iv.frame[iv.frame["row"] == row]
    if f.empty:
        raise VdtoError(f"no intervention on row {row} of {iv.path}", fix="give a data row of the file (2 is the first)",
                        param="synth")  # fmt: skip
    r = f.iloc[0]
    codes = [c if p.level == "municipality" else c[:2] for c in r["region_codes"]]
    pos = p.unit_index()
    if not codes or codes[0] not in pos:
        raise VdtoError(f"row {row} has no region of the panel's level", fix="pick a row with a municipality code",
                        param="synth")  # fmt: skip
    t = p.index(r["date"])
    if t - pre < 0:
        raise VdtoError(f"row {row}'s {pre} months before lie outside the panel", fix="pick a later intervention",
                        param="synth")  # fmt: skip
    Y, usable, _ = p.outcome(s.outcome)
    controls = usable & (
        ev.treated.empty or ~np.isin(np.array(p.units), ev.treated["region_code"].to_numpy())
    )
    return synthetic_control(Y, pos[codes[0]], t, pre=pre, post=s.post, controls=np.asarray(controls), donors=donors,
                             names=list(p.units))  # fmt: skip


__all__ = [
    "PANELS",
    "EvaluationRun",
    "load_panel",
    "neighbours",
    "presence_of",
    "run_evaluation",
    "synth_for",
]
