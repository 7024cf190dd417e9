"""The enforcement package: which US buyers to pressure so the target loses the most revenue.

Pure functions over a :class:`~vdto.network.graph.SupplyNetwork`'s frames, computed with NumPy
and SciPy sparse arrays:

- :func:`supply_shares`: every node downstream of the target organization, the share of its
  supply that comes from the target (directly or through intermediaries), the volume and value
  of that supply, and one main path back to the target;
- :func:`enforcement_package`: the US wholesalers and distributors the target supplies, and the
  cases to build under a budget (number of cases or agent-hours) that deny the target the most
  revenue, as an exact coverage MILP (SciPy's HiGHS) with a greedy fallback;
- :func:`substitution`: where each pressured buyer would likely take its business;
- :func:`succession_risk`: the target's rivals and allies that stand to take over its territory.

docs/network.md describes the model, its assumptions and why the candidate pruning is safe.
"""

from __future__ import annotations

import heapq
import math
import numbers
import re
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from vdto.errors import UnknownNameError, VdtoError
from vdto.network.graph import BUYER_TYPES, SUPPLY_RULES, EdgeType, NodeType, SupplyNetwork

#: Default time limit of the MILP (seconds) before falling back to greedy.
DEFAULT_TIME_LIMIT = 20.0
#: Largest pruned MILP (columns) handed to HiGHS; larger ones go to greedy (HiGHS's presolve does
#: not stop at the time limit: it ran for 291 s on a 247,395-column model with a 5 s limit).
MILP_COLUMN_LIMIT = 20_000
#: Most revenue units (path pieces) the package builds before giving up with an error.
MAX_UNITS = 20_000_000
#: Greedy guarantees for budgeted maximum coverage.
GUARANTEE_CASES = 1.0 - 1.0 / math.e
GUARANTEE_HOURS = 0.5 * (1.0 - 1.0 / math.e)

_ORG_TYPES = (NodeType.ORGANIZATION.value, NodeType.CELL.value)
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
    nodes, edges = net.nodes, net.edges
    n = len(nodes)
    rows = np.flatnonzero((edges["type"] == EdgeType.SUPPLIES.value).to_numpy())
    sup = edges.iloc[rows]
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
    ids = nodes["id"].to_numpy(dtype=object)
    for arr, col in ((src, "source"), (dst, "target")):
        bad = np.flatnonzero(arr < 0)
        if len(bad):
            r = sup.iloc[bad[0]]
            raise VdtoError(
                f"supply edge {r['source']} -> {r['target']} names unknown {col} node {r[col]!r}",
                f"edges row {rows[bad[0]]}",
                "add the node to the node frame or fix the id",
            )
    tcode = np.asarray(pd.Categorical(nodes["type"].astype(str), categories=TYPE_ORDER).codes, dtype=np.int64)
    if (tcode < 0).any():
        i = int(np.flatnonzero(tcode < 0)[0])
        raise VdtoError(
            f"node {ids[i]!r} has unknown type {nodes['type'].iloc[i]!r}",
            "nodes.type",
            f"use one of {', '.join(TYPE_ORDER)}",
        )
    types = np.array(TYPE_ORDER, dtype=object)[tcode]
    # seller/buyer types must follow SUPPLY_RULES
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
    vol = np.nan_to_num(vol, nan=0.0)
    level = _levels(n, src, dst, ids, rows)
    eshare = _edge_shares(n, dst, vol, share)
    return _Supply(ids, types, tcode, src, dst, vol, eshare, level, rows)


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
    for e in inside:
        pred.setdefault(int(dst[e]), int(e))
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


# ---------------------------------------------------------------------------------------------
# revenue units


@dataclass
class _Units:
    """Revenue units: pieces of the target's supply, each with the set of candidate buyers its
    path passes through (``member``: units × candidates) and its value to the target."""

    cand: np.ndarray  # node index of each candidate
    member: sp.csr_matrix
    value: np.ndarray
    price: np.ndarray  # per node, NaN filled
    notes: list[str]


def _fill_prices(net: SupplyNetwork, g: _Supply) -> tuple[np.ndarray, list[str]]:
    price = net.nodes["price"].to_numpy(dtype=float).copy()
    notes: list[str] = []
    for t in sorted(BUYER_TYPES):
        is_t = g.of_type(t)
        missing = is_t & np.isnan(price)
        if not missing.any():
            continue
        known = price[is_t & ~np.isnan(price)]
        fill = float(np.median(known)) if len(known) else 1.0
        price[missing] = fill
        how = f"the median {t} price ({fill:,.2f})" if len(known) else "1 (revenue counted in volume units)"
        notes.append(f"{int(missing.sum())} {t}(s) without a price valued at {how}")
    return price, notes


def _units(sh: _Shares, net: SupplyNetwork, max_units: int) -> _Units:
    g = sh.g
    n = g.n
    is_buyer = g.of_type(*BUYER_TYPES) & sh.reach & ~sh.is_t
    cand = np.flatnonzero(is_buyer)
    local = np.full(n, -1, dtype=np.int64)
    local[cand] = np.arange(len(cand))
    price, notes = _fill_prices(net, g)
    # the target's supply retained (sold on outside the network) at each candidate
    retained = np.clip(sh.inflow - sh.outflow, 0.0, None) * sh.share
    # backward fractions: of the target's supply at c, the part that came through buyer p
    bb = np.flatnonzero(is_buyer[g.src] & is_buyer[g.dst])
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(
            sh.share[g.dst[bb]] > 0, g.eshare[bb] * sh.share[g.src[bb]] / sh.share[g.dst[bb]], 0.0
        )
    entry = np.clip(1.0 - np.bincount(g.dst[bb], weights=frac, minlength=n), 0.0, 1.0)
    o = np.argsort(g.dst[bb], kind="stable")
    bb_src, bb_frac = g.src[bb][o], frac[o]
    indptr = np.searchsorted(g.dst[bb][o], np.arange(n + 1))
    # expand path records backwards from where the supply ends
    start = cand[retained[cand] > 0]
    rec_node = [start]
    rec_parent = [np.full(len(start), -1, dtype=np.int64)]
    rec_amt = [retained[start]]
    front_node, front_amt, front_id = start, retained[start], np.arange(len(start))
    total = len(start)
    while len(front_node):
        lo, hi = indptr[front_node], indptr[front_node + 1]
        k = hi - lo
        if not k.any():
            break
        pos = _ranges(lo, hi)
        nn = bb_src[pos]
        amt = np.repeat(front_amt, k) * bb_frac[pos]
        par = np.repeat(front_id, k)
        keep = amt > 0
        nn, amt, par = nn[keep], amt[keep], par[keep]
        ids = np.arange(total, total + len(nn))
        total += len(nn)
        if total > max_units:
            raise VdtoError(
                f"the target's supply splits into more than {max_units:,} paths through buyers",
                "enforcement_package",
                "merge parallel chains of buyers, or raise max_units",
            )
        rec_node.append(nn)
        rec_parent.append(par)
        rec_amt.append(amt)
        front_node, front_amt, front_id = nn, amt, ids
    node = np.concatenate(rec_node)
    parent = np.concatenate(rec_parent)
    amt = np.concatenate(rec_amt) * entry[node]  # the part of the piece that entered at node
    value = amt * price[node]  # valued at the price the first US buyer on the path pays
    units = np.flatnonzero(value > 0)
    # membership: every candidate on each unit's path
    r_idx, c_idx = [], []
    cur, uid = units, np.arange(len(units))
    while len(cur):
        r_idx.append(uid)
        c_idx.append(local[node[cur]])
        nxt = parent[cur]
        ok = nxt >= 0
        cur, uid = nxt[ok], uid[ok]
    rows = np.concatenate(r_idx) if r_idx else np.empty(0, dtype=np.int64)
    cols = np.concatenate(c_idx) if c_idx else np.empty(0, dtype=np.int64)
    member = sp.csr_matrix(
        (np.ones(len(rows), dtype=np.float64), (rows, cols)), shape=(len(units), len(cand))
    )
    return _Units(cand, member, value[units], price, notes)


# ---------------------------------------------------------------------------------------------
# optimisation


def _budget_slots(cost: np.ndarray, budget: float) -> int:
    """Most candidates that fit in the budget together (cheapest first)."""
    return int(np.searchsorted(np.cumsum(np.sort(cost)), budget * (1 + 1e-12), side="right"))


def _prune(member: sp.csr_matrix, value: np.ndarray, cost: np.ndarray, budget: float) -> np.ndarray:
    """Candidates that can be left out of the MILP without changing its optimum (mask of kept).

    Dropped: candidates that deny nothing or cost more than the whole budget, and every
    candidate b outside a witness pool that has at least k pool members a, each no dearer than
    b, with ``h(a) >= v(b)``: ``v(b)`` is the revenue b denies alone and ``h(a)`` a lower bound on
    what a adds to any selection of up to k - 1 others (its value minus its k - 1 largest
    overlaps), k being the most cases the budget can pay for. See docs/network.md for the proof.
    """
    nc = member.shape[1]
    mt = member.T.tocsr()
    v = np.asarray(mt @ value).ravel()
    keep = (v > 0) & (cost <= budget * (1 + 1e-12))
    k = _budget_slots(cost[keep], budget)
    if k == 0:
        return np.zeros(nc, dtype=bool)
    if k >= keep.sum():
        return keep
    # overlaps: value of units containing both a and t
    ov = (mt.multiply(value[None, :]).tocsr() @ member).tocoo()
    off = ov.row != ov.col
    ov = sp.csr_matrix((ov.data[off], (ov.row[off], ov.col[off])), shape=(nc, nc))
    rows = np.repeat(np.arange(nc), np.diff(ov.indptr))
    # what k - 1 others can take from a: at most its k - 1 largest overlaps ...
    o = np.lexsort((-ov.data, rows))
    rank = np.arange(len(o)) - ov.indptr[rows[o]]
    top = np.bincount(rows[o][rank < k - 1], weights=ov.data[o][rank < k - 1], minlength=nc)
    # ... and at most a fractional knapsack of its overlaps within the budget
    c_t = cost[ov.indices]
    o = np.lexsort((-ov.data / c_t, rows))
    csum = np.cumsum(c_t[o])
    csum -= np.repeat(np.r_[0.0, csum][ov.indptr[:-1]], np.diff(ov.indptr))
    frac = np.clip((budget - (csum - c_t[o])) / c_t[o], 0.0, 1.0)
    knap = np.bincount(rows[o], weights=ov.data[o] * frac, minlength=nc)
    h = np.where(keep, v - np.minimum(top, knap), -np.inf)
    # equal costs: the k best are the witnesses; otherwise a larger pool offers cheaper ones
    equal = bool(np.all(cost[keep] == cost[keep][0]))
    pool_size = k if equal else min(int(keep.sum()), 4 * k + 100)
    pool = np.argsort(-h, kind="stable")[:pool_size]
    in_pool = np.zeros(nc, dtype=bool)
    in_pool[pool] = True
    # kth[i]: the k-th largest h among the i cheapest pool members
    po = pool[np.argsort(cost[pool], kind="stable")]
    pcost = cost[po]
    kth = np.full(len(po) + 1, -np.inf)
    heap: list[float] = []
    for i, a in enumerate(po):
        if len(heap) < k:
            heapq.heappush(heap, float(h[a]))
        elif h[a] > heap[0]:
            heapq.heapreplace(heap, float(h[a]))
        if len(heap) == k:
            kth[i + 1] = heap[0]
    i_b = np.searchsorted(pcost, cost, side="right")
    dominated = (~in_pool) & (kth[i_b] >= v)
    return keep & ~dominated


@dataclass
class _Reduced:
    kept: np.ndarray  # candidate indices kept
    coef: np.ndarray  # value of units whose only kept member is the candidate
    sets: list[np.ndarray]  # units with two or more kept members (positions in kept)
    set_value: np.ndarray


def _reduce(member: sp.csr_matrix, value: np.ndarray, keep: np.ndarray) -> _Reduced:
    kept = np.flatnonzero(keep)
    mk = member[:, kept].tocsr()
    cnt = np.diff(mk.indptr)
    one = cnt == 1
    coef = np.bincount(mk.indices[np.repeat(one, cnt)], weights=value[one], minlength=len(kept))
    groups: dict[tuple[int, ...], float] = {}
    for u in np.flatnonzero(cnt >= 2):
        key = tuple(sorted(mk.indices[mk.indptr[u] : mk.indptr[u + 1]].tolist()))
        groups[key] = groups.get(key, 0.0) + float(value[u])
    sets = [np.array(s, dtype=np.int64) for s in groups]
    return _Reduced(kept, coef, sets, np.array(list(groups.values()), dtype=float))


def _model(red: _Reduced, cost: np.ndarray, budget: float):
    nk, ny = len(red.kept), len(red.sets)
    c = -np.concatenate([red.coef, red.set_value])
    lens = np.array([len(s) for s in red.sets], dtype=np.int64)
    rows = np.concatenate([np.repeat(np.arange(ny), lens), np.arange(ny), np.full(nk, ny)])
    cols = np.concatenate(
        [np.concatenate(red.sets) if ny else np.empty(0, np.int64), nk + np.arange(ny), np.arange(nk)]
    )
    data = np.concatenate([-np.ones(int(lens.sum())), np.ones(ny), cost[red.kept]])
    a = sp.csr_matrix((data, (rows, cols)), shape=(ny + 1, nk + ny))
    ub = np.concatenate([np.zeros(ny), [budget]])
    return c, a, ub


def _bound_prune(
    v: np.ndarray, cost: np.ndarray, budget: float, keep: np.ndarray, lower: float
) -> np.ndarray:
    """Mask of candidates that can be in an optimal selection, given a feasible value ``lower``.

    A selection containing b denies at most ``v(b) + K(budget - cost(b))``, K being the best
    fractional knapsack of the other candidates' stand-alone values; when that is below
    ``lower`` (what a known selection denies), b is in no optimal selection.
    """
    kept = np.flatnonzero(keep)
    if not len(kept) or lower <= 0:
        return keep.copy()
    o = kept[np.argsort(-v[kept] / cost[kept], kind="stable")]
    xs = np.r_[0.0, np.cumsum(cost[o])]
    ys = np.r_[0.0, np.cumsum(v[o])]
    upper = v + np.interp(np.clip(budget - cost, 0.0, None), xs, ys)
    return keep & (upper >= lower * (1 - 1e-9))


def _knapsack_bound(v: np.ndarray, cost: np.ndarray, budget: float) -> float:
    """Upper bound on the optimum: the best fractional knapsack of stand-alone values (a set
    denies at most the sum of what its members deny alone)."""
    if not len(v):
        return 0.0
    o = np.argsort(-v / cost, kind="stable")
    csum = np.cumsum(cost[o])
    frac = np.clip((budget - (csum - cost[o])) / cost[o], 0.0, 1.0)
    return float((v[o] * frac).sum())


def _denied(member: sp.csr_matrix, value: np.ndarray, chosen: np.ndarray) -> float:
    if not len(chosen):
        return 0.0
    hit = np.asarray(member[:, chosen].sum(axis=1)).ravel() > 0
    return float(value[hit].sum())


def _greedy(
    member: sp.csr_matrix, value: np.ndarray, cost: np.ndarray, budget: float, unit_cost: bool
) -> tuple[list[int], str]:
    """Lazy greedy for budgeted maximum coverage (gain per unit of cost)."""
    mt = member.T.tocsr()
    v = np.asarray(mt @ value).ravel()
    covered = np.zeros(len(value), dtype=bool)
    ok = np.flatnonzero((v > 0) & (cost <= budget * (1 + 1e-12)))
    heap = list(zip((-(v[ok] / cost[ok])).tolist(), ok.tolist(), strict=True))
    heapq.heapify(heap)
    left = float(budget) * (1 + 1e-12)
    chosen: list[int] = []
    total = 0.0
    while heap:
        _, b = heapq.heappop(heap)
        if cost[b] > left:
            continue
        us = mt.indices[mt.indptr[b] : mt.indptr[b + 1]]
        gain = float(value[us][~covered[us]].sum())
        ratio = gain / cost[b]
        if heap and ratio < -heap[0][0]:
            heapq.heappush(heap, (-ratio, b))
            continue
        if gain <= 0:
            break
        chosen.append(b)
        covered[us] = True
        total += gain
        left -= cost[b]
    how = "greedy (largest denied revenue per case)"
    if not unit_cost and len(ok):
        best = int(ok[np.argmax(v[ok])])
        if v[best] > total:
            return [best], "best single case (it beats the cost-benefit greedy)"
        how = "greedy (largest denied revenue per agent-hour)"
    return chosen, how


def _order_selected(
    member: sp.csr_matrix, value: np.ndarray, chosen: list[int]
) -> tuple[list[int], list[float]]:
    """Selected candidates in the order each adds the most (lazy greedy), with what each adds."""
    mt = member.T.tocsr()
    covered = np.zeros(len(value), dtype=bool)
    heap = [(-float(value[mt.indices[mt.indptr[b] : mt.indptr[b + 1]]].sum()), b) for b in chosen]
    heapq.heapify(heap)
    order, gains = [], []
    while heap:
        _, b = heapq.heappop(heap)
        us = mt.indices[mt.indptr[b] : mt.indptr[b + 1]]
        gain = float(value[us][~covered[us]].sum())
        if heap and gain < -heap[0][0]:
            heapq.heappush(heap, (-gain, b))
            continue
        covered[us] = True
        order.append(b)
        gains.append(gain)
    return order, gains


@dataclass
class Package:
    """An enforcement package against one target organization.

    ``buyers``: every US wholesaler and distributor the target supplies (directly or through
    intermediaries), with ``share``, ``volume`` and ``revenue`` as in :func:`supply_shares`,
    ``revenue_at_stake`` (the target's revenue denied if this buyer alone is pressured),
    ``hours`` (node cost), ``budget_cost`` (what one case against it takes from the budget),
    ``path`` and ``selected``. ``selected``: the chosen cases in the order each adds the most,
    with ``denied`` (what it adds) and ``cumulative``. ``objective``: the revenue denied by the
    selection (US$ per year when volumes are per year and prices per unit). ``bound``: the
    smallest known upper bound on the best possible (HiGHS's dual bound, the LP relaxation of
    the pruned MILP, the fractional knapsack of stand-alone values, and for greedy objective /
    guarantee); ``gap``: (bound - objective) / bound. ``lp_bound`` and ``lp_gap``: the LP
    relaxation alone (None when the pruned MILP was too large to try). ``mip_gap``: HiGHS's
    final relative gap. ``size``: candidates, revenue units, candidates kept after pruning and
    the MILP's variables, binaries and constraints.
    """

    target: str
    target_name: str
    budget: float
    budget_kind: str
    method: str
    status: str
    objective: float
    total_revenue: float
    bound: float
    gap: float
    lp_bound: float | None
    lp_gap: float | None
    mip_gap: float | None
    greedy_objective: float
    solve_seconds: float
    guarantee: str
    buyers: pd.DataFrame
    selected: pd.DataFrame
    size: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def denied_share(self) -> float:
        return self.objective / self.total_revenue if self.total_revenue > 0 else 0.0

    def summary(self) -> dict[str, object]:
        """Key figures as one flat mapping (for printing or JSON)."""
        return {
            "target": self.target,
            "target_name": self.target_name,
            "budget": self.budget,
            "budget_kind": self.budget_kind,
            "method": self.method,
            "status": self.status,
            "buyers_reached": len(self.buyers),
            "cases_selected": len(self.selected),
            "budget_used": float(self.selected["budget_cost"].sum()) if len(self.selected) else 0.0,
            "revenue_denied": self.objective,
            "revenue_total": self.total_revenue,
            "denied_share": self.denied_share,
            "bound": self.bound,
            "gap": self.gap,
            "lp_bound": self.lp_bound,
            "lp_gap": self.lp_gap,
            "greedy_objective": self.greedy_objective,
            "mip_gap": self.mip_gap,
            "guarantee": self.guarantee,
            "solve_seconds": self.solve_seconds,
            **{f"size_{k}": v for k, v in self.size.items()},
        }


def enforcement_package(
    net: SupplyNetwork,
    target: str,
    budget: float,
    *,
    budget_kind: str = "cases",
    solver: str = "milp",
    time_limit: float = DEFAULT_TIME_LIMIT,
    mip_rel_gap: float = 0.0,
    max_units: int = MAX_UNITS,
    max_milp_columns: int = MILP_COLUMN_LIMIT,
) -> Package:
    """The cases to build under ``budget`` that deny the target organization the most revenue.

    Pressuring a buyer makes it switch suppliers, which denies the target the revenue of all of
    its supply that flows through that buyer. The target's supply is split into revenue units
    (each piece of supply from where it enters a US buyer to where it leaves the network), each
    valued at the price its first US buyer pays; a unit is denied when any buyer on its path is
    pressured, so a wholesaler and one of its distributors never count the same revenue twice.
    The selection maximises the denied value: binary ``x_b`` per candidate buyer, ``y_u <= sum
    x_b`` over the buyers on unit u's path, ``sum cost_b x_b <= budget``.

    ``budget_kind`` is ``"cases"`` (each buyer costs one case) or ``"hours"`` (agent-hours from
    the node ``cost`` column). ``solver="milp"`` solves exactly after safe pruning
    (docs/network.md): when the LP relaxation of the pruned model has an integral optimum that
    is the answer, otherwise SciPy's HiGHS branches (``time_limit`` seconds for the LP and for
    the MILP, relative gap ``mip_rel_gap``). ``"greedy"``, a MILP that fails or stops at its time
    limit, and a pruned model of more than ``max_milp_columns`` columns use the greedy
    heuristic, and the result says so (``method="greedy"``, ``status``, ``notes`` and the
    guarantee). ``max_units`` caps the number of revenue units (an error beyond it).
    """
    t_all = time.perf_counter()
    if budget_kind not in ("cases", "hours"):
        raise VdtoError(f"unknown budget kind {budget_kind!r}", "budget_kind", "use 'cases' or 'hours'")
    if solver not in ("milp", "greedy"):
        raise VdtoError(f"unknown solver {solver!r}", "solver", "use 'milp' or 'greedy'")
    if isinstance(budget, bool) or not (
        isinstance(budget, numbers.Real) and math.isfinite(budget) and budget > 0
    ):
        raise VdtoError(f"budget must be a positive number (got {budget!r})", "budget", "pass a budget > 0")
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    sh = _propagate(net, target)
    timings["shares"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    un = _units(sh, net, max_units)
    timings["units"] = time.perf_counter() - t0
    notes = list(un.notes)
    cand = un.cand
    hours = net.nodes["cost"].to_numpy(dtype=float)[cand]
    if budget_kind == "hours":
        missing = np.flatnonzero(np.isnan(hours) | (hours <= 0))
        if len(missing):
            raise VdtoError(
                f"{sh.g.types[cand[missing[0]]]} {sh.g.ids[cand[missing[0]]]!r} has no cost in agent-hours"
                f" ({len(missing)} candidate buyer(s) without one)",
                "nodes.cost",
                "fill the cost column for every wholesaler and distributor, or use a budget in cases",
            )
        cost = hours
    else:
        cost = np.ones(len(cand))
    unit_cost = budget_kind == "cases"
    member, value = un.member, un.value
    total = float(value.sum())

    # -- prune, reduce, solve ------------------------------------------------------------------
    t0 = time.perf_counter()
    keep = _prune(member, value, cost, float(budget))
    timings["prune"] = time.perf_counter() - t0
    # greedy on what is left: the fallback, and a lower bound for the second pruning rule
    t0 = time.perf_counter()
    kept0 = np.flatnonzero(keep)
    picked, how = _greedy(member[:, kept0].tocsr(), value, cost[kept0], float(budget), unit_cost)
    greedy_chosen = kept0[np.array(picked, dtype=np.int64)]
    greedy_objective = _denied(member, value, greedy_chosen)
    timings["greedy"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    v_alone = np.asarray(member.T @ value).ravel()
    keep &= _bound_prune(v_alone, cost, float(budget), keep, greedy_objective)
    red = _reduce(member, value, keep)
    timings["prune"] += time.perf_counter() - t0
    c, a, ub = _model(red, cost, float(budget))
    nk, ny = len(red.kept), len(red.sets)
    size = {
        "candidates": len(cand),
        "units": len(value),
        "kept": int(nk),
        "variables": int(nk + ny),
        "binaries": int(nk),
        "constraints": int(a.shape[0]),
    }
    scale = float(np.abs(c).max()) if len(c) and np.abs(c).max() > 0 else 1.0
    c = c / scale  # objective in [-1, 0]: HiGHS works best on well-scaled costs
    small = nk + ny <= max_milp_columns
    bounds = [_knapsack_bound(v_alone[red.kept], cost[red.kept], float(budget))]
    lp_bound: float | None = None
    lp_integral: np.ndarray | None = None  # the LP optimum when it is already integral
    t0 = time.perf_counter()
    if nk and small:
        lp = linprog(
            c, A_ub=a, b_ub=ub, bounds=(0, 1), method="highs", options={"time_limit": float(time_limit)}
        )
        if lp.status == 0:
            lp_bound = float(-lp.fun) * scale
            bounds.append(lp_bound)
            xr = np.round(lp.x[:nk])
            if np.all(np.abs(lp.x[:nk] - xr) <= 1e-7) and cost[red.kept] @ xr <= budget * (1 + 1e-12):
                lp_integral = red.kept[np.flatnonzero(xr > 0.5)]
    timings["lp_relaxation"] = time.perf_counter() - t0

    method, status, mip_gap = solver, "", None
    chosen: list[int] = []
    solve_s = 0.0
    guarantee = "optimal (exact MILP)"
    if solver == "milp":
        t0 = time.perf_counter()
        res = None
        if nk == 0:
            status = "optimal (nothing to select)"
        elif lp_integral is not None:
            # an integral optimum of the relaxation is optimal for the MILP: no branching needed
            chosen = lp_integral.tolist()
            status = "optimal (the LP relaxation has an integral optimum)"
            mip_gap = 0.0
        elif not small:
            status = f"MILP not attempted: {nk + ny:,} columns after pruning (limit {max_milp_columns:,})"
            method = "greedy"
        else:
            try:
                res = milp(
                    c,
                    integrality=np.r_[np.ones(nk), np.zeros(ny)],
                    bounds=Bounds(0, 1),
                    constraints=LinearConstraint(a, -np.inf, ub),
                    options={"time_limit": float(time_limit), "mip_rel_gap": float(mip_rel_gap)},
                )
            except Exception as exc:  # any solver failure falls back to greedy
                status = f"MILP failed ({type(exc).__name__}: {exc})"
                method = "greedy"
        if res is not None:
            if res.status == 0 and res.x is not None:
                chosen = red.kept[np.flatnonzero(res.x[:nk] > 0.5)].tolist()
                status = "optimal"
                mip_gap = float(getattr(res, "mip_gap", 0.0) or 0.0)
                dual = getattr(res, "mip_dual_bound", None)
                if dual is not None and np.isfinite(dual):
                    bounds.append(float(-dual) * scale)
            else:
                status = f"MILP stopped ({res.message})"
                method = "greedy"
        solve_s = time.perf_counter() - t0
        timings["milp"] = solve_s
        if method == "greedy":
            notes.append(f"{status}; fell back to greedy")
    if method == "greedy":
        chosen = greedy_chosen.tolist()
        solve_s += timings["greedy"]
        status = f"{status}; {how}" if status else how
        factor = GUARANTEE_CASES if unit_cost else GUARANTEE_HOURS
        guarantee = f"greedy: at least {factor:.1%} of the optimum " + (
            "(1 - 1/e, unit costs)" if unit_cost else "(½(1 - 1/e), costs in agent-hours)"
        )
    # cases that add nothing once the others are pressured are left out (same denied revenue)
    order, gains = _order_selected(member, value, chosen)
    useful = [i for i, gain in enumerate(gains) if gain > 0]
    order, gains = [order[i] for i in useful], [gains[i] for i in useful]
    chosen = order
    objective = _denied(member, value, np.array(chosen, dtype=np.int64))
    if method == "greedy" and objective > 0:
        bounds.append(objective / (GUARANTEE_CASES if unit_cost else GUARANTEE_HOURS))
    bound = max(min(bounds), objective)  # rounding can put a bound a hair below the objective
    gap = (bound - objective) / bound if bound > 0 else 0.0
    lp_gap = max(0.0, (lp_bound - objective) / lp_bound) if lp_bound else None

    # -- tables ----------------------------------------------------------------------------------
    t0 = time.perf_counter()
    depth, paths = _paths(sh, cand)
    nodes = net.nodes.iloc[cand]
    vol = sh.share[cand] * sh.inflow[cand]
    price = nodes["price"].to_numpy(dtype=float)
    buyers = pd.DataFrame(
        {
            "id": nodes["id"].to_numpy(),
            "type": nodes["type"].astype(str).to_numpy(),
            "name": nodes["name"].to_numpy(),
            "region": nodes["region"].to_numpy(),
            "share": sh.share[cand],
            "volume": vol,
            "price": price,
            "revenue": vol * price,
            "revenue_at_stake": v_alone,
            "hours": hours,
            "budget_cost": cost,
            "depth": depth,
            "path": paths,
            "selected": np.isin(np.arange(len(cand)), chosen),
        }
    )
    selected = buyers.iloc[order].copy()
    selected.insert(0, "order", np.arange(1, len(order) + 1))
    selected["denied"] = gains
    selected["cumulative"] = np.cumsum(gains)
    selected = selected.reset_index(drop=True)
    buyers = buyers.sort_values(["revenue_at_stake", "id"], ascending=[False, True], kind="stable")
    buyers = buyers.reset_index(drop=True)
    timings["tables"] = time.perf_counter() - t0
    timings["total"] = time.perf_counter() - t_all
    name = net.nodes["name"].to_numpy(dtype=object)[sh.tnodes]
    types = sh.g.types[sh.tnodes]
    org_names = name[types == NodeType.ORGANIZATION.value]
    return Package(
        target=sh.target,
        target_name=str(org_names[0] if len(org_names) else name[0]),
        budget=float(budget),
        budget_kind=budget_kind,
        method=method,
        status=status,
        objective=objective,
        total_revenue=total,
        bound=bound,
        gap=gap,
        lp_bound=lp_bound,
        lp_gap=lp_gap,
        mip_gap=mip_gap,
        greedy_objective=greedy_objective,
        solve_seconds=solve_s,
        guarantee=guarantee,
        buyers=buyers,
        selected=selected,
        size=size,
        timings=timings,
        notes=notes,
    )


# ---------------------------------------------------------------------------------------------
# substitution


def _check_scores(scores: pd.DataFrame | None) -> dict[str, float]:
    if scores is None:
        return {}
    if not isinstance(scores, pd.DataFrame) or not {"org", "score"} <= set(scores.columns):
        raise VdtoError(
            "scores must be a data frame with columns org and score",
            "scores",
            "pass ScoreResult.table (or a frame with org and score columns)",
        )
    s = scores.dropna(subset=["org", "score"])
    return dict(zip(s["org"].astype(str), s["score"].astype(float), strict=True))


def _org_prices(net: SupplyNetwork, g: _Supply) -> dict[str, float]:
    """Each organization's price per unit: its organization node's ``price`` when given, else
    the volume-weighted mean price paid by the buyers its organization and cell nodes supply."""
    org_id = net.nodes["org_id"].to_numpy(dtype=object)
    price = net.nodes["price"].to_numpy(dtype=float)
    is_org = g.of_type(*_ORG_TYPES)
    out: dict[str, float] = {}
    own = pd.DataFrame({"org": org_id, "price": price})[g.of_type(NodeType.ORGANIZATION)]
    own = own.dropna().groupby("org")["price"].mean()
    base = is_org[g.src] & ~np.isnan(price[g.dst]) & (g.vol > 0)
    first_level = g.of_type(NodeType.WHOLESALER, NodeType.CITY)[g.dst]
    # first US level (wholesalers, city markets); distributors only for organizations without any
    for mask in (base & g.of_type(NodeType.DISTRIBUTOR)[g.dst], base & first_level):
        e = np.flatnonzero(mask)
        sold = pd.DataFrame({"org": org_id[g.src[e]], "pv": g.vol[e] * price[g.dst[e]], "v": g.vol[e]})
        sold = sold.dropna(subset=["org"]).groupby("org")[["pv", "v"]].sum()
        for o, row in sold.iterrows():
            out[str(o)] = float(row["pv"] / row["v"])
    for o, p in own.items():
        out[str(o)] = float(p)
    return out


def substitution(
    net: SupplyNetwork,
    package: Package,
    scores: pd.DataFrame | None = None,
    *,
    tolerance: float = 0.10,
) -> pd.DataFrame:
    """Where each pressured buyer would likely take its business.

    For each selected buyer: its other current suppliers (organizations upstream of it) and
    the organizations supplying wholesalers or city markets in its region. The likely new
    supplier is the least violent (lowest ``score`` in ``scores``, columns ``org`` and
    ``score``) among those whose price is at most ``tolerance`` above the target's (cheaper
    ones qualify); if none is, the cheapest. Without a score, an organization ranks after
    scored ones; ties go to a current supplier, then the cheaper, then the id. Prices:
    :func:`_org_prices`. Columns: ``buyer``, ``type``, ``region``, ``revenue_at_stake``,
    ``current_suppliers``, ``alternatives`` (lists of org ids), ``switch_to``, ``switch_name``,
    ``switch_score``, ``switch_price``, ``target_score``, ``target_price``, ``price_ratio``
    (switch / target), ``reason``.
    """
    if tolerance < 0:
        raise VdtoError(f"tolerance must be >= 0 (got {tolerance!r})", "tolerance", "")
    score = _check_scores(scores)
    g = _supply(net)
    org_id = net.nodes["org_id"].to_numpy(dtype=object)
    names = net.nodes["name"].to_numpy(dtype=object)
    region = net.nodes["region"].to_numpy(dtype=object)
    is_org = g.of_type(*_ORG_TYPES)
    org_name: dict[str, str] = {}
    for i in np.flatnonzero(g.of_type(NodeType.ORGANIZATION)):
        if isinstance(org_id[i], str):
            org_name.setdefault(org_id[i], str(names[i]))
    prices = _org_prices(net, g)
    # organizations supplying wholesalers and city markets, by region
    e = np.flatnonzero(is_org[g.src] & g.of_type(NodeType.WHOLESALER, NodeType.CITY)[g.dst])
    by_region: dict[object, set[str]] = {}
    for r, o in zip(region[g.dst[e]], org_id[g.src[e]], strict=True):
        if isinstance(o, str):
            by_region.setdefault(r, set()).add(o)
    index = pd.Index(g.ids)
    o = np.argsort(g.dst, kind="stable")
    indptr = np.searchsorted(g.dst[o], np.arange(g.n + 1))
    sup_src = g.src[o]
    target = package.target
    t_price = prices.get(target, math.nan)
    t_score = score.get(target, math.nan)
    rows = []
    for _, b in package.selected.iterrows():
        i = int(index.get_loc(b["id"]))
        # organizations upstream of the buyer
        current: set[str] = set()
        seen = {i}
        stack = [i]
        while stack:
            v = stack.pop()
            for s in sup_src[indptr[v] : indptr[v + 1]].tolist():
                if s in seen:
                    continue
                seen.add(s)
                if is_org[s] and isinstance(org_id[s], str):
                    current.add(org_id[s])
                stack.append(s)
        current.discard(target)
        alts = sorted(current | (by_region.get(region[i], set()) - {target}))
        pick, reason = None, "no other supplier reachable"
        if alts:
            within = [
                a
                for a in alts
                if math.isnan(t_price) or (a in prices and prices[a] <= t_price * (1 + tolerance))
            ]
            pct = f"{tolerance:.0%}"

            def key(a: str, current: set[str] = current) -> tuple:
                return (score.get(a, math.inf), a not in current, prices.get(a, math.inf), a)

            if within:
                pick = min(within, key=key)
                if pick in score:
                    reason = f"least violent supplier priced within {pct} of the target"
                else:
                    reason = f"priced within {pct} of the target (no violence score: current supplier, then cheaper)"
            else:
                priced = [a for a in alts if a in prices]
                if priced:
                    pick = min(priced, key=lambda a: (prices[a], a))
                    reason = f"cheapest supplier (none priced within {pct} of the target)"
                else:
                    pick = min(alts, key=key)
                    reason = "no supplier price known"
        p_price = prices.get(pick, math.nan) if pick else math.nan
        rows.append(
            {
                "buyer": b["id"],
                "type": b["type"],
                "region": region[i],
                "revenue_at_stake": b["revenue_at_stake"],
                "current_suppliers": sorted(current),
                "alternatives": alts,
                "switch_to": pick,
                "switch_name": org_name.get(pick, pick) if pick else None,
                "switch_score": score.get(pick, math.nan) if pick else math.nan,
                "switch_price": p_price,
                "target_score": t_score,
                "target_price": t_price,
                "price_ratio": p_price / t_price if t_price and not math.isnan(t_price) else math.nan,
                "reason": reason,
            }
        )
    cols = [
        "buyer",
        "type",
        "region",
        "revenue_at_stake",
        "current_suppliers",
        "alternatives",
        "switch_to",
        "switch_name",
        "switch_score",
        "switch_price",
        "target_score",
        "target_price",
        "price_ratio",
        "reason",
    ]
    return pd.DataFrame(rows, columns=cols)


# ---------------------------------------------------------------------------------------------
# succession risk

_REGION_SEP = re.compile(r"[;|]")


def _regions(value: object) -> set[str]:
    if not isinstance(value, str):
        return set()
    return {p.strip() for p in _REGION_SEP.split(value) if p.strip()}


def succession_risk(
    alliances_rivalries: SupplyNetwork, target_org_id: str, scores: pd.DataFrame | None = None
) -> pd.DataFrame:
    """The target's rivals and allies that stand to take over its territory, ranked.

    Reads ``alliance`` and ``rivalry`` edges between organization (or cell) nodes; a node
    stands for its ``org_id`` (its own id when it has none). A tie listed in both directions
    counts once (the larger weight); a missing weight counts 1. For each organization tied to
    the target: ``relation`` (``rivalry``, ``alliance`` or ``alliance+rivalry``), ``weight``
    (total), ``rivalry_weight``, ``alliance_weight``, ``shared_regions`` (regions, split on
    ``;`` or ``|``, where both have nodes) and ``regions``, ``score`` (violence score when
    ``scores`` is given), ``more_violent`` (its score above the target's) and ``rank``.
    Ranked by weight, then shared regions, then score (all highest first), then id.
    """
    score = _check_scores(scores)
    nodes = alliances_rivalries.nodes
    org = nodes["org_id"].astype(object)
    org = org.where(org.map(lambda x: isinstance(x, str) and bool(x)), nodes["id"]).astype(str)
    key = dict(zip(nodes["id"], org, strict=True))
    names: dict[str, str] = {}
    regions: dict[str, set[str]] = {}
    for k, nm, rg in zip(org, nodes["name"], nodes["region"], strict=True):
        names.setdefault(k, str(nm))
        regions.setdefault(k, set()).update(_regions(rg))
    if target_org_id not in regions:
        raise UnknownNameError(
            f"no node with org_id {target_org_id!r} in the alliance/rivalry network",
            "target",
            "pass an org_id of the network",
        )
    ties = alliances_rivalries.edges[
        alliances_rivalries.edges["type"].isin([EdgeType.ALLIANCE.value, EdgeType.RIVALRY.value])
    ]
    cols = [
        "org_id",
        "name",
        "relation",
        "weight",
        "rivalry_weight",
        "alliance_weight",
        "shared_regions",
        "regions",
        "score",
        "more_violent",
        "rank",
    ]
    if ties.empty:
        return pd.DataFrame(columns=cols)
    a = ties["source"].map(key)
    b = ties["target"].map(key)
    if a.isna().any() or b.isna().any():
        i = int(np.flatnonzero((a.isna() | b.isna()).to_numpy())[0])
        r = ties.iloc[i]
        raise VdtoError(
            f"{r['type']} edge {r['source']} -- {r['target']} names an unknown node",
            "edges",
            "add the node or fix the id",
        )
    s_ = ties["source"].astype(str).to_numpy(dtype=object)
    d_ = ties["target"].astype(str).to_numpy(dtype=object)
    first = s_ < d_
    t = pd.DataFrame(
        {
            "lo": np.where(first, s_, d_),
            "hi": np.where(first, d_, s_),
            "type": ties["type"].to_numpy(),
            "a": a.to_numpy(),
            "b": b.to_numpy(),
            "w": ties["weight"].astype(float).fillna(1.0).to_numpy(),
        }
    )
    t = t[(t["a"] == target_org_id) ^ (t["b"] == target_org_id)]
    t = t.groupby(["lo", "hi", "type"], as_index=False).agg(
        a=("a", "first"), b=("b", "first"), w=("w", "max")
    )
    t["partner"] = np.where(t["a"] == target_org_id, t["b"], t["a"])
    if t.empty:
        return pd.DataFrame(columns=cols)
    w = t.pivot_table(index="partner", columns="type", values="w", aggfunc="sum", fill_value=0.0)
    riv = w.get(EdgeType.RIVALRY.value, pd.Series(0.0, index=w.index))
    ali = w.get(EdgeType.ALLIANCE.value, pd.Series(0.0, index=w.index))
    kinds = t.groupby("partner")["type"].agg(lambda x: set(x))
    t_regions = regions.get(target_org_id, set())
    t_score = score.get(target_org_id, math.nan)
    rows = []
    for p in w.index:
        rel = [x for x in (EdgeType.ALLIANCE.value, EdgeType.RIVALRY.value) if x in kinds[p]]
        shared = sorted(regions.get(p, set()) & t_regions)
        s = score.get(p, math.nan)
        rows.append(
            {
                "org_id": p,
                "name": names.get(p, p),
                "relation": "+".join(rel),
                "weight": float(ali[p] + riv[p]),
                "rivalry_weight": float(riv[p]),
                "alliance_weight": float(ali[p]),
                "shared_regions": len(shared),
                "regions": shared,
                "score": s,
                "more_violent": (s > t_score) if not (math.isnan(s) or math.isnan(t_score)) else pd.NA,
            }
        )
    out = pd.DataFrame(rows)
    out["_s"] = out["score"].fillna(-math.inf)
    out = out.sort_values(
        ["weight", "shared_regions", "_s", "org_id"], ascending=[False, False, False, True], kind="stable"
    ).drop(columns="_s")
    out["rank"] = np.arange(1, len(out) + 1)
    return out.reset_index(drop=True)[cols]
