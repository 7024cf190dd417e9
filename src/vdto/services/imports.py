"""Importing a file of events or counts: one entry point for the CLI, the API and the demo."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

from vdto.data import bundled
from vdto.errors import VdtoError
from vdto.events import acled, generic, ingest, ucdp
from vdto.events.canonical import Batch
from vdto.events.ingest import ImportResult, import_counts_file, import_events
from vdto.events.plausible import Plausibility
from vdto.names import DEFAULT_AGENCY

#: Event importers by kind (``csv`` is the generic importer, which needs a TOML column mapping).
EVENT_KINDS: dict[str, Callable[..., Batch]] = {
    "ucdp": ucdp.parse,
    "acled": acled.parse,
    "csv": generic.parse,
}


def import_inegi(
    db: str | Path,
    path: str | Path | None = None,
    *,
    encoding: str = "latin-1",
    report: str | Path | None = None,
) -> ImportResult:
    """Import INEGI's homicide deaths by municipality of occurrence and month of registration:
    one yearly file or a folder of them (default: the bundled 1990-2015 files), all or nothing."""
    return ingest.import_inegi(db, path if path is not None else bundled("inegi"), encoding=encoding,
                               report=report)  # fmt: skip


def import_file(
    db: str | Path,
    kind: str,
    file: str | Path,
    *,
    agency: str | None = None,
    mapping: str | Path | None = None,
    mapping_name: str | None = None,
    report: str | Path | None = None,
    skip_bad_rows: bool = False,
    encoding: str | None = None,
    source: str | None = None,
    plausible: Plausibility | None = None,
) -> ImportResult:
    """Import ``file`` as ``kind`` (``ucdp``, ``acled``, ``csv`` with ``mapping``, ``counts``, or
    ``inegi``: a yearly file or a folder of them) into the store at ``db``, in one transaction:
    all rows or none.

    ``encoding`` defaults to UTF-8 (for ``csv``: the mapping's), and to Latin-1 for ``inegi``
    (INEGI's export).
    ``mapping_name`` is how the import record names the mapping file (default: its path).
    Counts belong to no agency; events go to ``agency`` (default ``"default"``). Dates and
    places are checked against ``plausible`` (default: 1989 to today, inside Mexico; INEGI's
    files carry their own years).
    """
    if kind == "inegi":
        if skip_bad_rows:
            raise VdtoError(
                "an INEGI year is imported whole or not at all (its rows must add up to INEGI's totals)",
                fix="fix the file, or use the file as INEGI exported it",
                param="skip_bad_rows",
            )
        return import_inegi(db, file, encoding=encoding or "latin-1", report=report)
    encoding = encoding or "utf-8"
    if kind == "counts":
        return import_counts_file(
            db, file, report=report, skip_bad_rows=skip_bad_rows, source=source, encoding=encoding,
            plausible=plausible,
        )  # fmt: skip
    if kind not in EVENT_KINDS:
        raise VdtoError(f"unknown kind {kind!r}", fix="use ucdp, acled, csv, counts or inegi", param="kind")
    options: dict = {}
    if kind == "csv":
        if mapping is None:
            raise VdtoError(
                "a csv import needs a column mapping", fix="give the TOML mapping", param="mapping"
            )
        spec, digest = generic.load_mapping(mapping)
        if encoding != "utf-8":  # given on the command line: it overrides the mapping's
            spec = spec.model_copy(update={"encoding": encoding})
        options = {"mapping": spec, "mapping_path": mapping_name or str(mapping), "mapping_sha256": digest}
    else:
        options = {"encoding": encoding}
    if kind == "acled" and acled.is_deleted_list(file, encoding):
        listed, rows_read, problems = acled.parse_deleted(file, encoding=encoding)
        return _retire(db, file, listed, problems, kind="acled-deleted", source=source or acled.SOURCE,
                       rows_read=rows_read, agency=agency, report=report, skip_bad_rows=skip_bad_rows)  # fmt: skip
    return import_events(
        db, kind, file, EVENT_KINDS[kind], report=report, skip_bad_rows=skip_bad_rows,
        agency=agency or DEFAULT_AGENCY, plausible=plausible, **options,
    )  # fmt: skip


def _retire(
    db: str | Path, file: str | Path, listed, problems: list, *, kind: str, source: str, rows_read: int,
    agency: str | None, report: str | Path | None, skip_bad_rows: bool,
) -> ImportResult:  # fmt: skip
    """Report a retirement list's bad rows, refuse them unless they may be skipped, retire the rest."""
    from vdto.errors import RowErrors
    from vdto.events.tabular import ROW

    if report is not None:
        ingest.write_report(report, str(file), problems)
    if problems and not skip_bad_rows:
        raise RowErrors(str(file), problems, str(report) if report else None)
    bad = {p.row for p in problems}
    good = listed[~listed[ROW].isin(bad)]
    result = ingest.retire_events(db, file, good, kind=kind, source=source, rows_read=rows_read,
                                  agency=agency or DEFAULT_AGENCY)  # fmt: skip
    result.problems = problems
    return result


def retire_file(
    db: str | Path,
    file: str | Path,
    *,
    source: str,
    id_column: str,
    stamp_column: str | None = None,
    agency: str | None = None,
    encoding: str = "utf-8",
    report: str | Path | None = None,
    skip_bad_rows: bool = False,
) -> ImportResult:
    """Retire the events of ``source`` that a list of deleted ids names (any CSV: the ids in
    ``id_column``; with ``stamp_column``, when each was deleted, on the scale of the source's
    revision stamps: an event revised after that stays). Retired events leave every score but
    stay in the store's history.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "gone.csv").write_text("folio\\nA-1\\n")
    >>> retire_file(folder / "x.duckdb", folder / "gone.csv", source="fiscalia", id_column="folio").not_held
    1
    """
    from vdto.events.tabular import read_id_list

    listed, rows_read, problems = read_id_list(file, id_column, stamp_column, encoding=encoding)
    return _retire(db, file, listed, problems, kind="retire", source=source, rows_read=rows_read,
                   agency=agency, report=report, skip_bad_rows=skip_bad_rows)  # fmt: skip


def import_changes(
    db: str | Path, old: int | None = None, new: int | None = None, *, agency: str | None = None
):
    """What happened to the events between two store states (import ids; ``new`` defaults to
    the last import, ``old`` to the one before ``new``): the changes frame of
    :meth:`vdto.store.events.EventRepository.changes` and the two states."""
    from vdto.store import Store

    with Store(db, read_only=True) as store:
        last = store.events.state()
        new = last if new is None else new
        old = new - 1 if old is None else old
        for name, value in (("old", old), ("new", new)):
            if not 0 <= value <= last:
                raise VdtoError(
                    f"there is no store state {value} (the store has imports 1 to {last}; 0 is the empty store)",
                    fix="pick import ids from `vdto imports`",
                    param=name,
                )
        if old > new:
            raise VdtoError(
                f"state {old} comes after state {new}", fix="give the earlier state first", param="old"
            )
        return store.events.changes(agency, old, new), old, new


def split_ucdp(
    out_dir: str | Path,
    source: str | Path | None = None,
    *,
    agencies: tuple[str, ...] | list[str] = ("mx", "us"),
    share: float = 0.8,
    years: tuple[int, int] = (2021, 2021),
    seed: int = 1,
) -> dict[str, Path]:
    """Write ``{agency}-events.csv.gz`` in ``out_dir`` for each agency: its share of the UCDP
    GED file ``source`` (default: the bundled Mexico file) over ``years``, in UCDP's own layout,
    so ``vdto import ucdp FILE --agency NAME`` reads it (see :mod:`vdto.events.split`)."""
    import gzip

    import pandas as pd

    from vdto.events.split import split_agencies
    from vdto.files import atomic_write, csv_safe
    from vdto.names import check_agency

    for a in agencies:
        check_agency(a)
    if years[0] > years[1]:
        raise VdtoError(f"the years run backwards ({years[0]} to {years[1]})", fix="swap them", param="years")
    src = Path(source) if source is not None else bundled("ucdp")
    frame = pd.read_csv(src, low_memory=False, encoding="utf-8")
    if "year" not in frame or "id" not in frame:
        raise VdtoError("not a UCDP GED file (no id or year column)", str(src), "give UCDP's GED CSV")
    year = pd.to_numeric(frame["year"], errors="coerce")
    frame = frame[(year >= years[0]) & (year <= years[1])]
    parts = split_agencies(frame, list(agencies), share=share, seed=seed)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = {}
    for agency, part in parts.items():
        path = out / f"{agency}-events.csv.gz"
        # gzip with no file name and no time in its header: the same seed gives the same bytes
        data = gzip.compress(csv_safe(part).to_csv(index=False).encode("utf-8"), mtime=0)
        atomic_write(path, partial(Path.write_bytes, data=data), mode=0o644)
        written[agency] = path
    return written
