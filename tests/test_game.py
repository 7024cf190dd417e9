"""The dynamic concentration game: equilibria, tipping sanctions and the path from all-violate."""

from __future__ import annotations

import doctest
import itertools
import math
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import vdto.sim.game as game_module
from vdto.errors import VdtoError
from vdto.sim.game import equilibria, play, short_path, solve, summary, tipping_sanction

DOC = Path(__file__).parents[1] / "docs" / "game.md"


# ------------------------------------------------------------------------ an independent referee


def expected_sanction(k: int, sanction, profile: tuple[bool, ...], i: int, regime: str) -> Fraction:
    """Exact sanction actor ``i`` expects if it violates, the others playing ``profile``."""
    if regime == "priority":
        ahead = sum(profile[:i])
        return Fraction(sanction) if ahead < k else Fraction(0)
    v = sum(profile) - profile[i] + 1
    return Fraction(sanction) * min(Fraction(1), Fraction(k, v))


def brute_force(k: int, costs: list, sanction, regime: str) -> list[frozenset[int]]:
    """Every profile in which each actor plays its best response (comply iff expected > cost)."""
    found = []
    for profile in itertools.product([False, True], repeat=len(costs)):
        if all(
            profile[i] == (not expected_sanction(k, sanction, profile, i, regime) > Fraction(c))
            for i, c in enumerate(costs)
        ):
            found.append(frozenset(i for i, x in enumerate(profile) if x))
    return sorted(found, key=lambda s: (len(s), sorted(s)))


def is_nash(k: int, costs: list, sanction, regime: str, violators: frozenset[int]) -> bool:
    """No actor gains strictly by switching (payoffs: comply -C_i, violate -expected sanction)."""
    profile = tuple(i in violators for i in range(len(costs)))
    for i, c in enumerate(costs):
        risk = expected_sanction(k, sanction, profile, i, regime)
        violate, comply = -risk, -Fraction(c)
        if (comply > violate) if profile[i] else (violate > comply):
            return False
    return True


small_games = st.integers(1, 6).flatmap(
    lambda n: st.tuples(
        st.just(n),
        st.integers(1, n + 1),
        st.lists(st.integers(0, 8).map(lambda c: c / 2), min_size=n, max_size=n),
        st.integers(1, 12).map(lambda p: p / 2),
    )
)


# ------------------------------------------------------------------------ two actors, capacity 1


@pytest.mark.parametrize(
    ("cost", "sanction"), [(1.0, 1.5), (1.0, 1.01), (1.0, 1.99), (3.0, 4.0), (10.0, 15.0)]
)
def test_two_actors_uniform_is_bistable_priority_is_not(cost, sanction):
    assert cost < sanction < 2 * cost
    assert sanction / 2 < cost  # a violator among two expects P/2
    assert equilibria(2, 1, cost, sanction, "uniform") == [0, 2]  # bistable
    assert equilibria(2, 1, cost, sanction, "priority") == [0]

    uniform = play(2, 1, cost, sanction, "uniform", periods=6)
    assert uniform["violators"].tolist() == [2] * 7  # uniform enforcement sustains universal violation
    assert uniform["sanctions"].tolist() == [1] * 7
    priority = play(2, 1, cost, sanction, "priority", periods=6)
    assert priority["violators"].tolist() == [2, 1, 0, 0, 0, 0, 0]
    assert priority["sanctions"].tolist() == [1, 1, 0, 0, 0, 0, 0]
    assert tipping_sanction(2, 1, cost, "priority") == cost
    assert tipping_sanction(2, 1, cost, "uniform") == 2 * cost


def test_two_actors_outside_the_band():
    assert equilibria(2, 1, 1.0, 0.8, "uniform") == [2]  # P < C: nothing deters
    assert equilibria(2, 1, 1.0, 0.8, "priority") == [2]
    assert equilibria(2, 1, 1.0, 2.5, "uniform") == [0]  # P > 2C: even P/2 deters
    assert play(2, 1, 1.0, 2.5, "uniform", periods=2)["violators"].tolist() == [2, 0, 0]


def test_a_single_actor_with_one_violation_between_them():
    """v = 1 is never an equilibrium with two identical actors: the lone violator is sanctioned."""
    for sanction in (0.5, 1.5, 2.5):
        assert 1 not in equilibria(2, 1, 1.0, sanction, "uniform")


# ------------------------------------------------------------------------ n actors, capacity k


def test_ten_actors_capacity_three_priority():
    path = play(10, 3, 1.0, 1.5, "priority", periods=8)
    assert path["violators"].tolist() == [10, 7, 4, 1, 0, 0, 0, 0, 0]
    assert path["violators"].iloc[math.ceil(10 / 3)] == 0
    assert path["sanctions"].tolist() == [3, 3, 3, 1, 0, 0, 0, 0, 0]
    r = solve(10, 3, 1.0, 1.5, "priority")
    assert r.periods_to_tip == 4 and r.final_sanctions == 0 and r.sanctions_used == 10
    assert r.unique_compliance


@pytest.mark.parametrize("sanction", [0.5, 1.5, 2.0, 3.0, 10 / 3, 3.4, 4.0, 20.0])
def test_ten_actors_capacity_three_uniform(sanction):
    n, k, cost = 10, 3, 1.0
    all_violate = n in equilibria(n, k, cost, sanction, "uniform")
    assert all_violate == (sanction * k / n <= cost)  # strictly below, or indifferent
    if sanction * k / n != cost:
        assert all_violate == (sanction * k / n < cost)
    stays = play(n, k, cost, sanction, "uniform", periods=3)["violators"].tolist() == [n] * 4
    assert stays == all_violate


def test_uniform_identical_equilibria_are_corners_only():
    for n, k in [(10, 3), (7, 1), (5, 5), (4, 9)]:
        for sanction in np.linspace(0.1, 12, 60):
            found = equilibria(n, k, 1.0, float(sanction), "uniform")
            assert set(found) <= {0, n} and found


@given(n=st.integers(1, 40), k=st.integers(1, 45), cost=st.integers(0, 10), sanction=st.integers(1, 60))
def test_identical_actors_formulas(n, k, cost, sanction):
    uniform = equilibria(n, k, cost, sanction, "uniform")
    assert (0 in uniform) == (sanction > cost)
    assert (n in uniform) == (sanction * min(k, n) <= cost * n)  # P * min(1, k/n) <= C
    assert equilibria(n, k, cost, sanction, "priority") == ([0] if sanction > cost else [n])
    assert tipping_sanction(n, k, cost, "priority") == cost
    assert tipping_sanction(n, k, cost, "uniform") == pytest.approx(cost * max(1, n / k))
    if sanction > cost:
        r = solve(n, k, cost, sanction, "priority")
        assert r.periods_to_tip == math.ceil(n / k)
        assert r.sanctions_used == n  # each actor is sanctioned once on the way down
        assert r.path["violators"].tolist() == [max(0, n - k * t) for t in range(math.ceil(n / k) + 1)]


def test_concentration_lowers_the_sanction_needed():
    for n, k in [(2, 1), (10, 3), (100, 1), (100, 10), (5, 7)]:
        ratio = tipping_sanction(n, k, 1.0, "uniform") / tipping_sanction(n, k, 1.0, "priority")
        assert ratio == pytest.approx(max(1, n / k))
    assert tipping_sanction(100, 1, 2.0, "uniform") == 200.0
    assert tipping_sanction(100, 1, 2.0, "priority") == 2.0


# ------------------------------------------------------------------------ heterogeneous costs


def test_hard_core_violators_absorb_capacity():
    # Ranked last, the hard-core actor (cost 3 > P = 2) is the only violator and takes the one sanction.
    assert equilibria(4, 1, [1, 1, 1, 3], 2.0, "priority") == [frozenset({3})]
    # Ranked first, it takes the capacity and shields everyone below it.
    assert equilibria(4, 1, [3, 1, 1, 1], 2.0, "priority") == [frozenset({0, 1, 2, 3})]
    # With capacity 2 one sanction is left for the rest, and they comply.
    assert equilibria(4, 2, [3, 1, 1, 1], 2.0, "priority") == [frozenset({0})]
    r = solve(4, 1, [1, 1, 1, 3], 2.0, "priority")
    assert r.final_violators == 1 and r.final_sanctions == 1 and r.periods_to_tip is None
    assert not r.unique_compliance


def test_heterogeneous_uniform_and_thresholds():
    costs = [0.5, 1.0, 1.0, 1.0, 1.0, 1.5]
    # sorted 1.5, 1, 1, 1, 1, 0.5 times max(1, v/2) = 1.5, 1, 1.5, 2, 2.5, 1.5
    assert tipping_sanction(6, 2, costs, "uniform") == 2.5
    assert tipping_sanction(6, 2, costs, "priority") == 1.5
    assert equilibria(6, 2, costs, 2.0, "uniform") == [frozenset(), frozenset({1, 2, 3, 4, 5})]
    assert equilibria(6, 2, costs, 2.0, "priority") == [frozenset()]
    assert equilibria(6, 2, costs, 2.6, "uniform") == [frozenset()]
    assert solve(6, 2, costs, 2.0, "priority").periods_to_tip == 3


@settings(max_examples=300)
@given(small_games)
def test_priority_deterrable_actors_violate_only_when_capacity_is_absorbed(game):
    n, k, costs, sanction = game
    [violators] = equilibria(n, k, costs, sanction, "priority")
    for i in violators:
        if costs[i] < sanction:  # deterrable, yet violating: k violators rank above it
            assert sum(1 for j in violators if j < i) >= k
    # Ranked with the deterrable first (ascending cost), no deterrable actor violates.
    order = sorted(costs)
    [ranked] = equilibria(n, k, order, sanction, "priority")
    assert ranked == {i for i, c in enumerate(order) if c >= sanction}
    assert all(order[i] >= sanction for i in ranked)


# ------------------------------------------------------------------------ really Nash


@settings(max_examples=300)
@given(small_games, st.sampled_from(["uniform", "priority"]))
def test_equilibria_match_brute_force_over_all_profiles(game, regime):
    n, k, costs, sanction = game
    found = equilibria(n, k, costs, sanction, regime)
    assert found == brute_force(k, costs, sanction, regime)
    assert all(is_nash(k, costs, sanction, regime, s) for s in found)
    if regime == "priority":
        assert len(found) == 1


@settings(max_examples=200)
@given(
    n=st.integers(1, 7),
    k=st.integers(1, 8),
    cost=st.integers(0, 8).map(lambda c: c / 2),
    sanction=st.integers(1, 16).map(lambda p: p / 2),
    regime=st.sampled_from(["uniform", "priority"]),
)
def test_identical_actors_match_brute_force_by_counts(n, k, cost, sanction, regime):
    counts = equilibria(n, k, cost, sanction, regime)
    assert counts == sorted({len(s) for s in brute_force(k, [cost] * n, sanction, regime)})
    assert counts == sorted(len(s) for s in equilibria(n, k, [cost] * n, sanction, regime))


@settings(max_examples=200)
@given(small_games, st.sampled_from(["uniform", "priority"]))
def test_tipping_sanction_is_the_threshold(game, regime):
    n, k, costs, _ = game
    threshold = tipping_sanction(n, k, costs, regime)
    above = equilibria(n, k, costs, max(threshold * (1 + 1e-9), 1e-9), regime)
    assert above == [frozenset()]
    if threshold > 0:
        below = equilibria(n, k, costs, threshold * (1 - 1e-9), regime)
        assert below != [frozenset()]
        at = equilibria(n, k, costs, threshold, regime)
        assert at != [frozenset()]  # indifferent actors violate, so the threshold is excluded


# ------------------------------------------------------------------------ dynamics


@settings(max_examples=200)
@given(small_games, st.sampled_from(["uniform", "priority"]))
def test_from_all_violate_violators_only_fall_and_settle_on_an_equilibrium(game, regime):
    n, k, costs, sanction = game
    path = play(n, k, costs, sanction, regime, periods=n + 2)["violators"].tolist()
    assert all(b <= a for a, b in itertools.pairwise(path))
    assert path[-1] == path[-2]
    assert path[-1] in {len(s) for s in equilibria(n, k, costs, sanction, regime)}
    r = solve(n, k, costs, sanction, regime)
    assert r.final_violators == path[-1] and r.periods_to_settle <= n


def test_sequential_updating_tips_priority_in_one_period():
    path = play(10, 3, 1.0, 1.5, "priority", periods=3, update="sequential")
    assert path["violators"].tolist() == [10, 0, 0, 0]
    assert play(2, 1, 1.0, 1.5, "uniform", periods=3, update="sequential")["violators"].tolist() == [2] * 4


def test_from_all_comply():
    assert play(10, 3, 1.0, 1.5, "uniform", periods=3, start="all_comply")["violators"].tolist() == [0] * 4
    assert play(10, 3, 1.0, 0.5, "priority", periods=2, start="all_comply")["violators"].tolist() == [
        0,
        10,
        10,
    ]


def test_play_table_shape():
    path = play(5, 2, 1.0, 1.5, "priority", periods=0)
    assert list(path.columns) == ["period", "violators", "compliers", "sanctions"]
    assert path.to_dict("records") == [{"period": 0, "violators": 5, "compliers": 0, "sanctions": 2}]


# ------------------------------------------------------------------------ summary and docs


def test_summary_one_row_per_regime():
    table = summary(10, 3, 1.0, 1.5)
    assert table["regime"].tolist() == ["uniform", "priority"]
    uniform, priority = table.to_dict("records")
    assert uniform["equilibria"] == "0, 10" and not uniform["unique_compliance"]
    assert pd.isna(uniform["periods_to_tip"]) and uniform["final_sanctions"] == 3
    assert priority["equilibria"] == "0" and priority["unique_compliance"]
    assert priority["violators_path"] == "10 7 4 1 0" and priority["periods_to_tip"] == 4
    assert priority["sanctions_used"] == 10 and priority["final_sanctions"] == 0
    assert priority["tipping_sanction"] == 1.0 and uniform["tipping_sanction"] == pytest.approx(10 / 3)
    assert summary(3, 1, [1, 1, 5], 2.0)["equilibria"].tolist() == ["{0,1,2}", "{2}"]
    long = summary(30, 1, 1.0, 1.5)  # the data keep every period; a terminal shortens it
    assert long["violators_path"].iloc[1] == " ".join(str(v) for v in range(30, -1, -1))
    assert short_path(long["violators_path"].iloc[1]) == "30 29 28 27 26 25 24 23 22 21 ... 0"


def test_docs_table_is_the_summary_output():
    text = DOC.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 80
    for args in [(2, 1, 1.0, 1.5), (10, 3, 1.0, 1.5)]:
        with pd.option_context("display.width", 250, "display.max_columns", 20):
            assert summary(*args).to_string(index=False) in text


def test_doc_examples_run():
    result = doctest.testmod(game_module)
    assert result.attempted >= 15 and result.failed == 0


# ------------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    ("call", "param"),
    [
        (lambda: equilibria(0, 1, 1.0, 1.5, "uniform"), "n"),
        (lambda: equilibria(2.5, 1, 1.0, 1.5, "uniform"), "n"),
        (lambda: equilibria(True, 1, 1.0, 1.5, "uniform"), "n"),
        (lambda: equilibria(2, 0, 1.0, 1.5, "uniform"), "k"),
        (lambda: play(2, -1, 1.0, 1.5, "priority"), "k"),
        (lambda: equilibria(2, 1, -1.0, 1.5, "uniform"), "cost"),
        (lambda: equilibria(3, 1, [1.0, -0.1, 2.0], 1.5, "priority"), "cost"),
        (lambda: equilibria(3, 1, [1.0, 2.0], 1.5, "priority"), "cost"),
        (lambda: equilibria(2, 1, float("nan"), 1.5, "uniform"), "cost"),
        (lambda: equilibria(2, 1, "1,2", 1.5, "uniform"), "cost"),
        (lambda: tipping_sanction(2, 1, [[1.0, 2.0]], "uniform"), "cost"),
        (lambda: equilibria(2, 1, 1.0, 0, "uniform"), "sanction"),
        (lambda: equilibria(2, 1, 1.0, -2.0, "priority"), "sanction"),
        (lambda: equilibria(2, 1, 1.0, float("inf"), "priority"), "sanction"),
        (lambda: summary(2, 1, 1.0, 0.0), "sanction"),
        (lambda: equilibria(2, 1, 1.0, 1.5, "random"), "regime"),
        (lambda: tipping_sanction(2, 1, 1.0, "random"), "regime"),
        (lambda: play(2, 1, 1.0, 1.5, "uniform", periods=-1), "periods"),
        (lambda: play(2, 1, 1.0, 1.5, "uniform", start="half"), "start"),
        (lambda: play(2, 1, 1.0, 1.5, "uniform", update="random"), "update"),
    ],
)
def test_bad_input(call, param):
    with pytest.raises(VdtoError) as caught:
        call()
    assert caught.value.param == param and not caught.value.where
    assert caught.value.fix and "\n" not in str(caught.value)
