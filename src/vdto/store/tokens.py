"""API tokens as stored: id, agency, role, label, salt and salted hash (never the secret)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vdto.store.db import Store

DDL = """
CREATE TABLE IF NOT EXISTS api_tokens (
  token_id VARCHAR PRIMARY KEY, agency VARCHAR NOT NULL, role VARCHAR NOT NULL, label VARCHAR,
  salt VARCHAR NOT NULL, hash VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL, created_by VARCHAR NOT NULL,
  revoked_at TIMESTAMP, revoked_by VARCHAR, expires_at TIMESTAMP
);
"""


@dataclass(frozen=True)
class TokenInfo:
    """A token as listed: never its secret."""

    token_id: str
    agency: str
    role: str
    label: str
    created_at: str
    created_by: str
    revoked_at: str | None
    revoked_by: str | None
    expires_at: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)


_LISTED = "token_id, agency, role, label, created_at, created_by, revoked_at, revoked_by, expires_at"


def stamp(value: datetime | None) -> str | None:
    """How a token's times are shown: UTC to the second, ending in Z."""
    return None if value is None else value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _info(row: tuple) -> TokenInfo:
    token_id, agency, role, label, created_at, created_by, revoked_at, revoked_by, expires_at = row
    return TokenInfo(
        token_id,
        agency,
        role,
        label or "",
        stamp(created_at) or "",
        created_by,
        stamp(revoked_at),
        revoked_by,
        stamp(expires_at),
    )


class TokenRepository:
    """The SQL of the ``api_tokens`` table."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.con = store.con

    def add(self, token_id: str, agency: str, role: str, label: str, salt: str, digest: str,
            created_at: datetime, created_by: str, expires_at: datetime | None = None) -> None:  # fmt: skip
        with self.store.transaction() as con:
            con.execute(
                "INSERT INTO api_tokens (token_id, agency, role, label, salt, hash, created_at, created_by, "
                "expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [token_id, agency, role, label, salt, digest, created_at, created_by, expires_at],
            )

    def info(self, token_id: str) -> TokenInfo | None:
        """A token's listing, or None when there is no such token."""
        row = self.con.execute(f"SELECT {_LISTED} FROM api_tokens WHERE token_id = ?", [token_id]).fetchone()
        return None if row is None else _info(row)

    def secret_check(self, token_id: str) -> tuple | None:
        """(agency, role, label, salt, hash, revoked_at, expires_at) of a token, to check a presented secret."""
        return self.con.execute(
            "SELECT agency, role, label, salt, hash, revoked_at, expires_at FROM api_tokens WHERE token_id = ?",
            [token_id],
        ).fetchone()

    def revoke(self, token_id: str, at: datetime, by: str) -> None:
        with self.store.transaction() as con:
            con.execute(
                "UPDATE api_tokens SET revoked_at = ?, revoked_by = ? WHERE token_id = ? AND revoked_at IS NULL",
                [at, by, token_id],
            )

    def listing(self, agency: str | None = None) -> list[TokenInfo]:
        """Every token (of ``agency`` when given), oldest first."""
        sql = f"SELECT {_LISTED} FROM api_tokens"
        params: list = []
        if agency is not None:
            sql += " WHERE agency = ?"
            params.append(agency)
        return [_info(r) for r in self.con.execute(sql + " ORDER BY created_at, token_id", params).fetchall()]
