"""The event store: one DuckDB file holding events, perpetrators, counts, imports and registry edits.

Every write goes through :meth:`Store.transaction`: all rows land or none do. The default file
is ``vdto.duckdb`` in the working directory; ``--db PATH`` or the ``VDTO_DB`` environment
variable choose another.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd

from vdto.errors import VdtoError
from vdto.orgs import Org, Registry
from vdto.schema import EVENT_FIELDS, PERPETRATOR_FIELDS

SCHEMA_VERSION = "2"
DEFAULT_DB = "vdto.duckdb"


def default_db_path() -> Path:
    """``$VDTO_DB`` if set, else ``vdto.duckdb`` in the working directory."""
    return Path(os.environ.get("VDTO_DB") or DEFAULT_DB)


def _columns(fields) -> str:
    return ",\n  ".join(f"{f.name} {f.dtype}{' NOT NULL' if f.required else ''}" for f in fields)


_DDL = f"""
CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE IF NOT EXISTS imports (
  import_id INTEGER PRIMARY KEY, namespace VARCHAR NOT NULL, kind VARCHAR NOT NULL, source VARCHAR, file_name VARCHAR NOT NULL,
  sha256 VARCHAR NOT NULL, mapping_sha256 VARCHAR,
  rows_read BIGINT, rows_imported BIGINT, rows_duplicate BIGINT, rows_rejected BIGINT, rows_skipped BIGINT,
  started_at TIMESTAMP, finished_at TIMESTAMP, vdto_version VARCHAR
);
CREATE TABLE IF NOT EXISTS events (
  namespace VARCHAR NOT NULL DEFAULT 'default',
  {_columns(EVENT_FIELDS)},
  import_id INTEGER NOT NULL,
  PRIMARY KEY (namespace, source, source_id)
);
CREATE TABLE IF NOT EXISTS perpetrators (
  namespace VARCHAR NOT NULL DEFAULT 'default',
  {_columns(PERPETRATOR_FIELDS)},
  import_id INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS region_counts (
  source VARCHAR NOT NULL, level VARCHAR NOT NULL, region_code VARCHAR NOT NULL,
  state_code VARCHAR NOT NULL, period DATE NOT NULL, measure VARCHAR NOT NULL,
  modality VARCHAR NOT NULL, count BIGINT NOT NULL, import_id INTEGER NOT NULL,
  PRIMARY KEY (source, region_code, period, measure, modality)
);
CREATE TABLE IF NOT EXISTS user_orgs (
  id VARCHAR PRIMARY KEY, name VARCHAR NOT NULL, kind VARCHAR NOT NULL, parent VARCHAR,
  status VARCHAR NOT NULL, note VARCHAR, added_at TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS rounds (
  round_id INTEGER PRIMARY KEY, status VARCHAR NOT NULL, window_from DATE NOT NULL, window_to DATE NOT NULL,
  agencies VARCHAR NOT NULL, require_agreement BOOLEAN NOT NULL, target VARCHAR, decision VARCHAR NOT NULL,
  evidence VARCHAR NOT NULL, opened_at TIMESTAMP NOT NULL, announced_at TIMESTAMP, closed_at TIMESTAMP,
  outcome VARCHAR, reason VARCHAR, ledger_hash VARCHAR
);
CREATE TABLE IF NOT EXISTS round_history (
  round_id INTEGER NOT NULL, logged_at TIMESTAMP NOT NULL, action VARCHAR NOT NULL, detail VARCHAR
);
CREATE TABLE IF NOT EXISTS dissents (
  round_id INTEGER NOT NULL, agency VARCHAR NOT NULL, logged_at TIMESTAMP NOT NULL, detail VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS dismantled (
  org_id VARCHAR PRIMARY KEY, round_id INTEGER, on_date DATE NOT NULL
);
CREATE TABLE IF NOT EXISTS network_nodes (
  id VARCHAR PRIMARY KEY, type VARCHAR NOT NULL, name VARCHAR, org_id VARCHAR, region VARCHAR, price DOUBLE, cost DOUBLE
);
CREATE TABLE IF NOT EXISTS network_edges (
  source VARCHAR NOT NULL, target VARCHAR NOT NULL, type VARCHAR NOT NULL, volume DOUBLE, share DOUBLE,
  confidence DOUBLE, weight DOUBLE, start DATE, "end" DATE
);
CREATE TABLE IF NOT EXISTS network_meta (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE IF NOT EXISTS user_aliases (
  alias VARCHAR PRIMARY KEY, org_id VARCHAR NOT NULL, added_at TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS api_tokens (
  token_id VARCHAR PRIMARY KEY, agency VARCHAR NOT NULL, role VARCHAR NOT NULL, label VARCHAR,
  salt VARCHAR NOT NULL, hash VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL, created_by VARCHAR NOT NULL,
  revoked_at TIMESTAMP, revoked_by VARCHAR
);
CREATE TABLE IF NOT EXISTS api_audit (
  seq BIGINT PRIMARY KEY, logged_at TIMESTAMP NOT NULL, request_id VARCHAR NOT NULL, actor VARCHAR NOT NULL,
  agency VARCHAR, role VARCHAR, method VARCHAR NOT NULL, path VARCHAR NOT NULL, action VARCHAR NOT NULL,
  outcome VARCHAR NOT NULL, status INTEGER, detail VARCHAR, prev_hash VARCHAR NOT NULL, hash VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS api_signoffs (
  round_id INTEGER NOT NULL, agency VARCHAR NOT NULL, token_id VARCHAR NOT NULL, signed_at TIMESTAMP NOT NULL,
  PRIMARY KEY (round_id, agency)
);
"""


DEFAULT_NAMESPACE = "default"
_NAMESPACE = re.compile(r"^[a-z0-9_-]{1,32}$")


def check_namespace(name: str) -> str:
    """An agency's namespace name: lowercase letters, digits, '-' and '_' (at most 32)."""
    if not _NAMESPACE.match(name or ""):
        raise VdtoError(
            f"{name!r} is not a valid agency name",
            fix="use lowercase letters, digits, '-' or '_', e.g. mx or us",
            param="agency",
        )
    return name


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
    namespace: str = DEFAULT_NAMESPACE


class Store:
    """A vdto event store (a DuckDB file).

    Parameters
    ----------
    path
        The DuckDB file; created with the vdto schema if it does not exist.
    read_only
        Open without write access (the file must exist).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with Store(pathlib.Path(tempfile.mkdtemp()) / "x.duckdb") as store:
    ...     store.count("events")
    0
    """

    def __init__(self, path: str | Path | None = None, *, read_only: bool = False) -> None:
        self.path = Path(path) if path is not None else default_db_path()
        if read_only and not self.path.exists():
            raise VdtoError(
                f"no store at {self.path}",
                "",
                "import data first, or give the path of an existing store",
            )
        try:
            self.con = duckdb.connect(str(self.path), read_only=read_only)
        except duckdb.Error as exc:
            raise VdtoError(
                f"cannot open the store ({str(exc).splitlines()[0]})",
                str(self.path),
                "check that it is a vdto DuckDB file and not in use by another process",
            ) from None
        if not read_only:
            self.con.execute(_DDL)
            self.con.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", [SCHEMA_VERSION])
        self._check_version()

    def _check_version(self) -> None:
        try:
            found = self.con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall()
        except duckdb.Error:
            found = []
        version = found[0][0] if found else None
        if version != SCHEMA_VERSION:
            self.con.close()
            raise VdtoError(
                f"store schema version {version} is not the version this vdto uses ({SCHEMA_VERSION})",
                str(self.path),
                "import the data again into a new store",
            )

    def namespaces(self) -> list[str]:
        """The agencies (namespaces) that hold events in this store."""
        return [r[0] for r in self.con.execute("SELECT DISTINCT namespace FROM events ORDER BY 1").fetchall()]

    def resolve_namespace(self, namespace: str | None) -> str:
        """``namespace`` if given; the only one in the store if not; an error naming them otherwise."""
        if namespace is not None:
            return check_namespace(namespace)
        names = self.namespaces()
        if len(names) == 1:
            return names[0]
        if not names:
            return DEFAULT_NAMESPACE
        raise VdtoError(
            f"the store holds the data of several agencies ({', '.join(names)})",
            str(self.path),
            "pick one with {agency}",
            mentions=("agency",),
        )

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """All statements inside commit together, or roll back on any exception."""
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield self.con
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self.con.execute("COMMIT")

    # -- queries --------------------------------------------------------------------------
    def count(self, table: str) -> int:
        return int(self.con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])

    def query(self, sql: str, params: list | None = None) -> pd.DataFrame:
        return self.con.execute(sql, params or []).df()

    def imports(self) -> pd.DataFrame:
        return self.query("SELECT * FROM imports ORDER BY import_id")

    # -- registry -------------------------------------------------------------------------
    def registry(self, base: Registry | None = None) -> Registry:
        """The seed registry (or ``base``) with the organizations and aliases users added here."""
        base = base or Registry.seed()
        orgs = [
            Org(
                id=r.id,
                name=r.name,
                kind=r.kind,
                parent=r.parent,
                status=r.status,
                note=r.note or "",
                sources=("user",),
            )
            for r in self.con.execute("SELECT * FROM user_orgs ORDER BY added_at").df().itertuples()
        ]
        aliases = self.con.execute("SELECT alias, org_id FROM user_aliases ORDER BY added_at").fetchall()
        gone = self.con.execute("SELECT org_id, on_date FROM dismantled").fetchall()
        reg = base.with_additions(orgs, aliases) if orgs or aliases else base
        return reg.with_status({org: on for org, on in gone}) if gone else reg

    def add_org(self, org: Org) -> None:
        """Register a new organization (checked against the registry first)."""
        self.registry().with_additions([org])
        with self.transaction() as con:
            con.execute(
                "INSERT INTO user_orgs VALUES (?, ?, ?, ?, ?, ?, ?)",
                [org.id, org.name, org.kind, org.parent, org.status, org.note, datetime.now(UTC)],
            )
        self._reresolve()

    def add_alias(self, alias: str, org_id: str) -> None:
        """Add an alias for an organization (checked for clashes first)."""
        self.registry().with_additions(aliases=[(alias, org_id)])
        with self.transaction() as con:
            con.execute("INSERT INTO user_aliases VALUES (?, ?, ?)", [alias, org_id, datetime.now(UTC)])
        self._reresolve()

    def _reresolve(self) -> int:
        """Resolve perpetrator names that were unresolved, with the current registry."""
        reg = self.registry()
        names = [
            r[0]
            for r in self.con.execute(
                "SELECT DISTINCT raw_name FROM perpetrators WHERE org_id IS NULL"
            ).fetchall()
        ]
        fixed = 0
        with self.transaction() as con:
            for name in names:
                m = reg.resolve(name)
                if m.org_id is not None:
                    con.execute(
                        "UPDATE perpetrators SET org_id = ?, faction_id = ?, faction = ? WHERE org_id IS NULL AND raw_name = ?",
                        [m.org_id, m.faction_id, m.faction, name],
                    )
                    fixed += 1
        return fixed

    def unresolved_names(self) -> pd.DataFrame:
        """Perpetrator names the registry cannot resolve, with how many events name them."""
        return self.query(
            "SELECT raw_name, count(DISTINCT source || ':' || source_id) AS events FROM perpetrators "
            "WHERE org_id IS NULL GROUP BY raw_name ORDER BY events DESC, raw_name"
        )

    # -- writes ---------------------------------------------------------------------------
    def next_import_id(self) -> int:
        return int(self.con.execute("SELECT coalesce(max(import_id), 0) + 1 FROM imports").fetchall()[0][0])
