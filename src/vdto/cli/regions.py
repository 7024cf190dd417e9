"""``vdto regions``: region scores, hot spots, region targets and maps (a thin shell over
:mod:`vdto.regional`)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
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
    OutFormat,
    OutOpt,
    QuietOpt,
    RubricOpt,
    ScoreFormat,
    SourceOpt,
    ToOpt,
    WideOpt,
    _check_score_format,
    _db,
    _out_format,
    _window_dates,
    _write_frame,
    json_records,
)
from vdto.errors import VdtoError

regions_app = typer.Typer(
    help="Regions: violence scores by state and municipality, hot spots, emerging hot spots, region targets, maps.",
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
    top: TopOpt = 20,
    fmt: ScoreFormat = "table",
    out_path: OutOpt = None,
    wide: WideOpt = False,
    **options,
) -> None:
    """Hot spots (Getis-Ord Gi*, local Moran) with permutation p-values, and each region's emerging
    hot spot pattern over the window's months (windows of 10 months or more).

    Example: vdto regions hotspots --from 2021 --to 2023 --level municipality --seed 1
    """
    _check_score_format(fmt)
    res = _analyse(start, end, level, **options)
    frame = res.hot.merge(res.scores.table[["region_code", "rank"]], on="region_code", how="left")
    if res.emerging is not None:
        frame = frame.merge(res.emerging.table[["region_code", "pattern"]], on="region_code", how="left")
    frame = frame.sort_values(["gi_z", "region_code"], ascending=[False, True], na_position="last")
    if fmt != "table":
        _write_frame(frame.reset_index(drop=True), res.meta, fmt, out_path, "")
        return
    cols = ["region_code", "name", "value", "gi_z", "gi_p", "hotspot", "cluster"]
    if res.emerging is not None:
        cols.append("pattern")
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
            *(["pattern"] if res.emerging is not None else []),
        ],
        wide=wide,
    )
    _explain(res, options)
    _patterns_line(res)
    if res.contiguity.island_links:
        out.print(f"[dim]Islands linked to their nearest region: {res.contiguity.island_links}[/dim]")
    _meta_line(res.meta)


def _class_counts(counts: dict[str, int], level: str) -> str:
    """``3 intensifying hot spots, 44 persistent hot spots, ...; 2,327 municipalities with no pattern``:
    the classes with regions, in class order."""
    from vdto.regional.emerging import NO_PATTERN

    plural = "municipalities" if level == "municipality" else "states"
    found = [f"{n:,} {c}{'' if n == 1 else 's'}" for c, n in counts.items() if n and c != NO_PATTERN]
    return (
        ", ".join(found) or "no hot or cold pattern"
    ) + f"; {counts.get(NO_PATTERN, 0):,} {plural} with no pattern"


def _patterns_line(res) -> None:
    """The regions' emerging patterns in one line, or (dim) why there are none."""
    if res.emerging is None:
        out.print(Text(f"Emerging hot spot patterns: {res.meta['patterns']}", style="dim"))
        return
    out.print(
        escape(
            f"Emerging patterns ({res.meta['patterns']}): {_class_counts(res.emerging.counts(), res.scores.level)}"
        )
    )


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

    Targets are ordered by the group of their emerging hot spot pattern (hot now and 90% of the time first), then by score, when the
    window has 11 months or more (the first month, with half a neighbourhood, is not classified);
    by score otherwise.

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
    patterns = "pattern" in t.table
    emit(shown, Format.table, title=f"Region targets ({level}) {res.meta['from']} to {res.meta['to']}",
         narrow=["rank", "name", *(["pattern"] if patterns else []), "score", "counted", "events", "gi_z",
                 "organizations"], wide=wide)  # fmt: skip
    out.print(escape(t.reason))
    if patterns:
        from vdto.regional.emerging import TARGET_TIERS

        groups = "; ".join(", ".join(c.removesuffix(" hot spot") for c in tier) for tier in TARGET_TIERS)
        out.print(
            escape(f"Targets are ordered by the group of their emerging pattern ({groups}; then hot spots with "
                   f"no pattern; {res.meta['patterns']}), then by score.")
        )  # fmt: skip
    else:
        out.print(
            Text(f"Targets are ordered by score (emerging patterns {res.meta['patterns']}).", style="dim")
        )
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


# ---------------------------------------------------------------------------------------------
# space-time cubes and emerging hot spots

CubeSourceOpt = Annotated[
    str | None,
    typer.Option(
        "--source",
        help="inegi (homicide deaths by municipality, 1990-2015), sesnsp (homicide victims by state, 2015 on) "
        "or events (the deaths of the store's events).",
        show_default=False,
    ),
]
CubeLevelOpt = Annotated[
    str | None,
    typer.Option("--level", help="state or municipality (default: the source's finest).", show_default=False),
]
BinOpt = Annotated[
    str | None, typer.Option("--bin", help="month, quarter or year (default: quarter).", show_default=False)
]
CubeFromOpt = Annotated[
    str | None,
    typer.Option(
        "--from", help="First day (YYYY, YYYY-MM or YYYY-MM-DD); default: the source's first whole bin."
    ),
]
CubeToOpt = Annotated[
    str | None, typer.Option("--to", help="Last day; default: the source's last whole bin.")
]

#: Where a cube comes from (``cube``, ``emerging``).
CUBE = Options(
    source=(CubeSourceOpt, None),
    level=(CubeLevelOpt, None),
    bin=(BinOpt, None),
    start=(CubeFromOpt, None),
    end=(CubeToOpt, None),
    db=(DbOpt, None),
    agency=(AgencyOpt, None),
)

#: How the command line names the emerging hot spot options where it is not ``--name``
#: (``window`` is the ``--from/--to`` window elsewhere).
EMERGING_NAMES = {"k": "--lag", "window": "--window"}


@contextmanager
def _spelled(names: dict[str, str]) -> Iterator[None]:
    """A library error about one of ``names`` points to the option this command spells it as."""
    try:
        yield
    except VdtoError as exc:
        if exc.param in names and not exc.where:
            exc.where = names[exc.param]
        raise


def _plural(level: str) -> str:
    return "municipalities" if level == "municipality" else "states"


def _build_cube(source, level, bin, start, end, db, agency, check=None):
    """The cube of ``--source`` (every option checked, and ``check``'s analysis options against
    the span's bins, before any data is read)."""
    from vdto.services.regions import CUBE_SOURCES, build_cube

    if source is None:
        raise VdtoError(
            "no source for the cube", fix=f"give --source {'|'.join(CUBE_SOURCES)}", param="source"
        )
    s, e = _window_dates(start, end)
    with err.status(f"Building the space-time cube of {source}", spinner="dots"):
        return build_cube(source, level=level, bin=bin or "quarter", start=s, end=e,
                          db=_db(db) if source == "events" else db, agency=agency, check=check)  # fmt: skip


def _check_figure(path: Path | None, option: str) -> None:
    """A map or chart file must be .png, .svg or .html (checked before any work)."""
    from vdto.render.charts import FORMATS

    if path is not None and path.suffix.lower() not in FORMATS:
        raise VdtoError(f"unknown {option.strip('-')} format {path.suffix or '(none)'!r}", str(path),
                        f"name the {option} file .png, .svg or .html")  # fmt: skip


@regions_app.command("cube")
@CUBE
def regions_cube(
    out_file: Annotated[
        Path | None, typer.Option("--out", "-o", help="The cube file (.parquet).", show_default=False)
    ] = None,
    quiet: QuietOpt = False,
    **source,
) -> None:
    """Build a space-time cube (counts by region and time bin, with population) and save it with
    its provenance, for `vdto regions emerging --cube`.

    Example: vdto regions cube --source inegi --level state --bin quarter --from 2007 --to 2012 --out cube.parquet
    """
    if out_file is None:
        raise VdtoError("the cube needs a file", "--out", "add --out cube.parquet")
    if out_file.suffix.lower() != ".parquet":
        raise VdtoError(f"a cube is a Parquet file, not {out_file.suffix or '(no suffix)'!r}", str(out_file),
                        "name it .parquet, e.g. --out cube.parquet")  # fmt: skip
    cube = _build_cube(**source)
    cube.save(out_file)
    if not quiet:
        first, last = cube.span()
        total = float(cube.counts.sum())
        out.print(
            escape(
                f"Cube of {cube.label}: {len(cube.codes):,} {_plural(cube.level)} x {len(cube.bins):,} {cube.bin}s, "
                f"{first} to {last}, {total:,.0f} {cube.measure} in all; saved to {out_file} "
                f"(cube sha256:{cube.sha256[:12]})"
            )
        )  # fmt: skip


def _emerging_table(res, top: int) -> tuple:
    """The regions with a hot or cold pattern, by class then |last z| (the ``top`` first, shown
    with their units), and every region in the same order (for files)."""
    import pandas as pd

    from vdto.regional.emerging import CLASSES, NO_PATTERN

    t = res.table
    order = {c: i for i, c in enumerate(CLASSES)}
    full = t.assign(_c=t["pattern"].map(order).fillna(len(order)), _z=-t["last_z"].abs())
    full = full.sort_values(["_c", "_z", "region_code"], kind="stable").drop(columns=["_c", "_z"])
    full = full.reset_index(drop=True)
    found = full[full["pattern"].isin([c for c in CLASSES if c != NO_PATTERN])].head(top)
    shown = pd.DataFrame(
        {
            "region_code": found["region_code"],
            "name": found["name"],
            "pattern": found["pattern"],
            "hot": found["hot_bins"].astype(int),
            "cold": found["cold_bins"].astype(int),
            "last Gi* z": found["last_z"].map("{:+.2f}".format),
            "last p": found["last_p"].map("{:.3f}".format),
            "z trend τ": found["z_tau"].map("{:+.2f}".format),
            "z trend p": found["z_trend_p"].map("{:.3f}".format),
            "count trend τ": found["count_tau"].map("{:+.2f}".format),
            "count trend p": found["count_trend_p"].map("{:.3f}".format),
            "total": found["total"],
        }
    )
    return shown, full


def _class_summary(res, level: str) -> None:
    """How many regions fall in each of the 17 classes (zeros included)."""
    import pandas as pd

    from vdto.regional.emerging import COLD_CLASSES, HOT_CLASSES, LEFT_OUT, NO_PATTERN, NO_POLYGON

    counts = res.counts()
    plural = _plural(level)
    frame = pd.DataFrame(
        {
            "pattern": [c.removesuffix(" hot spot") for c in HOT_CLASSES],
            "hot": [counts[c] for c in HOT_CLASSES],
            "cold": [counts[c] for c in COLD_CLASSES],
        }
    )
    emit(frame, Format.table, title=f"{plural.capitalize()} by emerging pattern (hot spots, cold spots)")
    left = int((res.table["pattern"] == LEFT_OUT).sum())
    no_polygon = int((res.table["pattern"] == NO_POLYGON).sum())
    out.print(
        f"{counts[NO_PATTERN]:,} {plural} with {NO_PATTERN}"
        + (f"; {left:,} left out of the test (no neighbours)" if left else "")
        + (f"; {no_polygon:,} left out (no polygon to find neighbours with)" if no_polygon else "")
    )


@regions_app.command("emerging")
@TESTS
@CUBE
def regions_emerging(
    cube: Annotated[
        Path | None,
        typer.Option(
            "--cube",
            help="A cube written by `vdto regions cube` (instead of --source ...).",
            show_default=False,
        ),
    ] = None,
    value: Annotated[
        str,
        typer.Option(
            "--value", help="count, rate (per 100,000 people per bin) or eb_rate (empirical Bayes)."
        ),
    ] = "count",
    lag: Annotated[
        int, typer.Option("--lag", help="K: a cell's neighbourhood spans its bin and the K bins before it.")
    ] = 1,
    window: Annotated[
        str,
        typer.Option(
            "--window", help="Global window: cube (every bin compared) or bin (each bin on its own)."
        ),
    ] = "cube",
    trend_alpha: Annotated[
        float | None,
        typer.Option(
            "--trend-alpha",
            help="Significance of the Mann-Kendall trends (default: --alpha).",
            show_default=False,
        ),
    ] = None,
    top: TopOpt = 20,
    fmt: OutFormat = None,
    out_path: OutOpt = None,
    map_file: Annotated[
        Path | None,
        typer.Option("--map", help="Map of the patterns: .png, .svg or .html.", show_default=False),
    ] = None,
    chart_file: Annotated[
        Path | None,
        typer.Option(
            "--chart", help="One panel per pattern, Gi* z by bin: .png, .svg or .html.", show_default=False
        ),
    ] = None,
    wide: WideOpt = False,
    **options,
) -> None:
    """Emerging hot and cold spots (ESRI's 17 patterns): Gi* over a space-time cube, a Mann-Kendall
    trend per region, and the class of each region.

    Example: vdto regions emerging --source inegi --level municipality --bin quarter --from 2007 --to 2012 --map patterns.png
    """  # fmt: skip
    from vdto.regional.emerging import COLD_CLASSES, HOT_CLASSES
    from vdto.services.regions import emerging

    fmt = _out_format(fmt, out_path)
    if fmt == "table" and out_path is not None:
        raise VdtoError(
            "a table is for the terminal", "--out", "use --format csv, json or parquet with --out"
        )
    _check_figure(map_file, "--map")
    _check_figure(chart_file, "--chart")
    source = {k: options.pop(k) for k in ("source", "level", "bin", "start", "end", "db", "agency")}
    analysis = dict(value=value, k=lag, window=window, trend_alpha=trend_alpha, permutations=options["permutations"],
                    seed=options["seed"], alpha=options["alpha"], fdr=options["fdr"], islands=options["islands"])  # fmt: skip
    with _spelled(EMERGING_NAMES):
        if cube is not None:
            given = [f"--{k.replace('_', '-')}" for k, v in source.items() if v is not None]
            if given:
                raise VdtoError(f"a cube holds its own source, level, bins and span: {given[0]} is not used with it",
                                "--cube", f"leave {', '.join(given)} out, or build a new cube without --cube")  # fmt: skip
            from vdto.regional.cube import SpaceTimeCube

            data = SpaceTimeCube.load(cube)
        elif source["source"] is None:
            raise VdtoError(
                "nothing to analyse", fix="give --cube FILE or --source inegi|sesnsp|events", param="cube"
            )
        else:
            # every option of the analysis, and the bins its trend test needs, before any data is read
            check = {k: analysis[k] for k in ("value", "k", "permutations", "alpha", "window", "islands")}
            check["trend_alpha"] = options["alpha"] if trend_alpha is None else trend_alpha
            data = _build_cube(**source, check=check)
        with err.status(f"Testing {len(data.codes):,} {_plural(data.level)} x {len(data.bins):,} {data.bin}s "
                        f"({options['permutations']:,} permutations)", spinner="dots"):  # fmt: skip
            res = emerging(data, **analysis)
    shown, full = _emerging_table(res, top)
    m = res.meta
    if fmt != "table":
        _write_frame(full, m, fmt, out_path, "", {"counts": res.counts()} if fmt == "json" else None)
    else:
        found = int(full["pattern"].isin(HOT_CLASSES + COLD_CLASSES).sum())
        emit(
            shown,
            Format.table,
            title=f"Emerging hot and cold spots by {data.level}, {m['from']} to {m['to']}: Gi* of {m['unit']}",
            narrow=["name", "pattern", "hot", "cold", "last Gi* z", "last p", "z trend τ", "z trend p", "total"],
            wide=wide,
        )  # fmt: skip
        b, n = data.bin, m["bins"]
        lag_text = f"{m['k']} {b}{'s' if m['k'] != 1 else ''}"
        out.print(escape(f"hot, cold: {b}s (of {n}) whose cell is a Gi* hot or cold spot; last: the last {b} "
                         f"({data.bins[-1]}); z trend: Mann-Kendall on the {n} Gi* z; total: {m['measure']} in the "
                         f"{n} {b}s. Neighbourhoods span a lag of {lag_text}; global window: {m['window']}; a cell is hot "
                         f"or cold at {'FDR' if m['fdr'] else 'p'} <= {m['alpha']:g}, a trend at p <= {m['trend_alpha']:g}."))  # fmt: skip
        if not len(shown):
            out.print(f"No {data.level} has a hot or cold pattern.")
        elif found > len(shown):
            out.print(Text(f"The first {len(shown)} shown; every region with --format csv, json or parquet.",
                           style="dim"))  # fmt: skip
        _class_summary(res, data.level)
        _emerging_notes(m)
    _figures(res, data.level, map_file, chart_file, data_on_stdout=fmt != "table" and out_path is None)


def _emerging_notes(m: dict) -> None:
    """Notes on the values and the neighbours, then the provenance line."""
    from vdto.regional.maps import pattern_provenance

    if m.get("regions_without_population"):
        out.print(Text(f"{m['regions_without_population']:,} regions have no population estimate for some bin: "
                       "their rates count as 0.", style="dim"))  # fmt: skip
    if m.get("island_links"):
        out.print(Text(f"Islands linked to their nearest region: {m['island_links']}", style="dim"))
    if m.get("fdr"):
        out.print(Text(f"FDR cutoff: p <= {m['fdr_cutoff']:.4g} over {m['cells']:,} cells.", style="dim"))
    out.print(Text(pattern_provenance(m), style="dim"))


def _figures(
    res, level: str, map_file: Path | None, chart_file: Path | None, *, data_on_stdout: bool
) -> None:
    """Draw the pattern map and the chart per class, when asked for, and say where they went (on
    standard error when standard output carries the data)."""
    if map_file is None and chart_file is None:
        return
    from vdto.regional.maps import chart_patterns, map_patterns

    m = res.meta
    span = f"{m['from']} to {m['to']}"
    with err.status("Drawing", spinner="dots"):
        if map_file is not None:
            map_patterns(res.table, level, map_file, meta=m,
                         title=f"Emerging hot and cold spots by {level}, {span} ({m['bins']} {m['bin']} bins)")  # fmt: skip
        if chart_file is not None:
            chart_patterns(res, chart_file, title=f"Gi* z by emerging pattern ({_plural(level)}), {span}")
    written = "; ".join(
        f"{what} written to {path}" for what, path in (("map", map_file), ("chart", chart_file)) if path
    )
    (err if data_on_stdout else out).print(escape(written[:1].upper() + written[1:]))


def register(app: typer.Typer) -> None:
    """Add ``regions`` to the ``vdto`` app."""
    app.add_typer(regions_app, name="regions")
