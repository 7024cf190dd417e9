"""The whole pipeline on the bundled real data, with no network access (what ``vdto demo`` runs).

Imports the UCDP events and SESNSP counts into a fresh store, scores and ranks the latest full
year with intervals, applies the target rule, builds the enforcement package on a generated
supply network, finds the state and municipal hot spots, runs a small policy comparison and the
Caribbean shift, writes the report folder (:mod:`vdto.services.report`), and lists the target's most
violent cells and persons in synthetic case files (:func:`vdto.services.persons.demo`). :func:`run_demo`
returns what it did; :func:`summary` gathers what a reader is told about it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from vdto.data import bundled
from vdto.events.ingest import ImportResult
from vdto.geography import STATES
from vdto.services.imports import import_file
from vdto.store import Store

if TYPE_CHECKING:
    from vdto.regional.analysis import RegionalAnalysis
    from vdto.scoring import ScoreResult, TargetDecision
    from vdto.services.persons import FocusedList
    from vdto.services.report import ReportData


@dataclass
class DemoResult:
    db: Path
    ucdp: ImportResult
    sesnsp: ImportResult
    ranking: ScoreResult | None = None
    regional: RegionalAnalysis | None = None  # the municipal hot spots and region targets
    data: ReportData | None = None  # everything the report shows
    report: Path | None = None  # report.html
    persons: FocusedList | None = None  # the focused-deterrence list on SYNTHETIC case files


def steps(report: bool = True) -> int:
    """How many times :func:`run_demo` calls its ``progress`` callback."""
    from vdto.services.report import STEPS

    return 2 + (STEPS + 1 if report else 1)


def run_demo(
    out_dir: str | Path = "vdto-demo",
    *,
    report: bool = True,
    sim: bool = True,
    progress: Callable[[str], None] | None = None,
) -> DemoResult:
    """Run every step on the bundled data into ``out_dir`` (a fresh ``vdto.duckdb`` and, with
    ``report``, the ``report/`` folder); ``progress`` is called with a label before each step.

    ``sim=False`` leaves the policy comparison out; ``report=False`` stops after the import and
    the ranking (the older, quicker demo).
    """
    from vdto.services.persons import demo as persons_demo
    from vdto.services.report import collect, latest_full_year, write_report
    from vdto.services.scoring import score_window

    def step(label: str) -> None:
        if progress is not None:
            progress(label)

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    db = out_dir / "vdto.duckdb"
    for stale in (db, db.with_suffix(".duckdb.wal")):
        if stale.exists():
            stale.unlink()
    step("Importing UCDP GED events (1989-2023)")
    ucdp_result = import_file(db, "ucdp", bundled("ucdp"))
    step("Importing SESNSP victim counts (2015-2025)")
    sesnsp_result = import_file(db, "counts", bundled("sesnsp"))
    if report:
        data = collect(db, sim_results=None if sim else False, progress=step)
        page = write_report(data, out_dir / "report", progress=step)
        step("Focused deterrence on SYNTHETIC case files (never published)")
        start, end = (date.fromisoformat(str(data.ranking.meta[k])) for k in ("from", "to"))
        listing = persons_demo(db, out_dir / "persons", start, end)
        return DemoResult(
            db, ucdp_result, sesnsp_result, data.ranking, data.municipalities, data, page, listing
        )
    with Store(db, read_only=True) as store:
        year = latest_full_year(store)
        step(f"Scoring {year} (2,000 Monte Carlo draws)")
        ranking = score_window(store, date(year, 1, 1), date(year, 12, 31), draws=2000, seed=7)
    return DemoResult(db, ucdp_result, sesnsp_result, ranking)


@dataclass
class DemoSummary:
    """What the demo tells its reader, as data (the CLI prints it)."""

    totals: dict
    year: int
    ranking: pd.DataFrame
    rubric: str
    decision: TargetDecision
    regional: pd.DataFrame | None
    hot_spots: int
    counts_year: int | None
    counts_total: int | None
    counts_top: list[tuple[str, int]]
    headlines: dict[str, str]
    unresolved: int


def summary(result: DemoResult) -> DemoSummary:
    """The figures the demo prints: the store, the ranking, the decision, the regional view, the
    SESNSP counts of the last full year and the report's headlines."""
    from vdto.scoring import decide
    from vdto.services.report import headlines

    ranking = result.ranking
    assert ranking is not None
    decision = result.data.decision if result.data is not None else decide(ranking)
    regional, n_hot = None, 0
    if result.regional is not None:
        regional = result.regional.targets.table[
            ["rank", "region_code", "name", "score", "events", "gi_z", "organizations"]
        ]
        n_hot = int((result.regional.hot["hotspot"] == "hot spot").sum())
    with Store(result.db, read_only=True) as store:
        totals = store.events.totals()
        hom = store.counts.by_state_and_year("homicidio_doloso")
        months = store.counts.months_per_year()
        unresolved = len(store.events.unresolved_names())
    year_total, top, last_full = None, [], None
    full = hom.groupby("year")["state_code"].nunique().pipe(lambda s: s[s == len(STATES)]).index
    if len(full):
        last_full = int(full.max())
        if months.get(last_full, 0) < 12:
            last_full -= 1
        rows = hom[hom["year"] == last_full].sort_values("count", ascending=False)
        year_total = int(rows["count"].sum())
        top = [
            (STATES.get(c, c), int(v))
            for c, v in zip(rows["state_code"].head(3), rows["count"].head(3), strict=True)
        ]
    return DemoSummary(
        totals=totals,
        year=int(str(ranking.meta["from"])[:4]),
        ranking=ranking.table.head(5)[["rank", "org", "name", "score", "lo90", "hi90", "p_rank1"]],
        rubric=ranking.rubric.name,
        decision=decision,
        regional=regional,
        hot_spots=n_hot,
        counts_year=last_full,
        counts_total=year_total,
        counts_top=top,
        headlines=headlines(result.data) if result.data is not None else {},
        unresolved=unresolved,
    )
