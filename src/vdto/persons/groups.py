"""The group audit's network analysis: which groups and which people drive the violence, and how
they are connected.

A group audit (as in the Group Violence Intervention) maps the groups of an area, who belongs to
them and which of them offend together. This module does the network part over the canonical
person frames (pseudonymised ids only; nothing here ever sees a name):

* :func:`co_offending_graph` joins the recorded ties and the co-offending read off the links (two
  persons linked to the same event of the store) into one weighted, undirected graph of persons;
* :func:`structure` finds its connected components, each person's degree, strength, betweenness
  and ties to other cells, and the brokers: the people whose removal disconnects their component
  (articulation points) or who tie cells together;
* :func:`cell_ties` sums the person-to-person edges between cells into the alliances of cells;
* :func:`succession` lists, for each leader, who is best placed to step in if the leader is
  removed, and whether the succession looks contested.

The succession heuristic
------------------------
For a leader (role ``leader`` in a current membership, ``end`` empty) of cell C, the candidates are
the other current members of C. They are ranked by

1. role: another leader of C (a co-leader) first, then lieutenants, members, associates (any
   other role last);
2. ``strength_in_cell``: the candidate's weighted degree in the cell's co-offending subgraph
   *once the leader is removed* (the current members of C other than the leader, and the edges
   among them): who is best tied to the people who remain;
3. ``score``: the candidate's expected violence score, when ``scores`` is given (higher first;
   a person without a score comes after those with one);
4. the person id.

``fragments`` is the number of connected pieces the cell's co-offending subgraph falls into when
the leader is removed (1 = it stays whole; a member with no recorded tie to the rest is a piece of
its own, so a cell whose ties were never recorded counts as fragmented: there is no evidence that
it holds together). ``risk`` is ``"contested"`` when the cell fragments (``fragments > 1``) or when
the top two candidates are close: the same role, and strengths within ``margin`` (10% by default)
of the larger one (``|s1 - s2| <= margin * max(s1, s2)``, so two candidates with no ties in the
cell are close). Otherwise it is ``"clear successor"``; a leader whose cell has no other current
member gets one row with no candidate and ``risk == "no successor"``.

What the heuristic is, and what it is not: it is a ranking of who is best placed by role and by
ties, for an analyst to check against what investigators know. It is NOT a prediction of who will
succeed, and it has not been validated on data (no data set of successions in Mexican cells was
available to test it against). What it is meant to flag is the risk the evidence points to:
removing leaders tends to raise violence through succession struggles and splits.

* Calderón, Robles, Díaz-Cayeros & Magaloni (2015), "The Beheading of Criminal Organizations and
  the Dynamics of Violence in Mexico", J. Conflict Resolution 59(8):1455-85: capturing or killing
  a leader raises DTO violence and general homicides; removing lieutenants raises violence only on
  the transport network; the DTO-violence effects are mostly within 6 months.
* Lindo & Padilla-Romo (2018), "Kingpin approaches to fighting crime and community violence:
  Evidence from Mexico's drug war", J. Health Econ. 58:253-68: a capture raises the
  municipality's homicide rate about 80% for at least 12 months, and that of neighbouring
  municipalities with the same DTO about 30% for 6 months.
* Dickenson (2014), "The Impact of Leadership Removal on Mexican Drug Trafficking Organizations",
  J. Quantitative Criminology 30(4): 25 leader removals, about 415 extra deaths; killing a leader
  raised violence more than capturing him.

Determinism
-----------
Every function works on a canonical copy of the graph (nodes and edges inserted in id order), so
its results do not depend on the order of the input rows or of the graph's insertion; every
output is sorted, with ties broken by id. Betweenness is exact when the graph has at most
``samples`` nodes and otherwise networkx's ``k``-source approximation drawn with ``seed``: the same
graph and seed give the same numbers. Betweenness is computed on hops (weights ignored: a
weight here is a strength, not a distance) and normalised as networkx does.

Examples
--------
>>> import pandas as pd
>>> members = pd.DataFrame({
...     "person": ["a", "b", "c"], "cell": ["x", "x", "y"], "role": ["leader", "member", "leader"],
...     "start": pd.to_datetime(["2020-01-01"] * 3), "end": [None, None, None]})
>>> ties = pd.DataFrame({"person_a": ["a", "b"], "person_b": ["b", "c"], "weight": [1.0, 2.0]})
>>> links = pd.DataFrame(columns=["person", "source", "source_id", "kind", "confidence"])
>>> graph = co_offending_graph(members, ties, links)
>>> s = structure(graph, members, seed=1)
>>> s.brokers[["person", "articulation", "cross_cell"]].to_dict("records")
[{'person': 'b', 'articulation': True, 'cross_cell': 1}, {'person': 'c', 'articulation': False, 'cross_cell': 1}]
>>> cell_ties(graph, members).to_dict("records")
[{'cell_a': 'x', 'cell_b': 'y', 'ties': 1, 'weight': 2.0}]
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import networkx as nx
import numpy as np
import pandas as pd

from vdto.errors import VdtoError

#: Seniority used by :func:`succession` (lower first); any other role comes after these.
ROLE_ORDER: dict[str, int] = {"leader": 0, "lieutenant": 1, "member": 2, "associate": 3}
#: ``kinds`` of an edge: a recorded tie, co-offending read off the links, or both.
TIE = "tie"
CO_OFFENDING = "co_offending"
#: Default relative margin within which the top two successors are "close".
MARGIN = 0.10

_MEMBERS = ("person", "cell", "role", "start", "end")
_TIES = ("person_a", "person_b", "weight")
_LINKS = ("person", "source", "source_id")


def _require(frame: pd.DataFrame, columns: Iterable[str], param: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise VdtoError(
            f"{param} lacks the column(s) {', '.join(missing)}",
            fix="pass the canonical frame (see vdto.persons)",
            param=param,
        )


def _latest(members: pd.DataFrame) -> pd.DataFrame:
    """Per person, the latest membership (latest start; a current one before an ended one on the
    same start; then the cell id): columns cell, role, current; indexed by person, sorted."""
    _require(members, _MEMBERS, "members")
    frame = pd.DataFrame(
        {
            "person": members["person"].astype(str).to_numpy(),
            "cell": members["cell"].astype(str).to_numpy(),
            "role": members["role"].astype(str).to_numpy(),
            "start": pd.to_datetime(members["start"]).to_numpy(),
            "current": members["end"].isna().to_numpy(),
            "end": pd.to_datetime(members["end"]).to_numpy(),  # empty only where current
        }
    )
    frame = frame.sort_values(["person", "start", "current", "end", "cell", "role"], kind="mergesort")
    last = frame.drop_duplicates("person", keep="last").set_index("person")
    return last[["cell", "role", "current"]]


def _current(members: pd.DataFrame) -> pd.DataFrame:
    """The current memberships (``end`` empty): person, cell, role; sorted by cell then person."""
    _require(members, _MEMBERS, "members")
    now = members[members["end"].isna()]
    frame = pd.DataFrame(
        {
            "person": now["person"].astype(str).to_numpy(),
            "cell": now["cell"].astype(str).to_numpy(),
            "role": now["role"].astype(str).to_numpy(),
        }
    )
    frame = frame.sort_values(["cell", "person", "role"], kind="mergesort").drop_duplicates(
        ["cell", "person"]
    )
    return frame.reset_index(drop=True)


def _canonical(graph: nx.Graph) -> nx.Graph:
    """A copy with nodes and edges inserted in id order (so iteration, sums and the sampled
    sources of the approximate betweenness do not depend on how ``graph`` was built)."""
    out = nx.Graph()
    for node in sorted(graph.nodes):
        out.add_node(node, **graph.nodes[node])
    edges = sorted((min(u, v), max(u, v)) for u, v in graph.edges)
    for u, v in edges:
        out.add_edge(u, v, **graph.edges[u, v])
    return out


def _cells(graph: nx.Graph, members: pd.DataFrame) -> dict[str, str | None]:
    """Each node's cell: its latest membership's, else the graph's ``cell`` attribute, else None."""
    latest = _latest(members)["cell"].to_dict()
    return {node: latest.get(node, graph.nodes[node].get("cell")) for node in graph.nodes}


def _roles(graph: nx.Graph, members: pd.DataFrame) -> dict[str, str | None]:
    latest = _latest(members)["role"].to_dict()
    return {node: latest.get(node, graph.nodes[node].get("role")) for node in graph.nodes}


def _weight(data: dict) -> float:
    return float(data.get("weight", 1.0))


def co_offending_graph(members: pd.DataFrame, ties: pd.DataFrame, links: pd.DataFrame) -> nx.Graph:
    """The weighted graph of persons: recorded ties plus co-offending read off the links.

    Parameters
    ----------
    members
        Canonical memberships (person, cell, role, start, end). Every person is a node, with the
        attributes ``cell`` and ``role`` of their latest membership and ``current`` (whether that
        membership is still open).
    ties
        Canonical ties (person_a, person_b, weight > 0). Several rows for one pair add up.
    links
        Canonical links (person, source, source_id, ...). Two persons linked to the same event
        ``(source, source_id)`` co-offended once on it (several links of one person to one event,
        e.g. suspect then arrested, count once); the co-offending weight of a pair is the number of
        events they share. The link's kind and confidence are not used here.

    Returns
    -------
    networkx.Graph
        One edge per pair, with ``weight`` (tie weight + shared events), ``tie_weight``,
        ``shared_events`` and ``kinds``: a sorted tuple of ``"co_offending"`` and/or ``"tie"``.
        Nodes and edges are inserted in id order.

    Raises
    ------
    VdtoError
        A column is missing, a tie or link names a person who is not in ``members``, a tie joins
        a person to themselves, or a tie weight is not a positive number.

    Examples
    --------
    >>> members = pd.DataFrame({"person": ["a", "b"], "cell": ["x", "x"], "role": ["leader", "member"],
    ...                         "start": pd.to_datetime(["2020-01-01"] * 2), "end": [None, None]})
    >>> ties = pd.DataFrame({"person_a": ["a"], "person_b": ["b"], "weight": [0.5]})
    >>> links = pd.DataFrame({"person": ["a", "b"], "source": ["acled", "acled"], "source_id": ["1", "1"]})
    >>> dict(co_offending_graph(members, ties, links).edges["a", "b"])
    {'weight': 1.5, 'tie_weight': 0.5, 'shared_events': 1, 'kinds': ('co_offending', 'tie')}
    """
    latest = _latest(members)
    _require(ties, _TIES, "ties")
    _require(links, _LINKS, "links")
    known = set(latest.index)

    tie_frame = pd.DataFrame(
        {
            "a": ties["person_a"].astype(str).to_numpy(),
            "b": ties["person_b"].astype(str).to_numpy(),
            "weight": pd.to_numeric(ties["weight"], errors="coerce").to_numpy(dtype=float),
        }
    )
    bad = ~np.isfinite(tie_frame["weight"].to_numpy()) | (tie_frame["weight"].to_numpy() <= 0)
    if bad.any():
        row = tie_frame[bad].sort_values(["a", "b"]).iloc[0]
        raise VdtoError(
            f"the tie {row['a']} - {row['b']} has weight {row['weight']!r}",
            fix="give every tie a positive weight",
            param="ties",
        )
    if (tie_frame["a"] == tie_frame["b"]).any():
        person = sorted(tie_frame.loc[tie_frame["a"] == tie_frame["b"], "a"])[0]
        raise VdtoError(f"a tie joins {person} to themselves", fix="drop that tie", param="ties")
    for param, persons in (("ties", pd.concat([tie_frame["a"], tie_frame["b"]])), ("links", links["person"])):
        unknown = sorted(set(persons.astype(str)) - known)
        if unknown:
            raise VdtoError(
                f"{len(unknown)} person(s) in {param} are not in members (first: {unknown[0]})",
                fix="give every person a membership, or drop their rows",
                param=param,
            )

    # recorded ties: one pair per (smaller, larger), summed in a fixed order
    lo = np.minimum(tie_frame["a"].to_numpy(), tie_frame["b"].to_numpy())
    hi = np.maximum(tie_frame["a"].to_numpy(), tie_frame["b"].to_numpy())
    pairs = pd.DataFrame({"a": lo, "b": hi, "weight": tie_frame["weight"].to_numpy()})
    pairs = pairs.sort_values(["a", "b", "weight"], kind="mergesort")
    tie_weight = {
        (a, b): float(w) for (a, b), w in pairs.groupby(["a", "b"], sort=True)["weight"].sum().items()
    }

    # co-offending: pairs of distinct persons on the same event, counted once per event
    events = pd.DataFrame(
        {
            "source": links["source"].astype(str).to_numpy(),
            "source_id": links["source_id"].astype(str).to_numpy(),
            "person": links["person"].astype(str).to_numpy(),
        }
    ).drop_duplicates()
    both = events.merge(events, on=["source", "source_id"], suffixes=("_a", "_b"))
    both = both[both["person_a"] < both["person_b"]]
    shared = {
        (a, b): int(n) for (a, b), n in both.groupby(["person_a", "person_b"], sort=True).size().items()
    }

    graph = nx.Graph()
    for person, cell, role, current in latest.itertuples(name=None):
        graph.add_node(person, cell=cell, role=role, current=bool(current))
    for a, b in sorted(set(tie_weight) | set(shared)):
        t = tie_weight.get((a, b), 0.0)
        n = shared.get((a, b), 0)
        kinds = tuple(k for k, present in ((CO_OFFENDING, n > 0), (TIE, t > 0)) if present)
        graph.add_edge(a, b, weight=t + n, tie_weight=t, shared_events=n, kinds=kinds)
    return graph


@dataclass(frozen=True, eq=False)
class Structure:
    """The structure of a co-offending graph (see :func:`structure`).

    Attributes
    ----------
    components
        One row per connected component: component (1 = the largest), persons, cells (distinct
        cells of its persons), ties (edges); sorted by size (persons, descending), then by the
        smallest person id in it.
    people
        One row per person (sorted by id): person, cell, role, degree, strength (weighted degree),
        betweenness, cross_cell (edges to persons of another cell), articulation (removing them
        disconnects their component), broker (articulation or cross_cell > 0), component.
    brokers
        The brokers ranked by betweenness (descending), then id: rank (1 = first), person, cell,
        role, betweenness, articulation, cross_cell, component.
    betweenness_method
        ``"exact"``, or ``"approximate"`` (networkx's ``k``-source sample) for a graph with more
        than ``samples`` nodes.
    samples
        The ``samples`` asked for (the ``k`` used when the method is approximate).
    seed
        The seed of the approximation (recorded also when it was exact).
    """

    components: pd.DataFrame
    people: pd.DataFrame
    brokers: pd.DataFrame
    betweenness_method: str
    samples: int
    seed: int


def _components(graph: nx.Graph) -> list[list[str]]:
    parts = [sorted(part) for part in nx.connected_components(graph)]
    return sorted(parts, key=lambda part: (-len(part), part[0]))


def structure(graph: nx.Graph, members: pd.DataFrame, *, seed: int, samples: int = 500) -> Structure:
    """Components, centrality and brokers of a co-offending graph.

    Parameters
    ----------
    graph
        A graph of persons, e.g. from :func:`co_offending_graph` (edge ``weight`` defaults to 1).
    members
        Canonical memberships: each person's cell and role are those of their latest membership
        (for a node not in ``members``, the node's ``cell``/``role`` attributes, else None).
    seed
        Seed of the sampled betweenness (used only when the graph has more than ``samples`` nodes).
    samples
        Exact betweenness up to this many nodes; above it, networkx's approximation from
        ``samples`` source nodes drawn with ``seed``.

    Returns
    -------
    Structure

    Examples
    --------
    >>> members = pd.DataFrame({"person": ["a", "b", "c"], "cell": ["x"] * 3, "role": ["member"] * 3,
    ...                         "start": pd.to_datetime(["2020-01-01"] * 3), "end": [None] * 3})
    >>> graph = nx.Graph([("a", "b"), ("b", "c")])
    >>> s = structure(graph, members, seed=0)
    >>> s.betweenness_method, s.people["betweenness"].tolist(), s.brokers["person"].tolist()
    ('exact', [0.0, 1.0, 0.0], ['b'])
    """
    if samples < 1:
        raise VdtoError(f"samples must be at least 1 (got {samples})", fix="use e.g. 500", param="samples")
    g = _canonical(graph)
    cells = _cells(g, members)
    roles = _roles(g, members)
    n = g.number_of_nodes()
    if n <= samples:
        method = "exact"
        between = nx.betweenness_centrality(g, normalized=True)
    else:
        method = "approximate"
        between = nx.betweenness_centrality(g, k=samples, normalized=True, seed=seed)
    cut = set(nx.articulation_points(g))

    parts = _components(g)
    component_of = {person: i + 1 for i, part in enumerate(parts) for person in part}
    components = pd.DataFrame(
        {
            "component": np.arange(1, len(parts) + 1, dtype=np.int64),
            "persons": np.array([len(p) for p in parts], dtype=np.int64),
            "cells": np.array(
                [len({cells[v] for v in p if cells[v] is not None}) for p in parts], dtype=np.int64
            ),
            "ties": np.array([g.subgraph(p).number_of_edges() for p in parts], dtype=np.int64),
        }
    )

    rows = []
    for person in g.nodes:  # id order
        cell = cells[person]
        neighbours = g.adj[person]
        cross = sum(
            1
            for other in neighbours
            if cell is not None and cells[other] is not None and cells[other] != cell
        )
        rows.append(
            {
                "person": person,
                "cell": cell,
                "role": roles[person],
                "degree": len(neighbours),
                "strength": float(sum(_weight(neighbours[other]) for other in neighbours)),
                "betweenness": float(between[person]),
                "cross_cell": cross,
                "articulation": person in cut,
                "broker": person in cut or cross > 0,
                "component": component_of[person],
            }
        )
    columns = [
        "person",
        "cell",
        "role",
        "degree",
        "strength",
        "betweenness",
        "cross_cell",
        "articulation",
        "broker",
        "component",
    ]
    people = pd.DataFrame(rows, columns=columns).astype(
        {
            "degree": np.int64,
            "strength": float,
            "betweenness": float,
            "cross_cell": np.int64,
            "articulation": bool,
            "broker": bool,
            "component": np.int64,
        }
    )
    brokers = people[people["broker"]].sort_values(
        ["betweenness", "person"], ascending=[False, True], kind="mergesort"
    )
    brokers = brokers.reset_index(drop=True)
    brokers.insert(0, "rank", np.arange(1, len(brokers) + 1, dtype=np.int64))
    brokers = brokers[
        ["rank", "person", "cell", "role", "betweenness", "articulation", "cross_cell", "component"]
    ]
    return Structure(
        components=components,
        people=people.reset_index(drop=True),
        brokers=brokers,
        betweenness_method=method,
        samples=samples,
        seed=seed,
    )


def cell_ties(graph: nx.Graph, members: pd.DataFrame) -> pd.DataFrame:
    """The co-offending alliances between cells: the person-to-person edges summed per pair of cells.

    Each person is in the cell of their latest membership; edges within a cell and edges to a
    person with no cell are left out.

    Returns
    -------
    pandas.DataFrame
        cell_a, cell_b (``cell_a < cell_b``), ties (edges between them), weight (their summed
        weight); sorted by weight (descending), ties (descending), then cell_a, cell_b.

    Examples
    --------
    >>> members = pd.DataFrame({"person": ["a", "b"], "cell": ["x", "y"], "role": ["member"] * 2,
    ...                         "start": pd.to_datetime(["2020-01-01"] * 2), "end": [None] * 2})
    >>> cell_ties(nx.Graph([("a", "b", {"weight": 3.0})]), members).to_dict("records")
    [{'cell_a': 'x', 'cell_b': 'y', 'ties': 1, 'weight': 3.0}]
    """
    g = _canonical(graph)
    cells = _cells(g, members)
    count: dict[tuple[str, str], int] = {}
    total: dict[tuple[str, str], float] = {}
    for u, v, data in g.edges(data=True):  # id order
        cu, cv = cells[u], cells[v]
        if cu is None or cv is None or cu == cv:
            continue
        key = (min(cu, cv), max(cu, cv))
        count[key] = count.get(key, 0) + 1
        total[key] = total.get(key, 0.0) + _weight(data)
    keys = sorted(count, key=lambda k: (-total[k], -count[k], k))
    return pd.DataFrame(
        {
            "cell_a": [k[0] for k in keys],
            "cell_b": [k[1] for k in keys],
            "ties": np.array([count[k] for k in keys], dtype=np.int64),
            "weight": np.array([total[k] for k in keys], dtype=float),
        }
    )


def _scores(scores: pd.DataFrame | None) -> dict[str, float]:
    if scores is None:
        return {}
    _require(scores, ("person", "score"), "scores")
    persons = scores["person"].astype(str)
    if persons.duplicated().any():
        first = sorted(persons[persons.duplicated()])[0]
        raise VdtoError(
            f"scores has several rows for {first}", fix="give one score per person", param="scores"
        )
    values = pd.to_numeric(scores["score"], errors="coerce").to_numpy(dtype=float)
    return {p: float(s) for p, s in zip(persons, values, strict=True) if not math.isnan(s)}


def _seniority(role: str) -> int:
    return ROLE_ORDER.get(role, len(ROLE_ORDER))


def _by_score(score_of: dict[str, float], person: str) -> tuple[int, float]:
    """Sort key: higher scores first, persons without a score last."""
    score = score_of.get(person)
    return (0, -score) if score is not None else (1, 0.0)


def succession(
    graph: nx.Graph,
    members: pd.DataFrame,
    scores: pd.DataFrame | None = None,
    *,
    top: int = 3,
    margin: float = MARGIN,
) -> pd.DataFrame:
    """Who is best placed to step in for each current leader, and whether it looks contested.

    The ranking, ``fragments`` and ``risk`` are described in the module docstring: a heuristic
    ranking by role and ties, not a validated prediction.

    Parameters
    ----------
    graph
        The co-offending graph (:func:`co_offending_graph`).
    members
        Canonical memberships; only current ones (``end`` empty) count, for leaders and candidates.
    scores
        Optional expected violence scores (person, score), the third ranking key.
    top
        How many candidates to keep per leader.
    margin
        Relative margin within which the top two candidates' strengths are "close".

    Returns
    -------
    pandas.DataFrame
        cell, leader, rank (1 = first; missing when there is no candidate), candidate, role,
        strength_in_cell, score (NaN when unknown), fragments, risk; sorted by cell, leader, rank.

    Examples
    --------
    >>> members = pd.DataFrame({"person": ["boss", "lt", "m"], "cell": ["x"] * 3,
    ...                         "role": ["leader", "lieutenant", "member"],
    ...                         "start": pd.to_datetime(["2020-01-01"] * 3), "end": [None] * 3})
    >>> graph = nx.Graph([("boss", "lt"), ("boss", "m"), ("lt", "m")])
    >>> succession(graph, members)[["rank", "candidate", "fragments", "risk"]].to_dict("records")
    [{'rank': 1, 'candidate': 'lt', 'fragments': 1, 'risk': 'clear successor'}, {'rank': 2, 'candidate': 'm', 'fragments': 1, 'risk': 'clear successor'}]
    """
    if top < 1:
        raise VdtoError(f"top must be at least 1 (got {top})", fix="use e.g. 3", param="top")
    if not margin >= 0:
        raise VdtoError(f"margin must be at least 0 (got {margin})", fix="use e.g. 0.1", param="margin")
    g = _canonical(graph)
    score_of = _scores(scores)
    current = _current(members)
    rows: list[dict] = []
    for cell, group in current.groupby("cell", sort=True):
        persons = group["person"].tolist()  # id order
        role_of = dict(zip(group["person"], group["role"], strict=True))
        for leader in (p for p in persons if role_of[p] == "leader"):
            others = [p for p in persons if p != leader]
            sub = g.subgraph([p for p in others if p in g])
            strength = {
                p: float(sum(_weight(d) for _, _, d in sub.edges(p, data=True))) if p in sub else 0.0
                for p in others
            }
            # a current member missing from the graph is a piece of its own
            fragments = nx.number_connected_components(sub) + sum(1 for p in others if p not in g)

            ranked = sorted(
                others, key=lambda p: (_seniority(role_of[p]), -strength[p], _by_score(score_of, p), p)
            )
            if not ranked:
                rows.append(
                    {
                        "cell": cell,
                        "leader": leader,
                        "rank": pd.NA,
                        "candidate": None,
                        "role": None,
                        "strength_in_cell": math.nan,
                        "score": math.nan,
                        "fragments": 0,
                        "risk": "no successor",
                    }
                )
                continue
            close = False
            if len(ranked) >= 2:
                a, b = ranked[0], ranked[1]
                same_role = _seniority(role_of[a]) == _seniority(role_of[b])
                sa, sb = strength[a], strength[b]
                close = same_role and abs(sa - sb) <= margin * max(sa, sb)
            risk = "contested" if fragments > 1 or close else "clear successor"
            for rank, p in enumerate(ranked[:top], start=1):
                rows.append(
                    {
                        "cell": cell,
                        "leader": leader,
                        "rank": rank,
                        "candidate": p,
                        "role": role_of[p],
                        "strength_in_cell": strength[p],
                        "score": score_of.get(p, math.nan),
                        "fragments": fragments,
                        "risk": risk,
                    }
                )
    columns = [
        "cell",
        "leader",
        "rank",
        "candidate",
        "role",
        "strength_in_cell",
        "score",
        "fragments",
        "risk",
    ]
    out = pd.DataFrame(rows, columns=columns)
    return out.astype(
        {"rank": "Int64", "strength_in_cell": float, "score": float, "fragments": np.int64}
    ).reset_index(drop=True)
