"""``vdto calibrate``: fit the simulator to Mexico's homicide history (a thin shell over
:mod:`vdto.services.calibration`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from vdto.cli.console import Format, emit, err, out
from vdto.cli.options import QuietOpt, _write_frame
from vdto.cli.sim import DaskOpt, ScenarioArg, SchedulerOpt, WorkersOpt


def calibrate_cmd(
    scenario: ScenarioArg = "default",
    first: Annotated[
        int, typer.Option("--from", help="First year of the fit (the world starts then).")
    ] = 2007,
    last: Annotated[int, typer.Option("--to", help="Last year of the fit.")] = 2012,
    out_path: Annotated[Path, typer.Option("--out", help="Posterior (Parquet).")] = Path("posterior.parquet"),
    db: Annotated[
        Path | None,
        typer.Option(
            "--db", help="pyabc's database, to resume an interrupted calibration (default: OUT.db)."
        ),
    ] = None,
    population: Annotated[int, typer.Option("--population", min=10, help="Particles per generation.")] = 100,
    generations: Annotated[int, typer.Option("--generations", min=1, help="Generations of ABC-SMC.")] = 6,
    replicates: Annotated[
        int, typer.Option("--replicates", "-r", min=1, help="Pool of starting maps (each history draws one).")
    ] = 16,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the calibration.")] = 1,
    workers: WorkersOpt = None,
    dask: DaskOpt = False,
    scheduler: SchedulerOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Calibrate the simulator's free parameters to the real homicide panels (ABC-SMC).

    Example: vdto calibrate default --from 2007 --to 2012 --out posterior.parquet
    """
    from vdto.services.calibration import Where, run_calibration
    from vdto.sim.params import load_scenario

    sc = load_scenario(scenario)
    db = db if db is not None else out_path.with_name(out_path.name + ".db")

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("ABC-SMC generations"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=err, transient=True, disable=quiet,
    ) as progress:  # fmt: skip
        task = progress.add_task("abc", total=generations)

        def log(line: str) -> None:
            if quiet:
                return
            progress.console.print(escape(line))
            if line.startswith("generation "):
                progress.advance(task)
            elif line.startswith("resuming after generation "):
                progress.update(task, completed=int(line.rsplit(" ", 1)[1]))

        post = run_calibration(
            sc, first, last, db=db, where=Where(workers, dask, scheduler), population=population,
            generations=generations, replicates=replicates, seed=seed, log=log,
        )  # fmt: skip
    post.write(out_path)
    if quiet:
        return
    table = post.summary()
    emit(
        table,
        Format.table,
        title=f"Posterior, Mexico {first}-{last} ({post.meta['generations']} generations)",
    )
    out.print(
        f"[dim]{post.meta['simulations']:,} simulated histories x {replicates} starting maps; final "
        f"tolerance {post.meta['epsilon']:.3g}; seed {seed}; written to {escape(str(out_path))} "
        f"(database {escape(str(db))})[/dim]"
    )


def validate_cmd(
    posterior: Annotated[Path, typer.Argument(help="Posterior of `vdto calibrate` (Parquet).")],
    first: Annotated[int, typer.Option("--from", help="First year to compare.")] = 2013,
    last: Annotated[int, typer.Option("--to", help="Last year to compare.")] = 2023,
    draws: Annotated[
        int, typer.Option("--draws", min=1, help="Parameter sets drawn from the posterior.")
    ] = 40,
    replicates: Annotated[int, typer.Option("--replicates", "-r", min=1, help="Starting maps per draw.")] = 4,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the draws.")] = 1,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.table,
    workers: WorkersOpt = None,
    dask: DaskOpt = False,
    scheduler: SchedulerOpt = None,
) -> None:
    """Compare posterior predictive histories with real years the calibration never saw.

    Example: vdto validate posterior.parquet --from 2013 --to 2023
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from vdto.services.calibration import Where, run_validation
    from vdto.sim.calibration.estimate import Posterior

    post = Posterior.read(posterior)
    with Progress(
        TextColumn("Posterior predictive histories"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=err, transient=True, disable=fmt != Format.table,
    ) as progress:  # fmt: skip
        task = progress.add_task("pp", total=draws * replicates)
        v = run_validation(post, first, last, draws=draws, replicates=replicates, seed=seed,
                           where=Where(workers, dask, scheduler),
                           progress=lambda n: progress.advance(task, n * replicates))  # fmt: skip
    if fmt != Format.table:
        _write_frame(v.national, {**v.meta, "coverage90": v.coverage}, fmt.value, None, "")
        return
    shown = v.national.assign(
        year=v.national["year"].astype(str),
        real=v.national["real"].map(lambda x: f"{x:,.0f}"),
        median=v.national["median"].map(lambda x: f"{x:,.0f}"),
        interval=[
            f"{lo:,.0f}-{hi:,.0f}" for lo, hi in zip(v.national["lo90"], v.national["hi90"], strict=True)
        ],
        error=v.national["error"].map(lambda x: f"{x:+.0%}"),
        state_spearman=v.national["state_spearman"].map(lambda x: f"{x:.2f}"),
    )[["year", "source", "real", "median", "interval", "inside", "error", "state_spearman"]]
    emit(shown, Format.table, title=f"Homicides (people) per year: {v.histories} posterior predictive histories "
         f"(fit {v.meta['fit_years']})")  # fmt: skip
    out.print(f"90% intervals cover {v.coverage:.0%} of the {len(v.national)} years.")
    if len(v.leaders):
        emit(v.leaders.assign(year=v.leaders["year"].astype(str)), Format.table,
             title="Leading lineage in UCDP GED and the share of histories agreeing")  # fmt: skip


def register(app: typer.Typer) -> None:
    """Add the calibration commands to the main app."""
    app.command("calibrate")(calibrate_cmd)
    app.command("validate")(validate_cmd)
