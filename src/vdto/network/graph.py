"""The supply network: typed nodes and typed, dated edges, held as two data frames.

Nodes are organizations (``organization``), their cells or plazas (``cell``), US wholesalers
(``wholesaler``) and distributors (``distributor``), and cities or ports of entry (``city``).
Edges are ``supplies`` (from seller to buyer, with a volume per year, the share of the buyer's
supply it is, a confidence and dates), ``alliance`` and ``rivalry`` (undirected, between
organizations or cells, with a weight). Computation works on the frames (NumPy/SciPy); the
graph library is used for paths and file formats (docs/network.md says which and why).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from vdto.store.network import EDGE_COLUMNS as STORED_EDGE_COLUMNS
from vdto.store.network import NODE_COLUMNS as STORED_NODE_COLUMNS

if TYPE_CHECKING:
    from vdto.store import Store


class NodeType(StrEnum):
    ORGANIZATION = "organization"
    CELL = "cell"
    WHOLESALER = "wholesaler"
    DISTRIBUTOR = "distributor"
    CITY = "city"


class EdgeType(StrEnum):
    SUPPLIES = "supplies"
    ALLIANCE = "alliance"
    RIVALRY = "rivalry"


#: Columns of the node frame: id (unique string), type (NodeType), name, org_id (registry id of
#: an organization, or of the organization a cell belongs to; empty otherwise), region (free
#: text, e.g. a US state or a Mexican state code), price (US dollars per unit a buyer pays; NaN
#: when unknown), cost (agent-hours to build a case against this buyer; NaN = 1 case).
#: Columns of the edge frame: source, target (node ids), type (EdgeType), volume (units per
#: year for supplies; NaN otherwise), share (the share of the target's supply this edge is;
#: NaN to derive it from volumes), confidence (0..1), weight (alliance/rivalry strength, e.g.
#: number of states where the tie is observed), start, end (dates; NaT = open). The store keeps
#: the same columns (:mod:`vdto.store.network`).
NODE_COLUMNS, EDGE_COLUMNS = STORED_NODE_COLUMNS, STORED_EDGE_COLUMNS

#: Which node types may supply which (seller type -> buyer types).
SUPPLY_RULES: dict[str, frozenset[str]] = {
    NodeType.ORGANIZATION: frozenset(
        {NodeType.CELL, NodeType.WHOLESALER, NodeType.DISTRIBUTOR, NodeType.CITY}
    ),
    NodeType.CELL: frozenset({NodeType.CELL, NodeType.WHOLESALER, NodeType.DISTRIBUTOR, NodeType.CITY}),
    NodeType.CITY: frozenset({NodeType.WHOLESALER, NodeType.DISTRIBUTOR}),
    NodeType.WHOLESALER: frozenset({NodeType.WHOLESALER, NodeType.DISTRIBUTOR}),
    NodeType.DISTRIBUTOR: frozenset({NodeType.DISTRIBUTOR}),
}

#: US-side buyers an enforcement package can pressure.
BUYER_TYPES: frozenset[str] = frozenset({NodeType.WHOLESALER, NodeType.DISTRIBUTOR})


@dataclass
class SupplyNetwork:
    """A supply network: ``nodes`` and ``edges`` frames with the columns above.

    Use :meth:`from_frames` to build one from partial frames (missing columns get defaults).
    """

    nodes: pd.DataFrame
    edges: pd.DataFrame
    meta: dict = field(default_factory=dict)  # e.g. generator seed and parameters, source file hash

    @classmethod
    def from_frames(cls, nodes: pd.DataFrame, edges: pd.DataFrame, meta: dict | None = None) -> SupplyNetwork:
        nodes = nodes.copy()
        edges = edges.copy()
        defaults_n = {"name": None, "org_id": None, "region": None, "price": np.nan, "cost": np.nan}
        for col in NODE_COLUMNS:
            if col not in nodes:
                nodes[col] = defaults_n.get(col)
        defaults_e = {
            "volume": np.nan,
            "share": np.nan,
            "confidence": 1.0,
            "weight": np.nan,
            "start": pd.NaT,
            "end": pd.NaT,
        }
        for col in EDGE_COLUMNS:
            if col not in edges:
                edges[col] = defaults_e.get(col)
        nodes["name"] = nodes["name"].where(nodes["name"].notna(), nodes["id"])
        return cls(
            nodes[list(NODE_COLUMNS)].reset_index(drop=True),
            edges[list(EDGE_COLUMNS)].reset_index(drop=True),
            dict(meta or {}),
        )

    def supplies(self) -> pd.DataFrame:
        return self.edges[self.edges["type"] == EdgeType.SUPPLIES.value]

    def ties(self, kind: EdgeType) -> pd.DataFrame:
        return self.edges[self.edges["type"] == kind.value]

    def save(self, store: Store, origin: dict) -> None:
        """Replace the store's supply network with this one; ``origin`` says where it came from."""
        meta = {
            **{k: json.dumps(v, default=str) for k, v in self.meta.items()},
            **{f"origin.{k}": str(v) for k, v in origin.items()},
        }
        store.network.save(self.nodes, self.edges, meta)

    @classmethod
    def load(cls, store: Store) -> SupplyNetwork:
        """The store's supply network (an error with the fix when there is none)."""
        return cls.from_frames(*store.network.load())

    def stats(self) -> dict[str, int]:
        """Counts of nodes by type and edges by type."""
        out = {f"nodes_{k}": int(v) for k, v in self.nodes["type"].value_counts().sort_index().items()}
        out |= {f"edges_{k}": int(v) for k, v in self.edges["type"].value_counts().sort_index().items()}
        out["nodes"] = len(self.nodes)
        out["edges"] = len(self.edges)
        return out

    def synthetic_label(self) -> str | None:
        """``"the synthetic supply network (seed 1)"`` when the generator made it, else None
        (see :func:`synthetic_label`)."""
        return synthetic_label(self.meta)


def meta_value(meta: dict, key: str) -> Any:
    """A network meta value, decoded where it is JSON text (the store keeps every value so)."""
    value = meta.get(key)
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def is_synthetic(meta: dict) -> bool:
    """Whether ``meta`` (a network's, as generated, stored or read back from a file) says the
    generator (:mod:`vdto.network.synthetic`) made the network."""
    origin = str(meta.get("origin.generator") or "")
    return meta_value(meta, "synthetic") is True or origin.startswith("vdto.network.synthetic")


def synthetic_seed(meta: dict) -> int | None:
    """The generator's seed of a synthetic network (None when not synthetic or not recorded)."""
    if not is_synthetic(meta):
        return None
    params = meta_value(meta, "params")
    for seed in (
        params.get("seed") if isinstance(params, dict) else None,
        meta_value(meta, "seed"),
        meta_value(meta, "origin.seed"),
    ):
        if isinstance(seed, int) and not isinstance(seed, bool):
            return seed
    return None


def synthetic_label(meta: dict) -> str | None:
    """``"the synthetic supply network (seed 1)"`` when ``meta`` says the generator made the
    network (its volumes, prices and customers are invented), else None.

    Examples
    --------
    >>> synthetic_label({"synthetic": True, "seed": 1}), synthetic_label({"synthetic": "true"})
    ('the synthetic supply network (seed 1)', 'the synthetic supply network')
    >>> synthetic_label({"origin.file": "edges.csv"}) is None
    True
    """
    if not is_synthetic(meta):
        return None
    seed = synthetic_seed(meta)
    return "the synthetic supply network" + ("" if seed is None else f" (seed {seed})")
