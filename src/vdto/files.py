"""Writing files so that a failure leaves nothing half-written."""

from __future__ import annotations

import os
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


__all__ = ["atomic_write", "write_parquet"]
