"""Reading a supply network from CSV files: an edge list and, optionally, a node file.

:func:`read_edges_csv` reads an edge list (``source,target,type,volume,share,confidence,weight,
start,end``), with nodes defined either by extra columns on the same rows (``source_type``,
``source_name``, ``source_org``, ``source_region`` and the same for ``target``) or by a separate
node file (``id,type,name,org_id,region,price,cost``), or both. Every problem is located by
file, row (the header is row 1) and column; all problems are collected and the first is shown
(:class:`NetworkFileErrors`). The rules checked are those of :mod:`vdto.network.checks`.
docs/network.md ("Files and formats") describes the format.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from vdto.errors import InputFileError, RowErrors, RowProblem, VdtoError
from vdto.events.tabular import ROW, Problems, parse_number, read_csv, require_columns, sha256_file
from vdto.network import checks
from vdto.network.graph import EDGE_COLUMNS, NODE_COLUMNS, SupplyNetwork
from vdto.orgs import Registry

__all__ = [
    "EDGE_FILE_COLUMNS",
    "INLINE_NODE_COLUMNS",
    "NODE_FILE_COLUMNS",
    "NetworkFileErrors",
    "read_edges_csv",
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

#: inline attribute -> suffix of its edge-file column (``source_`` + suffix)
_INLINE = {"type": "type", "name": "name", "org_id": "org", "region": "region"}


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
    out = pd.DataFrame({"id": checks.strings(frame["id"]), "type": checks.norm_type(frame["type"])})
    for c in ("name", "org_id", "region"):
        out[c] = checks.strings(frame[c]) if c in frame else pd.Series([None] * len(frame), dtype=object)
    for c in checks.NUM_NODE:
        if c in frame:
            out[c] = parse_number(frame[c], c, probs, integer=False, required=False)
            probs.add(out[c].to_numpy() < 0, c, frame[c], "is negative", f"{c} is 0 or more")
        else:
            out[c] = np.nan
    probs.add(out["id"].isna(), "id", frame["id"], "is empty", "give every node an id")
    probs.add(
        out["type"].isna(), "type", frame["type"], "is empty", f"use one of {', '.join(checks.NODE_TYPES)}"
    )
    probs.add(
        out["type"].notna() & ~out["type"].isin(checks.NODE_TYPES),
        "type",
        frame["type"],
        "is not a node type",
        f"use one of {', '.join(checks.NODE_TYPES)}",
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
    out.loc[~out["type"].isin(checks.NODE_TYPES), "type"] = None
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
        part = pd.DataFrame({"id": checks.strings(frame[side])})
        for a, c in cols.items():
            if c in frame:
                part[a] = checks.norm_type(frame[c]) if a == "type" else checks.strings(frame[c])
            else:
                part[a] = pd.Series([None] * len(frame), dtype=object)
        tcol = cols["type"]
        if tcol in frame:
            bad = (part["type"].notna() & ~part["type"].isin(checks.NODE_TYPES)).to_numpy()
            probs.add(
                bad, tcol, frame[tcol], "is not a node type", f"use one of {', '.join(checks.NODE_TYPES)}"
            )
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
    nodes_path = Path(nodes_path) if nodes_path is not None else None
    file_nodes, node_problems, node_header = _node_file(nodes_path, registry)
    rows = frame[ROW].to_numpy()
    probs = Problems(rows, [c for c in frame.columns if c != ROW])
    found = _Found(path, frame, node_header, node_problems)
    nodes, skip, first_at = _merged_nodes(frame, file_nodes, probs, registry, found)
    _resolve_names(nodes, first_at, registry, found)
    if found.node_problems:
        raise NetworkFileErrors(str(nodes_path), sorted(found.node_problems, key=lambda p: (p.row, p.column)))
    edges = _edge_rows(frame, probs)
    fix = _dangling_fix(nodes_path, has_inline_types)
    for x in checks.edge_issues(edges, checks.type_map(nodes), skip, lambda p: f"row {rows[p]}", fix):
        found.add(str(path), rows[x.pos], x.column, x.value, x.message, x.fix)
    problems = probs.to_list() + found.extra
    if problems:
        raise NetworkFileErrors(str(path), sorted(problems, key=lambda p: (p.row, p.column)))
    meta = {"source": path.name, "sha256": sha256_file(path)}
    if nodes_path is not None:
        meta |= {"nodes_source": nodes_path.name, "nodes_sha256": sha256_file(nodes_path)}
    return checks.typed(SupplyNetwork.from_frames(nodes, checks.orient_ties(edges), meta))


def _node_file(
    nodes_path: Path | None, registry: Registry
) -> tuple[pd.DataFrame, list[RowProblem], list[str]]:
    """The node file's rows, problems and header (:func:`_parse_nodes_file`); empty without one."""
    if nodes_path is not None:
        return _parse_nodes_file(nodes_path, registry)
    empty = pd.DataFrame(columns=[*NODE_COLUMNS, "at_file", "at_row", "at_side"])
    return empty, [], list(NODE_FILE_COLUMNS)


class _Found:
    """Problems found while merging nodes and checking edges, each kept with its own file: the
    edge list's (``extra``, beside its :class:`Problems`) or the node file's (``node_problems``)."""

    def __init__(
        self, path: Path, frame: pd.DataFrame, node_header: list[str], node_problems: list[RowProblem]
    ):
        self.path = str(path)
        self.header = [c for c in frame.columns if c != ROW]
        self.node_header = node_header
        self.node_problems = node_problems
        self.extra: list[RowProblem] = []

    def add(self, file: str, row: int, column: str, value: object, message: str, fix: str) -> None:
        if file == self.path:
            self.extra.append(
                RowProblem(int(row), self.header.index(column) + 1, column, str(value or ""), message, fix)
            )
        else:
            col = self.node_header.index(column) + 1 if column in self.node_header else 0
            self.node_problems.append(RowProblem(int(row), col, column, str(value or ""), message, fix))


def _merged_nodes(
    frame: pd.DataFrame, file_nodes: pd.DataFrame, probs: Problems, registry: Registry, found: _Found
) -> tuple[pd.DataFrame, set[str], dict[str, pd.DataFrame]]:
    """The nodes defined in the node file and on the edge rows, merged: the frame (org_ids not yet
    resolved), the ids whose bad type was already reported, and where each attribute came from."""
    inline, skip = _inline_nodes(frame, probs, registry)
    inline["at_file"] = found.path
    every = pd.concat([file_nodes.drop(columns=list(checks.NUM_NODE)), inline], ignore_index=True)
    first_at = _first_values(every, found)
    typed = first_at["type"]
    skip = set(skip) - set(typed.index)
    nodes = pd.DataFrame({"id": pd.Series(typed.index.to_numpy(), dtype=object)})
    for attr in ("type", "name", "org_id", "region"):
        nodes[attr] = checks.strings(nodes["id"].map(first_at[attr][attr]))
    numbers = file_nodes.set_index("id")[list(checks.NUM_NODE)]
    for c in checks.NUM_NODE:
        nodes[c] = nodes["id"].map(numbers[c]).astype(float).to_numpy()
    return nodes, skip, first_at


def _first_values(every: pd.DataFrame, found: _Found) -> dict[str, pd.DataFrame]:
    """Attribute -> the first value of each node (by id) and its place: the node file first, then
    the edge rows in order. A different value later is a problem."""
    first_at: dict[str, pd.DataFrame] = {}
    for attr in ("type", "name", "org_id", "region"):
        sub = every[every[attr].notna()]
        first = sub.drop_duplicates("id", keep="first").set_index("id")
        first_at[attr] = first[[attr, "at_file", "at_row", "at_side"]]
        seen = sub["id"].map(first[attr])
        for rec in sub[(sub[attr] != seen).to_numpy()].itertuples(index=False):
            w = first.loc[rec.id]
            ref = f"row {w.at_row}" if w.at_file == rec.at_file else f"{Path(w.at_file).name} row {w.at_row}"
            val = getattr(rec, attr)
            found.add(
                rec.at_file,
                rec.at_row,
                _col_of(rec.at_side, attr),
                val,
                f"gives node {rec.id!r} {attr} {val!r}, but {ref} gives {w[attr]!r}",
                "give a node the same type, name, org and region on every row (or define "
                "nodes once, in a node file)",
            )
    return first_at


def _where(first_at: dict[str, pd.DataFrame], nid: str, attr: str) -> _Located | None:
    """Where node ``nid``'s ``attr`` was first given, if anywhere."""
    table = first_at[attr]
    if nid not in table.index:
        return None
    w = table.loc[nid]
    return _Located(w.at_file, int(w.at_row), _col_of(w.at_side, attr))


def _resolve_names(
    nodes: pd.DataFrame, first_at: dict[str, pd.DataFrame], registry: Registry, found: _Found
) -> None:
    """Fill missing org_ids (in place) through the registry; an organization that does not
    resolve is a problem at its name (or, without one, at its id)."""
    nodes["org_id"], unresolved = checks.resolve_orgs(nodes, registry)
    for pos, key in unresolved:
        nid = nodes["id"].iloc[pos]
        loc = _where(first_at, nid, "name")
        if loc is None:  # no name: the id was looked up; point at the id's column
            loc = _where(first_at, nid, "type")
            assert loc is not None  # every node has a type
            side = "" if loc.column == "type" else loc.column.removesuffix("_type")
            loc = _Located(loc.file, loc.row, _col_of(side, "id"))
        found.add(
            loc.file,
            loc.row,
            loc.column,
            key,
            f"organization {key!r} is not in the registry",
            checks.REGISTER_FIX,
        )


def _edge_rows(frame: pd.DataFrame, probs: Problems) -> pd.DataFrame:
    """The edge list as a typed edge frame; numbers and dates that do not parse go to ``probs``."""
    edges = pd.DataFrame({c: checks.strings(frame[c]) for c in ("source", "target")})
    edges["type"] = checks.norm_type(frame["type"])
    for c in checks.NUM_EDGE:
        edges[c] = parse_number(frame[c], c, probs, integer=False, required=False) if c in frame else np.nan
    edges["confidence"] = edges["confidence"].fillna(1.0)
    for c in checks.DATE_EDGE:
        if c in frame:
            text = checks.strings(frame[c])
            parsed = checks.dates(text)
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
    return edges


def _dangling_fix(nodes_path: Path | None, has_inline_types: bool) -> str:
    """How to fix an edge that names a node defined nowhere."""
    if nodes_path is not None and has_inline_types:
        return f"add the node to {nodes_path.name}, or give its type on this row"
    if nodes_path is not None:
        return f"add the node to {nodes_path.name} (or fix the id)"
    return "give the node's type (source_type / target_type) on this row or another, or fix the id"
