"""The corridor network: nodes, links and the routes from Andean production to the US market.

Loaded from TOML (``vdto/data/routes/corridors.toml`` by default) and validated by pydantic,
so a bad file names its key. The network is small (tens of links), so every simple route from
the source to the sink is enumerated once (networkx) and kept as a route x link incidence
matrix; route choice then works on arrays.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from vdto.data import bundled
from vdto.errors import ConfigError
from vdto.tomlfile import load_model

#: Corridors a route is classed by (the transit zone it uses first).
CORRIDORS = ("eastern_pacific", "central_america", "caribbean", "direct")


class Node(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    label: str = ""
    corridor: str | None = None
    mexico: bool = False
    entry: bool = False


class Link(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    source: str = Field(alias="from")
    target: str = Field(alias="to")
    cost: float = Field(ge=0, description="USD per kg moved over the link")
    hazard: float = Field(0.0, ge=0, description="interdiction hazard at intensity 1")
    delay: float = Field(0.0, ge=0, description="days in transit")
    capacity: float = Field(1.0, gt=0, description="share of all flow at which congestion doubles the cost")
    caribbean: bool = False
    direct: bool = False


class Calibrated(BaseModel):
    """Parameters fitted by ``vdto routes calibrate`` (stored so that loading is instant)."""

    model_config = ConfigDict(extra="forbid")

    base_year: int
    ep_cost_factor: float = Field(gt=0)
    intensity: dict[str, float]


class CorridorNetwork(BaseModel):
    """A corridor network file (TOML)."""

    model_config = ConfigDict(extra="forbid")

    name: str
    source: str
    sink: str
    dispersion: float = Field(gt=0, description="logit dispersion theta, per USD/kg")
    value_at_risk: float = Field(ge=0, description="USD per kg lost to a seizure")
    delay_cost: float = Field(ge=0, description="USD per kg per day in transit")
    congestion_alpha: float = Field(1.0, ge=0)
    congestion_beta: float = Field(4.0, ge=1)
    node: list[Node]
    link: list[Link]
    calibration: Calibrated | None = None

    @model_validator(mode="after")
    def _check(self) -> CorridorNetwork:
        ids = [n.id for n in self.node]
        if len(set(ids)) != len(ids):
            raise ValueError("node ids must be unique")
        known = set(ids)
        for k, ln in enumerate(self.link):
            for end in (ln.source, ln.target):
                if end not in known:
                    raise ValueError(f"link {k + 1} ({ln.source} -> {ln.target}) names unknown node {end!r}")
        for end in (self.source, self.sink):
            if end not in known:
                raise ValueError(f"{end!r} is not a node")
        for n in self.node:
            if n.corridor is not None and n.corridor not in CORRIDORS:
                raise ValueError(f"node {n.id!r}: corridor must be one of {', '.join(CORRIDORS)}")
        return self

    def sha256(self) -> str:
        """SHA-256 of the canonical JSON of the network (comments and layout do not count)."""
        text = json.dumps(self.model_dump(mode="json", by_alias=True), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Routes:
    """Every simple route from source to sink as a route x link incidence matrix."""

    network: CorridorNetwork
    paths: tuple[tuple[str, ...], ...]  # node sequences
    incidence: np.ndarray  # (routes, links) 0/1

    @cached_property
    def arrays(self) -> dict[str, np.ndarray]:
        links = self.network.link
        return {
            "cost": np.array([ln.cost for ln in links], float),
            "hazard": np.array([ln.hazard for ln in links], float),
            "delay": np.array([ln.delay for ln in links], float),
            "capacity": np.array([ln.capacity for ln in links], float),
            "caribbean": np.array([ln.caribbean for ln in links], bool),
            "direct": np.array([ln.direct for ln in links], bool),
        }

    @cached_property
    def corridor(self) -> np.ndarray:
        """The corridor of each route: the first corridor node on it, or ``direct``."""
        by_node = {n.id: n.corridor for n in self.network.node}
        out = []
        for path in self.paths:
            first = next((by_node[v] for v in path if by_node.get(v)), None)
            out.append(first or "direct")
        return np.array(out, dtype=object)

    @cached_property
    def via_mexico(self) -> np.ndarray:
        mexico = {n.id for n in self.network.node if n.mexico}
        return np.array([any(v in mexico for v in p) for p in self.paths])

    @cached_property
    def entry(self) -> np.ndarray:
        """The US entry region of each route (its last entry node)."""
        entries = {n.id for n in self.network.node if n.entry}
        return np.array([[v for v in p if v in entries][-1] for p in self.paths], dtype=object)

    def label(self, i: int) -> str:
        return " > ".join(self.paths[i])


def routes_of(network: CorridorNetwork) -> Routes:
    """Enumerate the routes of ``network`` (raises if a route has no US entry region)."""
    import networkx as nx

    g = nx.MultiDiGraph()
    for k, ln in enumerate(network.link):
        g.add_edge(ln.source, ln.target, key=k)
    if not nx.is_directed_acyclic_graph(g):
        raise ConfigError(
            "the corridor network has a cycle", "link", "links must lead from the source to the sink"
        )
    paths, rows = [], []
    for edge_path in nx.all_simple_edge_paths(g, network.source, network.sink):
        row = np.zeros(len(network.link))
        row[[k for _, _, k in edge_path]] = 1.0
        paths.append((network.source, *(v for _, v, _ in edge_path)))
        rows.append(row)
    if not paths:
        raise ConfigError(
            f"no route leads from {network.source!r} to {network.sink!r}",
            "link",
            "connect the source to the sink",
        )
    if not any(n.mexico for n in network.node):
        raise ConfigError("no node is marked mexico = true", "node.mexico", "mark the Mexican transit nodes")
    entries = {n.id for n in network.node if n.entry}
    for p in paths:
        if not entries & set(p):
            raise ConfigError(
                f"route {' > '.join(p)} enters the US nowhere", "node.entry", "mark US entry nodes"
            )
    return Routes(network, tuple(paths), np.vstack(rows))


def load_corridors(path: str | Path | None = None) -> CorridorNetwork:
    """Read and validate a corridor network TOML file (the bundled default when ``path`` is None)."""
    if path is None:
        path = bundled("corridors")
    return load_model(CorridorNetwork, path, "docs/routes.md for the network format")


__all__ = ["CORRIDORS", "CorridorNetwork", "Link", "Node", "Routes", "load_corridors", "routes_of"]
