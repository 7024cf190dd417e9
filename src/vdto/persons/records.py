"""Person and cell records from an agency's case files: the format, its validation and the
pseudonymisation at the door.

A case-file folder holds UTF-8 CSV files (docs/persons.md gives every column):

``cells.csv``
    ``cell, organization[, name, region]``: the cells (plazas, cliques, groups) the agency knows,
    each belonging to one organization of the registry (id, name or alias); ``region`` is an
    INEGI state (2 digits) or municipality (5 digits) code.
``persons.csv``
    ``person, cell, role, start[, end, name]``: one row per membership of a person in a cell, with
    its dates (``end`` empty while it lasts); ``role`` is one of :data:`ROLES`. A person's
    memberships never overlap.
``links.csv``
    ``person, source, source_id, kind, confidence``: the person's tie to an event of the store
    (``kind`` one of :data:`LINK_KINDS`), with the analyst's confidence in (0, 1] that the person
    took part.
``ties.csv`` (optional)
    ``person, other[, weight]``: co-offending ties known from the case files (default weight 1).

Every problem is located by ``file:row:column`` (the header is row 1) and the first is shown with
how many more there are; nothing is stored unless every file is valid. No text of
``persons.csv``, ``links.csv`` or ``ties.csv`` (a cell, a header cell, a line) is ever shown in an
error, since an error line may end up in a log and a misplaced column may hold identifiers or
names: the file, row and column (by its expected name or its position) locate the problem.
``cells.csv`` holds no person: its errors may show its values.

Identifiers (``person``, ``other``) are compared after Unicode NFC normalisation (an accented
letter typed composed or decomposed is one identifier) and become pseudonyms with the agency's key
(:mod:`vdto.persons.keys`) as they are read; names and raw identifiers are kept in
:attr:`CaseRecords.identities` only, which the store writes only when the import's
``keep_identities`` option says so.
"""

from __future__ import annotations

import csv
import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from vdto.errors import InputFileError, RowProblem, VdtoError
from vdto.events.tabular import ROW, Problems, blank, parse_number, read_csv, require_columns, sha256_file
from vdto.orgs import Registry
from vdto.persons.keys import PersonKey

#: A person's role in a cell.
ROLES: tuple[str, ...] = ("leader", "lieutenant", "member", "associate")
#: How a person is tied to an event.
LINK_KINDS: tuple[str, ...] = ("suspect", "arrested", "charged", "convicted")

#: The files of a case-file folder: name -> (required columns, optional columns).
FILES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "cells.csv": (("cell", "organization"), ("name", "region")),
    "persons.csv": (("person", "cell", "role", "start"), ("end", "name")),
    "links.csv": (("person", "source", "source_id", "kind", "confidence"), ()),
    "ties.csv": (("person", "other"), ("weight",)),
}
OPTIONAL_FILES = frozenset({"ties.csv"})
#: Columns whose values are identifying: never shown in an error line.
_WITHHELD = frozenset({"person", "other", "name"})
#: Files that name persons: no text of theirs (cell, header cell, line) is shown in an error line,
#: whatever the column (a column out of place may hold identifiers).
PERSON_FILES = frozenset({"persons.csv", "links.csv", "ties.csv"})

#: The canonical frames' columns (the store's tables, less the agency).
CELL_COLUMNS: tuple[str, ...] = ("cell", "org_id", "name", "region")
MEMBER_COLUMNS: tuple[str, ...] = ("person", "cell", "role", "start", "end")
LINK_COLUMNS: tuple[str, ...] = ("person", "source", "source_id", "kind", "confidence")
TIE_COLUMNS: tuple[str, ...] = ("person_a", "person_b", "weight")
IDENTITY_COLUMNS: tuple[str, ...] = ("person", "raw_id", "name")
MAX_CELL_ID = 64


class CaseFileErrors(VdtoError):
    """Rows of a case file failed validation: the first problem, where it is, and how many more."""

    def __init__(self, file: str, problems: list[RowProblem]) -> None:
        if Path(file).name in PERSON_FILES:  # every value withheld, even in memory
            problems = [dataclasses.replace(p, value="") for p in problems]
        self.problems = problems
        first = problems[0]
        more = len(problems) - 1
        value = ""
        if first.column_name not in _WITHHELD and first.value and first.value not in first.message:
            value = f" (value {first.value!r})"
        tail = f" ({more} more problem{'s' if more > 1 else ''} in this file)" if more else ""
        super().__init__(
            what=f"{first.column_name} {first.message}{value}{tail}",
            where=f"{file}:{first.row}:{first.column}" if first.column else f"{file}:{first.row}",
            fix=first.fix,
        )


@dataclass
class CaseRecords:
    """One agency's case files, validated and pseudonymised (canonical frames, see the module)."""

    cells: pd.DataFrame
    members: pd.DataFrame
    links: pd.DataFrame
    ties: pd.DataFrame
    identities: pd.DataFrame  # person, raw_id, name: stored only with keep_identities
    files_sha256: dict[str, str] = field(default_factory=dict)
    names_given: int = 0  # non-empty names in persons.csv
    forgotten_rows: int = 0  # rows dropped because they name a forgotten person

    def counts(self) -> dict[str, int]:
        return {
            "cells": len(self.cells),
            "persons": int(self.members["person"].nunique()),
            "memberships": len(self.members),
            "links": len(self.links),
            "ties": len(self.ties),
        }


def _strip(series: pd.Series) -> pd.Series:
    return series.astype("string").fillna("").str.strip()


def _or_none(series: pd.Series) -> pd.Series:
    """Object values with ``None`` for empty strings (what the store's NULL reads back as)."""
    return series.astype(object).where((series != "").to_numpy(dtype=bool), None)


def _columns_text(name: str) -> str:
    required, optional = FILES[name]
    return ", ".join(required) + (f"[, {', '.join(optional)}]" if optional else "")


def _header_cells(path: Path) -> list[str]:
    """The header row's cells, as :func:`read_csv` names the columns (for positions only)."""
    with open(path, "rb") as fh:
        first = fh.readline(1 << 20).decode("utf-8", errors="replace").removeprefix("\ufeff")
    try:
        return [c.strip() for c in next(csv.reader([first.rstrip("\r\n")]), [])]
    except csv.Error:
        return []


def _no_header_hint(name: str, header: list[str]) -> str:
    required, optional = FILES[name]
    return "" if set(header) & set(required + optional) else " (the first row is not a header row)"


_PASSED = re.compile(
    r"file not found|is a folder, not a file|file is empty|row has \d+ fields but the header has \d+"
    r"|row is not valid CSV|a carriage return inside the header line \(old Mac line endings\?\)"
)


def _content_free(exc: InputFileError, path: Path, name: str) -> InputFileError:
    """The error :func:`read_csv` raised about a file that names persons, without any text of the
    file (its messages may quote a header cell, a line or a parser's excerpt)."""
    where = exc.where if re.fullmatch(re.escape(str(path)) + r"(:\d+)?", exc.where) else str(path)
    csv_text = (
        f"save {name} as UTF-8 CSV text, the header row first ({_columns_text(name)}); see docs/persons.md"
    )
    if _PASSED.fullmatch(exc.what) and "{" not in exc.fix:
        return InputFileError(exc.what, where, exc.fix)
    if exc.what.startswith("binary data"):
        nul = re.match(r"binary data \(a NUL byte at byte (\d+)\)", exc.what)
        at = f" (a NUL byte at byte {nul.group(1)})" if nul else ""
        return InputFileError(f"binary data{at}, not CSV text", where, csv_text)
    if exc.what.startswith("not valid"):
        char = re.search(r"at character (\d+)\)$", exc.what)
        return InputFileError(
            "is not valid UTF-8 text", where + (f":{char.group(1)}" if char else ""), csv_text
        )
    if "appears twice in the header" in exc.what:
        header = _header_cells(path)
        dup = next((c for c in header if header.count(c) > 1), None)
        if dup is None:
            return InputFileError("two columns of the header have the same name", f"{path}:1", csv_text)
        first, second = [i + 1 for i, c in enumerate(header) if c == dup][:2]
        named = f"column {dup!r}" if dup in sum(FILES[name], ()) else f"column {second}"
        return InputFileError(
            f"{named} of the header repeats column {first}{_no_header_hint(name, header)}",
            f"{path}:1:{second}",
            f"name each column once: {csv_text}",
        )
    if exc.what.startswith("header line is not valid CSV"):
        return InputFileError("the header row is not valid CSV", f"{path}:1", "check the header's quoting")
    # anything else (a parser's message, a decompression error) may quote the file: not shown
    return InputFileError("cannot be read as CSV text", where, csv_text)


def _require_columns(frame: pd.DataFrame, header: list[str], path: Path, name: str) -> None:
    """:func:`require_columns` for a file that names persons: the missing column by its expected
    name, and nothing of the header the file has (it may be a row of data)."""
    required, _ = FILES[name]
    missing = [c for c in required if c not in header]
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise InputFileError(
            f"missing column {missing[0]!r}{more}{_no_header_hint(name, header)}",
            f"{path}:1",
            f"{name} needs a header row first with the columns {_columns_text(name)}; see docs/persons.md",
        )
    if frame.empty:
        raise InputFileError(
            "file has a header but no rows", str(path), "export the data again with its rows"
        )


def _read(folder: Path, name: str) -> tuple[pd.DataFrame, Path, list[str]] | None:
    path = folder / name
    required, optional = FILES[name]
    if not path.is_file():
        if name in OPTIONAL_FILES:
            return None
        raise InputFileError(
            f"the case-file folder has no {name}",
            str(folder),
            f"case files are {', '.join(FILES)} (ties.csv optional); see docs/persons.md",
        )
    personal = name in PERSON_FILES
    try:
        frame = read_csv(path)
    except InputFileError as exc:
        if not personal:
            raise
        raise _content_free(exc, path, name) from None
    header = [c for c in frame.columns if c != ROW]
    # an optional file may be a bare header
    if not (frame.empty and name in OPTIONAL_FILES and all(c in header for c in required)):
        if personal:
            _require_columns(frame, header, path, name)
        else:
            require_columns(frame, required, path, name.removesuffix(".csv"))
    extra = [c for c in header if c not in required + optional]
    if extra:
        pos = header.index(extra[0]) + 1
        raise InputFileError(
            f"column {pos} of the header is not a column of {name}" if personal else f"unknown column {extra[0]!r}",
            f"{path}:1:{pos}",
            f"{name} has the columns {', '.join(required + optional)}; rename or remove the others",
        )  # fmt: skip
    return frame, path, header


def _raise(path: Path, probs: Problems) -> None:
    if probs:
        raise CaseFileErrors(str(path), probs.to_list())


def _choice(frame: pd.DataFrame, col: str, allowed: tuple[str, ...], probs: Problems) -> pd.Series:
    value = _strip(frame[col]).str.lower()
    probs.add(
        ~value.isin(allowed).to_numpy(), col, frame[col], "is not one of " + ", ".join(allowed),
        f"use one of {', '.join(allowed)}",
    )  # fmt: skip
    return value


def _dates(frame: pd.DataFrame, col: str, probs: Problems, *, required: bool) -> pd.Series:
    """``YYYY-MM-DD`` dates only: a day-first ``01/02/2021`` or a bare year would otherwise be read
    silently as another day (NaT where empty or bad)."""
    text = _strip(frame[col])
    empty = (text == "").to_numpy()
    iso = text.str.fullmatch(r"\d{4}-\d{2}-\d{2}").fillna(False).to_numpy(dtype=bool)
    parsed = pd.to_datetime(text.where(iso, None), format="%Y-%m-%d", errors="coerce")
    parsed = pd.Series(parsed, index=frame.index).astype("datetime64[ns]")
    probs.add(~empty & parsed.isna().to_numpy(), col, frame[col], "is not a date (YYYY-MM-DD)", "write the date as YYYY-MM-DD, e.g. 2021-03-31")  # fmt: skip
    if required:
        probs.add(empty, col, frame[col], "is empty", f"fill in {col} (YYYY-MM-DD)")
    return parsed


def _ids(frame: pd.DataFrame, col: str, probs: Problems, what: str) -> pd.Series:
    value = _strip(frame[col])
    probs.add(blank(frame[col]), col, frame[col], "is empty", f"give every row its {what}")
    return value


def _person_ids(frame: pd.DataFrame, col: str, probs: Problems, what: str) -> pd.Series:
    """Person identifiers, stripped and NFC-normalised as :meth:`PersonKey.pseudonym` hashes them
    (so a composed and a decomposed "José" in two files are one person)."""
    return _ids(frame, col, probs, what).str.normalize("NFC")


def read_case_files(
    folder: str | Path,
    *,
    agency: str,
    key: PersonKey,
    registry: Registry,
    events: pd.DataFrame,
    forgotten: frozenset[str] = frozenset(),
) -> CaseRecords:
    """Read, validate and pseudonymise an agency's case-file folder.

    Parameters
    ----------
    folder
        The folder holding ``cells.csv``, ``persons.csv``, ``links.csv`` and optionally ``ties.csv``.
    agency
        Whose case files these are (part of every pseudonym).
    key
        The agency's key.
    registry
        The organizations a cell may belong to.
    events
        The agency's events in the store (``source``, ``source_id``): a link must name one of them.
    forgotten
        Pseudonyms of persons whose records were deleted on request: their rows are left out
        (counted in :attr:`CaseRecords.forgotten_rows`), so a case file exported again before the
        deletion reached it does not bring them back.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputFileError("not a folder", str(folder), "give the folder that holds the case files")
    read = {name: _read(folder, name) for name in FILES}
    sha = {name: sha256_file(r[1]) for name, r in read.items() if r is not None}

    # cells -------------------------------------------------------------------------------
    frame, path, header = read["cells.csv"]  # type: ignore[misc]
    probs = Problems(frame[ROW].to_numpy(), header)
    cell = _ids(frame, "cell", probs, "cell id")
    probs.add((cell.str.len() > MAX_CELL_ID).to_numpy(), "cell", frame["cell"], f"is longer than {MAX_CELL_ID} characters", "use a shorter cell id")  # fmt: skip
    probs.add((cell.duplicated() & (cell != "")).to_numpy(), "cell", frame["cell"], "is listed twice", "give each cell one row")  # fmt: skip
    org_text = _strip(frame["organization"])
    lookup = {}
    for name in org_text.unique():
        try:
            lookup[name] = registry.require(name) if name else None
        except VdtoError:
            lookup[name] = None
    org = org_text.map(lookup)
    probs.add(org.isna().to_numpy(), "organization", frame["organization"], "is not an organization of the registry", "use an id, name or alias from `vdto orgs list`, or register it first")  # fmt: skip
    region = _strip(frame["region"]) if "region" in frame else pd.Series([""] * len(frame), dtype="string")
    ok_region = (region == "") | region.str.fullmatch(r"\d{2}|\d{5}")
    probs.add(~ok_region.to_numpy(dtype=bool), "region", frame.get("region", region), "is not an INEGI code", "give a 2-digit state or 5-digit municipality code, or leave it empty")  # fmt: skip
    _raise(path, probs)
    cells = pd.DataFrame(
        {
            "cell": cell.astype(object),
            "org_id": org.astype(object),
            "name": _or_none(_strip(frame["name"]) if "name" in frame else region.str.slice(0, 0)),
            "region": _or_none(region),
        }
    )  # fmt: skip
    known_cells = set(cells["cell"])

    # persons (memberships) ---------------------------------------------------------------
    frame, path, header = read["persons.csv"]  # type: ignore[misc]
    probs = Problems(frame[ROW].to_numpy(), header)
    raw = _person_ids(frame, "person", probs, "person identifier")
    mcell = _ids(frame, "cell", probs, "cell")
    probs.add(((mcell != "") & ~mcell.isin(known_cells)).to_numpy(), "cell", frame["cell"], "is not in cells.csv", "add the cell to cells.csv or fix the id")  # fmt: skip
    role = _choice(frame, "role", ROLES, probs)
    start = _dates(frame, "start", probs, required=True)
    end = (
        _dates(frame, "end", probs, required=False)
        if "end" in frame
        else pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
    )
    probs.add((end < start).to_numpy(), "end", frame.get("end", end), "is before start", "check the membership's dates")  # fmt: skip
    _raise(path, probs)
    person = pd.Series(key.pseudonyms(agency, raw.tolist()), index=frame.index, dtype=object)
    members = pd.DataFrame({"person": person, "cell": mcell.astype(object), "role": role.astype(object),
                            "start": start.dt.date, "end": end.dt.date.where(end.notna(), None), ROW: frame[ROW]})  # fmt: skip
    _check_overlaps(members, path, header, probs)
    names = _strip(frame["name"]) if "name" in frame else pd.Series([""] * len(frame), dtype="string")
    identities = (
        pd.DataFrame({"person": person, "raw_id": raw.astype(object), "name": _or_none(names)})
        .groupby("person", as_index=False, sort=True)
        .first()
    )  # fmt: skip
    pseudonym_of = dict(zip(raw, person, strict=True))

    # links ---------------------------------------------------------------------------------
    frame, path, header = read["links.csv"]  # type: ignore[misc]
    probs = Problems(frame[ROW].to_numpy(), header)
    lraw = _person_ids(frame, "person", probs, "person identifier")
    probs.add(((lraw != "") & ~lraw.isin(pseudonym_of.keys())).to_numpy(), "person", frame["person"], "is not in persons.csv", "add the person's membership to persons.csv")  # fmt: skip
    source = _ids(frame, "source", probs, "event source")
    source_id = _ids(frame, "source_id", probs, "event id")
    kind = _choice(frame, "kind", LINK_KINDS, probs)
    conf = parse_number(frame["confidence"], "confidence", probs, integer=False)
    probs.add((np.isfinite(conf) & ((conf <= 0) | (conf > 1))), "confidence", frame["confidence"], "is not in (0, 1]", "give the probability that the person took part, above 0 and at most 1")  # fmt: skip
    known = pd.MultiIndex.from_frame(events[["source", "source_id"]].astype(str))
    given = pd.MultiIndex.from_arrays([source, source_id])
    missing = ~given.isin(known) & (source != "").to_numpy() & (source_id != "").to_numpy()
    probs.add(missing, "source_id", frame["source_id"], f"is not an event of agency {agency} in the store", "import the event first, or check source and source_id")  # fmt: skip
    lperson = lraw.map(pseudonym_of)
    dup = pd.DataFrame({"p": lperson, "s": source, "i": source_id, "k": kind}).duplicated().to_numpy()
    probs.add(dup, "kind", frame["kind"], "repeats an earlier row (same person, event and kind)", "keep one row per person, event and kind")  # fmt: skip
    _raise(path, probs)
    links = pd.DataFrame({"person": lperson.astype(object), "source": source.astype(object), "source_id": source_id.astype(object),
                          "kind": kind.astype(object), "confidence": conf})  # fmt: skip

    # ties ----------------------------------------------------------------------------------
    ties = pd.DataFrame({c: pd.Series(dtype=object) for c in TIE_COLUMNS[:2]}).assign(
        weight=pd.Series(dtype=float)
    )
    if read["ties.csv"] is not None:
        frame, path, header = read["ties.csv"]
        probs = Problems(frame[ROW].to_numpy(), header)
        a_raw = _person_ids(frame, "person", probs, "person identifier")
        b_raw = _person_ids(frame, "other", probs, "other person's identifier")
        for col, ser in (("person", a_raw), ("other", b_raw)):
            probs.add(((ser != "") & ~ser.isin(pseudonym_of.keys())).to_numpy(), col, frame[col], "is not in persons.csv", "add the person's membership to persons.csv")  # fmt: skip
        probs.add(((a_raw == b_raw) & (a_raw != "")).to_numpy(), "other", frame["other"], "is the same person", "a tie joins two different persons")  # fmt: skip
        weight = (
            parse_number(frame["weight"], "weight", probs, integer=False, required=False)
            if "weight" in frame
            else np.full(len(frame), np.nan)
        )
        probs.add(np.isfinite(weight) & (weight <= 0), "weight", frame.get("weight", a_raw), "is not above 0", "give a positive weight (co-offences), or leave it empty for 1")  # fmt: skip
        _raise(path, probs)
        a = a_raw.map(pseudonym_of).to_numpy(dtype=object)
        b = b_raw.map(pseudonym_of).to_numpy(dtype=object)
        lo, hi = np.where(a < b, a, b), np.where(a < b, b, a)
        w = np.where(np.isfinite(weight), weight, 1.0)
        # a pair's rows add up: the first row whose running sum overflows to infinity is refused
        running = pd.Series(w).groupby([lo, hi], sort=False).cumsum()
        before = running.groupby([lo, hi], sort=False).shift(1)
        overflow = (np.isinf(running) & np.isfinite(before)).to_numpy(dtype=bool)
        probs.add(overflow, "weight", frame.get("weight", a_raw), "makes the pair's summed weight infinite", "the weights of a pair's rows add up: give smaller weights (co-offences)")  # fmt: skip
        _raise(path, probs)
        ties = (
            pd.DataFrame({"person_a": lo, "person_b": hi, "weight": w})
            .groupby(["person_a", "person_b"], as_index=False, sort=True)["weight"].sum()
            .astype({"person_a": object, "person_b": object})
        )  # fmt: skip

    records = CaseRecords(
        cells=cells,
        members=members.drop(columns=ROW).reset_index(drop=True),
        links=links,
        ties=ties,
        identities=identities,
        files_sha256=sha,
        names_given=int((names != "").sum()),
    )
    return _without(records, forgotten) if forgotten else records


def _check_overlaps(members: pd.DataFrame, path: Path, header: list[str], probs: Problems) -> None:
    """A person's memberships may not overlap in time (each event has one cell per person)."""
    m = members.sort_values(["person", "start", ROW], kind="stable")
    starts = pd.to_datetime(m["start"]).to_numpy()
    ends = pd.Series(pd.to_datetime(m["end"]).fillna(pd.Timestamp.max.normalize()).to_numpy(), index=m.index)
    # a membership clashes with any earlier one of the person that has not ended by its start
    # (the running latest end, not only the previous row's: a long membership may span several)
    latest = ends.groupby(m["person"].to_numpy(), sort=False).cummax()
    prev = latest.groupby(m["person"].to_numpy(), sort=False).shift(1)
    clash = (prev.notna() & (starts <= prev)).to_numpy(dtype=bool)
    if clash.any():
        rows = m[ROW].to_numpy()[clash]
        probs.add_rows(rows, "start", m["start"].astype(str).to_numpy()[clash], "overlaps another membership of the same person", "end the earlier membership before this one starts")  # fmt: skip
        _raise(path, probs)


def _without(records: CaseRecords, forgotten: frozenset[str]) -> CaseRecords:
    """The records less every row that names a forgotten person."""
    gone = list(forgotten)
    keep_m = ~records.members["person"].isin(gone)
    keep_l = ~records.links["person"].isin(gone)
    keep_t = ~(records.ties["person_a"].isin(gone) | records.ties["person_b"].isin(gone))
    dropped = int((~keep_m).sum() + (~keep_l).sum() + (~keep_t).sum())
    return CaseRecords(
        cells=records.cells,
        members=records.members[keep_m].reset_index(drop=True),
        links=records.links[keep_l].reset_index(drop=True),
        ties=records.ties[keep_t].reset_index(drop=True),
        identities=records.identities[~records.identities["person"].isin(gone)].reset_index(drop=True),
        files_sha256=records.files_sha256,
        names_given=records.names_given,
        forgotten_rows=dropped,
    )
