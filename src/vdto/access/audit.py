"""The append-only audit log of every write to the API (and of ``vdto tokens``).

Each row says who (token id, agency and role, or ``anonymous``), when (UTC), what (method, path
and action) and the outcome (``ok``, ``refused``, ``failed`` or ``started``, the HTTP status and
a one-line detail). Rows are only ever inserted, never updated or deleted, and each carries the
SHA-256 of the previous row and its own (``prev_hash``, ``hash``), so a row changed or removed
later is found by :func:`verify_chain`.

An authorised write gets two rows: ``started`` before the work begins and its outcome after it,
so a server killed in the middle of an import still leaves a trace of the attempt. A refused
request (401, 403, or anything refused before the work begins) gets exactly one row.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from vdto.store import Store

OUTCOMES: tuple[str, ...] = ("started", "ok", "refused", "failed")
ZERO_HASH = "0" * 64
DETAIL_LIMIT = 500

_FIELDS = (
    "seq", "logged_at", "request_id", "actor", "agency", "role", "method", "path", "action", "outcome", "status",
    "detail", "prev_hash",
)  # fmt: skip


@dataclass(frozen=True)
class AuditEntry:
    """One row of the audit log."""

    seq: int
    logged_at: str
    request_id: str
    actor: str
    agency: str | None
    role: str | None
    method: str
    path: str
    action: str
    outcome: str
    status: int | None
    detail: str | None
    prev_hash: str
    hash: str

    def as_dict(self) -> dict:
        return {f: getattr(self, f) for f in (*_FIELDS, "hash")}


def _row_hash(values: dict) -> str:
    text = json.dumps(
        {k: values[k] for k in _FIELDS}, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _stamp(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def record(
    store: Store,
    *,
    request_id: str,
    actor: str,
    method: str,
    path: str,
    action: str,
    outcome: str,
    status: int | None = None,
    detail: str | None = None,
    agency: str | None = None,
    role: str | None = None,
) -> AuditEntry:
    """Append one row (in its own transaction) and return it.

    Parameters
    ----------
    store
        A store opened for writing.
    request_id
        Ties the ``started`` row of a request to its outcome row.
    actor
        ``token:<id>``, ``anonymous`` or ``cli``.
    method, path, action
        The HTTP method and path (``CLI`` and the command for ``vdto tokens``), and what was asked
        for (``import``, ``round.open``, ``token.create``...).
    outcome
        One of :data:`OUTCOMES`.
    status
        The HTTP status of the answer (None for ``started``).
    detail
        One line (cut to 500 characters); never a token secret.
    agency, role
        The caller's agency and role when known.
    """
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown audit outcome {outcome!r}")
    if detail is not None:
        detail = " ".join(detail.split())[:DETAIL_LIMIT]
    at = datetime.now(UTC).replace(tzinfo=None)
    with store.transaction() as con:
        last = con.execute("SELECT seq, hash FROM api_audit ORDER BY seq DESC LIMIT 1").fetchone()
        seq, prev = (last[0] + 1, last[1]) if last else (1, ZERO_HASH)
        values = {
            "seq": seq, "logged_at": _stamp(at), "request_id": request_id, "actor": actor, "agency": agency, "role": role,
            "method": method, "path": path[:500], "action": action, "outcome": outcome, "status": status,
            "detail": detail, "prev_hash": prev,
        }  # fmt: skip
        digest = _row_hash(values)
        con.execute(
            f"INSERT INTO api_audit ({', '.join(_FIELDS)}, hash) VALUES ({', '.join('?' * (len(_FIELDS) + 1))})",
            [*(at if k == "logged_at" else values[k] for k in _FIELDS), digest],
        )
    return AuditEntry(**values, hash=digest)


def _entry(row: tuple) -> AuditEntry:
    values = dict(zip((*_FIELDS, "hash"), row, strict=True))
    values["logged_at"] = _stamp(values["logged_at"])
    return AuditEntry(**values)


def entries(
    store: Store, *, agency: str | None = None, limit: int = 100, before: int | None = None
) -> list[AuditEntry]:
    """The latest rows, newest first: all, or those by ``agency``'s tokens or on its paths.

    ``before`` pages back: only rows with ``seq < before``.
    """
    where, params = [], []
    if agency is not None:
        where.append("(agency = ? OR path = ? OR path LIKE ?)")
        params += [agency, f"/agencies/{agency}", f"/agencies/{agency}/%"]
    if before is not None:
        where.append("seq < ?")
        params.append(before)
    sql = f"SELECT {', '.join(_FIELDS)}, hash FROM api_audit"
    if where:
        sql += " WHERE " + " AND ".join(where)
    rows = store.con.execute(sql + " ORDER BY seq DESC LIMIT ?", [*params, int(limit)]).fetchall()
    return [_entry(r) for r in rows]


def verify_chain(store: Store) -> tuple[bool, int | None, str]:
    """Check every row's hash and link; returns (ok, first bad seq, what is wrong)."""
    rows = store.con.execute(f"SELECT {', '.join(_FIELDS)}, hash FROM api_audit ORDER BY seq").fetchall()
    prev = ZERO_HASH
    for n, row in enumerate(rows, 1):
        entry = _entry(row)
        if entry.seq != n:
            return False, entry.seq, f"row {entry.seq}: expected seq {n} (rows removed?)"
        if entry.prev_hash != prev:
            return False, entry.seq, f"row {entry.seq}: prev_hash does not match row {n - 1}"
        if _row_hash(entry.as_dict()) != entry.hash:
            return False, entry.seq, f"row {entry.seq}: hash does not match the row (changed?)"
        prev = entry.hash
    return True, None, ""
