"""Terminal output: tables, CSV and JSON for every listing, and the one-line error format."""

from __future__ import annotations

import itertools
import json
import os
import sys
import time
from enum import StrEnum
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:  # pandas loads only when something is printed
    import pandas as pd

# a terminal's own width; piped output is not squeezed into 80 columns (160, or $VDTO_COLUMNS)
out = Console(
    highlight=False,
    soft_wrap=False,
    width=None if sys.stdout.isatty() else int(os.environ.get("VDTO_COLUMNS", "160") or 160),
)
err = Console(stderr=True, highlight=False, soft_wrap=True)


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def emit(
    frame: pd.DataFrame,
    fmt: Format = Format.table,
    title: str | None = None,
    *,
    narrow: list[str] | None = None,
    wide: bool = False,
) -> None:
    """Print a frame as a rich table, CSV or JSON (records) on standard output.

    CSV and JSON always hold every column and full values. A table fits the terminal: numbers are
    never cut (their columns keep their width), text is shortened with "…", and ``narrow`` (when
    given) is the set of columns shown unless ``wide``; a dim line then says how to see the rest.
    """

    if fmt == Format.csv:
        from vdto.files import csv_safe

        sys.stdout.write(csv_safe(frame).to_csv(index=False))
    elif fmt == Format.json:
        from vdto.render.jsonout import default, records

        sys.stdout.write(json.dumps(records(frame), ensure_ascii=False, default=default) + "\n")
    else:
        hidden = []
        if narrow is not None and not wide:
            hidden = [c for c in frame.columns if c not in narrow]
            frame = frame[[c for c in narrow if c in frame.columns]]
        table, dropped = table_of(frame, title)
        out.print(table)
        hidden = [*dropped, *hidden]
        if hidden:
            out.print(
                Text(
                    f"{len(hidden)} more columns ({', '.join(map(str, hidden))}): add --wide, or --format csv",
                    style="dim",
                )
            )


def fit_widths(
    numbers: dict[str, int], texts: dict[str, int], width: int, order: list[str] | None = None
) -> tuple[dict[str, int], list[str]]:
    """Column widths that fit ``width`` characters of a boxed table: numeric columns keep their
    natural width (a number is never cut), text columns share what is left (the widest shortened
    first, none below 6); columns that still do not fit are dropped from the right.

    ``numbers`` and ``texts`` map each column to its natural width; ``order`` is the table's
    (default: numbers, then texts). Returns the widths and the dropped columns.

    >>> fit_widths({"score": 7, "p_rank1": 7}, {"name": 31}, 80)[0]
    {'score': 7, 'p_rank1': 7, 'name': 31}
    >>> fit_widths({"score": 7, "p_rank1": 7}, {"name": 31}, 40)[0]
    {'score': 7, 'p_rank1': 7, 'name': 16}
    """
    order = list(order) if order is not None else list({**numbers, **texts})
    dropped: list[str] = []
    while order:
        nums = {c: numbers[c] for c in order if c in numbers}
        txts = {c: texts[c] for c in order if c in texts}
        room = width - (3 * len(order) + 1) - sum(nums.values())
        if room >= sum(min(6, w) for w in txts.values()):
            break
        dropped.insert(0, order.pop())
    nums = {c: numbers[c] for c in order if c in numbers}
    txts = {c: texts[c] for c in order if c in texts}
    cap = max(txts.values(), default=0)
    while cap > 6 and sum(min(w, cap) for w in txts.values()) > room:
        cap -= 1
    widths = {c: (nums[c] if c in nums else min(txts[c], cap)) for c in order}
    return widths, dropped


def table_of(
    frame: pd.DataFrame, title: str | None = None, width: int | None = None
) -> tuple[Table, list[str]]:
    """A frame as a Rich table that fits ``width`` (default: the terminal's) with no number cut
    (see :func:`fit_widths`); text ends in "…" where shortened. Data never becomes markup (a name
    like "[/bold]" prints as it is). Returns the table and the columns left out."""
    import pandas as pd

    from vdto.render.fmt import cell

    cells = {str(c): [cell(v, str(c)) for v in frame[c]] for c in frame.columns}
    numeric = {
        str(c): pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
        for c in frame.columns
    }
    # a long header over short numbers folds onto two lines rather than widen its column
    natural = {c: max([len(x) for x in cells[c]] + [min(len(c), 7) if numeric[c] else len(c)]) for c in cells}
    widths, dropped = fit_widths(
        {c: w for c, w in natural.items() if numeric[c]},
        {c: w for c, w in natural.items() if not numeric[c]},
        width or out.width,
        list(cells),
    )
    room = width or out.width
    table = Table(
        title=Text(title) if title else None,
        title_justify="left",
        header_style="bold",
        min_width=min(len(title or ""), room),  # the title on one line where it fits
    )
    shown = [c for c in cells if c in widths]
    for c in shown:
        table.add_column(
            Text(c, overflow="fold") if numeric[c] else Text(c, overflow="ellipsis", no_wrap=True),
            justify="right" if numeric[c] else "left",
            no_wrap=not numeric[c],  # a numeric column's long header folds (its numbers fit its width)
            overflow="ellipsis",
            width=widths[c],
        )
    for i in range(len(frame)):
        table.add_row(*(Text(cells[c][i]) for c in shown))
    return table, dropped


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
