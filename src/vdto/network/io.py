"""Reading and writing supply networks: CSV edge lists, GraphML, GEXF and link-chart CSV pairs.

The formats are described in docs/network.md ("Files and formats"). In short:

- :func:`read_edges_csv` reads an edge list (``source,target,type,volume,share,confidence,weight,
  start,end``), with nodes defined either by extra columns on the same rows (``source_type``,
  ``source_name``, ``source_org``, ``source_region`` and the same for ``target``) or by a separate
  node file (``id,type,name,org_id,region,price,cost``), or both. Every problem is located by
  file, row (the header is row 1) and column; all problems are collected and the first is shown.
- :func:`write_graphml` / :func:`read_graphml` and :func:`write_gexf` / :func:`read_gexf` go
  through a networkx ``MultiDiGraph``, so that several edges between the same two nodes (an
  alliance and a supplies edge, say) survive. Alliance and rivalry ties are undirected in meaning;
  they are stored once, from the smaller node id to the larger (:func:`canonical`).
- :func:`write_link_chart` writes ``entities.csv`` and ``links.csv`` for link-analysis tools.

Writers write to a temporary file in the target folder and move it into place, so a file is
either the old one or the complete new one.
"""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp
from scipy.sparse import csgraph

from vdto.errors import InputFileError, RowErrors, RowProblem, VdtoError
from vdto.events.tabular import ROW, Problems, parse_number, read_csv, require_columns, sha256_file
from vdto.files import atomic_write
from vdto.network.graph import (
    EDGE_COLUMNS,
    NODE_COLUMNS,
    SUPPLY_RULES,
    EdgeType,
    NodeType,
    SupplyNetwork,
)
from vdto.orgs import Registry

__all__ = [
    "EDGE_FILE_COLUMNS",
    "ENTITY_COLUMNS",
    "INLINE_NODE_COLUMNS",
    "LINK_COLUMNS",
    "NODE_FILE_COLUMNS",
    "NetworkFileErrors",
    "canonical",
    "check_network",
    "from_networkx",
    "read_edges_csv",
    "read_gexf",
    "read_graphml",
    "to_networkx",
    "write_gexf",
    "write_graphml",
    "write_link_chart",
]

#: Columns of an edge-list CSV: ``source``, ``target`` and ``type`` are required.
EDGE_FILE_COLUMNS: tuple[str, ...] = EDGE_COLUMNS
#: Optional edge-list columns that define the nodes on the same rows.
INLINE_NODE_COLUMNS: tuple[str, ...] = (
    "source_type",
    "target_type",
    "source_name",
    "target_name",
    "source_org",
    "target_org",
    "source_region",
    "target_region",
)
#: Columns of a node CSV: ``id`` and ``type`` are required.
NODE_FILE_COLUMNS: tuple[str, ...] = NODE_COLUMNS

NODE_TYPES: tuple[str, ...] = tuple(t.value for t in NodeType)
EDGE_TYPES: tuple[str, ...] = tuple(t.value for t in EdgeType)
TIE_TYPES: frozenset[str] = frozenset({EdgeType.ALLIANCE.value, EdgeType.RIVALRY.value})
#: Node types an alliance or rivalry may join.
TIE_NODE_TYPES: frozenset[str] = frozenset({NodeType.ORGANIZATION.value, NodeType.CELL.value})

_STR_NODE = ("id", "type", "name", "org_id", "region")
_NUM_NODE = ("price", "cost")
_STR_EDGE = ("source", "target", "type")
_NUM_EDGE = ("volume", "share", "confidence", "weight")
_DATE_EDGE = ("start", "end")
#: inline attribute -> suffix of its edge-file column (``source_`` + suffix)
_INLINE = {"type": "type", "name": "name", "org_id": "org", "region": "region"}
_META_KEY = "vdto_meta"
_REGISTER_FIX = "give the node an org_id, or register the name as an organization or an alias of one"


class NetworkFileErrors(RowErrors):
    """Rows of a network file failed validation; the first is shown, all are in ``problems``."""

    def __init__(self, file: str, problems: list[RowProblem]) -> None:
        self.problems = problems
        first = problems[0]
        more = len(problems) - 1
        value = f" (value {first.value!r})" if first.value and str(first.value) not in first.message else ""
        tail = f" ({more} more problem{'s' if more > 1 else ''} in this file)" if more else ""
        VdtoError.__init__(
            self,
            what=f"{first.column_name} {first.message}{value}{tail}",
            where=f"{file}:{first.row}:{first.column}" if first.column else f"{file}:{first.row}",
            fix=first.fix,
        )


@dataclass(frozen=True)
class _Issue:
    """A problem in one row of a node or edge frame (``pos`` is the row's position)."""

    pos: int
    column: str
    value: object
    message: str
    fix: str


# -- frames ------------------------------------------------------------------------------
def _strings(values: Iterable[object]) -> pd.Series:
    """Object series of stripped strings, None where missing or blank."""
    ser = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    try:
        arr = pa.array(ser, type=pa.string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # not all text: numbers, dates...
        arr = pa.array(ser.astype("string"), type=pa.string(), from_pandas=True)
    arr = pc.utf8_trim_whitespace(arr)
    arr = pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)
    return pd.Series(arr.to_numpy(zero_copy_only=False), dtype=object)


def _dates(values: Iterable[object]) -> pd.Series:
    ser = pd.to_datetime(pd.Series(list(values), dtype=object), errors="coerce", format="ISO8601")
    if isinstance(ser.dtype, pd.DatetimeTZDtype):
        ser = ser.dt.tz_localize(None)
    return ser.astype("datetime64[ns]")


def _typed(net: SupplyNetwork) -> SupplyNetwork:
    """The network with its columns in the canonical dtypes (object strings, float, datetime64)."""
    filled = SupplyNetwork.from_frames(net.nodes, net.edges, net.meta)
    nodes = pd.DataFrame({c: _strings(filled.nodes[c]) for c in _STR_NODE})
    for c in _NUM_NODE:
        nodes[c] = pd.to_numeric(filled.nodes[c], errors="coerce").astype(float).to_numpy()
    nodes["name"] = nodes["name"].where(nodes["name"].notna(), nodes["id"])
    edges = pd.DataFrame({c: _strings(filled.edges[c]) for c in _STR_EDGE})
    for c in _NUM_EDGE:
        edges[c] = pd.to_numeric(filled.edges[c], errors="coerce").astype(float).to_numpy()
    for c in _DATE_EDGE:
        edges[c] = _dates(filled.edges[c]).to_numpy()
    return SupplyNetwork(nodes[list(NODE_COLUMNS)], edges[list(EDGE_COLUMNS)], dict(filled.meta))


def _orient_ties(edges: pd.DataFrame) -> pd.DataFrame:
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
    net = _typed(net)
    nodes = net.nodes.sort_values("id", kind="mergesort").reset_index(drop=True)
    edges = _orient_ties(net.edges)
    order = ["source", "target", "type", "start", "end", "volume", "share", "confidence", "weight"]
    edges = edges.sort_values(order, kind="mergesort", na_position="last").reset_index(drop=True)
    return SupplyNetwork(nodes, edges, net.meta)


# -- checks shared by every reader -------------------------------------------------------
def _fmt_cycle(nodes: list[str]) -> str:
    shown = nodes if len(nodes) <= 12 else [*nodes[:10], "…", nodes[-1]]
    return " -> ".join(shown)


def _cycle_issues(edges: pd.DataFrame, ok: np.ndarray) -> list[_Issue]:
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
            _Issue(
                int(sup[k]),
                "target",
                str(ids[int(t[k])]),
                f"{str(ids[int(t[k])])!r} closes a supply cycle: {_fmt_cycle(cycle)}",
                "supply flows one way: remove or reverse one edge of the cycle",
            )
        )
    return issues


def _edge_issues(
    edges: pd.DataFrame,
    node_type: dict[str, str],
    skip: set[str],
    label: Callable[[int], str],
    dangling_fix: str,
) -> list[_Issue]:
    """Checks of typed edge rows against the nodes: types, values, rules, duplicates, cycles.

    ``skip`` holds node ids whose own definition was already reported as bad.
    """
    issues: list[_Issue] = []
    n = len(edges)
    src = edges["source"].to_numpy(dtype=object)
    dst = edges["target"].to_numpy(dtype=object)
    kind = edges["type"].to_numpy(dtype=object)
    ok = np.ones(n, dtype=bool)  # rows whose endpoints and type are usable for graph checks

    # object-dtype index: fast hash look-ups of Python strings
    types = pd.Series(list(node_type.values()), index=pd.Index(list(node_type), dtype=object), dtype=object)
    skip_index = pd.Index(list(skip), dtype=object)
    for col, ends in (("source", src), ("target", dst)):
        empty = pd.isna(ends)
        for i in np.flatnonzero(empty):
            issues.append(_Issue(int(i), col, "", "is empty", f"fill in the {col} node id"))
        ser = pd.Series(ends, dtype=object)
        skipped = ~empty & ser.isin(skip_index).to_numpy()
        undefined = ~empty & ~skipped & ~ser.isin(types.index).to_numpy()
        for i in np.flatnonzero(undefined):
            issues.append(_Issue(int(i), col, ends[i], f"{ends[i]!r} is not a defined node", dangling_fix))
        ok &= ~(empty | skipped | undefined)
    known_kind = np.isin(kind.astype(str), EDGE_TYPES) & ~pd.isna(kind)
    for i in np.flatnonzero(~known_kind):
        what = "is empty" if pd.isna(kind[i]) else "is not an edge type"
        issues.append(_Issue(int(i), "type", kind[i] or "", what, f"use one of {', '.join(EDGE_TYPES)}"))
    ok &= known_kind
    for i in np.flatnonzero(ok & (src == dst)):
        issues.append(
            _Issue(
                int(i),
                "target",
                dst[i],
                f"{dst[i]!r} is also the source (an edge from a node to itself)",
                "remove the row, or fix the source or the target",
            )
        )
        ok[i] = False

    checks = (
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
    for col, bad_fn, what, fix in checks:
        vals = edges[col].to_numpy(dtype=float)
        for i in np.flatnonzero(np.isfinite(vals) & bad_fn(vals)):
            issues.append(_Issue(int(i), col, _num_text(vals[i]), what, fix))
    start, end = edges["start"], edges["end"]
    for i in np.flatnonzero((end < start).to_numpy()):
        issues.append(
            _Issue(
                int(i),
                "end",
                end.iloc[i].date().isoformat(),
                f"is before start ({start.iloc[i].date().isoformat()})",
                "swap start and end, or fix the dates",
            )
        )

    # seller/buyer types
    st = pd.Series(src, dtype=object).map(types).fillna("").to_numpy(dtype=object)
    tt = pd.Series(dst, dtype=object).map(types).fillna("").to_numpy(dtype=object)
    supplies = kind == EdgeType.SUPPLIES.value
    breaks = np.zeros(n, dtype=bool)
    for seller in NODE_TYPES:
        allowed = list(SUPPLY_RULES.get(seller, frozenset()))
        breaks |= (st == seller) & ~np.isin(tt.astype(str), allowed)
    for i in np.flatnonzero(ok & supplies & breaks):
        allowed = SUPPLY_RULES.get(st[i], frozenset())
        may = ", ".join(sorted(allowed)) if allowed else "nothing"
        issues.append(
            _Issue(
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
            _Issue(
                int(i),
                "type",
                kind[i],
                f"{kind[i]} between {st[i]} {src[i]!r} and {tt[i]} {dst[i]!r}: ties join "
                "organizations and cells only",
                "check the two nodes' types, or use a supplies edge",
            )
        )
    ok &= ~((supplies & breaks) | bad_tie)

    # the same edge twice (ties in either direction)
    s_txt, t_txt = src.astype(str), dst.astype(str)
    swap = np.isin(kind.astype(str), list(TIE_TYPES)) & (s_txt > t_txt)
    key = pd.DataFrame(
        {
            "a": np.where(swap, t_txt, s_txt),
            "b": np.where(swap, s_txt, t_txt),
            "k": kind.astype(str),
            "s": start.to_numpy(dtype="datetime64[ns]").view("i8"),
            "e": end.to_numpy(dtype="datetime64[ns]").view("i8"),
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
            _Issue(
                int(i),
                "type",
                kind[i],
                f"{kind[i]} {src[i]!r} - {dst[i]!r} repeats {label(first[k])}",
                "keep one row per edge (or give repeated edges different start/end dates)",
            )
        )
        ok[i] = False
    issues += _cycle_issues(edges, ok)
    return issues


def _num_text(v: float) -> str:
    return f"{v:g}"


def _resolve_orgs(nodes: pd.DataFrame, registry: Registry) -> tuple[pd.Series, list[tuple[int, str]]]:
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
    net = _typed(net)
    issues = _node_frame_issues(net.nodes)
    if issues:
        raise _first_issue(issues, "network", lambda p: f"node {net.nodes['id'].iloc[p]!r}", "nodes")
    label = _edge_label(net.edges)
    issues = _edge_issues(net.edges, _type_map(net.nodes), set(), label, "add the node to the node frame")
    if issues:
        raise _first_issue(issues, "network", label, "edges")


def _type_map(nodes: pd.DataFrame) -> dict[str, str]:
    return dict(zip(nodes["id"], nodes["type"], strict=True))


def _edge_label(edges: pd.DataFrame) -> Callable[[int], str]:
    def label(p: int) -> str:
        return f"edge {p} ({edges['source'].iloc[p]} -> {edges['target'].iloc[p]})"

    return label


def _node_frame_issues(nodes: pd.DataFrame) -> list[_Issue]:
    issues = []
    ids = nodes["id"]
    for i in np.flatnonzero(ids.isna().to_numpy()):
        issues.append(_Issue(int(i), "id", "", "is empty", "give every node an id"))
    for i in np.flatnonzero((ids.duplicated() & ids.notna()).to_numpy()):
        issues.append(_Issue(int(i), "id", ids.iloc[i], "is a repeated node id", "give each node one entry"))
    kinds = nodes["type"]
    for i in np.flatnonzero(~kinds.isin(NODE_TYPES).to_numpy()):
        v = kinds.iloc[i]
        what = "is empty" if v is None else "is not a node type"
        issues.append(_Issue(int(i), "type", v or "", what, f"use one of {', '.join(NODE_TYPES)}"))
    for col in _NUM_NODE:
        vals = nodes[col].to_numpy(dtype=float)
        for i in np.flatnonzero(np.isfinite(vals) & (vals < 0)):
            issues.append(_Issue(int(i), col, _num_text(vals[i]), "is negative", f"{col} is 0 or more"))
    return issues


def _first_issue(issues: list[_Issue], file: str, label: Callable[[int], str], what: str) -> VdtoError:
    first = min(issues, key=lambda x: x.pos)
    more = len(issues) - 1
    tail = f" ({more} more problem{'s' if more > 1 else ''} in the {what})" if more else ""
    value = f" (value {first.value!r})" if first.value and str(first.value) not in first.message else ""
    return InputFileError(
        f"{first.column} {first.message}{value}{tail}", f"{file}: {label(first.pos)}", first.fix
    )


# -- CSV ----------------------------------------------------------------------------------
def _check_header(
    frame: pd.DataFrame, path: Path, required: tuple[str, ...], allowed: Iterable[str], what: str
):
    require_columns(frame, required, path, what)
    allowed = tuple(allowed)
    extra = [c for c in frame.columns if c != ROW and c not in allowed]
    if extra:
        raise InputFileError(
            f"unknown column {extra[0]!r}" + (f" (and {len(extra) - 1} more)" if len(extra) > 1 else ""),
            f"{path}:1",
            f"{what} files have the columns {', '.join(allowed)}; "
            "rename or remove the others (see docs/network.md)",
        )


def _norm_type(series: pd.Series) -> pd.Series:
    """Stripped, lower-case type names; None where blank."""
    return pd.Series([v.lower() if v is not None else None for v in _strings(series)], dtype=object)


@dataclass
class _Located:
    """Where a node's attribute came from: file, row and column name."""

    file: str
    row: int
    column: str


def _parse_nodes_file(path: Path, registry: Registry) -> tuple[pd.DataFrame, list[RowProblem], list[str]]:
    """The node file's rows (repeated ids dropped), its problems, and its header."""
    frame = read_csv(path)
    _check_header(frame, path, ("id", "type"), NODE_FILE_COLUMNS, "node")
    header = [c for c in frame.columns if c != ROW]
    rows = frame[ROW].to_numpy()
    probs = Problems(rows, header)
    out = pd.DataFrame({"id": _strings(frame["id"]), "type": _norm_type(frame["type"])})
    for c in ("name", "org_id", "region"):
        out[c] = _strings(frame[c]) if c in frame else pd.Series([None] * len(frame), dtype=object)
    for c in _NUM_NODE:
        if c in frame:
            out[c] = parse_number(frame[c], c, probs, integer=False, required=False)
            probs.add(out[c].to_numpy() < 0, c, frame[c], "is negative", f"{c} is 0 or more")
        else:
            out[c] = np.nan
    probs.add(out["id"].isna(), "id", frame["id"], "is empty", "give every node an id")
    probs.add(out["type"].isna(), "type", frame["type"], "is empty", f"use one of {', '.join(NODE_TYPES)}")
    probs.add(
        out["type"].notna() & ~out["type"].isin(NODE_TYPES),
        "type",
        frame["type"],
        "is not a node type",
        f"use one of {', '.join(NODE_TYPES)}",
    )
    if "org_id" in frame:
        probs.add(
            out["org_id"].notna() & ~out["org_id"].isin(list(registry.orgs)),
            "org_id",
            frame["org_id"],
            "is not a registry id",
            "use an id from the registry, or register the organization first",
        )
    extra: list[RowProblem] = []
    dup = (out["id"].notna() & out["id"].duplicated()).to_numpy()
    first_row = dict(zip(out["id"][~dup], rows[~dup], strict=True))
    for i in np.flatnonzero(dup):
        v = out["id"].iloc[i]
        extra.append(
            RowProblem(
                int(rows[i]),
                header.index("id") + 1,
                "id",
                v,
                f"{v!r} repeats the node id of row {first_row[v]}",
                "give each node one row (node ids are unique)",
            )
        )
    out.loc[~out["type"].isin(NODE_TYPES), "type"] = None
    out["at_file"] = str(path)
    out["at_row"] = rows
    out["at_side"] = ""
    keep = ~dup & out["id"].notna().to_numpy()
    return out[keep].reset_index(drop=True), probs.to_list() + extra, header


def _inline_nodes(frame: pd.DataFrame, probs: Problems, registry: Registry) -> tuple[pd.DataFrame, set[str]]:
    """Node attributes given on edge rows (one row per edge row and side), and the ids whose
    type was given but is not a node type (already reported)."""
    parts, bad_ids = [], set()
    rows = frame[ROW].to_numpy()
    for side in ("source", "target"):
        cols = {a: f"{side}_{suf}" for a, suf in _INLINE.items()}
        if not any(c in frame for c in cols.values()):
            continue
        part = pd.DataFrame({"id": _strings(frame[side])})
        for a, c in cols.items():
            if c in frame:
                part[a] = _norm_type(frame[c]) if a == "type" else _strings(frame[c])
            else:
                part[a] = pd.Series([None] * len(frame), dtype=object)
        tcol = cols["type"]
        if tcol in frame:
            bad = (part["type"].notna() & ~part["type"].isin(NODE_TYPES)).to_numpy()
            probs.add(bad, tcol, frame[tcol], "is not a node type", f"use one of {', '.join(NODE_TYPES)}")
            bad_ids |= set(part["id"][bad].dropna())
            part.loc[bad, "type"] = None
        ocol = cols["org_id"]
        if ocol in frame:
            probs.add(
                part["org_id"].notna() & ~part["org_id"].isin(list(registry.orgs)),
                ocol,
                frame[ocol],
                "is not a registry id",
                "use an id from the registry, or register the organization first",
            )
        part["at_row"] = rows
        part["at_side"] = side
        part["at_order"] = 0 if side == "source" else 1
        given = part[["type", "name", "org_id", "region"]].notna().any(axis=1) & part["id"].notna()
        parts.append(part[given])
    if not parts:
        return pd.DataFrame(columns=["id", "type", "name", "org_id", "region", "at_row", "at_side"]), bad_ids
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(["at_row", "at_order"], kind="mergesort").drop(columns="at_order"), bad_ids


def _col_of(side: str, attr: str) -> str:
    """The column holding ``attr`` in the node file (``side`` empty) or on an edge row."""
    if attr == "id":
        return side or "id"
    return attr if not side else f"{side}_{_INLINE[attr]}"


def read_edges_csv(
    path: str | Path, nodes_path: str | Path | None = None, *, registry: Registry | None = None
) -> SupplyNetwork:
    """Read a supply network from an edge-list CSV and, optionally, a node CSV.

    Parameters
    ----------
    path
        The edge list: ``source,target,type`` and optionally ``volume,share,confidence,weight,
        start,end`` and the inline node columns (:data:`INLINE_NODE_COLUMNS`).
    nodes_path
        A node file ``id,type[,name,org_id,region,price,cost]``. Without it, every node must be
        given a type on some edge row (``source_type`` / ``target_type``).
    registry
        Resolves organization names without an org_id (default: the seed registry; pass the
        store's registry to include organizations and aliases added by users).

    Returns the network with nodes in the order they are first defined (node file first, then
    edge rows) and edges in file order, alliances and rivalries oriented as in :func:`canonical`.

    Raises
    ------
    NetworkFileErrors
        Every bad row, located ``file:row:column`` (the header is row 1); the node file's
        problems are reported before the edge list's.
    InputFileError
        A file that cannot be read as CSV, or a header without the required columns.
    """
    registry = registry if registry is not None else Registry.seed()
    path = Path(path)
    frame = read_csv(path)
    _check_header(
        frame, path, ("source", "target", "type"), (*EDGE_FILE_COLUMNS, *INLINE_NODE_COLUMNS), "edge-list"
    )
    has_inline_types = "source_type" in frame or "target_type" in frame
    if nodes_path is None and not has_inline_types:
        raise InputFileError(
            "no node types: the edge list has no source_type or target_type column and no node "
            "file was given",
            f"{path}:1",
            "add source_type and target_type columns, or give a node file "
            "(id,type,name,org_id,region,price,cost)",
        )
    if nodes_path is not None:
        nodes_path = Path(nodes_path)
        file_nodes, node_problems, node_header = _parse_nodes_file(nodes_path, registry)
    else:
        file_nodes = pd.DataFrame(columns=[*NODE_COLUMNS, "at_file", "at_row", "at_side"])
        node_problems, node_header = [], list(NODE_FILE_COLUMNS)
    header = [c for c in frame.columns if c != ROW]
    rows = frame[ROW].to_numpy()
    probs = Problems(rows, header)
    extra: list[RowProblem] = []

    def problem(file: str, row: int, column: str, value: object, message: str, fix: str) -> None:
        if file == str(path):
            extra.append(
                RowProblem(int(row), header.index(column) + 1, column, str(value or ""), message, fix)
            )
        else:
            col = node_header.index(column) + 1 if column in node_header else 0
            node_problems.append(RowProblem(int(row), col, column, str(value or ""), message, fix))

    # nodes: the node file first, then the edge rows in order; the first value of each attribute
    # wins and a different value later is an error
    inline, skip = _inline_nodes(frame, probs, registry)
    inline["at_file"] = str(path)
    every = pd.concat([file_nodes.drop(columns=list(_NUM_NODE)), inline], ignore_index=True)
    first_at: dict[str, pd.DataFrame] = {}  # attribute -> first value and its place, by node id
    for attr in ("type", "name", "org_id", "region"):
        sub = every[every[attr].notna()]
        first = sub.drop_duplicates("id", keep="first").set_index("id")
        first_at[attr] = first[[attr, "at_file", "at_row", "at_side"]]
        seen = sub["id"].map(first[attr])
        for rec in sub[(sub[attr] != seen).to_numpy()].itertuples(index=False):
            w = first.loc[rec.id]
            ref = f"row {w.at_row}" if w.at_file == rec.at_file else f"{Path(w.at_file).name} row {w.at_row}"
            val = getattr(rec, attr)
            problem(
                rec.at_file,
                rec.at_row,
                _col_of(rec.at_side, attr),
                val,
                f"gives node {rec.id!r} {attr} {val!r}, but {ref} gives {w[attr]!r}",
                "give a node the same type, name, org and region on every row (or define "
                "nodes once, in a node file)",
            )
    typed = first_at["type"]
    skip = set(skip) - set(typed.index)
    nodes = pd.DataFrame({"id": pd.Series(typed.index.to_numpy(), dtype=object)})
    for attr in ("type", "name", "org_id", "region"):
        nodes[attr] = _strings(nodes["id"].map(first_at[attr][attr]))
    numbers = file_nodes.set_index("id")[list(_NUM_NODE)]
    for c in _NUM_NODE:
        nodes[c] = nodes["id"].map(numbers[c]).astype(float).to_numpy()

    def where(nid: str, attr: str) -> _Located | None:
        table = first_at[attr]
        if nid not in table.index:
            return None
        w = table.loc[nid]
        return _Located(w.at_file, int(w.at_row), _col_of(w.at_side, attr))

    # organizations without an org_id must resolve through the registry
    nodes["org_id"], unresolved = _resolve_orgs(nodes, registry)
    for pos, key in unresolved:
        nid = nodes["id"].iloc[pos]
        loc = where(nid, "name")
        if loc is None:  # no name: the id was looked up; point at the id's column
            loc = where(nid, "type")
            side = "" if loc.column == "type" else loc.column.removesuffix("_type")
            loc = _Located(loc.file, loc.row, _col_of(side, "id"))
        problem(
            loc.file, loc.row, loc.column, key, f"organization {key!r} is not in the registry", _REGISTER_FIX
        )
    if node_problems:
        raise NetworkFileErrors(str(nodes_path), sorted(node_problems, key=lambda p: (p.row, p.column)))

    # edges
    edges = pd.DataFrame({c: _strings(frame[c]) for c in ("source", "target")})
    edges["type"] = _norm_type(frame["type"])
    for c in _NUM_EDGE:
        edges[c] = parse_number(frame[c], c, probs, integer=False, required=False) if c in frame else np.nan
    edges["confidence"] = edges["confidence"].fillna(1.0)
    for c in _DATE_EDGE:
        if c in frame:
            text = _strings(frame[c])
            parsed = _dates(text)
            probs.add(
                text.notna().to_numpy() & parsed.isna().to_numpy(),
                c,
                frame[c],
                "is not a date",
                "write dates as YYYY-MM-DD (or leave the cell empty for an open end)",
            )
            edges[c] = parsed.to_numpy()
        else:
            edges[c] = pd.Series(pd.NaT, index=edges.index, dtype="datetime64[ns]")
    if nodes_path is not None and has_inline_types:
        dangling_fix = f"add the node to {nodes_path.name}, or give its type on this row"
    elif nodes_path is not None:
        dangling_fix = f"add the node to {nodes_path.name} (or fix the id)"
    else:
        dangling_fix = (
            "give the node's type (source_type / target_type) on this row or another, or fix the id"
        )
    for x in _edge_issues(edges, _type_map(nodes), skip, lambda p: f"row {rows[p]}", dangling_fix):
        problem(str(path), rows[x.pos], x.column, x.value, x.message, x.fix)
    problems = probs.to_list() + extra
    if problems:
        raise NetworkFileErrors(str(path), sorted(problems, key=lambda p: (p.row, p.column)))

    meta = {"source": path.name, "sha256": sha256_file(path)}
    if nodes_path is not None:
        meta |= {"nodes_source": nodes_path.name, "nodes_sha256": sha256_file(nodes_path)}
    return _typed(SupplyNetwork.from_frames(nodes, _orient_ties(edges), meta))


# -- networkx ----------------------------------------------------------------------------
def _iso(ts: pd.Timestamp) -> str:
    return ts.date().isoformat() if ts == ts.normalize() else ts.isoformat()


def to_networkx(net: SupplyNetwork, *, gexf: bool = False) -> nx.MultiDiGraph:
    """The network as a ``MultiDiGraph``: node and edge attributes, missing values left out.

    Ties are oriented from the smaller node id to the larger. Edge keys are ``e0, e1, ...`` in the
    order of the edge frame. Dates are ISO strings (``YYYY-MM-DD``). With ``gexf=True`` the names
    follow GEXF: the node's name is its ``label``, the edge type is ``edge_type`` (GEXF reserves
    ``type`` for directedness) and the edge is labelled with its type.
    """
    net = _typed(net)
    g = nx.MultiDiGraph()
    g.graph[_META_KEY] = json.dumps(net.meta, default=str, sort_keys=True)
    nodes = net.nodes
    columns = {c: _cells(nodes[c]) for c in NODE_COLUMNS[1:]}
    if gexf:
        columns["label"] = columns.pop("name")
    g.add_nodes_from(zip(nodes["id"], _attr_dicts(columns, len(nodes)), strict=True))
    edges = _orient_ties(net.edges)
    columns = {c: _cells(edges[c]) for c in EDGE_COLUMNS[2:]}
    if gexf:
        columns["edge_type"] = columns.pop("type")
        columns["label"] = columns["edge_type"]
    keys = (f"e{k}" for k in range(len(edges)))
    g.add_edges_from(
        zip(edges["source"], edges["target"], keys, _attr_dicts(columns, len(edges)), strict=False)
    )
    return g


def _cells(ser: pd.Series) -> list:
    """A column as attribute values: floats, strings, ISO dates; None where missing."""
    if pd.api.types.is_datetime64_any_dtype(ser):
        text = {v: _iso(pd.Timestamp(v)) for v in ser.dropna().unique()}
        return [None if pd.isna(v) else text[v] for v in ser]
    if pd.api.types.is_float_dtype(ser):
        return [None if math.isnan(v) else v for v in ser.astype(float).tolist()]
    return [None if v is None else str(v) for v in ser]


def _attr_dicts(columns: dict[str, list], n: int) -> Iterable[dict]:
    names = list(columns)
    for row in zip(*(columns[c] for c in names), strict=True) if names else ([] for _ in range(n)):
        yield {c: v for c, v in zip(names, row, strict=True) if v is not None}


def from_networkx(
    g: nx.Graph, where: str = "graph", *, gexf: bool = False, registry: Registry | None = None
) -> SupplyNetwork:
    """A network from a networkx graph with the attributes :func:`to_networkx` writes.

    Attributes vdto does not know are ignored. Every rule of the data model is checked (see
    :func:`check_network`); problems are located as ``where: node 'id'`` or ``where: edge ...``.
    An undirected graph is accepted when it holds alliances and rivalries only.
    """
    node_ids = list(g.nodes)
    issues: list[_Issue] = []
    recs = []
    for pos, n in enumerate(node_ids):
        d = dict(g.nodes[n])
        if gexf:
            d["name"] = d.get("label")
        rec = {"id": str(n)}
        for c in ("type", "name", "org_id", "region"):
            rec[c] = d.get(c)
        for c in _NUM_NODE:
            rec[c], bad = _as_float(d.get(c))
            if bad:
                issues.append(_Issue(pos, c, str(d.get(c)), "is not a number", f"write {c} as a number"))
        recs.append(rec)
    nodes = pd.DataFrame(recs, columns=list(NODE_COLUMNS))
    for c in _STR_NODE:
        nodes[c] = _strings(nodes[c])
    nodes["type"] = _norm_type(nodes["type"])
    nodes["name"] = nodes["name"].where(nodes["name"].notna(), nodes["id"])
    issues += _node_frame_issues(nodes)
    nlabel = lambda p: f"node {nodes['id'].iloc[p]!r}"  # noqa: E731
    if issues:
        raise _first_issue(issues, where, nlabel, "nodes")
    registry_needed = (nodes["type"] == NodeType.ORGANIZATION.value) & nodes["org_id"].isna()
    if registry_needed.any() or (nodes["type"] == NodeType.CELL.value).any():
        registry = registry if registry is not None else Registry.seed()
        org, unresolved = _resolve_orgs(nodes, registry)
        nodes["org_id"] = org
        for pos, key in unresolved:
            issues.append(
                _Issue(pos, "name", key, f"organization {key!r} is not in the registry", _REGISTER_FIX)
            )
        if issues:
            raise _first_issue(issues, where, nlabel, "nodes")

    erecs = []
    multi = g.is_multigraph()
    items = g.edges(keys=True, data=True) if multi else ((u, v, None, d) for u, v, d in g.edges(data=True))
    for pos, (u, v, _k, d) in enumerate(items):
        rec = {"source": str(u), "target": str(v), "type": d.get("edge_type" if gexf else "type")}
        for c in _NUM_EDGE:
            rec[c], bad = _as_float(d.get(c))
            if bad:
                issues.append(_Issue(pos, c, str(d.get(c)), "is not a number", f"write {c} as a number"))
        for c in _DATE_EDGE:
            rec[c] = d.get(c)
        erecs.append(rec)
    edges = pd.DataFrame(erecs, columns=list(EDGE_COLUMNS))
    for c in _STR_EDGE:
        edges[c] = _strings(edges[c])
    edges["type"] = _norm_type(edges["type"])
    edges["confidence"] = edges["confidence"].fillna(1.0)
    for c in _DATE_EDGE:
        raw = _strings(edges[c])
        edges[c] = _dates(raw).to_numpy()
        for p in np.flatnonzero(raw.notna().to_numpy() & edges[c].isna().to_numpy()):
            issues.append(_Issue(int(p), c, raw.iloc[p], "is not a date", "write dates as YYYY-MM-DD"))
    elabel = _edge_label(edges)
    if not g.is_directed() and (edges["type"] == EdgeType.SUPPLIES.value).any():
        raise InputFileError(
            "the graph is undirected but has supplies edges",
            where,
            "write the graph as directed (supplies run from seller to buyer)",
        )
    issues += _edge_issues(edges, _type_map(nodes), set(), elabel, "add the node to the graph")
    if issues:
        raise _first_issue(issues, where, elabel, "edges")
    meta = {}
    raw_meta = g.graph.get(_META_KEY)
    if isinstance(raw_meta, str):
        try:
            meta = json.loads(raw_meta)
        except json.JSONDecodeError:
            meta = {}
    return _typed(SupplyNetwork.from_frames(nodes, _orient_ties(edges), meta))


def _as_float(v: object) -> tuple[float, bool]:
    if v is None:
        return math.nan, False
    try:
        return float(v), False
    except (TypeError, ValueError):
        return math.nan, True


def _read_graph(path: str | Path, reader: Callable[[Path], nx.Graph], fmt: str) -> nx.Graph:
    path = Path(path)
    if not path.exists():
        raise InputFileError("file not found", str(path), "check the path")
    if path.is_dir():
        raise InputFileError("is a folder, not a file", str(path), "pass a file")
    try:
        return reader(path)
    except (ET.ParseError, nx.NetworkXError, ValueError, KeyError, TypeError) as exc:
        first = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
        raise InputFileError(
            f"not a readable {fmt} file ({first})", str(path), f"check that the file is {fmt} XML"
        ) from None


def write_graphml(net: SupplyNetwork, path: str | Path) -> Path:
    """Write the network as GraphML (a directed multigraph; see :func:`to_networkx`).

    Node and edge attributes: ``type, name, org_id, region, price, cost`` and ``type, volume,
    share, confidence, weight, start, end``; a value that is missing is left out. The network's
    ``meta`` is kept as JSON in the graph attribute ``vdto_meta``.
    """
    g = to_networkx(net)
    return atomic_write(path, lambda tmp: nx.write_graphml(g, tmp, encoding="utf-8"))


def read_graphml(path: str | Path, *, registry: Registry | None = None) -> SupplyNetwork:
    """Read a GraphML file written by :func:`write_graphml` (or by another tool, with the same
    attribute names); every rule of the data model is checked."""
    g = _read_graph(path, lambda p: nx.read_graphml(p, force_multigraph=True), "GraphML")
    return from_networkx(g, str(path), registry=registry)


def write_gexf(net: SupplyNetwork, path: str | Path) -> Path:
    """Write the network as GEXF 1.2 (for Gephi): node labels are names, the edge type is the
    attribute ``edge_type`` (and the edge label), ``weight`` is the GEXF edge weight and
    ``start``/``end`` are the GEXF edge dates, so the graph opens as a dynamic (timeline) graph
    when an edge has dates. ``meta`` is not kept."""
    g = to_networkx(net, gexf=True)
    del g.graph[_META_KEY]
    return atomic_write(path, lambda tmp: nx.write_gexf(g, tmp, encoding="utf-8"))


def read_gexf(path: str | Path, *, registry: Registry | None = None) -> SupplyNetwork:
    """Read a GEXF file written by :func:`write_gexf` (or by another tool, with the same names)."""
    g = _read_graph(path, lambda p: nx.read_gexf(p, node_type=str), "GEXF")
    return from_networkx(g, str(path), gexf=True, registry=registry)


# -- link chart ---------------------------------------------------------------------------
#: entities.csv columns, in order
ENTITY_COLUMNS: tuple[str, ...] = (
    "Entity ID",
    "Entity Type",
    "Label",
    "Organization ID",
    "Region",
    "Price",
    "Cost",
)
#: links.csv columns, in order
LINK_COLUMNS: tuple[str, ...] = (
    "Link ID",
    "From Entity ID",
    "To Entity ID",
    "Link Type",
    "Label",
    "Direction",
    "Volume",
    "Share",
    "Confidence",
    "Weight",
    "Start Date",
    "End Date",
)


def _num_cell(v: float) -> str:
    """A number as text without loss: whole numbers without ".0", empty when missing."""
    if not np.isfinite(v):
        return ""
    return str(int(v)) if float(v).is_integer() and abs(v) < 1e15 else repr(float(v))


def _link_label(rec) -> str:
    if rec.type == EdgeType.SUPPLIES.value and np.isfinite(rec.volume):
        return f"supplies {rec.volume:,.6g}/yr"
    if rec.type in TIE_TYPES and np.isfinite(rec.weight):
        return f"{rec.type} ({rec.weight:g})"
    return str(rec.type)


def write_link_chart(net: SupplyNetwork, folder: str | Path) -> tuple[Path, Path]:
    """Write ``entities.csv`` and ``links.csv`` for link-analysis tools (i2 Analyst's Notebook
    and the like); docs/network.md gives the column mapping.

    UTF-8 with a byte-order mark (so spreadsheet and Windows tools read accents right); empty
    cells for missing values; dates as YYYY-MM-DD. Links are numbered ``L1, L2, ...`` in the
    order of the edge frame; ties run from the smaller entity id to the larger.
    """
    net = _typed(net)
    folder = Path(folder)
    ent = pd.DataFrame(
        {
            "Entity ID": net.nodes["id"],
            "Entity Type": net.nodes["type"].str.capitalize(),
            "Label": net.nodes["name"],
            "Organization ID": net.nodes["org_id"],
            "Region": net.nodes["region"],
            "Price": net.nodes["price"],
            "Cost": net.nodes["cost"],
        }
    )
    edges = _orient_ties(net.edges)

    def dates(col: str) -> pd.Series:
        return edges[col].map(lambda v: "" if pd.isna(v) else _iso(pd.Timestamp(v)))

    links = pd.DataFrame(
        {
            "Link ID": [f"L{i + 1}" for i in range(len(edges))],
            "From Entity ID": edges["source"],
            "To Entity ID": edges["target"],
            "Link Type": edges["type"].str.capitalize(),
            "Label": [_link_label(r) for r in edges.itertuples(index=False)],
            "Direction": np.where(edges["type"] == EdgeType.SUPPLIES.value, "directed", "none"),
            "Volume": edges["volume"],
            "Share": edges["share"],
            "Confidence": edges["confidence"],
            "Weight": edges["weight"],
            "Start Date": dates("start"),
            "End Date": dates("end"),
        }
    )

    for frame, cols in ((ent, ("Price", "Cost")), (links, ("Volume", "Share", "Confidence", "Weight"))):
        for c in cols:
            frame[c] = [_num_cell(v) for v in frame[c]]

    def writer(frame: pd.DataFrame) -> Callable[[Path], None]:
        return lambda tmp: frame.to_csv(tmp, index=False, encoding="utf-8-sig")

    return (
        atomic_write(folder / "entities.csv", writer(ent)),
        atomic_write(folder / "links.csv", writer(links)),
    )
