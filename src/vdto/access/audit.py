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
from dataclasses import replace
from datetime import UTC, datetime

from vdto.store import Store
from vdto.store.audit import HASHED, AuditEntry, stamp

OUTCOMES: tuple[str, ...] = ("started", "ok", "refused", "failed")
ZERO_HASH = "0" * 64
DETAIL_LIMIT = 500


def _row_hash(values: dict) -> str:
    text = json.dumps(
        {k: values[k] for k in HASHED}, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


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
        last = store.audit.last(con)
        seq, prev = (last[0] + 1, last[1]) if last else (1, ZERO_HASH)
        entry = AuditEntry(
            seq=seq, logged_at=stamp(at), request_id=request_id, actor=actor, agency=agency, role=role,
            method=method, path=path[:500], action=action, outcome=outcome, status=status, detail=detail,
            prev_hash=prev, hash="",
        )  # fmt: skip
        entry = replace(entry, hash=_row_hash(entry.as_dict()))
        store.audit.insert(con, entry.as_dict(), at)
    return entry


def entries(
    store: Store, *, agency: str | None = None, limit: int = 100, before: int | None = None
) -> list[AuditEntry]:
    """The latest rows, newest first: all, or those by ``agency``'s tokens or on its paths.

    ``before`` pages back: only rows with ``seq < before``.
    """
    return store.audit.entries(agency=agency, limit=limit, before=before)


def verify_chain(store: Store) -> tuple[bool, int | None, str]:
    """Check every row's hash and link; returns (ok, first bad seq, what is wrong)."""
    prev = ZERO_HASH
    for n, entry in enumerate(store.audit.all(), 1):
        if entry.seq != n:
            return False, entry.seq, f"row {entry.seq}: expected seq {n} (rows removed?)"
        if entry.prev_hash != prev:
            return False, entry.seq, f"row {entry.seq}: prev_hash does not match row {n - 1}"
        if _row_hash(entry.as_dict()) != entry.hash:
            return False, entry.seq, f"row {entry.seq}: hash does not match the row (changed?)"
        prev = entry.hash
    return True, None, ""
