"""Supply shares, the enforcement package, substitution, succession risk and the generator."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest

from vdto.errors import UnknownNameError, VdtoError
from vdto.network import package as P
from vdto.network import selection, substitution, supply
from vdto.network.graph import EdgeType, NodeType, SupplyNetwork
from vdto.network.synthetic import generate
from vdto.orgs import Registry


def make(nodes: list[tuple], edges: list[tuple], kind: str = "supplies") -> SupplyNetwork:
    """Nodes as (id, type, org_id, region, price, cost); edges as (source, target, volume)."""
    n = pd.DataFrame(nodes, columns=["id", "type", "org_id", "region", "price", "cost"])
    e = pd.DataFrame(edges, columns=["source", "target", "volume"])
    e["type"] = kind
    return SupplyNetwork.from_frames(n, e)


ORG, CELL, W, D, CITY = "organization", "cell", "wholesaler", "distributor", "city"


# --------------------------------------------------------------------------------------------
# supply shares


@pytest.fixture
def chain() -> SupplyNetwork:
    """cjng -> its cell -> wholesaler -> distributor; Sinaloa also supplies both buyers."""
    return make(
        [
            ("org:A", ORG, "cjng", "JAL", None, None),
            ("cell:A1", CELL, "cjng", "BC", None, None),
            ("org:B", ORG, "sinaloa", "SIN", None, None),
            ("W", W, None, "Chicago, IL", 20_000, 1_000),
            ("D", D, None, "Chicago, IL", 30_000, 300),
        ],
        [
            ("org:A", "cell:A1", 100),
            ("cell:A1", "W", 60),
            ("org:B", "W", 40),
            ("W", "D", 30),
            ("org:B", "D", 10),
        ],
    )


def test_shares_through_an_intermediary(chain: SupplyNetwork) -> None:
    s = supply.supply_shares(chain, "cjng").set_index("id")
    assert set(s.index) == {"W", "D"}  # the target's own nodes are not listed; Sinaloa is upstream only
    # W: 60 of its 100 from the target's cell; D: 30/40 from W (60% cjng) + 10/40 from Sinaloa
    assert s.loc["W", "share"] == pytest.approx(0.60)
    assert s.loc["D", "share"] == pytest.approx(0.75 * 0.60)
    assert s.loc["W", "volume"] == pytest.approx(60.0)
    assert s.loc["D", "volume"] == pytest.approx(0.45 * 40)
    assert s.loc["W", "revenue"] == pytest.approx(60 * 20_000)
    assert s.loc["D", "revenue"] == pytest.approx(18 * 30_000)
    assert s.loc["D", "path"] == ["org:A", "cell:A1", "W", "D"]
    assert s.loc["D", "depth"] == 3
    # from Sinaloa's side the same distributor is 10/40 direct + 30/40 x 40%
    b = supply.supply_shares(chain, "sinaloa").set_index("id")
    assert b.loc["D", "share"] == pytest.approx(0.25 + 0.75 * 0.40)
    assert b.loc["D", "path"] == ["org:B", "W", "D"]  # W carries 12 of Sinaloa's units, direct 10


def test_share_column_overrides_volumes(chain: SupplyNetwork) -> None:
    edges = chain.edges.copy()
    edges.loc[(edges["source"] == "cell:A1") & (edges["target"] == "W"), "share"] = 0.9
    net = SupplyNetwork.from_frames(chain.nodes, edges)
    s = supply.supply_shares(net, "cjng").set_index("id")
    assert s.loc["W", "share"] == pytest.approx(0.9)  # org:B gets the remaining 10%
    assert s.loc["D", "share"] == pytest.approx(0.75 * 0.9)


def test_unknown_target(chain: SupplyNetwork) -> None:
    with pytest.raises(UnknownNameError, match="gulf"):
        supply.supply_shares(chain, "gulf")


def test_target_without_buyers() -> None:
    net = make(
        [
            ("org:T", ORG, "sinaloa", "SIN", None, None),
            ("org:O", ORG, "gulf", "X", None, None),
            ("w", W, None, "X", 5, 1),
        ],
        [("org:O", "w", 3)],
    )
    assert supply.supply_shares(net, "sinaloa").empty
    pk = P.enforcement_package(net, "sinaloa", 5)
    assert pk.buyers.empty and pk.selected.empty and pk.objective == 0 and pk.total_revenue == 0
    assert substitution.substitution(net, pk).empty
    # the organization node's id works as well as its org_id
    assert P.enforcement_package(net, "org:O", 5).selected["id"].tolist() == ["w"]


def test_supply_cycle_names_an_edge() -> None:
    net = make(
        [
            ("org:T", ORG, "sinaloa", "SIN", None, None),
            ("w1", W, None, "X", 1.0, 1.0),
            ("w2", W, None, "X", 1.0, 1.0),
            ("w3", W, None, "X", 1.0, 1.0),
            ("d", D, None, "X", 1.0, 1.0),
        ],
        [("org:T", "w1", 5), ("w1", "w2", 3), ("w2", "w3", 2), ("w3", "w1", 1), ("w3", "d", 1)],
    )
    with pytest.raises(VdtoError, match="cycle") as info:
        supply.supply_shares(net, "sinaloa")
    msg = str(info.value)
    assert re.search(r"(w1 -> w2|w2 -> w3|w3 -> w1)", msg), msg
    assert "\n" not in msg
    with pytest.raises(VdtoError, match="cycle"):
        P.enforcement_package(net, "sinaloa", 1)


def test_supply_rules_are_enforced() -> None:
    net = make(
        [
            ("org:T", ORG, "sinaloa", "SIN", None, None),
            ("d", D, None, "X", 1.0, 1.0),
            ("w", W, None, "X", 1, 1),
        ],
        [("org:T", "d", 5), ("d", "w", 1)],
    )
    with pytest.raises(VdtoError, match="distributor cannot supply a wholesaler"):
        supply.supply_shares(net, "sinaloa")


# --------------------------------------------------------------------------------------------
# the package


def test_revenue_at_stake_and_single_case(chain: SupplyNetwork) -> None:
    pk = P.enforcement_package(chain, "cjng", 1)
    b = pk.buyers.set_index("id")
    # the target's 60 units into W are sold at W's price; 18 of them go on to D
    assert pk.total_revenue == pytest.approx(60 * 20_000)
    assert b.loc["W", "revenue_at_stake"] == pytest.approx(60 * 20_000)
    assert b.loc["D", "revenue_at_stake"] == pytest.approx(18 * 20_000)
    assert b.loc["D", "path"] == ["org:A", "cell:A1", "W", "D"]
    assert pk.selected["id"].tolist() == ["W"]
    assert pk.objective == pytest.approx(1_200_000)
    assert pk.method == "milp" and pk.status.startswith("optimal")
    assert pk.target_name == "org:A"  # the node's name (from_frames fills it with the id)


def test_no_double_counting_wholesaler_and_distributor() -> None:
    # W keeps 60 of the target's 100 units and sells 40 to D; D also buys 20 straight from the target
    net = make(
        [
            ("org:T", ORG, "sinaloa", "SIN", None, None),
            ("W", W, None, "X", 1_000, 1),
            ("D", D, None, "X", 2_000, 1),
        ],
        [("org:T", "W", 100), ("W", "D", 40), ("org:T", "D", 20)],
    )
    pk = P.enforcement_package(net, "sinaloa", 2)
    b = pk.buyers.set_index("id")
    assert b.loc["W", "revenue_at_stake"] == pytest.approx(100 * 1_000)
    assert b.loc["D", "revenue_at_stake"] == pytest.approx(40 * 1_000 + 20 * 2_000)
    assert sorted(pk.selected["id"]) == ["D", "W"]
    # both pressured: everything is denied once, not W's 100,000 plus D's 80,000
    assert pk.objective == pytest.approx(140_000)
    assert pk.objective == pytest.approx(pk.total_revenue)
    assert pk.selected["denied"].sum() == pytest.approx(140_000)
    assert pk.selected["cumulative"].iloc[-1] == pytest.approx(140_000)


@pytest.fixture
def star() -> SupplyNetwork:
    """Greedy takes W1 (10,000 alone) and then one distributor (4,000 more) = 14,000;
    pressuring both distributors denies 9,000 + 9,000 = 18,000."""
    return make(
        [
            ("org:T", ORG, "sinaloa", "SIN", None, None),
            ("W1", W, None, "X", 1_000, 100),
            ("D1", D, None, "X", 1_000, 60),
            ("D2", D, None, "X", 1_000, 60),
        ],
        [("org:T", "W1", 10), ("W1", "D1", 5), ("W1", "D2", 5), ("org:T", "D1", 4), ("org:T", "D2", 4)],
    )


def test_milp_beats_greedy_where_greedy_is_suboptimal(star: SupplyNetwork) -> None:
    exact = P.enforcement_package(star, "sinaloa", 2)
    assert exact.method == "milp"
    assert exact.objective == pytest.approx(18_000)
    assert sorted(exact.selected["id"]) == ["D1", "D2"]
    assert exact.gap == pytest.approx(0.0, abs=1e-9)
    assert exact.lp_bound is not None and exact.lp_bound >= exact.objective - 1e-6
    assert exact.greedy_objective == pytest.approx(14_000)

    greedy = P.enforcement_package(star, "sinaloa", 2, solver="greedy")
    assert greedy.method == "greedy"
    assert "greedy" in greedy.status and "1 - 1/e" in greedy.guarantee
    assert greedy.objective == pytest.approx(14_000)
    assert greedy.selected["id"].iloc[0] == "W1"
    assert greedy.objective >= (1 - 1 / math.e) * exact.objective
    assert greedy.bound >= exact.objective - 1e-6  # the bound it reports holds


def test_hours_budget(star: SupplyNetwork) -> None:
    # 120 hours: both distributors (60 + 60) beat the wholesaler (100)
    pk = P.enforcement_package(star, "sinaloa", 120, budget_kind="hours")
    assert sorted(pk.selected["id"]) == ["D1", "D2"]
    assert pk.selected["budget_cost"].sum() <= 120
    # 100 hours: one distributor (9,000) or the wholesaler (10,000)
    pk = P.enforcement_package(star, "sinaloa", 100, budget_kind="hours")
    assert pk.selected["id"].tolist() == ["W1"] and pk.objective == pytest.approx(10_000)
    # greedy by revenue per hour takes D1 (150/h) and then nothing fits: the best single case wins
    g = P.enforcement_package(star, "sinaloa", 100, budget_kind="hours", solver="greedy")
    assert g.method == "greedy" and g.objective == pytest.approx(10_000)
    assert "single" in g.status
    # 59 hours: nothing fits
    pk = P.enforcement_package(star, "sinaloa", 59, budget_kind="hours")
    assert pk.selected.empty and pk.objective == 0


def test_hours_need_costs(star: SupplyNetwork) -> None:
    nodes = star.nodes.copy()
    nodes.loc[nodes["id"] == "D2", "cost"] = np.nan
    net = SupplyNetwork.from_frames(nodes, star.edges)
    with pytest.raises(VdtoError, match=r"D2.*agent-hours"):
        P.enforcement_package(net, "sinaloa", 100, budget_kind="hours")
    # a budget in cases does not need them
    assert P.enforcement_package(net, "sinaloa", 1).objective == pytest.approx(10_000)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"budget": 0}, "budget"),
        ({"budget": 2, "budget_kind": "dollars"}, "budget kind"),
        ({"budget": 2, "solver": "cplex"}, "solver"),
    ],
)
def test_bad_arguments(star: SupplyNetwork, kwargs: dict, match: str) -> None:
    with pytest.raises(VdtoError, match=match):
        P.enforcement_package(star, "sinaloa", **kwargs)


def test_milp_too_large_falls_back_to_greedy(star: SupplyNetwork) -> None:
    pk = P.enforcement_package(star, "sinaloa", 2, max_milp_columns=1)
    assert pk.method == "greedy" and "not attempted" in pk.status
    assert any("fell back to greedy" in n for n in pk.notes)
    assert pk.objective == pytest.approx(14_000)


def test_milp_matches_brute_force_on_random_networks() -> None:
    """Pruning must never cut the optimum: compare with every subset on small random networks."""
    from itertools import combinations

    rng = np.random.default_rng(11)
    statuses = set()
    for trial in range(12):
        n_w, n_d = 4, 8
        nodes = [("org:T", ORG, "sinaloa", "SIN", None, None), ("org:O", ORG, "gulf", "TAMPS", None, None)]
        nodes += [
            (f"w{i}", W, None, "X", float(rng.integers(5, 20)), float(rng.integers(1, 9))) for i in range(n_w)
        ]
        nodes += [
            (f"d{i}", D, None, "X", float(rng.integers(10, 40)), float(rng.integers(1, 5)))
            for i in range(n_d)
        ]
        edges = []
        for i in range(n_w):
            edges.append(("org:T", f"w{i}", float(rng.integers(5, 50))))
            if rng.random() < 0.5:
                edges.append(("org:O", f"w{i}", float(rng.integers(5, 50))))
        for j in range(n_d):
            for i in rng.choice(n_w, size=int(rng.integers(1, 3)), replace=False):
                edges.append((f"w{i}", f"d{j}", float(rng.integers(1, 10))))
            if rng.random() < 0.3:
                edges.append(("org:T", f"d{j}", float(rng.integers(1, 5))))
        net = make(nodes, edges)
        kind = "cases" if trial % 2 == 0 else "hours"
        budget = 3 if kind == "cases" else 8
        pk = P.enforcement_package(net, "sinaloa", budget, budget_kind=kind)
        ids = pk.buyers["id"].tolist()
        cost = dict(zip(pk.buyers["id"], pk.buyers["budget_cost"], strict=True))
        sh = supply._propagate(net, "sinaloa")
        un = P._units(sh, net, P.MAX_UNITS)
        local = {sh.g.ids[c]: i for i, c in enumerate(un.cand)}
        best = 0.0
        for k in range(len(ids) + 1):
            for combo in combinations(ids, k):
                if sum(cost[c] for c in combo) <= budget:
                    best = max(
                        best, selection._denied(un.member, un.value, np.array([local[c] for c in combo]))
                    )
        assert pk.method == "milp"
        assert pk.objective == pytest.approx(best, rel=1e-9), (trial, kind)
        assert pk.greedy_objective <= pk.objective + 1e-9
        statuses.add(pk.status)
    # both exact paths ran: branch and bound, and an LP relaxation that was already integral
    assert statuses == {"optimal", "optimal (the LP relaxation has an integral optimum)"}


# --------------------------------------------------------------------------------------------
# substitution


@pytest.fixture
def market() -> SupplyNetwork:
    """Sinaloa (the target) and cjng supply W in Chicago; gulf and cdn supply other Chicago
    wholesalers; Zetas supply only Houston."""
    return make(
        [
            ("org:T", ORG, "sinaloa", "SIN", 10_000, None),
            ("org:A", ORG, "cjng", "JAL", 10_500, None),
            ("org:B", ORG, "gulf", "TAMPS", 10_800, None),
            ("org:C", ORG, "cdn", "TAMPS", 12_000, None),
            ("org:Z", ORG, "zetas", "TAMPS", 9_000, None),
            ("W", W, None, "Chicago, IL", 25_000, 1_000),
            ("W2", W, None, "Chicago, IL", 25_000, 1_000),
            ("W3", W, None, "Chicago, IL", 25_000, 1_000),
            ("W4", W, None, "Houston, TX", 20_000, 1_000),
        ],
        [
            ("org:T", "W", 80),
            ("org:A", "W", 20),
            ("org:B", "W2", 50),
            ("org:C", "W3", 50),
            ("org:T", "W4", 10),
            ("org:Z", "W4", 40),
        ],
    )


SCORES = pd.DataFrame(
    {"org": ["sinaloa", "cjng", "gulf", "cdn", "zetas"], "score": [100.0, 80.0, 20.0, 5.0, 1.0]}
)


def test_substitution_least_violent_at_similar_price(market: SupplyNetwork) -> None:
    pk = P.enforcement_package(market, "sinaloa", 1)
    assert pk.selected["id"].tolist() == ["W"]
    sub = substitution.substitution(market, pk, SCORES).set_index("buyer")
    row = sub.loc["W"]
    assert row["current_suppliers"] == ["cjng"]
    assert row["alternatives"] == ["cdn", "cjng", "gulf"]  # Zetas are not in Chicago
    # cdn is the least violent but 20% dearer; gulf (8% dearer) is the least violent within 10%
    assert row["switch_to"] == "gulf"
    assert row["switch_price"] == pytest.approx(10_800) and row["target_price"] == pytest.approx(10_000)
    assert row["price_ratio"] == pytest.approx(1.08)
    assert "least violent" in row["reason"]


def test_substitution_cheapest_when_none_is_close(market: SupplyNetwork) -> None:
    pk = P.enforcement_package(market, "sinaloa", 1)
    sub = substitution.substitution(market, pk, SCORES, tolerance=0.01).set_index("buyer")
    assert sub.loc["W", "switch_to"] == "cjng"  # 10,500: the cheapest of cjng, gulf, cdn
    assert "cheapest" in sub.loc["W", "reason"]


def test_substitution_without_scores_prefers_current_supplier(market: SupplyNetwork) -> None:
    pk = P.enforcement_package(market, "sinaloa", 1)
    sub = substitution.substitution(market, pk, None).set_index("buyer")
    assert sub.loc["W", "switch_to"] == "cjng"
    assert math.isnan(sub.loc["W", "switch_score"])
    with pytest.raises(VdtoError, match="org and score"):
        substitution.substitution(market, pk, pd.DataFrame({"name": ["x"]}))


def test_substitution_derives_prices_from_buyers() -> None:
    # no organization prices: each organization's price is what its wholesalers pay
    net = make(
        [
            ("org:T", ORG, "sinaloa", "SIN", None, None),
            ("org:A", ORG, "cjng", "JAL", None, None),
            ("org:B", ORG, "gulf", "TAMPS", None, None),
            ("W", W, None, "R", 20_000, 1),
            ("W2", W, None, "R", 21_000, 1),
            ("W3", W, None, "R", 30_000, 1),
        ],
        [("org:T", "W", 10), ("org:A", "W2", 10), ("org:B", "W3", 10)],
    )
    pk = P.enforcement_package(net, "sinaloa", 1)
    scores = pd.DataFrame({"org": ["cjng", "gulf"], "score": [50.0, 10.0]})
    row = substitution.substitution(net, pk, scores).iloc[0]
    assert row["target_price"] == pytest.approx(20_000)
    assert row["switch_to"] == "cjng"  # gulf is less violent but 50% dearer
    assert row["switch_price"] == pytest.approx(21_000)


# --------------------------------------------------------------------------------------------
# succession risk


def test_succession_risk_ordering() -> None:
    nodes = pd.DataFrame(
        [
            ("n_cjng", ORG, "cjng", "JAL;MICH;COL"),
            ("n_sin", ORG, "sinaloa", "SIN;SON"),
            ("n_lnfm", ORG, "lnfm", "MICH;GRO"),
            ("n_cu", ORG, "carteles_unidos", "MICH"),
            ("n_gulf", ORG, "gulf", "TAMPS"),
            ("n_zetas", ORG, "zetas", "COAH"),
        ],
        columns=["id", "type", "org_id", "region"],
    )
    ties = [
        ("n_cjng", "n_lnfm", EdgeType.RIVALRY, 13),
        ("n_lnfm", "n_cjng", EdgeType.RIVALRY, 13),  # the same tie listed both ways counts once
        ("n_sin", "n_cjng", EdgeType.RIVALRY, 7),
        ("n_cjng", "n_cu", EdgeType.RIVALRY, 7),  # same weight as Sinaloa, shares Michoacán
        ("n_cjng", "n_gulf", EdgeType.ALLIANCE, 2),
        ("n_zetas", "n_cjng", EdgeType.ALLIANCE, 2),  # same as Gulf, more violent
        ("n_sin", "n_gulf", EdgeType.RIVALRY, 9),  # not the target's
    ]
    edges = pd.DataFrame(
        [(a, b, t.value, w) for a, b, t, w in ties], columns=["source", "target", "type", "weight"]
    )
    net = SupplyNetwork.from_frames(nodes, edges)
    scores = pd.DataFrame({"org": ["cjng", "gulf", "zetas", "lnfm"], "score": [90.0, 10.0, 95.0, 30.0]})
    out = substitution.succession_risk(net, "cjng", scores)
    assert out["org_id"].tolist() == ["lnfm", "carteles_unidos", "sinaloa", "zetas", "gulf"]
    top = out.iloc[0]
    assert top["weight"] == 13 and top["relation"] == "rivalry" and top["regions"] == ["MICH"]
    by = out.set_index("org_id")
    assert bool(by.loc["zetas", "more_violent"]) and not bool(by.loc["gulf", "more_violent"])
    assert pd.isna(by.loc["sinaloa", "more_violent"])  # no score
    assert by.loc["zetas", "score"] == 95.0
    assert out["rank"].tolist() == [1, 2, 3, 4, 5]
    assert set(out.loc[out["relation"] == "alliance", "org_id"]) == {"gulf", "zetas"}
    with pytest.raises(UnknownNameError):
        substitution.succession_risk(net, "tijuana")


# --------------------------------------------------------------------------------------------
# the generator

SMALL = {"organizations": 12, "wholesalers": 600, "distributors": 12_000, "cells_per_org": 2}


def test_generator_is_deterministic() -> None:
    a, b = generate(seed=5, **SMALL), generate(seed=5, **SMALL)
    pd.testing.assert_frame_equal(a.nodes, b.nodes)
    pd.testing.assert_frame_equal(a.edges, b.edges)
    assert a.meta == b.meta and a.meta["seed"] == 5
    assert a.meta["params"]["wholesalers"] == 600 and a.meta["synthetic"] is True
    c = generate(seed=6, **SMALL)
    assert not a.edges["volume"].equals(c.edges["volume"])
    assert not a.nodes["price"].equals(c.nodes["price"])


def test_generator_realism() -> None:
    net = generate(seed=1, organizations=20, wholesalers=2_000, distributors=40_000, cells_per_org=2)
    nodes, sup = net.nodes, net.supplies()
    counts = nodes["type"].value_counts()
    assert counts[NodeType.ORGANIZATION] == 20 and counts[NodeType.CELL] == 40
    assert counts[NodeType.WHOLESALER] == 2_000 and counts[NodeType.DISTRIBUTOR] == 40_000
    assert counts[NodeType.CITY] >= 10
    # organizations are real registry DTOs, the largest first
    reg = Registry.seed()
    orgs = nodes.loc[nodes["type"] == ORG, "org_id"].tolist()
    assert all(o in reg.orgs and reg.orgs[o].kind == "dto" for o in orgs)
    assert orgs[:2] == ["sinaloa", "cjng"]
    cities = set(nodes.loc[nodes["type"] == CITY, "region"])
    assert {"San Diego, CA", "Nogales, AZ", "El Paso, TX", "Laredo, TX", "Chicago, IL"} <= cities
    # every buyer has 1-3 suppliers of the level above
    kind = dict(zip(nodes["id"], nodes["type"], strict=True))
    src_type = sup["source"].map(kind)
    dst_type = sup["target"].map(kind)
    w_in = sup[dst_type == W].groupby("target").size()
    assert len(w_in) == 2_000 and w_in.between(1, 3).all()
    d_in = sup[(dst_type == D) & (src_type == W)].groupby("target").size()
    assert len(d_in) == 40_000 and d_in.between(1, 3).all()
    # distributors mostly buy in their own region
    region = dict(zip(nodes["id"], nodes["region"], strict=True))
    dw = sup[(dst_type == D) & (src_type == W)]
    assert (dw["source"].map(region) == dw["target"].map(region)).mean() > 0.8
    # heavy tail: the top 1% of wholesalers carry a large share of all wholesale volume
    w_vol = sup[dst_type == W].groupby("target")["volume"].sum().sort_values(ascending=False)
    top = w_vol.iloc[: len(w_vol) // 100].sum() / w_vol.sum()
    assert top > 0.12, top
    # retail-level prices exceed wholesale, costs are in agent-hours
    price = nodes.groupby("type")["price"].median()
    assert price[D] > 1.3 * price[W] > price[ORG]
    assert (nodes.loc[nodes["type"].isin([W, D]), "cost"] > 0).all()
    # well formed: acyclic, follows SUPPLY_RULES, every wholesaler's volume conserved or kept
    s = supply.supply_shares(net, "sinaloa")
    assert len(s) > 0 and s["share"].between(0, 1 + 1e-9).all()
    out_w = sup[src_type == W].groupby("source")["volume"].sum()
    assert (out_w <= w_vol.reindex(out_w.index) + 1e-6).all()


def test_generator_rejects_bad_parameters() -> None:
    with pytest.raises(VdtoError, match="wholesalers"):
        generate(wholesalers=0)
    with pytest.raises(VdtoError, match="via_cell"):
        generate(via_cell=0.9, via_city=0.2)


def test_package_on_a_synthetic_network() -> None:
    net = generate(seed=2, **SMALL)
    pk = P.enforcement_package(net, "sinaloa", 10)
    assert pk.method == "milp" and pk.status.startswith("optimal")
    assert len(pk.selected) <= 10 and pk.objective > 0
    assert pk.greedy_objective <= pk.objective + 1e-6
    assert pk.objective <= pk.bound + 1e-6 and pk.bound <= pk.total_revenue + 1e-6
    assert set(pk.buyers["type"]) <= {W, D}
    assert pk.selected["cumulative"].iloc[-1] == pytest.approx(pk.objective)
    sub = substitution.substitution(net, pk)
    assert len(sub) == len(pk.selected) and sub["switch_to"].notna().all()
    assert "sinaloa" not in set(sub["switch_to"])
