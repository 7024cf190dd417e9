"""Writing files so that a failure leaves nothing half-written."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path


def atomic_write(path: str | Path, write: Callable[[Path], object], *, mode: int | None = None) -> Path:
    """Run ``write(tmp)`` on a temporary file next to ``path``, then move it into place.

    Parent folders are created; on any error the temporary file is removed and ``path`` is left
    as it was. ``mode`` sets the file's permissions (the temporary file is private otherwise).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_parquet(frame, meta: dict, path: str | Path) -> Path:
    """Write a data frame to Parquet with its provenance ``meta`` both as columns and in the
    file's schema metadata (key ``vdto``), atomically."""
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame.assign(**{k: str(v) for k, v in meta.items()}), preserve_index=False)
    table = table.replace_schema_metadata(
        {**(table.schema.metadata or {}), b"vdto": json.dumps(meta).encode()}
    )
    return atomic_write(path, lambda tmp: pq.write_table(table, tmp), mode=0o644)


def read_parquet(path: str | Path, *, fix: str, missing_fix: str | None = None, key: bytes = b"vdto",
                 mentions: tuple[str, ...] = ()):  # fmt: skip
    """A Parquet file's table and the JSON provenance under ``key`` in its schema metadata (None
    when there is none), with one-line errors (:class:`vdto.errors.InputFileError`) for a
    missing file (``missing_fix``, default ``fix``) and for one that is no Parquet (``fix``)."""
    import json

    import pyarrow.parquet as pq

    from vdto.errors import InputFileError

    path = Path(path)
    if not path.is_file():
        raise InputFileError("file not found", str(path), missing_fix or fix, mentions=mentions)
    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises several types for a file that is not Parquet
        raise InputFileError(
            f"not a Parquet file ({type(exc).__name__})", str(path), fix, mentions=mentions
        ) from None
    raw = (table.schema.metadata or {}).get(key)
    return table, (json.loads(raw) if raw is not None else None)


__all__ = ["atomic_write", "read_parquet", "write_parquet"]


#: What a spreadsheet takes for the start of a formula (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


#: What a provenance column's name starts with in a CSV, so it never takes a data column's place
#: (the window's ``events`` total beside each organization's ``events``).
META_PREFIX = "meta_"


def with_meta(frame, meta: dict):
    """``frame`` with its provenance as constant ``meta_*`` columns after the data (lists and
    dicts as JSON): how a CSV, which has no header block, carries where its numbers came from.

    >>> import pandas as pd
    >>> with_meta(pd.DataFrame({"org": ["cjng"], "events": [699.9]}), {"events": 2047}).columns.tolist()
    ['org', 'events', 'meta_events']
    """
    import json

    flat = {
        META_PREFIX + k: json.dumps(v, default=str) if isinstance(v, list | dict) else v
        for k, v in meta.items()
    }
    return frame.assign(**flat)


def safe_cell(value: object) -> object:
    """A text cell that a spreadsheet would run as a formula, neutralised with a leading ``'``
    (OWASP's advice); other values as they are.

    >>> safe_cell('=HYPERLINK("http://x")'), safe_cell("Sinaloa"), safe_cell(-3)
    ('\\'=HYPERLINK("http://x")', 'Sinaloa', -3)
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_safe(frame):
    """A copy of ``frame`` whose text cells are :func:`safe_cell` (numbers stay numbers): every
    CSV vdto writes goes through it."""
    import pandas as pd

    out = frame.copy()
    for c in out.columns:
        col = out[c]
        if col.dtype == object or pd.api.types.is_string_dtype(col):
            out[c] = col.map(safe_cell, na_action="ignore")
    return out


def replace_folder(tmp: Path, out: Path, replace: bool) -> None:
    """Move the folder ``tmp`` to ``out``; with ``replace``, the folder at ``out`` is swapped out
    and removed, and put back if the move fails."""
    if not replace:
        if out.exists():
            out.rmdir()  # empty (checked); os.replace over a directory is not portable
        os.replace(tmp, out)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=out.parent))
    old.rmdir()
    os.replace(out, old)
    try:
        os.replace(tmp, out)
    except OSError:
        os.replace(old, out)
        raise
    shutil.rmtree(old, ignore_errors=True)
