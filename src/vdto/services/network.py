"""The store's supply network written to files, whole or only the part around a target.

:func:`target_org` resolves a target the way every network command does (any name, alias or id
of it; a faction counts as its organization); :func:`export_network` writes GraphML, GEXF or
the i2 link-chart pair and says what it wrote.

:func:`target_network` is the bounded part around a target the workbench draws (the store's
supply network with BACRIM 2020's alliances and rivalries), and :func:`target_network_file` the
GEXF file or zipped i2 pair of exactly that part.
"""

from __future__ import annotations

import difflib
import io
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from vdto.errors import UnknownNameError, VdtoError
from vdto.network import formats
from vdto.network.bacrim import load_bacrim2020
from vdto.network.checks import TIE_NODE_TYPES, TIE_TYPES
from vdto.network.graph import SupplyNetwork
from vdto.network.supply import subnetwork
from vdto.store import Store

#: The export formats: GraphML, GEXF (Gephi) and the i2 link-chart CSV pair (a folder).
EXPORT_FORMATS: tuple[str, ...] = ("graphml", "gexf", "i2")
#: How many supply edges from the target's own nodes a subnetwork export reaches by default.
DEFAULT_HOPS = 2


def target_org(store: Store, target: str) -> str:
    """The registry id of ``target`` (an id or any name of it; a faction counts as its
    organization), or an :class:`~vdto.errors.UnknownNameError`."""
    registry = store.registry()
    return registry.top(registry.require(target))


@dataclass(frozen=True)
class NetworkExport:
    """What :func:`export_network` wrote: the files, their total size in bytes, the nodes and
    edges written, and the target and hops when only its subnetwork was written."""

    paths: tuple[Path, ...]
    nodes: int
    edges: int
    bytes: int
    target: str | None = None
    hops: int | None = None


def export_network(
    store: Store,
    out: str | Path,
    format: str = "graphml",
    *,
    target: str | None = None,
    hops: int | None = None,
) -> NetworkExport:
    """Write the store's supply network to ``out`` as ``format`` (``graphml``, ``gexf`` or ``i2``:
    ``entities.csv`` and ``links.csv`` in the folder ``out``).

    With ``target`` (any name of an organization) only its subnetwork is written: its own nodes
    and everything within ``hops`` (default :data:`DEFAULT_HOPS`) supply edges of them
    (:func:`vdto.network.supply.subnetwork`). An unknown target, a target with no nodes in the
    network, or ``hops`` without a target is a :class:`~vdto.errors.VdtoError` and writes nothing.
    """
    if format not in EXPORT_FORMATS:
        raise VdtoError(f"unknown format {format!r}", fix="use graphml, gexf or i2", param="format")
    if target is None and hops is not None:
        raise VdtoError(
            "hops needs a target",
            fix="name the organization with {target}",
            param="hops",
            mentions=("target",),
        )
    org_id = target_org(store, target) if target is not None else None
    net = SupplyNetwork.load(store)
    if org_id is not None:
        hops = DEFAULT_HOPS if hops is None else hops
        net = subnetwork(net, org_id, hops)
    out = Path(out)
    if format == "i2":
        paths: tuple[Path, ...] = formats.write_link_chart(net, out)
    elif format == "gexf":
        paths = (formats.write_gexf(net, out),)
    else:
        paths = (formats.write_graphml(net, out),)
    return NetworkExport(
        paths, len(net.nodes), len(net.edges), sum(p.stat().st_size for p in paths), org_id, hops
    )


# ---------------------------------------------------------------------------------------------
# the bounded part around a target, as the workbench draws and exports it

#: How many nodes :func:`target_network` keeps by default, and at most.
VIEW_LIMIT, MAX_VIEW_LIMIT = 300, 1000
#: The hops :func:`target_network` accepts (edges of any type from the target's own nodes).
VIEW_HOPS: tuple[int, ...] = (1, 2)
#: The formats :func:`target_network_file` writes: GEXF, and the i2 pair zipped.
VIEW_FORMATS: tuple[str, ...] = ("gexf", "i2")


@dataclass(frozen=True)
class TargetNetwork:
    """The part of the network around one organization, bounded in size.

    ``net`` is exactly what is shown and exported; ``hop`` gives each of its nodes' distance
    (in edges of any type) from the target's own nodes; ``found_nodes`` and ``found_edges`` count
    what lay within ``hops`` before the node limit; ``cut`` says in one line what the limit left
    out (empty when nothing); ``sources`` names the networks joined (the store's, BACRIM 2020);
    ``organizations`` maps every organization with a node in them to its name; ``chosen`` says
    how the target was chosen (``given``, ``round N``, ``ranking``, ``first``).
    """

    target: str
    name: str
    hops: int
    limit: int
    net: SupplyNetwork
    hop: dict[str, int]
    found_nodes: int
    found_edges: int
    cut: str
    sources: tuple[str, ...]
    organizations: dict[str, str]
    synthetic: str | None
    chosen: str = "given"


def _joined(store: Store) -> tuple[SupplyNetwork, tuple[str, ...]]:
    """The store's supply network with BACRIM 2020's ties added when it has no ties of its own
    (the store's alone when it has; BACRIM's alone when the store has no network)."""
    parts: list[SupplyNetwork] = []
    sources: list[str] = []
    if store.network.exists():
        parts.append(SupplyNetwork.load(store))
        sources.append("store")
    has_ties = bool(parts) and bool(parts[0].edges["type"].isin(TIE_TYPES).any())
    if not has_ties:
        bacrim = load_bacrim2020(registry=store.registry())
        if not parts or not set(bacrim.nodes["id"]) & set(parts[0].nodes["id"]):
            parts.append(bacrim)
            sources.append("bacrim2020")
    if len(parts) == 1:
        return parts[0], tuple(sources)
    meta = {**parts[0].meta, "joined": list(sources)}
    return (
        SupplyNetwork.from_frames(
            pd.concat([p.nodes for p in parts], ignore_index=True),
            pd.concat([p.edges for p in parts], ignore_index=True),
            meta,
        ),
        tuple(sources),
    )


def _unknown_target(store: Store, target: str, known: dict[str, str], what: str) -> UnknownNameError:
    """The one-line error for a target not found, with the nearest names of ``known``."""
    names = {**{k: k for k in known}, **{v.lower(): k for k, v in known.items()}}
    for org in store.registry().orgs.values():
        if org.id in known:
            names.update({org.name.lower(): org.id, **{a.lower(): org.id for a in org.aliases}})
    near = difflib.get_close_matches(target.lower(), list(names), n=5, cutoff=0.5)
    ids = list(dict.fromkeys(names[n] for n in near)) or sorted(known)[:5]
    return UnknownNameError(what, fix="try " + ", ".join(ids), param="target")


def _org_names(store: Store, nodes: pd.DataFrame) -> dict[str, str]:
    registry = store.registry()
    orgs = nodes.loc[nodes["type"].astype(str).isin(TIE_NODE_TYPES), "org_id"].dropna()
    return {
        o: (registry.orgs[o].name if o in registry.orgs else o)
        for o in sorted({str(x) for x in orgs if str(x)})
    }


def _distances(net: SupplyNetwork, start: np.ndarray, hops: int) -> np.ndarray:
    """Each node's distance in edges of any type (either direction) from ``start``; -1 beyond ``hops``."""
    index = pd.Index(net.nodes["id"])
    src = index.get_indexer(net.edges["source"])
    dst = index.get_indexer(net.edges["target"])
    ok = (src >= 0) & (dst >= 0)
    src, dst = src[ok], dst[ok]
    dist = np.full(len(index), -1, dtype=np.int64)
    dist[start] = 0
    for h in range(1, hops + 1):
        front = dist == h - 1
        reached = np.zeros(len(index), dtype=bool)
        reached[dst[front[src]]] = True
        reached[src[front[dst]]] = True
        new = reached & (dist < 0)
        if not new.any():
            break
        dist[new] = h
    return dist


def default_target(store: Store, agency: str | None, known: dict[str, str]) -> tuple[str, str]:
    """The organization to show when none is named, and why: the target of the agency's latest
    round not closed yet, else its top-ranked organization with a node in the network (scored as
    :func:`vdto.services.package.package_for_target` scores), else the first organization known.

    Returns
    -------
    tuple of str
        The organization id and how it was chosen (``round N``, ``ranking``, ``first``).
    """
    from vdto.services.scoring import score_window

    rounds = [r for r in store.rounds.all() if r.status != "closed" and r.target and r.target in known]
    mine = [r for r in rounds if agency is None or agency in r.agencies]
    if mine:
        latest = max(mine, key=lambda r: r.round_id)
        return str(latest.target), f"round {latest.round_id}"
    if store.events.count(agency) if agency else store.events.count():
        table = score_window(store, draws=1, seed=0, agency=agency).table
        for org in table.sort_values("score", ascending=False, kind="stable")["org"]:
            if org in known:
                return str(org), "ranking"
    if not known:
        raise VdtoError(
            "the network holds no organization", fix="import or generate a network", param="target"
        )
    return next(iter(known)), "first"


def target_network(
    store: Store,
    target: str | None,
    hops: int = 1,
    limit: int = VIEW_LIMIT,
    *,
    agency: str | None = None,
) -> TargetNetwork:
    """The part of the store's network around ``target`` (any name or id of an organization):
    its own nodes (organization and cells) and every node within ``hops`` edges of any type
    (supplies, alliance, rivalry) of them, and every edge between the nodes kept.

    The network is the store's supply network joined with BACRIM 2020's alliances and rivalries
    (when the store's has none); a store without a network shows BACRIM 2020 alone. At most
    ``limit`` nodes are kept: the target's, then the nearest, the best connected first; the
    answer's ``cut`` says what was left out.

    Parameters
    ----------
    store
        The store (read only).
    target
        An organization: its id or any name or alias the registry knows; None for
        :func:`default_target`'s choice.
    hops
        1 or 2: how many edges from the target's own nodes to reach.
    limit
        The most nodes to keep (10 to :data:`MAX_VIEW_LIMIT`).
    agency
        Whose rounds and ranking choose the target when none is named.

    Returns
    -------
    TargetNetwork
        The bounded subnetwork and what it left out.

    Raises
    ------
    VdtoError
        For ``hops`` or ``limit`` out of range, and (an :class:`~vdto.errors.UnknownNameError`)
        for a target the registry does not know or the network does not hold, naming ``target``
        with the nearest names.
    """
    if isinstance(hops, bool) or hops not in VIEW_HOPS:
        raise VdtoError(f"hops must be 1 or 2 (got {hops!r})", fix="use 1 or 2", param="hops")
    if isinstance(limit, bool) or not isinstance(limit, int) or not 10 <= limit <= MAX_VIEW_LIMIT:
        raise VdtoError(
            f"limit must be 10 to {MAX_VIEW_LIMIT} nodes (got {limit!r})", fix="use e.g. 300", param="limit"
        )
    net, sources = _joined(store)
    known = _org_names(store, net.nodes)
    chosen = "given"
    if target is None:
        target, chosen = default_target(store, agency, known)
    try:
        org_id = target_org(store, target)
    except UnknownNameError:
        raise _unknown_target(store, target, known, f"unknown organization {target!r}") from None
    if org_id not in known:
        raise _unknown_target(store, target, known, f"organization {org_id!r} has no node in the network")
    is_own = net.nodes["type"].astype(str).isin(TIE_NODE_TYPES) & (net.nodes["org_id"] == org_id)
    dist = _distances(net, np.flatnonzero(is_own.to_numpy()), hops)
    within = np.flatnonzero(dist >= 0)
    ids = net.nodes["id"]
    inside = set(ids.iloc[within])
    both = (net.edges["source"].isin(inside) & net.edges["target"].isin(inside)).to_numpy()
    found_edges = int(both.sum())
    keep = within
    if len(within) > limit:
        pos = pd.Index(ids).get_indexer(pd.concat([net.edges["source"][both], net.edges["target"][both]]))
        degree = np.bincount(pos, minlength=len(ids))
        order = np.lexsort((ids.iloc[within].to_numpy(), -degree[within], dist[within]))
        keep = np.sort(within[order[: max(limit, int(is_own.sum()))]])
    nodes = net.nodes.iloc[keep].reset_index(drop=True)
    kept = set(nodes["id"])
    edges = net.edges[(net.edges["source"].isin(kept) & net.edges["target"].isin(kept)).to_numpy()]
    cut = ""
    if len(keep) < len(within):
        cut = (
            f"{len(within) - len(keep):,} of {len(within):,} nodes within {hops} hop{'s' if hops > 1 else ''} "
            f"and {found_edges - len(edges):,} of {found_edges:,} edges left out (limit {limit} nodes: "
            "the farthest and least connected go first)"
        )
    sub = SupplyNetwork(
        nodes,
        edges.reset_index(drop=True),
        {**net.meta, "subnetwork": {"target": org_id, "hops": hops, "limit": limit}},
    )
    return TargetNetwork(
        org_id, known[org_id], hops, limit, sub, dict(zip(ids.iloc[keep], dist[keep].tolist(), strict=True)),
        len(within), found_edges, cut, sources, known, net.synthetic_label(), chosen,
    )  # fmt: skip


def target_network_file(
    store: Store,
    target: str | None,
    format: str,
    *,
    hops: int = 1,
    limit: int = VIEW_LIMIT,
    agency: str | None = None,
) -> tuple[str, bytes]:
    """The file of exactly :func:`target_network`'s subnetwork: ``format`` ``gexf`` (a GEXF file)
    or ``i2`` (a zip of ``entities.csv`` and ``links.csv``, :func:`vdto.network.formats.write_link_chart`).

    Parameters
    ----------
    store, target, hops, limit, agency
        As for :func:`target_network`.
    format
        ``gexf`` or ``i2``.

    Returns
    -------
    tuple of str and bytes
        The file's name (``network-ORG-hopsN.gexf`` or ``.i2.zip``) and its bytes.

    Raises
    ------
    VdtoError
        For an unknown ``format``, and as :func:`target_network` does.
    """
    if format not in VIEW_FORMATS:
        raise VdtoError(f"unknown format {format!r}", fix="use gexf or i2", param="format")
    found = target_network(store, target, hops, limit, agency=agency)
    stem = f"network-{found.target}-hops{hops}"
    with tempfile.TemporaryDirectory(prefix="vdto-network-") as tmp:
        if format == "gexf":
            path = formats.write_gexf(found.net, Path(tmp) / f"{stem}.gexf")
            return path.name, path.read_bytes()
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in formats.write_link_chart(found.net, Path(tmp) / stem):
                zf.write(path, path.name)
        return f"{stem}.i2.zip", buf.getvalue()
