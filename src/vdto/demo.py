"""``vdto demo``: the whole pipeline on the bundled real data, with no network access."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path

from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from vdto.console import emit, out
from vdto.events import ucdp
from vdto.events.ingest import ImportResult, import_counts_file, import_events
from vdto.scoring import ScoreResult, decide, score
from vdto.store import Store


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
    regional: object | None = None  # vdto.regional.analysis.RegionalAnalysis when the rule declines


def run_demo(out_dir: str | Path = "vdto-demo", *, quiet: bool = False) -> DemoResult:
    """Import the bundled UCDP events and SESNSP counts into a fresh store, rank the latest full
    year and apply the target rule (with the regional fallback when it declines), and print a
    summary."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    db = out_dir / "vdto.duckdb"
    for stale in (db, db.with_suffix(".duckdb.wal")):
        if stale.exists():
            stale.unlink()
    steps = [
        (
            "Importing UCDP GED events (1989-2023)",
            lambda: import_events(db, "ucdp", bundled(*UCDP_FILE), ucdp.parse),
        ),
        (
            "Importing SESNSP victim counts (2015-2025)",
            lambda: import_counts_file(db, bundled(*SESNSP_FILE)),
        ),
    ]
    results = []
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=out,
        disable=quiet,
        transient=False,
    ) as progress:
        task = progress.add_task("vdto demo", total=len(steps))
        for label, step in steps:
            progress.update(task, description=label)
            results.append(step())
            progress.advance(task)
        progress.update(task, description="Scoring the latest full year (2,000 Monte Carlo draws)")
        progress.update(task, total=len(steps) + 2)
        regional = None
        with Store(db, read_only=True) as store:
            year = int(store.query("SELECT max(year(date_start)) FROM events").iloc[0, 0])
            ranking = score(store, date(year, 1, 1), date(year, 12, 31), draws=2000, seed=7)
            progress.advance(task)
            if decide(ranking).target is None:
                from vdto.regional.analysis import analyse

                progress.update(
                    task, description=f"Regional fallback: municipal hot spots {year} (999 permutations)"
                )
                regional = analyse(store, date(year, 1, 1), date(year, 12, 31), level="municipality", seed=1)
            progress.advance(task)
        progress.update(task, description="Done")
    result = DemoResult(db, *results, ranking, regional)
    if not quiet:
        _summary(result)
    return result


def _summary(result: DemoResult) -> None:
    with Store(result.db, read_only=True) as store:
        totals = store.query(
            "SELECT count(*) AS events, sum(deaths_best) AS deaths, min(date_start) AS first, max(date_start) AS last FROM events"
        ).iloc[0]
        out.print(
            f"\n[bold]Store[/bold] {result.db}: {totals.events:,} UCDP events, {int(totals.deaths):,} deaths (best), {totals['first']:%Y-%m-%d} to {totals['last']:%Y-%m-%d}"
        )
        latest = int(store.query("SELECT max(year(date_start)) AS y FROM events").iloc[0, 0])
        ranking = result.ranking
        shown = ranking.table.head(5)[["rank", "org", "name", "score", "lo90", "hi90", "p_rank1"]]
        emit(
            shown, title=f"Violence ranking {latest} (rubric {ranking.rubric.name}, 90% intervals, P(rank 1))"
        )
        decision = decide(ranking)
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
            emit(
                shown,
                title=f"Regional fallback {latest}: top municipal hot spots ({n_hot} significant Gi* hot spots, p <= 0.05)",
            )
        hom = store.query(
            """SELECT year(period) AS year, state_code, sum(count) AS victims FROM region_counts
               WHERE measure = 'homicidio_doloso' GROUP BY ALL"""
        )
        last_full = int(hom.groupby("year")["state_code"].nunique().pipe(lambda s: s[s == 32]).index.max())
        months = store.query(
            f"SELECT count(DISTINCT period) FROM region_counts WHERE year(period) = {last_full}"
        ).iloc[0, 0]
        if months < 12:
            last_full -= 1
        from vdto.regions import STATES

        top_states = hom[hom["year"] == last_full].sort_values("victims", ascending=False).head(5)
        top_states = top_states.assign(state=top_states["state_code"].map(STATES))[
            ["state_code", "state", "victims"]
        ]
        national = int(hom[hom["year"] == last_full]["victims"].sum())
        emit(
            top_states,
            title=f"Intentional-homicide victims by state, {last_full} (SESNSP; national total {national:,})",
        )
        unresolved = store.unresolved_names()
        if len(unresolved):
            out.print(
                f"{len(unresolved)} perpetrator names are not in the registry: see `vdto orgs unresolved --db {result.db}`"
            )
    out.print(
        f"\nExplore further: [cyan]vdto rank --from {latest} --to {latest} --db {result.db}[/cyan]"
        f" (add --what-if ORG:SHARE), [cyan]vdto events --by org --db {result.db}[/cyan]"
    )
