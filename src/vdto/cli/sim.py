"""``vdto simulate|compare|sweep|game``: the simulator's command line (a thin shell over
:mod:`vdto.sim`)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from vdto.cli.console import Format, emit, err, out
from vdto.cli.options import (
    Options,
    OutFormat,
    OutOpt,
    QuietOpt,
    ScoreFormat,
    _check_score_format,
    _out_format,
    _write_frame,
    parse_policies,
)
from vdto.errors import ConfigError, VdtoError

ScenarioArg = Annotated[
    str, typer.Argument(help="Scenario TOML file, or 'default' (real world) or 'small' (synthetic grid).")
]
ReplicatesOpt = Annotated[
    int | None, typer.Option("--replicates", "-r", help="Replicates (overrides the scenario).")
]
MonthsOpt = Annotated[int | None, typer.Option("--months", help="Months (overrides the scenario).")]
SeedOpt = Annotated[int | None, typer.Option("--seed", help="Seed (overrides the scenario).")]
WorkersOpt = Annotated[int | None, typer.Option("--workers", help="Processes (default: CPU count).")]
DaskOpt = Annotated[bool, typer.Option("--dask", help="Run on a Dask LocalCluster (same results).")]
SchedulerOpt = Annotated[
    str | None, typer.Option("--scheduler", help="Address of a Dask scheduler (e.g. tcp://host:8786).")
]
OutFileOpt = Annotated[
    Path | None, typer.Option("--out", help="Write every monthly output to this Parquet file.")
]


#: What overrides the scenario's run (replicates, months, seed) and where it runs.
RUN = Options(
    replicates=(ReplicatesOpt, None),
    months=(MonthsOpt, None),
    seed=(SeedOpt, None),
    workers=(WorkersOpt, None),
    dask=(DaskOpt, False),
    scheduler=(SchedulerOpt, None),
    quiet=(QuietOpt, False),
)


def _scenario(name: str, run: dict):
    from vdto.services.simulations import load

    return load(name, replicates=run["replicates"], months=run["months"], seed=run["seed"])


@contextmanager
def _progress(quiet: bool, policies: int) -> Iterator[Callable[[int, int], None]]:
    """The terminal's side of a run's ``progress(done, total)``: a spinner while the world is
    built, then a bar of replicates (on stderr, gone when the run ends; none with ``quiet``)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    status = err.status("Building the world", spinner="dots")
    bar = Progress(
        TextColumn("Simulating {task.fields[what]}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=err, transient=True, disable=quiet,
    )  # fmt: skip
    task = None

    def tick(done: int, total: int) -> None:
        nonlocal task
        if task is None:  # the world is built: the bar replaces the spinner
            status.stop()
            bar.start()
            task = bar.add_task(
                "sim", total=total, what=f"{policies} policies x {total // policies} replicates"
            )
        bar.update(task, completed=done, total=total)

    status.start()
    try:
        yield tick
    finally:
        status.stop()
        bar.stop()


def _run(sc, policies: list[str], options: dict):
    """Build the world and run the policies on it, with a progress bar."""
    from vdto.services.simulations import simulate_policies

    with _progress(options["quiet"], len(policies)) as tick:
        return simulate_policies(sc, policies, workers=options["workers"], dask=options["dask"],
                                 scheduler=options["scheduler"], progress=tick)  # fmt: skip


@RUN
def simulate_cmd(
    scenario: ScenarioArg = "default",
    policy: Annotated[
        str, typer.Option("--policy", help="Policy, e.g. targeted or targeted+caribbean.")
    ] = "targeted",
    out_file: OutFileOpt = None,
    fmt: ScoreFormat = "table",
    **run,
) -> None:
    """Simulate one policy: monthly homicides (people), organizations, targets, with 90% intervals.

    Example: vdto simulate small --policy targeted --replicates 200 --out run.parquet
    """
    from vdto.sim.results import compare_table, long_frame, provenance, write_parquet

    _check_score_format(fmt)
    sc = _scenario(scenario, run)
    pols = parse_policies(policy, "policy")
    world, results = _run(sc, pols, run)
    meta = provenance(sc, world)
    if out_file is not None:
        write_parquet(long_frame(results), meta, out_file)
    table = compare_table(results, start_month=sc.enforcement.start_month)
    if fmt != "table":
        _write_frame(table, meta, fmt, None, "")
        return
    _show(table, meta, f"{pols[0]} on {world.label}")
    if out_file is not None and not run["quiet"]:
        out.print(f"Monthly outputs written to {out_file}")


def _horizon(table) -> str:
    return next(c for c in table.columns if c.startswith("deaths_by_") and not c.endswith(("lo90", "hi90")))


def _median_interval(table, col: str, label: str, interval_label: str = "90% interval") -> dict:
    """Two columns: ``label`` (the median, whole numbers, a number so its header never gets cut)
    and its 90% interval as text."""
    from vdto.render.fmt import interval

    spans = [interval(lo, hi, 0) for lo, hi in zip(table[f"{col}_lo90"], table[f"{col}_hi90"], strict=True)]
    return {label: table[col].round(), interval_label: spans}


def _show(table, meta: dict, title: str) -> None:
    import pandas as pd

    from vdto.render.fmt import num, prob
    from vdto.sim.results import deaths_words

    h = _horizon(table)
    months = meta.get("months")
    shown = {
        "policy": table["policy"],
        **_median_interval(table, h, f"by month {h.removeprefix('deaths_by_')}: median"),
    }
    if h != f"deaths_by_{months}":  # the whole run, where it is longer than the horizon
        shown |= _median_interval(table, "deaths_total", f"all {months} months: median", "90% interval, all")
    shown |= {"per month: mean": table["deaths_per_month"].round(),
              "per month, last year: median": table["deaths_per_month_last_year"].round(),
              "organizations at end: mean": table["alive_end"].round(1)}  # fmt: skip
    if "p_below_volume" in table and table["p_below_volume"].notna().any():
        shown["P(below volume)"] = [prob(x, 2) for x in table["p_below_volume"]]
    if "focal_deaths_vs_none" in table:
        shown["focal plazas vs none"] = [f"{num(x, 2)}x" for x in table["focal_deaths_vs_none"]]
    emit(
        pd.DataFrame(shown),
        Format.table,
        title=f"{title}: {deaths_words(meta)} over replicates and starting maps, each column with its "
        "statistic; organizations at end: mean",
    )
    line = (
        f"vdto {meta['vdto_version']} · scenario {meta['scenario']} sha256:{meta['scenario_sha256'][:16]} · "
        f"world sha256:{meta['world_sha256'][:16]} · seed {meta['seed']} · "
        f"{meta['replicates']} replicates x {meta['months']} months"
    )
    out.print(f"[dim]{escape(line)}[/dim]")


@RUN
def compare_cmd(
    scenario: ScenarioArg = "default",
    policies: Annotated[
        str, typer.Option("--policies", help="Comma-separated policies (combine with +).")
    ] = "none,volume,kingpin,targeted,regional,caribbean",
    chart: Annotated[
        Path | None,
        typer.Option(
            "--chart",
            help="Chart of monthly homicides (people): a line per policy, then one panel per policy "
            "with its 90% band; .png, .svg or .html.",
        ),
    ] = None,
    out_file: OutFileOpt = None,
    fmt: ScoreFormat = "table",
    posterior: Annotated[
        Path | None,
        typer.Option("--posterior", help="Posterior of `vdto calibrate`: parameter sets drawn from it."),
    ] = None,
    draws: Annotated[
        int, typer.Option("--draws", min=1, help="With --posterior: parameter sets drawn.")
    ] = 20,
    **run,
) -> None:
    """Compare policies on paired replicates (common random numbers): homicides with intervals.

    With --posterior, the replicates are shared among parameter sets drawn from a calibration's
    posterior (each with its own starting maps), so the intervals carry parameter uncertainty.

    Example: vdto compare default --policies none,volume,kingpin,targeted,regional,caribbean --replicates 500 --chart deaths.png
    """
    from vdto.services.simulations import run_comparison
    from vdto.sim.results import write_parquet

    _check_score_format(fmt)
    pols = parse_policies(policies)
    if chart is not None and chart.suffix.lower() not in (".png", ".svg", ".html"):
        raise VdtoError(
            f"unknown chart format {chart.suffix or '(none)'!r}", str(chart), "use .png, .svg or .html"
        )
    with _progress(run["quiet"], len(pols)) as tick:
        done = run_comparison(
            scenario, pols, run["replicates"], run["seed"], run["workers"], months=run["months"], dask=run["dask"],
            scheduler=run["scheduler"], posterior=posterior, draws=draws, progress=tick,
        )  # fmt: skip
    table, meta, world = done.table, done.meta, done.world
    if out_file is not None:
        write_parquet(done.long_frame(), meta, out_file)
    if chart is not None:
        from vdto.render.charts import save_chart

        save_chart(done.chart(), chart)
    if fmt != "table":
        _write_frame(table, meta, fmt, None, "")
        return
    _show(table, meta, f"Policies on {world.label}")
    if not run["quiet"]:
        if chart is not None:
            out.print(f"Chart written to {chart}")
        if out_file is not None:
            out.print(f"Monthly outputs written to {out_file}")


@RUN
def sweep_cmd(
    scenario: ScenarioArg,
    grid: Annotated[
        Path,
        typer.Option(
            "--grid",
            # \\[ is a literal [ in the help's Rich markup
            help='TOML file with a \\[grid] table: each "section.parameter" of docs/model.md, quoted, '
            'set to a list of values, e.g. \\[grid] "enforcement.capacity" = \\[200.0, 800.0] '
            "(members arrested a month; see examples/grid.toml). Every combination is run.",
        ),
    ],
    policies: Annotated[
        str, typer.Option("--policies", help="Comma-separated policies.")
    ] = "volume,targeted",
    fmt: OutFormat = None,
    out_path: OutOpt = None,
    **run,
) -> None:
    """Run the policies over a grid of parameter values; one row per (point, policy).

    Example: vdto sweep small --grid examples/grid.toml --policies volume,targeted --out sweep.csv
    """
    import pandas as pd

    from vdto.sim.results import compare_table, provenance

    fmt = _out_format(fmt, out_path)
    pols = parse_policies(policies)
    base = _scenario(scenario, run)
    axes = _grid(grid, base)
    rows = []
    names = list(axes)
    for values in itertools.product(*axes.values()):
        sc = base.with_values(dict(zip(names, values, strict=True)), where=f"{grid}:")
        world, results = _run(sc, pols, run)
        t = compare_table(results, start_month=sc.enforcement.start_month)
        for name, v in zip(names, values, strict=True):
            t.insert(0, name, v)
        t["scenario_sha256"] = sc.sha256()
        rows.append(t)
    table = pd.concat(rows, ignore_index=True)
    meta = provenance(base, world)
    if fmt != "table" or out_path is not None:
        _write_frame(table, meta, fmt, out_path, "")
        if out_path is not None and not run["quiet"]:
            out.print(f"Sweep written to {out_path}")
        return
    _show_sweep(table, names, meta)


def _show_sweep(table, names: list[str], meta: dict) -> None:
    """The sweep in the terminal: each grid value as the file wrote it, the policy, its deaths
    (their unit in the title, the statistic in each column's head)."""
    import pandas as pd

    from vdto.render.fmt import cell, compact, finite
    from vdto.sim.results import deaths_words

    h = _horizon(table)
    shown = {name: [compact(v) if finite(v) else cell(v, name) for v in table[name]] for name in names}
    shown |= {"policy": table["policy"], **_median_interval(table, h, f"by month {h.removeprefix('deaths_by_')}: median"),
              "organizations at end: mean": table["alive_end"].round(1)}  # fmt: skip
    emit(pd.DataFrame(shown), Format.table,
         title=f"Sweep: {deaths_words(meta)} over replicates, one row per grid point and policy")  # fmt: skip


def _grid(path: Path, base) -> dict[str, list]:
    from vdto.tomlfile import read_toml

    data = read_toml(path)
    grid = data.get("grid")
    if not isinstance(grid, dict) or not grid:
        raise ConfigError(
            "no [grid] table", f"{path}:grid", 'write e.g. [grid] "enforcement.capacity" = [200.0, 800.0]'
        )
    known = base.model_dump()
    for name, values in grid.items():
        section, _, key = name.partition(".")
        if section not in known or not isinstance(known[section], dict) or key not in known[section]:
            raise ConfigError(
                f"unknown parameter {name!r}",
                f"{path}:grid.{name}",
                "use section.parameter as in docs/model.md",
            )
        if not isinstance(values, list) or not values:
            raise ConfigError("must be a non-empty list", f"{path}:grid.{name}", "write e.g. [200.0, 800.0]")
    return grid


def game_cmd(
    n: Annotated[int, typer.Option("--n", help="Number of actors.")] = 2,
    k: Annotated[int, typer.Option("--k", help="Sanctions the enforcer can impose per period.")] = 1,
    cost: Annotated[float, typer.Option("--cost", help="Cost of compliance C.")] = 1.0,
    sanction: Annotated[float, typer.Option("--sanction", help="Sanction P.")] = 1.5,
    fmt: OutFormat = None,
    out_path: OutOpt = None,
) -> None:
    """Kleiman's dynamic concentration game: uniform enforcement vs an announced priority order.

    CSV, JSON and Parquet hold the whole violators' path and the provenance (vdto version, the
    parameters and their SHA-256); the terminal table shortens long paths.

    Example: vdto game --n 2 --k 1 --cost 1 --sanction 1.5 --out game.json
    """
    from vdto.render.fmt import compact
    from vdto.sim.game import provenance, short_path, summary

    fmt = _out_format(fmt, out_path)
    table = summary(n, k, cost, sanction)
    meta = provenance(n, k, cost, sanction)
    if fmt != "table" or out_path is not None:
        _write_frame(table, meta, fmt, out_path, "")
        return
    emit(
        table.assign(violators_path=table["violators_path"].map(short_path)),
        Format.table,
        title=f"{n} actors, capacity {k}, compliance cost {compact(cost)}, sanction {compact(sanction)}",
    )
    line = f"vdto {meta['vdto_version']} · settings sha256:{meta['settings_sha256'][:16]}"
    out.print(f"[dim]{escape(line)}[/dim]")


def register(app: typer.Typer) -> None:
    """Add the simulator's commands to the main app."""
    app.command("simulate")(simulate_cmd)
    app.command("compare")(compare_cmd)
    app.command("sweep")(sweep_cmd)
    app.command("game")(game_cmd)
