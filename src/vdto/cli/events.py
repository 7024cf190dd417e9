"""``vdto import``, ``vdto events``, ``vdto imports`` and ``vdto orgs``: data into the store, what it
holds, and the organization registry."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.text import Text

from vdto.cli.console import Format, emit, emit_json, out
from vdto.cli.options import (
    AgencyOpt,
    DbOpt,
    FormatOpt,
    Options,
    QuietOpt,
    WideOpt,
    _date,
    _db,
    _window_dates,
)
from vdto.errors import VdtoError

if TYPE_CHECKING:  # the store (pandas, DuckDB) loads only when a command runs
    from vdto.store.events import By

import_app = typer.Typer(
    help="Import event data or counts into the store (one transaction per file).",
    no_args_is_help=True,
)
orgs_app = typer.Typer(
    help="The organization registry: list, resolve names, add organizations and aliases.",
    invoke_without_command=True,
)

ReportOpt = Annotated[Path | None, typer.Option("--report", help="Write every row problem to this CSV.")]
SkipOpt = Annotated[
    bool,
    typer.Option("--skip-bad-rows", help="Import the valid rows and count the bad ones as rejected."),
]
EncodingOpt = Annotated[str, typer.Option("--encoding", help="Text encoding of the file.")]
DatesOpt = Annotated[
    str | None,
    typer.Option(
        "--dates",
        metavar="FROM..TO",
        help="Accept dates in this range (default 1989-01-01..today; recorded).",
    ),
]
AnywhereOpt = Annotated[
    bool, typer.Option("--anywhere", help="Accept coordinates outside Mexico (recorded with the import).")
]


def _print_import(result, quiet: bool) -> None:
    r = result.record
    if quiet:
        return
    head = f"[bold]{escape(r.file_name)}[/bold] ({r.kind}, source [cyan]{escape(r.source)}[/cyan]): "
    if r.kind in ("counts", "inegi"):
        # counts are stored summed (over sex, age, weapon...): rows in and counts stored differ
        out.print(
            head
            + f"read {r.rows_read:,} rows, rejected {r.rows_rejected:,}; the {r.rows_read - r.rows_rejected:,} "
            f"accepted rows add up to {r.rows_imported:,} counts by region, month, measure and modality (stored)"
        )
    elif r.kind in ("acled-deleted", "retire"):
        out.print(
            head
            + f"read {r.rows_read:,} deleted ids: retired {r.rows_retired:,} events (kept in the store's history), "
            f"not in the store {result.not_held:,}, revised after their deletion (kept) {result.revised_after:,}, "
            f"rejected {r.rows_rejected:,}"
        )
    else:
        out.print(
            head + f"read {r.rows_read:,} rows: imported {r.rows_imported:,}, revised {r.rows_revised:,}, "
            f"already present {r.rows_duplicate:,}, rejected {r.rows_rejected:,}, skipped {r.rows_skipped:,}"
        )
        if result.unstamped_changes:
            out.print(
                f"  [yellow]{result.unstamped_changes:,} rows differ from the stored version but carry no newer "
                "revision stamp[/yellow]: the stored version is kept (map a revision column to let revisions in)"
            )
    for reason, n in sorted(result.skipped.items()):
        out.print(f"  skipped {n:,} rows: {reason}")
    for what, n in sorted(result.adjusted.items()):
        out.print(f"  corrected {n:,} rows: {what}")
    if result.unresolved:
        names = escape(", ".join(f"{name!r} ({n})" for name, n in result.unresolved.most_common(8)))
        more = len(result.unresolved) - 8
        out.print(
            f"[yellow]{len(result.unresolved)} perpetrator name(s) not in the registry[/yellow] (events): {names}"
            + (f" and {more} more" if more > 0 else "")
            + "\n  kept as unresolved; register them with `vdto orgs add ID NAME` or `vdto orgs alias NAME ORG_ID` (see `vdto orgs unresolved`)"
        )


#: What every import takes: the store, the problem report, what to do with bad rows, quietness.
IMPORT = Options(
    db=(DbOpt, None),
    report=(ReportOpt, None),
    skip_bad_rows=(SkipOpt, False),
    quiet=(QuietOpt, False),
    dates=(DatesOpt, None),
    anywhere=(AnywhereOpt, False),
)


def _plausible(dates: str | None, anywhere: bool):
    """The plausibility an import asked for: ``--dates FROM..TO`` and ``--anywhere``."""
    from vdto.events.plausible import Plausibility

    first = last = None
    if dates is not None:
        parts = dates.replace(" ", "").split("..")
        if len(parts) != 2:
            raise VdtoError(
                f"cannot read the date range {dates!r}",
                "--dates",
                "write it as FROM..TO, e.g. 1980-01-01..2030-12-31",
            )
        first, last = _date(parts[0], "--dates"), _date(parts[1], "--dates")
        if first is None or last is None or first > last:
            raise VdtoError(f"the date range {dates!r} is empty", "--dates", "give FROM before TO")
    return Plausibility(first=first, last=last, anywhere=anywhere)


def _import(kind: str, file: Path, *, db: Path | None, quiet: bool, dates: str | None = None,
            anywhere: bool = False, **options) -> None:  # fmt: skip
    """Import through :func:`vdto.services.imports.import_file` and print what it did."""
    from vdto.services.imports import import_file

    result = import_file(_db(db), kind, file, plausible=_plausible(dates, anywhere), **options)
    _print_import(result, quiet)


def _event_import(kind: str, doc: str):
    """The command importing one source's event export (UCDP GED, ACLED)."""

    @IMPORT
    def command(file: Path, encoding: EncodingOpt = "utf-8", agency: AgencyOpt = None, **options) -> None:
        _import(kind, file, encoding=encoding, agency=agency, **options)

    command.__doc__ = doc
    return command


import_app.command("ucdp")(
    _event_import(
        "ucdp",
        "Import a UCDP GED CSV (plain or .gz).\n\nExample: vdto import ucdp ged_mexico_1989_2023.csv.gz",
    )
)
import_app.command("acled")(
    _event_import(
        "acled",
        "Import an ACLED CSV export, or ACLED's list of deleted events (event_id_cnty, "
        "deleted_timestamp): revised events (newer timestamp) replace the stored version, deleted ones "
        "are retired; every earlier version stays in the store's history.\n\n"
        "Example: vdto import acled acled_mexico_2023.csv --report problems.csv",
    )
)


@import_app.command("retire")
def import_retire(
    file: Path,
    source: Annotated[str, typer.Option("--source", help="The source whose events the list retires.")],
    id_column: Annotated[str, typer.Option("--id-column", help="The column of event ids.")],
    stamp_column: Annotated[
        str | None,
        typer.Option("--stamp-column", help="When each was deleted, on the scale of the revision stamps."),
    ] = None,
    encoding: EncodingOpt = "utf-8",
    agency: AgencyOpt = None,
    db: DbOpt = None,
    report: ReportOpt = None,
    skip_bad_rows: SkipOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Retire the events a source deleted, from a list of their ids (any CSV). Retired events
    leave every score; they stay in the store's history (`vdto imports diff`, `--state`).

    Example: vdto import retire anuladas.csv --source fiscalia-gto --id-column folio
    """
    from vdto.services.imports import retire_file

    result = retire_file(_db(db), file, source=source, id_column=id_column, stamp_column=stamp_column,
                         agency=agency, encoding=encoding, report=report, skip_bad_rows=skip_bad_rows)  # fmt: skip
    _print_import(result, quiet)


@import_app.command("csv")
@IMPORT
def import_csv(
    file: Path,
    mapping: Annotated[
        Path, typer.Option("--mapping", "-m", help="TOML column mapping (see docs/schema.md).")
    ],
    agency: AgencyOpt = None,
    encoding: Annotated[
        str | None,
        typer.Option("--encoding", help="Text encoding of the file (default: the mapping's, else utf-8)."),
    ] = None,
    **options,
) -> None:
    """Import any CSV or Parquet file through a TOML column mapping.

    Example: vdto import csv agency.csv --mapping agency.toml
    """
    _import("csv", file, mapping=mapping, agency=agency, encoding=encoding, **options)


@import_app.command("counts")
@IMPORT
def import_counts(
    file: Path,
    source: Annotated[str | None, typer.Option(help="Source label (default: from the layout).")] = None,
    encoding: EncodingOpt = "utf-8",
    **options,
) -> None:
    """Import region-month counts without perpetrators (SESNSP victims or vdto's own layout).

    Example: vdto import counts db_victimas_delitos_ent_long.csv.bz2
    """
    _import("counts", file, source=source, encoding=encoding, **options)


@import_app.command("inegi")
def import_inegi(
    path: Annotated[
        Path | None,
        typer.Argument(
            help="A yearly file (YYYY.csv, or .csv.bz2) or a folder of them (default: the bundled 1990-2015)."
        ),
    ] = None,
    encoding: Annotated[
        str, typer.Option("--encoding", help="Text encoding (INEGI exports latin-1).")
    ] = "latin-1",
    db: DbOpt = None,
    report: ReportOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Import INEGI's homicide deaths by municipality of occurrence and month of registration.

    Every year is checked against INEGI's own totals (months to Total, municipalities to their
    state, states to the nation) and imported whole or not at all.

    Example: vdto import inegi                      # the bundled 1990-2015 files
    """
    from vdto.services.imports import import_inegi as service

    result = service(_db(db), path, encoding=encoding, report=report)
    _print_import(result, quiet)
    files = result.files
    if quiet or files is None or files.empty:
        return
    for row in files.itertuples(index=False):
        out.print(
            f"  {row.file}: {row.year} registrations, {row.deaths:,} homicide deaths in "
            f"{row.municipal_rows:,} municipal rows, sha256 {row.sha256[:12]}…"
        )
    out.print(
        f"  stored as measure [cyan]defunciones_homicidio[/cyan], level municipality: month = month of "
        f"REGISTRATION; codes SS999 = municipality not specified, 33999-35999 = abroad "
        f"({int(files['deaths'].sum()):,} deaths, {len(files)} year(s))"
    )


def events_cmd(
    ctx: typer.Context,
    by: Annotated[str, typer.Option("--by", help="Group by year, org or state.")] = "year",
    start: Annotated[
        str | None, typer.Option("--from", help="First date (YYYY, YYYY-MM or YYYY-MM-DD).")
    ] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last date.")] = None,
    source: Annotated[str | None, typer.Option(help="Only this source.")] = None,
    db: DbOpt = None,
    fmt: FormatOpt = Format.table,
    agency: AgencyOpt = None,
) -> None:
    """Summarise one agency's stored events by year, organization (attributed) or state (the only
    agency in the store unless --agency names one; agencies are never added together).
    `vdto events duplicates` lists the incidents that two sources both report.

    Example: vdto events --by org --from 2023 --to 2023-12-31
    """
    from vdto.store import Store

    if ctx.invoked_subcommand is not None:
        return
    if by not in ("year", "org", "state"):
        raise VdtoError(f"unknown grouping {by!r}", fix="use year, org or state", param="by")
    s, e = _window_dates(start, end)
    with Store(_db(db), read_only=True) as store:
        who = store.resolve_agency(agency)
        grouping: By = "year" if by == "year" else ("org" if by == "org" else "state")
        emit(store.events.summary(grouping, s, e, source, who), fmt, title=f"Events by {by} (agency {who})")


imports_app = typer.Typer(
    help="Every import (file, SHA-256, rows), and what an import changed.", invoke_without_command=True
)


@imports_app.callback()
def imports_cmd(
    ctx: typer.Context, db: DbOpt = None, fmt: FormatOpt = Format.table, wide: WideOpt = False
) -> None:
    """List every import: file, SHA-256, rows read/imported/revised/retired/rejected, time, vdto
    version. Each import id is a store state: `vdto imports diff A B` shows what changed between
    two, and `--state ID` scores the store as it was then.

    Example: vdto imports --format csv
    """
    if ctx.invoked_subcommand is not None:
        return
    from vdto.store import Store

    with Store(_db(db), read_only=True) as store:
        frame = store.imports.frame()
    if fmt == Format.table:
        frame = frame.assign(
            sha256=frame["sha256"].str[:12] + "…", finished_at=frame["finished_at"].astype(str).str[:10]
        )[
            [
                "import_id",
                "kind",
                "source",
                "file_name",
                "sha256",
                "rows_read",
                "rows_imported",
                "rows_revised",
                "rows_retired",
                "rows_duplicate",
                "rows_rejected",
                "rows_skipped",
                "finished_at",
                "vdto_version",
            ]
        ]
    narrow = ["import_id", "file_name", "rows_read", "rows_imported", "rows_rejected", "finished_at"]
    emit(frame, fmt, title="Imports", narrow=narrow, wide=wide)


@imports_app.command("diff")
def imports_diff(
    old: Annotated[
        int | None, typer.Argument(metavar="A", help="The earlier state (an import id; 0: empty).")
    ] = None,
    new: Annotated[
        int | None, typer.Argument(metavar="B", help="The later state (default: the last import).")
    ] = None,
    agency: AgencyOpt = None,
    db: DbOpt = None,
    fmt: FormatOpt = Format.table,
    wide: WideOpt = False,
) -> None:
    """What the imports after state A up to state B added, revised and retired (default: what
    the last import did), with every changed field of each revised event.

    Example: vdto imports diff 1 2
    """
    from vdto.services.imports import import_changes

    changes, a, b = import_changes(_db(db), old, new, agency=agency)
    counts = changes["change"].value_counts()
    if fmt == Format.table:
        out.print(
            f"store state {a} -> {b}: added {int(counts.get('added', 0)):,}, revised {int(counts.get('revised', 0)):,}, "
            f"retired {int(counts.get('retired', 0)):,} events"
        )
        if changes.empty:
            return
    narrow = ["change", "source", "source_id", "date", "deaths_before", "deaths_after"]
    emit(changes, fmt, title=f"Changes from state {a} to {b}", narrow=narrow, wide=wide)


def _registry(db: Path | None):
    from vdto.events.ingest import current_registry

    return current_registry(_db(db))


@orgs_app.callback()
def orgs_default(ctx: typer.Context) -> None:
    """The organization registry (default: list)."""
    if ctx.invoked_subcommand is None:
        orgs_list(kind=None, db=None, fmt=Format.table)


@orgs_app.command("list")
def orgs_list(
    kind: Annotated[str | None, typer.Option(help="Only this kind (dto, faction, state, ...).")] = None,
    db: DbOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """List registered organizations.

    Example: vdto orgs list --kind faction
    """
    frame = _registry(db).to_frame()
    if kind:
        frame = frame[frame["kind"] == kind]
    emit(frame, fmt, title="Organizations")


@orgs_app.command("resolve")
def orgs_resolve(name: str, db: DbOpt = None, fmt: FormatOpt = Format.table) -> None:
    """Show which organization a name resolves to.

    Example: vdto orgs resolve "Jalisco Cartel New Generation"
    """
    reg = _registry(db)
    m = reg.resolve(name)
    if m.org_id is None:
        raise VdtoError(
            f"{name!r} does not resolve to any organization",
            "vdto orgs resolve",
            "register it with `vdto orgs add` or `vdto orgs alias`",
        )
    org = reg.orgs[m.org_id]
    row = {
        "name": name,
        "org_id": m.org_id,
        "org_name": org.name,
        "kind": org.kind,
        "faction_id": m.faction_id,
        "faction": m.faction,
        "status": org.status,
    }
    if fmt == Format.json:
        emit_json(row)
    else:
        import pandas as pd

        emit(pd.DataFrame([row]), fmt)


@orgs_app.command("add")
def orgs_add(
    org_id: Annotated[str, typer.Argument(metavar="ID", help="New id: lowercase letters, digits, '_'.")],
    name: str,
    kind: Annotated[
        str, typer.Option(help="dto, faction, state, civilians, armed_group, self_defense or gang.")
    ] = "dto",
    parent: Annotated[str | None, typer.Option(help="Parent organization id (factions only).")] = None,
    db: DbOpt = None,
) -> None:
    """Register a new organization in this store; unresolved names it matches are resolved.

    Example: vdto orgs add los_nuevos "Los Nuevos" --kind dto
    """
    from pydantic import ValidationError

    from vdto.orgs import Org
    from vdto.store import Store

    try:
        org = Org(id=org_id, name=name, kind=kind, parent=parent)
    except ValidationError as exc:
        e = exc.errors()[0]
        raise VdtoError(f"{e['loc'][0]} {e['msg']}", "vdto orgs add", "see `vdto orgs add --help`") from None
    with Store(_db(db)) as store:
        store.registry_edits.add_org(org)
    out.print(f"added {escape(org_id)} ({escape(name)})")


@orgs_app.command("alias")
def orgs_alias(
    alias: str,
    org: Annotated[str, typer.Argument(metavar="ORG", help="Organization id or a name it already has.")],
    db: DbOpt = None,
) -> None:
    """Add an alias to an organization in this store.

    Example: vdto orgs alias "Cartel de Jalisco" cjng
    """
    from vdto.store import Store

    with Store(_db(db)) as store:
        org_id = store.registry().require(org)
        store.registry_edits.add_alias(alias, org_id)
    out.print(f"{escape(repr(alias))} now resolves to {escape(org_id)}")


@orgs_app.command("unresolved")
def orgs_unresolved(db: DbOpt = None, fmt: FormatOpt = Format.table) -> None:
    """Perpetrator names in the store that the registry cannot resolve, with event counts.

    Example: vdto orgs unresolved --format json
    """
    from vdto.store import Store

    with Store(_db(db), read_only=True) as store:
        emit(store.events.unresolved_names(), fmt, title="Unresolved names")


def split_agencies_cmd(
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Folder for {agency}-events.csv.gz.")] = Path(
        "examples"
    ),
    source: Annotated[
        Path | None, typer.Option("--source", help="A UCDP GED CSV (default: the bundled Mexico file).")
    ] = None,
    agencies: Annotated[str, typer.Option("--agencies", help="Comma-separated agency names.")] = "mx,us",
    share: Annotated[float, typer.Option("--share", help="Share of the incidents each agency sees.")] = 0.8,
    start: Annotated[int, typer.Option("--from", help="First year.")] = 2021,
    end: Annotated[int, typer.Option("--to", help="Last year.")] = 2021,
    seed: Annotated[int, typer.Option("--seed", help="Seed of who sees which incident.")] = 1,
) -> None:
    """Split the bundled UCDP events between two (or more) agencies, each seeing its own
    overlapping share, to try the two-country workflow on real data (same seed, same files).

    Example: vdto split-agencies --out examples --agencies mx,us --share 0.8 --from 2021 --to 2021
    """
    from vdto.services.imports import split_ucdp

    names = [a.strip() for a in agencies.split(",") if a.strip()]
    written = split_ucdp(out_dir, source, agencies=names, share=share, years=(start, end), seed=seed)
    for agency, path in written.items():
        out.print(Text(f"{agency}: {path} ({path.stat().st_size:,} bytes)"))


def register(app: typer.Typer) -> None:
    """Add ``import``, ``events``, ``imports``, ``split-agencies`` and ``orgs`` to the ``vdto`` app."""
    app.add_typer(import_app, name="import")
    from vdto.cli import duplicates

    events_app = typer.Typer(invoke_without_command=True)
    events_app.callback()(events_cmd)
    duplicates.register(events_app)
    app.add_typer(events_app, name="events")
    app.command("split-agencies")(split_agencies_cmd)
    app.add_typer(imports_app, name="imports")
    app.add_typer(orgs_app, name="orgs")
