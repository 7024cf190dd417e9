"""What users added to the organization registry in this store: organizations and aliases."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from vdto.orgs import Org, Registry

if TYPE_CHECKING:
    from vdto.store.db import Store

DDL = """
CREATE TABLE IF NOT EXISTS user_orgs (
  id VARCHAR PRIMARY KEY, name VARCHAR NOT NULL, kind VARCHAR NOT NULL, parent VARCHAR,
  status VARCHAR NOT NULL, note VARCHAR, added_at TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS user_aliases (
  alias VARCHAR PRIMARY KEY, org_id VARCHAR NOT NULL, added_at TIMESTAMP NOT NULL
);
"""


class RegistryRepository:
    """The SQL of the ``user_orgs`` and ``user_aliases`` tables."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.con = store.con

    def registry(self, base: Registry | None = None) -> Registry:
        """The seed registry (or ``base``) with this store's organizations and aliases, and the
        organizations rounds dismantled marked so."""
        base = base or Registry.seed()
        orgs = [
            Org(id=r.id, name=r.name, kind=r.kind, parent=r.parent, status=r.status, note=r.note or "",
                sources=("user",))
            for r in self.con.execute("SELECT * FROM user_orgs ORDER BY added_at").df().itertuples()
        ]  # fmt: skip
        aliases = self.con.execute("SELECT alias, org_id FROM user_aliases ORDER BY added_at").fetchall()
        gone = self.store.rounds.dismantled_on()
        reg = base.with_additions(orgs, aliases) if orgs or aliases else base
        return reg.with_status(gone) if gone else reg

    def add_org(self, org: Org) -> int:
        """Register a new organization (checked against the registry first); unresolved names it
        matches are resolved. Returns how many names were resolved."""
        self.registry().with_additions([org])
        with self.store.transaction() as con:
            con.execute(
                "INSERT INTO user_orgs VALUES (?, ?, ?, ?, ?, ?, ?)",
                [org.id, org.name, org.kind, org.parent, org.status, org.note, datetime.now(UTC)],
            )
        return self.store.events.resolve_names(self.registry().resolve)

    def add_alias(self, alias: str, org_id: str) -> int:
        """Add an alias for an organization (checked for clashes first); returns how many
        unresolved names it resolved."""
        self.registry().with_additions(aliases=[(alias, org_id)])
        with self.store.transaction() as con:
            con.execute("INSERT INTO user_aliases VALUES (?, ?, ?)", [alias, org_id, datetime.now(UTC)])
        return self.store.events.resolve_names(self.registry().resolve)
