"""Keeping one supply network in the store, so rounds and commands share it."""

from __future__ import annotations

import json

import pandas as pd

from vdto.errors import VdtoError
from vdto.network.graph import EDGE_COLUMNS, NODE_COLUMNS, SupplyNetwork
from vdto.store import Store


def save_network(store: Store, net: SupplyNetwork, origin: dict) -> None:
    """Replace the store's supply network with ``net`` in one transaction; ``origin`` says where it came from."""
    nodes = net.nodes[list(NODE_COLUMNS)]
    edges = net.edges[list(EDGE_COLUMNS)].copy()
    for col in ("start", "end"):
        edges[col] = pd.to_datetime(edges[col], errors="coerce")
    meta = {
        **{k: json.dumps(v, default=str) for k, v in net.meta.items()},
        **{f"origin.{k}": str(v) for k, v in origin.items()},
    }
    with store.transaction() as con:
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


def load_network(store: Store) -> SupplyNetwork:
    """The store's supply network (an error with the fix when there is none)."""
    nodes = store.query(f"SELECT {', '.join(NODE_COLUMNS)} FROM network_nodes ORDER BY id")
    if nodes.empty:
        raise VdtoError(
            "the store has no supply network",
            str(store.path),
            "import one with `vdto network import FILE` or make a synthetic one with `vdto network generate`",
        )
    edges = store.query("SELECT * FROM network_edges")
    for col in ("start", "end"):
        edges[col] = pd.to_datetime(edges[col])
    meta = {k: v for k, v in store.con.execute("SELECT key, value FROM network_meta").fetchall()}
    return SupplyNetwork.from_frames(nodes, edges, meta)
