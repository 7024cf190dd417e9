"""The BACRIM 2020 network: alliances and rivalries among 150 Mexican criminal groups (real data).

The files (``vdto/data/real/bacrim2020``, see SOURCE.md there) hold one row per group and, for
alliances and rivalries, directed rows ``Node -> RNode`` with a weight (the number of states
where the tie was observed). Ties are undirected in meaning: :func:`load_bacrim2020` keeps one
edge per pair, oriented from the smaller node id to the larger. Most pairs appear in one
direction only and some in both; where both appear, their weights must agree (they do in the
shipped files; a disagreement is an error naming both rows).

Every group is resolved through the organization registry: a group whose registry entry is a
faction becomes a ``cell`` node whose ``org_id`` is the parent organization (the model's rule
for cells); every other group is an ``organization`` node. ``meta`` records the source, the
rows read and, per group, the registry entry it resolved to.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from vdto.data import bundled
from vdto.errors import InputFileError
from vdto.events.tabular import ROW, read_csv, require_columns, sha256_file
from vdto.network.checks import canonical
from vdto.network.graph import EdgeType, NodeType, SupplyNetwork
from vdto.orgs import Registry

NODES_FILE = "BACRIM2020_Nodes.csv"
ALLIANCES_FILE = "BACRIM2020_Alliances.csv"
RIVALS_FILE = "BACRIM2020_Rivals.csv"
#: Rows of the shipped node file.
BACRIM_GROUPS = 150


def bundled_folder() -> Path:
    """The folder holding the shipped BACRIM 2020 files."""
    return bundled("bacrim2020")


def _clean(series: pd.Series) -> pd.Series:
    # the files have stray no-break spaces after some names
    return series.astype(str).str.replace("\u00a0", " ").str.strip()


def _ties(path: Path, kind: EdgeType, node_ids: set[str]) -> tuple[pd.DataFrame, dict]:
    frame = read_csv(path)
    require_columns(frame, ("Node", "RNode", "weight"), path, "BACRIM tie")
    a, b = _clean(frame["Node"]), _clean(frame["RNode"])
    for col, ids in (("Node", a), ("RNode", b)):
        unknown = ~ids.isin(node_ids)
        if unknown.any():
            i = int(np.flatnonzero(unknown.to_numpy())[0])
            raise InputFileError(
                f"{col} {ids.iloc[i]!r} is not in {NODES_FILE}",
                f"{path}:{frame[ROW].iloc[i]}",
                "use the BACRIM files of one release together",
            )
    weight = pd.to_numeric(frame["weight"].str.strip(), errors="coerce")
    bad = weight.isna() | (weight < 0)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputFileError(
            f"weight {frame['weight'].iloc[i]!r} is not a number of 0 or more",
            f"{path}:{frame[ROW].iloc[i]}",
            "check the file against the source release",
        )
    selfloop = a == b
    if selfloop.any():
        i = int(np.flatnonzero(selfloop.to_numpy())[0])
        raise InputFileError(
            f"a tie from {a.iloc[i]!r} to itself", f"{path}:{frame[ROW].iloc[i]}", "remove the row"
        )
    lo = np.where(a < b, a, b)
    hi = np.where(a < b, b, a)
    rows = pd.DataFrame({"lo": lo, "hi": hi, "weight": weight.to_numpy(float), "row": frame[ROW].to_numpy()})
    grouped = rows.groupby(["lo", "hi"], sort=False)
    spread = grouped["weight"].agg(["min", "max", "size"])
    disagree = spread[spread["min"] != spread["max"]]
    if len(disagree):
        lo0, hi0 = disagree.index[0]
        pair = rows[(rows["lo"] == lo0) & (rows["hi"] == hi0)]
        listed = ", ".join(f"row {r} weight {w:g}" for r, w in zip(pair["row"], pair["weight"], strict=True))
        more = f" ({len(disagree) - 1} more pairs disagree)" if len(disagree) > 1 else ""
        raise InputFileError(
            f"the two directions of the {kind.value} {lo0} - {hi0} disagree in weight ({listed}){more}",
            str(path),
            "correct one of the rows so that both give the same weight",
        )
    ties = grouped.agg(weight=("weight", "first")).reset_index()
    edges = pd.DataFrame(
        {"source": ties["lo"], "target": ties["hi"], "type": kind.value, "weight": ties["weight"]}
    )
    counts = {
        "rows": len(frame),
        "ties": len(ties),
        "both_directions": int((spread["size"] > 1).sum()),
        "one_direction": int((spread["size"] == 1).sum()),
    }
    return edges, counts


def load_bacrim2020(folder: str | Path | None = None, *, registry: Registry | None = None) -> SupplyNetwork:
    """Load the BACRIM 2020 alliance and rivalry network (150 groups).

    ``folder`` holds ``BACRIM2020_Nodes.csv``, ``BACRIM2020_Alliances.csv`` and
    ``BACRIM2020_Rivals.csv`` (default: the shipped copy). Node ids are the files' ``Node`` ids
    (``N10001`` ...), names their ``Group`` and region their ``State``. Edges are ``alliance`` and
    ``rivalry`` ties with the file's ``weight``, one per pair; a pair may be both allied and rival.

    ``meta["counts"]`` gives, per tie file, the rows read, the undirected ties kept, and how many
    pairs appeared in both directions or in one only; ``meta["registry"]`` maps each node to the
    registry entry (organization or faction id) its group resolved to.

    Raises :class:`~vdto.errors.InputFileError` if a file is missing or malformed, a tie names an
    unknown node, or a group does not resolve through the registry.
    """
    registry = registry if registry is not None else Registry.seed()
    folder = Path(folder) if folder is not None else bundled_folder()
    npath = folder / NODES_FILE
    frame = read_csv(npath)
    require_columns(frame, ("Node", "Group", "State"), npath, "BACRIM node")
    ids = _clean(frame["Node"])
    if ids.duplicated().any():
        i = int(np.flatnonzero(ids.duplicated().to_numpy())[0])
        raise InputFileError(
            f"node id {ids.iloc[i]!r} appears twice",
            f"{npath}:{frame[ROW].iloc[i]}",
            "remove the repeated row",
        )
    groups = _clean(frame["Group"])
    types, orgs, entries = [], [], {}
    for i, (nid, group) in enumerate(zip(ids, groups, strict=True)):
        match = registry.resolve(group)
        if match.org_id is None:
            raise InputFileError(
                f"group {group!r} does not resolve to a registered organization",
                f"{npath}:{frame[ROW].iloc[i]}:{list(frame.columns).index('Group') + 1}",
                "register it as an organization, or add the name as an alias of a known one",
            )
        is_faction = match.faction_id is not None
        types.append(NodeType.CELL.value if is_faction else NodeType.ORGANIZATION.value)
        orgs.append(match.org_id)
        entries[nid] = match.faction_id or match.org_id
    nodes = pd.DataFrame(
        {"id": ids, "type": types, "name": groups, "org_id": orgs, "region": _clean(frame["State"])}
    )
    node_ids = set(ids)
    alliances, a_counts = _ties(folder / ALLIANCES_FILE, EdgeType.ALLIANCE, node_ids)
    rivalries, r_counts = _ties(folder / RIVALS_FILE, EdgeType.RIVALRY, node_ids)
    edges = pd.concat([alliances, rivalries], ignore_index=True)
    meta = {
        "source": "BACRIM 2020 (CentroGeo, GeoInt and DataLab; Prieto-Curiel et al., Science 2023)",
        "files": {name: sha256_file(folder / name) for name in (NODES_FILE, ALLIANCES_FILE, RIVALS_FILE)},
        "counts": {"alliance": a_counts, "rivalry": r_counts},
        "registry": entries,
    }
    return canonical(SupplyNetwork.from_frames(nodes, edges, meta))
