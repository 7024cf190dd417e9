"""The ``vdto`` command line: a thin shell over the library.

Every command parses its options, calls library functions and prints. Errors a user can cause
print one line (``error: what; how to fix``) and exit with status 2.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

import vdto
from vdto.cli.console import Format, emit, emit_json, err, out
from vdto.cli.options import (
    AgencyOpt,
    DbOpt,
    DrawsOpt,
    FormatOpt,
    FromOpt,
    OutOpt,
    QuietOpt,
    RubricOpt,
    ScoreFormat,
    SeedOpt,
    SourceOpt,
    ToOpt,
    _check_score_format,
    _date,
    _db,
    _provenance,
    _window_dates,
    _write_frame,
    json_records,
    spell,
)
from vdto.cli.regions import regions_app
from vdto.cli.report import register as register_report
from vdto.cli.routes import routes_app
from vdto.cli.serve import register as register_api
from vdto.cli.sim import register as register_sim
from vdto.errors import VdtoError

app = typer.Typer(
    name="vdto",
    help="Violence-targeted drug enforcement: import event data, score and rank organizations by violence.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode="rich",
)
import_app = typer.Typer(
    help="Import event data or counts into the store (one transaction per file).",
    no_args_is_help=True,
)
orgs_app = typer.Typer(
    help="The organization registry: list, resolve names, add organizations and aliases.",
    invoke_without_command=True,
)
app.add_typer(import_app, name="import")
app.add_typer(orgs_app, name="orgs")

ReportOpt = Annotated[Path | None, typer.Option("--report", help="Write every row problem to this CSV.")]
SkipOpt = Annotated[
    bool,
    typer.Option("--skip-bad-rows", help="Import the valid rows and count the bad ones as rejected."),
]
EncodingOpt = Annotated[str, typer.Option("--encoding", help="Text encoding of the file.")]


def _print_import(result, quiet: bool) -> None:
    r = result.record
    if quiet:
        return
    out.print(
        f"[bold]{r.file_name}[/bold] ({r.kind}, source [cyan]{r.source}[/cyan]): read {r.rows_read:,} rows, "
        f"imported {r.rows_imported:,}, already present {r.rows_duplicate:,}, rejected {r.rows_rejected:,}, skipped {r.rows_skipped:,}"
    )
    for reason, n in sorted(result.skipped.items()):
        out.print(f"  skipped {n:,} rows: {reason}")
    for what, n in sorted(result.adjusted.items()):
        out.print(f"  corrected {n:,} rows: {what}")
    if result.unresolved:
        names = ", ".join(f"{name!r} ({n})" for name, n in result.unresolved.most_common(8))
        more = len(result.unresolved) - 8
        out.print(
            f"[yellow]{len(result.unresolved)} perpetrator name(s) not in the registry[/yellow] (events): {names}"
            + (f" and {more} more" if more > 0 else "")
            + "\n  kept as unresolved; register them with `vdto orgs add ID NAME` or `vdto orgs alias NAME ORG_ID` (see `vdto orgs unresolved`)"
        )


def _import_events(
    kind: str,
    file: Path,
    db: Path | None,
    report,
    skip_bad_rows: bool,
    quiet: bool,
    agency: str | None = None,
    **options,
) -> None:
    """Import through the importer module for ``kind`` (``csv`` is the generic importer)."""
    import importlib

    from vdto.events.ingest import import_events

    parser = importlib.import_module(f"vdto.events.{'generic' if kind == 'csv' else kind}").parse
    result = import_events(
        _db(db),
        kind,
        file,
        parser,
        report=report,
        skip_bad_rows=skip_bad_rows,
        namespace=agency or "default",
        **options,
    )
    _print_import(result, quiet)


@import_app.command("ucdp")
def import_ucdp(
    file: Path,
    db: DbOpt = None,
    report: ReportOpt = None,
    skip_bad_rows: SkipOpt = False,
    encoding: EncodingOpt = "utf-8",
    quiet: QuietOpt = False,
    agency: AgencyOpt = None,
) -> None:
    """Import a UCDP GED CSV (plain or .gz).

    Example: vdto import ucdp ged_mexico_1989_2023.csv.gz
    """
    _import_events("ucdp", file, db, report, skip_bad_rows, quiet, agency, encoding=encoding)


@import_app.command("acled")
def import_acled(
    file: Path,
    db: DbOpt = None,
    report: ReportOpt = None,
    skip_bad_rows: SkipOpt = False,
    encoding: EncodingOpt = "utf-8",
    quiet: QuietOpt = False,
    agency: AgencyOpt = None,
) -> None:
    """Import an ACLED CSV export.

    Example: vdto import acled acled_mexico_2023.csv --report problems.csv
    """
    _import_events("acled", file, db, report, skip_bad_rows, quiet, agency, encoding=encoding)


@import_app.command("csv")
def import_csv(
    file: Path,
    mapping: Annotated[
        Path, typer.Option("--mapping", "-m", help="TOML column mapping (see docs/schema.md).")
    ],
    db: DbOpt = None,
    report: ReportOpt = None,
    skip_bad_rows: SkipOpt = False,
    quiet: QuietOpt = False,
    agency: AgencyOpt = None,
) -> None:
    """Import any CSV or Parquet file through a TOML column mapping.

    Example: vdto import csv agency.csv --mapping agency.toml
    """
    from vdto.events import generic

    spec, digest = generic.load_mapping(mapping)
    _import_events(
        "csv",
        file,
        db,
        report,
        skip_bad_rows,
        quiet,
        agency,
        mapping=spec,
        mapping_path=str(mapping),
        mapping_sha256=digest,
    )


@import_app.command("counts")
def import_counts(
    file: Path,
    db: DbOpt = None,
    report: ReportOpt = None,
    skip_bad_rows: SkipOpt = False,
    source: Annotated[str | None, typer.Option(help="Source label (default: from the layout).")] = None,
    encoding: EncodingOpt = "utf-8",
    quiet: QuietOpt = False,
) -> None:
    """Import region-month counts without perpetrators (SESNSP victims or vdto's own layout).

    Example: vdto import counts db_victimas_delitos_ent_long.csv.bz2
    """
    from vdto.events.ingest import import_counts_file

    _print_import(
        import_counts_file(
            _db(db),
            file,
            report=report,
            skip_bad_rows=skip_bad_rows,
            source=source,
            encoding=encoding,
        ),
        quiet,
    )


@app.command("events")
def events_cmd(
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
    """Summarise stored events by year, organization (attributed) or state (all agencies by default).

    Example: vdto events --by org --from 2023 --to 2023-12-31
    """
    from vdto.store import Store
    from vdto.store.summary import events_by

    if by not in ("year", "org", "state"):
        raise VdtoError(f"unknown grouping {by!r}", "--by", "use year, org or state")
    s, e = _date(start, "--from"), _date(end, "--to")
    if e is not None and end is not None and len(end) == 4:
        e = e.replace(month=12, day=31)
    with Store(_db(db), read_only=True) as store:
        emit(events_by(store, by, s, e, source, agency), fmt, title=f"Events by {by}")


@app.command("imports")
def imports_cmd(db: DbOpt = None, fmt: FormatOpt = Format.table) -> None:
    """List every import: file, SHA-256, rows read/imported/rejected, time, vdto version.

    Example: vdto imports --format csv
    """
    from vdto.store import Store

    with Store(_db(db), read_only=True) as store:
        frame = store.imports()
    if fmt == Format.table:
        frame = frame.assign(sha256=frame["sha256"].str[:12] + "…")[
            [
                "import_id",
                "kind",
                "source",
                "file_name",
                "sha256",
                "rows_read",
                "rows_imported",
                "rows_duplicate",
                "rows_rejected",
                "rows_skipped",
                "finished_at",
                "vdto_version",
            ]
        ]
    emit(frame, fmt, title="Imports")


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
        store.add_org(org)
    out.print(f"added {org_id} ({name})")


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
        store.add_alias(alias, org_id)
    out.print(f"{alias!r} now resolves to {org_id}")


@orgs_app.command("unresolved")
def orgs_unresolved(db: DbOpt = None, fmt: FormatOpt = Format.table) -> None:
    """Perpetrator names in the store that the registry cannot resolve, with event counts.

    Example: vdto orgs unresolved --format json
    """
    from vdto.store import Store

    with Store(_db(db), read_only=True) as store:
        emit(store.unresolved_names(), fmt, title="Unresolved names")


rubric_app = typer.Typer(help="The published violence rubric: show, validate, compare.", no_args_is_help=True)
app.add_typer(rubric_app, name="rubric")


def _run_scoring(db, start, end, rubric, draws, seed, source, quiet: bool, agency: str | None = None):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from vdto.scoring import load_rubric, score
    from vdto.store import Store

    rub = load_rubric(rubric)
    s, e = _window_dates(start, end)
    with (
        Store(_db(db), read_only=True) as store,
        Progress(
            TextColumn("Monte Carlo draws"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            console=err, transient=True, disable=quiet or draws < 500,
        ) as progress,
    ):  # fmt: skip
        task = progress.add_task("draws", total=draws)
        import threading

        lock = threading.Lock()

        def advance(n: int) -> None:
            with lock:
                progress.advance(task, n)

        return score(
            store,
            s,
            e,
            rubric=rub,
            draws=draws,
            seed=seed,
            sources=source or None,
            namespace=agency,
            progress=advance,
        )


@app.command("score")
def score_cmd(
    start: FromOpt = None,
    end: ToOpt = None,
    rubric: RubricOpt = None,
    draws: DrawsOpt = 2000,
    seed: SeedOpt = 7,
    by: Annotated[str, typer.Option("--by", help="org, or org and state ('state').")] = "org",
    source: SourceOpt = None,
    db: DbOpt = None,
    fmt: ScoreFormat = "table",
    out_path: OutOpt = None,
    quiet: QuietOpt = False,
    agency: AgencyOpt = None,
) -> None:
    """Score every organization over a window, with 90% intervals and P(rank 1).

    Example: vdto score --from 2020-01-01 --to 2020-12-31 --draws 2000 --seed 7
    """
    _check_score_format(fmt)
    if by not in ("org", "state"):
        raise VdtoError(f"unknown grouping {by!r}", "--by", "use org or state")
    result = _run_scoring(db, start, end, rubric, draws, seed, source, quiet, agency)
    frame = result.table if by == "org" else result.by_state
    title = f"Violence scores {result.meta['from']} to {result.meta['to']}" + (
        " by state" if by == "state" else ""
    )
    _write_frame(frame, result.meta, fmt, out_path, title)
    if fmt == "table" and not quiet and len(result.dismantled):
        emit(result.dismantled, Format.table, title="Dismantled organizations (listed apart, not ranked)")


@app.command("rank")
def rank_cmd(
    start: FromOpt = None,
    end: ToOpt = None,
    rubric: RubricOpt = None,
    draws: DrawsOpt = 2000,
    seed: SeedOpt = 7,
    source: SourceOpt = None,
    what_if: Annotated[
        str | None,
        typer.Option("--what-if", help="ORG:SHARE, e.g. cjng:0.3 = CJNG cuts its violence by 30%."),
    ] = None,
    top: Annotated[int, typer.Option("--top", help="Rows to show in the table.")] = 10,
    db: DbOpt = None,
    fmt: ScoreFormat = "table",
    out_path: OutOpt = None,
    quiet: QuietOpt = False,
    agency: AgencyOpt = None,
) -> None:
    """Rank organizations with intervals, P(rank 1), margins and the target decision.

    Example: vdto rank --from 2020 --to 2020 --what-if cjng:0.5
    """
    from vdto.scoring import decide, robustness
    from vdto.scoring import what_if as what_if_fn
    from vdto.scoring.decision import ranking_with_margins

    _check_score_format(fmt)
    result = _run_scoring(db, start, end, rubric, draws, seed, source, quiet, agency)
    decision = decide(result)
    table = ranking_with_margins(result)
    n_events, moved, moved_events = robustness(result)
    extra = {
        "decision": decision.as_dict(),
        "manipulation": {
            "events_to_change_top": n_events,
            "weight_moved": moved,
            "events": json_records(moved_events),
        },
        "rank_probabilities": json_records(result.rank_probs),
        "dismantled": json_records(result.dismantled),
    }
    if what_if:
        org, _, share = what_if.partition(":")
        try:
            cut = float(share.rstrip("%")) / (100 if share.endswith("%") else 1)
        except ValueError:
            raise VdtoError(
                f"{what_if!r} is not ORG:SHARE", "--what-if", "write e.g. cjng:0.3 or cjng:30%"
            ) from None
        org_id = _registry(db).require(org) if org not in set(result.table["org"]) else org
        wi = what_if_fn(result, org_id, cut)
        extra["what_if"] = {"org": org_id, "cut": cut, "rows": json_records(wi)}
    if fmt != "table":
        if fmt == "json":
            _write_frame(table, result.meta, fmt, out_path, "", extra)
        else:
            _write_frame(table, result.meta, fmt, out_path, "")
        return
    shown = table.head(top)[
        ["rank", "org", "name", "score", "lo90", "hi90", "p_rank1", "rank_lo90", "rank_hi90", "gap"]
    ]
    emit(shown, Format.table, title=f"Ranking {result.meta['from']} to {result.meta['to']}")
    style = "bold green" if decision.target else "bold yellow"
    out.print(f"[{style}]Target decision:[/{style}] {escape(decision.reason)}")
    if decision.fallback:
        out.print(f"  {escape(decision.fallback)}")
    if len(table) > 1:
        lead = table.iloc[0]
        out.print(
            f"Margin: {escape(lead['name'])} would have to cut its score by {lead['cut_to_lose_first']:.0%} to lose first place."
        )
        if n_events > 0:
            out.print(
                f"Manipulation risk: re-attributing {n_events} of its events (weight {moved:,.1f}) to "
                f"{escape(table.iloc[1]['name'])} would change the top organization."
            )
    if what_if:
        emit(extra_frame(wi), Format.table, title=f"What if {org_id} cut its violence by {cut:.0%}")
    out.print(f"[dim]{escape(_provenance(result.meta))}[/dim]")


def extra_frame(frame):
    return frame[["rank", "rank_before", "org", "name", "score", "lo90", "hi90", "p_rank1"]].head(8)


@rubric_app.command("show")
def rubric_show(
    rubric: Annotated[str, typer.Argument(help="Rubric file or default-v1.")] = "default-v1",
) -> None:
    """Print a rubric's canonical JSON and its SHA-256.

    Example: vdto rubric show my-rubric.toml
    """
    from vdto.scoring import load_rubric

    r = load_rubric(rubric)
    sys.stdout.write(r.canonical_json() + "\n")
    err.print(f"{r.name} v{r.version} sha256:{r.sha256()}")


@rubric_app.command("validate")
def rubric_validate(rubric: Annotated[str, typer.Argument(help="Rubric file to check.")]) -> None:
    """Check a rubric file; an error names the bad key.

    Example: vdto rubric validate my-rubric.toml
    """
    from vdto.scoring import load_rubric

    r = load_rubric(rubric)
    out.print(f"{rubric}: valid ({r.name} v{r.version}, sha256:{r.sha256()})")


@rubric_app.command("diff")
def rubric_diff_cmd(
    a: Annotated[str, typer.Argument(help="First rubric (file or default-v1).")],
    b: Annotated[str, typer.Argument(help="Second rubric.")],
    fmt: FormatOpt = Format.table,
) -> None:
    """Show every key whose value differs between two rubrics.

    Example: vdto rubric diff default-v1 my-rubric.toml
    """
    import pandas as pd

    from vdto.scoring import load_rubric, rubric_diff

    ra, rb = load_rubric(a), load_rubric(b)
    rows = rubric_diff(ra, rb)
    frame = pd.DataFrame(rows, columns=["key", a, b]).astype(str)
    if frame.empty and fmt == Format.table:
        out.print("the rubrics are the same (sha256 " + ra.sha256()[:16] + ")")
        return
    emit(frame, fmt, title=f"{ra.sha256()[:12]} vs {rb.sha256()[:12]}")


keys_app = typer.Typer(help="Signing keys of the ranking agencies (Ed25519).", no_args_is_help=True)
round_app = typer.Typer(
    help="Rounds: open (score, decide) -> announce (publish) -> status -> close.", no_args_is_help=True
)
rankings_app = typer.Typer(help="Two independent rankers: compare their rankings.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
app.add_typer(round_app, name="round")
app.add_typer(rankings_app, name="rankings")

KeyOpt = Annotated[
    list[Path] | None, typer.Option("--key", help="An agency's private key file (repeat for co-signing).")
]
LedgerOpt = Annotated[Path | None, typer.Option("--ledger", help="The publication ledger (JSON Lines).")]


@keys_app.command("new")
def keys_new(
    agency: Annotated[str, typer.Argument(help="Agency name, e.g. mx or us.")],
    folder: Annotated[Path, typer.Option("--dir", help="Folder for AGENCY.key and AGENCY.pub.")] = Path(
        "keys"
    ),
) -> None:
    """Create an agency's signing key pair (the private key file is mode 0600 and never printed).

    Example: vdto keys new mx --dir keys
    """
    from vdto.publication.ledger import load_public_key, new_keypair

    folder.mkdir(parents=True, exist_ok=True)
    private, public = new_keypair(agency, folder)
    out.print(
        f"wrote {private} (private, mode 0600: keep it secret) and {public} (public: {load_public_key(public)})"
    )


def _signers(keys: list[Path] | None):
    from vdto.publication.ledger import Signer

    return [Signer.load(k) for k in keys or []]


@app.command("verify")
def verify_cmd(
    ledger: Annotated[Path, typer.Argument(help="Ledger file (ledger.jsonl).")],
    trust: Annotated[
        list[Path] | None,
        typer.Option("--trust", help="Public keys to pin: AGENCY.pub files or a folder of them."),
    ] = None,
) -> None:
    """Check every link and signature of a ledger; names the first bad entry (exit 1).

    Example: vdto verify ledger.jsonl --trust keys/
    """
    from vdto.publication.ledger import load_trusted, verify

    report = verify(ledger, load_trusted(trust) if trust else None)
    if report.ok:
        out.print(
            f"{ledger}: OK, {report.entries} entries, every link and signature verified; last hash {report.last_hash}"
        )
        return
    err.print(
        f"[bold red]{escape(str(ledger))}: FAILED[/bold red] at entry {report.first_bad}: {escape(report.problem)}"
    )
    raise typer.Exit(1)


def _rubric_map(items: list[str] | None) -> dict:
    from vdto.scoring import load_rubric

    out_map = {}
    for item in items or []:
        agency, sep, path = item.partition("=")
        if not sep:
            raise VdtoError(
                f"{item!r} is not AGENCY=FILE", "--rubric", "write e.g. --rubric us=us-rubric.toml"
            )
        out_map[agency] = load_rubric(path)
    return out_map


RubricMapOpt = Annotated[
    list[str] | None, typer.Option("--rubric", help="An agency's rubric: AGENCY=FILE (default: default-v1).")
]


@round_app.command("open")
def round_open(
    start: FromOpt = None,
    end: ToOpt = None,
    agencies: Annotated[
        str, typer.Option("--agencies", help="Comma-separated agencies; the first leads.")
    ] = "default",
    rubric: RubricMapOpt = None,
    single_ranker: Annotated[
        bool,
        typer.Option("--single-ranker", help="Do not require the agencies to agree (the first decides)."),
    ] = False,
    draws: DrawsOpt = 2000,
    seed: SeedOpt = 7,
    db: DbOpt = None,
) -> None:
    """Open a round: score each agency's data, apply the target rule, record decision and evidence.

    Example: vdto round open --from 2020 --to 2020 --agencies mx,us
    """
    from vdto.publication.rounds import dissents, open_round
    from vdto.store import Store

    s, e = _window_dates(start, end)
    if s is None or e is None:
        raise VdtoError("a round needs a window", "--from/--to", "give both, e.g. --from 2020 --to 2020")
    names = [a.strip() for a in agencies.split(",") if a.strip()]
    with Store(_db(db)) as store:
        rnd = open_round(
            store,
            s,
            e,
            names,
            rubrics=_rubric_map(rubric),
            require_agreement=not single_ranker,
            draws=draws,
            seed=seed,
        )
        dis = dissents(store, rnd.round_id)
    style = "bold green" if rnd.target else "bold yellow"
    out.print(
        f"round {rnd.round_id} opened for {rnd.window_from} to {rnd.window_to} ({', '.join(rnd.agencies)})"
    )
    out.print(
        f"[{style}]decision:[/{style}] "
        + escape(rnd.target or "no target")
        + " — "
        + escape(rnd.decision["reason"])
    )
    for d in dis["detail"]:
        out.print("  dissent recorded: " + escape(d))


@round_app.command("announce")
def round_announce(
    round_id: Annotated[int, typer.Argument(metavar="ROUND")],
    ledger: Annotated[Path, typer.Option("--ledger", help="The publication ledger (created if missing).")],
    key: KeyOpt = None,
    db: DbOpt = None,
) -> None:
    """Announce a round's target: sign its scorecard into the ledger (co-signed when both agree).

    Example: vdto round announce 1 --ledger ledger.jsonl --key keys/mx.key --key keys/us.key
    """
    from vdto.publication.rounds import announce_round
    from vdto.store import Store

    with Store(_db(db)) as store:
        rnd = announce_round(store, round_id, ledger, _signers(key))
    out.print(f"round {rnd.round_id} announced: target {rnd.target}; ledger entry {rnd.ledger_hash}")


@round_app.command("close")
def round_close(
    round_id: Annotated[int, typer.Argument(metavar="ROUND")],
    dismantled: Annotated[bool, typer.Option("--dismantled", help="The target was dismantled.")] = False,
    withdrawn: Annotated[
        bool, typer.Option("--withdrawn", help="The round is withdrawn (give --reason).")
    ] = False,
    reason: Annotated[str, typer.Option("--reason", help="Why (required when withdrawn).")] = "",
    on: Annotated[str | None, typer.Option("--on", help="Date of the outcome (default today).")] = None,
    ledger: LedgerOpt = None,
    key: KeyOpt = None,
    db: DbOpt = None,
) -> None:
    """Close a round as dismantled (the target leaves later rankings) or withdrawn.

    Example: vdto round close 1 --dismantled --ledger ledger.jsonl --key keys/mx.key --key keys/us.key
    """
    from vdto.publication.rounds import close_round
    from vdto.store import Store

    if dismantled == withdrawn:
        raise VdtoError(
            "say how the round ends", "vdto round close", "pass exactly one of --dismantled or --withdrawn"
        )
    with Store(_db(db)) as store:
        rnd = close_round(
            store,
            round_id,
            "dismantled" if dismantled else "withdrawn",
            reason,
            on=_date(on, "--on"),
            ledger_path=ledger,
            signers=_signers(key),
        )
    out.print(
        f"round {rnd.round_id} closed: {rnd.outcome}"
        + (f" ({rnd.target} leaves later rankings)" if dismantled else f" — {rnd.reason}")
    )


@round_app.command("status")
def round_status(
    round_id: Annotated[
        int | None, typer.Argument(metavar="[ROUND]", help="Default: the latest round.")
    ] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="End of monitoring (default: last event).")
    ] = None,
    db: DbOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """A round's state and, once announced, violence since the announcement against before it.

    Example: vdto round status 1
    """
    import pandas as pd

    from vdto.publication.rounds import dissents, get_round, monitor
    from vdto.store import Store

    with Store(_db(db), read_only=True) as store:
        rnd = get_round(store, round_id)
        dis = dissents(store, rnd.round_id)
        watch = (
            monitor(store, rnd.round_id, as_of=_date(as_of, "--as-of"))
            if rnd.announced_at
            else pd.DataFrame()
        )
    if fmt != Format.table:
        emit(
            watch
            if len(watch)
            else pd.DataFrame([{"round": rnd.round_id, "status": rnd.status, "target": rnd.target}]),
            fmt,
        )
        return
    out.print(
        f"round {rnd.round_id}: [bold]{rnd.status}[/bold], window {rnd.window_from} to {rnd.window_to}, "
        f"agencies {', '.join(rnd.agencies)}, target {rnd.target or 'none'}"
    )
    out.print("decision: " + escape(rnd.decision["reason"]))
    for d in dis["detail"]:
        out.print("dissent: " + escape(d))
    if rnd.outcome:
        out.print(f"closed {rnd.closed_at:%Y-%m-%d}: {rnd.outcome} {escape(rnd.reason or '')}")
    if len(watch):
        emit(
            watch,
            Format.table,
            title=f"Violence before {watch.attrs['before']} and after {watch.attrs['after']} the announcement",
        )
    if rnd.target:
        out.print(escape(_package_line(db, rnd.target)))


def _package_line(db, target: str | None) -> str:
    """One line on the US enforcement package against the round's target, when a network exists."""
    from vdto.network.package import supply_shares
    from vdto.store import Store

    with Store(_db(db), read_only=True) as store:
        has_network = store.count("network_nodes") > 0
        net = None
        if has_network and target:
            from vdto.store.network import load_network

            net = load_network(store)
    if net is None:
        return "enforcement package: no supply-network data in this store (vdto network import | generate)"
    try:
        shares = supply_shares(net, target)
    except VdtoError as exc:
        return f"enforcement package: {exc.what}"
    buyers = shares[shares["type"].isin(["wholesaler", "distributor"])]
    return (
        f"enforcement package: {target} supplies {len(buyers):,} US buyers in the store's network, "
        f"US${buyers['revenue'].sum():,.0f} a year at stake (see `vdto network package --target {target}`)"
    )


@round_app.command("list")
def round_list(db: DbOpt = None, fmt: FormatOpt = Format.table) -> None:
    """Every round with its status, window, target and outcome.

    Example: vdto round list --format csv
    """
    from vdto.publication.rounds import list_rounds
    from vdto.store import Store

    with Store(_db(db), read_only=True) as store:
        emit(list_rounds(store), fmt, title="Rounds")


@rankings_app.command("compare")
def rankings_compare(
    a: Annotated[str, typer.Argument(help="First agency.")],
    b: Annotated[str, typer.Argument(help="Second agency.")],
    start: FromOpt = None,
    end: ToOpt = None,
    rubric: RubricMapOpt = None,
    draws: DrawsOpt = 2000,
    seed: SeedOpt = 7,
    db: DbOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Compare two agencies' rankings: Kendall's tau, top-1 agreement, the events behind differences.

    Example: vdto rankings compare mx us --from 2020 --to 2020
    """
    from vdto.publication.agreement import compare
    from vdto.store import Store

    s, e = _window_dates(start, end)
    if s is None or e is None:
        raise VdtoError("a comparison needs a window", "--from/--to", "give both, e.g. --from 2020 --to 2020")
    with Store(_db(db), read_only=True) as store:
        c = compare(store, a, b, s, e, rubrics=_rubric_map(rubric), draws=draws, seed=seed)
    if fmt == Format.json:
        emit_json(
            {
                "a": a, "b": b, "kendall_tau": c.tau, "p_value": c.p_value, "top1_agree": c.top1_agree,
                "targets": {a: c.targets[0], b: c.targets[1]}, "table": json_records(c.table), "drivers": json_records(c.drivers),
            }
        )  # fmt: skip
        return
    if fmt == Format.csv:
        emit(c.table, fmt)
        return
    emit(c.table.head(12), Format.table, title=f"{a} vs {b}, {s} to {e}")
    out.print(
        f"Kendall's tau {c.tau:.3f} (p = {c.p_value:.3g}); top organization: {'same' if c.top1_agree else 'different'}; "
        f"targets: {a} {c.targets[0] or 'none'}, {b} {c.targets[1] or 'none'}"
    )
    if len(c.drivers):
        emit(
            c.drivers,
            Format.table,
            title="Events behind the differences (largest first, per organization ranked differently)",
        )


@app.command("publish")
def publish_cmd(
    out_dir: Annotated[Path, typer.Argument(metavar="OUT_DIR", help="Folder for the static site.")],
    round_id: Annotated[
        int | None, typer.Option("--round", help="Publish this round (its window and lead agency).")
    ] = None,
    start: FromOpt = None,
    end: ToOpt = None,
    agency: AgencyOpt = None,
    rubric: RubricOpt = None,
    ledger: LedgerOpt = None,
    key: KeyOpt = None,
    keys_dir: Annotated[
        Path | None, typer.Option("--keys", help="Folder of the agencies' .pub files to publish.")
    ] = None,
    min_count: Annotated[int, typer.Option("--min-count", help="Suppress event counts below this.")] = 3,
    draws: DrawsOpt = 2000,
    seed: SeedOpt = 7,
    db: DbOpt = None,
) -> None:
    """Write the public scorecard: a static bilingual site (HTML, JSON, CSV, rubric, ledger) that opens offline.

    With --ledger and --key the published scorecard is first signed into the ledger.

    Example: vdto publish site --round 1 --ledger ledger.jsonl --keys keys
    """
    from vdto.publication.ledger import Ledger, load_trusted
    from vdto.publication.rounds import dismantled_before, get_round
    from vdto.publication.scorecard import build_scorecard, public_aggregates, yearly_trend
    from vdto.publication.site import write_site
    from vdto.scoring import Rubric, load_rubric, score
    from vdto.store import Store

    if min_count < 1:
        raise VdtoError(f"--min-count must be at least 1 (got {min_count})", "--min-count", "use e.g. 3")
    with Store(_db(db), read_only=True) as store:
        extra = {}
        if round_id is not None:
            rnd = get_round(store, round_id)
            s, e, agency = rnd.window_from, rnd.window_to, agency or rnd.agencies[0]
            rub = load_rubric(rubric) if rubric else Rubric.model_validate(rnd.evidence[agency]["rubric"])
            extra["round"] = {
                "id": rnd.round_id,
                "status": rnd.status,
                "target": rnd.target,
                "agencies": list(rnd.agencies),
            }
        else:
            s, e = _window_dates(start, end)
            rub = load_rubric(rubric)
        gone = dismantled_before(store, round_id) if round_id is not None else frozenset()
        res = score(store, s, e, rubric=rub, draws=draws, seed=seed, namespace=agency, dismantled=gone)
        end_year = pd_year(res.meta["to"])
        trend = yearly_trend(
            store, list(res.table["org"][:6]), end_year, 8, rubric=rub, namespace=res.meta["agency"]
        )
    card = build_scorecard(res, trend=trend, min_count=min_count, extra=extra or None)
    if ledger is not None and key:
        Ledger(ledger).append("scorecard", card, _signers(key))
    public = load_trusted([keys_dir]) if keys_dir else None
    files = write_site(out_dir, card, public_aggregates(res), ledger_path=ledger, public_keys=public)
    out.print(
        f"wrote {len(files)} files to {out_dir}; open {out_dir / 'index.html'} in a browser (works offline)"
    )


def pd_year(text: str) -> int:
    return int(str(text)[:4])


@app.command("recompute")
def recompute_cmd(
    site: Annotated[Path, typer.Argument(metavar="OUT_DIR", help="A published scorecard folder.")],
) -> None:
    """Recompute the published scores from the published aggregates and rubric; exit 1 on a mismatch.

    Example: vdto recompute site
    """
    from vdto.publication.site import recompute_site

    report = recompute_site(site)
    if report.ok:
        out.print(report.message)
        return
    err.print("[bold red]MISMATCH[/bold red] " + escape(report.message))
    raise typer.Exit(1)


network_app = typer.Typer(help="Supply networks and the US enforcement package.", no_args_is_help=True)
app.add_typer(network_app, name="network")


def _read_network_file(path: Path, nodes: Path | None, registry):
    from vdto.network import io as netio

    suffix = path.suffix.lower()
    if suffix == ".graphml":
        return netio.read_graphml(path, registry=registry)
    if suffix == ".gexf":
        return netio.read_gexf(path, registry=registry)
    return netio.read_edges_csv(path, nodes, registry=registry)


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
    from vdto.events.tabular import sha256_file
    from vdto.network.bacrim import load_bacrim2020
    from vdto.store import Store
    from vdto.store.network import save_network

    registry = _registry(db)
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
        save_network(store, net, origin)
    stats = net.stats()
    out.print(f"network from {origin['file']}: {stats['nodes']:,} nodes, {stats['edges']:,} edges")


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
    from vdto.network.io import write_graphml
    from vdto.network.synthetic import generate
    from vdto.store import Store
    from vdto.store.network import save_network

    for name, value in (
        ("--organizations", organizations),
        ("--wholesalers", wholesalers),
        ("--distributors", distributors),
    ):
        if value < 1:
            raise VdtoError(f"{name} must be at least 1 (got {value})", name, "give a positive number")
    net = generate(seed=seed, organizations=organizations, wholesalers=wholesalers, distributors=distributors)
    with Store(_db(db)) as store:
        save_network(store, net, {"generator": "vdto.network.synthetic", "seed": seed})
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

    from vdto.network.bacrim import load_bacrim2020
    from vdto.network.package import enforcement_package, substitution, succession_risk
    from vdto.scoring import score
    from vdto.store import Store
    from vdto.store.network import load_network

    with Store(_db(db), read_only=True) as store:
        registry = store.registry()
        org_id = registry.require(target)
        org_id = registry.top(org_id)
        net = load_network(store)
        scores = None
        if store.count("events"):
            s, e = _window_dates(start, end)
            scores = score(store, s, e, draws=1, seed=0, namespace=agency).table[["org", "score"]]
    pkg = enforcement_package(
        net, org_id, budget, budget_kind=budget_kind, solver=solver, time_limit=time_limit
    )
    subs = substitution(net, pkg, scores)
    heirs = succession_risk(load_bacrim2020(registry=registry), org_id, scores)
    selected = pkg.selected.copy()
    if "path" in selected:
        selected["path"] = selected["path"].map(lambda p: " > ".join(p) if isinstance(p, list | tuple) else p)
    if fmt == Format.json:
        emit_json(
            {
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
    summary = pkg.summary()
    emit(
        pd.DataFrame(list(summary.items()), columns=["", "value"]).astype(str),
        Format.table,
        title=f"Enforcement package against {escape(pkg.target_name)}",
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
    emit(selected[cols].head(top), Format.table, title=f"Cases selected ({pkg.method})")
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
    db: DbOpt = None,
) -> None:
    """Export the store's supply network for Gephi, Cytoscape or i2 Analyst's Notebook.

    Example: vdto network export network.gexf --format gexf
    """
    from vdto.network import io as netio
    from vdto.store import Store
    from vdto.store.network import load_network

    if fmt not in ("graphml", "gexf", "i2"):
        raise VdtoError(f"unknown format {fmt!r}", "--format", "use graphml, gexf or i2")
    with Store(_db(db), read_only=True) as store:
        net = load_network(store)
    if fmt == "i2":
        out_path.mkdir(parents=True, exist_ok=True)
        written = list(netio.write_link_chart(net, out_path))
    else:
        written = [(netio.write_graphml if fmt == "graphml" else netio.write_gexf)(net, out_path)]
    out.print("wrote " + ", ".join(str(p) for p in written))


@network_app.command("stats")
def network_stats(db: DbOpt = None, fmt: FormatOpt = Format.table) -> None:
    """Counts of the store's supply network by node and edge type.

    Example: vdto network stats --format json
    """
    import pandas as pd

    from vdto.store import Store
    from vdto.store.network import load_network

    with Store(_db(db), read_only=True) as store:
        net = load_network(store)
    emit(pd.DataFrame(list(net.stats().items()), columns=["what", "count"]), fmt, title="Supply network")


@app.command("schema")
def schema_cmd() -> None:
    """Print the canonical event schema (Markdown).

    Example: vdto schema > schema.md
    """
    from vdto.schema import schema_markdown

    sys.stdout.write(schema_markdown())


@app.command("demo")
def demo_cmd(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the demo store and outputs.")] = Path(
        "vdto-demo"
    ),
    quiet: QuietOpt = False,
) -> None:
    """Run the whole pipeline on the bundled real data (no network needed).

    Example: vdto demo --out /tmp/vdto-demo
    """
    from vdto.services.demo import run_demo

    run_demo(out_dir, quiet=quiet)


@app.command("version")
def version_cmd() -> None:
    """Print the vdto version.

    Example: vdto version
    """
    out.print(vdto.__version__)


# command groups kept in their own modules (they share their options through vdto.cli.options)
app.add_typer(regions_app, name="regions")
app.add_typer(routes_app, name="routes")
register_sim(app)
register_report(app)
register_api(app)


def main() -> None:
    """Entry point: run the app; user errors print one line and exit 2."""
    try:
        app()
    except VdtoError as exc:
        err.print("[bold red]error:[/bold red] " + escape(exc.line(spell)), markup=True, highlight=False)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":  # pragma: no cover
    main()
