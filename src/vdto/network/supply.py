"""The target's supply, traced through the network: an indexed view of the supply edges and
the share of every downstream node's supply that comes from a target organization.

Pure functions over a :class:`~vdto.network.graph.SupplyNetwork`'s frames, computed with NumPy:

- :class:`_Supply`: the supply edges as integer arrays over the node frame's row order, checked
  against the data model (unknown nodes, supply rules, negative volumes, cycles), with the
  topological level of every node and the share of its buyer's supply each edge is;
- :func:`_propagate`: the target's nodes (:func:`_target_nodes`), its share of every node's
  supply level by level, and the main path back to it (:func:`_paths`);
- :func:`supply_shares`: the public table of those shares;
- :func:`subnetwork`: the target's nodes and everything within a few supply edges of them
  (what ``vdto network export --target`` writes).

:mod:`vdto.network.package` builds the enforcement package on top of these.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from vdto.errors import UnknownNameError, VdtoError
from vdto.network.graph import SUPPLY_RULES, EdgeType, NodeType, SupplyNetwork

#: Node types that stand for an organization: its organization node and its cells.
_ORG_TYPES = (NodeType.ORGANIZATION.value, NodeType.CELL.value)
#: Node types in a fixed order: ``_Supply.tcode`` holds positions in it.
TYPE_ORDER: tuple[str, ...] = tuple(t.value for t in NodeType)


# ---------------------------------------------------------------------------------------------
# indexed view of the supply edges


@dataclass
class _Supply:
    """Supply edges as integer arrays over the node frame's row order, with topological levels."""

    ids: np.ndarray  # node ids (object)
    types: np.ndarray  # node types (object)
    tcode: np.ndarray  # node types as positions in TYPE_ORDER

    def of_type(self, *names: str) -> np.ndarray:
        return np.isin(self.tcode, [TYPE_ORDER.index(str(t)) for t in names])

    src: np.ndarray
    dst: np.ndarray
    vol: np.ndarray  # volume, NaN -> 0
    eshare: np.ndarray  # share of the buyer's supply this edge is
    level: np.ndarray  # longest path from a node with no supplier
    edge_rows: np.ndarray  # row of each edge in net.edges

    @property
    def n(self) -> int:
        return len(self.ids)


def _edge_name(ids: np.ndarray, s: int, d: int) -> str:
    return f"{ids[s]} -> {ids[d]}"


def _supply(net: SupplyNetwork) -> _Supply:
    """The supply edges of ``net`` indexed over its node rows, checked against the data model.

    Raises :class:`VdtoError` for a node without an id or with a repeated id, an edge naming an
    unknown node, a node of unknown type, an edge breaking ``SUPPLY_RULES``, a negative volume,
    a share outside 0..1, and a cycle.
    """
    nodes, edges = net.nodes, net.edges
    n = len(nodes)
    rows = np.flatnonzero((edges["type"] == EdgeType.SUPPLIES.value).to_numpy())
    sup = edges.iloc[rows]
    src, dst = _edge_ends(nodes, sup, rows)
    ids = nodes["id"].to_numpy(dtype=object)
    tcode, types = _type_codes(nodes, ids)
    _check_supply_rules(tcode, types, ids, src, dst, rows)
    vol, share = _edge_values(sup, ids, src, dst, rows)
    level = _levels(n, src, dst, ids, rows)
    eshare = _edge_shares(n, dst, vol, share)
    return _Supply(ids, types, tcode, src, dst, vol, eshare, level, rows)


def _edge_ends(nodes: pd.DataFrame, sup: pd.DataFrame, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Node rows of each supply edge's seller and buyer; node ids must be present and unique and
    edges must name known nodes."""
    n = len(nodes)
    # one hashing pass over node ids and edge ends together
    codes, uniques = pd.factorize(
        pd.concat([nodes["id"], sup["source"], sup["target"]], ignore_index=True), use_na_sentinel=True
    )
    node_codes = codes[:n]
    if (node_codes < 0).any():
        raise VdtoError(
            f"node in row {int(np.flatnonzero(node_codes < 0)[0])} has no id",
            "nodes",
            "give every node an id",
        )
    counts = np.bincount(node_codes, minlength=len(uniques))
    if (counts > 1).any():
        dup = uniques[int(np.flatnonzero(counts > 1)[0])]
        raise VdtoError(f"node id {dup!r} appears twice", "nodes", "give every node a unique id")
    pos = np.full(len(uniques) + 1, -1, dtype=np.int64)  # code -1 (missing) maps to -1
    pos[node_codes] = np.arange(n)
    m = len(sup)
    src = pos[codes[n : n + m]]
    dst = pos[codes[n + m :]]
    for arr, col in ((src, "source"), (dst, "target")):
        bad = np.flatnonzero(arr < 0)
        if len(bad):
            r = sup.iloc[bad[0]]
            raise VdtoError(
                f"supply edge {r['source']} -> {r['target']} names unknown {col} node {r[col]!r}",
                f"edges row {rows[bad[0]]}",
                "add the node to the node frame or fix the id",
            )
    return src, dst


def _type_codes(nodes: pd.DataFrame, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each node's type as a position in ``TYPE_ORDER`` and as a name; an unknown type raises."""
    tcode = np.asarray(pd.Categorical(nodes["type"].astype(str), categories=TYPE_ORDER).codes, dtype=np.int64)
    if (tcode < 0).any():
        i = int(np.flatnonzero(tcode < 0)[0])
        raise VdtoError(
            f"node {ids[i]!r} has unknown type {nodes['type'].iloc[i]!r}",
            "nodes.type",
            f"use one of {', '.join(TYPE_ORDER)}",
        )
    return tcode, np.array(TYPE_ORDER, dtype=object)[tcode]


def _check_supply_rules(
    tcode: np.ndarray, types: np.ndarray, ids: np.ndarray, src: np.ndarray, dst: np.ndarray, rows: np.ndarray
) -> None:
    """Raise unless every edge's seller and buyer types follow ``SUPPLY_RULES``."""
    allowed = np.zeros((len(TYPE_ORDER), len(TYPE_ORDER)), dtype=bool)
    for seller, buyers in SUPPLY_RULES.items():
        for b in buyers:
            allowed[TYPE_ORDER.index(str(seller)), TYPE_ORDER.index(str(b))] = True
    bad = np.flatnonzero(~allowed[tcode[src], tcode[dst]])
    if len(bad):
        i = bad[0]
        raise VdtoError(
            f"a {types[src[i]]} cannot supply a {types[dst[i]]} (edge {_edge_name(ids, src[i], dst[i])})",
            f"edges row {rows[i]}",
            "see SUPPLY_RULES in vdto.network.graph for who may supply whom",
        )


def _edge_values(
    sup: pd.DataFrame, ids: np.ndarray, src: np.ndarray, dst: np.ndarray, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The edges' volumes (NaN -> 0) and given shares (NaN where not given), checked for range."""
    vol = sup["volume"].to_numpy(dtype=float)
    share = sup["share"].to_numpy(dtype=float)
    for arr, col in ((vol, "volume"), (share, "share")):
        neg = np.flatnonzero(arr < 0) if col == "volume" else np.flatnonzero((arr < 0) | (arr > 1))
        if len(neg):
            i = neg[0]
            raise VdtoError(
                f"supply edge {_edge_name(ids, src[i], dst[i])} has {col} {arr[i]!r}",
                f"edges row {rows[i]}",
                "volumes must be >= 0 and shares between 0 and 1",
            )
    return np.nan_to_num(vol, nan=0.0), share


def _ranges(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(s, e)`` for every pair."""
    lens = ends - starts
    total = int(lens.sum())
    if total == 0:
        return np.empty(0, dtype=np.int64)
    offs = np.repeat(np.cumsum(lens) - lens, lens)
    return np.arange(total) - offs + np.repeat(starts, lens)


def _levels(n: int, src: np.ndarray, dst: np.ndarray, ids: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Topological levels (Kahn, a frontier at a time); a cycle raises VdtoError naming an edge."""
    order = np.argsort(src, kind="stable")
    indptr = np.searchsorted(src[order], np.arange(n + 1))
    remaining = np.bincount(dst, minlength=n)
    level = np.full(n, -1, dtype=np.int64)
    frontier = np.flatnonzero(remaining == 0)
    lev = 0
    while len(frontier):
        level[frontier] = lev
        out = dst[order[_ranges(indptr[frontier], indptr[frontier + 1])]]
        dec = np.bincount(out, minlength=n)
        remaining -= dec
        frontier = np.flatnonzero((dec > 0) & (remaining == 0))
        lev += 1
    if (level < 0).any():
        _raise_cycle(n, src, dst, level < 0, ids, rows)
    return level


def _raise_cycle(
    n: int, src: np.ndarray, dst: np.ndarray, left: np.ndarray, ids: np.ndarray, rows: np.ndarray
) -> None:
    # every node left has a supplier that is also left: walk back until a node repeats
    inside = np.flatnonzero(left[src] & left[dst])
    pred: dict[int, int] = {}
    for k in inside:
        pred.setdefault(int(dst[k]), int(k))
    v = int(dst[inside[0]])
    seen: dict[int, int] = {}
    while v not in seen:
        seen[v] = pred[v]
        v = int(src[pred[v]])
    e = seen[v]
    raise VdtoError(
        f"supply edges form a cycle through {_edge_name(ids, src[e], dst[e])}",
        f"edges row {rows[e]}",
        "supply must flow one way: remove or reverse an edge of the cycle",
    )


def _edge_shares(n: int, dst: np.ndarray, vol: np.ndarray, share: np.ndarray) -> np.ndarray:
    """The share of its buyer's supply each edge is: the ``share`` column where given; the rest
    of the buyer's supply (1 minus the given shares) split in proportion to volumes, or equally
    when the other edges have no volume."""
    given = ~np.isnan(share)
    out = np.where(given, share, 0.0)
    rem = np.clip(1.0 - np.bincount(dst[given], weights=share[given], minlength=n), 0.0, None)
    free = ~given
    vsum = np.bincount(dst[free], weights=vol[free], minlength=n)
    cnt = np.bincount(dst[free], minlength=n)
    d = dst[free]
    with np.errstate(divide="ignore", invalid="ignore"):
        by_vol = rem[d] * vol[free] / vsum[d]
        equal = rem[d] / cnt[d]
    out[free] = np.where(vsum[d] > 0, by_vol, equal)
    return out


# ---------------------------------------------------------------------------------------------
# shares


def _target_nodes(net: SupplyNetwork, target: str) -> tuple[str, np.ndarray]:
    nodes = net.nodes
    org_id = nodes["org_id"].astype(object)
    is_org = nodes["type"].astype(str).isin(_ORG_TYPES).to_numpy()
    hit = is_org & (org_id == target).to_numpy()
    if not hit.any():
        by_id = is_org & (nodes["id"] == target).to_numpy()
        if by_id.any():
            oid = org_id[by_id].iloc[0]
            if isinstance(oid, str) and oid:
                target = oid
                hit = is_org & (org_id == target).to_numpy()
            else:
                hit = by_id
    if not hit.any():
        known = sorted({o for o in org_id[is_org] if isinstance(o, str) and o})
        sample = ", ".join(known[:8]) + (" ..." if len(known) > 8 else "")
        raise UnknownNameError(
            f"no organization or cell with org_id {target!r} in the network",
            "target",
            f"pass an org_id of the network ({sample or 'none'})",
        )
    return target, np.flatnonzero(hit)


@dataclass
class _Shares:
    g: _Supply
    target: str
    tnodes: np.ndarray
    is_t: np.ndarray
    reach: np.ndarray
    share: np.ndarray
    inflow: np.ndarray
    outflow: np.ndarray
    parent: np.ndarray  # best supplier towards the target (n = none)
    n_paths: np.ndarray


def _propagate(net: SupplyNetwork, target: str) -> _Shares:
    target, tnodes = _target_nodes(net, target)
    g = _supply(net)
    n = g.n
    is_t = np.zeros(n, dtype=bool)
    is_t[tnodes] = True
    share = is_t.astype(float)
    reach = is_t.copy()
    npaths = np.zeros(n)
    npaths[tnodes] = 1.0
    lev_e = g.level[g.dst]
    order = np.argsort(lev_e, kind="stable")
    bounds = np.searchsorted(lev_e[order], np.arange(int(g.level.max(initial=0)) + 2))
    for lev in range(1, len(bounds) - 1):
        e = order[bounds[lev] : bounds[lev + 1]]
        if not len(e):
            continue
        s, d = g.src[e], g.dst[e]
        r = reach[s]
        if not r.any():
            continue
        e, s, d = e[r], s[r], d[r]
        share += np.bincount(d, weights=g.eshare[e] * share[s], minlength=n) * ~is_t
        reach[d] = True
        got = np.bincount(d, weights=npaths[s], minlength=n)
        npaths = np.where(is_t, np.where(got > 0, got, npaths), npaths + got)
    # the main path: each node's supplier carrying the most of the target's supply
    e = np.flatnonzero(reach[g.src] & (~is_t[g.dst] | is_t[g.src]))
    contrib = g.eshare[e] * share[g.src[e]]
    o = np.lexsort((-e, g.vol[e], contrib, g.dst[e]))
    d_sorted = g.dst[e[o]]
    parent = np.full(n + 1, n, dtype=np.int64)
    if len(e):
        last = np.flatnonzero(np.r_[d_sorted[1:] != d_sorted[:-1], True])
        parent[d_sorted[last]] = g.src[e[o[last]]]
    inflow = np.bincount(g.dst, weights=g.vol, minlength=n)
    outflow = np.bincount(g.src, weights=g.vol, minlength=n)
    return _Shares(g, target, tnodes, is_t, reach, share, inflow, outflow, parent, npaths)


def _paths(sh: _Shares, nodes_idx: np.ndarray) -> tuple[np.ndarray, list[list[str]]]:
    """Main paths (target first) of the given nodes, and their depth in edges."""
    n = sh.g.n
    cols = [nodes_idx]
    cur = nodes_idx
    while len(cols) <= n:
        cur = sh.parent[cur]
        if (cur == n).all():
            break
        cols.append(cur)
    mat = np.stack(cols, axis=1)
    depth = (mat != n).sum(axis=1) - 1
    ids = sh.g.ids
    paths: list[list[str] | None] = [None] * len(nodes_idx)
    for d in np.unique(depth).tolist():
        rows = np.flatnonzero(depth == d)
        chain = [ids[mat[rows, j]] for j in range(d, -1, -1)]
        for r, p in zip(rows.tolist(), zip(*chain, strict=True), strict=True):
            paths[r] = list(p)
    return depth, paths  # type: ignore[return-value]


def supply_shares(net: SupplyNetwork, target_org_id: str) -> pd.DataFrame:
    """Every node downstream of the target organization (its organization node and its cells)
    and the share of its supply that comes from the target.

    ``share`` is 1 for the target's own nodes; for any other node b it is
    ``sum over b's suppliers s of edge_share(s -> b) * share(s)``, where ``edge_share`` is the
    edge's ``share`` column when given, else its volume over b's total inflow. Columns: ``id``,
    ``type``, ``name``, ``region``, ``share``, ``inflow`` (b's total yearly supply),
    ``volume`` (share × inflow: the part that comes from the target), ``price``, ``revenue``
    (volume × b's price: the value of the target's supply at b's purchase price; NaN when the
    price is unknown), ``depth`` (edges on the main path), ``path`` (the main path as a list of
    node ids, from a target node to b: at each step the supplier edge carrying the most of the
    target's supply), ``n_paths`` (number of distinct supply paths from the target). Rows
    follow the node frame's order; the target's own nodes are not listed.

    Raises :class:`VdtoError` when supply edges form a cycle (the message names an edge of it),
    and :class:`~vdto.errors.UnknownNameError` when no organization or cell has that org_id.
    """
    sh = _propagate(net, target_org_id)
    idx = np.flatnonzero(sh.reach & ~sh.is_t)
    depth, paths = _paths(sh, idx)
    nodes = net.nodes.iloc[idx]
    vol = sh.share[idx] * sh.inflow[idx]
    price = nodes["price"].to_numpy(dtype=float)
    return pd.DataFrame(
        {
            "id": nodes["id"].to_numpy(),
            "type": nodes["type"].astype(str).to_numpy(),
            "name": nodes["name"].to_numpy(),
            "region": nodes["region"].to_numpy(),
            "share": sh.share[idx],
            "inflow": sh.inflow[idx],
            "volume": vol,
            "price": price,
            "revenue": vol * price,
            "depth": depth,
            "path": paths,
            "n_paths": sh.n_paths[idx],
        }
    )


def subnetwork(net: SupplyNetwork, target: str, hops: int = 2) -> SupplyNetwork:
    """The part of ``net`` around ``target``: the target's own nodes (its organization node and
    cells, found as :func:`supply_shares` finds them), every node within ``hops`` supply edges of
    them in either direction (its suppliers and buyers, their buyers and other suppliers, ...),
    and every edge of any type between the nodes kept.

    ``meta`` is the network's, with ``subnetwork`` (``target`` and ``hops``) added.

    Examples
    --------
    >>> from vdto.network.synthetic import generate
    >>> net = generate(seed=1, organizations=4, wholesalers=40, distributors=200)
    >>> sub = subnetwork(net, "cjng", hops=1)
    >>> len(sub.nodes) < len(net.nodes), set(sub.nodes["id"]) >= {"org:cjng"}
    (True, True)
    """
    if isinstance(hops, bool) or not isinstance(hops, int) or hops < 0:
        raise VdtoError(
            f"hops must be a whole number, 0 or more (got {hops!r})", fix="use e.g. 2", param="hops"
        )
    target, tnodes = _target_nodes(net, target)
    nodes, edges = net.nodes, net.edges
    rows = np.flatnonzero((edges["type"] == EdgeType.SUPPLIES.value).to_numpy())
    src, dst = _edge_ends(nodes, edges.iloc[rows], rows)
    keep = np.zeros(len(nodes), dtype=bool)
    keep[tnodes] = True
    frontier = keep.copy()
    for _ in range(hops):
        reached = np.zeros(len(nodes), dtype=bool)
        reached[dst[frontier[src]]] = True
        reached[src[frontier[dst]]] = True
        frontier = reached & ~keep
        if not frontier.any():
            break
        keep |= frontier
    kept_ids = nodes["id"][keep]
    on_both = (edges["source"].isin(kept_ids) & edges["target"].isin(kept_ids)).to_numpy()
    return SupplyNetwork(
        nodes[keep].reset_index(drop=True),
        edges[on_both].reset_index(drop=True),
        {**net.meta, "subnetwork": {"target": target, "hops": hops}},
    )
