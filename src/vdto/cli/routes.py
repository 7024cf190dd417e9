"""``vdto routes``: the cocaine corridor network and the Caribbean interdiction lever (a thin
shell over :mod:`vdto.routes`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from vdto.cli.console import Format, emit, err, out
from vdto.cli.options import OutOpt, QuietOpt, ScoreFormat, _check_score_format, _write_frame, json_records

routes_app = typer.Typer(
    help="Trafficking routes: corridor shares and the Caribbean interdiction lever.", no_args_is_help=True
)

NetworkOpt = Annotated[
    Path | None,
    typer.Option("--network", help="Corridor network TOML (default: the bundled, calibrated one)."),
]


def _calibration(network: Path | None):
    from vdto.routes.calibrate import default_calibration, load_calibration
    from vdto.routes.corridors import load_corridors

    return default_calibration() if network is None else load_calibration(load_corridors(network))


def _meta(cal) -> dict:
    import vdto

    net = cal.routes.network
    return {"vdto_version": vdto.__version__, "network": net.name, "network_sha256": net.sha256()}


def _show_fit(cal) -> None:
    """The calibration's fit to the published shares, as a table."""
    fit = cal.fit.assign(
        year=cal.fit["year"].astype(str),
        published=cal.fit["published"].map("{:.0%}".format),
        model=cal.fit["model"].map("{:.1%}".format),
        residual_pp=cal.fit["residual_pp"].map("{:+.2f}".format),
    )
    emit(fit[["year", "measure", "published", "range", "model", "residual_pp", "within"]], Format.table,
         title="Calibration to published corridor shares (residuals in percentage points)")  # fmt: skip


def _line(meta: dict) -> str:
    extra = f" · seed {meta['seed']} · {meta['draws']:,} draws" if "seed" in meta else ""
    return (
        f"vdto {meta['vdto_version']} · network {meta['network']} sha256:{meta['network_sha256'][:16]}{extra}"
    )


@routes_app.command("show")
def routes_show(
    year: Annotated[
        int | None, typer.Option("--year", help="A calibrated year (default: the base year).")
    ] = None,
    network: NetworkOpt = None,
    fmt: ScoreFormat = "table",
    out_path: OutOpt = None,
) -> None:
    """Corridor and entry-region shares of US-bound cocaine, every route, and the calibration fit.

    Example: vdto routes show --year 1999
    """
    from vdto.errors import VdtoError

    _check_score_format(fmt)
    cal = _calibration(network)
    if year is not None and year not in cal.intensity:
        raise VdtoError(
            f"{year} is not a calibrated year",
            "--year",
            f"use one of: {', '.join(map(str, sorted(cal.intensity)))}",
        )
    a = cal.assign(None if year is None else cal.intensity[year])
    meta = {**_meta(cal), "year": year or max(cal.intensity), "caribbean_intensity": a.caribbean_intensity}
    if fmt != "table":
        extra = {
            "corridors": a.by_corridor().to_dict(),
            "entries": a.by_entry().to_dict(),
            "via_mexico": a.via_mexico,
            "calibration": json_records(cal.fit),
        }
        _write_frame(a.table(), meta, fmt, out_path, "", extra if fmt == "json" else None)
        return
    shares = (
        a.by_corridor().rename("share").rename_axis("corridor").reset_index(),
        a.by_entry().rename("share").rename_axis("US entry region").reset_index(),
    )
    for frame in shares:
        emit(frame.assign(share=frame["share"].map("{:.1%}".format)), Format.table)
    out.print(
        f"Through Mexico: [bold]{a.via_mexico:.1%}[/bold] (Caribbean interdiction intensity {a.caribbean_intensity:.2f})"
    )
    routes = a.table().head(10)
    emit(
        routes.assign(
            share=routes["share"].map("{:.1%}".format), p_seized=routes["p_seized"].map("{:.0%}".format)
        ),
        Format.table,
        title="Routes (top 10 by share)",
    )
    _show_fit(cal)
    out.print(f"[dim]{escape(_line(meta))}[/dim]")


@routes_app.command("shift")
def routes_shift(
    caribbean: Annotated[
        str,
        typer.Option("--caribbean-interdiction", help="Change of Caribbean interdiction, e.g. -50% or -0.5."),
    ],
    chart: Annotated[Path | None, typer.Option("--chart", help="Write a chart: .png, .svg or .html.")] = None,
    draws: Annotated[int, typer.Option("--draws", help="Draws of the violence elasticity.")] = 10_000,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the elasticity draws.")] = 0,
    network: NetworkOpt = None,
    fmt: ScoreFormat = "table",
    out_path: OutOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Change Caribbean interdiction: new corridor shares, flow and revenue through Mexico, violence.

    Example: vdto routes shift --caribbean-interdiction -50% --chart shift.png
    """
    from vdto.errors import VdtoError
    from vdto.routes.lever import parse_change, shift

    _check_score_format(fmt)
    change = parse_change(caribbean)
    if chart is not None and chart.suffix.lower() not in (".png", ".svg", ".html"):
        raise VdtoError(
            f"unknown chart format {chart.suffix or '(none)'!r}", str(chart), "use .png, .svg or .html"
        )
    cal = _calibration(network)
    s = shift(change, calibration=cal, draws=draws, seed=seed)
    v = s.violence_summary()
    meta = {**s.meta, "mexico_flow_change": s.mexico_flow_change, "violence_change": v}
    if chart is not None:
        from vdto.routes.chart import save_shift_chart

        with err.status("Drawing the chart", spinner="dots"):
            save_shift_chart(s, chart)
    if fmt != "table":
        _write_frame(s.table(), meta, fmt, out_path, "")
        return
    t = s.table()
    shown = t.assign(
        before=t["before"].map("{:.1%}".format),
        after=t["after"].map("{:.1%}".format),
        change_pp=t["change_pp"].map("{:+.1f}".format),
    )
    emit(shown, Format.table, title=f"US-bound cocaine shares: Caribbean interdiction {change:+.0%}")
    if not quiet:
        out.print(
            f"Flow and revenue through Mexico: {s.mexico_flow_change:+.1%}. Expected change of Mexican violence: "
            f"[bold]{v['median']:+.1%}[/bold] (90% interval {v['lo90']:+.1%} to {v['hi90']:+.1%}; elasticity "
            "from Castillo, Mejía & Restrepo, see docs/routes.md)."
        )
        ent = s.table().set_index("name")
        moved = sum(
            ent.loc[k, "after"] - ent.loc[k, "before"]
            for k in ("us_florida", "us_puerto_rico", "us_gulf_coast")
        )
        out.print(
            f"Florida, Puerto Rico and the Gulf Coast together: {moved * 100:+.1f} percentage points of the "
            "US-bound flow (the cost a shift away from Mexico moves to the Caribbean and the Gulf)."
        )
        if chart is not None:
            out.print(f"Chart written to {chart}")
        out.print(f"[dim]{escape(_line(meta))}[/dim]")


@routes_app.command("calibrate")
def routes_calibrate(network: NetworkOpt = None, fmt: ScoreFormat = "table", out_path: OutOpt = None) -> None:
    """Fit a network to the published corridor shares and print the fit and its [calibration] table.

    Example: vdto routes calibrate --network my-corridors.toml
    """
    from vdto.routes.calibrate import calibrate
    from vdto.routes.corridors import load_corridors

    _check_score_format(fmt)
    net = load_corridors(network)
    with err.status("Fitting Caribbean intensities and the Eastern Pacific cost factor", spinner="dots"):
        cal = calibrate(net)
    if fmt != "table":
        meta = {
            **_meta(cal),
            "ep_cost_factor": cal.ep_cost_factor,
            "intensity": {str(k): v for k, v in cal.intensity.items()},
        }
        _write_frame(cal.fit, meta, fmt, out_path, "")
        return
    _show_fit(cal)
    out.print("Store it in the network file to load it without refitting:\n")
    out.print(escape(cal.to_toml()), soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add ``routes`` to the ``vdto`` app."""
    app.add_typer(routes_app, name="routes")
