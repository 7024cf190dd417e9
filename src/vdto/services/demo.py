"""``vdto demo``: the whole pipeline on the bundled real data, with no network access.

Imports the UCDP events and SESNSP counts into a fresh store, scores and ranks the latest full
year with intervals, applies the target rule, builds the enforcement package on a generated
supply network, finds the state and municipal hot spots, runs a small policy comparison and the
Caribbean shift, and writes the report folder (:mod:`vdto.services.report`); then prints a short summary
in plain words and the report's path.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from vdto.cli.console import emit, out
from vdto.events import ucdp
from vdto.events.ingest import ImportResult, import_counts_file, import_events
from vdto.store import Store

if TYPE_CHECKING:
    from vdto.regional.analysis import RegionalAnalysis
    from vdto.scoring import ScoreResult
    from vdto.services.report import ReportData


def bundled(*parts: str) -> Path:
    """Path of a bundled real data file (``vdto/data/real/...``)."""
    return Path(str(resources.files("vdto.data").joinpath("real", *parts)))


UCDP_FILE = ("ucdp_ged", "ged_mexico_1989_2023.csv.gz")
SESNSP_FILE = ("sesnsp", "db_victimas_delitos_ent_long.csv.bz2")


@dataclass
class DemoResult:
    db: Path
    ucdp: ImportResult
    sesnsp: ImportResult
    ranking: ScoreResult | None = None
    regional: RegionalAnalysis | None = None  # the municipal hot spots and region targets
    data: ReportData | None = None  # everything the report shows
    report: Path | None = None  # report.html
    timings: dict[str, float] = field(default_factory=dict)


def run_demo(
    out_dir: str | Path = "vdto-demo",
    *,
    quiet: bool = False,
    verbose: bool = False,
    report: bool = True,
    sim: bool = True,
) -> DemoResult:
    """Run every step on the bundled data into ``out_dir`` (a fresh ``vdto.duckdb`` and, with
    ``report``, the ``report/`` folder), showing progress, and print the summary.

    ``sim=False`` leaves the policy comparison out; ``report=False`` stops after the import and
    the ranking (the older, quicker demo). ``verbose`` prints each step's time.
    """
    from vdto.scoring import score
    from vdto.services.report import STEPS, collect, write_report

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    db = out_dir / "vdto.duckdb"
    for stale in (db, db.with_suffix(".duckdb.wal")):
        if stale.exists():
            stale.unlink()
    marks: list[tuple[str, float]] = []
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=out,
        disable=quiet,
        transient=False,
    ) as progress:
        task = progress.add_task("vdto demo", total=2 + (STEPS if report else 1))

        def step(label: str) -> None:
            if marks:
                progress.advance(task)
            marks.append((label, time.perf_counter()))
            progress.update(task, description=label)

        step("Importing UCDP GED events (1989-2023)")
        ucdp_result = import_events(db, "ucdp", bundled(*UCDP_FILE), ucdp.parse)
        step("Importing SESNSP victim counts (2015-2025)")
        sesnsp_result = import_counts_file(db, bundled(*SESNSP_FILE))
        data = page = None
        if report:
            data = collect(db, sim_results=None if sim else False, progress=step)
            page = write_report(data, out_dir / "report", progress=step)
            ranking, regional = data.ranking, data.municipalities
        else:
            from datetime import date

            from vdto.services.report import latest_full_year

            with Store(db, read_only=True) as store:
                year = latest_full_year(store)
                step(f"Scoring {year} (2,000 Monte Carlo draws)")
                ranking = score(store, date(year, 1, 1), date(year, 12, 31), draws=2000, seed=7)
            regional = None
        progress.advance(task)
        marks.append(("done", time.perf_counter()))
        progress.update(task, description="Done")
    timings = {label: t1 - t0 for (label, t0), (_, t1) in itertools.pairwise(marks)}
    result = DemoResult(db, ucdp_result, sesnsp_result, ranking, regional, data, page, timings)
    if not quiet:
        if verbose:
            for label, seconds in timings.items():
                out.print(f"[dim]{seconds:6.1f} s  {escape(label)}[/dim]")
        _summary(result)
    return result


def _summary(result: DemoResult) -> None:
    from vdto.scoring import decide

    with Store(result.db, read_only=True) as store:
        totals = store.query(
            "SELECT count(*) AS events, sum(deaths_best) AS deaths, min(date_start) AS first, max(date_start) AS last FROM events"
        ).iloc[0]
        out.print(
            f"\n[bold]Store[/bold] {result.db}: {totals.events:,} UCDP events, {int(totals.deaths):,} deaths (best), {totals['first']:%Y-%m-%d} to {totals['last']:%Y-%m-%d}"
        )
        ranking = result.ranking
        latest = int(str(ranking.meta["from"])[:4])
        shown = ranking.table.head(5)[["rank", "org", "name", "score", "lo90", "hi90", "p_rank1"]]
        emit(
            shown, title=f"Violence ranking {latest} (rubric {ranking.rubric.name}, 90% intervals, P(rank 1))"
        )
        decision = result.data.decision if result.data is not None else decide(ranking)
        style = "bold green" if decision.target else "bold yellow"
        out.print(f"[{style}]Target decision:[/{style}] {escape(decision.reason)}")
        if decision.fallback:
            out.print("  " + escape(decision.fallback))
        if result.regional is not None:
            reg = result.regional
            shown = reg.targets.table[
                ["rank", "region_code", "name", "score", "events", "gi_z", "organizations"]
            ]
            shown = shown.assign(gi_z=shown["gi_z"].map("{:.1f}".format))
            n_hot = int((reg.hot["hotspot"] == "hot spot").sum())
            heading = "Regional fallback" if decision.target is None else "Regional view"
            emit(
                shown,
                title=f"{heading} {latest}: top municipal hot spots ({n_hot} significant Gi* hot spots, p <= 0.05)",
            )
        hom = store.query(
            """SELECT year(period) AS year, state_code, sum(count) AS victims FROM region_counts
               WHERE measure = 'homicidio_doloso' GROUP BY ALL"""
        )
        months = store.query(
            "SELECT year(period) AS year, count(DISTINCT period) AS n FROM region_counts GROUP BY ALL"
        ).set_index("year")["n"]
        unresolved = store.unresolved_names()
    full = hom.groupby("year")["state_code"].nunique().pipe(lambda s: s[s == 32]).index
    if len(full):
        from vdto.geography import STATES

        last_full = int(full.max())
        if months.get(last_full, 0) < 12:
            last_full -= 1
        year_rows = hom[hom["year"] == last_full].sort_values("victims", ascending=False)
        top = ", ".join(
            f"{STATES.get(c, c)} {int(v):,}"
            for c, v in zip(year_rows["state_code"].head(3), year_rows["victims"].head(3), strict=True)
        )
        out.print(
            f"SESNSP counts: {int(year_rows['victims'].sum()):,} intentional-homicide victims in {last_full}; "
            f"most in {top}."
        )
    if result.data is not None:
        from vdto.services.report import headlines

        out.print("\n[bold]In plain words[/bold]")
        for line in headlines(result.data).values():
            out.print("• " + escape(line))
    if len(unresolved):
        out.print(
            f"{len(unresolved)} perpetrator names are not in the registry: see `vdto orgs unresolved --db {result.db}`"
        )
    if result.report is not None:
        out.print(
            f"\n[bold]Report[/bold]: {escape(str(result.report))} (open it in a browser; works offline); "
            f"figures for slides in {escape(str(result.report.parent / 'figures'))}"
        )
    out.print(
        f"Explore further: [cyan]vdto rank --from {latest} --to {latest} --db {result.db}[/cyan]"
        f" (add --what-if ORG:SHARE), [cyan]vdto regions target --from {latest} --to {latest} --db {result.db}[/cyan],"
        f" [cyan]vdto report --db {result.db} --out report[/cyan]"
    )
