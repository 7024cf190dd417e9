"""Supply networks in graph formats: networkx, GraphML, GEXF and the link-chart CSV pair.

- :func:`to_networkx` / :func:`from_networkx` convert to and from a networkx ``MultiDiGraph``, so
  that several edges between the same two nodes (an alliance and a supplies edge, say) survive;
  reading back checks every rule of the data model (:mod:`vdto.network.checks`);
- :func:`write_graphml` / :func:`read_graphml` and :func:`write_gexf` / :func:`read_gexf` go
  through that graph. Alliance and rivalry ties are undirected in meaning; they are stored once,
  from the smaller node id to the larger (:func:`~vdto.network.checks.canonical`);
- :func:`write_link_chart` writes ``entities.csv`` and ``links.csv`` for link-analysis tools.

Writers write to a temporary file in the target folder and move it into place, so a file is
either the old one or the complete new one. docs/network.md ("Files and formats") describes
the formats.
"""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd

from vdto.errors import InputFileError
from vdto.files import atomic_write, csv_safe
from vdto.network import checks
from vdto.network.graph import EDGE_COLUMNS, NODE_COLUMNS, EdgeType, NodeType, SupplyNetwork
from vdto.orgs import Registry

__all__ = [
    "ENTITY_COLUMNS",
    "LINK_COLUMNS",
    "from_networkx",
    "read_gexf",
    "read_graphml",
    "to_networkx",
    "write_gexf",
    "write_graphml",
    "write_link_chart",
]

_META_KEY = "vdto_meta"


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
    net = checks.typed(net)
    g = nx.MultiDiGraph()
    g.graph[_META_KEY] = json.dumps(net.meta, default=str, sort_keys=True)
    nodes = net.nodes
    columns = {c: _cells(nodes[c]) for c in NODE_COLUMNS[1:]}
    if gexf:
        columns["label"] = columns.pop("name")
    g.add_nodes_from(zip(nodes["id"], _attr_dicts(columns, len(nodes)), strict=True))
    edges = checks.orient_ties(net.edges)
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
    nodes = _graph_nodes(g, where, gexf, registry)
    edges, issues = _graph_edges(g, gexf)
    elabel = checks.edge_label(edges)
    if not g.is_directed() and (edges["type"] == EdgeType.SUPPLIES.value).any():
        raise InputFileError(
            "the graph is undirected but has supplies edges",
            where,
            "write the graph as directed (supplies run from seller to buyer)",
        )
    issues += checks.edge_issues(edges, checks.type_map(nodes), set(), elabel, "add the node to the graph")
    if issues:
        raise checks.first_issue(issues, where, elabel, "edges")
    return checks.typed(SupplyNetwork.from_frames(nodes, checks.orient_ties(edges), _graph_meta(g)))


def _graph_nodes(g: nx.Graph, where: str, gexf: bool, registry: Registry | None) -> pd.DataFrame:
    """The graph's nodes as a node frame, checked; organizations without an org_id resolved
    through the registry (default: the seed registry)."""
    issues: list[checks.Issue] = []
    recs = []
    for pos, n in enumerate(g.nodes):
        d = dict(g.nodes[n])
        if gexf:
            d["name"] = d.get("label")
        rec: dict[str, object] = {"id": str(n)}
        for c in ("type", "name", "org_id", "region"):
            rec[c] = d.get(c)
        for c in checks.NUM_NODE:
            rec[c], bad = _as_float(d.get(c))
            if bad:
                issues.append(
                    checks.Issue(pos, c, str(d.get(c)), "is not a number", f"write {c} as a number")
                )
        recs.append(rec)
    nodes = pd.DataFrame(recs, columns=list(NODE_COLUMNS))
    for c in checks.STR_NODE:
        nodes[c] = checks.strings(nodes[c])
    nodes["type"] = checks.norm_type(nodes["type"])
    nodes["name"] = nodes["name"].where(nodes["name"].notna(), nodes["id"])
    issues += checks.node_frame_issues(nodes)
    nlabel = lambda p: f"node {nodes['id'].iloc[p]!r}"  # noqa: E731
    if issues:
        raise checks.first_issue(issues, where, nlabel, "nodes")
    registry_needed = (nodes["type"] == NodeType.ORGANIZATION.value) & nodes["org_id"].isna()
    if registry_needed.any() or (nodes["type"] == NodeType.CELL.value).any():
        registry = registry if registry is not None else Registry.seed()
        org, unresolved = checks.resolve_orgs(nodes, registry)
        nodes["org_id"] = org
        for pos, key in unresolved:
            issues.append(
                checks.Issue(
                    pos, "name", key, f"organization {key!r} is not in the registry", checks.REGISTER_FIX
                )
            )
        if issues:
            raise checks.first_issue(issues, where, nlabel, "nodes")
    return nodes


def _graph_edges(g: nx.Graph, gexf: bool) -> tuple[pd.DataFrame, list[checks.Issue]]:
    """The graph's edges as an edge frame, and the numbers and dates that do not parse."""
    issues: list[checks.Issue] = []
    erecs = []
    multi = g.is_multigraph()
    items = g.edges(keys=True, data=True) if multi else ((u, v, None, d) for u, v, d in g.edges(data=True))
    for pos, (u, v, _k, d) in enumerate(items):
        rec = {"source": str(u), "target": str(v), "type": d.get("edge_type" if gexf else "type")}
        for c in checks.NUM_EDGE:
            rec[c], bad = _as_float(d.get(c))
            if bad:
                issues.append(
                    checks.Issue(pos, c, str(d.get(c)), "is not a number", f"write {c} as a number")
                )
        for c in checks.DATE_EDGE:
            rec[c] = d.get(c)
        erecs.append(rec)
    edges = pd.DataFrame(erecs, columns=list(EDGE_COLUMNS))
    for c in checks.STR_EDGE:
        edges[c] = checks.strings(edges[c])
    edges["type"] = checks.norm_type(edges["type"])
    edges["confidence"] = edges["confidence"].fillna(1.0)
    for c in checks.DATE_EDGE:
        raw = checks.strings(edges[c])
        edges[c] = checks.dates(raw).to_numpy()
        for p in np.flatnonzero(raw.notna().to_numpy() & edges[c].isna().to_numpy()):
            issues.append(checks.Issue(int(p), c, raw.iloc[p], "is not a date", "write dates as YYYY-MM-DD"))
    return edges, issues


def _graph_meta(g: nx.Graph) -> dict:
    """The network meta kept as JSON in the graph attribute ``vdto_meta`` (empty when absent or
    unreadable)."""
    raw_meta = g.graph.get(_META_KEY)
    if isinstance(raw_meta, str):
        try:
            return json.loads(raw_meta)
        except json.JSONDecodeError:
            return {}
    return {}


def _as_float(v: object) -> tuple[float, bool]:
    if v is None:
        return math.nan, False
    try:
        return float(v), False  # type: ignore[arg-type]
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
    if rec.type in checks.TIE_TYPES and np.isfinite(rec.weight):
        return f"{rec.type} ({rec.weight:g})"
    return str(rec.type)


def write_link_chart(net: SupplyNetwork, folder: str | Path) -> tuple[Path, Path]:
    """Write ``entities.csv`` and ``links.csv`` for link-analysis tools (i2 Analyst's Notebook
    and the like); docs/network.md gives the column mapping.

    UTF-8 with a byte-order mark (so spreadsheet and Windows tools read accents right); empty
    cells for missing values; dates as YYYY-MM-DD. Links are numbered ``L1, L2, ...`` in the
    order of the edge frame; ties run from the smaller entity id to the larger.
    """
    net = checks.typed(net)
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
    edges = checks.orient_ties(net.edges)

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
        return lambda tmp: csv_safe(frame).to_csv(tmp, index=False, encoding="utf-8-sig")

    return (
        atomic_write(folder / "entities.csv", writer(ent)),
        atomic_write(folder / "links.csv", writer(links)),
    )
