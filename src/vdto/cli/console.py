"""Terminal output: tables, CSV and JSON for every listing, and the one-line error format."""

from __future__ import annotations

import itertools
import json
import sys
import time
from enum import StrEnum
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:  # pandas loads only when something is printed
    import pandas as pd

# piped output is not squeezed into 80 columns
out = Console(highlight=False, soft_wrap=False, width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, highlight=False, soft_wrap=True)


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def _cell(v: object, column: str = "") -> str:
    from vdto.render.fmt import cell

    return cell(v, column)


def emit(frame: pd.DataFrame, fmt: Format = Format.table, title: str | None = None) -> None:
    """Print a frame as a rich table, CSV or JSON (records) on standard output."""
    import pandas as pd

    if fmt == Format.csv:
        from vdto.files import csv_safe

        sys.stdout.write(csv_safe(frame).to_csv(index=False))
    elif fmt == Format.json:
        from vdto.render.jsonout import default, records

        sys.stdout.write(json.dumps(records(frame), ensure_ascii=False, default=default) + "\n")
    else:
        # data never becomes markup: a name like "[/bold]" or "[link=...]" prints as it is
        table = Table(title=Text(title) if title else None, title_justify="left", header_style="bold")
        for c in frame.columns:
            numeric = pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
            table.add_column(Text(str(c)), justify="right" if numeric else "left")
        for row in frame.itertuples(index=False):
            table.add_row(*(Text(_cell(v, str(c))) for v, c in zip(row, frame.columns, strict=True)))
        out.print(table)


def emit_json(obj: object) -> None:
    from vdto.render.jsonout import default

    sys.stdout.write(json.dumps(obj, ensure_ascii=False, default=default) + "\n")


class Steps:
    """A progress bar over a job's named steps, and how long each took.

    ``with Steps("vdto demo", total) as steps:`` gives ``steps.step(label)``, the callback the
    services call before each step; afterwards ``steps.print_timings()`` prints the times.
    """

    def __init__(
        self, label: str, total: int, *, quiet: bool, console: Console = err, transient: bool = True
    ):
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.progress = Progress(
            SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
            console=console, transient=transient, disable=quiet,
        )  # fmt: skip
        self.label, self.total = label, total
        self.marks: list[tuple[str, float]] = []

    def __enter__(self) -> Steps:
        self.progress.__enter__()
        self.task = self.progress.add_task(self.label, total=self.total)
        return self

    def step(self, label: str) -> None:
        if self.marks:
            self.progress.advance(self.task)
        self.marks.append((label, time.perf_counter()))
        self.progress.update(self.task, description=label)

    def __exit__(self, kind, value, traceback) -> None:
        self.progress.advance(self.task)
        self.marks.append(("done", time.perf_counter()))
        self.progress.update(self.task, description="Done")
        self.progress.__exit__(kind, value, traceback)

    def print_timings(self) -> None:
        """How long each step took, one dim line each."""
        from rich.markup import escape

        for (label, t0), (_, t1) in itertools.pairwise(self.marks):
            out.print(f"[dim]{t1 - t0:6.1f} s  {escape(label)}[/dim]")


def print_headlines(headlines: dict[str, str], heading: str = "") -> None:
    """The report's findings, one plain sentence a bullet (under ``heading`` when given)."""
    from rich.markup import escape

    if heading:
        out.print(f"\n[bold]{escape(heading)}[/bold]")
    for line in headlines.values():
        out.print("• " + escape(line))
