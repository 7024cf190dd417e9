"""``vdto report``: the analyst's HTML report with charts and maps (a thin shell over
:mod:`vdto.services.report`)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from vdto.cli.console import Steps, out, print_headlines
from vdto.cli.options import AgencyOpt, DbOpt, QuietOpt, _db, parse_policies
from vdto.errors import VdtoError


class Lang(StrEnum):
    """The languages of the report's page."""

    both = "both"
    en = "en"
    es = "es"


VerboseOpt = Annotated[
    bool, typer.Option("--verbose", "-v", help="Also print how long each step took and every figure written.")
]


def report_cmd(
    out_dir: Annotated[
        Path, typer.Option("--out", "-o", help="Folder for report.html, report.json and figures/.")
    ] = Path("vdto-report"),
    year: Annotated[
        int | None,
        typer.Option("--year", help="Calendar year to rank (default: the latest full year of events)."),
    ] = None,
    sim: Annotated[
        Path | None,
        typer.Option(
            "--sim", help="Simulation results to show: the Parquet file of `vdto compare ... --out FILE`."
        ),
    ] = None,
    no_sim: Annotated[
        bool, typer.Option("--no-sim", help="Leave the policy comparison out (no simulation is run).")
    ] = False,
    scenario: Annotated[
        str,
        typer.Option(
            "--scenario",
            help="Without --sim: scenario of the comparison run for the report (default = real world, small = synthetic grid, or a TOML file).",
        ),
    ] = "default",
    policies: Annotated[
        str, typer.Option("--policies", help="Without --sim: comma-separated policies to compare.")
    ] = "none,volume,targeted,caribbean",
    replicates: Annotated[int, typer.Option("--replicates", help="Without --sim: replicates.")] = 40,
    months: Annotated[int, typer.Option("--months", help="Without --sim: months.")] = 36,
    posterior: Annotated[
        Path | None,
        typer.Option(
            "--posterior", help="A calibration's posterior (vdto calibrate): its fit and the claims."
        ),
    ] = None,
    draws: Annotated[int, typer.Option("--draws", help="Monte Carlo draws for the ranking.")] = 2000,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the ranking's draws.")] = 7,
    network_seed: Annotated[
        int, typer.Option("--network-seed", help="Seed of the synthetic network (when the store has none).")
    ] = 1,
    budget: Annotated[float, typer.Option("--budget", help="Cases in the enforcement package.")] = 25.0,
    db: DbOpt = None,
    agency: AgencyOpt = None,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
    lang: Annotated[
        Lang,
        typer.Option(
            "--lang",
            help="Language of the page: en (report.html), es (report.es.html) or both (each links to the other).",
        ),
    ] = Lang.both,
) -> None:
    """Write a self-contained HTML report (opens offline) with the ranking, margins, trends, maps with
    hot spots, the enforcement package, a policy comparison and the Caribbean shift, plus PNG figures
    for slides and report.json (tables and provenance).

    Without --sim a small policy comparison is run for the report (about 10 s); --no-sim leaves it out.
    The page is written in English (report.html) and Spanish (report.es.html); --lang en or es writes one.

    Examples:

      vdto report --db vdto.duckdb --out report

      vdto compare default --replicates 200 --out runs.parquet && vdto report --sim runs.parquet --year 2022
    """
    import time

    from vdto.services.report import STEPS, collect, headlines, write_report
    from vdto.services.report.words import PAGES, languages

    if sim is not None and no_sim:
        raise VdtoError("--sim and --no-sim contradict each other", "--no-sim", "give one of them")
    pols = parse_policies(policies)
    for name, value in (("--replicates", replicates), ("--months", months), ("--draws", draws)):
        if value < 1:
            raise VdtoError(f"{name} must be at least 1 (got {value})", name, "give a positive number")
    if budget <= 0:
        raise VdtoError(f"--budget must be positive (got {budget:g})", "--budget", "e.g. --budget 25")
    if sim is None and not no_sim and scenario not in ("default", "small") and not Path(scenario).is_file():
        raise VdtoError(
            "scenario file not found", scenario, "use default, small or a scenario TOML file (docs/model.md)"
        )
    if out_dir.exists() and not out_dir.is_dir():
        raise VdtoError("not a folder", str(out_dir), "give a folder for --out")
    started = time.perf_counter()
    with Steps("vdto report", STEPS + (posterior is not None), quiet=quiet) as progress:
        data = collect(
            _db(db),
            year=year,
            seed=seed,
            draws=draws,
            network_seed=network_seed,
            budget=budget,
            sim_results=False if no_sim else sim,
            scenario=scenario,
            policies=pols,
            replicates=replicates,
            months=months,
            progress=progress.step,
            posterior=posterior,
            agency=agency,
        )
        write_report(data, out_dir, langs=lang.value, progress=progress.step)
    if quiet:
        return
    if verbose:
        progress.print_timings()
        for png in sorted((out_dir / "figures").glob("*.png")):
            out.print(f"[dim]wrote {escape(str(png))} ({png.stat().st_size:,} bytes)[/dim]")
    print_headlines(headlines(data, "es" if lang == Lang.es else "en"))
    n_figs = len(list((out_dir / "figures").glob("*.png")))
    written = " and ".join(f"[bold]{escape(str(out_dir / PAGES[x]))}[/bold]" for x in languages(lang.value))
    out.print(
        f"\nReport written to {written} (open it in a browser; works offline), "
        f"{n_figs} figures in {escape(str(out_dir / 'figures'))}, tables and provenance in "
        f"{escape(str(out_dir / 'report.json'))} ({time.perf_counter() - started:.0f} s)"
    )


def register(app: typer.Typer) -> None:
    """Add ``vdto report`` to the main app."""
    app.command("report")(report_cmd)
