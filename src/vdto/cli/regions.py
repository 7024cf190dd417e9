"""``vdto regions``: region scores, hot spots, region targets and maps (a thin shell over
:mod:`vdto.regional`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.text import Text

from vdto.cli.console import Format, emit, err, out
from vdto.cli.options import (
    AgencyOpt,
    DbOpt,
    FromOpt,
    Options,
    OutOpt,
    QuietOpt,
    RubricOpt,
    ScoreFormat,
    SourceOpt,
    ToOpt,
    WideOpt,
    _check_score_format,
    _db,
    _window_dates,
    _write_frame,
    json_records,
)
from vdto.errors import VdtoError

regions_app = typer.Typer(
    help="Regions: violence scores by state and municipality, hot spots, region targets, maps.",
    no_args_is_help=True,
)

LevelOpt = Annotated[str, typer.Option("--level", help="state or municipality.")]
MeasureOpt = Annotated[
    str, typer.Option("--measure", help="Counts measure to add (e.g. homicidio_doloso, SESNSP victims).")
]
NoCountsOpt = Annotated[bool, typer.Option("--no-counts", help="Use events only, no region counts.")]
PermOpt = Annotated[int, typer.Option("--permutations", help="Permutations for the pseudo p-values.")]
HotSeedOpt = Annotated[
    int, typer.Option("--seed", help="Seed of the permutations (same seed, same p-values).")
]
AlphaOpt = Annotated[float, typer.Option("--alpha", help="Significance level.")]
FdrOpt = Annotated[
    bool,
    typer.Option(
        "--fdr", help="Control the false discovery rate (Benjamini-Hochberg) instead of raw p <= alpha."
    ),
]
IslandsOpt = Annotated[str, typer.Option("--islands", help="Regions without neighbours: nearest or drop.")]
WindowsOpt = Annotated[
    int, typer.Option("--windows", help="Split the span into N windows for emerging hot spots (N >= 2).")
]
TopOpt = Annotated[int, typer.Option("--top", help="Rows (or targets) to show.")]


#: What every ``regions`` command reads: the counts measure, the rubric, the sources, the store, the agency.
INPUTS = Options(
    measure=(MeasureOpt, "homicidio_doloso"),
    no_counts=(NoCountsOpt, False),
    rubric=(RubricOpt, None),
    source=(SourceOpt, None),
    db=(DbOpt, None),
    agency=(AgencyOpt, None),
)
#: How hot spots are tested (``hotspots``, ``target``, ``map``).
TESTS = Options(
    permutations=(PermOpt, 999),
    seed=(HotSeedOpt, 1),
    alpha=(AlphaOpt, 0.05),
    fdr=(FdrOpt, False),
    islands=(IslandsOpt, "nearest"),
)


def _run(fn, start, end, level, *, measure, no_counts, rubric, source, db, agency, **kw):
    """Open the store and call the regional service ``fn`` (it settles the window)."""
    from vdto.regional.panel import check_level
    from vdto.scoring import load_rubric
    from vdto.store import Store

    check_level(level)
    rub = load_rubric(rubric)
    s, e = _window_dates(start, end)
    with Store(_db(db), read_only=True) as store:
        return fn(store, s, e, level=level, rubric=rub, agency=agency, sources=source or None,
                  measure=measure, use_counts=not no_counts, **kw)  # fmt: skip


def _analyse(start, end, level, **options):
    from vdto.services.regions import regional_analysis

    with err.status(f"Scoring {level} regions and testing for hot spots", spinner="dots"):
        return _run(regional_analysis, start, end, level, **options)


def _provenance(meta: dict) -> str:
    seed = f" · seed {meta['seed']} · {meta['permutations']} permutations" if "seed" in meta else ""
    counts = f" + counts '{meta['measure']}'" if meta.get("measure") else ""
    return (
        f"vdto {meta['vdto_version']} · agency {meta.get('agency', '—')} · rubric {meta['rubric']} sha256:{meta['rubric_sha256'][:16]} · "
        f"data sha256:{meta['data_sha256'][:16]} · window {meta['from']} to {meta['to']} · "
        f"{meta['events']:,} events{counts}{seed}"
    )


def _explain(res, options: dict) -> None:
    """What gi_z, gi_p, hot spot, the clusters and FDR mean, with this run's numbers."""
    from vdto.regional.hotspots import explain

    significant = int(res.hot["hotspot"].isin(["hot spot", "cold spot"]).sum())
    for line in explain(len(res.hot), significant, int(res.hot["fdr_significant"].sum()),
                        options["permutations"], options["alpha"]):  # fmt: skip
        out.print(Text("• " + line, style="dim"))


def _meta_line(meta: dict) -> None:
    from vdto.regional.panel import NO_COUNTS_NOTE

    if not meta.get("counts_at_level", True):
        out.print(Text(NO_COUNTS_NOTE, style="dim"))
    if meta.get("events_unlocated"):
        out.print(
            f"[dim]{meta['events_unlocated']:,} of {meta['events']:,} events have no {meta['level']} and are left out.[/dim]"
        )
    out.print(f"[dim]{escape(_provenance(meta))}[/dim]")


@regions_app.command("score")
@INPUTS
def regions_score(
    start: FromOpt = None,
    end: ToOpt = None,
    level: LevelOpt = "state",
    top: TopOpt = 15,
    fmt: ScoreFormat = "table",
    out_path: OutOpt = None,
    wide: WideOpt = False,
    **inputs,
) -> None:
    """Violence score of every state or municipality, from all events and homicide counts.

    Example: vdto regions score --from 2019 --to 2019 --level state
    """
    _check_score_format(fmt)
    from vdto.services.regions import region_scores

    res = _run(region_scores, start, end, level, **inputs)
    if fmt != "table":
        _write_frame(
            res.table,
            res.meta,
            fmt,
            out_path,
            "",
            {"orgs": json_records(res.orgs)} if fmt == "json" else None,
        )
        return
    from vdto.regional.panel import shown_counts

    shown = shown_counts(res.table.head(top), res.meta)[
        ["rank", "region_code", "name", "score", "per100k", "counted", "events", "top_org", "top_org_share"]
    ]
    emit(shown, Format.table, title=f"Region scores ({level}) {res.meta['from']} to {res.meta['to']}",
         narrow=["rank", "name", "score", "per100k", "counted", "events", "top_org", "top_org_share"], wide=wide)  # fmt: skip
    _meta_line(res.meta)


@regions_app.command("hotspots")
@TESTS
@INPUTS
def regions_hotspots(
    start: FromOpt = None,
    end: ToOpt = None,
    level: LevelOpt = "state",
    windows: WindowsOpt = 1,
    top: TopOpt = 20,
    fmt: ScoreFormat = "table",
    out_path: OutOpt = None,
    wide: WideOpt = False,
    **options,
) -> None:
    """Hot spots (Getis-Ord Gi*, local Moran) with permutation p-values; emerging hot spots with --windows.

    Example: vdto regions hotspots --from 2017 --to 2019 --level municipality --windows 3 --seed 1
    """
    _check_score_format(fmt)
    res = _analyse(start, end, level, windows=windows, **options)
    frame = res.hot.merge(res.scores.table[["region_code", "rank"]], on="region_code", how="left")
    if res.emerging is not None:
        frame = frame.merge(
            res.emerging[["region_code", "status", "hot_windows"]], on="region_code", how="left"
        )
    frame = frame.sort_values(["gi_z", "region_code"], ascending=[False, True], na_position="last")
    if fmt != "table":
        _write_frame(frame.reset_index(drop=True), res.meta, fmt, out_path, "")
        return
    cols = ["region_code", "name", "value", "gi_z", "gi_p", "hotspot", "cluster"]
    if res.emerging is not None:
        cols += ["status", "hot_windows"]
    shown = frame[frame["hotspot"] != "not significant"].head(top)[cols]
    shown = shown.assign(gi_z=shown["gi_z"].map("{:.2f}".format), gi_p=shown["gi_p"].map("{:.3f}".format))
    n_hot = int((res.hot["hotspot"] == "hot spot").sum())
    n_cold = int((res.hot["hotspot"] == "cold spot").sum())
    emit(
        shown,
        Format.table,
        title=f"{level.capitalize()} hot spots {res.meta['from']} to {res.meta['to']}: {n_hot} hot, {n_cold} cold "
        f"(Gi*, {'FDR' if options['fdr'] else 'p'} <= {options['alpha']:g}; notes below)",
        narrow=[
            "name",
            "value",
            "gi_z",
            "gi_p",
            "cluster",
            *(["status"] if res.emerging is not None else []),
        ],
        wide=wide,
    )
    _explain(res, options)
    if res.emerging is not None:
        counts = res.emerging["status"].value_counts()
        out.print(
            "Emerging hot spots over "
            f"{windows} windows: "
            + ", ".join(
                f"{k} {int(counts.get(k, 0))}" for k in ("new", "intensifying", "persistent", "fading")
            )
        )
    if res.contiguity.island_links:
        out.print(f"[dim]Islands linked to their nearest region: {res.contiguity.island_links}[/dim]")
    _meta_line(res.meta)


@regions_app.command("target")
@TESTS
@INPUTS
def regions_target(
    start: FromOpt = None,
    end: ToOpt = None,
    level: LevelOpt = "municipality",
    top: TopOpt = 5,
    fmt: ScoreFormat = "table",
    out_path: OutOpt = None,
    wide: WideOpt = False,
    **options,
) -> None:
    """The regional fallback: the top hot spots, the organizations there and the events to focus on.

    Example: vdto regions target --from 2023 --to 2023 --level municipality --top 5
    """
    _check_score_format(fmt)
    res = _analyse(start, end, level, top=top, **options)
    t = res.targets
    if fmt != "table":
        extra = {"reason": t.reason, "orgs": json_records(t.orgs), "events": json_records(t.events)}
        _write_frame(t.table, res.meta, fmt, out_path, "", extra if fmt == "json" else None)
        return
    from vdto.regional.panel import shown_counts

    shown = shown_counts(t.table, res.meta).assign(
        gi_z=t.table["gi_z"].map("{:.2f}".format), gi_p=t.table["gi_p"].map("{:.3f}".format)
    )
    emit(shown, Format.table, title=f"Region targets ({level}) {res.meta['from']} to {res.meta['to']}",
         narrow=["rank", "name", "score", "counted", "events", "gi_z", "organizations"], wide=wide)  # fmt: skip
    out.print(escape(t.reason))
    if len(t.events):
        emit(t.events, Format.table, title="Most violent events in the target regions")
    _explain(res, options)
    _meta_line(res.meta)


@regions_app.command("map")
@TESTS
@INPUTS
def regions_map(
    out_file: Annotated[Path, typer.Option("--out", help="Map file: .png, .svg or .html (interactive).")],
    start: FromOpt = None,
    end: ToOpt = None,
    level: LevelOpt = "state",
    value: Annotated[
        str, typer.Option("--value", help="score or per100k (score per 100,000 people, CONAPO population).")
    ] = "score",
    quiet: QuietOpt = False,
    **options,
) -> None:
    """Draw a choropleth of region scores with hot spots outlined (offline: no network needed).

    Example: vdto regions map --from 2019 --to 2019 --level municipality --out hotspots-2019.html
    """
    from vdto.regional.maps import map_regions

    if value not in ("score", "per100k"):
        raise VdtoError(f"unknown value {value!r}", fix="use score or per100k", param="value")
    suffix = out_file.suffix.lower()
    if suffix not in (".png", ".svg", ".html"):
        raise VdtoError(
            f"unknown map format {suffix or '(none)'!r}", str(out_file), "use .png, .svg or .html"
        )
    res = _analyse(start, end, level, value=value, **options)
    with err.status("Drawing the map", spinner="dots"):
        map_regions(res.scores, res.hot, value=value, path=out_file)
    meta_path = out_file.with_suffix(out_file.suffix + ".json")
    meta_path.write_text(json.dumps(res.meta, indent=2) + "\n", encoding="utf-8")
    if not quiet:
        n_hot = int((res.hot["hotspot"] == "hot spot").sum())
        out.print(f"Map written to {out_file} ({n_hot} hot spots outlined); provenance in {meta_path}")


def register(app: typer.Typer) -> None:
    """Add ``regions`` to the ``vdto`` app."""
    app.add_typer(regions_app, name="regions")
