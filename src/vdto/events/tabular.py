"""Reading tabular files into frames of strings, and vectorized cell checks with exact locations.

Every importer reads through :func:`read_table`, which turns file-level trouble (missing file,
empty file, binary data, wrong encoding, ragged rows, missing columns) into one
:class:`~vdto.errors.InputFileError` naming the file and, where there is one, the row. Cell
values are then parsed column by column with :class:`Problems` recording, for every bad cell,
its row (the header is row 1), its 1-based column and how to fix it.
"""

from __future__ import annotations

import bz2
import codecs
import contextlib
import contextvars
import csv
import gzip
import hashlib
import io
import lzma
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from vdto.errors import InputFileError, RowProblem

ROW = "_row"  # column holding each record's row number in the file
INT_MAX = 2**31 - 1  # counts are stored as 32-bit integers


def sha256_file(path: str | Path) -> str:
    """SHA-256 of a file's bytes (as stored, compressed or not)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


#: The most bytes a compressed file may expand to (a 1 MB gzip can hold 300 MB of zeros); the
#: API lowers it for uploads with :func:`decompressed_limit`.
DECOMPRESSED_LIMIT: contextvars.ContextVar[int] = contextvars.ContextVar(
    "decompressed_limit", default=8 << 30
)


@contextlib.contextmanager
def decompressed_limit(limit: int) -> Iterator[None]:
    """Within the block, compressed files that expand beyond ``limit`` bytes are refused while
    they are read (never held whole)."""
    token = DECOMPRESSED_LIMIT.set(int(limit))
    try:
        yield
    finally:
        DECOMPRESSED_LIMIT.reset(token)


def _read_capped(fh: IO[bytes], path: Path) -> bytes:
    limit = DECOMPRESSED_LIMIT.get()
    parts, total = [], 0
    while block := fh.read(1 << 20):
        total += len(block)
        if total > limit:
            raise InputFileError(
                f"expands to more than {limit >> 20:,} MiB once decompressed", str(path),
                "send a smaller file, or split it (the limit is the server's: its operator can raise it)",
            )  # fmt: skip
        parts.append(block)
    return b"".join(parts)


def _read_bytes(path: Path) -> bytes:
    if not path.exists():
        raise InputFileError("file not found", str(path), "check the path")
    if path.is_dir():
        raise InputFileError("is a folder, not a file", str(path), "pass a file")
    opener: Callable[..., IO[bytes]] = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}.get(
        path.suffix.lower(), open
    )  # type: ignore[assignment]
    try:
        with opener(path, "rb") as fh:
            return fh.read() if opener is open else _read_capped(fh, path)
    except (OSError, EOFError, lzma.LZMAError) as exc:
        kind = path.suffix.lstrip(".")
        raise InputFileError(
            f"cannot decompress ({exc})",
            str(path),
            f"check that the file really is {kind}-compressed, or rename it",
        ) from None


def _decode(raw: bytes, path: Path, encoding: str) -> bytes:
    """Return UTF-8 bytes (without BOM) or raise with the row of the first bad byte."""
    wide = encoding.lower().replace("_", "-").startswith(("utf-16", "utf-32"))  # NUL bytes are text there
    if not wide and b"\x00" in raw[:65536]:
        pos = raw.index(b"\x00")
        row = raw.count(b"\n", 0, pos) + 1
        raise InputFileError(
            f"binary data (a NUL byte at byte {pos}), not a CSV text file",
            f"{path}:{row}",
            "export the data as CSV text (or Parquet with a column mapping); a UTF-16 file can be read "
            "with {encoding} utf-16",
            mentions=("encoding",),
        )
    enc = encoding.lower().replace("_", "-")
    utf8 = enc in ("utf-8", "utf8")
    try:
        decoder = codecs.getincrementaldecoder("utf-8" if utf8 else encoding)()
    except LookupError:
        raise InputFileError(
            f"unknown encoding {encoding!r}", str(path), "use utf-8, latin-1 or cp1252"
        ) from None
    chunk, offset, parts = 1 << 22, 0, []
    try:
        # decode in slices so that checking a large UTF-8 file never holds a second copy of it
        while offset < len(raw):
            text = decoder.decode(raw[offset : offset + chunk], final=offset + chunk >= len(raw))
            if not utf8:
                parts.append(text.encode("utf-8"))
            offset += chunk
    except UnicodeDecodeError as exc:
        pos = max(0, offset + exc.start - len(getattr(decoder, "buffer", b"")))
        row = raw.count(b"\n", 0, pos) + 1
        col = pos - (raw.rfind(b"\n", 0, pos) + 1) + 1
        bad = raw[pos : pos + 1].hex().upper()
        raise InputFileError(
            f"not valid {encoding} (byte 0x{bad} at character {col})",
            f"{path}:{row}",
            "re-save the file as UTF-8, or give its encoding with {encoding} (e.g. latin-1)",
            mentions=("encoding",),
        ) from None
    if utf8:
        return raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw
    return b"".join(parts)


def _header(data: bytes, delimiter: str, path: Path) -> list[str]:
    first = data.split(b"\n", 1)[0].decode("utf-8").rstrip("\r")
    if "\r" in first:
        raise InputFileError(
            "a carriage return inside the header line (old Mac line endings?)",
            f"{path}:1",
            "re-save the file with ordinary line endings (LF or CRLF)",
        )
    try:
        return next(csv.reader([first], delimiter=delimiter))
    except csv.Error as exc:
        raise InputFileError(
            f"header line is not valid CSV ({exc})", f"{path}:1", "check the header's quoting"
        ) from None


def _find_ragged(data: bytes, ncols: int, delimiter: str) -> tuple[int, int]:
    reader = csv.reader(io.StringIO(data.decode("utf-8"), newline=""), delimiter=delimiter)
    limit = csv.field_size_limit()
    csv.field_size_limit(1 << 30)
    try:
        for i, rec in enumerate(reader):
            if rec and len(rec) != ncols:
                return i + 1, len(rec)
    except csv.Error:
        return reader.line_num, -1
    finally:
        csv.field_size_limit(limit)
    return 0, 0


def read_csv(path: str | Path, *, encoding: str = "utf-8", delimiter: str = ",") -> pd.DataFrame:
    """Read a CSV (plain, .gz, .bz2 or .xz) as strings; empty cells are ``""``.

    The frame gets a :data:`ROW` column: the record's row in the file, the header being row 1.
    """
    path = Path(path)
    raw = _read_bytes(path)
    if not raw.strip():
        raise InputFileError(
            "file is empty",
            str(path),
            "export the data again with a header row and at least one row",
        )
    data = _decode(raw, path, encoding)
    header = _header(data, delimiter, path)
    names = [h.strip() for h in header]
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise InputFileError(
            f"column {dup!r} appears twice in the header", f"{path}:1", "rename one of the columns"
        )
    try:
        table = pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid as exc:
        row, found = _find_ragged(data, len(names), delimiter)
        if row:
            what = (
                f"row has {found} fields but the header has {len(names)}"
                if found >= 0
                else "row is not valid CSV"
            )
            raise InputFileError(
                what, f"{path}:{row}", "check quoting and the delimiter on that row"
            ) from None
        raise InputFileError(
            f"not a readable CSV file ({str(exc).splitlines()[0]})",
            str(path),
            "check that it is CSV text",
        ) from None
    frame = table.to_pandas()
    frame[ROW] = np.arange(2, len(frame) + 2)
    return frame


def read_parquet(path: str | Path) -> pd.DataFrame:
    """Read a Parquet file with every column as strings; :data:`ROW` counts records from 1."""
    import pyarrow.parquet as pq

    path = Path(path)
    if not path.exists():
        raise InputFileError("file not found", str(path), "check the path")
    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputFileError(
            f"not a readable Parquet file ({str(exc).splitlines()[0]})",
            str(path),
            "check the file, or import it as CSV",
        ) from None
    cols, name = {}, None
    try:
        for name in table.column_names:
            col = table.column(name)
            if pa.types.is_timestamp(col.type) or pa.types.is_date(col.type):
                col = col.cast(pa.date32())
            cols[name] = col.cast(pa.string()).fill_null("")
            cols[name].validate(full=True)  # string data must be valid UTF-8
        frame = pa.table(cols).to_pandas()
    except (pa.ArrowException, UnicodeDecodeError) as exc:
        raise InputFileError(
            f"{'column ' + repr(name) if name else 'the column names'} cannot be read as text"
            f" ({str(exc).splitlines()[0][:120]})",
            str(path),
            "store text columns as UTF-8 strings",
        ) from None
    frame[ROW] = np.arange(1, len(frame) + 1)
    return frame


def require_columns(frame: pd.DataFrame, required: Iterable[str], path: str | Path, what: str) -> None:
    """Raise one error naming the first missing column and listing what the header has."""
    have = [c for c in frame.columns if c != ROW]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        shown = ", ".join(have[:12]) + (" …" if len(have) > 12 else "")
        raise InputFileError(
            f"missing column {missing[0]!r}"
            + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""),
            f"{path}:1",
            f"{what} files need the columns {', '.join(required)}; this header has: {shown}",
        )
    if frame.empty:
        raise InputFileError(
            "file has a header but no rows", str(path), "export the data again with its rows"
        )


@dataclass
class Problems:
    """Bad cells found while parsing a frame, located by row and column.

    ``columns`` is the file's header (for 1-based column numbers).
    """

    rows: np.ndarray
    columns: Sequence[str]
    items: list[tuple[np.ndarray, str, np.ndarray, str, str]] = field(default_factory=list)

    def add(
        self,
        mask: np.ndarray | pd.Series,
        column: str,
        values: pd.Series | np.ndarray,
        message: str,
        fix: str,
    ) -> None:
        """Record ``message`` for every row where ``mask`` is true."""
        mask = np.asarray(mask, dtype=bool)
        if mask.any():
            vals = np.asarray(values, dtype=object)[mask]
            self.items.append((self.rows[mask], column, vals, message, fix))

    def add_rows(self, rows: np.ndarray, column: str, values, message: str, fix: str) -> None:
        """Record ``message`` for the file rows ``rows`` (a subset of :attr:`rows`; the first
        value given for a row is the one shown)."""
        if len(rows) == 0:
            return
        first = pd.Series(np.asarray(values, dtype=object), index=np.asarray(rows))
        first = first[~first.index.duplicated()]
        mask = np.isin(self.rows, first.index.to_numpy())
        self.add(mask, column, first.reindex(self.rows).to_numpy(dtype=object), message, fix)

    def bad_mask(self) -> np.ndarray:
        bad = np.zeros(len(self.rows), dtype=bool)
        if self.items:
            lookup = pd.Index(self.rows)
            for rows, *_ in self.items:
                bad[lookup.get_indexer(rows)] = True
        return bad

    def __bool__(self) -> bool:
        return bool(self.items)

    def count(self) -> int:
        return sum(len(r) for r, *_ in self.items)

    def to_list(self) -> list[RowProblem]:
        out = []
        for rows, column, vals, message, fix in self.items:
            colno = list(self.columns).index(column) + 1 if column in self.columns else 0
            for r, v in zip(rows, vals, strict=True):
                out.append(RowProblem(int(r), colno, column, "" if v is None else str(v), message, fix))
        out.sort(key=lambda p: (p.row, p.column))
        return out


def blank(series: pd.Series) -> np.ndarray:
    """True where a string cell is empty or whitespace (or missing)."""
    s = series.astype("string").fillna("")
    return (s.str.strip() == "").to_numpy()


def parse_number(
    series: pd.Series,
    column: str,
    problems: Problems,
    *,
    integer: bool,
    minimum: float | None = None,
    required: bool = True,
) -> np.ndarray:
    """Parse numbers; empty cells give NaN (an error when ``required``)."""
    text = series.astype("string").fillna("").str.strip()
    empty = (text == "").to_numpy()
    values = pd.to_numeric(text.mask(empty, None), errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    bad = ~empty & ~np.isfinite(values)
    problems.add(bad, column, series, "is not a number", f"write {column} as a plain number (e.g. 3)")
    if required:
        problems.add(empty, column, series, "is empty", f"fill in {column}")
    ok = np.isfinite(values)
    if integer:
        problems.add(
            ok & (np.abs(values) > INT_MAX),
            column,
            series,
            f"is too large (above {INT_MAX:,})",
            f"check {column}: counts are whole numbers up to {INT_MAX:,}",
        )
        problems.add(
            ok & (values != np.round(values)),
            column,
            series,
            "is not a whole number",
            f"write {column} as a whole number",
        )
    if minimum is not None:
        problems.add(
            ok & (values < minimum),
            column,
            series,
            f"is below {minimum:g}",
            f"{column} must be at least {minimum:g}",
        )
    return values


def _naive(values: pd.Series) -> pd.Series:
    """Dates with a UTC offset keep their local (wall-clock) day."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return values.dt.tz_localize(None)
    return values


def _dates_one_by_one(text: pd.Series, fmt: str) -> pd.Series:
    table = {}
    for value in text.dropna().unique():
        try:
            stamp = pd.to_datetime(value, format=fmt)
            table[value] = stamp.tz_localize(None) if stamp.tzinfo is not None else stamp
        except (ValueError, TypeError, OverflowError):
            table[value] = pd.NaT
    return pd.Series(
        pd.to_datetime(text.map(table).to_numpy(dtype=object), errors="coerce"), index=text.index
    )


def _to_dates(text: pd.Series, fmt: str | None) -> pd.Series:
    try:
        return _naive(pd.to_datetime(text, errors="coerce", format=fmt or "ISO8601"))
    except (ValueError, TypeError, OverflowError):  # e.g. mixed UTC offsets in one column
        return _dates_one_by_one(text, fmt or "ISO8601")


def parse_date(
    series: pd.Series,
    column: str,
    problems: Problems,
    *,
    fmt: str | None = None,
    required: bool = True,
) -> pd.Series:
    """Parse dates (ISO 8601 unless ``fmt`` is given); bad cells become NaT and a problem."""
    text = series.astype("string").fillna("").str.strip()
    empty = (text == "").to_numpy()
    parsed = _to_dates(text.mask(empty, None), fmt)
    retry = ~empty & parsed.isna().to_numpy()
    if fmt is None and retry.any():
        # values ISO 8601 rejects may still be plain dates ("15 January 2023"): parse those one by one
        parsed = parsed.copy()
        parsed[retry] = _dates_one_by_one(text[retry], "mixed").to_numpy()
    bad = ~empty & parsed.isna().to_numpy()
    expected = fmt or "YYYY-MM-DD"
    problems.add(
        bad,
        column,
        series,
        "is not a date",
        f"write dates as {expected} (or set date_format in the mapping)",
    )
    if required:
        problems.add(empty, column, series, "is empty", f"fill in {column}")
    return parsed.dt.normalize()


def read_id_list(
    path: str | Path,
    id_column: str,
    stamp_column: str | None = None,
    *,
    encoding: str = "utf-8",
    what: str = "deleted-events list",
    stamp_required: bool = False,
) -> tuple[pd.DataFrame, int, list[RowProblem]]:
    """Read a list of event ids (a source's deleted events): the frame (ROW, source_id, stamp:
    when each was deleted, NaN when not given), the rows read and the row problems (an empty
    id, a stamp that is not a number)."""
    frame = read_csv(path, encoding=encoding)
    require_columns(frame, [id_column] + ([stamp_column] if stamp_column else []), path, what)
    problems = Problems(frame[ROW].to_numpy(), list(frame.columns))
    ids = frame[id_column].str.strip()
    problems.add(
        (ids == "").to_numpy(), id_column, frame[id_column], "is empty", "every listed event names its id"
    )
    stamp = (
        parse_number(
            frame[stamp_column], stamp_column, problems, integer=False, minimum=0, required=stamp_required
        )
        if stamp_column
        else np.full(len(frame), np.nan)
    )
    listed = pd.DataFrame({ROW: frame[ROW].to_numpy(), "source_id": ids.to_numpy(), "stamp": stamp})
    return listed, len(frame), problems.to_list() if problems else []
