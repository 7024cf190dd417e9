"""The API's audit log as stored: one declaration of its row, the table and its SQL."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vdto.store.db import Store


def _sql(kind: str):
    return field(metadata={"sql": kind})


@dataclass(frozen=True)
class AuditEntry:
    """One row of the append-only audit log."""

    seq: int = _sql("BIGINT PRIMARY KEY")
    logged_at: str = _sql("TIMESTAMP NOT NULL")
    request_id: str = _sql("VARCHAR NOT NULL")
    actor: str = _sql("VARCHAR NOT NULL")
    agency: str | None = _sql("VARCHAR")
    role: str | None = _sql("VARCHAR")
    method: str = _sql("VARCHAR NOT NULL")
    path: str = _sql("VARCHAR NOT NULL")
    action: str = _sql("VARCHAR NOT NULL")
    outcome: str = _sql("VARCHAR NOT NULL")
    status: int | None = _sql("INTEGER")
    detail: str | None = _sql("VARCHAR")
    prev_hash: str = _sql("VARCHAR NOT NULL")
    hash: str = _sql("VARCHAR NOT NULL")

    def as_dict(self) -> dict:
        return {f: getattr(self, f) for f in COLUMNS}


#: The columns of a row, in order; every one but ``hash`` is covered by the row's hash.
COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(AuditEntry))
HASHED: tuple[str, ...] = COLUMNS[:-1]

DDL = (
    "CREATE TABLE IF NOT EXISTS api_audit (\n  "
    + ",\n  ".join(f"{f.name} {f.metadata['sql']}" for f in fields(AuditEntry))
    + "\n);\n"
)


def stamp(at: datetime) -> str:
    """How the log writes a time: UTC to the microsecond, ending in Z."""
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _entry(row: tuple) -> AuditEntry:
    values = dict(zip(COLUMNS, row, strict=True))
    values["logged_at"] = stamp(values["logged_at"])
    return AuditEntry(**values)


class AuditRepository:
    """The SQL of the ``api_audit`` table (rows are only ever inserted)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.con = store.con

    def last(self, con) -> tuple[int, str] | None:
        """(seq, hash) of the newest row, inside the caller's transaction."""
        row = con.execute("SELECT seq, hash FROM api_audit ORDER BY seq DESC LIMIT 1").fetchone()
        return (int(row[0]), str(row[1])) if row else None

    def insert(self, con, values: dict, at: datetime) -> None:
        """Append one row (``values`` holds every column; ``logged_at`` is stored as ``at``)."""
        con.execute(
            f"INSERT INTO api_audit ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
            [at if k == "logged_at" else values[k] for k in COLUMNS],
        )

    def entries(
        self, *, agency: str | None = None, limit: int = 100, before: int | None = None
    ) -> list[AuditEntry]:
        """The latest rows, newest first: all, or those by ``agency``'s tokens or on its paths."""
        where: list[str] = []
        params: list[object] = []
        if agency is not None:
            # exact: a prefix test, never a LIKE pattern (an agency named "m_" must not match "mx")
            where.append("(agency = ? OR path = ? OR starts_with(path, ?))")
            params += [agency, f"/agencies/{agency}", f"/agencies/{agency}/"]
        if before is not None:
            where.append("seq < ?")
            params.append(before)
        sql = f"SELECT {', '.join(COLUMNS)} FROM api_audit"
        if where:
            sql += " WHERE " + " AND ".join(where)
        rows = self.con.execute(sql + " ORDER BY seq DESC LIMIT ?", [*params, int(limit)]).fetchall()
        return [_entry(r) for r in rows]

    def all(self) -> list[AuditEntry]:
        """Every row, oldest first."""
        rows = self.con.execute(f"SELECT {', '.join(COLUMNS)} FROM api_audit ORDER BY seq").fetchall()
        return [_entry(r) for r in rows]
