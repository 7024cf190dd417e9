"""Options and helpers every command group shares (so a group's module can be imported on its
own, before or without :mod:`vdto.cli`)."""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from vdto.cli.console import Format, emit, out
from vdto.errors import VdtoError, spelling

DbOpt = Annotated[
    Path | None,
    typer.Option("--db", help="Store file (default: $VDTO_DB or ./vdto.duckdb).", show_default=False),
]
FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Print only errors.")]
WideOpt = Annotated[
    bool, typer.Option("--wide", "-w", help="Every column in the table (CSV and JSON always have them all).")
]


#: How the command line names a library parameter where it is not ``--name-with-dashes``.
OPTION_NAMES: dict[str, str] = {
    "start": "--from",
    "effect_window": "--window",
    "placebo_draws": "--placebos",
    "outcome_kind": "--outcome",
    "synth": "--synth",
    "end": "--to",
    "window": "--from/--to",
    "caribbean_change": "--caribbean-interdiction",
    "use_counts": "--no-counts",
    "report": "--report FILE",
    "signers": "--key",
    "cut": "--what-if",
    "outcome": "--dismantled/--withdrawn",
    "org": "ORG",
    "org_id": "ID",
    "alias": "ALIAS",
    "token_id": "TOKEN_ID",
    "sim_results": "--sim",
    "rubric_a": "the first RUBRIC argument",
    "rubric_b": "the second RUBRIC argument",
    "rubric_file": "the RUBRIC argument",
    # actions a fix may point to
    "register": "`vdto orgs add` or `vdto orgs alias`",
    "list_orgs": "`vdto orgs list`",
    "compare_out": "`vdto compare default --out results.parquet`",
}


#: A library parameter as the command line names it: ``draws`` -> ``--draws``; a scenario key
#: (``world.start_year``) stays as the scenario file writes it.
spell = spelling(OPTION_NAMES, lambda param: param if "." in param else "--" + param.replace("_", "-"))


def cli_actor() -> str:
    """How the audit log names whoever runs a command: ``cli:<user name>`` (``cli`` without one)."""
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # pragma: no cover - no user name
        return "cli"


def _db(db: Path | None) -> Path:
    """The store path: ``--db``, else $VDTO_DB, else ./vdto.duckdb."""
    from vdto.store import default_db_path

    return db if db is not None else default_db_path()


AgencyOpt = Annotated[
    str | None,
    typer.Option(
        "--agency",
        help="The agency whose data this is (needed when the store holds several: they are never summed).",
        show_default=False,
    ),
]


def _date(text: str | None, option: str):
    if text is None:
        return None
    for fmt in ("%Y-%m-%d", "%Y-%m", "%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise VdtoError(f"{text!r} is not a date", option, "write YYYY, YYYY-MM or YYYY-MM-DD")


RubricOpt = Annotated[
    str | None,
    typer.Option("--rubric", help="Rubric TOML file (default: the shipped default-v1).", show_default=False),
]
FromOpt = Annotated[str | None, typer.Option("--from", help="First day (YYYY, YYYY-MM or YYYY-MM-DD).")]
ToOpt = Annotated[str | None, typer.Option("--to", help="Last day (default: the last event in the store).")]
DrawsOpt = Annotated[int, typer.Option("--draws", help="Monte Carlo draws over who did each event.")]
SeedOpt = Annotated[int, typer.Option("--seed", help="Random seed (same seed, same output bytes).")]
StateOpt = Annotated[
    int | None,
    typer.Option(
        "--state",
        metavar="IMPORT_ID",
        help="Use the store as it was after this import (see `vdto imports`); default: as it is now.",
    ),
]
SourceOpt = Annotated[
    list[str] | None, typer.Option("--source", help="Only these sources (repeat the option); default all.")
]
OutOpt = Annotated[
    Path | None, typer.Option("--out", "-o", help="Write to this file instead of the terminal.")
]


def _window_dates(start: str | None, end: str | None):
    s, e = _date(start, "--from"), _date(end, "--to")
    if e is not None and end is not None:
        if len(end) == 4:
            e = e.replace(month=12, day=31)
        elif len(end) == 7:
            import calendar

            e = e.replace(day=calendar.monthrange(e.year, e.month)[1])
    return s, e


def _provenance(meta: dict) -> str:
    return (
        f"vdto {meta['vdto_version']} · agency {meta.get('agency', '—')} · rubric {meta['rubric']} sha256:{meta['rubric_sha256'][:16]} · "
        f"data sha256:{meta['data_sha256'][:16]}"
        + (f" (store state {meta['store_state']})" if "store_state" in meta else "")
        + f" · window {meta['from']} to {meta['to']} · "
        f"seed {meta['seed']} · {meta['draws']} draws · {meta['events']:,} events"
    )


def _write_frame(
    frame,
    meta: dict,
    fmt: str,
    out_path: Path | None,
    title: str,
    extra: dict | None = None,
    narrow: list[str] | None = None,
) -> None:
    """Print or write a result frame with its provenance, in the chosen format (a table shows
    the ``narrow`` columns when given; files hold them all)."""
    import json

    if fmt == "parquet":
        if out_path is None:
            raise VdtoError("parquet output needs a file", "--format parquet", "add --out scores.parquet")
        from vdto.files import write_parquet

        write_parquet(frame, meta, out_path)
        return
    if fmt == "json":
        from vdto.render.jsonout import default

        text = json.dumps(
            {
                "meta": meta,
                **(extra or {}),
                "rows": json_records(frame),
            },
            ensure_ascii=False,
            default=default,
        )
        _to(out_path, text + "\n")
    elif fmt == "csv":
        from vdto.files import csv_safe, with_meta

        _to(out_path, csv_safe(with_meta(frame, meta)).to_csv(index=False))
    else:
        if out_path is not None:
            raise VdtoError(
                "a table is for the terminal", "--out", "use --format csv, json or parquet with --out"
            )
        emit(frame, Format.table, title=title, narrow=narrow)
        out.print(f"[dim]{escape(_provenance(meta))}[/dim]")


def _to(path: Path | None, text: str) -> None:
    if path is None:
        sys.stdout.write(text)
    else:
        path.write_text(text, encoding="utf-8")


ScoreFormat = Annotated[str, typer.Option("--format", "-f", help="table, csv, json or parquet (with --out).")]


def _check_score_format(fmt: str) -> None:
    if fmt not in ("table", "csv", "json", "parquet"):
        raise VdtoError(f"unknown format {fmt!r}", "--format", "use table, csv, json or parquet")


#: ``--format`` where a command also has ``--out``: when not given, the file's suffix decides.
OutFormat = Annotated[
    str | None,
    typer.Option(
        "--format",
        "-f",
        help="table, csv, json or parquet; with --out and no --format, the file's suffix (.csv, .json, .parquet).",
        show_default=False,
    ),
]

#: The format an ``--out`` file's suffix stands for.
SUFFIX_FORMATS = {".csv": "csv", ".json": "json", ".parquet": "parquet"}


def _out_format(fmt: str | None, out_path: Path | None) -> str:
    """The output format: ``--format`` when given (checked), else the ``--out`` file's suffix,
    else a table for the terminal; a file whose suffix names no format is one line, never an
    empty write."""
    if fmt is not None:
        _check_score_format(fmt)
        return fmt
    if out_path is None:
        return "table"
    found = SUFFIX_FORMATS.get(out_path.suffix.lower())
    if found is None:
        raise VdtoError(
            f"cannot tell the format of {out_path.name} from its suffix ({out_path.suffix or 'none'})",
            "--out",
            "name the file .csv, .json or .parquet, or give --format csv, json or parquet",
        )
    return found


def json_records(frame) -> list:
    """A frame's rows as JSON-ready dicts (the one serialiser, :func:`vdto.render.jsonout.records`)."""
    from vdto.render.jsonout import records

    return records(frame)


class Options:
    """A bundle of options that several commands share, declared once (as sqlite-utils bundles
    click options): decorating a command adds them to its signature after its own options, and the
    command receives them as keyword arguments (``**options``).

    Examples
    --------
    >>> import typer
    >>> WINDOW = Options(start=(FromOpt, None), end=(ToOpt, None))
    >>> @WINDOW
    ... def command(top: int = 5, **options) -> dict:
    ...     return options
    >>> list(inspect.signature(command).parameters)
    ['top', 'start', 'end']
    """

    def __init__(self, **options: tuple[Any, Any]) -> None:
        self.parameters = [
            inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)
            for name, (annotation, default) in options.items()
        ]

    def __call__(self, command: Callable) -> Callable:
        # the command's own options, then the bundle's; its ``**options`` is left out of what the
        # parser sees (it receives the bundle)
        sig = inspect.signature(command, eval_str=True)
        own = [p for p in sig.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
        command.__signature__ = sig.replace(parameters=[*own, *self.parameters])  # type: ignore[attr-defined]
        return command


def parse_policies(text: str, param: str = "policies") -> list[str]:
    """Comma-separated policies (``none,volume,targeted+caribbean``), each checked and each once
    (the rule of :func:`vdto.services.simulations.check_policies`)."""
    from vdto.services.simulations import check_policies

    return check_policies([p for p in text.split(",") if p.strip()], param=param)


KeyOpt = Annotated[
    list[Path] | None,
    typer.Option("--key", help="An agency's private key file, on this machine (repeat to co-sign)."),
]
LedgerOpt = Annotated[Path | None, typer.Option("--ledger", help="The publication ledger (JSON Lines).")]
RequestOpt = Annotated[
    Path | None,
    typer.Option(
        "--request", help="Signing request: written when no --key or --sig is given; read with --sig."
    ),
]
SigOpt = Annotated[
    list[Path] | None,
    typer.Option("--sig", help="A detached signature file `vdto sign` wrote (repeat per agency)."),
]
