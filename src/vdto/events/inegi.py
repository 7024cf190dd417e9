"""Importer for INEGI's homicide deaths by municipality of occurrence and month of registration.

The files are INEGI's query export ("Defunciones por homicidio ... Por: Ent y mun de ocurrencia,
Según: Mes de registro"), one per year of registration, read exactly as INEGI wrote them:

* Latin-1 text, comma separated, every cell quoted, CRLF line ends;
* five title lines (the title, ``Año de registro : YYYY``, ``Ent y mun de registro : Total``, an
  empty line, the query), then the header ``"", "", "Total", "Enero" .. "Diciembre", ""``;
* the national row (``" "``, ``"Total"``), then per state a row whose first cell is a spreadsheet
  formula, ``=CONCATENAR(0,01) `` or ``=CONCATENAR( ,10) `` (the state's code), followed by its
  municipalities, ``" 01 001 "`` (state, space, municipality) with their names;
* counts with a thousands separator (``"1,257"``); an empty cell is zero; only municipalities with
  at least one death are listed;
* municipality 999 is "No especificado" (the municipality was not recorded); the state row 33
  "Extranjero" groups the deaths abroad: 33 999 United States, 34 999 other Latin American
  countries, 35 999 other countries;
* an empty line and the source note ``"FUENTE: INEGI. Estadísticas de mortalidad."`` end the file.

Rows are the municipality where the death OCCURRED; the columns are the month the death was
REGISTERED, not the month of death. Each municipal row becomes one count per month with deaths
(level ``municipality``, the 5-digit INEGI code ``"01001"``); ``SS999`` (not specified within
state ``SS``) and ``33999``/``34999``/``35999`` (abroad) are kept as codes of their own so that a
year's counts add up to INEGI's national total. The national and state rows are not stored:
they are checked (every row's months add up to its Total, every state's municipal rows to the
state row, the state rows to the national row) and the file is refused if anything does not add
up.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from vdto.errors import InputFileError, RowProblem
from vdto.events.tabular import INT_MAX, Problems, _read_bytes

SOURCE = "inegi-defunciones"
MEASURE = "defunciones_homicidio"
MODALITY = "all"
LEVEL = "municipality"

#: What the import records in the store's ``measures`` table.
MEASURE_INFO: dict[str, str] = {
    "measure": MEASURE,
    "source": SOURCE,
    "unit": "deaths",
    "description": (
        "INEGI mortality statistics: deaths by homicide (Defunciones por homicidio) by municipality "
        "of OCCURRENCE; SS999 = municipality not specified in state SS; 33999 = United States, "
        "34999 = other Latin American countries, 35999 = other countries (deaths abroad)"
    ),
    "period_meaning": (
        "month of REGISTRATION of the death (mes de registro), not the month of death; "
        "the year is the year of registration"
    ),
}

MONTHS: tuple[str, ...] = (
    "Enero", "Febrero", "Marzo", "Abril", "Mayo", "Junio", "Julio", "Agosto", "Septiembre",
    "Octubre", "Noviembre", "Diciembre",
)  # fmt: skip
#: The cells of a table row (the first two have no header); ``cell 16`` is one too many.
COLUMNS: tuple[str, ...] = ("code", "name", "Total", *MONTHS, "cell 16")
NCELLS = 15
SUFFIXES = (".csv", ".csv.bz2", ".csv.gz", ".csv.xz")
LATIN1 = {"latin-1", "latin1", "iso-8859-1", "iso8859-1", "l1", "cp1252", "windows-1252"}
ABROAD = frozenset({"33", "34", "35"})

_TITLE = re.compile(r"Defunciones por homicidios?")
_YEAR = re.compile(r"Año de registro\s*:\s*(\d{4})")
_REGISTERED = re.compile(r"Ent y mun de registro\s*:\s*Total")
_QUERY = re.compile(
    r"Consulta de:\s*Defunciones por homicidios?\s+Por:\s*Ent y mun de ocurrencia\s+Según:\s*Mes de registro"
)
_SOURCE_LINE = re.compile(r"FUENTE:\s*INEGI\b.*")
_STATE = re.compile(r"=CONCATENAR\(\s*0?\s*,\s*(\d{2})\s*\)\s*")
_MUN = re.compile(r"\s*(\d{2})\s+(\d{3})\s*")
_MUN_LIKE = re.compile(r"\s*\S{1,3}\s+\S{1,4}\s*")
_COUNT = re.compile(r"\d{1,3}(?:,\d{3})+|\d+")
_AGAIN = "use the file as INEGI exported it (download or copy it again)"


@dataclass
class YearTable:
    """One yearly file read and checked: its counts in the ``region_counts`` layout."""

    path: Path
    year: int
    counts: pd.DataFrame
    rows_read: int
    deaths: int
    municipal_rows: int
    sha256: str
    problems: list[RowProblem] = field(default_factory=list)

    @property
    def name(self) -> str:
        """The file's name as INEGI published it (without a compression suffix)."""
        return _plain_name(self.path)


def _plain_name(path: Path) -> str:
    name = path.name
    for suffix in (".bz2", ".gz", ".xz"):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


# ---------------------------------------------------------------- bytes to text


def _place(raw: bytes, pos: int) -> tuple[int, int]:
    """1-based (line, character) of byte ``pos``."""
    line = raw.count(b"\n", 0, pos) + 1
    start = raw.rfind(b"\n", 0, pos) + 1
    return line, len(raw[start:pos].decode("utf-8", errors="replace")) + 1


def decode(raw: bytes, where: str, encoding: str = "latin-1") -> str:
    """The file's text, or a one-line error at ``where:row:column`` when the bytes are not in
    ``encoding``. INEGI exports Latin-1, which any byte decodes: a file that is valid UTF-8 with
    accented letters was re-saved as UTF-8, and read as Latin-1 its names would be garbled."""
    if b"\x00" in raw:
        row, col = _place(raw, raw.index(b"\x00"))
        raise InputFileError("binary data (a NUL byte), not INEGI's CSV text", f"{where}:{row}:{col}", _AGAIN)
    enc = encoding.lower().replace("_", "-")
    if enc in LATIN1:
        first = next((i for i, b in enumerate(raw) if b >= 0x80), None)
        if first is not None:
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                pass  # not UTF-8: the Latin-1 INEGI wrote
            else:
                row, col = _place(raw, first)
                seq = raw[first : first + 2]
                raise InputFileError(
                    f"the file is UTF-8 (bytes {seq.hex(' ').upper()} = {seq.decode('utf-8', 'replace')!r}), "
                    f"not {encoding} as INEGI exports it: read as {encoding} its names would be garbled "
                    f"({seq.decode('latin-1')!r})",
                    f"{where}:{row}:{col}",
                    "use the Latin-1 file as INEGI exported it, or give the file's encoding with {encoding} utf-8",
                    mentions=("encoding",),
                )
    try:
        text = raw.decode(encoding)
    except LookupError:
        raise InputFileError(
            f"unknown encoding {encoding!r}", where, "INEGI's files are latin-1 (the default)"
        ) from None
    except UnicodeDecodeError as exc:
        row, col = _place(raw, exc.start)
        bad = raw[exc.start : exc.start + 1].hex().upper()
        raise InputFileError(
            f"not valid {encoding} (byte 0x{bad}): INEGI exports Latin-1",
            f"{where}:{row}:{col}",
            "give the file's encoding with {encoding} latin-1 (the default), or re-save it as " + encoding,
            mentions=("encoding",),
        ) from None
    return text[1:] if text.startswith("\ufeff") else text


# ---------------------------------------------------------------- the table


def _records(text: str, where: str) -> list[tuple[int, list[str]]]:
    """(line number, cells) of every CSV record."""
    reader = csv.reader(io.StringIO(text, newline=""))
    out: list[tuple[int, list[str]]] = []
    try:
        for cells in reader:
            out.append((reader.line_num, cells))
    except csv.Error as exc:
        raise InputFileError(
            f"not valid CSV ({exc})",
            f"{where}:{reader.line_num}:1",
            "check the quotes on that line; " + _AGAIN,
        ) from None
    return out


def _blank(cells: list[str]) -> bool:
    return all(not c.strip() for c in cells)


def _title(
    records: list[tuple[int, list[str]]], i: int, pattern: re.Pattern | None, where: str, expected: str
) -> re.Match | None:
    """Check title line ``i`` (0-based) against ``pattern`` (None: an empty line)."""
    if i >= len(records):
        raise InputFileError(
            f"the file ends before its title lines (expected {expected} on line {i + 1})",
            f"{where}:{max(len(records), 1)}:1",
            _AGAIN,
        )
    line, cells = records[i]
    if pattern is None:
        if not _blank(cells):
            raise InputFileError(
                f"line {line} should be empty (found {','.join(cells)[:60]!r})", f"{where}:{line}:1", _AGAIN
            )
        return None
    text = cells[0].strip() if cells else ""
    match = pattern.fullmatch(text)
    if match is None or not _blank(cells[1:]):
        raise InputFileError(
            f"title line {line} is {','.join(cells)[:90]!r}, not {expected}",
            f"{where}:{line}:1",
            "vdto reads INEGI's export of homicide deaths by municipality of occurrence and month of "
            "registration, for all places of registration; " + _AGAIN,
        )
    return match


def _header(records: list[tuple[int, list[str]]], where: str) -> None:
    if len(records) < 6:
        raise InputFileError("the file ends before its header row", f"{where}:{len(records)}:1", _AGAIN)
    line, cells = records[5]
    expected = ["", "", "Total", *MONTHS]
    got = [c.strip() for c in cells]
    if len(got) == NCELLS + 1 and got[-1] == "":
        got = got[:-1]
    for col, want in enumerate(expected, start=1):
        have = got[col - 1] if col <= len(got) else None
        if have != want:
            shown = "nothing" if have is None else repr(have)
            what = f"'{want}'" if want else "an empty cell"
            raise InputFileError(
                f"the header has {shown} in column {col} where INEGI's table has {what}"
                + (
                    " (months missing: the 12 months of registration, Enero to Diciembre, follow Total)"
                    if want in MONTHS
                    else ""
                ),
                f"{where}:{line}:{col}",
                _AGAIN,
            )
    if len(got) > NCELLS:
        raise InputFileError(
            f"the header has {len(got)} cells where INEGI's table has {NCELLS} (and an empty one)",
            f"{where}:{line}:{NCELLS + 1}",
            _AGAIN,
        )


def _count(cell: str) -> int | None:
    text = cell.strip()
    if not text:
        return 0
    if not _COUNT.fullmatch(text):
        return None
    value = int(text.replace(",", ""))
    return value if value <= INT_MAX else None


def parse_text(text: str, where: str, *, year_from_name: int | None = None) -> YearTable:
    """Check one yearly file's text and return its municipal counts (pure: text in, table out).

    File-level trouble (title lines, header, a cut file) raises one :class:`InputFileError`;
    problems with rows and cells are listed in ``problems`` (``where:row:column``, the first
    line being row 1), and then the table holds no counts.
    """
    records = _records(text, where)
    _title(records, 0, _TITLE, where, "'Defunciones por homicidios'")
    year_match = _title(records, 1, _YEAR, where, "'Año de registro : YYYY'")
    year = int(year_match.group(1)) if year_match else 0  # _title raises when there is no match
    if year_from_name is not None and year_from_name != year:
        raise InputFileError(
            f"the file is named for {year_from_name} but its title says 'Año de registro : {year}'",
            f"{where}:{records[1][0]}:1",
            "rename the file after its year, or use the right file",
        )
    _title(records, 2, _REGISTERED, where, "'Ent y mun de registro : Total'")
    _title(records, 3, None, where, "an empty line")
    _title(
        records, 4, _QUERY, where,
        "'Consulta de: Defunciones por homicidio   Por: Ent y mun de ocurrencia   Según: Mes de registro'",
    )  # fmt: skip
    _header(records, where)

    # the end: the source note, after an empty line; without it the file was cut short
    last = len(records) - 1
    while last > 5 and _blank(records[last][1]):
        last -= 1
    line, cells = records[last]
    if last <= 5 or not _SOURCE_LINE.fullmatch(cells[0].strip()) or not _blank(cells[1:]):
        raise InputFileError(
            f"the file ends at line {records[-1][0]} without INEGI's source note "
            "('FUENTE: INEGI. Estadísticas de mortalidad.'): it was cut short",
            f"{where}:{line}:1",
            _AGAIN,
        )
    body = records[6:last]
    while body and _blank(body[-1][1]):
        body.pop()
    for line, cells in body:
        if _blank(cells):
            raise InputFileError(
                "an empty line inside the table (rows after it would be lost)", f"{where}:{line}:1", _AGAIN
            )
    if not body:
        raise InputFileError("the table has no rows", f"{where}:{records[5][0]}:1", _AGAIN)
    return _table(body, where, year)


def _table(body: list[tuple[int, list[str]]], where: str, year: int) -> YearTable:
    n = len(body)
    lines = np.array([line for line, _ in body])
    problems = Problems(lines, list(COLUMNS))
    cells = [c for _, c in body]
    ncells = np.array([len(c) for c in cells])
    ragged = ncells != NCELLS
    grid = np.array([(c + [""] * NCELLS)[:NCELLS] for c in cells], dtype=object)
    too_many = ncells > NCELLS
    problems.add(
        too_many,
        "cell 16",
        np.array([c[NCELLS] if len(c) > NCELLS else "" for c in cells], dtype=object),
        f"is one cell too many: INEGI's rows have {NCELLS} (code, name, Total, Enero..Diciembre)",
        "a shifted column? check the row's commas and quotes; " + _AGAIN,
    )
    for k in range(NCELLS):
        missing = ncells == k
        problems.add(
            missing,
            COLUMNS[k],
            np.full(n, "", dtype=object),
            f"is missing: the row has {k} cells where INEGI's rows have {NCELLS}",
            "a shifted or cut row? " + _AGAIN,
        )
    ok = ~ragged

    # the code cell: national, state or municipality
    kind = np.full(n, "", dtype=object)
    code = np.full(n, "", dtype=object)
    first_cell = grid[:, 0]
    bad_code, not_number = np.zeros(n, bool), np.zeros(n, bool)
    for i, text in enumerate(first_cell):
        if not text.strip():
            kind[i] = "national"
        elif m := _STATE.fullmatch(text):
            kind[i], code[i] = "state", m.group(1)
        elif m := _MUN.fullmatch(text):
            kind[i], code[i] = "mun", m.group(1) + m.group(2)
        elif _MUN_LIKE.fullmatch(text) or text.strip().startswith("=CONCATENAR"):
            not_number[i] = True
        else:
            bad_code[i] = True
    problems.add(
        ok & not_number,
        "code",
        first_cell,
        "is not a number",
        "an INEGI code is numbers only: ' 01 001 ' (state 01, municipality 001) or '=CONCATENAR(0,01) ' "
        "for a state; " + _AGAIN,
    )
    problems.add(
        ok & bad_code,
        "code",
        first_cell,
        "is not an INEGI code",
        "municipalities are written ' 01 001 ' and states '=CONCATENAR(0,01) '; " + _AGAIN,
    )
    state_num = np.array([int(c[:2]) if c else 0 for c in code])
    mun_num = np.array([int(c[2:]) if len(c) == 5 else 0 for c in code])
    valid_state = ((state_num >= 1) & (state_num <= 35)) | (state_num == 99)
    problems.add(
        ok & (kind != "national") & (kind != "") & ~valid_state,
        "code",
        first_cell,
        "is not an INEGI state number (01-32, 33-35 abroad, 99 unknown)",
        _AGAIN,
    )
    problems.add(
        ok & (kind == "mun") & (mun_num == 0),
        "code",
        first_cell,
        "is not an INEGI municipality number (001-999)",
        _AGAIN,
    )

    # the national row comes first, once
    names = grid[:, 1]
    first_is_national = kind[0] == "national" and names[0].strip() == "Total"
    problems.add(
        ok & (np.arange(n) == 0) & (not first_is_national),
        "code",
        first_cell,
        "is not the national row (' ', 'Total'), which comes first",
        _AGAIN,
    )
    problems.add(
        ok & (kind == "national") & (np.arange(n) > 0),
        "code",
        first_cell,
        "is empty: only the national row (the first) has no code",
        "a missing code? " + _AGAIN,
    )
    # names: present and not a number (a shifted column moves a count into the name)
    bare = np.array([bool(_COUNT.fullmatch(t.strip())) or not t.strip() for t in names])
    problems.add(ok & bare, "name", names, "is empty or a number, not a name", "a shifted column? " + _AGAIN)

    # counts
    values = np.zeros((n, 13), dtype=np.int64)
    for k in range(13):
        col = grid[:, 2 + k]
        parsed = [_count(t) for t in col]
        bad = np.array([v is None for v in parsed])
        values[:, k] = [0 if v is None else v for v in parsed]
        problems.add(
            ok & bad,
            COLUMNS[2 + k],
            col,
            "is not a count",
            "write whole numbers (1,257 or 1257; an empty cell is 0); " + _AGAIN,
        )
    month_sum = values[:, 1:].sum(axis=1)
    clean_row = ok & ~problems.bad_mask()
    for bad_row in np.flatnonzero(clean_row & (month_sum != values[:, 0])):
        problems.add(
            np.arange(n) == bad_row,
            "Total",
            grid[:, 2],
            f"is not the sum of the row's months ({int(month_sum[bad_row]):,})",
            "a month edited or shifted? the months must add up to Total; " + _AGAIN,
        )

    # each municipality under its state, once; each state once
    parent = np.full(n, -1)
    current = -1
    misplaced, twice = np.zeros(n, bool), np.zeros(n, bool)
    seen: set[str] = set()
    for i in range(n):
        if kind[i] == "state":
            current = i
        elif kind[i] == "mun":
            parent[i] = current
            st = code[i][:2]
            under = code[current] if current >= 0 else ""
            if not (st == under or (under == "33" and st in ABROAD)):
                misplaced[i] = True
        key = f"{kind[i]}:{code[i]}"
        if kind[i] in ("state", "mun") and key in seen:
            twice[i] = True
        seen.add(key)
    problems.add(
        ok & misplaced,
        "code",
        first_cell,
        "is listed under another state's row",
        "each municipality follows its own state's '=CONCATENAR' row; " + _AGAIN,
    )
    problems.add(ok & twice, "code", first_cell, "appears twice", _AGAIN)

    if not problems:
        _check_sums(problems, kind, parent, values, grid)
    listed = problems.to_list()
    mun = kind == "mun"
    counts = _counts(code[mun], values[mun], year) if not listed else _counts(code[:0], values[:0], year)
    return YearTable(
        path=Path(where),
        year=year,
        counts=counts,
        rows_read=n,
        deaths=int(values[0, 0]) if n and kind[0] == "national" else 0,
        municipal_rows=int(mun.sum()),
        sha256="",
        problems=listed,
    )


def _check_sums(
    problems: Problems, kind: np.ndarray, parent: np.ndarray, values: np.ndarray, grid: np.ndarray
) -> None:
    """Municipal rows add up to their state row; state rows add up to the national row (so the
    municipal rows, 999 and abroad included, add up to the national row too)."""
    n = len(kind)
    states = np.flatnonzero(kind == "state")
    for r in np.flatnonzero((kind == "state") | (kind == "national")):
        expected = values[parent == r].sum(axis=0) if kind[r] == "state" else values[states].sum(axis=0)
        wrong = np.flatnonzero(values[r] != expected)
        if not len(wrong):
            continue
        k = int(wrong[0])
        what = "the state's municipal rows" if kind[r] == "state" else "the state rows"
        problems.add(
            np.arange(n) == r,
            COLUMNS[2 + k],
            grid[:, 2 + k],
            f"is not the sum of {what} ({int(expected[k]):,})",
            ("a municipal" if kind[r] == "state" else "a state") + " row missing or edited? " + _AGAIN,
        )


def _counts(codes: np.ndarray, values: np.ndarray, year: int) -> pd.DataFrame:
    """One row per municipality and month with at least one death."""
    months = values[:, 1:]
    rows, cols = np.nonzero(months > 0)
    region = np.asarray(codes, dtype=object)[rows]
    periods = pd.to_datetime([f"{year}-{m + 1:02d}-01" for m in range(12)])
    return pd.DataFrame(
        {
            "source": SOURCE,
            "level": LEVEL,
            "region_code": region,
            "state_code": np.array([c[:2] for c in region], dtype=object),
            "period": periods[cols],
            "measure": MEASURE,
            "modality": MODALITY,
            "count": months[rows, cols].astype(np.int64),
        }
    )


# ---------------------------------------------------------------- files and folders


def read_file(path: str | Path, *, encoding: str = "latin-1") -> YearTable:
    """Read and check one yearly file (plain or compressed: .bz2, .gz, .xz)."""
    path = Path(path)
    raw = _read_bytes(path)
    if not raw.strip():
        raise InputFileError("file is empty", str(path), _AGAIN)
    stem = _plain_name(path).removesuffix(".csv")
    named = int(stem) if re.fullmatch(r"(19|20)\d\d", stem) else None
    table = parse_text(decode(raw, str(path), encoding), str(path), year_from_name=named)
    table.path = path
    table.sha256 = hashlib.sha256(raw).hexdigest()
    return table


def files_in(folder: Path) -> list[Path]:
    """The yearly files of a folder (``*.csv`` and compressed copies), by name."""
    found = sorted(p for p in folder.iterdir() if p.is_file() and p.name.lower().endswith(SUFFIXES))
    if not found:
        raise InputFileError(
            "no INEGI yearly files (YYYY.csv, or .csv.bz2) in this folder",
            str(folder),
            "give the folder holding the yearly files, or one file",
        )
    return found


def read(path: str | Path, *, encoding: str = "latin-1") -> list[YearTable]:
    """Read one yearly file or every yearly file of a folder (each year once), in file order."""
    path = Path(path)
    if not path.exists():
        raise InputFileError("file not found", str(path), "check the path")
    paths = files_in(path) if path.is_dir() else [path]
    tables: list[YearTable] = []
    years: dict[int, Path] = {}
    for p in paths:
        table = read_file(p, encoding=encoding)
        if table.year in years:
            raise InputFileError(
                f"year {table.year} is already in {years[table.year].name}",
                f"{p}:2:1",
                "keep one file per year in the folder",
            )
        years[table.year] = p
        tables.append(table)
    return tables


def manifest_sha256(tables: list[YearTable]) -> str:
    """SHA-256 of the lines ``<sha256>  <name>`` of the files' texts as published, sorted by name
    (what ``sha256sum *.csv | sha256sum`` prints in a folder of the original files)."""
    lines = "".join(f"{t.sha256}  {t.name}\n" for t in sorted(tables, key=lambda t: t.name))
    return hashlib.sha256(lines.encode("utf-8")).hexdigest()


def measures() -> pd.DataFrame:
    """The ``measures`` row of the INEGI homicide series."""
    return pd.DataFrame([MEASURE_INFO])
