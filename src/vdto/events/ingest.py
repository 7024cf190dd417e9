"""Importing a file into the store: parse, validate, then write everything in one transaction."""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

import vdto
from vdto.errors import RowErrors, RowProblem
from vdto.events.canonical import Batch
from vdto.events.tabular import ROW, sha256_file
from vdto.orgs import Registry
from vdto.schema import EVENT_COLUMNS, PERPETRATOR_COLUMNS
from vdto.store import DEFAULT_NAMESPACE, ImportRecord, Store, check_namespace


@dataclass
class ImportResult:
    """What an import did: the stored record plus what the user should know."""

    record: ImportRecord
    unresolved: Counter = field(default_factory=Counter)
    skipped: Counter = field(default_factory=Counter)
    adjusted: Counter = field(default_factory=Counter)
    problems: list[RowProblem] = field(default_factory=list)


def current_registry(db: str | Path) -> Registry:
    """The registry as the store at ``db`` sees it (the seed when the store does not exist yet)."""
    if not Path(db).exists():
        return Registry.seed()
    with Store(db, read_only=True) as store:
        return store.registry()


def write_report(path: str | Path, file: str, problems: list[RowProblem]) -> None:
    """Write every row problem to a CSV (file,row,column,column_name,value,problem,fix)."""
    with open(path, "w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["file", "row", "column", "column_name", "value", "problem", "fix"])
        for p in problems:
            out.writerow([file, p.row, p.column, p.column_name, p.value, p.message, p.fix])


def finish(
    batch: Batch, path: Path, *, report: str | Path | None, skip_bad_rows: bool
) -> tuple[int, list[RowProblem]]:
    """Report problems; raise unless bad rows may be skipped; return (rows rejected, problems)."""
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
    namespace: str = DEFAULT_NAMESPACE,
    **parse_options,
) -> ImportResult:
    """Parse ``path`` with ``parser`` and store its events in one transaction.

    Rows already in the store (same source and source_id) are counted as duplicates and left as
    they are, so importing the same file twice changes nothing. On any error nothing is written.
    """
    path = Path(path)
    check_namespace(namespace)
    registry = current_registry(db)
    batch = parser(path, registry, **parse_options)
    rejected, problems = finish(batch, path, report=report, skip_bad_rows=skip_bad_rows)
    digest = sha256_file(path)
    started = datetime.now(UTC)
    events = batch.events.drop(columns=[ROW])
    perps = batch.perpetrators.drop(columns=[ROW])
    with Store(db) as store, store.transaction() as con:
        import_id = store.next_import_id()
        con.register("incoming_events", events)
        con.register("incoming_perps", perps)
        con.execute(
            "CREATE TEMP TABLE new_keys AS SELECT i.source, i.source_id FROM incoming_events i "
            "ANTI JOIN (SELECT source, source_id FROM events WHERE namespace = ?) e "
            "ON e.source = i.source AND e.source_id = i.source_id",
            [namespace],
        )
        cols = ", ".join(EVENT_COLUMNS)
        con.execute(
            f"INSERT INTO events (namespace, {cols}, import_id) SELECT ?, {', '.join('i.' + c for c in EVENT_COLUMNS)}, {import_id} "
            "FROM incoming_events i SEMI JOIN new_keys k ON k.source = i.source AND k.source_id = i.source_id",
            [namespace],
        )
        pcols = ", ".join(PERPETRATOR_COLUMNS)
        con.execute(
            f"INSERT INTO perpetrators (namespace, {pcols}, import_id) SELECT ?, {', '.join('p.' + c for c in PERPETRATOR_COLUMNS)}, {import_id} "
            "FROM incoming_perps p SEMI JOIN new_keys k ON k.source = p.source AND k.source_id = p.source_id",
            [namespace],
        )
        imported = int(con.execute("SELECT count(*) FROM new_keys").fetchall()[0][0])
        con.execute("DROP TABLE new_keys")
        con.unregister("incoming_events")
        con.unregister("incoming_perps")
        record = ImportRecord(
            import_id=import_id,
            kind=kind,
            source=batch.source,
            file_name=path.name,
            sha256=digest,
            rows_read=batch.rows_read,
            rows_imported=imported,
            rows_duplicate=len(events) - imported,
            rows_rejected=rejected,
            rows_skipped=batch.rows_skipped,
            mapping_sha256=mapping_sha256,
            namespace=namespace,
        )
        _insert_record(con, record, started)
    return ImportResult(record, batch.unresolved, batch.skipped, batch.adjusted, problems)


def _insert_record(con, record: ImportRecord, started: datetime) -> None:
    con.execute(
        "INSERT INTO imports (import_id, namespace, kind, source, file_name, sha256, mapping_sha256, rows_read, "
        "rows_imported, rows_duplicate, rows_rejected, rows_skipped, started_at, finished_at, vdto_version) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            record.import_id,
            record.namespace, record.kind, record.source, record.file_name, record.sha256, record.mapping_sha256,
            record.rows_read, record.rows_imported, record.rows_duplicate, record.rows_rejected, record.rows_skipped,
            started, datetime.now(UTC), vdto.__version__,
        ],
    )  # fmt: skip


def import_counts(
    db: str | Path,
    path: str | Path,
    counts: pd.DataFrame,
    *,
    source: str,
    rows_read: int,
    rejected: int = 0,
) -> ImportResult:
    """Store region-month counts; a re-import replaces the same keys instead of adding to them."""
    path = Path(path)
    digest = sha256_file(path)
    started = datetime.now(UTC)
    keys = ["source", "region_code", "period", "measure", "modality"]
    with Store(db) as store, store.transaction() as con:
        import_id = store.next_import_id()
        frame = counts.assign(import_id=import_id)
        con.register("incoming_counts", frame)
        same = int(
            con.execute(
                "SELECT count(*) FROM incoming_counts i JOIN region_counts r USING (source, region_code, period, measure, modality) WHERE r.count = i.count"
            ).fetchall()[0][0]
        )
        con.execute(
            "DELETE FROM region_counts r USING incoming_counts i WHERE "
            + " AND ".join(f"r.{k} = i.{k}" for k in keys)
        )
        con.execute(
            "INSERT INTO region_counts SELECT source, level, region_code, state_code, period, measure, modality, count, import_id FROM incoming_counts"
        )
        con.unregister("incoming_counts")
        record = ImportRecord(
            import_id,
            "counts",
            source,
            path.name,
            digest,
            rows_read,
            len(frame) - same,
            same,
            rejected,
            0,
        )
        _insert_record(con, record, started)
    return ImportResult(record)


def import_counts_file(
    db: str | Path,
    path: str | Path,
    *,
    report: str | Path | None = None,
    skip_bad_rows: bool = False,
    source: str | None = None,
    encoding: str = "utf-8",
) -> ImportResult:
    """Parse, check and store a counts file (see :mod:`vdto.events.counts`)."""
    from vdto.events import counts as counts_mod

    path = Path(path)
    frame, problems, rows_read, src = counts_mod.parse(path, source=source, encoding=encoding)
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
    )
    result.problems = listed
    return result
