"""The store's supply network written to files, whole or only the part around a target.

:func:`target_org` resolves a target the way every network command does (any name, alias or id
of it; a faction counts as its organization); :func:`export_network` writes GraphML, GEXF or
the i2 link-chart pair and says what it wrote.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vdto.errors import VdtoError
from vdto.network import formats
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
