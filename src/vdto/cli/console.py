"""Terminal output: tables, CSV and JSON for every listing, and the one-line error format."""

from __future__ import annotations

import json
import math
import sys
from enum import StrEnum
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

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
    import numpy as np
    import pandas as pd

    if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float | np.floating) and math.isnan(v)):
        return ""
    if isinstance(v, bool | np.bool_):
        return "yes" if v else "no"
    if isinstance(v, float | np.floating):
        if column.startswith("p_") or column.startswith("share"):
            return f"{v:.3f}"
        if column.startswith(("cut_", "rise_", "leader_cut")):
            return "" if not math.isfinite(v) else f"{v:.0%}"
        if not math.isfinite(v):
            return str(v)
        return f"{v:,.0f}" if v == int(v) else f"{v:,.1f}"
    if isinstance(v, int | np.integer):
        return f"{v:,}"
    return str(v)


def emit(frame: pd.DataFrame, fmt: Format = Format.table, title: str | None = None) -> None:
    """Print a frame as a rich table, CSV or JSON (records) on standard output."""
    import pandas as pd

    if fmt == Format.csv:
        sys.stdout.write(frame.to_csv(index=False))
    elif fmt == Format.json:
        from vdto.render.jsonout import default, records

        sys.stdout.write(json.dumps(records(frame), ensure_ascii=False, default=default) + "\n")
    else:
        table = Table(title=title, title_justify="left", header_style="bold")
        for c in frame.columns:
            numeric = pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
            table.add_column(str(c), justify="right" if numeric else "left")
        for row in frame.itertuples(index=False):
            table.add_row(*(_cell(v, str(c)) for v, c in zip(row, frame.columns, strict=True)))
        out.print(table)


def emit_json(obj: object) -> None:
    from vdto.render.jsonout import default

    sys.stdout.write(json.dumps(obj, ensure_ascii=False, default=default) + "\n")
