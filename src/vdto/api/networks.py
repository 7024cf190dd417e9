"""The target's network for the workbench: the bounded part around one organization, and its file.

- ``GET /agencies/{agency}/network?target=ORG&hops=1|2&limit=N``: the target's own nodes and
  everything within ``hops`` edges of any type (supplies, alliance, rivalry) of them, at most
  ``limit`` nodes, with a line saying what the limit left out (:func:`vdto.services.network.target_network`);
- ``GET /agencies/{agency}/network/export?target=...&format=gexf|i2``: exactly that subnetwork
  as a GEXF file or the i2 entity/link CSV pair, zipped.

Access: any token of the agency, as for the agency's other reads (``check_agency``; a token of
another agency is refused with 403). The export holds nothing the JSON answer does not already
show to the same token, so it is not kept to one role: restricting it would only make the caller
copy the JSON. The network is the store's supply network (shared by the server's agencies, not
one agency's raw events) joined with the public BACRIM 2020 ties; no event of any agency is in it.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from vdto.api.deps import Agency, Caller, Ctx, check_agency

router = APIRouter(tags=["agency"])

Target = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=200,
        description="The organization: its id or any name (default: the target of the agency's latest "
        "round not closed, else its top-ranked organization).",
    ),
]
Hops = Annotated[int, Query(ge=1, le=2, description="Edges of any type from the target's own nodes: 1 or 2.")]
Limit = Annotated[
    int, Query(ge=10, le=1000, description="The most nodes to keep (the nearest and best connected).")
]


class NetworkNode(BaseModel):
    """A node of the subnetwork."""

    id: str
    kind: str = Field(description="organization, cell, wholesaler, distributor or city.")
    label: str
    hop: int = Field(description="Edges from the target's own nodes (0: the target's).")
    attributes: dict[str, Any] = Field(description="org_id, region, price, cost where known.")


class NetworkEdge(BaseModel):
    """An edge of the subnetwork (ties run from the smaller node id to the larger)."""

    id: str
    source: str
    target: str
    kind: str = Field(description="supplies, alliance or rivalry.")
    attributes: dict[str, Any] = Field(
        description="volume, share, confidence, weight, start, end where known."
    )


class Organization(BaseModel):
    id: str
    name: str


class TargetNetwork(BaseModel):
    """The target's subnetwork, bounded in size."""

    agency: str
    target: str
    name: str
    hops: int
    limit: int
    nodes: list[NetworkNode]
    edges: list[NetworkEdge]
    found_nodes: int = Field(description="Nodes within hops before the limit.")
    found_edges: int = Field(description="Edges between them before the limit.")
    cut: str = Field(description="What the limit left out, in one line (empty when nothing).")
    sources: list[str] = Field(description="The networks joined: store (its supply network), bacrim2020.")
    synthetic: str | None = Field(description="Set when the store's network is the generator's (invented).")
    organizations: list[Organization] = Field(description="Every organization with a node in the network.")
    chosen: str = Field(description="How the target was chosen: given, round N, ranking or first.")


def _value(v: object) -> object:
    if isinstance(v, pd.Timestamp):
        return v.date().isoformat() if v == v.normalize() else v.isoformat()
    if isinstance(v, float | np.floating):
        return float(v)
    if isinstance(v, np.integer):
        return int(v)
    return v


def _attributes(row: dict, columns: tuple[str, ...]) -> dict[str, Any]:
    return {
        c: _value(row[c]) for c in columns if row.get(c) is not None and not pd.isna(row[c]) and row[c] != ""
    }


def _answer(agency: str, found) -> dict:
    from vdto.network.checks import orient_ties

    nodes = [
        {"id": r["id"], "kind": r["type"], "label": str(r["name"]), "hop": found.hop[r["id"]],
         "attributes": _attributes(r, ("org_id", "region", "price", "cost"))}
        for r in found.net.nodes.to_dict("records")
    ]  # fmt: skip
    edges = [
        {"id": f"e{i}", "source": r["source"], "target": r["target"], "kind": r["type"],
         "attributes": _attributes(r, ("volume", "share", "confidence", "weight", "start", "end"))}
        for i, r in enumerate(orient_ties(found.net.edges).to_dict("records"))
    ]  # fmt: skip
    return {
        "agency": agency, "target": found.target, "name": found.name, "hops": found.hops, "limit": found.limit,
        "nodes": nodes, "edges": edges, "found_nodes": found.found_nodes, "found_edges": found.found_edges,
        "cut": found.cut, "sources": list(found.sources), "synthetic": found.synthetic,
        "organizations": [{"id": k, "name": v} for k, v in found.organizations.items()],
        "chosen": found.chosen,
    }  # fmt: skip


@router.get("/agencies/{agency}/network", response_model=TargetNetwork, summary="The target's subnetwork")
def agency_network(
    agency: Agency, who: Caller, ctx: Ctx, target: Target = None, hops: Hops = 1, limit: Limit = 300
) -> dict:
    """The target's own nodes and every node within ``hops`` edges of any type of them (its
    buyers and suppliers, its allies and rivals in BACRIM 2020), at most ``limit`` nodes (the
    nearest and best connected; ``cut`` says what was left out), and the edges between them.
    Any token of the agency; an unknown target is a 404 naming ``target`` with the nearest names."""
    from vdto.services.network import target_network

    check_agency(who, agency)
    with ctx.access.read() as store:
        found = target_network(store, target, hops, limit, agency=agency)
    return _answer(agency, found)


@router.get(
    "/agencies/{agency}/network/export",
    summary="The target's subnetwork as a file",
    response_class=Response,
    responses={200: {"content": {"application/gexf+xml": {}, "application/zip": {}}}},
)
def agency_network_export(
    agency: Agency,
    who: Caller,
    ctx: Ctx,
    format: Annotated[
        Literal["gexf", "i2"], Query(description="gexf, or i2 (entities.csv + links.csv, zipped).")
    ],
    target: Target = None,
    hops: Hops = 1,
    limit: Limit = 300,
) -> Response:
    """Exactly the subnetwork ``GET /agencies/{agency}/network`` answers with the same target,
    hops and limit: a GEXF file (Gephi, Cytoscape) or a zip of the i2 link-chart pair."""
    from vdto.services.network import target_network_file

    check_agency(who, agency)
    with ctx.access.read() as store:
        name, data = target_network_file(store, target, format, hops=hops, limit=limit, agency=agency)
    media = "application/gexf+xml" if format == "gexf" else "application/zip"
    return Response(data, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})
