"""Where the business goes: the likely new supplier of each pressured buyer
(:func:`substitution`), and the target's rivals and allies that stand to take over its
territory (:func:`succession_risk`).

Both read a :class:`~vdto.network.graph.SupplyNetwork`; :func:`substitution` starts from an
enforcement :class:`~vdto.network.package.Package` and can rank organizations by a violence
score. docs/network.md describes the rules.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from vdto.errors import UnknownNameError, VdtoError
from vdto.network.graph import EdgeType, NodeType, SupplyNetwork
from vdto.network.supply import _ORG_TYPES, _Supply, _supply

if TYPE_CHECKING:
    from vdto.network.package import Package

#: Columns of the :func:`substitution` table.
_SUBSTITUTION_COLUMNS = [
    "buyer",
    "type",
    "region",
    "revenue_at_stake",
    "current_suppliers",
    "alternatives",
    "switch_to",
    "switch_name",
    "switch_score",
    "switch_price",
    "target_score",
    "target_price",
    "price_ratio",
    "reason",
]
#: Columns of the :func:`succession_risk` table.
_SUCCESSION_COLUMNS = [
    "org_id",
    "name",
    "relation",
    "weight",
    "rivalry_weight",
    "alliance_weight",
    "shared_regions",
    "regions",
    "score",
    "more_violent",
    "rank",
]


def _check_scores(scores: pd.DataFrame | None) -> dict[str, float]:
    if scores is None:
        return {}
    if not isinstance(scores, pd.DataFrame) or not {"org", "score"} <= set(scores.columns):
        raise VdtoError(
            "scores must be a data frame with columns org and score",
            "scores",
            "pass ScoreResult.table (or a frame with org and score columns)",
        )
    s = scores.dropna(subset=["org", "score"])
    return dict(zip(s["org"].astype(str), s["score"].astype(float), strict=True))


# ---------------------------------------------------------------------------------------------
# substitution


def _org_prices(net: SupplyNetwork, g: _Supply) -> dict[str, float]:
    """Each organization's price per unit: its organization node's ``price`` when given, else
    the volume-weighted mean price paid by the buyers its organization and cell nodes supply."""
    org_id = net.nodes["org_id"].to_numpy(dtype=object)
    price = net.nodes["price"].to_numpy(dtype=float)
    is_org = g.of_type(*_ORG_TYPES)
    out: dict[str, float] = {}
    own = pd.DataFrame({"org": org_id, "price": price})[g.of_type(NodeType.ORGANIZATION)]
    own = own.dropna().groupby("org")["price"].mean()
    base = is_org[g.src] & ~np.isnan(price[g.dst]) & (g.vol > 0)
    first_level = g.of_type(NodeType.WHOLESALER, NodeType.CITY)[g.dst]
    # first US level (wholesalers, city markets); distributors only for organizations without any
    for mask in (base & g.of_type(NodeType.DISTRIBUTOR)[g.dst], base & first_level):
        e = np.flatnonzero(mask)
        sold = pd.DataFrame({"org": org_id[g.src[e]], "pv": g.vol[e] * price[g.dst[e]], "v": g.vol[e]})
        sold = sold.dropna(subset=["org"]).groupby("org")[["pv", "v"]].sum()
        for o, row in sold.iterrows():
            out[str(o)] = float(row["pv"] / row["v"])
    for o, p in own.items():
        out[str(o)] = float(p)
    return out


def substitution(
    net: SupplyNetwork,
    package: Package,
    scores: pd.DataFrame | None = None,
    *,
    tolerance: float = 0.10,
) -> pd.DataFrame:
    """Where each pressured buyer would likely take its business.

    For each selected buyer: its other current suppliers (organizations upstream of it) and
    the organizations supplying wholesalers or city markets in its region. The likely new
    supplier is the least violent (lowest ``score`` in ``scores``, columns ``org`` and
    ``score``) among those whose price is at most ``tolerance`` above the target's (cheaper
    ones qualify); if none is, the cheapest. Without a score, an organization ranks after
    scored ones; ties go to a current supplier, then the cheaper, then the id. Prices:
    :func:`_org_prices`. Columns: ``buyer``, ``type``, ``region``, ``revenue_at_stake``,
    ``current_suppliers``, ``alternatives`` (lists of org ids), ``switch_to``, ``switch_name``,
    ``switch_score``, ``switch_price``, ``target_score``, ``target_price``, ``price_ratio``
    (switch / target), ``reason``.
    """
    if tolerance < 0:
        raise VdtoError(f"tolerance must be >= 0 (got {tolerance!r})", "tolerance", "")
    score = _check_scores(scores)
    g = _supply(net)
    org_id = net.nodes["org_id"].to_numpy(dtype=object)
    region = net.nodes["region"].to_numpy(dtype=object)
    org_name = _org_names(g, org_id, net.nodes["name"].to_numpy(dtype=object))
    prices = _org_prices(net, g)
    by_region = _suppliers_by_region(g, org_id, region)
    upstream = _upstream_finder(g, org_id)
    index = pd.Index(g.ids)
    target = package.target
    t_price = prices.get(target, math.nan)
    t_score = score.get(target, math.nan)
    rows = []
    for _, b in package.selected.iterrows():
        i = int(index.get_loc(b["id"]))
        current = upstream(i) - {target}
        alts = sorted(current | (by_region.get(region[i], set()) - {target}))
        pick, reason = _likely_switch(alts, current, prices, score, t_price, tolerance)
        p_price = prices.get(pick, math.nan) if pick else math.nan
        rows.append(
            {
                "buyer": b["id"],
                "type": b["type"],
                "region": region[i],
                "revenue_at_stake": b["revenue_at_stake"],
                "current_suppliers": sorted(current),
                "alternatives": alts,
                "switch_to": pick,
                "switch_name": org_name.get(pick, pick) if pick else None,
                "switch_score": score.get(pick, math.nan) if pick else math.nan,
                "switch_price": p_price,
                "target_score": t_score,
                "target_price": t_price,
                "price_ratio": p_price / t_price if t_price and not math.isnan(t_price) else math.nan,
                "reason": reason,
            }
        )
    return pd.DataFrame(rows, columns=_SUBSTITUTION_COLUMNS)


def _org_names(g: _Supply, org_id: np.ndarray, names: np.ndarray) -> dict[str, str]:
    """Each organization's name: that of its first organization node."""
    org_name: dict[str, str] = {}
    for i in np.flatnonzero(g.of_type(NodeType.ORGANIZATION)):
        if isinstance(org_id[i], str):
            org_name.setdefault(org_id[i], str(names[i]))
    return org_name


def _suppliers_by_region(g: _Supply, org_id: np.ndarray, region: np.ndarray) -> dict[object, set[str]]:
    """The organizations supplying wholesalers and city markets, by the buyers' region."""
    is_org = g.of_type(*_ORG_TYPES)
    e = np.flatnonzero(is_org[g.src] & g.of_type(NodeType.WHOLESALER, NodeType.CITY)[g.dst])
    by_region: dict[object, set[str]] = {}
    for r, o in zip(region[g.dst[e]], org_id[g.src[e]], strict=True):
        if isinstance(o, str):
            by_region.setdefault(r, set()).add(o)
    return by_region


def _upstream_finder(g: _Supply, org_id: np.ndarray) -> Callable[[int], set[str]]:
    """A function giving the organizations upstream of a node (by node index)."""
    is_org = g.of_type(*_ORG_TYPES)
    o = np.argsort(g.dst, kind="stable")
    indptr = np.searchsorted(g.dst[o], np.arange(g.n + 1))
    sup_src = g.src[o]

    def upstream(i: int) -> set[str]:
        found: set[str] = set()
        seen = {i}
        stack = [i]
        while stack:
            v = stack.pop()
            for s in sup_src[indptr[v] : indptr[v + 1]].tolist():
                if s in seen:
                    continue
                seen.add(s)
                if is_org[s] and isinstance(org_id[s], str):
                    found.add(org_id[s])
                stack.append(s)
        return found

    return upstream


def _likely_switch(
    alts: list[str],
    current: set[str],
    prices: dict[str, float],
    score: dict[str, float],
    t_price: float,
    tolerance: float,
) -> tuple[str | None, str]:
    """The likely new supplier among ``alts`` (None when there is none) and why."""
    if not alts:
        return None, "no other supplier reachable"
    within = [
        a for a in alts if math.isnan(t_price) or (a in prices and prices[a] <= t_price * (1 + tolerance))
    ]
    pct = f"{tolerance:.0%}"

    def key(a: str) -> tuple:
        return (score.get(a, math.inf), a not in current, prices.get(a, math.inf), a)

    if within:
        pick = min(within, key=key)
        if pick in score:
            return pick, f"least violent supplier priced within {pct} of the target"
        return pick, f"priced within {pct} of the target (no violence score: current supplier, then cheaper)"
    priced = [a for a in alts if a in prices]
    if priced:
        return min(
            priced, key=lambda a: (prices[a], a)
        ), f"cheapest supplier (none priced within {pct} of the target)"
    return min(alts, key=key), "no supplier price known"


# ---------------------------------------------------------------------------------------------
# succession risk

_REGION_SEP = re.compile(r"[;|]")


def _regions(value: object) -> set[str]:
    if not isinstance(value, str):
        return set()
    return {p.strip() for p in _REGION_SEP.split(value) if p.strip()}


def succession_risk(
    alliances_rivalries: SupplyNetwork, target_org_id: str, scores: pd.DataFrame | None = None
) -> pd.DataFrame:
    """The target's rivals and allies that stand to take over its territory, ranked.

    Reads ``alliance`` and ``rivalry`` edges between organization (or cell) nodes; a node
    stands for its ``org_id`` (its own id when it has none). A tie listed in both directions
    counts once (the larger weight); a missing weight counts 1. For each organization tied to
    the target: ``relation`` (``rivalry``, ``alliance`` or ``alliance+rivalry``), ``weight``
    (total), ``rivalry_weight``, ``alliance_weight``, ``shared_regions`` (regions, split on
    ``;`` or ``|``, where both have nodes) and ``regions``, ``score`` (violence score when
    ``scores`` is given), ``more_violent`` (its score above the target's) and ``rank``.
    Ranked by weight, then shared regions, then score (all highest first), then id.
    """
    score = _check_scores(scores)
    key, names, regions = _org_keys(alliances_rivalries.nodes)
    if target_org_id not in regions:
        raise UnknownNameError(
            f"no node with org_id {target_org_id!r} in the alliance/rivalry network",
            "target",
            "pass an org_id of the network",
        )
    ties = alliances_rivalries.edges[
        alliances_rivalries.edges["type"].isin([EdgeType.ALLIANCE.value, EdgeType.RIVALRY.value])
    ]
    if ties.empty:
        return pd.DataFrame(columns=_SUCCESSION_COLUMNS)
    t = _target_ties(ties, key, target_org_id)
    if t.empty:
        return pd.DataFrame(columns=_SUCCESSION_COLUMNS)
    out = _partners(t, names, regions, score, target_org_id)
    out["_s"] = out["score"].fillna(-math.inf)
    out = out.sort_values(
        ["weight", "shared_regions", "_s", "org_id"], ascending=[False, False, False, True], kind="stable"
    ).drop(columns="_s")
    out["rank"] = np.arange(1, len(out) + 1)
    return out.reset_index(drop=True)[_SUCCESSION_COLUMNS]


def _org_keys(nodes: pd.DataFrame) -> tuple[dict[str, str], dict[str, str], dict[str, set[str]]]:
    """The organization each node stands for (its org_id, else its id), and each organization's
    name (its first node's) and regions (all its nodes')."""
    org = nodes["org_id"].astype(object)
    org = org.where(org.map(lambda x: isinstance(x, str) and bool(x)), nodes["id"]).astype(str)
    key = dict(zip(nodes["id"], org, strict=True))
    names: dict[str, str] = {}
    regions: dict[str, set[str]] = {}
    for k, nm, rg in zip(org, nodes["name"], nodes["region"], strict=True):
        names.setdefault(k, str(nm))
        regions.setdefault(k, set()).update(_regions(rg))
    return key, names, regions


def _target_ties(ties: pd.DataFrame, key: dict[str, str], target_org_id: str) -> pd.DataFrame:
    """The ties between the target and another organization, one per pair of nodes and type
    (the larger weight; a missing weight counts 1), with the ``partner`` organization."""
    a = ties["source"].map(key)
    b = ties["target"].map(key)
    if a.isna().any() or b.isna().any():
        i = int(np.flatnonzero((a.isna() | b.isna()).to_numpy())[0])
        r = ties.iloc[i]
        raise VdtoError(
            f"{r['type']} edge {r['source']} -- {r['target']} names an unknown node",
            "edges",
            "add the node or fix the id",
        )
    s_ = ties["source"].astype(str).to_numpy(dtype=object)
    d_ = ties["target"].astype(str).to_numpy(dtype=object)
    first = s_ < d_
    t = pd.DataFrame(
        {
            "lo": np.where(first, s_, d_),
            "hi": np.where(first, d_, s_),
            "type": ties["type"].to_numpy(),
            "a": a.to_numpy(),
            "b": b.to_numpy(),
            "w": ties["weight"].astype(float).fillna(1.0).to_numpy(),
        }
    )
    t = t[(t["a"] == target_org_id) ^ (t["b"] == target_org_id)]
    t = t.groupby(["lo", "hi", "type"], as_index=False).agg(
        a=("a", "first"), b=("b", "first"), w=("w", "max")
    )
    t["partner"] = np.where(t["a"] == target_org_id, t["b"], t["a"])
    return t


def _partners(
    t: pd.DataFrame,
    names: dict[str, str],
    regions: dict[str, set[str]],
    score: dict[str, float],
    target_org_id: str,
) -> pd.DataFrame:
    """One row per partner of the target: relation, weights, shared regions and score."""
    w = t.pivot_table(index="partner", columns="type", values="w", aggfunc="sum", fill_value=0.0)
    riv = w.get(EdgeType.RIVALRY.value, pd.Series(0.0, index=w.index))
    ali = w.get(EdgeType.ALLIANCE.value, pd.Series(0.0, index=w.index))
    kinds = t.groupby("partner")["type"].agg(lambda x: set(x))
    t_regions = regions.get(target_org_id, set())
    t_score = score.get(target_org_id, math.nan)
    rows = []
    for p in w.index:
        rel = [x for x in (EdgeType.ALLIANCE.value, EdgeType.RIVALRY.value) if x in kinds[p]]
        shared = sorted(regions.get(p, set()) & t_regions)
        s = score.get(p, math.nan)
        rows.append(
            {
                "org_id": p,
                "name": names.get(p, p),
                "relation": "+".join(rel),
                "weight": float(ali[p] + riv[p]),
                "rivalry_weight": float(riv[p]),
                "alliance_weight": float(ali[p]),
                "shared_regions": len(shared),
                "regions": shared,
                "score": s,
                "more_violent": (s > t_score) if not (math.isnan(s) or math.isnan(t_score)) else pd.NA,
            }
        )
    return pd.DataFrame(rows)
