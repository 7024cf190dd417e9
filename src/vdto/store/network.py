"""One supply network in the store, so rounds and commands share it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from vdto.errors import VdtoError

if TYPE_CHECKING:
    from vdto.store.db import Store

DDL = """
CREATE TABLE IF NOT EXISTS network_nodes (
  id VARCHAR PRIMARY KEY, type VARCHAR NOT NULL, name VARCHAR, org_id VARCHAR, region VARCHAR, price DOUBLE, cost DOUBLE
);
CREATE TABLE IF NOT EXISTS network_edges (
  source VARCHAR NOT NULL, target VARCHAR NOT NULL, type VARCHAR NOT NULL, volume DOUBLE, share DOUBLE,
  confidence DOUBLE, weight DOUBLE, start DATE, "end" DATE
);
CREATE TABLE IF NOT EXISTS network_meta (key VARCHAR PRIMARY KEY, value VARCHAR);
"""

#: The stored columns, in the order of the tables.
NODE_COLUMNS: tuple[str, ...] = ("id", "type", "name", "org_id", "region", "price", "cost")
EDGE_COLUMNS: tuple[str, ...] = (
    "source",
    "target",
    "type",
    "volume",
    "share",
    "confidence",
    "weight",
    "start",
    "end",
)


class NetworkRepository:
    """The SQL of the ``network_*`` tables: one network's node and edge frames and its metadata."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.con = store.con

    def exists(self) -> bool:
        """Whether the store holds a supply network."""
        return self.store.count("network_nodes") > 0

    def save(self, nodes: pd.DataFrame, edges: pd.DataFrame, meta: dict[str, str]) -> None:
        """Replace the stored network with these frames and metadata, in one transaction."""
        nodes = nodes[list(NODE_COLUMNS)]
        edges = edges[list(EDGE_COLUMNS)].copy()
        for col in ("start", "end"):
            edges[col] = pd.to_datetime(edges[col], errors="coerce")
        with self.store.transaction() as con:
            con.execute("DELETE FROM network_nodes")
            con.execute("DELETE FROM network_edges")
            con.execute("DELETE FROM network_meta")
            con.register("incoming_nodes", nodes)
            con.register("incoming_edges", edges)
            con.execute(f"INSERT INTO network_nodes SELECT {', '.join(NODE_COLUMNS)} FROM incoming_nodes")
            cols = ", ".join(f'"{c}"' for c in EDGE_COLUMNS)
            con.execute(f"INSERT INTO network_edges ({cols}) SELECT {cols} FROM incoming_edges")
            for k, v in meta.items():
                con.execute("INSERT INTO network_meta VALUES (?, ?)", [k, v])
            con.unregister("incoming_nodes")
            con.unregister("incoming_edges")

    def load(self) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, str]]:
        """The stored node and edge frames and metadata (an error with the fix when there is none)."""
        nodes = self.store.query(f"SELECT {', '.join(NODE_COLUMNS)} FROM network_nodes ORDER BY id")
        if nodes.empty:
            raise VdtoError(
                "the store has no supply network",
                str(self.store.path),
                "import one, or generate a synthetic one",
            )
        edges = self.store.query("SELECT * FROM network_edges")
        for col in ("start", "end"):
            edges[col] = pd.to_datetime(edges[col])
        meta = {k: v for k, v in self.con.execute("SELECT key, value FROM network_meta").fetchall()}
        return nodes, edges, meta
