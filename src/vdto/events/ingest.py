"""Importing a file into the store: parse, validate, then write everything in one transaction."""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from vdto.errors import RowErrors, RowProblem
from vdto.events.canonical import Batch
from vdto.events.plausible import Plausibility, check_dates, check_events
from vdto.events.tabular import ROW, sha256_file
from vdto.files import safe_cell
from vdto.names import DEFAULT_AGENCY, check_agency
from vdto.orgs import Registry
from vdto.store import ImportRecord, Store


@dataclass
class ImportResult:
    """What an import did: the stored record plus what the user should know."""

    record: ImportRecord
    unresolved: Counter = field(default_factory=Counter)
    skipped: Counter = field(default_factory=Counter)
    adjusted: Counter = field(default_factory=Counter)
    problems: list[RowProblem] = field(default_factory=list)
    #: per file of a folder import (INEGI): file, year, sha256, rows_read, deaths, municipal_rows, counts
    files: pd.DataFrame | None = None
    #: rows that differ from the stored version but carry no newer revision stamp (stored kept)
    unstamped_changes: int = 0
    #: a retirement list: ids the store does not hold, and events revised after their deletion
    not_held: int = 0
    revised_after: int = 0


class TableErrors(RowErrors):
    """Rows of a table that is imported whole (INEGI) failed its checks: the first is shown, all
    are in ``problems``; there are no valid rows to keep, so the fix names only ``report``."""

    def __init__(self, file: str, problems: list[RowProblem], report: str | None = None) -> None:
        self._first_of(file, problems, report, "", ("report",))


def current_registry(db: str | Path) -> Registry:
    """The registry as the store at ``db`` sees it (the seed when the store does not exist yet)."""
    if not Path(db).exists():
        return Registry.seed()
    with Store(db, read_only=True) as store:
        return store.registry()


def write_report(path: str | Path, file: str, problems: list[RowProblem]) -> None:
    """Write every row problem to a CSV (file,row,column,column_name,value,problem,fix)."""
    write_reports(path, [(file, problems)])


def write_reports(path: str | Path, files: list[tuple[str, list[RowProblem]]]) -> None:
    """Write the row problems of several files to one CSV (as :func:`write_report`)."""
    with open(path, "w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["file", "row", "column", "column_name", "value", "problem", "fix"])
        for file, problems in files:
            for p in problems:
                out.writerow(
                    [safe_cell(v) for v in (file, p.row, p.column, p.column_name, p.value, p.message, p.fix)]
                )


def finish(
    batch: Batch, path: Path, *, report: str | Path | None, skip_bad_rows: bool,
    plausible: Plausibility | None = None,
) -> tuple[int, list[RowProblem]]:  # fmt: skip
    """Check plausibility (:mod:`vdto.events.plausible`); report problems; raise unless bad rows
    may be skipped; return (rows rejected, problems)."""
    check_events(batch.events, batch.problems, batch.where, plausible or Plausibility())
    problems = batch.problems.to_list() if batch.problems else []
    if report is not None:
        write_report(report, str(path), problems)
    if problems and not skip_bad_rows:
        raise RowErrors(str(path), problems, str(report) if report else None)
    return batch.drop_bad_rows(), problems


def import_events(
    db: str | Path,
    kind: str,
    path: str | Path,
    parser: Callable[..., Batch],
    *,
    report: str | Path | None = None,
    skip_bad_rows: bool = False,
    mapping_sha256: str | None = None,
    agency: str = DEFAULT_AGENCY,
    plausible: Plausibility | None = None,
    **parse_options,
) -> ImportResult:
    """Parse ``path`` with ``parser`` and store its events in one transaction.

    Rows already in the store (same source and source_id) are counted as duplicates and left as
    they are, so importing the same file twice changes nothing. On any error nothing is written.
    Dates and places are checked against ``plausible`` (default: 1989 to today, in Mexico); an
    import allowed more records what it was allowed.
    """
    path = Path(path)
    check_agency(agency)
    if Path(db).exists():
        Store(db).close()  # an import writes anyway: opening for writing migrates an older store first
    registry = current_registry(db)
    batch = parser(path, registry, **parse_options)
    check_revisions(db, batch, agency)
    rejected, problems = finish(batch, path, report=report, skip_bad_rows=skip_bad_rows, plausible=plausible)
    digest = sha256_file(path)
    started = datetime.now(UTC)
    events = batch.events.drop(columns=[ROW])
    perps = batch.perpetrators.drop(columns=[ROW])
    with Store(db) as store, store.transaction() as con:
        import_id = store.imports.next_id(con)
        applied = store.events.apply(con, import_id, agency, events, perps)
        record = ImportRecord(
            import_id=import_id,
            kind=kind,
            source=batch.source,
            file_name=path.name,
            sha256=digest,
            rows_read=batch.rows_read,
            rows_imported=applied.added,
            rows_duplicate=applied.unchanged,
            rows_rejected=rejected,
            rows_skipped=batch.rows_skipped,
            mapping_sha256=mapping_sha256,
            agency=agency,
            options=(plausible or Plausibility()).record() or None,
            rows_revised=applied.revised,
        )
        store.imports.add(con, record, started)
    result = ImportResult(record, batch.unresolved, batch.skipped, batch.adjusted, problems)
    result.unstamped_changes = applied.unstamped_changes
    return result


def check_revisions(db: str | Path, batch: Batch, agency: str) -> None:
    """Add a row problem for every row whose revision stamp is older than the version the store
    holds of that event: an older export must not undo a revision."""
    if "revision" not in batch.events.columns or not Path(db).exists():
        return
    incoming = batch.events[[ROW, "source", "source_id", "revision"]]
    incoming = incoming[incoming["revision"].notna()]
    if incoming.empty:
        return
    with Store(db, read_only=True) as store:
        stored = store.events.stored_revisions(store.con, agency, incoming)
    both = incoming.merge(stored, on=["source", "source_id"], how="inner")
    older = both[both["stored_revision"].notna() & (both["revision"] < both["stored_revision"])]
    if older.empty:
        return
    column = batch.where.get("revision", "revision")
    batch.problems.add_rows(
        older[ROW].to_numpy(),
        column,
        older["revision"].map(_stamp).to_numpy(),
        "is older than the version the store holds of this event ("
        + "; ".join(
            f"{_stamp(r)}, import {int(i)}"
            for r, i in older[["stored_revision", "stored_import"]].head(1).to_numpy()
        )
        + ")",
        "import the newer export, or leave this row out (--skip-bad-rows)",
    )


def _stamp(value: float) -> str:
    """A revision stamp as the source wrote it (whole numbers without .0)."""
    return str(int(value)) if float(value).is_integer() else str(value)


def retire_events(
    db: str | Path,
    path: str | Path,
    listed: pd.DataFrame,
    *,
    kind: str,
    source: str,
    rows_read: int,
    agency: str = DEFAULT_AGENCY,
) -> ImportResult:
    """Retire the events a source deleted (``listed``: source_id and stamp, when it was deleted,
    on the scale of the revision stamps) in one transaction; every retired version stays in the
    store's history, so earlier states and their scores can be recomputed.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "deleted.csv").write_text("event_id_cnty,deleted_timestamp\\nMEX1,1700000000\\n")
    >>> listed = pd.DataFrame({"source_id": ["MEX1"], "stamp": [1.7e9]})
    >>> r = retire_events(folder / "x.duckdb", folder / "deleted.csv", listed, kind="acled-deleted",
    ...                   source="acled", rows_read=1)
    >>> r.record.rows_retired, r.not_held
    (0, 1)
    """
    path = Path(path)
    check_agency(agency)
    digest = sha256_file(path)
    started = datetime.now(UTC)
    with Store(db) as store, store.transaction() as con:
        import_id = store.imports.next_id(con)
        retired, not_held, kept = store.events.retire(con, import_id, agency, source, listed)
        record = ImportRecord(
            import_id=import_id,
            kind=kind,
            source=source,
            file_name=path.name,
            sha256=digest,
            rows_read=rows_read,
            rows_imported=0,
            rows_duplicate=0,
            rows_rejected=0,
            rows_skipped=not_held + kept,
            agency=agency,
            rows_retired=retired,
        )
        store.imports.add(con, record, started)
    result = ImportResult(record)
    result.not_held, result.revised_after = not_held, kept
    return result


def import_counts(
    db: str | Path,
    path: str | Path,
    counts: pd.DataFrame,
    *,
    source: str,
    rows_read: int,
    rejected: int = 0,
    measures: pd.DataFrame | None = None,
    options: dict | None = None,
) -> ImportResult:
    """Store region-month counts (and what each measure is); a re-import replaces the same keys
    instead of adding to them."""
    path = Path(path)
    digest = sha256_file(path)
    started = datetime.now(UTC)
    with Store(db) as store, store.transaction() as con:
        import_id = store.imports.next_id(con)
        same = store.counts.replace(con, counts, import_id)
        if measures is not None:
            store.counts.describe(con, measures)
        record = ImportRecord(
            import_id,
            "counts",
            source,
            path.name,
            digest,
            rows_read,
            len(counts) - same,
            same,
            rejected,
            0,
            options=options or None,
        )
        store.imports.add(con, record, started)
    return ImportResult(record)


def import_counts_file(
    db: str | Path,
    path: str | Path,
    *,
    report: str | Path | None = None,
    skip_bad_rows: bool = False,
    source: str | None = None,
    encoding: str = "utf-8",
    plausible: Plausibility | None = None,
) -> ImportResult:
    """Parse, check and store a counts file (see :mod:`vdto.events.counts`); months outside
    ``plausible``'s dates are refused."""
    from vdto.events import counts as counts_mod

    path = Path(path)
    p = plausible or Plausibility()
    read = counts_mod.parse(path, source=source, encoding=encoding)
    frame, problems, rows_read, src, measures = (
        read.counts,
        read.problems,
        read.rows_read,
        read.source,
        read.measures,
    )
    check_dates(frame[ROW].to_numpy(), frame["period"], read.period_column, problems, p)
    listed = problems.to_list() if problems else []
    if report is not None:
        write_report(report, str(path), listed)
    if listed and not skip_bad_rows:
        raise RowErrors(str(path), listed, str(report) if report else None)
    bad = problems.bad_mask()
    frame = frame[~bad]
    result = import_counts(
        db,
        path,
        counts_mod.aggregate(frame),
        source=src,
        rows_read=rows_read,
        rejected=int(bad.sum()),
        measures=measures[measures["measure"].isin(set(frame["measure"]))],
        options=p.record(),
    )
    result.problems = listed
    return result


def import_inegi(
    db: str | Path,
    path: str | Path,
    *,
    encoding: str = "latin-1",
    report: str | Path | None = None,
) -> ImportResult:
    """Check and store INEGI's homicide deaths by municipality (one yearly file, or a folder of
    them) in one transaction: every year or none.

    A year's counts replace everything the store held of that source, measure and year (a
    re-import changes nothing; a revised file replaces the old figures). There is no skipping of
    bad rows: a year whose rows do not add up to INEGI's totals is refused whole. The import
    record names the file (a folder: ``name/``) and the SHA-256 of the text as INEGI published it
    (a folder: of the lines ``<sha256>  <file>``, sorted; compressed copies give the same digest).
    """
    from vdto.events import inegi

    path = Path(path)
    tables = inegi.read(path, encoding=encoding)
    bad = [(str(t.path), t.problems) for t in tables if t.problems]
    if report is not None:
        write_reports(report, bad)
    if bad:
        raise TableErrors(bad[0][0], bad[0][1], str(report) if report else None)
    started = datetime.now(UTC)
    files = pd.DataFrame(
        {
            "file": [t.path.name for t in tables],
            "year": [t.year for t in tables],
            "sha256": [t.sha256 for t in tables],
            "rows_read": [t.rows_read for t in tables],
            "deaths": [t.deaths for t in tables],
            "municipal_rows": [t.municipal_rows for t in tables],
            "counts": [len(t.counts) for t in tables],
        }
    )
    one = len(tables) == 1 and not path.is_dir()
    with Store(db) as store, store.transaction() as con:
        import_id = store.imports.next_id(con)
        same = 0
        for t in tables:
            months = list(pd.date_range(f"{t.year}-01-01", periods=12, freq="MS"))
            same += store.counts.replace_months(
                con, t.counts, import_id, source=inegi.SOURCE, measure=inegi.MEASURE, months=months
            )
        store.counts.describe(con, inegi.measures())
        stored = int(files["counts"].sum())
        record = ImportRecord(
            import_id,
            "inegi",
            inegi.SOURCE,
            path.name if one else path.name + "/",
            tables[0].sha256 if one else inegi.manifest_sha256(tables),
            int(files["rows_read"].sum()),
            stored - same,
            same,
            0,
            0,
        )
        store.imports.add(con, record, started)
    return ImportResult(record, files=files)
