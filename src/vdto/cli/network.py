"""``vdto network``: supply networks and the US enforcement package against a target."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from vdto.cli.console import Format, emit, emit_json, out
from vdto.cli.options import (
    AgencyOpt,
    DbOpt,
    FormatOpt,
    FromOpt,
    SeedOpt,
    ToOpt,
    _db,
    _window_dates,
    json_records,
)
from vdto.errors import VdtoError

network_app = typer.Typer(help="Supply networks and the US enforcement package.", no_args_is_help=True)


def _read_network_file(path: Path, nodes: Path | None, registry):
    from vdto.network import csvfiles, formats

    suffix = path.suffix.lower()
    if suffix == ".graphml":
        return formats.read_graphml(path, registry=registry)
    if suffix == ".gexf":
        return formats.read_gexf(path, registry=registry)
    return csvfiles.read_edges_csv(path, nodes, registry=registry)


@network_app.command("import")
def network_import(
    file: Annotated[
        Path, typer.Argument(help="Edge list CSV (see docs/network.md), GraphML or GEXF; or 'bacrim2020'.")
    ],
    nodes: Annotated[Path | None, typer.Option("--nodes", help="Node CSV for an edge-list CSV.")] = None,
    db: DbOpt = None,
) -> None:
    """Load a supply network into the store (replacing the one there), after checking it.

    Example: vdto network import edges.csv --nodes nodes.csv
    """
    from vdto.events.ingest import current_registry
    from vdto.events.tabular import sha256_file
    from vdto.network.bacrim import load_bacrim2020
    from vdto.store import Store

    registry = current_registry(_db(db))
    if str(file) == "bacrim2020":
        net, origin = load_bacrim2020(registry=registry), {"file": "bacrim2020 (bundled)"}
    else:
        if not file.exists():
            raise VdtoError("file not found", str(file), "check the path")
        net, origin = (
            _read_network_file(file, nodes, registry),
            {"file": file.name, "sha256": sha256_file(file)},
        )
    with Store(_db(db)) as store:
        net.save(store, origin)
    stats = net.stats()
    out.print(
        f"network from {escape(str(origin['file']))}: {stats['nodes']:,} nodes, {stats['edges']:,} edges"
    )


@network_app.command("generate")
def network_generate(
    seed: SeedOpt = 0,
    organizations: Annotated[int, typer.Option(help="Organizations.")] = 50,
    wholesalers: Annotated[int, typer.Option(help="US wholesalers.")] = 5_000,
    distributors: Annotated[int, typer.Option(help="US distributors.")] = 200_000,
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Also write it to this GraphML file.")
    ] = None,
    db: DbOpt = None,
) -> None:
    """Generate a seeded synthetic supply network (real supply data is confidential) into the store.

    Example: vdto network generate --seed 1 --distributors 20000
    """
    from vdto.network.formats import write_graphml
    from vdto.network.synthetic import generate
    from vdto.store import Store

    for name, value in (
        ("--organizations", organizations),
        ("--wholesalers", wholesalers),
        ("--distributors", distributors),
    ):
        if value < 1:
            raise VdtoError(f"{name} must be at least 1 (got {value})", name, "give a positive number")
    net = generate(seed=seed, organizations=organizations, wholesalers=wholesalers, distributors=distributors)
    with Store(_db(db)) as store:
        net.save(store, {"generator": "vdto.network.synthetic", "seed": seed})
    if out_file is not None:
        write_graphml(net, out_file)
    stats = net.stats()
    out.print(f"synthetic network (seed {seed}): {stats['nodes']:,} nodes, {stats['edges']:,} edges")


@network_app.command("package")
def network_package(
    target: Annotated[str, typer.Option("--target", help="The targeted organization (id or any name).")],
    budget: Annotated[
        float, typer.Option("--budget", help="Cases (or agent-hours with --budget-kind hours).")
    ],
    budget_kind: Annotated[str, typer.Option("--budget-kind", help="cases or hours.")] = "cases",
    solver: Annotated[str, typer.Option("--solver", help="milp (exact, HiGHS) or greedy.")] = "milp",
    time_limit: Annotated[float, typer.Option("--time-limit", help="Seconds for the MILP solver.")] = 20.0,
    start: FromOpt = None,
    end: ToOpt = None,
    agency: AgencyOpt = None,
    top: Annotated[int, typer.Option("--top", help="Rows to show per table.")] = 15,
    db: DbOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """The US enforcement package against a target: buyers it supplies, the best cases under a budget,
    where the business goes, and who may take over its territory.

    Violence scores for substitution come from the store's events (--from/--to, default the rubric's
    window ending at the last event) when it has any.

    Example: vdto network package --target CJNG --budget 25
    """
    import pandas as pd

    from vdto.services.package import package_for_target
    from vdto.store import Store

    s, e = _window_dates(start, end)
    with Store(_db(db), read_only=True) as store:
        report = package_for_target(
            store, target, budget, budget_kind=budget_kind, solver=solver, time_limit=time_limit, start=s, end=e,
            agency=agency,
        )  # fmt: skip
    pkg, subs, heirs = report.package, report.substitution, report.succession
    selected = pkg.selected.copy()
    if "path" in selected:
        selected["path"] = selected["path"].map(lambda p: " > ".join(p) if isinstance(p, list | tuple) else p)
    if fmt == Format.json:
        emit_json(
            {
                "network": report.synthetic or "the store's supply network",
                "summary": pkg.summary(),
                "notes": list(pkg.notes),
                "selected": json_records(selected),
                "substitution": json_records(subs),
                "succession": json_records(heirs),
            }
        )
        return
    if fmt == Format.csv:
        emit(selected, fmt)
        return
    # money in US dollars, shares in percent, seconds with "s"; JSON and CSV keep full precision
    if report.synthetic:
        out.print(
            escape(
                f"Synthetic: computed on {report.synthetic}; its volumes, prices and money are "
                "invented, not estimates of any real organization."
            )
        )
    emit(
        pd.DataFrame(list(pkg.summary_text().items()), columns=["", "value"]),
        Format.table,
        title=f"Enforcement package against {pkg.target_name}",
    )
    cols = [
        c
        for c in (
            "order",
            "id",
            "type",
            "region",
            "revenue_at_stake",
            "denied",
            "cumulative",
            "budget_cost",
            "path",
        )
        if c in selected
    ]
    unit = "agent-hours" if pkg.budget_kind == "hours" else "cases"
    shown_cases = (
        selected[cols]
        .head(top)
        .rename(
            columns={
                "denied": "revenue_denied",
                "cumulative": "revenue_cumulative",
                "budget_cost": f"cost ({unit})",
            }
        )
    )
    emit(shown_cases, Format.table, title=f"Cases selected ({pkg.method})")
    for note in pkg.notes:
        out.print("note: " + escape(str(note)))
    if len(subs):
        shown = [
            c
            for c in (
                "buyer",
                "type",
                "region",
                "revenue_at_stake",
                "switch_name",
                "switch_score",
                "price_ratio",
                "reason",
            )
            if c in subs
        ]
        emit(subs[shown].head(top), Format.table, title="Where the business goes (substitution)")
    if len(heirs):
        shown = [
            c
            for c in (
                "rank",
                "org_id",
                "name",
                "relation",
                "weight",
                "shared_regions",
                "score",
                "more_violent",
            )
            if c in heirs
        ]
        emit(
            heirs[shown].head(top),
            Format.table,
            title="Succession risk: rivals and allies that may take over (BACRIM 2020)",
        )


@network_app.command("export")
def network_export(
    out_path: Annotated[
        Path, typer.Argument(metavar="OUT", help="File (.graphml, .gexf) or folder (i2 link chart).")
    ],
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="graphml, gexf or i2 (entities.csv + links.csv).")
    ] = "graphml",
    target: Annotated[
        str | None,
        typer.Option(
            "--target",
            help="Write only this organization's subnetwork (id or any name), not the whole network.",
            show_default=False,
        ),
    ] = None,
    hops: Annotated[
        int | None,
        typer.Option(
            "--hops",
            help="With --target: keep everything within this many supply edges of its nodes [default: 2].",
            show_default=False,
        ),
    ] = None,
    db: DbOpt = None,
) -> None:
    """Export the store's supply network (or, with --target, the part around one organization) for
    Gephi, Cytoscape or i2 Analyst's Notebook.

    Example: vdto network export cjng.gexf --format gexf --target CJNG --hops 2
    """
    from vdto.render.fmt import sig
    from vdto.services.network import export_network
    from vdto.store import Store

    with Store(_db(db), read_only=True) as store:
        done = export_network(store, out_path, fmt, target=target, hops=hops)
    size = done.bytes
    size_text = next(
        (f"{sig(size / d)} {u}" for d, u in ((1e9, "GB"), (1e6, "MB"), (1e3, "kB")) if size >= d),
        f"{size:,} bytes",
    )
    what = (
        f"the subnetwork of {done.target} within {done.hops} supply edge{'s' if done.hops != 1 else ''}"
        if done.target is not None
        else "the whole network"
    )
    out.print(
        escape(
            f"wrote {', '.join(str(p) for p in done.paths)}: {what}, {done.nodes:,} nodes, "
            f"{done.edges:,} edges, {size_text} ({size:,} bytes)"
        )
    )


@network_app.command("stats")
def network_stats(db: DbOpt = None, fmt: FormatOpt = Format.table) -> None:
    """Counts of the store's supply network by node and edge type.

    Example: vdto network stats --format json
    """
    import pandas as pd

    from vdto.network.graph import SupplyNetwork
    from vdto.store import Store

    with Store(_db(db), read_only=True) as store:
        net = SupplyNetwork.load(store)
    emit(pd.DataFrame(list(net.stats().items()), columns=["what", "count"]), fmt, title="Supply network")


def register(app: typer.Typer) -> None:
    """Add ``network`` to the ``vdto`` app."""
    app.add_typer(network_app, name="network")
