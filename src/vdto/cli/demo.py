"""``vdto demo``: the whole pipeline on the bundled real data, with progress and a summary in plain words."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from vdto.cli.console import Steps, emit, out, print_headlines
from vdto.cli.options import QuietOpt


def demo_cmd(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the demo store and outputs.")] = Path(
        "vdto-demo"
    ),
    quiet: QuietOpt = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Also print how long each step took.")
    ] = False,
) -> None:
    """Run the whole pipeline on the bundled real data (no network needed).

    Example: vdto demo --out /tmp/vdto-demo
    """
    from vdto.services.demo import run_demo, steps

    with Steps("vdto demo", steps(), quiet=quiet, console=out, transient=False) as progress:
        result = run_demo(out_dir, progress=progress.step)
    if quiet:
        return
    if verbose:
        progress.print_timings()
    print_summary(result)


def print_summary(result) -> None:
    """The demo's summary: the store, the ranking, the decision, the regional view, the counts, the
    report's headlines, and where to go next."""
    from vdto.services.demo import summary

    s = summary(result)
    t = s.totals
    out.print(
        f"\n[bold]Store[/bold] {result.db}: {t['events']:,} UCDP events, {t['deaths']:,} deaths (best), "
        f"{t['first']:%Y-%m-%d} to {t['last']:%Y-%m-%d}"
    )
    emit(s.ranking, title=f"Violence ranking {s.year} (rubric {s.rubric}, 90% intervals, P(rank 1))")
    d = s.decision
    style = "bold green" if d.target else "bold yellow"
    out.print(f"[{style}]Target decision:[/{style}] {escape(d.reason)}")
    if d.fallback:
        out.print("  " + escape(d.fallback))
    if s.regional is not None:
        shown = s.regional.assign(gi_z=s.regional["gi_z"].map("{:.1f}".format))
        heading = "Regional fallback" if d.target is None else "Regional view"
        emit(
            shown,
            title=f"{heading} {s.year}: top municipal hot spots ({s.hot_spots} significant Gi* hot spots, p <= 0.05)",
        )
    if s.counts_year is not None:
        top = ", ".join(f"{name} {n:,}" for name, n in s.counts_top)
        out.print(
            f"SESNSP counts: {s.counts_total:,} intentional-homicide victims in {s.counts_year}; most in {top}."
        )
    if s.headlines:
        print_headlines(s.headlines, "In plain words")
    if s.unresolved:
        out.print(
            f"{s.unresolved} perpetrator names are not in the registry: see `vdto orgs unresolved --db {result.db}`"
        )
    if result.persons is not None:
        listing = result.persons
        label = listing.view.scores.target.label
        cells = listing.cells[["rank", "cell", "members", "events", "score", "lo90", "hi90", "p_rank1"]]
        emit(
            cells,
            title=f"Focused deterrence, SYNTHETIC case files: most violent cells of {label} (score points)",
        )
        decision = listing.view.scores.decisions
        said = "; ".join(f"{k.split(':')[0]}: {v}" for k, v in decision.items())
        out.print(
            f"[dim]{escape(said)}. Person-level data is never published; the list is for the agency's "
            f"analysts only (`vdto persons list --db {result.db}`, key in {result.db.parent / 'persons'}).[/dim]"
        )
    if result.report is not None:
        out.print(
            f"\n[bold]Report[/bold]: {escape(str(result.report))} (open it in a browser; works offline); "
            f"figures for slides in {escape(str(result.report.parent / 'figures'))}"
        )
    out.print(
        f"Explore further: [cyan]vdto rank --from {s.year} --to {s.year} --db {result.db}[/cyan]"
        f" (add --what-if ORG:SHARE), [cyan]vdto regions target --from {s.year} --to {s.year} --db {result.db}[/cyan],"
        f" [cyan]vdto report --db {result.db} --out report[/cyan]"
    )


def register(app: typer.Typer) -> None:
    """Add ``demo`` to the ``vdto`` app."""
    app.command("demo")(demo_cmd)
