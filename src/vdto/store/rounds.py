"""Rounds of the strategy as stored: the round, its history, dissents, sign-offs and what it dismantled."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from vdto.store.db import Store

DDL = """
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
CREATE TABLE IF NOT EXISTS api_signoffs (
  round_id INTEGER NOT NULL, agency VARCHAR NOT NULL, token_id VARCHAR NOT NULL, signed_at TIMESTAMP NOT NULL,
  PRIMARY KEY (round_id, agency)
);
CREATE TABLE IF NOT EXISTS close_requests (
  round_id INTEGER NOT NULL, agency VARCHAR NOT NULL, outcome VARCHAR NOT NULL, reason VARCHAR,
  token_id VARCHAR NOT NULL, asked_at TIMESTAMP NOT NULL, PRIMARY KEY (round_id, agency)
);
CREATE TABLE IF NOT EXISTS signing_requests (
  round_id INTEGER NOT NULL, purpose VARCHAR NOT NULL, request_sha256 VARCHAR NOT NULL,
  request_json VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL, PRIMARY KEY (round_id, purpose)
);
CREATE TABLE IF NOT EXISTS request_signatures (
  round_id INTEGER NOT NULL, purpose VARCHAR NOT NULL, request_sha256 VARCHAR NOT NULL, agency VARCHAR NOT NULL,
  signature_json VARCHAR NOT NULL, token_id VARCHAR NOT NULL, signed_at TIMESTAMP NOT NULL,
  PRIMARY KEY (request_sha256, agency)
);
"""


@dataclass(frozen=True)
class Round:
    """One round as stored."""

    round_id: int
    status: str  # open | announced | closed
    window_from: date
    window_to: date
    agencies: tuple[str, ...]
    require_agreement: bool
    target: str | None
    decision: dict
    evidence: dict  # agency -> public scorecard
    opened_at: datetime
    announced_at: datetime | None
    closed_at: datetime | None
    outcome: str | None
    reason: str | None
    ledger_hash: str | None

    @property
    def lead(self) -> str:
        """The agency that leads the round (listed first)."""
        return self.agencies[0]

    @property
    def required_signers(self) -> tuple[str, ...]:
        """Who must sign the announcement: every agency when the round needs agreement, else the lead."""
        return self.agencies if self.require_agreement else self.agencies[:1]


def now() -> datetime:
    """The time rounds record: UTC, to the second."""
    return datetime.now(UTC).replace(microsecond=0)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _time(value: Any) -> datetime | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).to_pydatetime()


def _round(r: pd.Series) -> Round:
    return Round(
        int(r["round_id"]), r["status"], pd.Timestamp(r["window_from"]).date(), pd.Timestamp(r["window_to"]).date(),
        tuple(r["agencies"].split(",")), bool(r["require_agreement"]), _text(r["target"]),
        json.loads(r["decision"]), json.loads(r["evidence"]), pd.Timestamp(r["opened_at"]).to_pydatetime(),
        _time(r["announced_at"]),
        _time(r["closed_at"]), _text(r["outcome"]), _text(r["reason"]), _text(r["ledger_hash"]),
    )  # fmt: skip


class RoundRepository:
    """The SQL of the ``rounds``, ``round_history``, ``dissents``, ``dismantled``, ``api_signoffs``,
    ``close_requests``, ``signing_requests`` and ``request_signatures`` tables.

    ``signing_requests`` holds at most one pending ledger signing request per round and purpose
    (``announce`` or ``close``), as the JSON the agencies sign (``vdto sign``);
    ``request_signatures`` the detached signatures the agencies sent for a request (by its
    SHA-256), kept after the request is appended as the record of who signed it and with which
    token."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.con = store.con

    # -- reads ----------------------------------------------------------------------------
    def get(self, round_id: int | None = None, *, published_only: bool = False) -> Round | None:
        """A round by id (the latest when ``round_id`` is None), or None when there is none (or it
        is not announced and ``published_only``)."""
        published = " AND announced_at IS NOT NULL" if published_only else ""
        if round_id is None:
            rows = self.store.query(
                f"SELECT * FROM rounds WHERE TRUE{published} ORDER BY round_id DESC LIMIT 1"
            )
        else:
            rows = self.store.query(f"SELECT * FROM rounds WHERE round_id = ?{published}", [round_id])
        return None if rows.empty else _round(rows.iloc[0])

    def ids(self, *, published_only: bool = False) -> list[int]:
        """Rounds, oldest first; only those announced (published) when ``published_only``."""
        sql = "SELECT round_id FROM rounds" + (" WHERE announced_at IS NOT NULL" if published_only else "")
        return [int(r[0]) for r in self.con.execute(sql + " ORDER BY round_id").fetchall()]

    def all(self, *, published_only: bool = False) -> list[Round]:
        """Every round, oldest first (announced ones only when ``published_only``)."""
        sql = "SELECT * FROM rounds" + (" WHERE announced_at IS NOT NULL" if published_only else "")
        return [_round(r) for _, r in self.store.query(sql + " ORDER BY round_id").iterrows()]

    def frame(self) -> pd.DataFrame:
        """Every round with its status, window, target and outcome, as text."""
        return self.store.query(
            """SELECT round_id, status, strftime(window_from, '%Y-%m-%d') AS window_from,
                      strftime(window_to, '%Y-%m-%d') AS window_to, agencies, target,
                      strftime(opened_at, '%Y-%m-%d %H:%M') AS opened_at, strftime(announced_at, '%Y-%m-%d %H:%M') AS announced_at,
                      strftime(closed_at, '%Y-%m-%d %H:%M') AS closed_at, outcome, reason, ledger_hash
               FROM rounds ORDER BY round_id"""
        )

    def unfinished(self) -> tuple[int, str] | None:
        """(id, status) of a round not closed yet, or None."""
        row = self.con.execute(
            "SELECT round_id, status FROM rounds WHERE status <> 'closed' ORDER BY round_id LIMIT 1"
        ).fetchone()
        return (int(row[0]), str(row[1])) if row else None

    def published_agencies(self) -> set[str]:
        """Every agency that took part in an announced round."""
        rows = self.con.execute("SELECT agencies FROM rounds WHERE announced_at IS NOT NULL").fetchall()
        return {a for (agencies,) in rows for a in agencies.split(",")}

    def dissents(self, round_id: int | None = None) -> pd.DataFrame:
        """Recorded dissents (of one round when given)."""
        sql = "SELECT round_id, agency, logged_at, detail FROM dissents"
        return self.store.query(
            sql + (" WHERE round_id = ?" if round_id else "") + " ORDER BY round_id, agency",
            [round_id] if round_id else [],
        )

    def dismantled_before(self, round_id: int | None = None) -> frozenset[str]:
        """Organizations dismantled by the rounds before ``round_id`` (by every round when None)."""
        sql = "SELECT org_id FROM dismantled" + (" WHERE round_id < ?" if round_id is not None else "")
        params = [round_id] if round_id is not None else []
        return frozenset(r[0] for r in self.con.execute(sql, params).fetchall())

    def dismantled_on(self) -> dict[str, date]:
        """Every organization a round dismantled, with the date."""
        return {org: on for org, on in self.con.execute("SELECT org_id, on_date FROM dismantled").fetchall()}

    def signoffs(self, round_id: int) -> list[str]:
        """The agencies that signed a round's announcement, in order."""
        rows = self.con.execute(
            "SELECT agency FROM api_signoffs WHERE round_id = ? ORDER BY agency", [round_id]
        ).fetchall()
        return [r[0] for r in rows]

    def announcement_signers(self, round_id: int) -> list[str] | None:
        """The agencies whose keys signed the round's announcement, as its ``announce`` history line
        records them (``signed_by``); None when the history holds no such line."""
        rows = self.con.execute(
            "SELECT detail FROM round_history WHERE round_id = ? AND action = 'announce' ORDER BY logged_at DESC",
            [round_id],
        ).fetchall()
        for (detail,) in rows:
            try:
                signed = json.loads(detail).get("signed_by") if detail else None
            except (ValueError, AttributeError):
                continue
            if isinstance(signed, list):
                return [str(a) for a in signed]
        return None

    def close_requests(self, round_id: int) -> dict[str, tuple[str, str]]:
        """Per agency that asked to close a round: (outcome, reason)."""
        rows = self.con.execute(
            "SELECT agency, outcome, coalesce(reason, '') FROM close_requests WHERE round_id = ? ORDER BY agency",
            [round_id],
        ).fetchall()
        return {a: (o, r) for a, o, r in rows}

    def signing_request(self, round_id: int, purpose: str) -> dict | None:
        """The pending signing request of a round for ``purpose`` (``announce`` or ``close``), or None."""
        row = self.con.execute(
            "SELECT request_json FROM signing_requests WHERE round_id = ? AND purpose = ?",
            [round_id, purpose],
        ).fetchone()
        return json.loads(row[0]) if row else None

    def request_signatures(self, request_sha256: str) -> dict[str, dict]:
        """The detached signatures sent for the request ``request_sha256``, by agency."""
        rows = self.con.execute(
            "SELECT agency, signature_json FROM request_signatures WHERE request_sha256 = ? ORDER BY agency",
            [request_sha256],
        ).fetchall()
        return {a: json.loads(s) for a, s in rows}

    # -- writes (each inside the caller's transaction ``con``) ------------------------------
    def create(
        self, con, start: date, end: date, agencies: list[str], require_agreement: bool, target: str | None,
        decision: dict, evidence: dict,
    ) -> int:  # fmt: skip
        """Store a new open round; returns its id."""
        round_id = int(con.execute("SELECT coalesce(max(round_id), 0) + 1 FROM rounds").fetchall()[0][0])
        con.execute(
            "INSERT INTO rounds (round_id, status, window_from, window_to, agencies, require_agreement, target, decision,"
            " evidence, opened_at) VALUES (?, 'open', ?, ?, ?, ?, ?, ?, ?, ?)",
            [round_id, start, end, ",".join(agencies), require_agreement, target, json.dumps(decision, sort_keys=True),
             json.dumps(evidence, sort_keys=True, ensure_ascii=False), now()],
        )  # fmt: skip
        return round_id

    def log(self, con, round_id: int, action: str, detail: dict | str) -> None:
        """Add a line to the round's history."""
        text = detail if isinstance(detail, str) else json.dumps(detail, ensure_ascii=False, sort_keys=True)
        con.execute("INSERT INTO round_history VALUES (?, ?, ?, ?)", [round_id, now(), action, text])

    def add_dissent(self, con, round_id: int, agency: str, detail: str) -> None:
        con.execute("INSERT INTO dissents VALUES (?, ?, ?, ?)", [round_id, agency, now(), detail])

    def mark_announced(self, con, round_id: int, ledger_hash: str) -> None:
        con.execute(
            "UPDATE rounds SET status = 'announced', announced_at = ?, ledger_hash = ? WHERE round_id = ?",
            [now(), ledger_hash, round_id],
        )

    def mark_closed(self, con, round_id: int, outcome: str, reason: str) -> None:
        con.execute(
            "UPDATE rounds SET status = 'closed', closed_at = ?, outcome = ?, reason = ? WHERE round_id = ?",
            [now(), outcome, reason, round_id],
        )

    def add_dismantled(self, con, org_id: str, round_id: int, on: date) -> None:
        con.execute("INSERT OR REPLACE INTO dismantled VALUES (?, ?, ?)", [org_id, round_id, on])

    def add_close_request(
        self, con, round_id: int, agency: str, outcome: str, reason: str, token_id: str
    ) -> None:
        con.execute(
            "INSERT INTO close_requests VALUES (?, ?, ?, ?, ?, ?)",
            [round_id, agency, outcome, reason, token_id, datetime.now(UTC).replace(tzinfo=None)],
        )

    def add_signoff(self, con, round_id: int, agency: str, token_id: str) -> None:
        con.execute(
            "INSERT INTO api_signoffs VALUES (?, ?, ?, ?)",
            [round_id, agency, token_id, datetime.now(UTC).replace(tzinfo=None)],
        )

    def put_signing_request(self, con, round_id: int, purpose: str, request: dict) -> None:
        """Make ``request`` the round's pending request for ``purpose`` (replacing any other)."""
        con.execute("DELETE FROM signing_requests WHERE round_id = ? AND purpose = ?", [round_id, purpose])
        con.execute(
            "INSERT INTO signing_requests VALUES (?, ?, ?, ?, ?)",
            [round_id, purpose, request["sha256"], json.dumps(request, sort_keys=True, ensure_ascii=False),
             datetime.now(UTC).replace(tzinfo=None)],
        )  # fmt: skip

    def clear_signing_request(self, con, round_id: int, purpose: str) -> None:
        """Drop the round's pending request for ``purpose`` (its signatures stay on record)."""
        con.execute("DELETE FROM signing_requests WHERE round_id = ? AND purpose = ?", [round_id, purpose])

    def add_request_signature(self, con, round_id: int, purpose: str, signature: dict, token_id: str) -> None:
        """Keep an agency's detached signature of a pending request."""
        con.execute(
            "INSERT INTO request_signatures VALUES (?, ?, ?, ?, ?, ?, ?)",
            [round_id, purpose, signature["request_sha256"], signature["agency"],
             json.dumps(signature, sort_keys=True), token_id, datetime.now(UTC).replace(tzinfo=None)],
        )  # fmt: skip
