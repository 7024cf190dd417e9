"""The group audit's network analysis (vdto.persons.groups) on tiny graphs computed by hand."""

from __future__ import annotations

import doctest
import math

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vdto.errors import VdtoError
from vdto.persons import groups
from vdto.persons.groups import cell_ties, co_offending_graph, structure, succession

START = pd.Timestamp("2020-01-01")
NO_LINKS = pd.DataFrame(columns=["person", "source", "source_id", "kind", "confidence"])
NO_TIES = pd.DataFrame(columns=["person_a", "person_b", "weight"])


def members_frame(rows: list[tuple]) -> pd.DataFrame:
    """Rows (person, cell, role[, start, end]); start defaults to 2020-01-01, end to None."""
    full = [(*r, START, None) if len(r) == 3 else r for r in rows]
    return pd.DataFrame(full, columns=["person", "cell", "role", "start", "end"])


def ties_frame(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(
        [(min(a, b), max(a, b), w) for a, b, w in rows], columns=["person_a", "person_b", "weight"]
    )


def links_frame(rows: list[tuple]) -> pd.DataFrame:
    """Rows (person, source, source_id)."""
    return pd.DataFrame(
        [(p, s, i, "suspect", 0.8) for p, s, i in rows],
        columns=["person", "source", "source_id", "kind", "confidence"],
    )


def test_doctests():
    result = doctest.testmod(groups)
    assert result.attempted > 0 and result.failed == 0


# -- co-offending read off the links --------------------------------------------------------------


def test_co_offending_from_links_and_ties_add_up():
    members = members_frame([("a", "x", "member"), ("b", "x", "member"), ("c", "y", "member")])
    links = links_frame(
        [
            ("a", "ucdp", "1"),
            ("b", "ucdp", "1"),  # a-b share event 1
            ("a", "ucdp", "2"),
            ("b", "ucdp", "2"),  # ... and event 2 -> weight 2
            ("b", "ucdp", "3"),
            ("c", "ucdp", "3"),  # b-c share event 3 -> weight 1
            ("c", "acled", "1"),  # another source: not event ("ucdp", "1")
        ]
    )
    graph = co_offending_graph(members, NO_TIES, links)
    assert sorted(graph.nodes) == ["a", "b", "c"]
    assert graph.edges["a", "b"]["weight"] == 2
    assert graph.edges["a", "b"]["kinds"] == ("co_offending",)
    assert graph.edges["b", "c"]["weight"] == 1
    assert not graph.has_edge("a", "c")

    # a tie row on a co-offending pair: the weights add, one edge, both kinds
    both = co_offending_graph(members, ties_frame([("a", "b", 0.5), ("a", "c", 3.0)]), links)
    assert both.number_of_edges() == 3
    assert both.edges["a", "b"]["weight"] == 2.5
    assert both.edges["a", "b"]["tie_weight"] == 0.5
    assert both.edges["a", "b"]["shared_events"] == 2
    assert both.edges["a", "b"]["kinds"] == ("co_offending", "tie")
    assert both.edges["a", "c"]["weight"] == 3.0
    assert both.edges["a", "c"]["kinds"] == ("tie",)


def test_one_event_counts_once_per_person():
    members = members_frame([("a", "x", "member"), ("b", "x", "member")])
    # a is suspect then arrested on the same event: still one shared event
    links = links_frame([("a", "s", "1"), ("a", "s", "1"), ("b", "s", "1")])
    assert co_offending_graph(members, NO_TIES, links).edges["a", "b"]["weight"] == 1


def test_node_attributes_are_the_latest_membership():
    members = members_frame(
        [
            ("a", "old", "member", pd.Timestamp("2018-01-01"), pd.Timestamp("2019-12-31")),
            ("a", "new", "lieutenant", pd.Timestamp("2020-01-01"), None),
            ("b", "x", "associate", pd.Timestamp("2019-01-01"), pd.Timestamp("2021-01-01")),
        ]
    )
    graph = co_offending_graph(members, NO_TIES, NO_LINKS)
    assert graph.nodes["a"] == {"cell": "new", "role": "lieutenant", "current": True}
    assert graph.nodes["b"] == {"cell": "x", "role": "associate", "current": False}


@pytest.mark.parametrize(
    ("ties", "links", "param"),
    [
        (ties_frame([("a", "zz", 1.0)]), NO_LINKS, "ties"),
        (NO_TIES, links_frame([("zz", "s", "1")]), "links"),
        (ties_frame([("a", "b", 0.0)]), NO_LINKS, "ties"),
        (ties_frame([("a", "a", 1.0)]), NO_LINKS, "ties"),
        (pd.DataFrame({"person_a": ["a"]}), NO_LINKS, "ties"),
    ],
)
def test_bad_input_is_a_user_error(ties, links, param):
    members = members_frame([("a", "x", "member"), ("b", "x", "member")])
    with pytest.raises(VdtoError) as err:
        co_offending_graph(members, ties, links)
    assert err.value.param == param


# -- structure -------------------------------------------------------------------------------------


def test_path_middle_is_articulation_point_and_broker():
    members = members_frame([("a", "x", "member"), ("b", "x", "member"), ("c", "x", "member")])
    graph = co_offending_graph(members, ties_frame([("a", "b", 1.0), ("b", "c", 1.0)]), NO_LINKS)
    s = structure(graph, members, seed=0)
    assert s.betweenness_method == "exact"
    people = s.people.set_index("person")
    # b lies on the only shortest path a-c: 1 of the (3-1)(3-2)/2 = 1 pairs -> normalised 1.0
    assert people["betweenness"].to_dict() == {"a": 0.0, "b": 1.0, "c": 0.0}
    assert people["degree"].to_dict() == {"a": 1, "b": 2, "c": 1}
    assert people["strength"].to_dict() == {"a": 1.0, "b": 2.0, "c": 1.0}
    assert people["articulation"].to_dict() == {"a": False, "b": True, "c": False}
    assert people["broker"].to_dict() == {"a": False, "b": True, "c": False}
    assert people["cross_cell"].tolist() == [0, 0, 0]
    assert s.brokers["person"].tolist() == ["b"]
    assert s.brokers["rank"].tolist() == [1]
    assert s.components.to_dict("records") == [{"component": 1, "persons": 3, "cells": 1, "ties": 2}]


def test_two_cells_joined_by_one_tie():
    members = members_frame(
        [("a1", "A", "leader"), ("a2", "A", "member"), ("b1", "B", "leader"), ("b2", "B", "member")]
    )
    ties = ties_frame([("a1", "a2", 1.0), ("b1", "b2", 1.0), ("a2", "b1", 4.0)])
    graph = co_offending_graph(members, ties, NO_LINKS)
    assert cell_ties(graph, members).to_dict("records") == [
        {"cell_a": "A", "cell_b": "B", "ties": 1, "weight": 4.0}
    ]
    s = structure(graph, members, seed=3)
    people = s.people.set_index("person")
    assert people["cross_cell"].to_dict() == {"a1": 0, "a2": 1, "b1": 1, "b2": 0}
    assert people["broker"].to_dict() == {"a1": False, "a2": True, "b1": True, "b2": False}
    # the path a1-a2-b1-b2: a2 and b1 each lie on 2 of the 3 pairs of shortest paths -> 2/3
    assert people.loc["a2", "betweenness"] == pytest.approx(2 / 3)
    assert people.loc["b1", "betweenness"] == pytest.approx(2 / 3)
    # equal betweenness: ties broken by id
    assert s.brokers["person"].tolist() == ["a2", "b1"]
    assert s.components["cells"].tolist() == [2]


def test_cell_ties_sum_several_edges_and_skip_inner_ones():
    members = members_frame(
        [("a", "A", "member"), ("b", "B", "member"), ("c", "B", "member"), ("d", "C", "member")]
    )
    ties = ties_frame([("a", "b", 1.0), ("a", "c", 2.0), ("b", "c", 9.0), ("c", "d", 3.0)])
    out = cell_ties(co_offending_graph(members, ties, NO_LINKS), members)
    # A-B: two edges, weight 3 ; B-C: one edge, weight 3 -> the tie on weight goes to more edges
    assert out.to_dict("records") == [
        {"cell_a": "A", "cell_b": "B", "ties": 2, "weight": 3.0},
        {"cell_a": "B", "cell_b": "C", "ties": 1, "weight": 3.0},
    ]


def test_components_sorted_by_size_then_id():
    members = members_frame([(p, "x", "member") for p in ["a", "b", "c", "d", "e", "f", "g"]])
    # {e, f, g} (3), {c, d} (2), {a} (1), {b} (1)
    ties = ties_frame([("e", "f", 1.0), ("f", "g", 1.0), ("c", "d", 1.0)])
    s = structure(co_offending_graph(members, ties, NO_LINKS), members, seed=0)
    assert s.components["persons"].tolist() == [3, 2, 1, 1]
    assert s.components["component"].tolist() == [1, 2, 3, 4]
    component = s.people.set_index("person")["component"].to_dict()
    assert component == {"a": 3, "b": 4, "c": 2, "d": 2, "e": 1, "f": 1, "g": 1}


def test_sampled_betweenness_beyond_samples_is_seeded():
    graph = nx.path_graph([f"p{i:02d}" for i in range(30)])
    members = members_frame([(p, "x", "member") for p in graph.nodes])
    one = structure(graph, members, seed=5, samples=10)
    assert one.betweenness_method == "approximate"
    again = structure(graph, members, seed=5, samples=10)
    pd.testing.assert_frame_equal(one.people, again.people)
    exact = structure(graph, members, seed=5, samples=30)
    assert exact.betweenness_method == "exact"
    assert exact.people["betweenness"].iloc[15] == pytest.approx(
        nx.betweenness_centrality(graph)[list(graph.nodes)[15]]
    )
    with pytest.raises(VdtoError):
        structure(graph, members, seed=5, samples=0)


# -- succession ------------------------------------------------------------------------------------


def test_star_cell_fragments_when_leader_removed():
    leaves = ["l1", "l2", "l3", "l4"]
    members = members_frame([("boss", "S", "leader")] + [(p, "S", "member") for p in leaves])
    graph = co_offending_graph(members, ties_frame([("boss", p, 1.0) for p in leaves]), NO_LINKS)
    out = succession(graph, members, top=10)
    assert out["fragments"].unique().tolist() == [4]  # n - 1 pieces
    assert out["risk"].unique().tolist() == ["contested"]
    assert out["candidate"].tolist() == leaves  # all equal: by id
    assert out["rank"].tolist() == [1, 2, 3, 4]
    assert out["strength_in_cell"].tolist() == [0.0] * 4


def test_lieutenant_first_even_with_fewer_ties():
    members = members_frame(
        [("boss", "C", "leader"), ("lt", "C", "lieutenant"), ("m1", "C", "member"), ("m2", "C", "member")]
    )
    ties = ties_frame(
        [("boss", "lt", 1.0), ("boss", "m1", 1.0), ("lt", "m1", 1.0), ("m1", "m2", 5.0), ("boss", "m2", 1.0)]
    )
    out = succession(co_offending_graph(members, ties, NO_LINKS), members)
    assert out["candidate"].tolist() == ["lt", "m1", "m2"]
    assert out["role"].tolist() == ["lieutenant", "member", "member"]
    # without the boss: lt-m1 (1), m1-m2 (5)
    assert out["strength_in_cell"].tolist() == [1.0, 6.0, 5.0]
    assert out["fragments"].iloc[0] == 1
    assert out["risk"].iloc[0] == "clear successor"


def test_scores_break_strength_ties_and_close_rivals_are_contested():
    members = members_frame(
        [("boss", "C", "leader"), ("m1", "C", "member"), ("m2", "C", "member"), ("m3", "C", "member")]
    )
    # without the boss, m1-m2-m3 stays whole; m2 is the strongest
    ties = ties_frame([("boss", "m1", 1.0), ("m1", "m2", 1.0), ("m2", "m3", 1.0)])
    graph = co_offending_graph(members, ties, NO_LINKS)
    plain = succession(graph, members)
    assert plain["candidate"].tolist() == ["m2", "m1", "m3"]
    assert plain["risk"].iloc[0] == "clear successor"  # 2 vs 1: not within 10%
    assert plain["score"].isna().all()
    scores = pd.DataFrame({"person": ["m1", "m3"], "score": [1.0, 7.0]})
    scored = succession(graph, members, scores)
    assert scored["candidate"].tolist() == ["m2", "m3", "m1"]  # m1, m3 tie on strength 1: score
    assert scored["score"].tolist()[1:] == [7.0, 1.0]
    assert math.isnan(scored["score"].iloc[0])
    # the top two within the margin: contested
    assert succession(graph, members, margin=0.5)["risk"].iloc[0] == "contested"
    assert succession(graph, members, top=1)["candidate"].tolist() == ["m2"]


def test_only_current_members_and_lone_leaders():
    members = members_frame(
        [
            ("boss", "C", "leader"),
            ("gone", "C", "lieutenant", START, pd.Timestamp("2021-01-01")),
            ("m", "C", "member"),
            ("old", "D", "leader", START, pd.Timestamp("2021-01-01")),
            ("solo", "E", "leader"),
        ]
    )
    graph = co_offending_graph(members, ties_frame([("boss", "gone", 1.0), ("boss", "m", 1.0)]), NO_LINKS)
    out = succession(graph, members)
    assert out["leader"].tolist() == ["boss", "solo"]  # "old" is no longer a leader
    assert out["candidate"].tolist()[0] == "m"  # "gone" left the cell
    solo = out[out["leader"] == "solo"].iloc[0]
    assert pd.isna(solo["candidate"]) and pd.isna(solo["rank"]) and pd.isna(solo["role"])
    assert solo["risk"] == "no successor" and solo["fragments"] == 0


# -- determinism -----------------------------------------------------------------------------------


def _world() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(11)
    persons = [f"p_{i:024x}" for i in range(40)]
    roles = ["leader", "lieutenant", "member", "member", "associate"]
    members = members_frame([(p, f"c{i % 4}", roles[(i // 4) % 5]) for i, p in enumerate(persons)])
    pairs = {tuple(sorted(rng.choice(40, 2, replace=False))) for _ in range(60)}
    ties = ties_frame([(persons[a], persons[b], float(rng.integers(1, 4)) / 3) for a, b in sorted(pairs)])
    links = links_frame(
        [(persons[int(rng.integers(40))], "ucdp", str(int(rng.integers(25)))) for _ in range(90)]
    )
    scores = pd.DataFrame({"person": persons, "score": rng.integers(0, 5, 40).astype(float)})
    return members, ties, links, scores


def _outputs(members, ties, links, scores, seed=1, samples=500):
    graph = co_offending_graph(members, ties, links)
    s = structure(graph, members, seed=seed, samples=samples)
    edges = sorted((u, v, d["weight"], d["kinds"]) for u, v, d in graph.edges(data=True))
    return (
        list(graph.nodes),
        edges,
        s.components,
        s.people,
        s.brokers,
        cell_ties(graph, members),
        succession(graph, members, scores),
    )


def _assert_same(one, two):
    assert one[0] == two[0] and one[1] == two[1]
    for a, b in zip(one[2:], two[2:], strict=True):
        pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_repeated_calls_are_identical():
    world = _world()
    _assert_same(_outputs(*world), _outputs(*world))
    _assert_same(_outputs(*world, samples=10), _outputs(*world, samples=10))


@settings(max_examples=25, deadline=None)
@given(st.randoms(use_true_random=False))
def test_shuffled_rows_give_the_same_frames(rnd):
    members, ties, links, scores = _world()
    base = _outputs(members, ties, links, scores)
    sampled = _outputs(members, ties, links, scores, seed=2, samples=15)

    def shuffle(frame: pd.DataFrame) -> pd.DataFrame:
        order = list(range(len(frame)))
        rnd.shuffle(order)
        return frame.iloc[order].reset_index(drop=True)

    shuffled = [shuffle(f) for f in (members, ties, links, scores)]
    _assert_same(base, _outputs(*shuffled))
    _assert_same(sampled, _outputs(*shuffled, seed=2, samples=15))


def test_graph_insertion_order_does_not_matter():
    members, ties, links, _ = _world()
    graph = co_offending_graph(members, ties, links)
    reversed_graph = nx.Graph()
    reversed_graph.add_nodes_from(reversed([(n, graph.nodes[n]) for n in graph.nodes]))
    reversed_graph.add_edges_from(reversed([(v, u, d) for u, v, d in graph.edges(data=True)]))
    for samples in (500, 12):
        a = structure(graph, members, seed=4, samples=samples)
        b = structure(reversed_graph, members, seed=4, samples=samples)
        pd.testing.assert_frame_equal(a.people, b.people, check_exact=True)
        pd.testing.assert_frame_equal(a.brokers, b.brokers, check_exact=True)
    pd.testing.assert_frame_equal(cell_ties(graph, members), cell_ties(reversed_graph, members))
    pd.testing.assert_frame_equal(succession(graph, members), succession(reversed_graph, members))
