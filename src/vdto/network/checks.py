"""The rules every supply-network reader enforces, and the canonical form of a network.

- :func:`canonical` puts a network in canonical form (fixed dtypes, ties from the smaller node
  id to the larger, rows sorted), so two networks hold the same data exactly when their
  canonical frames are equal;
- :func:`check_network` checks a network against the data model: node ids and types, value
  ranges, who may supply whom, ties between organizations and cells only, repeated edges and
  supply cycles. The same checks (:func:`node_frame_issues`, :func:`edge_issues`) back the file
  readers of :mod:`vdto.network.csvfiles` and :mod:`vdto.network.formats`, which locate each
  problem in their own terms (file, row and column; node or edge).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import networkx as nx
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp
from scipy.sparse import csgraph

from vdto.errors import InputFileError, VdtoError
from vdto.network.graph import (
    EDGE_COLUMNS,
    NODE_COLUMNS,
    SUPPLY_RULES,
    EdgeType,
    NodeType,
    SupplyNetwork,
)
from vdto.orgs import Registry

__all__ = ["EDGE_TYPES", "NODE_TYPES", "TIE_NODE_TYPES", "TIE_TYPES", "canonical", "check_network"]

#: Node and edge type names, in the order of the enums.
NODE_TYPES: tuple[str, ...] = tuple(t.value for t in NodeType)
EDGE_TYPES: tuple[str, ...] = tuple(t.value for t in EdgeType)
#: Edge types that are undirected ties between organizations or cells.
TIE_TYPES: frozenset[str] = frozenset({EdgeType.ALLIANCE.value, EdgeType.RIVALRY.value})
#: Node types an alliance or rivalry may join.
TIE_NODE_TYPES: frozenset[str] = frozenset({NodeType.ORGANIZATION.value, NodeType.CELL.value})

#: node and edge columns by kind: text, numbers, dates
STR_NODE = ("id", "type", "name", "org_id", "region")
NUM_NODE = ("price", "cost")
STR_EDGE = ("source", "target", "type")
NUM_EDGE = ("volume", "share", "confidence", "weight")
DATE_EDGE = ("start", "end")
#: how to fix an organization the registry does not know
REGISTER_FIX = "give the node an org_id, or register the name as an organization or an alias of one"


@dataclass(frozen=True)
class Issue:
    """A problem in one row of a node or edge frame (``pos`` is the row's position)."""

    pos: int
    column: str
    value: object
    message: str
    fix: str


# -- frames ------------------------------------------------------------------------------
def strings(values: Iterable[object]) -> pd.Series:
    """Object series of stripped strings, None where missing or blank."""
    ser = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    try:
        arr = pa.array(ser, type=pa.string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # not all text: numbers, dates...
        arr = pa.array(ser.astype("string"), type=pa.string(), from_pandas=True)
    arr = pc.utf8_trim_whitespace(arr)
    arr = pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)
    return pd.Series(arr.to_numpy(zero_copy_only=False), dtype=object)


def dates(values: Iterable[object]) -> pd.Series:
    ser = pd.to_datetime(pd.Series(list(values), dtype=object), errors="coerce", format="ISO8601")
    if isinstance(ser.dtype, pd.DatetimeTZDtype):
        ser = ser.dt.tz_localize(None)
    return ser.astype("datetime64[ns]")


def typed(net: SupplyNetwork) -> SupplyNetwork:
    """The network with its columns in the canonical dtypes (object strings, float, datetime64)."""
    filled = SupplyNetwork.from_frames(net.nodes, net.edges, net.meta)
    nodes = pd.DataFrame({c: strings(filled.nodes[c]) for c in STR_NODE})
    for c in NUM_NODE:
        nodes[c] = pd.to_numeric(filled.nodes[c], errors="coerce").astype(float).to_numpy()
    nodes["name"] = nodes["name"].where(nodes["name"].notna(), nodes["id"])
    edges = pd.DataFrame({c: strings(filled.edges[c]) for c in STR_EDGE})
    for c in NUM_EDGE:
        edges[c] = pd.to_numeric(filled.edges[c], errors="coerce").astype(float).to_numpy()
    for c in DATE_EDGE:
        edges[c] = dates(filled.edges[c]).to_numpy()
    return SupplyNetwork(nodes[list(NODE_COLUMNS)], edges[list(EDGE_COLUMNS)], dict(filled.meta))


def orient_ties(edges: pd.DataFrame) -> pd.DataFrame:
    swap = (edges["type"].isin(TIE_TYPES) & (edges["source"] > edges["target"])).to_numpy()
    if swap.any():
        edges = edges.copy()
        src = edges["source"].to_numpy(copy=True)
        edges.loc[swap, "source"] = edges.loc[swap, "target"].to_numpy()
        edges.loc[swap, "target"] = src[swap]
    return edges


def canonical(net: SupplyNetwork) -> SupplyNetwork:
    """The network in canonical form: fixed dtypes, every alliance and rivalry stored from the
    smaller node id to the larger, nodes sorted by id and edges by all their columns.

    Two networks hold the same data exactly when their canonical frames are equal, which is how
    a round trip through a file is checked.
    """
    net = typed(net)
    nodes = net.nodes.sort_values("id", kind="mergesort").reset_index(drop=True)
    edges = orient_ties(net.edges)
    order = ["source", "target", "type", "start", "end", "volume", "share", "confidence", "weight"]
    edges = edges.sort_values(order, kind="mergesort", na_position="last").reset_index(drop=True)
    return SupplyNetwork(nodes, edges, net.meta)


# -- checks shared by every reader -------------------------------------------------------
def _fmt_cycle(nodes: list[str]) -> str:
    shown = nodes if len(nodes) <= 12 else [*nodes[:10], "…", nodes[-1]]
    return " -> ".join(shown)


def _cycle_issues(edges: pd.DataFrame, ok: np.ndarray) -> list[Issue]:
    """One issue per strongly connected group of supply edges (a supply cycle)."""
    sup = np.flatnonzero(ok & (edges["type"] == EdgeType.SUPPLIES.value).to_numpy())
    if len(sup) == 0:
        return []
    src = edges["source"].to_numpy()[sup]
    dst = edges["target"].to_numpy()[sup]
    ids, inv = np.unique(np.concatenate([src, dst]).astype(str), return_inverse=True)
    s, t = inv[: len(sup)], inv[len(sup) :]
    adj = sp.csr_array((np.ones(len(sup)), (s, t)), shape=(len(ids), len(ids)))
    _, comp = csgraph.connected_components(adj, directed=True, connection="strong")
    sizes = np.bincount(comp)
    inside = (comp[s] == comp[t]) & (sizes[comp[s]] > 1)
    issues = []
    seen: set[int] = set()
    for k in np.flatnonzero(inside):  # in frame order: the first edge of each cycle is reported
        c = int(comp[s[k]])
        if c in seen:
            continue
        seen.add(c)
        members = np.flatnonzero(inside & (comp[s] == c))
        g = nx.DiGraph()
        g.add_edges_from(zip(s[members].tolist(), t[members].tolist(), strict=True))
        back = nx.shortest_path(g, int(t[k]), int(s[k]))  # from the edge's buyer back to its seller
        cycle = [str(ids[int(s[k])]), *(str(ids[i]) for i in back)]
        issues.append(
            Issue(
                int(sup[k]),
                "target",
                str(ids[int(t[k])]),
                f"{str(ids[int(t[k])])!r} closes a supply cycle: {_fmt_cycle(cycle)}",
                "supply flows one way: remove or reverse one edge of the cycle",
            )
        )
    return issues


def edge_issues(
    edges: pd.DataFrame,
    node_type: dict[str, str],
    skip: set[str],
    label: Callable[[int], str],
    dangling_fix: str,
) -> list[Issue]:
    """Checks of typed edge rows against the nodes: types, values, rules, duplicates, cycles.

    ``skip`` holds node ids whose own definition was already reported as bad. Each check leaves
    out the rows an earlier one found unusable (unknown ends or type, a broken rule, a repeat).
    """
    src = edges["source"].to_numpy(dtype=object)
    dst = edges["target"].to_numpy(dtype=object)
    kind = edges["type"].to_numpy(dtype=object)
    ok = np.ones(len(edges), dtype=bool)  # rows whose endpoints and type are usable for graph checks
    # object-dtype index: fast hash look-ups of Python strings
    types = pd.Series(list(node_type.values()), index=pd.Index(list(node_type), dtype=object), dtype=object)
    issues = _endpoint_issues(src, dst, kind, types, skip, dangling_fix, ok)
    issues += _value_issues(edges)
    issues += _rule_issues(src, dst, kind, types, ok)
    issues += _repeat_issues(edges, src, dst, kind, label, ok)
    issues += _cycle_issues(edges, ok)
    return issues


def _endpoint_issues(
    src: np.ndarray,
    dst: np.ndarray,
    kind: np.ndarray,
    types: pd.Series,
    skip: set[str],
    dangling_fix: str,
    ok: np.ndarray,
) -> list[Issue]:
    """Empty or undefined ends, empty or unknown edge types, and edges from a node to itself;
    clears ``ok`` (in place) for those rows."""
    issues: list[Issue] = []
    skip_index = pd.Index(list(skip), dtype=object)
    for col, ends in (("source", src), ("target", dst)):
        empty = pd.isna(ends)
        for i in np.flatnonzero(empty):
            issues.append(Issue(int(i), col, "", "is empty", f"fill in the {col} node id"))
        ser = pd.Series(ends, dtype=object)
        skipped = ~empty & ser.isin(skip_index).to_numpy()
        undefined = ~empty & ~skipped & ~ser.isin(types.index).to_numpy()
        for i in np.flatnonzero(undefined):
            issues.append(Issue(int(i), col, ends[i], f"{ends[i]!r} is not a defined node", dangling_fix))
        ok &= ~(empty | skipped | undefined)
    known_kind = np.isin(kind.astype(str), EDGE_TYPES) & ~pd.isna(kind)
    for i in np.flatnonzero(~known_kind):
        what = "is empty" if pd.isna(kind[i]) else "is not an edge type"
        issues.append(Issue(int(i), "type", kind[i] or "", what, f"use one of {', '.join(EDGE_TYPES)}"))
    ok &= known_kind
    for i in np.flatnonzero(ok & (src == dst)):
        issues.append(
            Issue(
                int(i),
                "target",
                dst[i],
                f"{dst[i]!r} is also the source (an edge from a node to itself)",
                "remove the row, or fix the source or the target",
            )
        )
        ok[i] = False
    return issues


#: Range checks of the numeric edge columns: column, test of a bad value, message, fix.
_VALUE_CHECKS: tuple[tuple[str, Callable[[np.ndarray], np.ndarray], str, str], ...] = (
    ("volume", lambda v: v < 0, "is negative", "volume is units per year: 0 or more"),
    (
        "share",
        lambda v: (v < 0) | (v > 1),
        "is outside 0..1",
        "share is the fraction of the buyer's supply this edge carries: a number from 0 to 1 "
        "(0.25 for 25%), or empty to derive it from volumes",
    ),
    (
        "confidence",
        lambda v: (v < 0) | (v > 1),
        "is outside 0..1",
        "confidence is a probability from 0 to 1 (empty means 1)",
    ),
    ("weight", lambda v: v < 0, "is negative", "weight is a tie strength: 0 or more"),
)


def _value_issues(edges: pd.DataFrame) -> list[Issue]:
    """Numbers out of range (:data:`_VALUE_CHECKS`) and edges that end before they start."""
    issues: list[Issue] = []
    for col, bad_fn, what, fix in _VALUE_CHECKS:
        vals = edges[col].to_numpy(dtype=float)
        for i in np.flatnonzero(np.isfinite(vals) & bad_fn(vals)):
            issues.append(Issue(int(i), col, _num_text(vals[i]), what, fix))
    start, end = edges["start"], edges["end"]
    for i in np.flatnonzero((end < start).to_numpy()):
        issues.append(
            Issue(
                int(i),
                "end",
                end.iloc[i].date().isoformat(),
                f"is before start ({start.iloc[i].date().isoformat()})",
                "swap start and end, or fix the dates",
            )
        )
    return issues


def _rule_issues(
    src: np.ndarray, dst: np.ndarray, kind: np.ndarray, types: pd.Series, ok: np.ndarray
) -> list[Issue]:
    """Supplies edges that break ``SUPPLY_RULES`` and ties that join anything but organizations
    and cells; clears ``ok`` (in place) for those rows."""
    issues: list[Issue] = []
    st = pd.Series(src, dtype=object).map(types).fillna("").to_numpy(dtype=object)
    tt = pd.Series(dst, dtype=object).map(types).fillna("").to_numpy(dtype=object)
    supplies = kind == EdgeType.SUPPLIES.value
    breaks = np.zeros(len(src), dtype=bool)
    for seller in NODE_TYPES:
        allowed = list(SUPPLY_RULES.get(seller, frozenset()))
        breaks |= (st == seller) & ~np.isin(tt.astype(str), allowed)
    for i in np.flatnonzero(ok & supplies & breaks):
        may_supply = SUPPLY_RULES.get(st[i], frozenset())
        may = ", ".join(sorted(may_supply)) if may_supply else "nothing"
        issues.append(
            Issue(
                int(i),
                "type",
                kind[i],
                f"supplies from {st[i]} {src[i]!r} to {tt[i]} {dst[i]!r} breaks the supply "
                f"rules (a {st[i]} may supply: {may})",
                "check the two nodes' types, or swap source and target if the seller and buyer are reversed",
            )
        )
    tie_nodes = list(TIE_NODE_TYPES)
    bad_tie = ~supplies & ~(np.isin(st.astype(str), tie_nodes) & np.isin(tt.astype(str), tie_nodes))
    for i in np.flatnonzero(ok & bad_tie):
        issues.append(
            Issue(
                int(i),
                "type",
                kind[i],
                f"{kind[i]} between {st[i]} {src[i]!r} and {tt[i]} {dst[i]!r}: ties join "
                "organizations and cells only",
                "check the two nodes' types, or use a supplies edge",
            )
        )
    ok &= ~((supplies & breaks) | bad_tie)
    return issues


def _repeat_issues(
    edges: pd.DataFrame,
    src: np.ndarray,
    dst: np.ndarray,
    kind: np.ndarray,
    label: Callable[[int], str],
    ok: np.ndarray,
) -> list[Issue]:
    """The same edge twice (ties in either direction, same dates); clears ``ok`` (in place) for
    every repeat after the first."""
    issues: list[Issue] = []
    s_txt, t_txt = src.astype(str), dst.astype(str)
    swap = np.isin(kind.astype(str), list(TIE_TYPES)) & (s_txt > t_txt)
    key = pd.DataFrame(
        {
            "a": np.where(swap, t_txt, s_txt),
            "b": np.where(swap, s_txt, t_txt),
            "k": kind.astype(str),
            "s": edges["start"].to_numpy(dtype="datetime64[ns]").view("i8"),
            "e": edges["end"].to_numpy(dtype="datetime64[ns]").view("i8"),
        }
    )
    dup = key.duplicated(keep=False).to_numpy() & ok
    first: dict[tuple, int] = {}
    for i in np.flatnonzero(dup):
        k = tuple(key.iloc[i])
        if k not in first:
            first[k] = int(i)
            continue
        issues.append(
            Issue(
                int(i),
                "type",
                kind[i],
                f"{kind[i]} {src[i]!r} - {dst[i]!r} repeats {label(first[k])}",
                "keep one row per edge (or give repeated edges different start/end dates)",
            )
        )
        ok[i] = False
    return issues


def _num_text(v: float) -> str:
    return f"{v:g}"


def resolve_orgs(nodes: pd.DataFrame, registry: Registry) -> tuple[pd.Series, list[tuple[int, str]]]:
    """Fill missing org_ids from names (or ids): organizations must resolve, cells may.

    Returns the new org_id column and ``(pos, key)`` for organizations that do not resolve.
    """
    org = nodes["org_id"].copy()
    kinds = nodes["type"].to_numpy(dtype=object)
    todo = nodes["org_id"].isna().to_numpy() & np.isin(
        kinds.astype(str), [NodeType.ORGANIZATION.value, NodeType.CELL.value]
    )
    names = nodes["name"].to_numpy(dtype=object)
    ids = nodes["id"].to_numpy(dtype=object)
    found: dict[str, str | None] = {}
    missing = []
    for i in np.flatnonzero(todo):
        key = names[i] or ids[i]
        if key not in found:
            found[key] = registry.resolve(key).org_id
        if found[key] is not None:
            org.iloc[i] = found[key]
        elif kinds[i] == NodeType.ORGANIZATION.value:
            missing.append((int(i), key))
    return org, missing


def check_network(net: SupplyNetwork) -> None:
    """Raise a :class:`~vdto.errors.VdtoError` if the network breaks a rule of the data model.

    The same checks as the file readers (types, value ranges, supply rules, ties between
    organizations and cells only, repeated edges, acyclic supply), located as ``node 'id'`` or
    ``edge N (source -> target)``, N counting the edge frame's rows from 0.
    """
    net = typed(net)
    issues = node_frame_issues(net.nodes)
    if issues:
        raise first_issue(issues, "network", lambda p: f"node {net.nodes['id'].iloc[p]!r}", "nodes")
    label = edge_label(net.edges)
    issues = edge_issues(net.edges, type_map(net.nodes), set(), label, "add the node to the node frame")
    if issues:
        raise first_issue(issues, "network", label, "edges")


def type_map(nodes: pd.DataFrame) -> dict[str, str]:
    return dict(zip(nodes["id"], nodes["type"], strict=True))


def edge_label(edges: pd.DataFrame) -> Callable[[int], str]:
    def label(p: int) -> str:
        return f"edge {p} ({edges['source'].iloc[p]} -> {edges['target'].iloc[p]})"

    return label


def node_frame_issues(nodes: pd.DataFrame) -> list[Issue]:
    issues = []
    ids = nodes["id"]
    for i in np.flatnonzero(ids.isna().to_numpy()):
        issues.append(Issue(int(i), "id", "", "is empty", "give every node an id"))
    for i in np.flatnonzero((ids.duplicated() & ids.notna()).to_numpy()):
        issues.append(Issue(int(i), "id", ids.iloc[i], "is a repeated node id", "give each node one entry"))
    kinds = nodes["type"]
    for i in np.flatnonzero(~kinds.isin(NODE_TYPES).to_numpy()):
        v = kinds.iloc[i]
        what = "is empty" if v is None else "is not a node type"
        issues.append(Issue(int(i), "type", v or "", what, f"use one of {', '.join(NODE_TYPES)}"))
    for col in NUM_NODE:
        vals = nodes[col].to_numpy(dtype=float)
        for i in np.flatnonzero(np.isfinite(vals) & (vals < 0)):
            issues.append(Issue(int(i), col, _num_text(vals[i]), "is negative", f"{col} is 0 or more"))
    return issues


def first_issue(issues: list[Issue], file: str, label: Callable[[int], str], what: str) -> VdtoError:
    first = min(issues, key=lambda x: x.pos)
    more = len(issues) - 1
    tail = f" ({more} more problem{'s' if more > 1 else ''} in the {what})" if more else ""
    value = f" (value {first.value!r})" if first.value and str(first.value) not in first.message else ""
    return InputFileError(
        f"{first.column} {first.message}{value}{tail}", f"{file}: {label(first.pos)}", first.fix
    )


def norm_type(series: pd.Series) -> pd.Series:
    """Stripped, lower-case type names; None where blank."""
    return pd.Series([v.lower() if v is not None else None for v in strings(series)], dtype=object)
