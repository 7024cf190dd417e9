"""``vdto persons``: focused deterrence on people, for the owning agency's analysts only.

Every command that reads or changes person records leaves rows in the store's audit log
(``vdto audit``): who ran it (``cli:<user>``), what, and the outcome. Nothing here is ever
published: not in the scorecard, the ledger, the site or any public endpoint.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from vdto.cli.console import Format, emit, emit_json, out
from vdto.cli.options import (
    AgencyOpt,
    DbOpt,
    DrawsOpt,
    FromOpt,
    Options,
    RubricOpt,
    SeedOpt,
    ToOpt,
    _db,
    _window_dates,
    cli_actor,
)

persons_app = typer.Typer(
    help="Focused deterrence on people: cells and persons of the target, kept private (analysts of the owning agency).",
    no_args_is_help=True,
)

KeyFileOpt = Annotated[
    Path,
    typer.Option("--key", help="The agency's person key file (`vdto persons key` makes one); never stored."),
]
TargetOpt = Annotated[
    str | None,
    typer.Option(
        "--target", help="The organization (any name); default: the open round's target, else the top-ranked."
    ),
]
RegionOpt = Annotated[
    str | None,
    typer.Option(
        "--region", help="Rank within a region instead: INEGI state (14) or municipality (14039) code."
    ),
]
TopOpt = Annotated[int, typer.Option("--top", help="How many persons and cells to list.")]
ListFormat = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]

SCOPE = Options(
    target=(TargetOpt, None),
    region=(RegionOpt, None),
    start=(FromOpt, None),
    end=(ToOpt, None),
    draws=(DrawsOpt, 2000),
    seed=(SeedOpt, 7),
    rubric=(RubricOpt, None),
    agency=(AgencyOpt, None),
    db=(DbOpt, None),
)


def _open(db: Path | None, command: str, agency: str | None):
    from vdto.errors import VdtoError
    from vdto.services.persons import StoreTrail
    from vdto.store import Store

    path = _db(db)
    if not path.exists():  # a mistyped --db would otherwise leave a new, empty store behind
        raise VdtoError(
            f"no store at {path}", "", "import the events first, or give the path of an existing store"
        )
    store = Store(path)
    return store, StoreTrail(store, cli_actor(), command, agency)


def _scope(options: dict):
    from vdto.scoring import load_rubric
    from vdto.services.persons import Scope

    start, end = _window_dates(options["start"], options["end"])
    rubric = load_rubric(options["rubric"]) if options["rubric"] else None
    return Scope(start=start, end=end, target=options["target"], region=options["region"], draws=options["draws"],
                 seed=options["seed"], rubric=rubric)  # fmt: skip


def _provenance(meta: dict) -> str:
    return (
        f"vdto {meta.get('vdto_version')} · agency {meta.get('agency')} · target {meta.get('target')} "
        f"({meta.get('target_chosen_by')}) · window {meta.get('from')} to {meta.get('to')} · "
        f"data sha256:{str(meta.get('data_sha256'))[:16]} · records sha256:{str(meta.get('records_sha256'))[:16]} · "
        f"seed {meta.get('seed')} · {meta.get('draws')} draws · scores in rubric points, not deaths"
    )


@persons_app.command("key")
def persons_key(
    out_path: Annotated[
        Path, typer.Option("--out", "-o", help="Where to write the new key (never overwritten).")
    ],
) -> None:
    """Make a new pseudonymisation key for an agency (32 random bytes, readable by the owner only).

    Keep it with the agency, apart from the store: without it nobody can tell which identifier a
    pseudonym stands for, and with another key the same person gets another pseudonym.

    Example: vdto persons key --out mx-persons.key
    """
    from vdto.services.persons import write_key_file

    fingerprint = write_key_file(out_path)
    out.print(f"wrote a new person key to {escape(str(out_path))} (fingerprint {fingerprint})")


@persons_app.command("import")
def persons_import(
    folder: Annotated[
        Path, typer.Argument(help="Folder with cells.csv, persons.csv, links.csv [, ties.csv].")
    ],
    key: KeyFileOpt,
    keep_identities: Annotated[
        bool,
        typer.Option(
            "--keep-identities", help="Also store raw identifiers and names (recorded with the import)."
        ),
    ] = False,
    retention_days: Annotated[
        int | None,
        typer.Option(
            "--retention-days", help="Days records are kept after a person's last activity (default 1825)."
        ),
    ] = None,
    agency: AgencyOpt = None,
    db: DbOpt = None,
) -> None:
    """Replace the agency's person records with its case files (all or nothing; docs/persons.md
    gives the format). Identifiers become pseudonyms with the key; names are dropped unless
    --keep-identities.

    Example: vdto persons import case-files/ --key mx-persons.key --agency mx
    """
    from vdto.persons.keys import read_key
    from vdto.services.persons import import_case_files

    secret = read_key(key)
    store, trail = _open(db, "import", agency)
    with store:
        summary = import_case_files(store, folder, key=secret, trail=trail, agency=agency,
                                    keep_identities=keep_identities, retention_days=retention_days)  # fmt: skip
    for line in summary.lines():
        out.print(escape(line))


PERSON_COLUMNS = ["rank", "person", "cells", "role", "events", "score", "lo90", "hi90", "p_rank1", "named"]
CELL_COLUMNS = ["rank", "cell", "org", "members", "events", "score", "lo90", "hi90", "p_rank1", "named"]


def _show_scores(view, fmt: Format, top: int | None) -> None:
    s = view.scores
    persons = s.persons if top is None else s.persons.head(top)
    cells = s.cells if top is None else s.cells.head(top)
    if fmt == Format.json:
        from vdto.cli.options import json_records

        emit_json({"meta": view.meta, "decisions": s.decisions, "excluded_links": s.excluded,
                   "cells": json_records(cells), "persons": json_records(persons)})  # fmt: skip
        return
    if fmt == Format.csv:
        emit(persons.assign(**{k: v for k, v in view.meta.items() if v is not None}), Format.csv)
        return
    title = f"{s.target.label or s.target.kind} ({view.chosen})"
    emit(cells, Format.table, f"Cells of {title}", narrow=CELL_COLUMNS)
    emit(persons, Format.table, f"Persons of {title}", narrow=PERSON_COLUMNS)
    for group, said in s.decisions.items():
        out.print(f"{escape(group)}: {escape(said)}")
    gone = {k: v for k, v in s.excluded.items() if v}
    if gone:
        out.print(
            "[dim]links that cannot count: "
            + escape(", ".join(f"{v:,} {k}" for k, v in gone.items()))
            + "[/dim]"
        )
    out.print(f"[dim]{escape(_provenance(view.meta))}[/dim]")


@persons_app.command("score")
@SCOPE
def persons_score(fmt: ListFormat = Format.table, top: TopOpt = 50, **options) -> None:
    """Score the cells and persons of the target: expected score (rubric points), 90% interval,
    P(rank 1) within the target, and whether the top one can be named (audited).

    Example: vdto persons score --target CJNG --from 2021 --to 2021
    """
    from vdto.services.persons import score

    store, trail = _open(options["db"], "score", options["agency"])
    with store:
        view = score(store, _scope(options), trail=trail, agency=options["agency"])
    _show_scores(view, fmt, top)


@persons_app.command("list")
@SCOPE
def persons_list(fmt: ListFormat = Format.table, top: TopOpt = 20, **options) -> None:
    """The focused-deterrence list for the target: the top cells and persons with their evidence
    (audited; never published).

    Example: vdto persons list --from 2021 --to 2021 --top 10
    """
    from vdto.services.persons import focused_list

    store, trail = _open(options["db"], "list", options["agency"])
    with store:
        listing = focused_list(store, _scope(options), trail=trail, agency=options["agency"], top=top)
    if fmt == Format.json:
        from vdto.cli.options import json_records

        emit_json({"meta": listing.view.meta, "decisions": listing.view.scores.decisions,
                   "cells": json_records(listing.cells), "persons": json_records(listing.persons),
                   "evidence": json_records(listing.evidence)})  # fmt: skip
        return
    _show_scores(listing.view, fmt, top)
    if fmt == Format.table:
        out.print(f"[dim]{len(listing.evidence):,} links of evidence behind the listed persons: "
                  "`vdto persons export` writes them for case management[/dim]")  # fmt: skip


@persons_app.command("audit")
@SCOPE
def persons_audit(fmt: ListFormat = Format.table, top: TopOpt = 15, **options) -> None:
    """The group audit of the target: its cells, the co-offending network (components, brokers,
    centrality), the cells' ties, alliances and rivalries, and who would likely step in for each
    leader (audited).

    Example: vdto persons audit --target CJNG --from 2021 --to 2021
    """
    from vdto.services.persons import group_audit

    store, trail = _open(options["db"], "audit", options["agency"])
    with store:
        ga = group_audit(store, _scope(options), trail=trail, agency=options["agency"])
    st = ga.structure
    if fmt == Format.json:
        from vdto.cli.options import json_records

        emit_json({"meta": ga.view.meta, "cells": json_records(ga.view.scores.cells),
                   "components": json_records(st.components), "brokers": json_records(st.brokers.head(top)),
                   "people": json_records(st.people), "cell_ties": json_records(ga.cell_ties),
                   "succession": json_records(ga.succession), "allies": ga.allies, "rivals": ga.rivals})  # fmt: skip
        return
    if fmt == Format.csv:
        emit(st.people, Format.csv)
        return
    label = ga.view.scores.target.label
    emit(ga.view.scores.cells.head(top), Format.table, f"Cells of {label}", narrow=CELL_COLUMNS)
    emit(st.components.head(top), Format.table, "Co-offending components")
    emit(st.brokers.head(top), Format.table, "Brokers")
    emit(ga.cell_ties.head(top), Format.table, "Ties between cells")
    emit(ga.succession, Format.table, "Who would likely step in if a leader is removed")
    if ga.allies or ga.rivals:
        out.print(
            escape(
                f"BACRIM 2020: allies {', '.join(ga.allies) or 'none'}; rivals {', '.join(ga.rivals) or 'none'}"
            )
        )
    out.print(f"[dim]{escape(_provenance(ga.view.meta))}[/dim]")


@persons_app.command("export")
@SCOPE
def persons_export(
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Folder to write the files to.")],
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="csv (persons, cells, evidence) or i2 (entities, links).")
    ] = "csv",
    top: TopOpt = 20,
    **options,
) -> None:
    """Export the focused-deterrence list for case management (audited; files readable by the owner only).

    Example: vdto persons export --out list/ --format i2
    """
    from vdto.services.persons import export_list

    store, trail = _open(options["db"], "export", options["agency"])
    with store:
        paths = export_list(
            store, _scope(options), out_dir, trail=trail, agency=options["agency"], format=fmt, top=top
        )
    for p in paths:
        out.print(f"wrote {escape(str(p))}")


@persons_app.command("forget")
def persons_forget(
    pseudonym: Annotated[
        str | None, typer.Option("--pseudonym", help="The person's pseudonym (p_...).")
    ] = None,
    identifier: Annotated[
        bool,
        typer.Option("--identifier", help="Read the person's identifier from standard input (needs --key)."),
    ] = False,
    key: Annotated[
        Path | None, typer.Option("--key", help="The agency's key file (with --identifier).")
    ] = None,
    expired: Annotated[
        bool, typer.Option("--expired", help="Delete every person past the retention period.")
    ] = False,
    agency: AgencyOpt = None,
    db: DbOpt = None,
) -> None:
    """Delete a person's records from every table (audited), on request or past retention; the
    pseudonym stays on the forgotten list so a later import leaves the person out.

    The identifier is read from standard input, so it never appears in the shell's history or the
    process list.

    Example: echo "AP-2021-0042" | vdto persons forget --identifier --key mx-persons.key
    """
    import sys

    from vdto.persons.keys import read_key
    from vdto.services.persons import forget

    raw = None
    if identifier:
        raw = sys.stdin.readline().strip()
        if not raw:
            from vdto.errors import VdtoError

            raise VdtoError(
                "no identifier on standard input",
                "--identifier",
                "pipe the identifier in, e.g. echo ID | vdto persons forget --identifier --key FILE",
            )
    secret = read_key(key) if key is not None else None
    store, trail = _open(db, "forget", agency)
    with store:
        summary = forget(
            store,
            trail=trail,
            agency=agency,
            pseudonym=pseudonym,
            identifier=raw,
            key=secret,
            expired=expired,
        )
    out.print(escape(summary.line()))


@persons_app.command("generate")
def persons_generate(
    out_dir: Annotated[
        Path, typer.Option("--out", "-o", help="Folder to write the synthetic case files to.")
    ],
    persons: Annotated[
        int | None, typer.Option("--persons", help="About how many persons (default: from the events).")
    ] = None,
    start: FromOpt = None,
    end: ToOpt = None,
    seed: SeedOpt = 7,
    agency: AgencyOpt = None,
    db: DbOpt = None,
) -> None:
    """Write SYNTHETIC case files linked to the store's real events (for trying the commands and
    for tests; real person-level data is not public). docs/persons.md lists the assumptions.

    Example: vdto persons generate --out case-files/ --from 2021 --to 2021
    """
    from vdto.services.persons import generate_case_files

    s, e = _window_dates(start, end)
    from vdto.store import Store

    with Store(_db(db), read_only=True) as store:
        case = generate_case_files(store, s, e, seed=seed, persons=persons, agency=agency)
    paths = case.write(out_dir)
    out.print(f"wrote synthetic case files ({len(case.persons):,} memberships, {len(case.links):,} links) to {escape(str(out_dir))}: "
              + ", ".join(p.name for p in paths))  # fmt: skip


def register(app: typer.Typer) -> None:
    """Add ``persons`` to the ``vdto`` app."""
    app.add_typer(persons_app, name="persons")
