"""Person-level case records as stored: cells, memberships, links to events, co-offending ties,
the forgotten list and each agency's settings (its key's fingerprint, its retention period).

Persons appear only by pseudonym. Raw identifiers and names are in ``person_identities`` only
when an import was run with ``keep_identities`` (recorded in ``person_imports.options``).
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from vdto.store.db import Store

DDL = """
CREATE TABLE IF NOT EXISTS person_imports (
  id BIGINT NOT NULL, agency VARCHAR NOT NULL, imported_at TIMESTAMP NOT NULL, options VARCHAR NOT NULL,
  files_sha256 VARCHAR NOT NULL, cells BIGINT, persons BIGINT, links BIGINT, ties BIGINT, forgotten_rows BIGINT
);
CREATE TABLE IF NOT EXISTS person_cells (
  agency VARCHAR NOT NULL, cell VARCHAR NOT NULL, org_id VARCHAR NOT NULL, name VARCHAR, region VARCHAR
);
CREATE TABLE IF NOT EXISTS person_members (
  agency VARCHAR NOT NULL, person VARCHAR NOT NULL, cell VARCHAR NOT NULL, role VARCHAR NOT NULL,
  start DATE NOT NULL, "end" DATE
);
CREATE TABLE IF NOT EXISTS person_links (
  agency VARCHAR NOT NULL, person VARCHAR NOT NULL, source VARCHAR NOT NULL, source_id VARCHAR NOT NULL,
  kind VARCHAR NOT NULL, confidence DOUBLE NOT NULL
);
CREATE TABLE IF NOT EXISTS person_ties (
  agency VARCHAR NOT NULL, person_a VARCHAR NOT NULL, person_b VARCHAR NOT NULL, weight DOUBLE NOT NULL
);
CREATE TABLE IF NOT EXISTS person_identities (
  agency VARCHAR NOT NULL, person VARCHAR NOT NULL, raw_id VARCHAR NOT NULL, name VARCHAR
);
CREATE TABLE IF NOT EXISTS person_forgotten (
  agency VARCHAR NOT NULL, person VARCHAR NOT NULL, forgotten_at TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS person_settings (
  agency VARCHAR NOT NULL, key VARCHAR NOT NULL, value VARCHAR NOT NULL, PRIMARY KEY (agency, key)
);
"""

#: The record tables, and the columns of each (less the agency), in order.
RECORD_TABLES: dict[str, tuple[str, ...]] = {
    "person_cells": ("cell", "org_id", "name", "region"),
    "person_members": ("person", "cell", "role", "start", "end"),
    "person_links": ("person", "source", "source_id", "kind", "confidence"),
    "person_ties": ("person_a", "person_b", "weight"),
    "person_identities": ("person", "raw_id", "name"),
}
#: Every table holding something about a person, with the columns that may name one.
PERSON_COLUMNS: dict[str, tuple[str, ...]] = {
    "person_members": ("person",),
    "person_links": ("person",),
    "person_ties": ("person_a", "person_b"),
    "person_identities": ("person",),
}
TABLES = frozenset([*RECORD_TABLES, "person_imports", "person_forgotten", "person_settings"])


def _cols(cols: tuple[str, ...]) -> str:
    return ", ".join(f'"{c}"' for c in cols)


class PersonRepository:
    """The SQL of the ``person_*`` tables."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.con = store.con

    # -- settings ---------------------------------------------------------------------------
    def setting(self, agency: str, key: str) -> str | None:
        row = self.con.execute(
            "SELECT value FROM person_settings WHERE agency = ? AND key = ?", [agency, key]
        ).fetchone()
        return None if row is None else str(row[0])

    def set_setting(self, con, agency: str, key: str, value: str) -> None:
        con.execute("INSERT OR REPLACE INTO person_settings VALUES (?, ?, ?)", [agency, key, value])

    def event_keys(self, agency: str) -> pd.DataFrame:
        """(source, source_id) of every event of the agency: what a link may name."""
        return self.store.query("SELECT source, source_id FROM events WHERE agency = ?", [agency])

    # -- records ----------------------------------------------------------------------------
    def has_records(self, agency: str) -> bool:
        row = self.con.execute("SELECT count(*) FROM person_members WHERE agency = ?", [agency]).fetchone()
        return bool(row and row[0])

    def replace(
        self,
        agency: str,
        frames: dict[str, pd.DataFrame],
        *,
        options: dict,
        files_sha256: dict[str, str],
        counts: dict[str, int],
        settings: dict[str, str],
        at: datetime,
    ) -> int:
        """Replace the agency's records with ``frames`` (table -> frame) in one transaction;
        returns the import's id. Tables not in ``frames`` are emptied for the agency. When raw
        identifiers were stored before, the file is compacted afterwards, so the replaced ones do
        not stay in its freed blocks."""
        row = self.con.execute("SELECT count(*) FROM person_identities WHERE agency = ?", [agency]).fetchone()
        had_identities = bool(row and row[0])
        with self.store.transaction() as con:
            row = con.execute("SELECT coalesce(max(id), 0) + 1 FROM person_imports").fetchone()
            import_id = int(row[0]) if row else 1
            for table, cols in RECORD_TABLES.items():
                con.execute(f"DELETE FROM {table} WHERE agency = ?", [agency])
                frame = frames.get(table)
                if frame is None or frame.empty:
                    continue
                part = frame[list(cols)].copy()
                part.insert(0, "agency", agency)
                con.register("incoming_persons", part)
                con.execute(f"INSERT INTO {table} (agency, {_cols(cols)}) SELECT agency, {_cols(cols)} FROM incoming_persons")  # fmt: skip
                con.unregister("incoming_persons")
            for k, v in settings.items():
                self.set_setting(con, agency, k, v)
            con.execute(
                "INSERT INTO person_imports VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [import_id, agency, at, json.dumps(options, sort_keys=True), json.dumps(files_sha256, sort_keys=True),
                 counts.get("cells", 0), counts.get("persons", 0), counts.get("links", 0), counts.get("ties", 0),
                 counts.get("forgotten_rows", 0)],
            )  # fmt: skip
        if had_identities:
            self.store.compact()
        else:
            self.con.execute("CHECKPOINT")
        return import_id

    def frame(self, table: str, agency: str) -> pd.DataFrame:
        """One record table of the agency (without the agency column)."""
        cols = RECORD_TABLES[table]
        order = {"person_cells": "cell", "person_members": "person, start, cell", "person_links": "person, source, source_id, kind",
                 "person_ties": "person_a, person_b", "person_identities": "person"}[table]  # fmt: skip
        frame = self.store.query(
            f"SELECT {_cols(cols)} FROM {table} WHERE agency = ? ORDER BY {order}", [agency]
        )
        for c in ("start", "end"):
            if c in frame:
                frame[c] = pd.to_datetime(frame[c]).dt.date.astype(object).where(frame[c].notna(), None)
        return frame

    def imports(self, agency: str) -> pd.DataFrame:
        return self.store.query("SELECT * FROM person_imports WHERE agency = ? ORDER BY id", [agency])

    # -- forgetting ---------------------------------------------------------------------------
    def forgotten(self, agency: str) -> frozenset[str]:
        rows = self.con.execute("SELECT person FROM person_forgotten WHERE agency = ?", [agency]).fetchall()
        return frozenset(str(r[0]) for r in rows)

    def known(self, agency: str, person: str) -> bool:
        """Whether any record table names ``person``."""
        for table, cols in PERSON_COLUMNS.items():
            where = " OR ".join(f"{c} = ?" for c in cols)
            row = self.con.execute(
                f"SELECT count(*) FROM {table} WHERE agency = ? AND ({where})",
                [agency, *[person] * len(cols)],
            ).fetchone()
            if row and row[0]:
                return True
        return False

    def forget(self, agency: str, persons: list[str], at: datetime) -> dict[str, int]:
        """Delete every row naming one of ``persons`` and list them as forgotten, in one
        transaction; returns the rows deleted per table."""
        deleted: dict[str, int] = {}
        with self.store.transaction() as con:
            con.register("forget_persons", pd.DataFrame({"person": pd.Series(persons, dtype=object)}))
            for table, cols in PERSON_COLUMNS.items():
                where = " OR ".join(f"{c} IN (SELECT person FROM forget_persons)" for c in cols)
                row = con.execute(
                    f"SELECT count(*) FROM {table} WHERE agency = ? AND ({where})", [agency]
                ).fetchone()
                deleted[table] = int(row[0]) if row else 0
                con.execute(f"DELETE FROM {table} WHERE agency = ? AND ({where})", [agency])
            con.execute(
                "INSERT INTO person_forgotten SELECT ?, person, ? FROM forget_persons "
                "WHERE person NOT IN (SELECT person FROM person_forgotten WHERE agency = ?)",
                [agency, at, agency],
            )
            con.unregister("forget_persons")
        self.store.compact()  # nothing of the person may stay in the file's freed blocks
        return deleted

    def last_activity(self, agency: str) -> pd.DataFrame:
        """Per person: whether a membership is still open, and the latest date of any membership
        end or linked event (the clock of the retention period)."""
        return self.store.query(
            """
            WITH m AS (
              SELECT person, bool_or("end" IS NULL) AS active, max(coalesce("end", start)) AS last_member
              FROM person_members WHERE agency = ? GROUP BY person
            ), l AS (
              SELECT p.person, max(e.date_end) AS last_event
              FROM person_links p JOIN events e
                ON e.agency = p.agency AND e.source = p.source AND e.source_id = p.source_id
              WHERE p.agency = ? GROUP BY p.person
            )
            SELECT m.person, m.active, greatest(m.last_member, coalesce(l.last_event, m.last_member)) AS last_seen
            FROM m LEFT JOIN l USING (person) ORDER BY m.person
            """,
            [agency, agency],
        )

    def expired(self, agency: str, days: int, today: date) -> list[str]:
        """Persons with no open membership whose last activity is more than ``days`` days old."""
        frame = self.last_activity(agency)
        if frame.empty:
            return []
        last = pd.to_datetime(frame["last_seen"]).dt.date
        old = (~frame["active"].astype(bool)) & last.map(lambda d: (today - d).days > days)
        return sorted(frame.loc[old, "person"].astype(str))
