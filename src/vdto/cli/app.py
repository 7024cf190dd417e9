"""The ``vdto`` Typer app: every command group registered the same way, and the entry point.

Each module of :mod:`vdto.cli` holds one command group and a ``register(app)`` that adds it;
:func:`main` runs the app and turns a :class:`~vdto.errors.VdtoError` into one line on standard
error (parameters spelled as options, e.g. ``--draws``) and exit status 2.
"""

from __future__ import annotations

import sys

import typer
from rich.markup import escape

import vdto
from vdto.cli import (
    calibrate,
    demo,
    evaluate,
    events,
    ledger,
    network,
    persons,
    regions,
    report,
    rounds,
    routes,
    scoring,
    serve,
    sim,
)
from vdto.cli.console import err, out
from vdto.cli.options import spell
from vdto.errors import VdtoError

app = typer.Typer(
    name="vdto",
    help="Violence-targeted drug enforcement: import event data, score and rank organizations by violence.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode="rich",
)


#: The command groups, in the order ``vdto --help`` lists them.
GROUPS = (
    events,
    scoring,
    rounds,
    ledger,
    network,
    persons,
    regions,
    routes,
    sim,
    calibrate,
    evaluate,
    report,
    demo,
    serve,
)
for group in GROUPS:
    group.register(app)


@app.command("schema")
def schema_cmd() -> None:
    """Print the canonical event schema (Markdown).

    Example: vdto schema > schema.md
    """
    from vdto.schema import schema_markdown

    sys.stdout.write(schema_markdown())


@app.command("version")
def version_cmd() -> None:
    """Print the vdto version.

    Example: vdto version
    """
    out.print(vdto.__version__)


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
