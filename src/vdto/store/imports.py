"""The record of every import: which file (by SHA-256), what it did, when, with which vdto."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pandas as pd

import vdto
from vdto.names import DEFAULT_AGENCY

if TYPE_CHECKING:
    from vdto.store.db import Store

DDL = """
CREATE TABLE IF NOT EXISTS imports (
  import_id INTEGER PRIMARY KEY, agency VARCHAR NOT NULL, kind VARCHAR NOT NULL, source VARCHAR, file_name VARCHAR NOT NULL,
  sha256 VARCHAR NOT NULL, mapping_sha256 VARCHAR,
  rows_read BIGINT, rows_imported BIGINT, rows_duplicate BIGINT, rows_rejected BIGINT, rows_skipped BIGINT,
  rows_revised BIGINT, rows_retired BIGINT,
  started_at TIMESTAMP, finished_at TIMESTAMP, vdto_version VARCHAR, options VARCHAR
);
"""


@dataclass(frozen=True)
class ImportRecord:
    """What one import did; stored in the ``imports`` table."""

    import_id: int
    kind: str
    source: str
    file_name: str
    sha256: str
    rows_read: int
    rows_imported: int
    rows_duplicate: int
    rows_rejected: int
    rows_skipped: int
    mapping_sha256: str | None = None
    agency: str = DEFAULT_AGENCY
    options: dict | None = None  # what the import was allowed beyond the defaults (e.g. wider dates)
    rows_revised: int = 0  # stored events replaced by a newer version (the old one kept in history)
    rows_retired: int = 0  # stored events the source deleted (kept in history)


class ImportRepository:
    """The SQL of the ``imports`` table."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.con = store.con

    def next_id(self, con=None) -> int:
        """The id the next import gets."""
        con = con or self.con
        return int(con.execute("SELECT coalesce(max(import_id), 0) + 1 FROM imports").fetchall()[0][0])

    def add(self, con, record: ImportRecord, started: datetime) -> None:
        """Record an import inside the caller's transaction ``con``."""
        con.execute(
            "INSERT INTO imports (import_id, agency, kind, source, file_name, sha256, mapping_sha256, rows_read, "
            "rows_imported, rows_duplicate, rows_rejected, rows_skipped, rows_revised, rows_retired, started_at, "
            "finished_at, vdto_version, options) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                record.import_id,
                record.agency, record.kind, record.source, record.file_name, record.sha256, record.mapping_sha256,
                record.rows_read, record.rows_imported, record.rows_duplicate, record.rows_rejected, record.rows_skipped,
                record.rows_revised, record.rows_retired, started, datetime.now(UTC), vdto.__version__,
                json.dumps(record.options, sort_keys=True) if record.options else None,
            ],
        )  # fmt: skip

    def frame(self, agency: str | None = None) -> pd.DataFrame:
        """Every import (of ``agency`` when given), oldest first."""
        if agency is None:
            return self.store.query("SELECT * FROM imports ORDER BY import_id")
        return self.store.query("SELECT * FROM imports WHERE agency = ? ORDER BY import_id", [agency])
