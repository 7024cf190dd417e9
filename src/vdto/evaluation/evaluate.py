"""One evaluation: the event study of every design, placebo dates, provenance.

:func:`evaluate` takes a panel, validated interventions and the places around them and returns
an :class:`Evaluation`: per design (where it happened, neighbours, same organization) the
event-time table and the pooled effect, the placebo-date distribution of the pooled effect of
the first design, and the provenance every output carries (vdto version, the panel's and the
interventions file's SHA-256, the settings' hash and the seed).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

import vdto
from vdto.errors import VdtoError
from vdto.evaluation.designs import DESIGNS, build_designs
from vdto.evaluation.eventstudy import BASES, event_study
from vdto.evaluation.interventions import Interventions, outside
from vdto.evaluation.panels import HomicidePanel
from vdto.evaluation.placebo import placebo_dates, randomization_p


@dataclass(frozen=True)
class Settings:
    """What an evaluation estimates: the outcome (``rate`` or ``count``), event months
    ``-pre .. post``, the pooled window (event months ``a .. b``), the confidence level of the
    intervals, placebo draws and the seed."""

    outcome: str = "rate"
    pre: int = 12
    post: int = 24
    window: tuple[int, int] = (0, 11)
    confidence: float = 0.9
    placebo_draws: int = 200
    seed: int = 0
    base: str = "pre"

    def check(self) -> Settings:
        if self.pre < 1:
            raise VdtoError(f"pre must be at least 1 month (got {self.pre})", fix="use e.g. 12", param="pre")
        if self.post < 0:
            raise VdtoError(
                f"post must be at least 0 months (got {self.post})", fix="use e.g. 24", param="post"
            )
        a, b = self.window
        if not 0 <= a <= b <= self.post:
            raise VdtoError(f"the window {a}..{b} is not inside 0..{self.post}",
                            fix=f"give two months A..B with 0 <= A <= B <= {self.post}", param="effect_window")  # fmt: skip
        if not 0 < self.confidence < 1:
            raise VdtoError(f"the confidence level must be between 0 and 1 (got {self.confidence})", fix="use e.g. 0.9",
                            param="confidence")  # fmt: skip
        if self.base not in BASES:
            raise VdtoError(
                f"unknown base {self.base!r}", fix=f"use one of: {', '.join(BASES)}", param="base"
            )
        if self.placebo_draws < 0:
            raise VdtoError(
                "placebo draws cannot be negative", fix="use e.g. 200 (0: none)", param="placebo_draws"
            )
        return self

    def sha256(self) -> str:
        text = json.dumps(self.__dict__, sort_keys=True, default=list)
        return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Evaluation:
    """Per design the event-time table (``design`` column) and the pooled effects (one row per
    design), the placebo-date estimates, and the provenance."""

    table: pd.DataFrame
    pooled: pd.DataFrame
    placebos: np.ndarray
    meta: dict
    treated: pd.DataFrame = field(default_factory=pd.DataFrame)


def evaluate(panel: HomicidePanel, interventions: Interventions, settings: Settings, *,
             neighbours: Mapping[str, list[str]] | None = None,
             presence: Mapping[int, set[str]] | None = None) -> Evaluation:  # fmt: skip
    """Estimate the effect of the interventions on the panel (see the module docstring)."""
    s = settings.check()
    if interventions.frame.empty:
        raise VdtoError("no interventions to evaluate", interventions.path,
                        "check the file or the kinds selected with --kind")  # fmt: skip
    outside(interventions, panel.months[0], panel.months[-1], panel.label)
    Y, usable, unit = panel.outcome(s.outcome)
    if not usable.any():
        raise VdtoError(f"no region of the panel has a population in every month of {panel.months[0]:%Y-%m} to "
                        f"{panel.months[-1]:%Y-%m}", fix="evaluate counts instead ({outcome_kind} count)",
                        param="outcome_kind", mentions=("outcome_kind",))  # fmt: skip
    designs = build_designs(
        panel, interventions.frame, neighbours=neighbours, presence=presence, usable=usable
    )
    tables, pooled, treated = [], [], []
    placebos = np.array([])
    for d in designs:
        res = event_study(
            Y,
            d.start,
            controls=d.controls,
            pre=s.pre,
            post=s.post,
            window=s.window,
            level=s.confidence,
            base=s.base,
        )
        tables.append(res.table.assign(design=d.name))
        row = {"design": d.name, **res.pooled}
        if d.name == DESIGNS[0] and s.placebo_draws and res.pooled["treated"]:
            placebos = placebo_dates(Y, d.start, controls=d.controls, pre=s.pre, post=s.post, window=s.window,
                                     draws=s.placebo_draws, seed=s.seed, base=s.base)  # fmt: skip
            row["placebo_mean"] = float(np.nanmean(placebos)) if np.isfinite(placebos).any() else np.nan
            row["placebo_p"] = randomization_p(res.pooled["estimate"], placebos)
        pooled.append(row)
        for u, rows in d.rows.items():
            treated.append({"design": d.name, "region_code": u, "month": panel.months[d.start[panel.unit_index()[u]]],
                            "rows": ";".join(str(r) for r in rows)})  # fmt: skip
    meta = {
        "vdto_version": vdto.__version__,
        "panel": panel.label,
        "panel_sha256": panel.sha256,
        "panel_months": f"{panel.months[0]:%Y-%m}..{panel.months[-1]:%Y-%m}",
        "level": panel.level,
        "interventions": interventions.path,
        "interventions_sha256": interventions.sha256,
        "interventions_count": len(interventions.frame),
        "unplaced_rows": list(designs[0].unplaced),
        "outcome": s.outcome,
        "unit": unit,
        "settings_sha256": s.sha256(),
        "seed": s.seed,
        "confidence": s.confidence,
        "estimator": "Callaway-Sant'Anna ATT(g,t) with never-treated controls (= Sun-Abraham IW)",
        "base": {"pre": f"mean of months -{s.pre}..-1", "last": "month -1"}[s.base],
    }
    return Evaluation(
        table=pd.concat(tables, ignore_index=True)[["design", *tables[0].columns.drop("design")]],
        pooled=pd.DataFrame(pooled), placebos=placebos, meta=meta, treated=pd.DataFrame(treated),
    )  # fmt: skip


__all__ = ["Evaluation", "Settings", "evaluate"]
